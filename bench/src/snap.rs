//! Snapshot size and time (part of the memory test): drive txns until the server starts a
//! new snapshot in `<dataDir>/version-2/`, then time it from the new file's appearance to
//! its completion. Complete = no temporary file left (rzk's `tmp.snapshot.*` other than an
//! empty `tmp.snapshot.next`, made ahead for the next snapshot; ZooKeeper's
//! `snapshot.*.tmp` when it syncs; its periodic snapshots are written in place), no snapshot
//! file open by the server (`/proc/<pid>/fd`) and nothing changed for 1 s. The end time is
//! when that final state was first seen (polled every 20 ms), so the 1 s wait is not counted.

use std::cell::Cell;
use std::fs;
use std::future::Future;
use std::path::Path;
use std::rc::Rc;
use std::time::{Duration, Instant};

/// One measured snapshot.
#[derive(Debug, Clone)]
pub struct Snap {
    /// The newest complete snapshot file (`snapshot.<zxid hex>`).
    pub name: String,
    /// Its size in bytes.
    pub bytes: u64,
    /// From the new file's first appearance to the state in which it was complete, s.
    pub secs: f64,
    /// Txns the pump had answered when it stopped.
    pub txns: u64,
}

/// Snapshot files (name, size), sorted, and whether the server has one of them open.
type State = (Vec<(String, u64)>, bool);

fn is_snap(name: &str) -> bool {
    name.starts_with("snapshot.") || name.starts_with("tmp.snapshot.")
}

/// rzk creates the next snapshot's file ahead of time (`tmp.snapshot.next`, empty and
/// held open until a snapshot takes it): while empty it is no snapshot, so a snapshot
/// counts from its first write, as ZooKeeper's does from its file's creation.
fn is_spare(name: &str, len: u64) -> bool {
    name == "tmp.snapshot.next" && len == 0
}

fn in_progress(name: &str) -> bool {
    name.starts_with("tmp.") || name.ends_with(".tmp")
}

fn scan(dir: &Path, pid: &str) -> State {
    let mut files: Vec<_> = fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            let len = e.metadata().map(|m| m.len()).unwrap_or(0);
            (is_snap(&n) && !is_spare(&n, len)).then_some((n, len))
        })
        .collect();
    files.sort();
    let open = fs::read_dir(format!("/proc/{pid}/fd"))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| fs::read_link(e.path()).ok())
        .any(|t| {
            let Some(n) = t.file_name().map(|n| n.to_string_lossy()) else {
                return false;
            };
            let len = fs::metadata(&t).map_or(0, |m| m.len());
            t.parent() == Some(dir) && is_snap(&n) && !is_spare(&n, len)
        });
    (files, open)
}

/// Polls until nothing is in progress and the state has not changed for 1 s (bounded by
/// `deadline`); returns that state and when it was first seen.
async fn settle(dir: &Path, pid: &str, deadline: Instant) -> Option<(State, Instant)> {
    let (mut last, mut since) = (scan(dir, pid), Instant::now());
    loop {
        let quiet = !last.1 && !last.0.iter().any(|(n, _)| in_progress(n));
        if quiet && since.elapsed() >= Duration::from_secs(1) {
            return Some((last, since));
        }
        if Instant::now() > deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        let now = scan(dir, pid);
        if now != last {
            (last, since) = (now, Instant::now());
        }
    }
}

/// In `dir` (a `version-2` directory) of the server `pid`: waits for any snapshot in
/// progress to finish, runs `pump` (which must send txns until its flag is set and return
/// how many were answered) until a new snapshot file appears, and measures that snapshot.
/// Everything is bounded by `timeout`.
pub async fn measure<F, Fut>(
    dir: &Path,
    pid: &str,
    pump: F,
    timeout: Duration,
) -> Result<Snap, String>
where
    F: FnOnce(Rc<Cell<bool>>) -> Fut,
    Fut: Future<Output = u64> + 'static,
{
    let deadline = Instant::now() + timeout;
    let dir = fs::canonicalize(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let ((before, _), _) = settle(&dir, pid, deadline)
        .await
        .ok_or("a snapshot in progress did not finish")?;
    let stop = Rc::new(Cell::new(false));
    let task = tokio::task::spawn_local(pump(stop.clone()));
    let mut pump_done: Option<Instant> = None;
    let appeared = loop {
        tokio::time::sleep(Duration::from_millis(20)).await;
        let (files, _) = scan(&dir, pid);
        if files.iter().any(|f| !before.iter().any(|b| b.0 == f.0)) {
            break Some(Instant::now());
        }
        if task.is_finished() {
            pump_done.get_or_insert_with(Instant::now);
        }
        let gave_up = pump_done.is_some_and(|t| t.elapsed() > Duration::from_secs(5));
        if Instant::now() > deadline || gave_up {
            break None;
        }
    };
    stop.set(true);
    let settled = match appeared {
        Some(_) => settle(&dir, pid, deadline).await,
        None => None,
    };
    let txns = task.await.unwrap_or(0);
    let appeared = appeared.ok_or(format!("no new snapshot after {txns} txns"))?;
    let ((files, _), done) = settled.ok_or("the new snapshot did not complete")?;
    let zxid = |n: &str| i64::from_str_radix(n.strip_prefix("snapshot.")?, 16).ok();
    let (name, bytes) = files
        .into_iter()
        .filter_map(|f| zxid(&f.0).map(|z| (z, f)))
        .max()
        .map(|(_, f)| f)
        .filter(|f| !before.contains(f))
        .ok_or("no new complete snapshot")?;
    Ok(Snap {
        name,
        bytes,
        secs: (done - appeared).as_secs_f64(),
        txns,
    })
}

/// The server's own snapshot-time counters from `mntr` (`zk_sum_snapshottime` ms,
/// `zk_cnt_snapshottime`), if it reports them.
pub fn mntr_times(addr: &str) -> Option<(f64, f64)> {
    let text = crate::server::four_letter(addr, "mntr").ok()?;
    let get = |k: &str| {
        let l = text
            .lines()
            .find(|l| l.split_whitespace().next() == Some(k))?;
        l.split_whitespace().nth(1)?.parse::<f64>().ok()
    };
    Some((get("zk_sum_snapshottime")?, get("zk_cnt_snapshottime")?))
}

/// The last snapshot time the server logged in `server_dir` (rzk: `snapshot written …
/// ms=N`, ZooKeeper: `Snapshot taken in N ms`), in ms.
pub fn logged_ms(server_dir: &Path) -> Option<u64> {
    let mut last = None;
    for f in ["server.out", "zookeeper.log"] {
        let text = fs::read_to_string(server_dir.join(f)).unwrap_or_default();
        for line in text.lines().map(strip_ansi) {
            let line = line.as_str();
            let digits = |s: &str| s.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok();
            if line.contains("snapshot written") {
                last = line
                    .rsplit_once("ms=")
                    .and_then(|(_, r)| digits(r))
                    .or(last);
            } else if let Some((_, r)) = line.split_once("Snapshot taken in ") {
                last = digits(r).or(last);
            }
        }
    }
    last
}

/// `s` without ANSI escape sequences (`ESC [ … letter`), as a log written with colours has.
fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            chars.by_ref().find(|c| c.is_ascii_alphabetic());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    // Unwraps here act on files the test makes itself.
    use super::*;
    use std::io::Write;

    #[test]
    fn an_empty_spare_is_no_snapshot_and_a_written_one_is_in_progress() {
        let dir = std::env::temp_dir().join(format!("rzk-bench-snap-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let dir = fs::canonicalize(&dir).unwrap();
        let pid = std::process::id().to_string();
        fs::write(dir.join("snapshot.10"), b"done").unwrap();
        // Held open and empty, as rzk keeps it between snapshots.
        let mut spare = fs::File::create(dir.join("tmp.snapshot.next")).unwrap();
        let (files, open) = scan(&dir, &pid);
        assert_eq!(files, [("snapshot.10".to_string(), 4)]);
        assert!(!open);
        // Taken by a snapshot: written, so in progress and open.
        spare.write_all(b"chunk").unwrap();
        let (files, open) = scan(&dir, &pid);
        assert_eq!(files.len(), 2);
        assert!(files.iter().any(|(n, _)| in_progress(n)));
        assert!(open);
        drop(spare);
        let _ = fs::remove_dir_all(&dir);
    }
}
