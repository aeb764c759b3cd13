//! Session handshake and authentication: ConnectRequest (new session or reconnect) and
//! auth packets.

use super::{Core, Origin, Queued};
use crate::acl;
use crate::session::password;
use crate::watch::ConnId;
use bytes::Bytes;
use jute::data::Id;
use jute::proto::{AuthPacket, ConnectRequest, ConnectResponse, ReplyHeader};
use jute::{Code, Codec};
use std::time::Instant;
use tracing::{info, warn};

impl Core {
    /// Handles the handshake: refuse clients that are ahead of us, then create a session
    /// (a txn, answered when applied) or revalidate an existing one (answered at once).
    pub(super) fn on_connect(&mut self, conn_id: ConnId, req: ConnectRequest, received: Instant) {
        let Some(conn) = self.conns.get(&conn_id) else {
            return;
        };
        let peer = conn.peer;
        if req.last_zxid_seen > self.tree.last_processed_zxid {
            info!(
                session = format_args!("0x{:x}", req.session_id),
                %peer,
                "refusing session request: client has seen zxid 0x{:x}, our last zxid is 0x{:x}; client must try another server",
                req.last_zxid_seen,
                self.tree.last_processed_zxid
            );
            self.close_conn(conn_id);
            return;
        }
        let timeout = (req.timeout.max(0) as u32).clamp(
            self.cfg.min_session_timeout_ms,
            self.cfg
                .max_session_timeout_ms
                .max(self.cfg.min_session_timeout_ms),
        );
        let now = self.now_ms();
        if req.session_id == 0 {
            let id = self.sessions.next_id();
            self.sessions.add(id, timeout, now);
            self.bind(conn_id, id);
            let origin = Origin::NewSession {
                conn: conn_id,
                timeout: timeout as i32,
                read_only: req.read_only,
                received,
            };
            self.propose_session(conn_id, id, timeout as i32, origin);
            return;
        }
        let id = req.session_id;
        // As ZooKeeper: the session's previous connection is closed before the password
        // is even checked.
        if let Some(old) = self.session_conn.get(&id).copied() {
            if old != conn_id {
                info!(
                    session = format_args!("0x{id:x}"),
                    "closing the session's previous connection"
                );
                self.close_conn(old);
            }
        }
        let valid = req.passwd.as_ref() == password(id) && self.sessions.is_live(id);
        if !valid {
            info!(session = format_args!("0x{id:x}"), %peer, "invalid session on reconnect: expired or wrong password");
            let resp = ConnectResponse {
                protocol_version: 0,
                timeout: 0,
                session_id: 0,
                passwd: Bytes::from_static(&[0; 16]),
                read_only: req.read_only.map(|_| false),
            };
            self.frame(conn_id, |o| resp.encode(o));
            self.close_conn(conn_id);
            return;
        }
        self.sessions.set_timeout(id, timeout, now);
        self.bind(conn_id, id);
        let resp = ConnectResponse {
            protocol_version: 0,
            timeout: timeout as i32,
            session_id: id,
            passwd: Bytes::copy_from_slice(&password(id)),
            read_only: req.read_only.map(|_| false),
        };
        self.frame(conn_id, |o| resp.encode(o));
        self.record_latency(
            conn_id,
            jute::OpCode::CreateSession,
            0,
            self.tree.last_processed_zxid,
            received,
        );
        info!(session = format_args!("0x{id:x}"), %peer, timeout, "session reestablished");
    }

    fn bind(&mut self, conn_id: ConnId, session: i64) {
        if let Some(c) = self.conns.get_mut(&conn_id) {
            c.session = Some(session);
        }
        self.session_conn.insert(session, conn_id);
    }

    /// Logs the createSession txn of a new session.
    fn propose_session(&mut self, conn_id: ConnId, id: i64, timeout: i32, origin: Origin) {
        use jute::txn::{CreateSessionTxn, TxnBody, TxnEntry, TxnHeader};
        let zxid = self.last_zxid + 1;
        let header = TxnHeader {
            client_id: id,
            cxid: 0,
            zxid,
            time: super::wall_ms(),
            kind: jute::OpCode::CreateSession.code(),
        };
        let entry = TxnEntry {
            header,
            body: TxnBody::CreateSession(CreateSessionTxn { timeout }),
            digest: self.cfg.digest_enabled.then(|| self.txn_digest()),
        };
        self.append(entry, Vec::new(), origin);
        if let Some(c) = self.conns.get_mut(&conn_id) {
            c.queue.push_back(Queued::Write(zxid));
        }
    }

    /// Answers the handshake of a new session once its txn is applied.
    pub(super) fn finish_new_session(
        &mut self,
        conn_id: ConnId,
        id: i64,
        timeout: i32,
        read_only: Option<bool>,
        received: Instant,
    ) {
        let resp = ConnectResponse {
            protocol_version: 0,
            timeout,
            session_id: id,
            passwd: Bytes::copy_from_slice(&password(id)),
            read_only: read_only.map(|_| false),
        };
        self.frame(conn_id, |o| resp.encode(o));
        self.record_latency(
            conn_id,
            jute::OpCode::CreateSession,
            0,
            self.tree.last_processed_zxid,
            received,
        );
        if let Some(c) = self.conns.get(&conn_id) {
            info!(session = format_args!("0x{id:x}"), peer = %c.peer, timeout, "established session");
        }
    }

    /// `addauth`: digest adds `digest:user:hash` (and `super` for the super digest), ip
    /// re-adds the peer address; anything else fails and closes, as in ZooKeeper.
    pub(super) fn on_auth(&mut self, conn_id: ConnId, a: AuthPacket) {
        let Some(conn) = self.conns.get_mut(&conn_id) else {
            return;
        };
        let ok = match a.scheme.as_str() {
            "digest" => match std::str::from_utf8(&a.auth) {
                Ok(s) => {
                    let id = acl::digest_id(s);
                    let is_super = self.cfg.super_digest.as_deref() == Some(id.as_str());
                    let new = Id::new("digest", &id);
                    if !conn.ids.contains(&new) {
                        conn.ids.push(new);
                    }
                    if is_super && !conn.ids.iter().any(|i| i.scheme == "super") {
                        conn.ids.push(Id::new("super", ""));
                    }
                    true
                }
                Err(_) => false,
            },
            "ip" => {
                let new = Id::new("ip", &conn.peer.ip().to_string());
                if !conn.ids.contains(&new) {
                    conn.ids.push(new);
                }
                true
            }
            _ => false,
        };
        let xid = jute::consts::xid::AUTH;
        if ok {
            self.frame(conn_id, |o| {
                ReplyHeader {
                    xid,
                    zxid: 0,
                    err: 0,
                }
                .encode(o)
            });
        } else {
            warn!(scheme = %a.scheme, "authentication failed: no provider for scheme; closing connection");
            self.frame(conn_id, |o| {
                ReplyHeader {
                    xid,
                    zxid: 0,
                    err: Code::AuthFailed.code(),
                }
                .encode(o)
            });
            self.close_conn(conn_id);
        }
    }
}
