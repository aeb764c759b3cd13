//! Autopurge (ZooKeeper's DatadirCleanupManager / PurgeTxnLog): keep the N newest valid
//! snapshots and the txn logs needed to replay from the oldest of them; delete older files.

use crate::config::Config;
use crate::persist::{files, snapshot};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tracing::{info, warn};

/// Whether a snapshot file passes the cheap validity check (complete once inflated).
fn valid_snapshot(path: &Path) -> bool {
    let Ok(bytes) = files::read_snapshot(path) else {
        return false;
    };
    snapshot::looks_complete(&bytes)
}

/// Purges `snap_dir`/`log_dir` (version-2 dirs) keeping `retain` (at least 3) snapshots.
/// Returns the files deleted.
pub fn purge(snap_dir: &Path, log_dir: &Path, retain: usize) -> io::Result<Vec<PathBuf>> {
    let retain = retain.max(3);
    let snaps = files::list(snap_dir, "snapshot")?;
    let kept: Vec<&(i64, PathBuf)> = snaps
        .iter()
        .rev()
        .filter(|(_, p)| valid_snapshot(p))
        .take(retain)
        .collect();
    let Some(&(least, _)) = kept.last().copied() else {
        return Ok(Vec::new());
    };
    let logs = files::list(log_dir, "log")?;
    // The newest log starting at or before `least` holds txns the oldest kept snapshot needs.
    let needed_from = logs
        .iter()
        .filter(|(z, _)| *z <= least)
        .map(|(z, _)| *z)
        .max()
        .unwrap_or(least);
    let mut deleted = Vec::new();
    for (z, p) in &logs {
        if *z < needed_from {
            fs::remove_file(p)?;
            deleted.push(p.clone());
        }
    }
    for (z, p) in &snaps {
        if *z < least {
            fs::remove_file(p)?;
            deleted.push(p.clone());
        }
    }
    Ok(deleted)
}

/// Starts the periodic purge thread when `autopurge.purgeInterval` > 0.
pub fn start(cfg: &Config) {
    let hours = cfg.autopurge_purge_interval_hours;
    if hours == 0 {
        info!("autopurge disabled (autopurge.purgeInterval=0)");
        return;
    }
    let snap_dir = files::version_dir(&cfg.data_dir);
    let log_dir = files::version_dir(&cfg.data_log_dir);
    let retain = cfg.autopurge_snap_retain_count as usize;
    let every = Duration::from_secs(hours as u64 * 3600);
    let spawned = std::thread::Builder::new()
        .name("rzk-purge".into())
        .spawn(move || loop {
            match purge(&snap_dir, &log_dir, retain) {
                Ok(d) => info!(deleted = d.len(), "purged old snapshots and txn logs"),
                Err(e) => warn!(error = %e, "purge failed"),
            }
            std::thread::sleep(every);
        });
    if let Err(e) = spawned {
        warn!(error = %e, "cannot start the purge thread");
    }
}

#[cfg(test)]
// Test code only: an unwrap here is an assertion on fixtures the test built itself, never
// input the server reads from the wire or from an operator's disk.
mod tests {
    use super::*;

    #[test]
    fn keeps_n_snapshots_and_needed_logs() {
        let d = std::env::temp_dir().join(format!("rzk-purge-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        let sealed = [b"xxxxxxxxxx".as_slice(), &snapshot::SEAL_END].concat();
        for z in [0x0, 0x10, 0x20, 0x30, 0x40] {
            fs::write(d.join(files::snapshot_name(z)), &sealed).unwrap();
        }
        for z in [0x1, 0x12, 0x25, 0x33, 0x41] {
            fs::write(d.join(files::log_name(z)), b"").unwrap();
        }
        let deleted = purge(&d, &d, 3).unwrap();
        let mut left: Vec<String> = fs::read_dir(&d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(
            left,
            [
                "log.12",
                "log.25",
                "log.33",
                "log.41",
                "snapshot.20",
                "snapshot.30",
                "snapshot.40"
            ]
        );
        assert_eq!(deleted.len(), 3);
        fs::remove_dir_all(&d).unwrap();
    }
}
