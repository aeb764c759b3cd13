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

#[repr(C, align(4096))]
#[derive(Clone, Copy)]
struct Block([u8; BLOCK]);

/// An aligned, growable buffer: `len` bytes of data at the start of `blocks`.
#[derive(Default)]
pub struct DirectBuf {
    blocks: Vec<Block>,
    len: usize,
}

impl DirectBuf {
    fn bytes_mut(&mut self) -> &mut [u8] {
        let n = self.blocks.len() * BLOCK;
        // SAFETY: `Block` is a plain byte array with no padding (size == align == BLOCK),
        // so the vector's `blocks.len()` initialized elements are `n` initialized bytes,
        // borrowed mutably through `&mut self` for the slice's lifetime.
        unsafe { std::slice::from_raw_parts_mut(self.blocks.as_mut_ptr().cast::<u8>(), n) }
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
        let end = len.div_ceil(BLOCK) * BLOCK;
        let b = self.bytes_mut();
        b[len..end].fill(0);
        &b[..end]
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
}
