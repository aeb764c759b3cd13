//! Persistence: where prepared txns go before they are applied. Until the on-disk txn log
//! lands this is an in-memory log that is durable "immediately"; the core is written
//! against [`TxnLog`] so a file-backed, group-committing log slots in without changes.

use jute::txn::TxnEntry;

/// The log step of the pipeline.
pub trait TxnLog: Send {
    /// Queues an entry for durable storage.
    fn append(&mut self, entry: &TxnEntry);
    /// Ends a batch. Returns the highest zxid now durable if that is known at once;
    /// `None` means durability will be reported later (a `Committed` event).
    fn flush(&mut self) -> Option<i64>;
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
