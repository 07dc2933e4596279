//! qsort and bsearch: sorting algorithms over an index abstraction, so the algorithms are safe
//! code and only the adaptor to C's untyped arrays touches raw pointers.
//!
//! `qsort` is a stable merge sort with a buffer of half the array from `malloc`, as glibc's is
//! whenever it can allocate: a stable sort's output is unique, so elements that compare equal
//! come out in glibc's order too. Without memory it falls back to heapsort (O(n log n), in
//! place, not stable).

use core::cmp::Ordering;
use core::ffi::{c_int, c_void};

/// Something with `len` items that can be compared and swapped by index.
pub trait Items {
    /// Number of items.
    fn len(&self) -> usize;
    /// True when there are no items.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Compares items `a` and `b`.
    fn compare(&mut self, a: usize, b: usize) -> Ordering;
    /// Swaps items `a` and `b`.
    fn swap(&mut self, a: usize, b: usize);
}

/// Items that can also be parked in a buffer of slots, for merging.
pub trait Buffered: Items {
    /// Copies item `item` into buffer slot `slot`.
    fn save(&mut self, item: usize, slot: usize);
    /// Copies buffer slot `slot` into item `item`.
    fn restore(&mut self, slot: usize, item: usize);
    /// Copies item `from` over item `to`.
    fn move_item(&mut self, from: usize, to: usize);
    /// Compares buffer slot `slot` (first argument) with item `item`.
    fn compare_saved(&mut self, slot: usize, item: usize) -> Ordering;
}

/// Sorts `items[low..high]` stably: halves sorted recursively, the left half parked in the
/// buffer (slots 0..) and merged back, taking the left element on ties.
pub fn merge_sort(items: &mut impl Buffered, low: usize, high: usize) {
    if high - low <= 1 {
        return;
    }
    if high - low <= 8 {
        // Insertion sort is stable: swap only past strictly greater neighbours.
        for i in low + 1..high {
            let mut j = i;
            while j > low && items.compare(j - 1, j) == Ordering::Greater {
                items.swap(j - 1, j);
                j -= 1;
            }
        }
        return;
    }
    let middle = low + (high - low) / 2;
    merge_sort(items, low, middle);
    merge_sort(items, middle, high);
    if items.compare(middle - 1, middle) != Ordering::Greater {
        return; // already in order
    }
    let left = middle - low;
    for slot in 0..left {
        items.save(low + slot, slot);
    }
    let (mut slot, mut right, mut to) = (0, middle, low);
    while slot < left && right < high {
        if items.compare_saved(slot, right) != Ordering::Greater {
            items.restore(slot, to);
            slot += 1;
        } else {
            items.move_item(right, to);
            right += 1;
        }
        to += 1;
    }
    while slot < left {
        items.restore(slot, to);
        slot += 1;
        to += 1;
    }
}

/// Restores the max-heap property below `root` within the first `end` items.
fn sift_down(items: &mut impl Items, mut root: usize, end: usize) {
    loop {
        let mut child = 2 * root + 1;
        if child >= end {
            return;
        }
        if child + 1 < end && items.compare(child, child + 1) == Ordering::Less {
            child += 1;
        }
        if items.compare(root, child) != Ordering::Less {
            return;
        }
        items.swap(root, child);
        root = child;
    }
}

/// Sorts `items` ascending in place (not stably); insertion sort for short runs, heapsort
/// otherwise.
pub fn sort(items: &mut impl Items) {
    let len = items.len();
    if len <= 12 {
        for i in 1..len {
            let mut j = i;
            while j > 0 && items.compare(j - 1, j) == Ordering::Greater {
                items.swap(j - 1, j);
                j -= 1;
            }
        }
        return;
    }
    for root in (0..len / 2).rev() {
        sift_down(items, root, len);
    }
    for end in (1..len).rev() {
        items.swap(0, end);
        sift_down(items, 0, end);
    }
}

/// A C comparison function.
pub type Comparator = unsafe extern "C" fn(*const c_void, *const c_void) -> c_int;
/// A C comparison function with a context argument (GNU `qsort_r`).
pub type ComparatorWithContext =
    unsafe extern "C" fn(*const c_void, *const c_void, *mut c_void) -> c_int;

/// A C array of `count` elements of `size` bytes, compared by a C function.
struct CArray {
    base: *mut u8,
    count: usize,
    size: usize,
    compare: Comparator,
    compare_with_context: Option<(ComparatorWithContext, *mut c_void)>,
    /// Room for `count / 2 + 1` elements from `malloc`, or NULL.
    buffer: *mut u8,
}

impl CArray {
    fn element(&self, index: usize) -> *mut u8 {
        self.base.wrapping_add(index * self.size)
    }

    fn slot(&self, slot: usize) -> *mut u8 {
        self.buffer.wrapping_add(slot * self.size)
    }

    fn call(&self, a: *const u8, b: *const u8) -> Ordering {
        let (a, b) = (a.cast::<c_void>(), b.cast::<c_void>());
        // SAFETY: `qsort`'s caller guarantees the comparator (its obligation 1); both pointers
        // are elements of the array or copies of them in the buffer.
        let result = unsafe {
            match self.compare_with_context {
                Some((compare, context)) => compare(a, b, context),
                None => (self.compare)(a, b),
            }
        };
        result.cmp(&0)
    }

    /// Sorts: stably through the buffer when there is one, else by heapsort; frees the buffer.
    fn sort(mut self) {
        if self.buffer.is_null() {
            sort(&mut self);
        } else {
            let count = self.count;
            merge_sort(&mut self, 0, count);
            // SAFETY: the buffer came from `malloc` in `with_buffer` and is no longer used.
            unsafe { free(self.buffer.cast()) };
        }
    }

    /// Attaches a buffer of half the array (plus one) from `malloc`, when it can be had.
    fn with_buffer(mut self) -> CArray {
        let bytes = (self.count / 2 + 1).checked_mul(self.size);
        if let Some(bytes) = bytes {
            // SAFETY: malloc has no preconditions; NULL is handled (heapsort).
            self.buffer = unsafe { malloc(bytes) }.cast();
        }
        self
    }
}

extern "C" {
    fn malloc(size: usize) -> *mut c_void;
    fn free(pointer: *mut c_void);
}

impl Buffered for CArray {
    fn save(&mut self, item: usize, slot: usize) {
        // SAFETY: `item` < count and `slot` <= count / 2 (merge_sort parks at most half): both
        // ranges are `size` bytes inside their distinct allocations.
        unsafe { core::ptr::copy_nonoverlapping(self.element(item), self.slot(slot), self.size) };
    }

    fn restore(&mut self, slot: usize, item: usize) {
        // SAFETY: as in `save`.
        unsafe { core::ptr::copy_nonoverlapping(self.slot(slot), self.element(item), self.size) };
    }

    fn move_item(&mut self, from: usize, to: usize) {
        if from != to {
            // SAFETY: two distinct elements of the caller's writable array.
            unsafe {
                core::ptr::copy_nonoverlapping(self.element(from), self.element(to), self.size)
            };
        }
    }

    fn compare_saved(&mut self, slot: usize, item: usize) -> Ordering {
        self.call(self.slot(slot), self.element(item))
    }
}

impl Items for CArray {
    fn len(&self) -> usize {
        self.count
    }

    fn compare(&mut self, a: usize, b: usize) -> Ordering {
        self.call(self.element(a), self.element(b))
    }

    fn swap(&mut self, a: usize, b: usize) {
        if a != b {
            // SAFETY: distinct elements of the caller's writable array (qsort's obligation 1),
            // so the two ranges do not overlap.
            unsafe { core::ptr::swap_nonoverlapping(self.element(a), self.element(b), self.size) };
        }
    }
}

/// The comparator used when only the context-taking one is set (never called).
unsafe extern "C" fn unused_comparator(_: *const c_void, _: *const c_void) -> c_int {
    0
}

/// C `qsort`.
///
/// # Safety
/// 1. `base` is writable for `count × size` bytes; `compare` is a consistent ordering that does
///    not modify the elements.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn qsort(
    base: *mut c_void,
    count: usize,
    size: usize,
    compare: Option<Comparator>,
) {
    if count < 2 || size == 0 {
        return;
    }
    let compare = compare.expect("qsort: NULL comparison function");
    assert!(!base.is_null(), "qsort: NULL array");
    CArray {
        base: base.cast(),
        count,
        size,
        compare,
        compare_with_context: None,
        buffer: core::ptr::null_mut(),
    }
    .with_buffer()
    .sort();
}

/// GNU `qsort_r`: `qsort` whose comparator also receives `context`.
///
/// # Safety
/// 1. As `qsort`.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn qsort_r(
    base: *mut c_void,
    count: usize,
    size: usize,
    compare: Option<ComparatorWithContext>,
    context: *mut c_void,
) {
    if count < 2 || size == 0 {
        return;
    }
    let compare = compare.expect("qsort_r: NULL comparison function");
    assert!(!base.is_null(), "qsort_r: NULL array");
    CArray {
        base: base.cast(),
        count,
        size,
        compare: unused_comparator,
        compare_with_context: Some((compare, context)),
        buffer: core::ptr::null_mut(),
    }
    .with_buffer()
    .sort();
}

/// C `bsearch`: an element equal to `key` in the sorted array, or NULL.
///
/// # Safety
/// 1. `base` is readable for `count × size` bytes, sorted by `compare`; `key` is what `compare`
///    expects as its first argument.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn bsearch(
    key: *const c_void,
    base: *const c_void,
    count: usize,
    size: usize,
    compare: Option<Comparator>,
) -> *mut c_void {
    let compare = compare.expect("bsearch: NULL comparison function");
    let (mut low, mut high) = (0usize, count);
    while low < high {
        let middle = low + (high - low) / 2;
        let element = base.cast::<u8>().wrapping_add(middle * size).cast::<c_void>();
        // SAFETY: obligation 1; `middle` < `count`.
        let order = unsafe { compare(key, element) };
        match order.cmp(&0) {
            Ordering::Less => high = middle,
            Ordering::Greater => low = middle + 1,
            Ordering::Equal => return element.cast_mut(),
        }
    }
    core::ptr::null_mut()
}

/// POSIX `lfind`: a linear search for `key` among `*count` elements; NULL if absent.
///
/// # Safety
/// 1. `base` is readable for `*count × size` bytes, `count` readable; `compare` returns 0 for
///    equal elements.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn lfind(
    key: *const c_void,
    base: *const c_void,
    count: *const usize,
    size: usize,
    compare: Option<Comparator>,
) -> *mut c_void {
    let compare = compare.expect("lfind: NULL comparison function");
    assert!(!count.is_null(), "lfind: NULL count");
    // SAFETY: obligation 1.
    let count = unsafe { *count };
    for index in 0..count {
        let element = base.cast::<u8>().wrapping_add(index * size).cast::<c_void>();
        // SAFETY: obligation 1; `index` < `count`.
        if unsafe { compare(key, element) } == 0 {
            return element.cast_mut();
        }
    }
    core::ptr::null_mut()
}

/// POSIX `lsearch`: `lfind`, appending `key` (and counting it) when absent.
///
/// # Safety
/// 1. As `lfind`, and `base` has room for one more element; `count` writable.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn lsearch(
    key: *const c_void,
    base: *mut c_void,
    count: *mut usize,
    size: usize,
    compare: Option<Comparator>,
) -> *mut c_void {
    // SAFETY: obligation 1.
    let found = unsafe { lfind(key, base, count, size, compare) };
    if !found.is_null() {
        return found;
    }
    // SAFETY: obligation 1: room for the element at index `*count`.
    unsafe {
        let end = base.cast::<u8>().add(*count * size);
        core::ptr::copy_nonoverlapping(key.cast::<u8>(), end, size);
        *count += 1;
        end.cast()
    }
}
