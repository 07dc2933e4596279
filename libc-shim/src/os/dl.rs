//! What the C++ unwinder asks the dynamic linker: `_dl_find_object` (GCC 12's libgcc_eh calls
//! it to find the FDE table for a PC) and `dl_iterate_phdr` (older unwinders, other tools).
//!
//! The image is the only object: both answer with its `.eh_frame_hdr`, which the linker
//! scripts bracket with `__eh_frame_hdr_start`/`__eh_frame_hdr_end` (linked with
//! `--eh-frame-hdr`). The object is reported as covering the whole address space: every PC
//! the unwinder sees is the image's (the table lookup then fails cleanly for anything else).

use core::ffi::{c_char, c_int, c_void};

extern "C" {
    static __eh_frame_hdr_start: u8;
    static __eh_frame_hdr_end: u8;
}

/// glibc 2.36's `struct dl_find_object` on x86_64 and aarch64 (no `dlfo_eh_dbase`/count).
#[repr(C)]
pub struct DlFindObject {
    flags: u64,
    map_start: *mut c_void,
    map_end: *mut c_void,
    link_map: *mut c_void,
    eh_frame: *mut c_void,
    reserved: [u64; 7],
}

fn eh_frame_hdr() -> (usize, usize) {
    let start = (&raw const __eh_frame_hdr_start) as usize;
    let end = (&raw const __eh_frame_hdr_end) as usize;
    (start, end - start)
}

/// Describes the object containing `address`: always the image (0 = found).
///
/// # Safety
/// 1. `result` is valid for a write of a `struct dl_find_object`.
#[no_mangle]
pub unsafe extern "C" fn _dl_find_object(
    _address: *mut c_void,
    result: *mut DlFindObject,
) -> c_int {
    let (header, size) = eh_frame_hdr();
    if size == 0 || result.is_null() {
        return -1;
    }
    // SAFETY: obligation 1.
    unsafe {
        result.write(DlFindObject {
            flags: 0,
            map_start: core::ptr::null_mut(),
            map_end: usize::MAX as *mut c_void,
            link_map: core::ptr::null_mut(),
            eh_frame: header as *mut c_void,
            reserved: [0; 7],
        })
    };
    0
}

/// An ELF64 program header.
#[repr(C)]
struct ProgramHeader {
    kind: u32,
    flags: u32,
    offset: u64,
    virtual_address: u64,
    physical_address: u64,
    file_size: u64,
    memory_size: u64,
    align: u64,
}

/// glibc's `struct dl_phdr_info`.
#[repr(C)]
pub struct DlPhdrInfo {
    address: u64,
    name: *const c_char,
    headers: *const ProgramHeader,
    header_count: u16,
    adds: u64,
    subs: u64,
    tls_module: usize,
    tls_data: *mut c_void,
}

const PT_LOAD: u32 = 1;
const PT_GNU_EH_FRAME: u32 = 0x6474_e550;

/// Calls `callback` once, for the image: a PT_LOAD over the address space and its
/// PT_GNU_EH_FRAME. Returns what the callback returned.
///
/// # Safety
/// 1. `callback` is a C function taking these arguments.
#[no_mangle]
pub unsafe extern "C" fn dl_iterate_phdr(
    callback: Option<unsafe extern "C" fn(*mut DlPhdrInfo, usize, *mut c_void) -> c_int>,
    data: *mut c_void,
) -> c_int {
    let Some(callback) = callback else { return 0 };
    let (header, size) = eh_frame_hdr();
    let headers = [
        ProgramHeader {
            kind: PT_LOAD,
            flags: 5,
            offset: 0,
            virtual_address: 0,
            physical_address: 0,
            file_size: u64::MAX,
            memory_size: u64::MAX,
            align: 4096,
        },
        ProgramHeader {
            kind: PT_GNU_EH_FRAME,
            flags: 4,
            offset: 0,
            virtual_address: header as u64,
            physical_address: header as u64,
            file_size: size as u64,
            memory_size: size as u64,
            align: 4,
        },
    ];
    let mut info = DlPhdrInfo {
        address: 0,
        name: c"".as_ptr(),
        headers: headers.as_ptr(),
        header_count: headers.len() as u16,
        adds: 1,
        subs: 0,
        tls_module: 0,
        tls_data: core::ptr::null_mut(),
    };
    // SAFETY: obligation 1; `info` and the headers live until the call returns.
    unsafe { callback(&mut info, core::mem::size_of::<DlPhdrInfo>(), data) }
}
