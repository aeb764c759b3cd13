//! Touches the machine's free memory once before a run. On a freshly booted virtual
//! machine the first write to each page of guest memory traps to the hypervisor, which
//! backs it then: measured here (Firecracker guest), 19 GB took 43 s the first time and
//! 8 GB took 3.8 s afterwards. Without this, whichever server ran first paid that cost
//! for every page its heap or the page cache took, and the second reused the pages the
//! first had freed: a 10 KB create load ran ~40% slower on cold memory. The pages are
//! populated by the kernel (MAP_POPULATE) and all held until the end, so the kernel
//! cannot hand the same pages back twice.

use std::time::{Duration, Instant};

const CHUNK: usize = 256 << 20;
/// Memory left untouched for the system.
const MARGIN: u64 = 2 << 30;
const MAX_BYTES: u64 = 32 << 30;
const MAX_TIME: Duration = Duration::from_secs(120);

/// Populates and releases up to MemAvailable − 2 GB (at most 32 GB, 2 minutes).
/// Returns (bytes touched, seconds).
pub fn free_memory() -> (u64, f64) {
    let avail = crate::procfs::mem_available();
    let want = avail.saturating_sub(MARGIN).min(MAX_BYTES);
    let t0 = Instant::now();
    let mut maps: Vec<*mut libc::c_void> = Vec::new();
    let mut done = 0u64;
    while done + CHUNK as u64 <= want && t0.elapsed() < MAX_TIME {
        // SAFETY: a fresh private anonymous mapping, unmapped below and never read.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                CHUNK,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_POPULATE,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            break;
        }
        maps.push(p);
        done += CHUNK as u64;
    }
    for p in maps {
        // SAFETY: each p is a CHUNK-sized mapping made above.
        unsafe { libc::munmap(p, CHUNK) };
    }
    (done, t0.elapsed().as_secs_f64())
}
