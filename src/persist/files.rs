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

/// Whether a snapshot file name carries a compression suffix rzk cannot read.
pub fn is_compressed(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("gz" | "snappy")
    )
}

/// Makes a directory entry (a new or renamed file) durable.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    fs::File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

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
