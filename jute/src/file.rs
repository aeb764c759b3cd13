//! Persistence records: the header of txn-log and snapshot files, the framing of txn-log
//! records, and the Adler-32 checksum both use.

use crate::codec::{Codec, Limits};
use crate::error::{fail, DecodeError, JResult};
use crate::record;
use bytes::{BufMut, BytesMut};

record! {
    /// Starts every txn log (`ZKLG`, version 2, dbid 0) and snapshot (`ZKSN`, 2, -1).
    pub struct FileHeader { pub magic: i32, pub version: i32, pub dbid: i64 }
}

impl FileHeader {
    /// The header ZooKeeper writes at the start of a txn log.
    pub fn txn_log() -> FileHeader {
        FileHeader {
            magic: crate::consts::magic::TXN_LOG,
            version: 2,
            dbid: 0,
        }
    }
    /// The header ZooKeeper writes at the start of a snapshot.
    pub fn snapshot() -> FileHeader {
        FileHeader {
            magic: crate::consts::magic::SNAPSHOT,
            version: 2,
            dbid: -1,
        }
    }
}

/// The end-of-record marker ZooKeeper writes after every txn-log entry ('B').
pub const LOG_RECORD_END: u8 = 0x42;

/// Adler-32 of `data`: the checksum of txn-log entries and snapshot streams
/// (`java.util.zip.Adler32`).
pub fn adler32(data: &[u8]) -> u32 {
    let mut h = simd_adler32::Adler32::new();
    h.write(data);
    h.finish()
}

/// One framed record of a txn log: `long checksum, int len, len bytes, 0x42`.
///
/// The entry bytes are left encoded (decode them with
/// [`crate::txn::TxnEntry::decode_complete`]); the checksum is read, not verified: compare
/// it with [`adler32`] of `entry`, or use [`LogRecord::checksum_ok`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogRecord<'a> {
    /// The stored Adler-32 (a Java long; only the low 32 bits are ever set).
    pub checksum: i64,
    /// The txn entry bytes.
    pub entry: &'a [u8],
}

impl<'a> LogRecord<'a> {
    /// Streaming decode of one record from a log positioned after the [`FileHeader`].
    ///
    /// `Ok((rest, None))` means the log ends here: a zero checksum and length is the
    /// preallocated zero padding. A missing 0x42 marker is [`DecodeError::Invalid`] (Java
    /// treats it as a torn last write); a length above `limits.max_buffer` is
    /// [`DecodeError::TooLong`] before anything is read for it.
    pub fn decode(i: &'a [u8], limits: Limits) -> JResult<'a, Option<LogRecord<'a>>> {
        let (i, checksum) = i64::decode(i)?;
        let (i, len) = i32::decode(i)?;
        if len == 0 {
            return Ok((i, None));
        }
        if len < 0 || len as usize > limits.max_buffer {
            return fail(DecodeError::TooLong {
                what: "txn log entry",
                len: len as i64,
                max: limits.max_buffer,
            });
        }
        let len = len as usize;
        if i.len() < len + 1 {
            return Err(nom::Err::Incomplete(nom::Needed::new(len + 1 - i.len())));
        }
        if i[len] != LOG_RECORD_END {
            return fail(DecodeError::Invalid("txn log entry not followed by 0x42"));
        }
        Ok((
            &i[len + 1..],
            Some(LogRecord {
                checksum,
                entry: &i[..len],
            }),
        ))
    }

    /// Whether the stored checksum matches the entry bytes.
    pub fn checksum_ok(&self) -> bool {
        self.checksum == adler32(self.entry) as i64
    }

    /// Appends a record for `entry` (checksum computed here) to `out`.
    pub fn put(out: &mut BytesMut, entry: &[u8]) {
        Self::put_with(out, |o| o.put_slice(entry));
    }

    /// Appends a record whose entry `encode` writes straight into `out`, then fills in
    /// its checksum and length: the entry is never staged in a buffer of its own and
    /// copied, which for a 10 KB value is a copy per write saved.
    pub fn put_with(out: &mut BytesMut, encode: impl FnOnce(&mut BytesMut)) {
        let head = out.len();
        out.put_i64(0);
        out.put_i32(0);
        encode(out);
        let body = head + 12;
        let len = out.len() - body;
        let sum = adler32(&out[body..]) as i64;
        out[head..head + 8].copy_from_slice(&sum.to_be_bytes());
        out[head + 8..body].copy_from_slice(&(len as i32).to_be_bytes());
        out.put_u8(LOG_RECORD_END);
    }
}

#[cfg(test)]
// Test code only: an unwrap here is an assertion on fixtures the test built itself, never
// input the server reads from the wire or from an operator's disk.
mod tests {
    use super::*;

    #[test]
    fn adler32_vector() {
        assert_eq!(adler32(b"hello"), 0x062c_0215);
        assert_eq!(adler32(b""), 1);
        // Lengths around the SIMD block sizes and the 5552-byte modulo interval.
        for n in [
            1, 15, 16, 31, 32, 63, 64, 65, 5551, 5552, 5553, 20000, 100_003,
        ] {
            let data: Vec<u8> = (0..n).map(|i| (i * 7 + 255) as u8).collect();
            assert_eq!(adler32(&data), adler::adler32_slice(&data), "length {n}");
        }
    }

    #[test]
    fn log_record_round_trip() {
        let mut b = BytesMut::new();
        LogRecord::put(&mut b, b"entry");
        b.put_slice(&[0; 12]);
        let (rest, r) = LogRecord::decode(&b, Limits::default()).unwrap();
        let r = r.unwrap();
        assert_eq!(r.entry, b"entry");
        assert!(r.checksum_ok());
        assert_eq!(
            LogRecord::decode(rest, Limits::default()),
            Ok((&[][..], None))
        );
    }

    #[test]
    fn encoding_in_place_matches_putting_a_staged_entry() {
        let entry: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
        let (mut staged, mut in_place) = (BytesMut::from(&b"prefix"[..]), BytesMut::new());
        in_place.put_slice(b"prefix");
        LogRecord::put(&mut staged, &entry);
        LogRecord::put_with(&mut in_place, |o| {
            o.put_slice(&entry[..3]);
            o.put_slice(&entry[3..]);
        });
        assert_eq!(staged, in_place);
        let (_, r) = LogRecord::decode(&in_place[6..], Limits::default()).unwrap();
        assert!(r.unwrap().checksum_ok());
    }
}
