//! The OS-backed half of the C library: what needs the kernel (feature `kernel`).
//!
//! Everything here is glibc 2.36's ABI over Rivet's API crate (`rivet`): the start of a C
//! program (constructors, `main`, `exit`), memory, the standard streams, errno, clocks, threads,
//! and the calls Rivet cannot do yet, which fail with the errno a Linux program expects. The
//! `extern "C"` functions are the unsafe edge (pointers from C); the logic behind them works on
//! safe slices and Rust types where it can. C code of this layer (per-thread errno, the
//! variadic `open`/`fcntl`/`ioctl`/`syscall`) is in `csrc/os/`.

// The crate root belongs to the pure half, which needs no heap; the os layer brings `alloc` in here
// (its modules reach it as `crate::os::alloc`).
extern crate alloc;

mod dl;
mod errno;
mod exit;
mod malloc;
mod netdb;
mod pthread;
mod random;
mod socket;
mod start;
mod stdio;
mod stubs;
mod time;
mod unistd;

// The per-architecture pieces (setjmp/longjmp assembly and glibc's `jmp_buf` layout, Linux
// system-call numbers), one file per architecture, chosen here and nowhere else.
#[cfg(target_arch = "x86_64")]
#[path = "arch_x86_64.rs"]
mod arch;
#[cfg(target_arch = "aarch64")]
#[path = "arch_aarch64.rs"]
mod arch;
