//! The txn-log writer: group commit, preallocation, fsync, failure handling.
//!
//! [`LogWriter`] owns the open `log.<zxid>` file. Usually the `rzk-txnlog` thread drives
//! it: each wake-up takes every batch queued since the last one (batches that arrived
//! during an fsync are coalesced), writes them with one `pwrite`, fsyncs once, and reports
//! the highest durable zxid on the core's `committed` channel. When the core has nothing
//! else to do and the thread is idle, the core writes its batch itself
//! ([`Shared::try_inline`]): on a 2-CPU guest each hand-off to another thread and back costs
//! two cross-CPU wake-ups (about 18 µs of CPU each), more than the rest of a depth-1 write.
//!
//! On a write or fsync error (disk full, I/O error) nothing is acknowledged: the file is
//! cut back to the end of the last durable record (so no torn record stays at the tail),
//! the failure goes to the core, and the writer enters *failed mode*, dropping batches
//! that were prepared before the core learnt of the failure (they continue the failed
//! state). The core fails every in-flight txn from the failed zxid on and reuses those
//! zxids, so the next batch starting exactly at the failed zxid is the retry; once a write
//! succeeds again the log is healthy.

use crate::persist::direct::{open_maybe_direct, DirectBuf, ZeroAhead, BLOCK};
use crate::persist::{files, Failed};
use bytes::{Bytes, BytesMut};
use jute::file::FileHeader;
use jute::Codec;
use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc::UnboundedSender;
use tracing::{debug, error, info, warn};

/// What the core sends the writer.
#[derive(Debug)]
pub enum ToWriter {
    /// Encoded records for zxids `first..=last`.
    Batch { bytes: Bytes, first: i64, last: i64 },
    /// Close the current file; the next batch starts `log.<its first zxid>`.
    Roll,
}

/// How the writer behaves.
#[derive(Debug, Clone)]
pub struct WriterOptions {
    /// The log's version-2 directory.
    pub dir: PathBuf,
    /// Preallocation block (`preAllocSize`, bytes); 0 disables.
    pub prealloc: u64,
    /// fsync after each write (`forceSync`).
    pub force_sync: bool,
    /// Write with `O_DIRECT` when syncing (`rzk.log.directIO`; see [`super::direct`]).
    /// Falls back to buffered writes where the filesystem refuses it (tmpfs before Linux
    /// 6.6, some network and FUSE filesystems).
    pub direct: bool,
    /// Warn when an fsync takes longer (`fsync.warningthresholdms`).
    pub fsync_warn: Duration,
    /// Test hook: sleep before each fsync (simulates a slow disk).
    pub fsync_delay: Duration,
    /// Test hook: while set, writes fail with an injected error (simulates a full disk).
    pub fault: Option<Arc<AtomicBool>>,
}

/// Counters shared with the core (atomics; no locks).
#[derive(Debug, Default)]
pub struct LogStats {
    /// Write+fsync rounds done.
    pub syncs: AtomicU64,
    /// Of those, rounds the core ran itself (see [`Shared::try_inline`]).
    pub inline_syncs: AtomicU64,
    /// Batches received.
    pub batches: AtomicU64,
    /// Highest durable zxid.
    pub durable: AtomicI64,
    /// Moving average of fsync times (µs; the last eight or so weigh most).
    pub fsync_avg_us: AtomicU64,
    /// Writes that failed.
    pub failures: AtomicU64,
    /// Snapshots started, and how many of them in a forked child.
    pub snapshots: AtomicU64,
    pub snapshots_forked: AtomicU64,
    /// fsync times in ms, as ZooKeeper's `fsynctime` summary counts them.
    pub fsync_ms: Summary,
    /// Txns per write round, as ZooKeeper's `sync_processor_batch_size` counts them.
    pub round_txns: Summary,
}

/// Count, sum, min and max of samples (what an `mntr` summary prints), in atomics the
/// writer updates and `mntr` reads without a lock.
#[derive(Debug, Default)]
pub struct Summary {
    cnt: AtomicU64,
    sum: AtomicU64,
    /// Stored as `u64::MAX - min`, so that 0 means "no sample" and `fetch_max` works.
    min_inv: AtomicU64,
    max: AtomicU64,
}

impl Summary {
    /// Adds one sample.
    pub fn add(&self, v: u64) {
        self.cnt.fetch_add(1, Ordering::Relaxed);
        self.sum.fetch_add(v, Ordering::Relaxed);
        self.min_inv.fetch_max(u64::MAX - v, Ordering::Relaxed);
        self.max.fetch_max(v, Ordering::Relaxed);
    }

    /// Forgets every sample (`srst`). A sample added meanwhile may be half counted.
    pub fn reset(&self) {
        for a in [&self.cnt, &self.sum, &self.min_inv, &self.max] {
            a.store(0, Ordering::Relaxed);
        }
    }

    /// (count, sum, min, max); min and max are 0 before the first sample.
    pub fn read(&self) -> (u64, u64, u64, u64) {
        let cnt = self.cnt.load(Ordering::Relaxed);
        let min_inv = self.min_inv.load(Ordering::Relaxed);
        let min = if cnt == 0 { 0 } else { u64::MAX - min_inv };
        (
            cnt,
            self.sum.load(Ordering::Relaxed),
            min,
            self.max.load(Ordering::Relaxed),
        )
    }
}

struct Open {
    file: File,
    path: PathBuf,
    /// Length of the file header; records start here.
    header: u64,
    /// End of the last durable record.
    pos: u64,
    /// Current (preallocated) file size.
    size: u64,
    /// Opened with `O_DIRECT`: the last partial block and the next batch.
    direct: Option<DirectBuf>,
    /// With `O_DIRECT`: the zeros written ahead of `pos`.
    ahead: ZeroAhead,
}

/// The log file and the batch being written: owned by whichever thread writes (the
/// `rzk-txnlog` thread, or the core for an inline round).
pub struct LogWriter {
    opts: WriterOptions,
    committed: UnboundedSender<i64>,
    failures: Sender<Failed>,
    stats: Arc<LogStats>,
    cur: Option<Open>,
    /// In failed mode: the zxid the retry must start at.
    failed_from: Option<i64>,
    /// Pending write: the batches as the core sent them (not copied until written) and
    /// their zxid range.
    pending: Vec<Bytes>,
    /// Scratch for joining several pending batches into one buffered write.
    join: Vec<u8>,
    first: i64,
    last: i64,
    /// Durable zxid the thread has yet to report on `committed`.
    report: Option<i64>,
    /// Where written batches go back to the core, whose next batch reuses their memory.
    recycle: Sender<Bytes>,
}

/// The outcome of one write round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Round {
    /// Nothing was pending.
    Idle,
    /// Everything up to this zxid is durable.
    Durable(i64),
    /// The write failed; the failure was sent to the core.
    Failed,
}

/// The writer as the core and the writer thread share it.
///
/// The mutex is an ownership token, never waited on by the core: the thread holds it only
/// while it works on batches it was sent, and the core takes it (with `try_lock`) only
/// when `queued` says the thread has no batch in hand or on its way.
pub struct Shared {
    state: Mutex<LogWriter>,
    /// Messages sent to the thread and not yet fully processed.
    queued: AtomicUsize,
}

impl Shared {
    /// Shared state for a writer that reports to `committed` and `failures`.
    pub fn new(
        opts: WriterOptions,
        committed: UnboundedSender<i64>,
        failures: Sender<Failed>,
        stats: Arc<LogStats>,
        recycle: Sender<Bytes>,
    ) -> Arc<Shared> {
        Arc::new(Shared {
            state: Mutex::new(LogWriter {
                opts,
                committed,
                failures,
                stats,
                cur: None,
                failed_from: None,
                pending: Vec::new(),
                join: Vec::new(),
                first: 0,
                last: 0,
                report: None,
                recycle,
            }),
            queued: AtomicUsize::new(0),
        })
    }

    /// Sends `msg` to the writer thread, counting it as queued.
    pub fn send(&self, tx: &Sender<ToWriter>, msg: ToWriter) -> bool {
        self.queued.fetch_add(1, Ordering::AcqRel);
        if tx.send(msg).is_err() {
            self.queued.fetch_sub(1, Ordering::AcqRel);
            return false;
        }
        true
    }

    /// Whether the writer thread has nothing in hand or on its way.
    pub fn idle(&self) -> bool {
        self.queued.load(Ordering::Acquire) == 0
    }

    /// Runs `f` on the writer on the caller's thread if the writer thread has nothing in
    /// hand (so the log's order is kept); `None` if it is busy.
    pub fn try_inline<R>(&self, f: impl FnOnce(&mut LogWriter) -> R) -> Option<R> {
        if self.queued.load(Ordering::Acquire) != 0 {
            return None;
        }
        let mut w = self.state.try_lock().ok()?;
        Some(f(&mut w))
    }

    /// The writer thread: runs until the core drops its sender; pending batches are
    /// written first.
    pub fn run(self: Arc<Shared>, rx: Receiver<ToWriter>) {
        let committed = {
            let w = self.state.lock().unwrap_or_else(|p| p.into_inner());
            w.committed.clone()
        };
        while let Ok(msg) = rx.recv() {
            let mut n = 1;
            let report = {
                let mut w = self.state.lock().unwrap_or_else(|p| p.into_inner());
                w.take(msg);
                while let Ok(msg) = rx.try_recv() {
                    w.take(msg);
                    n += 1;
                }
                w.write_and_report();
                w.report.take()
            };
            // Idle before the wake-up, so the core may sync its next batch itself.
            self.queued.fetch_sub(n, Ordering::AcqRel);
            if let Some(z) = report {
                let _ = committed.send(z);
            }
        }
        let mut w = self.state.lock().unwrap_or_else(|p| p.into_inner());
        w.write_and_report();
        if let Some(z) = w.report.take() {
            let _ = committed.send(z);
        }
        debug!("txn log writer stopped");
    }
}

impl LogWriter {
    fn take(&mut self, msg: ToWriter) {
        match msg {
            ToWriter::Batch { bytes, first, last } => {
                self.stats.batches.fetch_add(1, Ordering::Relaxed);
                if self.pending.is_empty() {
                    if !self.accepts(first) {
                        return;
                    }
                    self.first = first;
                }
                self.pending.push(bytes);
                self.last = last;
            }
            ToWriter::Roll => self.roll(),
        }
    }

    /// In failed mode only the retry (the batch starting at the failed zxid) is taken.
    fn accepts(&self, first: i64) -> bool {
        match self.failed_from {
            Some(f) if first != f => {
                debug!(first, "dropping a batch prepared before a failure");
                false
            }
            _ => true,
        }
    }

    /// Closes the current file (after writing what is pending); the next batch starts
    /// `log.<its first zxid>`.
    fn roll(&mut self) {
        self.write_and_report();
        if let Some(o) = self.cur.take() {
            debug!(file = %o.path.display(), "txn log rolled");
        }
    }

    /// Writes the thread's pending batches; what became durable is to be reported.
    fn write_and_report(&mut self) {
        if let Round::Durable(z) = self.write_pending() {
            self.report = Some(z);
        }
    }

    /// The core's inline round: writes `bytes` (records for `first..=last`) and syncs,
    /// returning what became durable. A failure is reported as from the thread. `None`
    /// when no log file is open: creating one (a create, a header fsync, a rename and a
    /// directory fsync: several ms on a slow disk) is left to the thread, where it holds
    /// up only writes, not every request the core would have answered meanwhile.
    pub fn write_batch(&mut self, bytes: &[u8], first: i64, last: i64) -> Option<Round> {
        self.cur.as_ref()?;
        self.stats.batches.fetch_add(1, Ordering::Relaxed);
        if !self.accepts(first) {
            return Some(Round::Idle);
        }
        let r = self.write_range(&[bytes], first, last);
        if matches!(r, Round::Durable(_)) {
            self.stats.inline_syncs.fetch_add(1, Ordering::Relaxed);
        }
        Some(r)
    }

    fn injected_fault(&self) -> io::Result<()> {
        match &self.opts.fault {
            Some(f) if f.load(Ordering::Relaxed) => {
                Err(io::Error::other("No space left on device (injected)"))
            }
            _ => Ok(()),
        }
    }

    fn write_pending(&mut self) -> Round {
        if self.pending.is_empty() {
            return Round::Idle;
        }
        let mut pending = std::mem::take(&mut self.pending);
        let round = self.write_range(&pending, self.first, self.last);
        for b in pending.drain(..) {
            // The core may have stopped; then the batch is simply freed.
            let _ = self.recycle.send(b);
        }
        self.pending = pending;
        round
    }

    /// Writes and syncs the records for `first..=last`; on failure cuts the file back,
    /// enters failed mode and tells the core.
    fn write_range<B: AsRef<[u8]>>(&mut self, data: &[B], first: i64, last: i64) -> Round {
        match self.write_and_sync(data, first) {
            Ok(()) => {
                if self.failed_from.take().is_some() {
                    info!(zxid = format_args!("0x{first:x}"), "txn log writable again");
                }
                self.stats.durable.store(last, Ordering::Release);
                self.stats.syncs.fetch_add(1, Ordering::Relaxed);
                let txns = u64::try_from(last.saturating_sub(first).saturating_add(1));
                self.stats.round_txns.add(txns.unwrap_or(0));
                Round::Durable(last)
            }
            Err(e) => {
                self.stats.failures.fetch_add(1, Ordering::Relaxed);
                error!(
                    first = format_args!("0x{first:x}"),
                    last = format_args!("0x{last:x}"),
                    error = %e,
                    "txn log write failed; these writes are answered with an error and not applied"
                );
                self.cut_back();
                self.failed_from = Some(first);
                let _ = self.failures.send(Failed {
                    first,
                    last,
                    error: e.to_string(),
                });
                // Wake the core so it sees the failure (a zxid it already has is a no-op).
                let _ = self.committed.send(0);
                Round::Failed
            }
        }
    }

    /// Opens `log.<first>` with its header if no file is open. The file gets its name
    /// only once the header is in it (written under `tmp.log.<first>`, then renamed): a
    /// crash between creating the file and its first write must not leave an empty
    /// `log.<first>`, which ZooKeeper cannot start from (EOFException reading the header).
    fn ensure_open(&mut self, first: i64) -> io::Result<()> {
        if self.cur.is_some() {
            return Ok(());
        }
        let name = files::log_name(first);
        let path = self.opts.dir.join(&name);
        let tmp = self.opts.dir.join(format!("tmp.{name}"));
        // Recovery has made everything below `first` durable elsewhere, so a file of this
        // name can only hold undurable leftovers: start it afresh.
        let (mut file, mut direct) = self.create(&tmp)?;
        let mut h = BytesMut::new();
        FileHeader::txn_log().encode(&mut h);
        let header = h.len() as u64;
        let mut first_write = write_at(&file, direct.as_mut(), &mut self.join, &[&h[..]], 0);
        if direct.is_some()
            && matches!(&first_write, Err(e) if e.raw_os_error() == Some(libc::EINVAL))
        {
            // The filesystem opened the file for O_DIRECT but refuses 4 KiB-aligned
            // writes (a larger alignment): write through the page cache from now on.
            warn!(dir = %self.opts.dir.display(),
                "O_DIRECT writes of 4 KiB blocks refused; writing the txn log through the page cache");
            self.opts.direct = false;
            (file, direct) = self.create(&tmp)?;
            first_write = write_at(&file, None, &mut self.join, &[&h[..]], 0);
        }
        let named = first_write.and_then(|_| {
            if self.opts.force_sync {
                file.sync_data()?;
            }
            fs::rename(&tmp, &path)
        });
        if let Err(e) = named {
            let _ = fs::remove_file(&tmp);
            return Err(e);
        }
        if let Some(d) = direct.as_mut() {
            d.keep_tail();
        }
        if let Err(e) = files::sync_dir(&self.opts.dir) {
            warn!(dir = %self.opts.dir.display(), error = %e, "cannot sync the log directory");
        }
        self.cur = Some(Open {
            file,
            path,
            header,
            pos: header,
            size: header,
            direct,
            ahead: ZeroAhead::default(),
        });
        Ok(())
    }

    /// Creates (truncating) a log file, with `O_DIRECT` if wanted and the filesystem
    /// allows it.
    fn create(&mut self, path: &std::path::Path) -> io::Result<(File, Option<DirectBuf>)> {
        let mut o = OpenOptions::new();
        o.create(true).read(true).write(true).truncate(true);
        let want = self.opts.direct && self.opts.force_sync;
        let (file, direct) = open_maybe_direct(&o, path, want)?;
        if want && !direct {
            warn!(dir = %self.opts.dir.display(),
                "the filesystem refuses O_DIRECT; writing the txn log through the page cache");
            self.opts.direct = false;
        }
        Ok((file, direct.then(DirectBuf::default)))
    }

    fn write_and_sync<B: AsRef<[u8]>>(&mut self, data: &[B], first: i64) -> io::Result<()> {
        self.ensure_open(first)?;
        self.injected_fault()?;
        let prealloc = self.opts.prealloc;
        let Some(o) = self.cur.as_mut() else {
            return Err(io::Error::other("no log file"));
        };
        let len: usize = data.iter().map(|b| b.as_ref().len()).sum();
        let end = o.pos + len as u64;
        // FilePadding: within 4 KiB of the end, grow by preAllocSize, sparse (ZooKeeper
        // writes one zero byte at the new end; a direct write cannot be one byte long).
        if prealloc > 0 && end + 4096 >= o.size {
            let new_size = (end + 4096 + prealloc) / prealloc * prealloc;
            if o.direct.is_some() {
                o.file.set_len(new_size)?;
            } else {
                o.file.write_all_at(&[0], new_size - 1)?;
            }
            o.size = new_size;
        }
        let tail = o.direct.as_ref().map_or(0, |d| d.len());
        let io_start = Instant::now();
        let written = write_at(&o.file, o.direct.as_mut(), &mut self.join, data, o.pos);
        if o.direct.is_some() && written.is_ok() {
            o.ahead.fill(&o.file, end, o.size);
        }
        // A direct write is the data's I/O, which a buffered write leaves to the fsync:
        // the fsync time counts it, so it means what ZooKeeper's fsynctime means.
        let direct_write = match o.direct {
            Some(_) => io_start.elapsed(),
            None => Duration::ZERO,
        };
        let written = written.and_then(|_| {
            if self.opts.force_sync {
                if !self.opts.fsync_delay.is_zero() {
                    std::thread::sleep(self.opts.fsync_delay);
                }
                let t = Instant::now();
                o.file.sync_data()?;
                let took = direct_write + t.elapsed();
                let avg = &self.stats.fsync_avg_us;
                let us = took.as_micros().min(u64::MAX as u128) as u64;
                self.stats.fsync_ms.add(us / 1000);
                avg.store(
                    (avg.load(Ordering::Relaxed) * 7 + us) / 8,
                    Ordering::Relaxed,
                );
                if took > self.opts.fsync_warn {
                    warn!(
                        file = %o.path.display(),
                        ms = took.as_millis() as u64,
                        "fsync-ing the write ahead log took longer than fsync.warningthresholdms"
                    );
                }
            }
            Ok(())
        });
        if let Some(d) = o.direct.as_mut() {
            match written {
                Ok(()) => d.keep_tail(),
                Err(_) => d.truncate(tail),
            }
        }
        written?;
        o.pos = end;
        Ok(())
    }

    /// After a failed write: cut the file back to the last durable record so no partial
    /// record stays at the tail (truncating needs no free space). A file that holds no
    /// durable record yet is removed.
    fn cut_back(&mut self) {
        let Some(o) = self.cur.as_mut() else { return };
        if o.pos <= o.header {
            let path = o.path.clone();
            self.cur = None;
            if let Err(e) = fs::remove_file(&path) {
                error!(file = %path.display(), error = %e, "cannot remove a txn log without records");
            }
            return;
        }
        match o.file.set_len(o.pos).and_then(|_| o.file.sync_all()) {
            Ok(()) => {
                o.size = o.pos;
                o.ahead.cut(o.pos);
            }
            Err(e) => {
                error!(file = %o.path.display(), offset = o.pos, error = %e,
                    "cannot truncate the txn log after a failed write; closing it");
                // Start a new file on the next write; recovery truncates a torn tail.
                self.cur = None;
            }
        }
    }
}

/// Writes the parts of `data` back to back at `pos`, with one write: for a direct file as
/// whole aligned blocks starting with the file's last partial block (held in `direct`,
/// which gets the parts appended); otherwise as is, joined in `join` if there are several.
fn write_at<B: AsRef<[u8]>>(
    file: &File,
    direct: Option<&mut DirectBuf>,
    join: &mut Vec<u8>,
    data: &[B],
    pos: u64,
) -> io::Result<()> {
    match (direct, data) {
        (Some(d), _) => {
            debug_assert_eq!(d.len() as u64, pos % BLOCK as u64);
            for part in data {
                d.push(part.as_ref());
            }
            file.write_all_at(d.padded(), pos / BLOCK as u64 * BLOCK as u64)
        }
        (None, [one]) => file.write_all_at(one.as_ref(), pos),
        (None, _) => {
            join.clear();
            for part in data {
                join.extend_from_slice(part.as_ref());
            }
            file.write_all_at(join, pos)
        }
    }
}
