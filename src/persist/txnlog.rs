//! The file-backed txn log the core writes to: ZooKeeper's `log.<first zxid hex>` format
//! (PROTOCOL.md §6.2) with group commit.
//!
//! [`FileTxnLog::append`] encodes each entry (`adler32, len, entry, 0x42`) into a batch
//! buffer on the core's thread; [`FileTxnLog::flush`] hands the batch to the writer thread
//! ([`super::writer`]) and returns `None`: the writer reports durability later on the
//! core's `committed` channel. When the core has nothing else queued, `flush_idle` writes
//! a small batch on the core's thread if the writer thread is idle, and returns the durable
//! zxid at once: two cross-thread wake-ups fewer per write at low load. No lock is waited
//! on in either path (std channels, atomics, and a `try_lock` that the idle writer leaves
//! free).
//!
//! Entries are written as the core built them: with ZooKeeper's TxnDigest (the tree digest
//! after the txn, computed when it was prepared) unless `digest.enabled=false`; error txns
//! carry none, as in ZooKeeper.
//!
//! Snapshots: after `snapCount/2 + rand(snapCount/2)` txns (as SyncRequestProcessor) the
//! log rolls to a new file and a fuzzy snapshot starts ([`super::snapjob`]); if one is
//! still running the new one is skipped with a warning, as ZooKeeper does.

use crate::config::Config;
use crate::persist::snapjob::SnapJob;
use crate::persist::snapshot::WalkSpare;
use crate::persist::writer::{LogStats, Round, Shared, ToWriter, WriterOptions};
use crate::persist::{files, Failed, TxnLog};
use crate::session::SessionTracker;
use crate::tree::DataTree;
use bytes::{Bytes, BytesMut};
use jute::file::LogRecord;
use jute::txn::TxnEntry;
use rand::Rng;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use tokio::sync::mpsc::UnboundedSender;
use tracing::{info, warn};

/// Everything the log needs to know (from zoo.cfg, plus test hooks).
#[derive(Debug, Clone)]
pub struct LogOptions {
    /// Writer settings (log dir, preallocation, fsync).
    pub writer: WriterOptions,
    /// The snapshot version-2 directory.
    pub snap_dir: PathBuf,
    /// `snapCount`; 0 disables snapshots after start-up.
    pub snap_count: u64,
    /// Snapshot from a forked child (see [`SnapJob::fork`]) rather than on the core task.
    pub snapshot_fork: bool,
    /// With `snapshot_fork`, fork only for a tree whose snapshot would be at least this
    /// large (see [`super::snapjob::fork_pays`]); smaller trees are walked in-core.
    pub snapshot_fork_min_bytes: u64,
    /// Let `flush_idle` write small batches on the core's thread (`rzk.log.inlineSync`).
    pub inline_sync: bool,
    /// While the moving average of fsync times (µs) is above this, batches go to the
    /// writer thread, so that reads are not held up behind a slow or busy disk.
    pub inline_slow_us: u64,
}

/// A new batch buffer's capacity (it grows when a batch needs more).
const BATCH_CAPACITY: usize = 64 * 1024;
/// Returned batch buffers with more capacity than this are freed rather than kept for
/// reuse, so that one burst does not hold its memory for good.
const BATCH_KEEP_MAX: usize = 4 << 20;

/// The largest batch the core writes itself; bigger ones go to the writer thread.
const INLINE_MAX: usize = 64 * 1024;
/// The default [`LogOptions::inline_slow_us`]: 1 ms.
const INLINE_SLOW_US: u64 = 1000;
/// How long batches go to the writer thread once the core has seen a load the thread
/// serves better (see `processor::run`): a pipelined one, or reads waiting behind fsyncs.
const INLINE_HOLD_OFF: Duration = Duration::from_millis(1000);

impl LogOptions {
    /// Options from the server configuration.
    pub fn from_config(cfg: &Config) -> LogOptions {
        LogOptions {
            writer: WriterOptions {
                dir: files::version_dir(&cfg.data_log_dir),
                prealloc: cfg.pre_alloc_size_kb.saturating_mul(1024),
                force_sync: cfg.force_sync,
                direct: cfg.log_direct_io,
                fsync_warn: Duration::from_millis(cfg.fsync_warning_threshold_ms),
                fsync_delay: Duration::ZERO,
                fault: None,
            },
            snap_dir: files::version_dir(&cfg.data_dir),
            snap_count: cfg.snap_count.max(2),
            snapshot_fork: cfg.snapshot_fork,
            snapshot_fork_min_bytes: cfg.snapshot_fork_min_bytes,
            inline_sync: cfg.log_inline_sync,
            inline_slow_us: INLINE_SLOW_US,
        }
    }
}

/// The group-committing txn log (see the module doc).
pub struct FileTxnLog {
    opts: LogOptions,
    batch: BytesMut,
    /// Batches the writer thread has written, returned so their memory is reused.
    recycled: Receiver<Bytes>,
    first: i64,
    last: i64,
    tx: Option<Sender<ToWriter>>,
    shared: Arc<Shared>,
    /// No inline rounds before this (a hold-off, see [`INLINE_HOLD_OFF`]).
    inline_off_until: Option<Instant>,
    failures: Receiver<Failed>,
    writer: Option<JoinHandle<()>>,
    wake: UnboundedSender<i64>,
    /// Buffers a forked snapshot walk reuses.
    spare: WalkSpare,
    /// Counters shared with the writer thread.
    pub stats: Arc<LogStats>,
    since_snap: u64,
    threshold: u64,
    snap_wanted: bool,
    job: Option<SnapJob>,
}

fn threshold(snap_count: u64) -> u64 {
    let half = snap_count / 2;
    half + rand::thread_rng().gen_range(0..half.max(1))
}

impl FileTxnLog {
    /// Starts the writer thread. `last_zxid` is the last txn already durable (recovery);
    /// durability and failure wake-ups go to `committed`.
    pub fn start(
        opts: LogOptions,
        last_zxid: i64,
        committed: UnboundedSender<i64>,
    ) -> std::io::Result<FileTxnLog> {
        std::fs::create_dir_all(&opts.writer.dir)?;
        std::fs::create_dir_all(&opts.snap_dir)?;
        let (tx, rx) = channel();
        let (ftx, frx) = channel();
        let (recycle_tx, recycled) = channel();
        let stats = Arc::new(LogStats::default());
        stats.durable.store(last_zxid, Ordering::Release);
        let shared = Shared::new(
            opts.writer.clone(),
            committed.clone(),
            ftx,
            stats.clone(),
            recycle_tx,
        );
        let w = shared.clone();
        let writer = std::thread::Builder::new()
            .name("rzk-txnlog".into())
            .spawn(move || w.run(rx))?;
        let threshold = threshold(opts.snap_count);
        Ok(FileTxnLog {
            opts,
            batch: BytesMut::with_capacity(BATCH_CAPACITY),
            recycled,
            first: 0,
            last: 0,
            tx: Some(tx),
            shared,
            inline_off_until: None,
            failures: frx,
            writer: Some(writer),
            wake: committed,
            spare: WalkSpare::default(),
            stats,
            since_snap: 0,
            threshold,
            snap_wanted: false,
            job: None,
        })
    }

    /// Before serving: allocates what the first forked snapshot of `tree` needs, so that
    /// it does not stall the core then (see [`super::snapjob::warm`]).
    pub fn warm_snapshot_buffers(&mut self, tree: &DataTree) {
        if self.opts.snapshot_fork {
            super::snapjob::warm(&mut self.spare, tree, &self.opts.snap_dir);
        }
    }

    /// Asks for a snapshot (and log roll) at the next batch end, whatever the txn count.
    pub fn request_snapshot(&mut self) {
        self.since_snap = u64::MAX / 2;
    }

    /// Whether a fuzzy snapshot is being written.
    pub fn snapshot_running(&self) -> bool {
        self.job.is_some()
    }

    fn send(&mut self, m: ToWriter) {
        if let Some(tx) = &self.tx {
            if !self.shared.send(tx, m) {
                warn!("txn log writer thread is gone");
            }
        }
    }

    /// Writes the batch on this thread if that is allowed and the writer thread is idle;
    /// `Some` with the outcome if it did.
    fn write_inline(&mut self) -> Option<Round> {
        if !self.inline_allowed() || self.batch.is_empty() || self.batch.len() > INLINE_MAX {
            return None;
        }
        self.inline_off_until = None;
        let (first, last) = (self.first, self.last);
        let batch = &self.batch;
        let round = self
            .shared
            .try_inline(|w| w.write_batch(batch, first, last))
            .flatten()?;
        self.batch.clear();
        Some(round)
    }

    /// An empty buffer for the next batch: one the writer thread has finished with when
    /// there is one, so that in steady state batches neither allocate, nor grow by
    /// copying, nor touch fresh memory. Each batch is a buffer of its own (never a split
    /// of a shared one), so a returned batch is unique and can be reused.
    fn spare_batch(&mut self) -> BytesMut {
        while let Ok(b) = self.recycled.try_recv() {
            if let Ok(mut m) = b.try_into_mut() {
                if m.capacity() <= BATCH_KEEP_MAX {
                    m.clear();
                    return m;
                }
            }
        }
        BytesMut::with_capacity(BATCH_CAPACITY)
    }

    /// Inline rounds are on, not held off, and fsyncs are fast.
    fn inline_allowed(&self) -> bool {
        self.opts.inline_sync
            && self.stats.fsync_avg_us.load(Ordering::Relaxed) <= self.opts.inline_slow_us
            && self
                .inline_off_until
                .is_none_or(|until| Instant::now() >= until)
    }

    /// After each batch: roll the log and ask for a snapshot every `threshold` txns.
    fn roll_if_due(&mut self) {
        if self.opts.snap_count > 0 && self.since_snap > self.threshold {
            self.since_snap = 0;
            self.threshold = threshold(self.opts.snap_count);
            self.send(ToWriter::Roll);
            if self.job.is_some() {
                warn!("too busy to snap, skipping");
            } else {
                self.snap_wanted = true;
            }
        }
    }
}

impl TxnLog for FileTxnLog {
    fn append(&mut self, entry: &TxnEntry) {
        if self.batch.is_empty() {
            self.first = entry.header.zxid;
        }
        LogRecord::put_with(&mut self.batch, |out| entry.encode(out));
        self.last = entry.header.zxid;
        self.since_snap += 1;
    }

    fn flush(&mut self) -> Option<i64> {
        if !self.batch.is_empty() {
            let next = self.spare_batch();
            let bytes = std::mem::replace(&mut self.batch, next).freeze();
            let (first, last) = (self.first, self.last);
            self.send(ToWriter::Batch { bytes, first, last });
        }
        self.roll_if_due();
        None
    }

    fn flush_idle(&mut self) -> Option<i64> {
        match self.write_inline() {
            Some(round) => {
                self.roll_if_due();
                match round {
                    Round::Durable(z) => Some(z),
                    Round::Idle | Round::Failed => None,
                }
            }
            None => self.flush(),
        }
    }

    fn inline_ready(&self) -> bool {
        self.inline_allowed() && self.shared.idle()
    }

    fn hold_off_inline(&mut self) {
        self.inline_off_until = Some(Instant::now() + INLINE_HOLD_OFF);
    }

    fn take_failure(&mut self) -> Option<Failed> {
        self.failures.try_recv().ok()
    }

    fn stats(&self) -> Option<&LogStats> {
        Some(&self.stats)
    }

    fn between_batches(&mut self, tree: &DataTree, sessions: &SessionTracker) {
        if let Some(job) = self.job.as_mut() {
            if !job.is_finished() {
                job.step(tree);
                return;
            }
            if let Some(job) = self.job.take() {
                job.join();
            }
        }
        if !self.snap_wanted {
            return;
        }
        self.snap_wanted = false;
        let fsync = self.opts.writer.force_sync;
        let sessions = sessions.iter().map(|s| (s.id, s.timeout_ms));
        match SnapJob::start(
            self.opts.snap_dir.clone(),
            tree,
            sessions,
            &mut self.spare,
            self.wake.clone(),
            fsync,
            self.opts.snapshot_fork
                && super::snapjob::fork_pays(tree, self.opts.snapshot_fork_min_bytes),
        ) {
            Ok(mut job) => {
                info!(
                    zxid = format_args!("0x{:x}", job.zxid()),
                    forked = job.is_forked(),
                    "creating new snapshot"
                );
                self.stats.snapshots.fetch_add(1, Ordering::Relaxed);
                if job.is_forked() {
                    self.stats.snapshots_forked.fetch_add(1, Ordering::Relaxed);
                }
                job.step(tree);
                self.job = Some(job);
            }
            Err(e) => warn!(error = %e, "cannot start a snapshot"),
        }
    }
}

impl Drop for FileTxnLog {
    /// Hands over the last batch and waits for the writer (and a running snapshot).
    fn drop(&mut self) {
        let _ = self.flush();
        self.tx = None;
        if let Some(w) = self.writer.take() {
            let _ = w.join();
        }
        if let Some(job) = self.job.take() {
            job.join();
        }
    }
}
