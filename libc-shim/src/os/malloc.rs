//! The malloc family over Rivet's heap (`alloc::alloc`).
//!
//! C's `free` gets only a pointer, Rust's allocator wants the layout back: every block carries
//! a 16-byte header just below the pointer with the requested size and the alignment (tagged with
//! [`MAGIC`], so a `free` of a pointer malloc never gave ends the run with a message instead of
//! corrupting the heap). The header sits in a prefix of `max(16, alignment)` bytes, which keeps
//! the pointer aligned.

use crate::os::alloc::alloc::{alloc, alloc_zeroed, dealloc, Layout};
use core::ffi::c_void;
use core::ptr::null_mut;

use crate::os::errno::{self, code};

/// What malloc guarantees without being asked (glibc: 16 on both targets).
const MIN_ALIGN: usize = 16;
/// Tags the alignment word of a live block's header.
const MAGIC: usize = 0x5249_5645_0000_0000;
/// The bits of the alignment word that hold the alignment.
const ALIGN_MASK: usize = 0xffff_ffff;

/// A live block's header, just below the pointer C holds.
#[repr(C)]
struct Header {
    size: usize,
    tagged_align: usize,
}

fn prefix(align: usize) -> usize {
    align.max(MIN_ALIGN)
}

fn layout(size: usize, align: usize) -> Option<Layout> {
    let total = size.checked_add(prefix(align))?;
    Layout::from_size_align(total, prefix(align)).ok()
}

/// Allocates `size` bytes aligned to `align` (a power of two); null with ENOMEM on failure.
fn allocate(size: usize, align: usize, zeroed: bool) -> *mut c_void {
    let Some(layout) = layout(size, align) else {
        errno::set(code::ENOMEM);
        return null_mut();
    };
    // SAFETY: the layout's size is at least the prefix, so never zero.
    let base = unsafe {
        if zeroed {
            alloc_zeroed(layout)
        } else {
            alloc(layout)
        }
    };
    if base.is_null() {
        errno::set(code::ENOMEM);
        return null_mut();
    }
    // SAFETY: the block has `prefix(align)` >= 16 bytes before the returned pointer; the header
    // lies in them, 16-aligned (base is aligned to at least 16, prefix is a multiple of 16).
    unsafe {
        let user = base.add(prefix(align));
        user.cast::<Header>().sub(1).write(Header { size, tagged_align: align | MAGIC });
        user.cast()
    }
}

/// The header of a block C hands back; ends the run if it is not one malloc made.
///
/// # Safety
/// 1. `pointer` is non-null and was returned by this module's allocation functions, or is at
///    least 16 readable bytes past the start of some mapped memory (the check reads them).
unsafe fn header(pointer: *mut c_void, caller: &str) -> (usize, usize) {
    // SAFETY: obligation 1.
    let header = unsafe { pointer.cast::<Header>().sub(1).read() };
    let align = header.tagged_align & ALIGN_MASK;
    if header.tagged_align & !ALIGN_MASK != MAGIC || !align.is_power_of_two() {
        panic!("{caller}(): invalid pointer {pointer:p}");
    }
    (header.size, align)
}

/// Gives a block back.
///
/// # Safety
/// As for [`header`].
unsafe fn release(pointer: *mut c_void, caller: &str) {
    // SAFETY: obligation 1 of `header`, which the caller guarantees.
    let (size, align) = unsafe { header(pointer, caller) };
    let layout = layout(size, align).expect("a live block's layout was valid when made");
    // SAFETY: the header says this block was allocated by `allocate` with exactly this layout, at
    // the pointer minus its prefix; the tag is cleared so a second free is caught.
    unsafe {
        pointer.cast::<Header>().sub(1).write(Header { size: 0, tagged_align: 0 });
        dealloc(pointer.cast::<u8>().sub(prefix(align)), layout);
    }
}

/// Allocates `size` bytes (16-aligned).
#[no_mangle]
pub extern "C" fn malloc(size: usize) -> *mut c_void {
    allocate(size, MIN_ALIGN, false)
}

/// Allocates `count * size` zeroed bytes; ENOMEM if the product overflows.
#[no_mangle]
pub extern "C" fn calloc(count: usize, size: usize) -> *mut c_void {
    match count.checked_mul(size) {
        Some(total) => allocate(total, MIN_ALIGN, true),
        None => {
            errno::set(code::ENOMEM);
            null_mut()
        }
    }
}

/// Frees a block from this allocator (NULL: nothing).
///
/// # Safety
/// 1. `pointer` is NULL or a live block from this allocator.
#[no_mangle]
pub unsafe extern "C" fn free(pointer: *mut c_void) {
    if !pointer.is_null() {
        // SAFETY: obligation 1.
        unsafe { release(pointer, "free") };
    }
}

/// Resizes a block, moving it (contents kept up to the smaller size).
///
/// # Safety
/// 1. `pointer` is NULL or a live block from this allocator.
#[no_mangle]
pub unsafe extern "C" fn realloc(pointer: *mut c_void, size: usize) -> *mut c_void {
    if pointer.is_null() {
        return malloc(size);
    }
    // SAFETY: obligation 1.
    let (old_size, align) = unsafe { header(pointer, "realloc") };
    if size <= old_size && size >= old_size / 2 {
        // Shrinking a little: keep the block (its header keeps the old size for `free`).
        return pointer;
    }
    let new = allocate(size, align, false);
    if new.is_null() {
        return null_mut();
    }
    // SAFETY: both blocks are live, distinct, and at least min(old, new) bytes long.
    unsafe {
        core::ptr::copy_nonoverlapping(pointer.cast::<u8>(), new.cast::<u8>(), old_size.min(size));
        release(pointer, "realloc");
    }
    new
}

/// `reallocarray`: `realloc` of `count * size` bytes, ENOMEM on overflow.
///
/// # Safety
/// As for [`realloc`].
#[no_mangle]
pub unsafe extern "C" fn reallocarray(
    pointer: *mut c_void,
    count: usize,
    size: usize,
) -> *mut c_void {
    match count.checked_mul(size) {
        // SAFETY: the caller's obligations are realloc's.
        Some(total) => unsafe { realloc(pointer, total) },
        None => {
            errno::set(code::ENOMEM);
            null_mut()
        }
    }
}

fn aligned(align: usize, size: usize) -> *mut c_void {
    if !align.is_power_of_two() || align > ALIGN_MASK {
        errno::set(code::EINVAL);
        return null_mut();
    }
    allocate(size, align, false)
}

/// Allocates `size` bytes aligned to `align` (a power of two that is a multiple of
/// `sizeof(void *)`), storing the block at `*out`; returns 0, EINVAL or ENOMEM (errno is kept).
///
/// # Safety
/// 1. `out` is valid for a pointer-sized write.
#[no_mangle]
pub unsafe extern "C" fn posix_memalign(out: *mut *mut c_void, align: usize, size: usize) -> i32 {
    if !align.is_power_of_two()
        || !align.is_multiple_of(core::mem::size_of::<usize>())
        || align > ALIGN_MASK
    {
        return code::EINVAL;
    }
    let block = allocate(size, align, false);
    if block.is_null() {
        return code::ENOMEM;
    }
    // SAFETY: obligation 1.
    unsafe { *out = block };
    0
}

/// C11's `aligned_alloc`: `align` a power of two (glibc accepts any size).
#[no_mangle]
pub extern "C" fn aligned_alloc(align: usize, size: usize) -> *mut c_void {
    aligned(align, size)
}

/// The obsolete `memalign`.
#[no_mangle]
pub extern "C" fn memalign(align: usize, size: usize) -> *mut c_void {
    aligned(align, size)
}

/// The obsolete `valloc`: page-aligned.
#[no_mangle]
pub extern "C" fn valloc(size: usize) -> *mut c_void {
    aligned(4096, size)
}

/// Bytes usable in a block (what was asked for: this allocator keeps no slack it reports).
///
/// # Safety
/// 1. `pointer` is NULL or a live block from this allocator.
#[no_mangle]
pub unsafe extern "C" fn malloc_usable_size(pointer: *mut c_void) -> usize {
    if pointer.is_null() {
        return 0;
    }
    // SAFETY: obligation 1.
    unsafe { header(pointer, "malloc_usable_size").0 }
}
