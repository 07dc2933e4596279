# CMake toolchain file for Rivet images: C and C++ through rivet-cc / rivet-c++.
#
#   cmake -DCMAKE_TOOLCHAIN_FILE=/path/to/rivet/libc-shim/cmake/rivet.cmake \
#         -DRIVET_TARGET=aarch64-unknown-none -B build .
#   cmake --build build          # each executable is an image ELF:
#   cargo xtask run --target aarch64-unknown-none --image build/app
#
# RIVET_TARGET (cache variable, else the environment's RIVET_TARGET, else x86_64-unknown-none)
# picks the triple; the wrappers do the rest (flags, headers, runtime, linker script).

set(CMAKE_SYSTEM_NAME Generic)
if(NOT RIVET_TARGET)
    if(DEFINED ENV{RIVET_TARGET})
        set(RIVET_TARGET "$ENV{RIVET_TARGET}")
    else()
        set(RIVET_TARGET x86_64-unknown-none)
    endif()
endif()
set(RIVET_TARGET "${RIVET_TARGET}" CACHE STRING "Rivet triple: x86_64-unknown-none or aarch64-unknown-none")
# try_compile projects re-read this file: pass the triple on.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES RIVET_TARGET)

if(RIVET_TARGET STREQUAL "aarch64-unknown-none")
    set(CMAKE_SYSTEM_PROCESSOR aarch64)
else()
    set(CMAKE_SYSTEM_PROCESSOR x86_64)
endif()

get_filename_component(_rivet_bin "${CMAKE_CURRENT_LIST_DIR}/../bin" ABSOLUTE)
set(CMAKE_C_COMPILER "${_rivet_bin}/rivet-cc")
set(CMAKE_CXX_COMPILER "${_rivet_bin}/rivet-c++")
set(CMAKE_C_FLAGS_INIT "--target=${RIVET_TARGET}")
set(CMAKE_CXX_FLAGS_INIT "--target=${RIVET_TARGET}")
# Every link makes a whole image; static libraries are plain archives.
set(CMAKE_EXE_LINKER_FLAGS_INIT "--target=${RIVET_TARGET}")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
