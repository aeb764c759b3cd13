//! File naming and directory listing as ZooKeeper does it: `<dir>/version-2/`,
//! `log.<hex zxid>` and `snapshot.<hex zxid>` (lower-case hex, no `0x`), sorted by the
//! parsed zxid rather than by name.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// The `version-2` directory under a dataDir / dataLogDir.
pub fn version_dir(dir: &Path) -> PathBuf {
    dir.join("version-2")
}

/// `log.<hex>` for a log whose first txn has `zxid`.
pub fn log_name(zxid: i64) -> String {
    format!("log.{zxid:x}")
}

/// `snapshot.<hex>` for a snapshot of the tree at `zxid`.
pub fn snapshot_name(zxid: i64) -> String {
    format!("snapshot.{zxid:x}")
}

/// The zxid of a `prefix.<hex>[.suffix]` file name, as ZooKeeper's `Util.getZxidFromName`
/// parses it (the second dot-separated part); `None` for other names.
pub fn zxid_from_name(name: &str, prefix: &str) -> Option<i64> {
    let mut parts = name.split('.');
    if parts.next()? != prefix {
        return None;
    }
    i64::from_str_radix(parts.next()?, 16).ok()
}

/// The files `prefix.<hex>*` in `dir`, sorted by zxid ascending. A missing dir is empty.
pub fn list(dir: &Path, prefix: &str) -> io::Result<Vec<(i64, PathBuf)>> {
    let rd = match fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut out = Vec::new();
    for e in rd {
        let e = e?;
        let name = e.file_name();
        let Some(name) = name.to_str() else { continue };
        if let Some(z) = zxid_from_name(name, prefix) {
            if e.file_type()?.is_file() {
                out.push((z, e.path()));
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Whether a snapshot file name carries a compression suffix (`.gz`, `.snappy`).
pub fn is_compressed(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("gz" | "snappy")
    )
}

/// A file's bytes: memory-mapped when possible, else read (empty files, compressed
/// snapshots after inflating).
pub enum FileBytes {
    Mapped(memmap2::Mmap),
    Owned(Vec<u8>),
}

impl std::ops::Deref for FileBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            FileBytes::Mapped(m) => m,
            FileBytes::Owned(v) => v,
        }
    }
}

/// Maps a file read-only. Recovery and the dump tools read dataDir files nobody writes
/// while they are mapped (the server has not started, or they are closed log segments).
pub fn map(path: &Path) -> io::Result<FileBytes> {
    let file = fs::File::open(path)?;
    if file.metadata()?.len() == 0 {
        return Ok(FileBytes::Owned(Vec::new()));
    }
    // SAFETY: the mapping is read-only and the file is not modified while it is mapped
    // (see above); a concurrent truncation by another process could fault, as for any
    // mmap reader, which is why only the server's own quiescent files are mapped.
    let m = unsafe { memmap2::MmapOptions::new().map(&file)? };
    let _ = m.advise(memmap2::Advice::Sequential);
    // Ask for the whole file now, so the disk reads ahead while the caller parses: a
    // snapshot written with O_DIRECT is not in the page cache when the server restarts.
    let _ = m.advise(memmap2::Advice::WillNeed);
    Ok(FileBytes::Mapped(m))
}

/// snappy-java's stream header: magic, then format version and compatible version.
const SNAPPY_JAVA_MAGIC: &[u8] = b"\x82SNAPPY\x00";

/// Reads a snapshot file, inflating it when ZooKeeper wrote it compressed
/// (`zookeeper.snapshot.compression.method=gz|snappy`). The snapshot's own checksum
/// covers the uncompressed bytes, so callers parse the result as any snapshot.
pub fn read_snapshot(path: &Path) -> io::Result<FileBytes> {
    let raw = map(path)?;
    match path.extension().and_then(|e| e.to_str()) {
        Some("gz") => {
            let mut out = Vec::with_capacity(raw.len() * 4);
            io::Read::read_to_end(&mut flate2::read::MultiGzDecoder::new(&raw[..]), &mut out)?;
            Ok(FileBytes::Owned(out))
        }
        Some("snappy") => unsnappy_java(&raw).map(FileBytes::Owned),
        _ => Ok(raw),
    }
}

/// Decodes snappy-java's stream format: a 16-byte header, then blocks of
/// `int compressed length` + raw snappy data.
fn unsnappy_java(raw: &[u8]) -> io::Result<Vec<u8>> {
    let bad = |m: &str| io::Error::new(io::ErrorKind::InvalidData, format!("snappy stream: {m}"));
    let mut dec = snap::raw::Decoder::new();
    let Some(mut rest) = raw.strip_prefix(SNAPPY_JAVA_MAGIC).and_then(|r| r.get(8..)) else {
        return dec.decompress_vec(raw).map_err(|e| bad(&e.to_string()));
    };
    let mut out = Vec::with_capacity(raw.len() * 4);
    while !rest.is_empty() {
        let Some(len) = rest.get(..4) else {
            return Err(bad("truncated block length"));
        };
        let len = u32::from_be_bytes([len[0], len[1], len[2], len[3]]) as usize;
        let Some(block) = rest.get(4..4 + len) else {
            return Err(bad("truncated block"));
        };
        out.extend_from_slice(&dec.decompress_vec(block).map_err(|e| bad(&e.to_string()))?);
        rest = &rest[4 + len..];
    }
    Ok(out)
}

/// Makes a directory entry (a new or renamed file) durable.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    fs::File::open(dir)?.sync_all()
}

#[cfg(test)]
// Test code only: an unwrap here is an assertion on fixtures the test built itself, never
// input the server reads from the wire or from an operator's disk.
mod tests {
    use super::*;

    #[test]
    fn compressed_snapshots_inflate() {
        use std::io::Write;
        let dir = std::env::temp_dir().join(format!("rzk-files-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let body = b"snapshot bytes ".repeat(100);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&body).unwrap();
        fs::write(dir.join("snapshot.5.gz"), gz.finish().unwrap()).unwrap();
        let block = snap::raw::Encoder::new().compress_vec(&body).unwrap();
        let mut sj = SNAPPY_JAVA_MAGIC.to_vec();
        sj.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 1]);
        sj.extend_from_slice(&(block.len() as u32).to_be_bytes());
        sj.extend_from_slice(&block);
        fs::write(dir.join("snapshot.5.snappy"), sj).unwrap();
        for f in ["snapshot.5.gz", "snapshot.5.snappy"] {
            assert_eq!(&read_snapshot(&dir.join(f)).unwrap()[..], &body[..], "{f}");
        }
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn names_round_trip() {
        assert_eq!(log_name(0x1a), "log.1a");
        assert_eq!(snapshot_name(0), "snapshot.0");
        assert_eq!(zxid_from_name("log.1a", "log"), Some(0x1a));
        assert_eq!(zxid_from_name("snapshot.69.gz", "snapshot"), Some(0x69));
        assert_eq!(zxid_from_name("snapshot.x", "snapshot"), None);
        assert_eq!(zxid_from_name("tmp.snapshot.5", "snapshot"), None);
        assert_eq!(zxid_from_name("log.5", "snapshot"), None);
    }
}
