//! Persistence records: the header of txn-log and snapshot files.

use crate::record;

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
