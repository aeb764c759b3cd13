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

#[cfg(test)]
mod tests {
    use super::super::{Core, Event, Out, Outlet};
    use crate::config::Config;
    use crate::persist::{Failed, TxnLog};
    use crate::tree::DataTree;
    use jute::data::Acl;
    use jute::proto::{ConnectRequest, CreateRequest, ReplyHeader};
    use jute::request::Request;
    use jute::txn::TxnEntry;
    use jute::{Code, Codec, OpCode};
    use std::sync::mpsc::{channel, Receiver, Sender};
    use std::sync::Arc;
    use std::time::Instant;

    /// A log whose durability the test decides: `ok(z)` commits, `fail(f)` fails.
    struct TestLog {
        last: i64,
        verdicts: Receiver<Result<i64, Failed>>,
        pending_fail: Option<Failed>,
    }

    impl TxnLog for TestLog {
        fn append(&mut self, e: &TxnEntry) {
            self.last = e.header.zxid;
        }
        fn flush(&mut self) -> Option<i64> {
            match self.verdicts.try_recv() {
                Ok(Ok(z)) => Some(z.min(self.last)),
                Ok(Err(f)) => {
                    self.pending_fail = Some(f);
                    None
                }
                Err(_) => None,
            }
        }
        fn take_failure(&mut self) -> Option<Failed> {
            self.pending_fail.take()
        }
    }

    fn replies(rx: &mut tokio::sync::mpsc::UnboundedReceiver<Out>) -> Vec<ReplyHeader> {
        let mut v = Vec::new();
        while let Ok(Out::Data(mut b)) = rx.try_recv() {
            while b.len() >= 4 {
                let n = u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize;
                let frame = b.split_to(4 + n);
                if let Ok((_, h)) = ReplyHeader::decode(&frame[4..]) {
                    v.push(h);
                }
            }
        }
        v
    }

    #[test]
    fn failed_writes_get_system_error_and_zxids_are_reused() {
        let (vtx, vrx): (Sender<Result<i64, Failed>>, _) = channel();
        let log = TestLog {
            last: 0,
            verdicts: vrx,
            pending_fail: None,
        };
        let mut core = Core::new(Arc::new(Config::default()), DataTree::new(), Box::new(log));
        let (out, inlet) = Outlet::new(None);
        let mut orx = inlet.rx;
        let peer = "127.0.0.1:5000".parse().unwrap();
        core.handle(Event::Open { conn: 1, peer, out });
        let req = ConnectRequest {
            protocol_version: 0,
            last_zxid_seen: 0,
            timeout: 30000,
            session_id: 0,
            passwd: bytes::Bytes::from_static(&[0; 16]),
            read_only: Some(false),
        };
        let now = Instant::now();
        core.handle(Event::Connect {
            conn: 1,
            req,
            received: now,
        });
        vtx.send(Ok(1)).unwrap();
        core.end_batch(false);
        let _ = orx.try_recv(); // the ConnectResponse
        let create = |path: &str| {
            Request::Create(
                OpCode::Create,
                CreateRequest {
                    path: path.into(),
                    data: None,
                    acl: Acl::open(),
                    flags: 0,
                },
            )
        };
        core.handle(Event::Request {
            conn: 1,
            xid: 1,
            req: create("/a"),
            received: now,
        });
        core.handle(Event::Request {
            conn: 1,
            xid: 2,
            req: create("/a/b"),
            received: now,
        });
        vtx.send(Err(Failed {
            first: 2,
            last: 3,
            error: "disk full".into(),
        }))
        .unwrap();
        core.end_batch(false);
        let r = replies(&mut orx);
        assert_eq!(
            r.iter().map(|h| (h.xid, h.err)).collect::<Vec<_>>(),
            [(1, Code::SystemError.code()), (2, Code::SystemError.code())]
        );
        assert!(core.tree.get("/a").is_none());
        // The retry reuses zxid 2 and succeeds; reads work throughout.
        core.handle(Event::Request {
            conn: 1,
            xid: 3,
            req: create("/a"),
            received: now,
        });
        vtx.send(Ok(2)).unwrap();
        core.end_batch(false);
        let r = replies(&mut orx);
        assert_eq!((r[0].xid, r[0].err, r[0].zxid), (3, 0, 2));
        assert!(core.tree.get("/a").is_some());
    }
}
