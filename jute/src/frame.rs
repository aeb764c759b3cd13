//! Client-port framing: every message is a 4-byte big-endian length and that many bytes.
//!
//! [`frame_len`] is the incremental step a connection runs on its read buffer: it says
//! "need more bytes", "a frame of N bytes is ready", or rejects a bad length before anything
//! is allocated for it.

use crate::error::DecodeError;
use bytes::{BufMut, BytesMut};

/// Size of the length prefix.
pub const LEN_PREFIX: usize = 4;

/// Inspects the front of `buf`: `Ok(None)` if fewer than 4 bytes are there, `Ok(Some(n))`
/// if the next frame's body is `n` bytes (which may not all have arrived yet), or an error
/// if the length is negative or above `max` (`jute.maxbuffer`).
pub fn frame_len(buf: &[u8], max: usize) -> Result<Option<usize>, DecodeError> {
    let Some(word) = buf.get(..LEN_PREFIX) else {
        return Ok(None);
    };
    let len = i32::from_be_bytes([word[0], word[1], word[2], word[3]]);
    if len < 0 {
        return Err(DecodeError::BadLength {
            what: "frame",
            len: len as i64,
        });
    }
    if len as usize > max {
        return Err(DecodeError::TooLong {
            what: "frame",
            len: len as i64,
            max,
        });
    }
    Ok(Some(len as usize))
}

/// Returns the next complete frame body's range in `buf` (after the prefix), if one is there.
pub fn complete_frame(buf: &[u8], max: usize) -> Result<Option<usize>, DecodeError> {
    match frame_len(buf, max)? {
        Some(n) if buf.len() >= LEN_PREFIX + n => Ok(Some(n)),
        _ => Ok(None),
    }
}

/// Appends one frame to `out`: reserves the prefix, lets `body` write, then patches the length.
pub fn put_frame(out: &mut BytesMut, body: impl FnOnce(&mut BytesMut)) {
    let start = out.len();
    out.put_i32(0);
    body(out);
    let len = (out.len() - start - LEN_PREFIX) as i32;
    out[start..start + LEN_PREFIX].copy_from_slice(&len.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths() {
        assert_eq!(frame_len(&[0, 0], 10), Ok(None));
        assert_eq!(frame_len(&[0, 0, 0, 8, 1], 10), Ok(Some(8)));
        assert_eq!(complete_frame(&[0, 0, 0, 8, 1], 10), Ok(None));
        assert!(frame_len(&[0xff, 0xff, 0xff, 0xfe], 10).is_err());
        assert!(matches!(
            frame_len(&[0, 0, 0, 11], 10),
            Err(DecodeError::TooLong { .. })
        ));
    }

    #[test]
    fn put_frame_patches_length() {
        let mut b = BytesMut::new();
        put_frame(&mut b, |o| o.put_slice(b"abc"));
        assert_eq!(&b[..], &[0, 0, 0, 3, b'a', b'b', b'c']);
    }
}
