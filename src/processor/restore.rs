//! The core's side of persistence: registering sessions restored from disk, and rolling
//! back txns the log could not make durable (disk full, I/O error).
//!
//! A failed write is answered, not retried: every in-flight txn from the failed zxid on is
//! dropped unapplied, each client request gets `SystemError` (-1) on its still-open
//! connection — ZooKeeper itself would stop, and the client would see a connection loss
//! — so reads keep being served and the client learns at once that the write did not
//! happen. A new session whose createSession failed is closed (the client retries the
//! handshake); a session whose close failed is live again and expires later. The zxids are
//! reused by the next writes, which the log treats as the retry.

use super::{Core, Inflight, Origin};
use crate::persist::Failed;
use jute::txn::TxnBody;
use jute::Code;
use tracing::error;

impl Core {
    /// Registers a session recovered from the snapshot and log, with a full timeout to
    /// reconnect (as ZooKeeper does after loading its database).
    pub fn restore_session(&mut self, id: i64, timeout_ms: u32) {
        let now = self.now_ms();
        self.sessions.add(id, timeout_ms, now);
    }

    /// Fails every in-flight txn with zxid `>= f.first` (see the module doc).
    pub(super) fn fail_from(&mut self, f: Failed) {
        // Everything below the failed write is durable: apply it first.
        self.commit_up_to(f.first - 1);
        let failed: Vec<Inflight> = self.inflight.drain(..).collect();
        let Some(first) = failed.first() else { return };
        let first_zxid = first.entry.header.zxid;
        error!(
            first = format_args!("0x{first_zxid:x}"),
            count = failed.len(),
            error = %f.error,
            "txn log write failed: answering these writes with SystemError; reads continue"
        );
        self.last_zxid = first_zxid - 1;
        // Every outstanding change belonged to a failed txn.
        self.outstanding = Default::default();
        let now = self.now_ms();
        let zxid = self.tree.last_processed_zxid;
        for inf in failed {
            let h = &inf.entry.header;
            let (session, txn_zxid) = (h.client_id, h.zxid);
            if let TxnBody::CloseSession(_) = inf.entry.body {
                // The session stays; it can be closed or expire again.
                if let Some(t) = self.sessions.get(session).map(|s| s.timeout_ms) {
                    self.sessions.add(session, t, now);
                }
            }
            match inf.origin {
                Origin::Server => {}
                Origin::Client { conn, xid, .. } => {
                    self.reply_header(conn, xid, zxid, Code::SystemError.code());
                    self.after_write(conn, txn_zxid);
                }
                Origin::NewSession { conn, .. } => {
                    self.sessions.remove(session);
                    self.session_conn.remove(&session);
                    self.close_conn(conn);
                }
            }
        }
    }
}
