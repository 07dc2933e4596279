//! qsort and bsearch: heapsort over an index abstraction, so the algorithm is safe code and only
//! the adaptor to C's untyped arrays touches raw pointers.
//!
//! Heapsort: O(n log n) in the worst case, no recursion, no allocation. Not stable (C does not
//! ask `qsort` to be; glibc's happens to be when it can allocate).

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

/// Sorts `items` ascending; insertion sort for short runs, heapsort otherwise.
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
}

impl CArray {
    fn element(&self, index: usize) -> *mut u8 {
        self.base.wrapping_add(index * self.size)
    }
}

impl Items for CArray {
    fn len(&self) -> usize {
        self.count
    }

    fn compare(&mut self, a: usize, b: usize) -> Ordering {
        let (a, b) = (self.element(a).cast_const().cast(), self.element(b).cast_const().cast());
        // SAFETY: `qsort`'s caller guarantees the array and the comparator (its obligation 1);
        // both indices are below `count`.
        let result = unsafe {
            match self.compare_with_context {
                Some((compare, context)) => compare(a, b, context),
                None => (self.compare)(a, b),
            }
        };
        result.cmp(&0)
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
    sort(&mut CArray { base: base.cast(), count, size, compare, compare_with_context: None });
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
    sort(&mut CArray {
        base: base.cast(),
        count,
        size,
        compare: unused_comparator,
        compare_with_context: Some((compare, context)),
    });
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
