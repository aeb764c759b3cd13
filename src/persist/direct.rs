//! The txn log's write buffer for `O_DIRECT`: the file's last partial block followed by
//! the batch being written, in 4 KiB-aligned memory.
//!
//! Why: a buffered `pwrite` copies every record into page-cache pages that the log then
//! never reads again. On a VM whose balloon hands freed memory back to the host, each of
//! those pages is fresh memory the host must fault in; a 10 KB setData load spent 61 % of
//! the server's CPU in that copy. With `O_DIRECT` the device reads this buffer, which is
//! reused batch after batch. Direct writes must cover whole blocks, so each write starts
//! by rewriting the last partial block (bytes already durable, identical) and pads the new
//! last block with zeros, which is what the log's preallocated tail holds anyway.

/// Alignment and granularity of direct writes: 4 KiB suits every logical block size up to
/// the common page size.
pub const BLOCK: usize = 4096;

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::Path;
use std::sync::OnceLock;
use tracing::debug;

#[repr(C, align(4096))]
#[derive(Clone, Copy)]
struct Block([u8; BLOCK]);

/// Opens `path` with `o`, adding `O_DIRECT` when `want`; a filesystem that refuses it at
/// open (`EINVAL`: tmpfs before Linux 6.6, some network and FUSE filesystems) gets the
/// file without it. Returns the file and whether it is direct. The log writer and the
/// snapshot writer both open their files this way.
pub fn open_maybe_direct(o: &OpenOptions, path: &Path, want: bool) -> io::Result<(File, bool)> {
    if want {
        match o.clone().custom_flags(libc::O_DIRECT).open(path) {
            Ok(f) => return Ok((f, true)),
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {}
            Err(e) => return Err(e),
        }
    }
    Ok((o.open(path)?, false))
}

/// The bytes of whole blocks, as one slice.
fn block_bytes_mut(blocks: &mut [Block]) -> &mut [u8] {
    let n = blocks.len() * BLOCK;
    // SAFETY: `Block` is a plain byte array with no padding (size == align == BLOCK), so
    // `blocks.len()` initialized blocks are `n` initialized bytes, borrowed mutably for
    // the slice's lifetime through `blocks`.
    unsafe { std::slice::from_raw_parts_mut(blocks.as_mut_ptr().cast::<u8>(), n) }
}

/// An aligned, growable buffer: `len` bytes of data at the start of `blocks`.
#[derive(Default)]
pub struct DirectBuf {
    blocks: Vec<Block>,
    len: usize,
}

impl DirectBuf {
    fn bytes_mut(&mut self) -> &mut [u8] {
        block_bytes_mut(&mut self.blocks)
    }

    /// Bytes held (the kept tail plus what was pushed since).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no bytes are held.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends `data`, growing by whole blocks.
    pub fn push(&mut self, data: &[u8]) {
        let end = self.len + data.len();
        let blocks = end.div_ceil(BLOCK);
        if blocks > self.blocks.len() {
            self.blocks.resize(blocks, Block([0; BLOCK]));
        }
        let start = self.len;
        self.bytes_mut()[start..end].copy_from_slice(data);
        self.len = end;
    }

    /// The bytes to write: everything held, zero-padded to a whole block.
    pub fn padded(&mut self) -> &[u8] {
        let len = self.len;
        zero_padded(self.bytes_mut(), len)
    }

    /// Drops what was pushed after the first `len` bytes (a write that failed).
    pub fn truncate(&mut self, len: usize) {
        self.len = self.len.min(len);
    }

    /// After a write: keeps only the last partial block, which the next write rewrites.
    pub fn keep_tail(&mut self) {
        let start = self.len / BLOCK * BLOCK;
        let tail = self.len - start;
        if start > 0 {
            self.bytes_mut().copy_within(start..start + tail, 0);
        }
        self.len = tail;
    }
}

/// The first `len` bytes of `b` and zeros up to the next block boundary (`b` holds whole
/// blocks).
fn zero_padded(b: &mut [u8], len: usize) -> &[u8] {
    let end = len.div_ceil(BLOCK) * BLOCK;
    b[len..end].fill(0);
    &b[..end]
}

/// A fixed-size aligned buffer that a file is written from a whole buffer at a time.
///
/// Why: a snapshot written through the page cache fills gigabytes of fresh page-cache
/// pages. On the benchmark guest that copy ran at about 470 MB/s and was 70 % of a
/// snapshot child's CPU time (`perf`, 1.5 GB snapshot). Written with `O_DIRECT` from this
/// buffer, the device reads the same memory for every chunk. Its memory comes zeroed from
/// the allocator and untouched, so creating one before a fork costs the parent nothing.
pub struct AlignedChunk {
    blocks: Box<[Block]>,
    len: usize,
}

impl AlignedChunk {
    /// A buffer of `bytes` rounded up to whole blocks (at least one).
    pub fn new(bytes: usize) -> AlignedChunk {
        let n = bytes.div_ceil(BLOCK).max(1);
        // SAFETY: `Block` is a plain byte array, for which all-zero bytes are a value.
        let blocks = unsafe { Box::<[Block]>::new_zeroed_slice(n).assume_init() };
        AlignedChunk { blocks, len: 0 }
    }

    fn bytes_mut(&mut self) -> &mut [u8] {
        block_bytes_mut(&mut self.blocks)
    }

    /// Copies as much of `data` as fits; returns how much did.
    pub fn fill(&mut self, data: &[u8]) -> usize {
        let start = self.len;
        let b = self.bytes_mut();
        let n = data.len().min(b.len() - start);
        b[start..start + n].copy_from_slice(&data[..n]);
        self.len += n;
        n
    }

    /// Whether no more bytes fit.
    pub fn is_full(&self) -> bool {
        self.len == self.blocks.len() * BLOCK
    }

    /// Bytes held.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no bytes are held.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The bytes held, exactly.
    pub fn bytes(&mut self) -> &[u8] {
        let len = self.len;
        &self.bytes_mut()[..len]
    }

    /// The bytes held, zero-padded to a whole block (what an `O_DIRECT` write takes).
    pub fn padded(&mut self) -> &[u8] {
        let len = self.len;
        zero_padded(self.bytes_mut(), len)
    }

    /// Empties the buffer (after its bytes were written).
    pub fn clear(&mut self) {
        self.len = 0;
    }
}

/// How far ahead of the log's end [`ZeroAhead`] keeps blocks written, and how much it
/// writes at a time: one 256 KiB write per 25 appends of 10 KB.
const AHEAD_LOW: u64 = 64 << 10;
const AHEAD_CHUNK: usize = 256 << 10;

/// Keeps the blocks just past the log's end written with zeros, a chunk at a time.
///
/// Why: preallocation only sets the file size (as ZooKeeper's does), so every append
/// that reaches a new block makes the filesystem allocate it, and the fdatasync after it
/// must write that allocation too: a third I/O. Measured with `bench/c/fsync_floor.c`
/// (O_DIRECT, 10 KB records), an append + fdatasync cost 70 µs of CPU and 155 µs of wall
/// time into a sparse file, against 37 µs and 94 µs into blocks written beforehand. The
/// zeros are what the sparse tail reads as anyway, so the file's bytes do not change; the
/// chunk is written before the round's fdatasync, which then covers it too.
///
/// It is only a speed-up: a zero write that fails (a full disk) stops it for the file and
/// fails nothing, so records that still fit are still written.
#[derive(Default)]
pub struct ZeroAhead {
    /// Blocks before this offset are written (with records or zeros).
    upto: u64,
    /// A zero write failed: none more in this file.
    stopped: bool,
}

impl ZeroAhead {
    /// After records were written up to `end`: if fewer than 64 KiB of written blocks
    /// remain past it, writes the next chunk of zeros, never past `limit` (the
    /// preallocated size, so the file keeps ZooKeeper's length).
    pub fn fill(&mut self, file: &File, end: u64, limit: u64) {
        let block = BLOCK as u64;
        self.upto = self.upto.max(end.div_ceil(block) * block);
        if self.stopped || self.upto >= end + AHEAD_LOW || self.upto >= limit {
            return;
        }
        let len = (AHEAD_CHUNK as u64).min((limit - self.upto) / block * block) as usize;
        if len == 0 {
            return;
        }
        // One aligned chunk of zeros for the whole process (every log file reuses it).
        static ZEROS: OnceLock<Vec<Block>> = OnceLock::new();
        let blocks = ZEROS.get_or_init(|| vec![Block([0; BLOCK]); AHEAD_CHUNK / BLOCK]);
        // SAFETY: as in `block_bytes_mut`; `len` is at most the AHEAD_CHUNK bytes
        // the blocks hold, and they are only read.
        let zeros = unsafe { std::slice::from_raw_parts(blocks.as_ptr().cast::<u8>(), len) };
        match file.write_all_at(zeros, self.upto) {
            Ok(()) => self.upto += len as u64,
            Err(e) => {
                debug!(error = %e, "cannot write zeros ahead of the txn log's end; appends allocate as they go");
                self.stopped = true;
            }
        }
    }

    /// After the file was cut back to `end`: blocks past it are gone.
    pub fn cut(&mut self, end: u64) {
        self.upto = self.upto.min(end);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_cover_whole_blocks_and_keep_the_partial_tail() {
        let mut d = DirectBuf::default();
        d.push(&[1; 16]);
        assert_eq!(d.padded().len(), BLOCK);
        assert_eq!(d.padded().as_ptr() as usize % BLOCK, 0);
        d.keep_tail();
        assert_eq!(d.len(), 16);
        d.push(&[2; 5000]);
        let p = d.padded();
        assert_eq!(p.len(), 2 * BLOCK);
        assert_eq!(&p[..16], &[1; 16]);
        assert_eq!(&p[16..5016], &[2; 5000][..]);
        assert!(p[5016..].iter().all(|&b| b == 0));
        d.keep_tail();
        assert_eq!(d.len(), 5016 - BLOCK);
        assert_eq!(&d.padded()[..5016 - BLOCK], &[2; 5016 - BLOCK][..]);
        // A failed write is undone back to the tail.
        let tail = d.len();
        d.push(&[3; 100]);
        d.truncate(tail);
        assert_eq!(d.len(), tail);
        // Exactly a block: nothing partial is left to rewrite.
        d.push(&vec![4; BLOCK - tail]);
        d.keep_tail();
        assert!(d.is_empty());
    }

    #[test]
    fn zeros_are_written_ahead_of_the_end_within_the_limit() {
        let dir = std::env::temp_dir().join(format!("rzk-zero-ahead-{}", std::process::id()));
        let mut f = File::options();
        let file = f
            .create(true)
            .truncate(true)
            .read(true)
            .write(true)
            .open(&dir);
        let file = file.expect("test file");
        let mut z = ZeroAhead::default();
        file.write_all_at(&[7; 100], 0).expect("write");
        z.fill(&file, 100, 1 << 20);
        assert_eq!(z.upto, BLOCK as u64 + AHEAD_CHUNK as u64);
        assert_eq!(file.metadata().expect("meta").len(), z.upto);
        // Still more than AHEAD_LOW ahead: nothing to do.
        z.fill(&file, 8192, 1 << 20);
        assert_eq!(z.upto, BLOCK as u64 + AHEAD_CHUNK as u64);
        // Near the limit, only up to it.
        z.fill(&file, z.upto - 10, z.upto + 3 * BLOCK as u64 + 5);
        assert_eq!(z.upto, BLOCK as u64 + AHEAD_CHUNK as u64 + 3 * BLOCK as u64);
        let mut head = [0u8; 101];
        file.read_exact_at(&mut head, 0).expect("read");
        assert_eq!((&head[..100], head[100]), (&[7u8; 100][..], 0));
        z.cut(50);
        assert_eq!(z.upto, 50);
        // A failed zero write (here: a read-only handle) stops zeroing and fails nothing.
        let ro = File::open(&dir).expect("read-only handle");
        z.fill(&ro, 100, 1 << 20);
        assert!(z.stopped && z.upto == BLOCK as u64);
        z.fill(&file, 100, 1 << 20);
        assert_eq!(z.upto, BLOCK as u64, "stopped for this file");
        let _ = std::fs::remove_file(&dir);
    }
}
