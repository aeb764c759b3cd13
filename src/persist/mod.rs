//! Persistence in ZooKeeper's own on-disk format (PROTOCOL.md §6), so a data directory
//! moves between rzk and ZooKeeper 3.8 in both directions.
//!
//! - [`txnlog`]: the group-committing txn log (`log.<zxid>`), written by a dedicated
//!   writer thread; the core appends into a batch buffer and learns about durability on
//!   its `committed` channel.
//! - [`snapshot`]: snapshot files (`snapshot.<zxid>`): reading, and a *fuzzy* writer the
//!   core drives in bounded chunks between batches while writes continue.
//! - [`recovery`]: start-up: newest valid snapshot + log replay through the same
//!   [`crate::processor::apply::Applier`] the live server uses.
//! - [`purge`]: autopurge (keep the N newest snapshots and the logs they need).
//! - [`dump`]: `rzk log dump` / `rzk snapshot dump`.
//!
//! The core is written against [`TxnLog`]; [`MemLog`] remains for tests and tools that
//! need no disk.

pub mod direct;
pub mod dump;
pub mod files;
pub mod logfile;
pub mod purge;
pub mod recovery;
pub mod snapjob;
pub mod snapshot;
pub mod txnlog;
pub mod writer;

use crate::session::SessionTracker;
use crate::tree::DataTree;
use jute::txn::TxnEntry;
use std::fmt;
use std::path::{Path, PathBuf};

/// Txns the log could not make durable: every txn with a zxid `>= first` that the core
/// has in flight must be answered with an error and never applied. Everything below
/// `first` is durable when this is reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failed {
    /// First zxid of the write that failed.
    pub first: i64,
    /// Last zxid of that write (informational: later in-flight txns fail too).
    pub last: i64,
    /// The I/O error, for logs.
    pub error: String,
}

/// The log step of the pipeline.
pub trait TxnLog: Send {
    /// Queues an entry for durable storage.
    fn append(&mut self, entry: &TxnEntry);
    /// Ends a batch. Returns the highest zxid now durable if that is known at once;
    /// `None` means durability will be reported later (a `Committed` event).
    fn flush(&mut self) -> Option<i64>;
    /// Ends a batch when the caller has nothing else queued: the log may make the batch
    /// durable on the caller's thread (returning `Some`, as `flush` may) rather than hand it
    /// to another thread and report later.
    fn flush_idle(&mut self) -> Option<i64> {
        self.flush()
    }
    /// Requests waited while `flush_idle` synced on the caller's thread and would have
    /// gained from another thread's syncing: leave it to that thread for a while.
    fn hold_off_inline(&mut self) {}
    /// Whether `flush_idle` would now sync on the caller's thread (so it is worth letting
    /// other ready work in first).
    fn inline_ready(&self) -> bool {
        false
    }
    /// A write that failed since the last call (disk full, I/O error), reported once.
    /// The core answers the affected requests with an error; see [`Failed`].
    fn take_failure(&mut self) -> Option<Failed> {
        None
    }
    /// Called by the core after every batch with read access to its state, so background
    /// work that needs the tree (a fuzzy snapshot) progresses in bounded steps.
    fn between_batches(&mut self, _tree: &DataTree, _sessions: &SessionTracker) {}
    /// The writer's counters (fsync times, txns per round) for `mntr`; `None` for a log
    /// that never syncs.
    fn stats(&self) -> Option<&writer::LogStats> {
        None
    }
}

/// An in-memory log: entries are "durable" as soon as the batch ends.
#[derive(Debug, Default)]
pub struct MemLog {
    last: i64,
    /// Number of entries appended (for metrics).
    pub count: u64,
}

impl TxnLog for MemLog {
    fn append(&mut self, entry: &TxnEntry) {
        self.last = entry.header.zxid;
        self.count += 1;
    }
    fn flush(&mut self) -> Option<i64> {
        Some(self.last)
    }
}

/// A persistence error that names the file and, when it applies, the byte offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersistError {
    /// The file (or directory) involved.
    pub path: PathBuf,
    /// Byte offset inside `path` where the problem was found.
    pub offset: Option<u64>,
    /// What is wrong.
    pub msg: String,
}

impl PersistError {
    /// An error about `path` at `offset`.
    pub fn at(path: &Path, offset: u64, msg: impl Into<String>) -> PersistError {
        PersistError {
            path: path.to_owned(),
            offset: Some(offset),
            msg: msg.into(),
        }
    }
    /// An error about `path` as a whole.
    pub fn file(path: &Path, msg: impl Into<String>) -> PersistError {
        PersistError {
            path: path.to_owned(),
            offset: None,
            msg: msg.into(),
        }
    }
    /// An I/O error on `path`.
    pub fn io(path: &Path, e: std::io::Error) -> PersistError {
        PersistError::file(path, e.to_string())
    }
}

impl fmt::Display for PersistError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.offset {
            Some(o) => write!(f, "{} at offset {o}: {}", self.path.display(), self.msg),
            None => write!(f, "{}: {}", self.path.display(), self.msg),
        }
    }
}

impl std::error::Error for PersistError {}

impl From<PersistError> for std::io::Error {
    fn from(e: PersistError) -> std::io::Error {
        std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string())
    }
}

/// What [`start`] hands the server: the recovered tree, restored sessions (id, timeout
/// ms) and the running log.
pub type Started = (DataTree, Vec<(i64, u32)>, Box<dyn TxnLog>);

/// Opens a server's data directories: recovers the tree and sessions
/// ([`recovery::recover`], which also writes the start-up snapshot), starts the txn-log
/// writer reporting on `committed`, and starts autopurge. Blocking; call before serving.
pub fn start(
    cfg: &crate::config::Config,
    committed: tokio::sync::mpsc::UnboundedSender<i64>,
) -> std::io::Result<Started> {
    let rec = recovery::recover(&recovery::RecoveryOptions::from_config(cfg))?;
    let opts = txnlog::LogOptions::from_config(cfg);
    let mut log = txnlog::FileTxnLog::start(opts, rec.tree.last_processed_zxid, committed)?;
    if rec.snapshot_due {
        log.request_snapshot();
    }
    log.warm_snapshot_buffers(&rec.tree);
    purge::start(cfg);
    Ok((rec.tree, rec.sessions, Box::new(log)))
}
