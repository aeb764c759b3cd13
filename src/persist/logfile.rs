//! Reading a txn log file (PROTOCOL.md §6.2): header, then records
//! `long adler32, int len, entry, 0x42` until EOF or the zero preallocation padding.
//!
//! The scanner classifies how the file ends, so recovery can tell a crash from damage:
//! a bad record with nothing but zeros (or EOF) after it is a *torn* tail — a write the
//! crash interrupted, never acknowledged since acknowledgements follow the fsync — while
//! a bad record with data after it, or a record whose checksum matches but whose entry
//! does not decode, is *corrupt*. As in ZooKeeper, the 0x42 end marker is checked before
//! the checksum: a record that is complete (marker in place) but fails its checksum was
//! fully written — and possibly acknowledged — so it is corrupt, never silently dropped.

use jute::codec::decode_prefix;
use jute::file::{adler32, FileHeader, LOG_RECORD_END};
use jute::txn::TxnEntry;

/// Size of the FileHeader at the start of every log and snapshot.
pub const HEADER_LEN: usize = 16;
/// checksum (8) + length (4) before each entry.
const RECORD_HEAD: usize = 12;

/// How a log file ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogEnd {
    /// EOF or the zero padding starts at `offset`.
    Clean { offset: u64 },
    /// An incomplete or damaged last record at `offset`, followed only by zeros or EOF.
    Torn { offset: u64, reason: String },
    /// Damage at `offset` with data after it, or an entry that does not decode.
    Corrupt { offset: u64, reason: String },
}

impl LogEnd {
    /// Offset where valid records stop.
    pub fn offset(&self) -> u64 {
        match self {
            LogEnd::Clean { offset }
            | LogEnd::Torn { offset, .. }
            | LogEnd::Corrupt { offset, .. } => *offset,
        }
    }
}

/// The decoded content of one log file.
#[derive(Debug)]
pub struct LogScan {
    /// The FileHeader; `None` when the file is too short to hold one (see `end`).
    pub header: Option<FileHeader>,
    /// Every valid entry with the file offset of its record.
    pub entries: Vec<(u64, TxnEntry)>,
    /// Where and how the valid records stop.
    pub end: LogEnd,
}

fn zeros(b: &[u8]) -> bool {
    b.iter().all(|&x| x == 0)
}

/// Decodes a whole log file held in memory. Never panics on any input.
pub fn scan(bytes: &[u8]) -> LogScan {
    scan_after(bytes, i64::MIN)
}

/// Like [`scan`], but entries with zxid `<= after` (already in the loaded snapshot) are
/// only framed, not checksummed or decoded, and not returned.
pub fn scan_after(bytes: &[u8], after: i64) -> LogScan {
    let mut entries = Vec::new();
    let Ok((header, end)) = scan_each(bytes, after, |off, e| {
        entries.push((off, e));
        Ok::<(), std::convert::Infallible>(())
    });
    LogScan {
        header,
        entries,
        end,
    }
}

/// Like [`scan_after`], but hands each entry to `each` as soon as it is decoded instead
/// of collecting them: recovery applies a log of a hundred thousand txns without holding
/// them all (a `Vec` that grew through fresh memory was 5 % of a restart's profile). An
/// error from `each` stops the scan and is returned; otherwise the file's header and how
/// it ends.
pub fn scan_each<E>(
    bytes: &[u8],
    after: i64,
    mut each: impl FnMut(u64, TxnEntry) -> Result<(), E>,
) -> Result<(Option<FileHeader>, LogEnd), E> {
    if bytes.len() < HEADER_LEN {
        let reason = format!("file is {} bytes, shorter than its header", bytes.len());
        return Ok((None, LogEnd::Torn { offset: 0, reason }));
    }
    let header = match decode_prefix::<FileHeader>(bytes) {
        Ok((h, _)) => h,
        Err(e) => {
            let reason = format!("bad file header: {e}");
            return Ok((None, LogEnd::Corrupt { offset: 0, reason }));
        }
    };
    if header.magic != jute::consts::magic::TXN_LOG {
        let reason = format!("magic {:#x} is not ZKLG", header.magic);
        return Ok((Some(header), LogEnd::Corrupt { offset: 0, reason }));
    }
    let mut p = HEADER_LEN;
    let end = loop {
        let rest = &bytes[p..];
        // A bad record at p whose extent ends at `ext` is torn when only zeros follow.
        let bad = |ext: usize, reason: String| {
            let after = &bytes[ext.min(bytes.len())..];
            if zeros(after) {
                LogEnd::Torn {
                    offset: p as u64,
                    reason,
                }
            } else {
                LogEnd::Corrupt {
                    offset: p as u64,
                    reason: format!("{reason}, with data after it"),
                }
            }
        };
        if rest.len() < RECORD_HEAD {
            if zeros(rest) {
                break LogEnd::Clean { offset: p as u64 };
            }
            break bad(bytes.len(), "partial record header".into());
        }
        let crc = i64::from_be_bytes(rest[0..8].try_into().unwrap_or([0; 8]));
        let len = i32::from_be_bytes(rest[8..12].try_into().unwrap_or([0; 4]));
        if len == 0 {
            // The preallocation padding: ZooKeeper ends the file at the first zero-length
            // record without reading the rest (scanning 64 MiB of holes would fault in and
            // zero every page of a sparse file).
            if crc == 0 {
                break LogEnd::Clean { offset: p as u64 };
            }
            break bad(p + RECORD_HEAD, "zero-length record".into());
        }
        if len < 0 {
            break bad(p + RECORD_HEAD, format!("negative record length {len}"));
        }
        let len = len as usize;
        let ext = p + RECORD_HEAD + len + 1;
        if ext > bytes.len() {
            break bad(
                ext,
                format!("record of {len} bytes runs past the end of the file"),
            );
        }
        let entry = &rest[RECORD_HEAD..RECORD_HEAD + len];
        if rest[RECORD_HEAD + len] != LOG_RECORD_END {
            break bad(ext, "record not followed by the 0x42 end marker".into());
        }
        // TxnHeader: clientId (8), cxid (4), zxid (8).
        if let Some(z) = entry.get(12..20) {
            let z = i64::from_be_bytes(z.try_into().unwrap_or([0; 8]));
            if z <= after {
                p = ext;
                continue;
            }
        }
        if crc != adler32(entry) as i64 {
            break LogEnd::Corrupt {
                offset: p as u64,
                reason: format!(
                    "checksum mismatch in a complete record (stored {crc:#x}, computed {:#x})",
                    adler32(entry)
                ),
            };
        }
        match TxnEntry::decode_complete(entry) {
            Ok(e) => each(p as u64, e)?,
            Err(e) => {
                break LogEnd::Corrupt {
                    offset: p as u64,
                    reason: format!("txn entry does not decode: {e}"),
                }
            }
        }
        p = ext;
    };
    Ok((Some(header), end))
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::BytesMut;
    use jute::file::LogRecord;
    use jute::txn::{CreateSessionTxn, TxnBody, TxnHeader};
    use jute::Codec;

    fn entry(zxid: i64) -> TxnEntry {
        TxnEntry {
            header: TxnHeader {
                client_id: 7,
                cxid: 0,
                zxid,
                time: 1000,
                kind: jute::OpCode::CreateSession.code(),
            },
            body: TxnBody::CreateSession(CreateSessionTxn { timeout: 30000 }),
            digest: None,
        }
    }

    fn log(n: i64) -> Vec<u8> {
        let mut b = BytesMut::new();
        FileHeader::txn_log().encode(&mut b);
        for z in 1..=n {
            let mut e = BytesMut::new();
            entry(z).encode(&mut e);
            LogRecord::put(&mut b, &e);
        }
        b.to_vec()
    }

    #[test]
    fn clean_with_and_without_padding() {
        let mut b = log(3);
        let s = scan(&b);
        assert_eq!(s.entries.len(), 3);
        assert_eq!(
            s.end,
            LogEnd::Clean {
                offset: b.len() as u64
            }
        );
        let end = b.len();
        b.resize(end + 5000, 0);
        assert_eq!(scan(&b).end, LogEnd::Clean { offset: end as u64 });
    }

    #[test]
    fn every_cut_of_the_last_record_is_torn() {
        let full = log(3);
        let two = log(2).len();
        for cut in two + 1..full.len() {
            for pad in [0usize, 100] {
                let mut b = full[..cut].to_vec();
                b.resize(cut + pad, 0);
                let s = scan(&b);
                assert_eq!(s.entries.len(), 2, "cut {cut} pad {pad}");
                assert_eq!(s.end.offset(), two as u64, "cut {cut} pad {pad}");
                // A cut inside the checksum's zero high bytes reads as padding.
                let torn = matches!(s.end, LogEnd::Torn { .. });
                assert_eq!(torn, full[two..cut].iter().any(|&x| x != 0), "cut {cut}");
            }
        }
    }

    #[test]
    fn damage_in_the_middle_is_corrupt() {
        let mut b = log(3);
        // Flip a byte inside the first record's entry.
        b[HEADER_LEN + 12 + 3] ^= 0xff;
        let s = scan(&b);
        assert!(matches!(s.end, LogEnd::Corrupt { offset, .. } if offset == HEADER_LEN as u64));
        // The same damage in the last, complete record is corrupt too (ZooKeeper refuses
        // to start: that record may have been acknowledged).
        let mut b = log(3);
        let last = log(2).len();
        b[last + 12 + 3] ^= 0xff;
        assert!(matches!(scan(&b).end, LogEnd::Corrupt { offset, .. } if offset == last as u64));
    }

    #[test]
    fn short_files() {
        assert!(matches!(scan(&[]).end, LogEnd::Torn { offset: 0, .. }));
        assert!(matches!(
            scan(&[0xff; 16]).end,
            LogEnd::Corrupt { offset: 0, .. }
        ));
    }
}
