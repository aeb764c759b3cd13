//! The request pipeline: **prepare** (validate, turn writes into txns with zxids) →
//! **log** ([`crate::persist::TxnLog`]) → **apply** (tree, sessions, watches) → **reply**.
//!
//! One task owns the [`Core`]: the tree, sessions, watches and every connection's
//! protocol state. Connection tasks only frame, decode and write bytes; they talk to the
//! core through [`Event`]s and receive [`Out`] chunks. Replies for a connection are
//! accumulated in its buffer during a batch and handed over once per batch.

pub mod apply;
mod connect;
mod outlet;
pub mod prep;
mod read;
mod reply;
// persist: restored sessions and failed log writes (restore.rs).
mod restore;

use crate::acl;
use crate::config::Config;
use crate::fast::HashMap;
use crate::persist::TxnLog;
use crate::session::SessionTracker;
use crate::tree::{DataTree, NodeKind};
use crate::watch::{ConnId, WatchManager};
use apply::{Applier, Trigger, TxnResult};
use bytes::{Bytes, BytesMut};
use jute::data::Id;
use jute::proto::{ConnectRequest, ReplyHeader, WatcherEvent};
use jute::request::Request;
use jute::txn::{ErrorTxn, TxnBody, TxnEntry, TxnHeader};
use jute::{Code, Codec, EventType, KeeperState, OpCode};
use prep::{Outstanding, Prep};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, info};

/// What the core hands a connection's writer.
#[derive(Debug)]
pub enum Out {
    /// Bytes to write (one or more whole frames).
    Data(Bytes),
    /// Close the socket once everything before it is written.
    Close,
}

pub use outlet::{Inlet, Outlet};

/// Input to the core.
#[derive(Debug)]
pub enum Event {
    /// A connection was accepted.
    Open {
        conn: ConnId,
        peer: SocketAddr,
        out: Outlet,
    },
    /// Its first frame: the session handshake.
    Connect {
        conn: ConnId,
        req: ConnectRequest,
        received: Instant,
    },
    /// A request after the handshake.
    Request {
        conn: ConnId,
        xid: i32,
        req: Request,
        received: Instant,
    },
    /// A well-framed request of a known opcode whose body did not decode.
    BadRequest {
        conn: ConnId,
        xid: i32,
        op: OpCode,
        received: Instant,
    },
    /// The socket closed (or the connection task gave up on bad input).
    Closed { conn: ConnId },
    /// The connection task gave up on bad input: write `bytes` (if any) after what is
    /// pending, then close.
    CloseWith { conn: ConnId, bytes: Option<Bytes> },
    /// A four-letter word; the text answer goes back on `reply`.
    FourLetter {
        cmd: String,
        reply: oneshot::Sender<String>,
    },
    /// The log made everything up to `zxid` durable.
    Committed { zxid: i64 },
    /// A four-letter word, AdminServer command or metrics scrape (see `crate::admin`).
    Admin(crate::admin::Query),
}

/// A request waiting behind an earlier write of the same connection.
#[derive(Debug)]
enum Queued {
    /// The connection's write with this zxid has not been applied yet.
    Write(i64),
    /// A read (or session op) to run once the writes before it are applied.
    Read {
        xid: i32,
        req: Request,
        received: Instant,
    },
    /// An error reply (e.g. MarshallingError for an undecodable read) waiting its turn.
    Fail { xid: i32, code: Code },
}

/// Per-connection counters for `stat`, `cons` and `mntr`.
#[derive(Debug, Default, Clone)]
pub struct ConnStats {
    pub received: u64,
    pub sent: u64,
    pub established_ms: i64,
    pub last_op: &'static str,
    pub last_cxid: i32,
    pub last_zxid: i64,
    pub last_response_ms: i64,
    pub last_latency: u64,
    pub min_latency: u64,
    pub max_latency: u64,
    pub total_latency: u64,
    pub count: u64,
}

/// A client connection as the core sees it.
#[derive(Debug)]
pub struct Conn {
    pub peer: SocketAddr,
    out: Outlet,
    /// Frames produced this batch, handed to the writer at the batch end.
    buf: BytesMut,
    pub session: Option<i64>,
    /// Identities for ACL checks: `ip:<addr>` plus what auth packets added.
    pub ids: Vec<Id>,
    queue: VecDeque<Queued>,
    /// Close after the buffered frames are flushed.
    closing: bool,
    pub stats: ConnStats,
}

/// Server-wide counters.
#[derive(Debug, Clone)]
pub struct ServerStats {
    pub packets_received: u64,
    pub packets_sent: u64,
    pub min_latency: u64,
    pub max_latency: u64,
    pub total_latency: u64,
    pub count: u64,
    pub started: Instant,
}

impl ServerStats {
    fn new() -> ServerStats {
        ServerStats {
            packets_received: 0,
            packets_sent: 0,
            min_latency: u64::MAX,
            max_latency: 0,
            total_latency: 0,
            count: 0,
            started: Instant::now(),
        }
    }
    /// Clears latency and packet counters (`srst`).
    pub fn reset(&mut self) {
        let started = self.started;
        *self = ServerStats::new();
        self.started = started;
    }
}

/// Who gets the result of an in-flight txn.
#[derive(Debug)]
enum Origin {
    /// Issued by the server itself (session expiry, container cleanup).
    Server,
    Client {
        conn: ConnId,
        xid: i32,
        op: OpCode,
        received: Instant,
    },
    NewSession {
        conn: ConnId,
        timeout: i32,
        read_only: Option<bool>,
        received: Instant,
    },
}

/// A txn that has been prepared and logged but not yet applied.
#[derive(Debug)]
struct Inflight {
    entry: TxnEntry,
    touched: Vec<String>,
    origin: Origin,
}

/// Wall-clock milliseconds (txn times, Stat ctime/mtime).
pub fn wall_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// The single owner of all server state.
pub struct Core {
    pub cfg: Arc<Config>,
    pub tree: DataTree,
    pub sessions: SessionTracker,
    pub watches: WatchManager,
    pub conns: HashMap<ConnId, Conn>,
    session_conn: HashMap<i64, ConnId>,
    outstanding: Outstanding,
    inflight: VecDeque<Inflight>,
    last_zxid: i64,
    log: Box<dyn TxnLog>,
    /// Whether txns were appended since the log was last flushed.
    unflushed: bool,
    /// Txns appended since start.
    appended: u64,
    /// The last batch was made durable on the core's thread (`TxnLog::flush_idle`).
    synced_inline: bool,
    dirty: Vec<ConnId>,
    triggers: Vec<Trigger>,
    notify: Vec<ConnId>,
    pub stats: ServerStats,
    clock: Instant,
    next_container_check: u64,
}

impl Core {
    /// The txn log writer's counters, for `mntr` (`None` for an in-memory log).
    pub fn log_stats(&self) -> Option<&crate::persist::writer::LogStats> {
        self.log.stats()
    }

    /// `srst`: clears the latency and packet counters and, as ZooKeeper's resetAll does
    /// for its metrics, the log's summaries.
    pub fn reset_server_stats(&mut self) {
        self.stats.reset();
        if let Some(s) = self.log.stats() {
            s.fsync_ms.reset();
            s.round_txns.reset();
        }
    }

    /// A core over `tree` (fresh or recovered) writing txns to `log`.
    pub fn new(cfg: Arc<Config>, tree: DataTree, log: Box<dyn TxnLog>) -> Core {
        let sessions =
            SessionTracker::new(cfg.server_id, wall_ms() as u64, cfg.tick_time_ms as u64);
        let last_zxid = tree.last_processed_zxid;
        let next_container_check = cfg.container_check_interval_ms;
        Core {
            cfg,
            tree,
            sessions,
            watches: WatchManager::default(),
            conns: HashMap::default(),
            session_conn: HashMap::default(),
            outstanding: Outstanding::default(),
            inflight: VecDeque::new(),
            last_zxid,
            log,
            unflushed: false,
            appended: 0,
            synced_inline: false,
            dirty: Vec::new(),
            triggers: Vec::new(),
            notify: Vec::new(),
            stats: ServerStats::new(),
            clock: Instant::now(),
            next_container_check,
        }
    }

    /// Milliseconds on the core's monotonic clock (session expiry).
    pub fn now_ms(&self) -> u64 {
        self.clock.elapsed().as_millis() as u64
    }

    /// Requests received but not yet answered.
    pub fn outstanding_requests(&self) -> usize {
        self.inflight.len() + self.conns.values().map(|c| c.queue.len()).sum::<usize>()
    }

    /// Handles one event.
    pub fn handle(&mut self, ev: Event) {
        match ev {
            Event::Open { conn, peer, out } => {
                let ids = vec![Id::new("ip", &peer.ip().to_string())];
                let stats = ConnStats {
                    established_ms: wall_ms(),
                    min_latency: u64::MAX,
                    ..Default::default()
                };
                let c = Conn {
                    peer,
                    out,
                    buf: BytesMut::new(),
                    session: None,
                    ids,
                    queue: VecDeque::new(),
                    closing: false,
                    stats,
                };
                self.conns.insert(conn, c);
            }
            Event::Connect {
                conn,
                req,
                received,
            } => {
                self.stats.packets_received += 1;
                // admin: the handshake counts as a received packet of the connection (cons).
                if let Some(c) = self.conns.get_mut(&conn) {
                    c.stats.received += 1;
                }
                self.on_connect(conn, req, received)
            }
            Event::Request {
                conn,
                xid,
                req,
                received,
            } => {
                self.stats.packets_received += 1;
                self.on_request(conn, xid, req, received)
            }
            Event::BadRequest {
                conn,
                xid,
                op,
                received,
            } => {
                self.stats.packets_received += 1;
                self.on_bad_request(conn, xid, op, received)
            }
            Event::Closed { conn } => self.drop_conn(conn),
            Event::CloseWith { conn, bytes } => {
                if let (Some(c), Some(b)) = (self.conns.get_mut(&conn), bytes) {
                    if c.buf.is_empty() && !c.closing {
                        self.dirty.push(conn);
                    }
                    c.buf.extend_from_slice(&b);
                }
                self.close_conn(conn);
            }
            Event::FourLetter { cmd, reply } => {
                let _ = reply.send(self.four_letter(&cmd));
            }
            Event::Committed { zxid } => self.commit_up_to(zxid),
            Event::Admin(q) => self.admin(q),
        }
    }

    /// Counts a request on its connection and returns the connection's session; `None`
    /// (closing the connection if it has no session yet) when it must be ignored.
    fn request_session(&mut self, conn_id: ConnId) -> Option<i64> {
        let conn = self.conns.get_mut(&conn_id)?;
        if conn.closing {
            return None;
        }
        conn.stats.received += 1;
        if conn.session.is_none() {
            debug!(
                conn = conn_id,
                "request before the session handshake; closing"
            );
            self.close_conn(conn_id);
        }
        self.conns.get(&conn_id)?.session
    }

    fn on_request(&mut self, conn_id: ConnId, xid: i32, req: Request, received: Instant) {
        let now = self.now_ms();
        let Some(session) = self.request_session(conn_id) else {
            return;
        };
        if let Request::Auth(a) = req {
            return self.on_auth(conn_id, a);
        }
        if let Request::Sasl(_) = req {
            // With no SASL configured, ZooKeeper 3.8 answers OK (zxid 0) with a null token
            // and keeps the connection.
            self.frame(conn_id, |o| {
                ReplyHeader {
                    xid,
                    zxid: 0,
                    err: 0,
                }
                .encode(o);
                jute::proto::SaslToken { token: None }.encode(o);
            });
            return;
        }
        let live = self.sessions.touch(session, now);
        let op = req.opcode();
        if op.is_write() || op == OpCode::Reconfig {
            if !live {
                self.reply_header(
                    conn_id,
                    xid,
                    self.tree.last_processed_zxid,
                    Code::SessionExpired.code(),
                );
                return;
            }
            if op == OpCode::CloseSession {
                self.sessions.set_closing(session);
            }
            let origin = Origin::Client {
                conn: conn_id,
                xid,
                op,
                received,
            };
            self.propose(Some(conn_id), session, xid, &req, origin);
        } else {
            let Some(conn) = self.conns.get_mut(&conn_id) else {
                return;
            };
            if !conn.queue.is_empty() {
                conn.queue.push_back(Queued::Read { xid, req, received });
            } else {
                self.read_or_expired(conn_id, session, xid, req, received);
            }
        }
    }

    /// An undecodable request body: a write still takes a zxid as an error txn, a read gets
    /// MarshallingError in its turn, as in ZooKeeper.
    fn on_bad_request(&mut self, conn_id: ConnId, xid: i32, op: OpCode, received: Instant) {
        let Some(session) = self.request_session(conn_id) else {
            return;
        };
        let code = Code::MarshallingError;
        if op.is_write() || op == OpCode::Reconfig {
            let origin = Origin::Client {
                conn: conn_id,
                xid,
                op,
                received,
            };
            self.propose_result(Some(conn_id), session, xid, wall_ms(), Err(code), origin);
        } else if let Some(conn) = self.conns.get_mut(&conn_id).filter(|c| !c.queue.is_empty()) {
            conn.queue.push_back(Queued::Fail { xid, code });
        } else {
            self.reply_header(conn_id, xid, self.tree.last_processed_zxid, code.code());
        }
    }

    /// Prepares a write into a txn with the next zxid, logs it and tracks it until applied.
    fn propose(
        &mut self,
        conn: Option<ConnId>,
        session: i64,
        cxid: i32,
        req: &Request,
        origin: Origin,
    ) {
        let zxid = self.last_zxid + 1;
        let time = wall_ms();
        let no_ids: &[Id] = &[];
        let ids = conn
            .and_then(|c| self.conns.get(&c))
            .map_or(no_ids, |c| &c.ids[..]);
        let mut p = Prep::new(&self.tree, &mut self.outstanding, ids, session, zxid, time);
        p.extended_types = self.cfg.extended_types_enabled;
        p.skip_acl = self.cfg.skip_acl;
        p.digest = self.cfg.digest_enabled;
        let r: Result<(OpCode, TxnBody), Code> = match req {
            Request::Create(op, r) => p.create(*op, r, -1).map(|(b, _)| (*op, b)),
            Request::CreateTtl(r) => {
                let cr = jute::proto::CreateRequest {
                    path: r.path.clone(),
                    data: r.data.clone(),
                    acl: r.acl.clone(),
                    flags: r.flags,
                };
                p.create(OpCode::CreateTtl, &cr, r.ttl)
                    .map(|(b, _)| (OpCode::CreateTtl, b))
            }
            Request::Delete(r) => p
                .delete(&r.path, r.version, false)
                .map(|b| (OpCode::Delete, b)),
            Request::DeleteContainer(r) => p
                .delete(&r.path, -1, true)
                .map(|b| (OpCode::DeleteContainer, b)),
            Request::SetData(r) => p
                .set_data(&r.path, r.data.clone(), r.version)
                .map(|b| (OpCode::SetData, b)),
            Request::SetAcl(r) => p
                .set_acl(&r.path, &r.acl, r.version)
                .map(|b| (OpCode::SetAcl, b)),
            Request::Multi(ops) => Ok((OpCode::Multi, p.multi(ops))),
            Request::CloseSession => Ok((OpCode::CloseSession, p.close_session())),
            Request::Reconfig(_) => Err(Code::ReconfigDisabled),
            _ => Err(Code::Unimplemented),
        };
        let r = match r {
            Ok((k, b)) => Ok((k, b, p.commit())),
            Err(code) => Err(code),
        };
        self.propose_result(conn, session, cxid, time, r, origin);
    }

    /// Logs a prepared txn (or an error txn for a failed prepare) with the next zxid and
    /// the time it was prepared with, and queues the connection behind it.
    fn propose_result(
        &mut self,
        conn: Option<ConnId>,
        session: i64,
        cxid: i32,
        time: i64,
        r: Result<(OpCode, TxnBody, Vec<String>), Code>,
        origin: Origin,
    ) {
        let zxid = self.last_zxid + 1;
        // As ZooKeeper: error txns carry no digest, every other txn the tree digest after it.
        let digest = (r.is_ok() && self.cfg.digest_enabled).then(|| self.txn_digest());
        let (kind, body, touched) = match r {
            Ok(x) => x,
            Err(code) => (
                OpCode::Error,
                TxnBody::Error(ErrorTxn { err: code.code() }),
                Vec::new(),
            ),
        };
        let header = TxnHeader {
            client_id: session,
            cxid,
            zxid,
            time,
            kind: kind.code(),
        };
        self.append(
            TxnEntry {
                header,
                body,
                digest,
            },
            touched,
            origin,
        );
        if let Some(c) = conn.and_then(|c| self.conns.get_mut(&c)) {
            c.queue.push_back(Queued::Write(zxid));
        }
    }

    /// The TxnDigest a txn prepared now carries: the tree digest once every prepared txn,
    /// this one included, is applied.
    fn txn_digest(&self) -> jute::txn::TxnDigest {
        jute::txn::TxnDigest {
            version: crate::tree::DIGEST_VERSION,
            tree_digest: self.outstanding.digest(&self.tree),
        }
    }

    /// Logs a prepared txn and tracks it until applied.
    fn append(&mut self, entry: TxnEntry, touched: Vec<String>, origin: Origin) {
        self.last_zxid = entry.header.zxid;
        self.log.append(&entry);
        self.unflushed = true;
        self.appended += 1;
        self.inflight.push_back(Inflight {
            entry,
            touched,
            origin,
        });
    }

    /// Applies every in-flight txn up to `zxid` (they are durable) and answers them.
    pub fn commit_up_to(&mut self, zxid: i64) {
        while self
            .inflight
            .front()
            .is_some_and(|f| f.entry.header.zxid <= zxid)
        {
            if let Some(inf) = self.inflight.pop_front() {
                self.apply_inflight(inf);
            }
        }
    }

    fn apply_inflight(&mut self, inf: Inflight) {
        let hdr = &inf.entry.header;
        let want = !self.watches.data.is_empty() || !self.watches.child.is_empty();
        let result = Applier {
            tree: &mut self.tree,
            want_triggers: want,
            triggers: &mut self.triggers,
        }
        .apply(hdr, hdr.kind, &inf.entry.body);
        self.tree.last_processed_zxid = hdr.zxid;
        // ZooKeeper compares the logged digest on every commit (DataTree.processTxn).
        if let Some(d) = &inf.entry.digest {
            self.tree.check_digest(hdr.zxid, d);
        }
        self.outstanding.applied(hdr.zxid, &inf.touched);
        self.deliver_triggers();
        let zxid = hdr.zxid;
        let session = hdr.client_id;
        if result == TxnResult::SessionClosed {
            self.sessions.remove(session);
            info!(
                session = format_args!("0x{session:x}"),
                zxid = format_args!("0x{zxid:x}"),
                "session closed"
            );
        }
        match inf.origin {
            Origin::Server => {
                if result == TxnResult::SessionClosed {
                    if let Some(c) = self.session_conn.remove(&session) {
                        self.close_conn(c);
                    }
                }
            }
            Origin::Client {
                conn,
                xid,
                op,
                received,
            } => {
                self.write_reply(conn, xid, op, zxid, &result, received);
                if result == TxnResult::SessionClosed {
                    self.session_conn.remove(&session);
                    self.close_conn(conn);
                }
                self.after_write(conn, zxid);
            }
            Origin::NewSession {
                conn,
                timeout,
                read_only,
                received,
            } => {
                self.finish_new_session(conn, session, timeout, read_only, received);
                self.after_write(conn, zxid);
            }
        }
    }

    /// Pops a connection's applied write and runs the reads that waited behind it.
    fn after_write(&mut self, conn_id: ConnId, zxid: i64) {
        let Some(conn) = self.conns.get_mut(&conn_id) else {
            return;
        };
        if matches!(conn.queue.front(), Some(Queued::Write(z)) if *z == zxid) {
            conn.queue.pop_front();
        }
        loop {
            let Some(conn) = self.conns.get_mut(&conn_id) else {
                return;
            };
            if conn.closing || matches!(conn.queue.front(), None | Some(Queued::Write(_))) {
                return;
            }
            let (xid, req, received) = match conn.queue.pop_front() {
                Some(Queued::Read { xid, req, received }) => (xid, req, received),
                Some(Queued::Fail { xid, code }) => {
                    self.reply_header(conn_id, xid, self.tree.last_processed_zxid, code.code());
                    continue;
                }
                _ => return,
            };
            let Some(session) = conn.session else { return };
            self.read_or_expired(conn_id, session, xid, req, received);
        }
    }

    /// Runs a read now, or answers SessionExpired if its session is closing or gone
    /// (pings are always answered).
    fn read_or_expired(
        &mut self,
        conn_id: ConnId,
        session: i64,
        xid: i32,
        req: Request,
        received: Instant,
    ) {
        if !self.sessions.is_live(session) && req.opcode() != OpCode::Ping {
            let zxid = self.tree.last_processed_zxid;
            self.reply_header(conn_id, xid, zxid, Code::SessionExpired.code());
        } else {
            self.execute_read(conn_id, session, xid, req, received);
        }
    }

    /// Sends the watch events of the last applied txn, each to connections allowed to READ.
    fn deliver_triggers(&mut self) {
        if self.triggers.is_empty() {
            return;
        }
        let triggers = std::mem::take(&mut self.triggers);
        for t in &triggers {
            self.notify.clear();
            match t.event {
                EventType::NodeChildrenChanged => {
                    self.watches
                        .child
                        .trigger(&t.path, t.event, &mut self.notify)
                }
                EventType::NodeDeleted => {
                    self.watches
                        .data
                        .trigger(&t.path, t.event, &mut self.notify);
                    self.watches
                        .child
                        .trigger(&t.path, t.event, &mut self.notify);
                }
                _ => self
                    .watches
                    .data
                    .trigger(&t.path, t.event, &mut self.notify),
            }
            if self.notify.is_empty() {
                continue;
            }
            self.notify.sort_unstable();
            self.notify.dedup();
            let notify = std::mem::take(&mut self.notify);
            for &c in &notify {
                let allowed = self.conns.get(&c).is_some_and(|conn| {
                    acl::check(&t.acl, acl::READ, &conn.ids, self.cfg.skip_acl)
                });
                if allowed {
                    self.send_event(c, t.event, &t.path);
                }
            }
            self.notify = notify;
        }
        self.triggers = triggers;
        self.triggers.clear();
    }

    /// Writes a watch notification (xid -1, zxid -1 as 3.8 does).
    fn send_event(&mut self, conn_id: ConnId, event: EventType, path: &str) {
        self.frame(conn_id, |o| {
            ReplyHeader {
                xid: jute::consts::xid::NOTIFICATION,
                zxid: -1,
                err: 0,
            }
            .encode(o);
            WatcherEvent::encode_parts(event.code(), KeeperState::SyncConnected.code(), path, o);
        });
    }

    /// Appends one frame to a connection's batch buffer.
    fn frame(&mut self, conn_id: ConnId, body: impl FnOnce(&mut BytesMut)) {
        let Some(conn) = self.conns.get_mut(&conn_id) else {
            return;
        };
        if conn.buf.is_empty() {
            self.dirty.push(conn_id);
        }
        jute::frame::put_frame(&mut conn.buf, body);
        conn.stats.sent += 1;
        self.stats.packets_sent += 1;
    }

    /// A reply that is only a header.
    fn reply_header(&mut self, conn_id: ConnId, xid: i32, zxid: i64, err: i32) {
        self.frame(conn_id, |o| ReplyHeader { xid, zxid, err }.encode(o));
    }

    /// Records latency for a reply to a request received at `received`.
    fn record_latency(
        &mut self,
        conn_id: ConnId,
        op: OpCode,
        xid: i32,
        zxid: i64,
        received: Instant,
    ) {
        let ms = received.elapsed().as_millis() as u64;
        let s = &mut self.stats;
        s.count += 1;
        s.total_latency += ms;
        s.min_latency = s.min_latency.min(ms);
        s.max_latency = s.max_latency.max(ms);
        if let Some(c) = self.conns.get_mut(&conn_id) {
            let cs = &mut c.stats;
            cs.count += 1;
            cs.total_latency += ms;
            cs.min_latency = cs.min_latency.min(ms);
            cs.max_latency = cs.max_latency.max(ms);
            cs.last_latency = ms;
            cs.last_op = reply::op_abbrev(op);
            cs.last_cxid = xid;
            cs.last_zxid = zxid;
            cs.last_response_ms = wall_ms();
        }
    }

    /// Marks a connection to be closed once its buffered frames are written.
    fn close_conn(&mut self, conn_id: ConnId) {
        let Some(conn) = self.conns.get_mut(&conn_id) else {
            return;
        };
        if !conn.closing {
            conn.closing = true;
            if conn.buf.is_empty() {
                self.dirty.push(conn_id);
            }
        }
    }

    /// Forgets a connection whose socket is gone: its watches go, its session stays.
    fn drop_conn(&mut self, conn_id: ConnId) {
        if let Some(conn) = self.conns.remove(&conn_id) {
            if let Some(s) = conn.session {
                if self.session_conn.get(&s) == Some(&conn_id) {
                    self.session_conn.remove(&s);
                }
            }
            self.watches.drop_conn(conn_id);
        }
    }

    /// Ends a batch: flushes the log and hands every touched connection its bytes.
    /// `idle`: no further events are queued, so the log may sync on this thread.
    pub fn end_batch(&mut self, idle: bool) {
        let unflushed = std::mem::take(&mut self.unflushed);
        let durable = if idle && unflushed {
            self.log.flush_idle()
        } else {
            self.log.flush()
        };
        self.synced_inline = idle && unflushed && durable.is_some();
        if let Some(z) = durable {
            self.commit_up_to(z);
        }
        // persist: writes the log could not make durable are answered with errors.
        while let Some(f) = self.log.take_failure() {
            self.fail_from(f);
        }
        // persist: a fuzzy snapshot in progress serializes its next bounded chunk.
        self.log.between_batches(&self.tree, &self.sessions);
        let dirty = std::mem::take(&mut self.dirty);
        for &id in &dirty {
            let Some(conn) = self.conns.get_mut(&id) else {
                continue;
            };
            conn.out.send(&mut conn.buf);
            if conn.closing {
                conn.out.close();
                self.drop_conn(id);
            }
        }
        self.dirty = dirty;
        self.dirty.clear();
    }

    /// Periodic work: session expiry, container and TTL cleanup.
    pub fn tick(&mut self) {
        let now = self.now_ms();
        for id in self.sessions.expire(now) {
            let timeout = self.sessions.get(id).map_or(0, |s| s.timeout_ms);
            info!(
                session = format_args!("0x{id:x}"),
                timeout, "expiring session, timeout exceeded"
            );
            self.propose(None, id, 0, &Request::CloseSession, Origin::Server);
        }
        if now >= self.next_container_check {
            self.next_container_check = now + self.cfg.container_check_interval_ms.max(1);
            self.check_containers();
        }
    }

    /// ContainerManager: deletes empty used containers and expired TTL nodes.
    fn check_containers(&mut self) {
        let wall = wall_ms();
        let never_used = self.cfg.container_max_never_used_interval_ms as i64;
        let mut candidates: Vec<String> = Vec::new();
        for p in self.tree.containers() {
            if let Some(n) = self.tree.get(p) {
                if n.child_count() == 0
                    && (n.stat.cversion > 0 || (never_used > 0 && wall - n.stat.mtime > never_used))
                {
                    candidates.push(p.to_owned());
                }
            }
        }
        for p in self.tree.ttl_nodes() {
            if let Some(n) = self.tree.get(p) {
                if let NodeKind::Ttl(ttl) = NodeKind::of(n.stat.ephemeral_owner) {
                    if n.child_count() == 0 && ttl != 0 && wall - n.stat.mtime > ttl {
                        candidates.push(p.to_owned());
                    }
                }
            }
        }
        let per_check = (self.cfg.container_max_per_minute as u64
            * self.cfg.container_check_interval_ms
            / 60_000)
            .max(1);
        for path in candidates.into_iter().take(per_check as usize) {
            let req = Request::DeleteContainer(jute::proto::PathRequest { path });
            self.propose(None, 0, 0, &req, Origin::Server);
        }
    }
}

/// Writes that may wait behind an inline fsync before batches go back to the writer
/// thread: preparing a write takes 2–3 µs, and syncing inline saves two cross-CPU
/// wake-ups (~36 µs of CPU on the benchmark guest) per batch.
const INLINE_MAX_WAITING_WRITES: u64 = 16;

/// Batches in a row that must have looked pipelined before syncing goes back to the
/// writer thread: a load that is pipelined looks so in every batch, while one slow fsync
/// (a disk hiccup of a few ms) makes a moderate load look so once. Holding off after such
/// a hiccup put the open-loop setData load at 15,000/s on the thread for a second at a
/// time, where it ran with two more cross-CPU wake-ups per round.
const HOLD_OFF_STREAK: u32 = 3;

/// Counts one more batch in a row that looked pipelined; at [`HOLD_OFF_STREAK`], syncing
/// goes to the writer thread for a while and the count starts again.
fn looked_pipelined(streak: &mut u32, core: &mut Core) {
    *streak += 1;
    if *streak >= HOLD_OFF_STREAK {
        *streak = 0;
        core.log.hold_off_inline();
    }
}

/// Runs the core: takes events in batches, ends each batch, ticks on a timer.
pub async fn run(
    mut core: Core,
    mut rx: mpsc::Receiver<Event>,
    mut committed: mpsc::UnboundedReceiver<i64>,
) {
    let mut batch = Vec::with_capacity(1024);
    let period =
        std::time::Duration::from_millis((core.cfg.tick_time_ms as u64 / 20).clamp(10, 100));
    let mut ticker = tokio::time::interval(period);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // After an inline round with requests waiting: (packets, txns) counted before them.
    let mut waited: Option<(u64, u64)> = None;
    // Batches in a row that would have gone better through the writer thread.
    let mut streak = 0u32;
    loop {
        let mut took_events = false;
        tokio::select! {
            n = rx.recv_many(&mut batch, 1024) => {
                if n == 0 {
                    break;
                }
                took_events = true;
                for ev in batch.drain(..) {
                    core.handle(ev);
                }
            }
            Some(z) = committed.recv() => core.commit_up_to(z),
            _ = ticker.tick() => core.tick(),
        }
        if took_events {
            if let Some((packets, txns)) = waited.take() {
                // Leave syncing to the writer thread for a while if what waited behind the
                // last inline fsync would have gained from it: requests that log nothing
                // (reads, pings), which the thread's fsync does not hold up, or more writes
                // than a few, whose preparing the thread overlaps with its fsync (a
                // pipelined load; the two wake-ups inline saves are worth a few writes).
                let requests = core.stats.packets_received.saturating_sub(packets);
                let writes = core.appended.saturating_sub(txns);
                if requests > writes || writes > INLINE_MAX_WAITING_WRITES {
                    looked_pipelined(&mut streak, &mut core);
                } else {
                    streak = 0;
                }
            }
        }
        let mut yielded = false;
        if core.unflushed && rx.is_empty() && core.log.inline_ready() {
            // Before writing the log on this thread (which blocks it for an fsync), let the
            // connection tasks that became ready meanwhile deliver their requests: tokio
            // runs the task a send wakes first, so an empty queue here may only mean the
            // other connections have not been polled yet. `yield_now` resumes after the
            // I/O driver has been polled and the ready tasks have run.
            tokio::task::yield_now().await;
            for _ in 0..1024 {
                match rx.try_recv() {
                    Ok(ev) => core.handle(ev),
                    Err(_) => break,
                }
            }
            yielded = true;
        }
        core.end_batch(rx.is_empty());
        let synced = std::mem::take(&mut core.synced_inline);
        if yielded && !synced {
            // The yield brought in more than an inline round takes (or the thread got
            // busy): a pipelined load. Yielding per batch costs it throughput, so stop
            // trying for a while.
            looked_pipelined(&mut streak, &mut core);
        }
        if synced {
            // Whatever arrived during the fsync is ready at the next poll of the I/O
            // driver; the next batch tells whether it held up anything but writes.
            tokio::task::yield_now().await;
            if !rx.is_empty() {
                waited = Some((core.stats.packets_received, core.appended));
            }
        }
    }
}
