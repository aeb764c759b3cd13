//! A znode's name followed by its data, in one heap allocation, taken from the allocator
//! that suits its size.
//!
//! Why two allocators: the server's global allocator (mimalloc) asks for transparent huge
//! pages, which suit the many small objects of a tree (fewer TLB misses, and a forked
//! snapshot copies one page-table entry per 2 MB instead of 512). But the first touch of a
//! huge page zeroes 2 MB at once, and on a VM whose balloon hands freed memory back to the
//! host that ran at 400–430 MB/s, against 1.7–2.3 GB/s for 4 KiB pages
//! (`bench/c/touch_floor.c`). A tree growing by a 10 KB value per create paid that on
//! every create: 63 % of the server's CPU samples at 10 KB creates (8 connections ×
//! depth 100) were the kernel zeroing huge pages, half of them for node data. A blob of
//! [`OWN_PAGES`] bytes or more fills pages of its own, so it comes from the C library's
//! `malloc`, whose heaps use ordinary pages; smaller blobs share pages and stay with
//! mimalloc.
//!
//! `malloc` keeps memory it was given back by `free` (only the top of a heap shrinks), so
//! after a tree of large values is deleted its pages stay mapped, and every later forked
//! snapshot copies their page-table entries: `fork_us` 8.5 ms for a tree of small nodes
//! after 10 KB creates had come and gone, against about 1 ms. The `rzk-trim` thread
//! ([`start_trimmer`]) hands such memory back with `malloc_trim` once enough was freed.

use std::alloc::{self, Layout};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// Blobs at least this long come from the C library's `malloc` (see the module doc).
pub const OWN_PAGES: usize = 4096;

/// Bytes of `malloc`ed blobs freed since the trimmer last handed memory back.
static FREED: AtomicUsize = AtomicUsize::new(0);

/// Freed bytes after which the trimmer hands memory back (a tree of small nodes forks in
/// about 1 ms; 64 MiB more of 4 KiB pages adds about 0.6 ms).
const TRIM_AFTER: usize = 64 << 20;

/// Starts the `rzk-trim` thread: once a second, if at least [`TRIM_AFTER`] bytes of large
/// blobs were freed, `malloc_trim` returns `malloc`'s free pages to the system. It runs
/// beside the core, which waits on it only if it allocates or frees a large blob while
/// the trim walks that heap.
pub fn start_trimmer() {
    let spawned = std::thread::Builder::new()
        .name("rzk-trim".into())
        .spawn(|| loop {
            std::thread::sleep(Duration::from_secs(1));
            if FREED.load(Ordering::Relaxed) >= TRIM_AFTER {
                FREED.store(0, Ordering::Relaxed);
                // SAFETY: malloc_trim takes a plain integer and only rearranges malloc's
                // own free memory; it is thread-safe (it locks each arena it trims).
                unsafe { libc::malloc_trim(0) };
            }
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "cannot start the rzk-trim thread; memory freed by deleted large znodes stays mapped");
    }
}

/// Owned bytes (a node's name, then its data), like a `Box<[u8]>` whose memory comes
/// from `malloc` when it is at least [`OWN_PAGES`] long.
pub struct Blob {
    ptr: NonNull<u8>,
    len: usize,
}

// SAFETY: a Blob uniquely owns its bytes (no aliasing, no interior mutability), as a
// Box<[u8]> does; both allocators may be used and freed from any thread.
unsafe impl Send for Blob {}
// SAFETY: shared access only reads the bytes.
unsafe impl Sync for Blob {}

impl Blob {
    /// `a` followed by `b`, in one allocation.
    pub fn concat(a: &[u8], b: &[u8]) -> Blob {
        let len = a.len() + b.len();
        if len == 0 {
            return Blob {
                ptr: NonNull::dangling(),
                len: 0,
            };
        }
        let raw = if len >= OWN_PAGES {
            // SAFETY: malloc with a non-zero size; a null result is handled below.
            unsafe { libc::malloc(len).cast::<u8>() }
        } else {
            // SAFETY: the layout has a non-zero size (len > 0 here).
            unsafe { alloc::alloc(Self::layout(len)) }
        };
        let Some(ptr) = NonNull::new(raw) else {
            alloc::handle_alloc_error(Self::layout(len))
        };
        // SAFETY: `ptr` is a fresh allocation of `len` bytes, which cannot overlap `a` or
        // `b`; `a.len() + b.len() == len`.
        unsafe {
            std::ptr::copy_nonoverlapping(a.as_ptr(), ptr.as_ptr(), a.len());
            std::ptr::copy_nonoverlapping(b.as_ptr(), ptr.as_ptr().add(a.len()), b.len());
        }
        Blob { ptr, len }
    }

    /// Keeps the first `at` bytes and replaces the rest with `tail`: in place when the
    /// length stays the same (a setData with a value of the old size allocates nothing),
    /// otherwise in a new allocation.
    pub fn replace_after(&mut self, at: usize, tail: &[u8]) {
        let at = at.min(self.len);
        if at + tail.len() == self.len {
            // SAFETY: `ptr` holds `len` bytes owned uniquely by this Blob (borrowed
            // mutably here), and `at + tail.len() == len` keeps the copy inside them;
            // `tail` cannot overlap them, since it is borrowed shared while `self` is
            // borrowed mutably.
            unsafe {
                std::ptr::copy_nonoverlapping(tail.as_ptr(), self.ptr.as_ptr().add(at), tail.len())
            };
            return;
        }
        *self = Blob::concat(&self[..at], tail);
    }

    fn layout(len: usize) -> Layout {
        // A byte array's layout only fails past isize::MAX, which no allocation reaches.
        Layout::array::<u8>(len).unwrap_or(Layout::new::<u8>())
    }
}

impl std::ops::Deref for Blob {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        // SAFETY: `ptr` holds `len` initialized bytes owned by this Blob (or is dangling
        // with `len == 0`, which a slice allows).
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }
}

impl Drop for Blob {
    fn drop(&mut self) {
        if self.len == 0 {
            return;
        }
        if self.len >= OWN_PAGES {
            FREED.fetch_add(self.len, Ordering::Relaxed);
            // SAFETY: blobs this long were allocated by malloc in `concat`.
            unsafe { libc::free(self.ptr.as_ptr().cast()) }
        } else {
            // SAFETY: shorter blobs were allocated by the global allocator with this
            // layout in `concat`.
            unsafe { alloc::dealloc(self.ptr.as_ptr(), Self::layout(self.len)) }
        }
    }
}

impl std::fmt::Debug for Blob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Blob({} bytes)", self.len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_both_parts_at_every_size() {
        for len in [0, 1, 100, OWN_PAGES - 1, OWN_PAGES, OWN_PAGES + 1, 1 << 20] {
            let data: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            let cut = len / 3;
            let b = Blob::concat(&data[..cut], &data[cut..]);
            assert_eq!(&b[..], &data[..]);
            let moved = std::thread::spawn(move || b.len()).join();
            assert_eq!(moved.ok(), Some(len));
        }
    }

    #[test]
    fn replaces_the_tail_in_place_or_anew() {
        let mut b = Blob::concat(b"name", &[7; 5000]);
        let before = b.as_ptr();
        b.replace_after(4, &[9; 5000]);
        assert_eq!(b.as_ptr(), before, "same length: in place");
        assert!(b[..4] == *b"name" && b[4..].iter().all(|&x| x == 9));
        for tail in [&[1u8; 10][..], &[], &[2; 8000]] {
            b.replace_after(4, tail);
            assert_eq!(b.len(), 4 + tail.len());
            assert!(b[..4] == *b"name" && b[4..] == *tail);
        }
    }
}
