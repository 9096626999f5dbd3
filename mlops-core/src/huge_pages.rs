//! Large buffers the kernel may back with transparent huge pages.
//!
//! A fresh multi-hundred-megabyte output (a 1,000,000 x 60 feature matrix is
//! 480 MB) costs more in page faults than in the work that fills it: the
//! kernel maps and zeroes it one 4 KiB page at a time. On Linux, where
//! transparent huge pages are commonly in `madvise` mode, asking for them on
//! the buffer cuts those faults 512-fold. Elsewhere, or when the kernel
//! declines, the buffer is an ordinary `Vec`.
//!
//! This module holds the workspace's only `unsafe` code: one `madvise`
//! call, which never changes the contents or validity of any memory.

/// Buffers smaller than this are left alone (a few huge pages would not pay
/// for the system call).
const MIN_BYTES: usize = 32 << 20;

/// The x86-64 and aarch64 (4 KiB base page) transparent huge page size.
#[cfg(target_os = "linux")]
const HUGE_PAGE: usize = 2 << 20;

/// `Vec::with_capacity(len)`, with the kernel advised to back large
/// allocations with huge pages.
pub(crate) fn vec_with_capacity<T>(len: usize) -> Vec<T> {
    let v: Vec<T> = Vec::with_capacity(len);
    let bytes = v.capacity().saturating_mul(std::mem::size_of::<T>());
    if bytes >= MIN_BYTES {
        advise_huge(v.as_ptr().cast::<u8>(), bytes);
    }
    v
}

#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn advise_huge(start: *const u8, bytes: usize) {
    // Only whole huge pages inside the allocation: never a byte outside it.
    let addr = start.addr();
    let Some(first) = addr.checked_next_multiple_of(HUGE_PAGE) else {
        return;
    };
    let end = addr.saturating_add(bytes) / HUGE_PAGE * HUGE_PAGE;
    if end <= first {
        return;
    }
    let ptr = start
        .wrapping_add(first - addr)
        .cast_mut()
        .cast::<libc::c_void>();
    // SAFETY: `[first, end)` lies inside the caller's live allocation (it is
    // rounded inwards from `[addr, addr + bytes)`), and MADV_HUGEPAGE is
    // advice about how to back those pages: it does not read, write, move
    // or unmap any memory, so no Rust reference is affected.
    let rc = unsafe { libc::madvise(ptr, end - first, libc::MADV_HUGEPAGE) };
    if rc != 0 {
        tracing::trace!(
            error = %std::io::Error::last_os_error(),
            "madvise(MADV_HUGEPAGE) declined"
        );
    }
}

#[cfg(not(target_os = "linux"))]
fn advise_huge(_start: *const u8, _bytes: usize) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_and_small_buffers_behave_as_vecs() {
        for len in [0, 10, MIN_BYTES / 8 + 12_345] {
            let mut v: Vec<f64> = vec_with_capacity(len);
            assert!(v.capacity() >= len);
            v.extend((0..len).map(|i| i as f64));
            assert_eq!(v.len(), len);
            assert!(v.iter().enumerate().all(|(i, x)| *x == i as f64));
        }
    }
}
