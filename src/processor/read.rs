//! Reads and session-local ops, answered from the applied tree by the core task: no txn,
//! no zxid. Watches are registered here.

use super::{Core, ServerStats};
use crate::acl;
use crate::fast::HashMap;
use crate::tree::DataTree;
use crate::watch::{ConnId, WatchMode, WatchTable};
use bytes::BytesMut;
use jute::data::{Acl, ClientInfo, Id, Stat};
use jute::proto::*;
use jute::request::{encode_multi_results, MultiOp, MultiResult, Request};
use jute::{AddWatchMode, Code, Codec, EventType, WatcherType};
use std::time::Instant;

/// A successful read's body, borrowing from the tree where it can.
enum ReadOk<'a> {
    Empty,
    Stat(Stat),
    Data(Option<&'a [u8]>, Stat),
    /// A node's child list (encoded by `DataTree::put_child_list`) and, for getChildren2,
    /// the Stat.
    Children(&'a DataTree, crate::tree::NodeId, Option<Stat>),
    Acl(Vec<Acl>, Stat),
    Path(String),
    Int(i32),
    Strings(Vec<String>),
    WhoAmI(Vec<ClientInfo>),
    Multi(Vec<MultiResult>),
}

impl ReadOk<'_> {
    fn encode(&self, o: &mut BytesMut) {
        match self {
            ReadOk::Empty => {}
            ReadOk::Stat(s) => s.encode(o),
            ReadOk::Data(d, s) => {
                jute::codec::put_buffer(o, *d);
                s.encode(o);
            }
            ReadOk::Children(tree, id, s) => {
                tree.put_child_list(*id, o);
                if let Some(s) = s {
                    s.encode(o);
                }
            }
            ReadOk::Acl(a, s) => {
                a.encode(o);
                s.encode(o);
            }
            ReadOk::Path(p) => p.encode(o),
            ReadOk::Int(i) => i.encode(o),
            ReadOk::Strings(v) => v.encode(o),
            ReadOk::WhoAmI(v) => v.encode(o),
            ReadOk::Multi(r) => encode_multi_results(r, o),
        }
    }
}

/// Everything a read needs, borrowed disjointly from the core.
struct ReadCtx<'a, 'x> {
    tree: &'a DataTree,
    data_watches: &'x mut WatchTable,
    child_watches: &'x mut WatchTable,
    ids: &'x [Id],
    skip_acl: bool,
    conn: ConnId,
    session: i64,
}

impl<'a> ReadCtx<'a, '_> {
    fn check(&self, acl: &[Acl], perm: i32) -> Result<(), Code> {
        if acl::check(acl, perm, self.ids, self.skip_acl) {
            Ok(())
        } else {
            Err(Code::NoAuth)
        }
    }

    fn node(&self, path: &str, perm: i32) -> Result<&'a crate::tree::Node, Code> {
        self.node_and_id(path, perm).map(|(n, _)| n)
    }

    fn node_and_id(
        &self,
        path: &str,
        perm: i32,
    ) -> Result<(&'a crate::tree::Node, crate::tree::NodeId), Code> {
        let tree: &'a DataTree = self.tree;
        let id = tree.lookup(path).ok_or(Code::NoNode)?;
        let n = tree.get_by_id(id).ok_or(Code::NoNode)?;
        self.check(&tree.acl_of(n), perm)?;
        Ok((n, id))
    }

    fn watch(&mut self, child: bool, path: &str) {
        let path = if path.is_empty() { "/" } else { path };
        let t = if child {
            &mut *self.child_watches
        } else {
            &mut *self.data_watches
        };
        t.add(path, self.conn, WatchMode::Standard);
    }

    fn run(&mut self, req: &Request) -> Result<ReadOk<'a>, Code> {
        match req {
            Request::Exists(r) => {
                if r.path.contains('\0') {
                    return Err(Code::BadArguments);
                }
                // ZooKeeper 3.8.0 (the reference here) does not check READ on exists.
                let n = self.tree.get(&r.path);
                if r.watch {
                    self.watch(false, &r.path);
                }
                n.map(|n| ReadOk::Stat(n.stat())).ok_or(Code::NoNode)
            }
            Request::GetData(r) => {
                let n = self.node(&r.path, acl::READ)?;
                if r.watch {
                    self.watch(false, &r.path);
                }
                Ok(ReadOk::Data(n.data(), n.stat()))
            }
            Request::GetChildren(r) | Request::GetChildren2(r) => {
                let (n, id) = self.node_and_id(&r.path, acl::READ)?;
                if r.watch {
                    self.watch(true, &r.path);
                }
                let stat = matches!(req, Request::GetChildren2(_)).then(|| n.stat());
                Ok(ReadOk::Children(self.tree, id, stat))
            }
            Request::GetAcl(r) => {
                let n = self.node(&r.path, acl::READ | acl::ADMIN)?;
                let list = self.tree.acl_of(n);
                let list = if self.check(&list, acl::ADMIN).is_ok() {
                    list.to_vec()
                } else {
                    acl::mask_digests(&list)
                };
                Ok(ReadOk::Acl(list, n.stat()))
            }
            Request::GetAllChildrenNumber(r) => {
                self.node(&r.path, acl::READ)?;
                Ok(ReadOk::Int(self.tree.descendant_count(&r.path) as i32))
            }
            Request::GetEphemerals(r) => {
                let prefix = r.path.trim();
                let all = prefix.is_empty() || prefix == "/";
                let mut v: Vec<String> = self
                    .tree
                    .ephemerals_of(self.session)
                    .filter(|p| all || p.starts_with(r.path.as_str()))
                    .map(str::to_owned)
                    .collect();
                v.sort();
                Ok(ReadOk::Strings(v))
            }
            Request::Sync(r) => Ok(ReadOk::Path(r.path.clone())),
            Request::WhoAmI => Ok(ReadOk::WhoAmI(
                acl::java_order(self.ids)
                    .into_iter()
                    .map(|i| ClientInfo {
                        auth_scheme: i.scheme.clone(),
                        user: match i.scheme.as_str() {
                            "digest" => i.id.split(':').next().unwrap_or("").to_owned(),
                            _ => i.id.clone(),
                        },
                    })
                    .collect(),
            )),
            Request::AddWatch(r) => {
                let mode = AddWatchMode::try_from(r.mode).map_err(|_| Code::BadArguments)?;
                let path = if r.path.is_empty() {
                    "/"
                } else {
                    r.path.as_str()
                };
                let m = match mode {
                    AddWatchMode::Persistent => WatchMode::Persistent,
                    AddWatchMode::PersistentRecursive => WatchMode::PersistentRecursive,
                };
                self.data_watches.add(path, self.conn, m);
                if m == WatchMode::Persistent {
                    self.child_watches.add(path, self.conn, m);
                } else {
                    self.child_watches.remove(path, self.conn);
                }
                Ok(ReadOk::Int(0))
            }
            Request::CheckWatches(r) | Request::RemoveWatches(r) => {
                let remove = matches!(req, Request::RemoveWatches(_));
                let kind = WatcherType::try_from(r.kind).map_err(|_| Code::BadArguments)?;
                let (data, child) = match kind {
                    WatcherType::Children => (false, true),
                    WatcherType::Data => (true, false),
                    _ => (true, true),
                };
                let mut found = false;
                for (want, t) in [
                    (data, &mut *self.data_watches),
                    (child, &mut *self.child_watches),
                ] {
                    if want {
                        found |= if remove {
                            t.remove(&r.path, self.conn)
                        } else {
                            t.mode(&r.path, self.conn).is_some()
                        };
                    }
                }
                if found {
                    Ok(ReadOk::Empty)
                } else {
                    Err(Code::NoWatcher)
                }
            }
            Request::MultiRead(ops) => {
                let mut out = Vec::with_capacity(ops.len());
                for op in ops {
                    let r = match op {
                        MultiOp::GetData(r) => self.node(&r.path, acl::READ).map(|n| {
                            MultiResult::GetData(GetDataResponse {
                                data: n.data().map(bytes::Bytes::copy_from_slice),
                                stat: n.stat(),
                            })
                        }),
                        MultiOp::GetChildren(r) => self.node(&r.path, acl::READ).map(|n| {
                            MultiResult::GetChildren(GetChildrenResponse {
                                children: self.tree.child_names(n).map(str::to_owned).collect(),
                            })
                        }),
                        _ => Err(Code::BadArguments),
                    };
                    out.push(r.unwrap_or_else(|c| MultiResult::Error(c.code())));
                }
                Ok(ReadOk::Multi(out))
            }
            _ => Err(Code::Unimplemented),
        }
    }
}

/// Appends one frame to a connection's buffer (free function so reads can hold the tree).
fn push_frame(
    conns: &mut HashMap<ConnId, super::Conn>,
    dirty: &mut Vec<ConnId>,
    stats: &mut ServerStats,
    conn_id: ConnId,
    body: impl FnOnce(&mut BytesMut),
) {
    let Some(conn) = conns.get_mut(&conn_id) else {
        return;
    };
    if conn.buf.is_empty() && !conn.closing {
        dirty.push(conn_id);
    }
    jute::frame::put_frame(&mut conn.buf, body);
    conn.stats.sent += 1;
    stats.packets_sent += 1;
}

impl Core {
    /// Runs a read (or session-local op) and writes its reply.
    pub(super) fn execute_read(
        &mut self,
        conn_id: ConnId,
        session: i64,
        xid: i32,
        req: Request,
        received: Instant,
    ) {
        let zxid = self.tree.last_processed_zxid;
        let op = req.opcode();
        match req {
            Request::Ping => {
                self.reply_header(conn_id, jute::consts::xid::PING, zxid, 0);
                return;
            }
            Request::SetWatches(w) => {
                let w2 = SetWatches2 {
                    relative_zxid: w.relative_zxid,
                    data_watches: w.data_watches,
                    exist_watches: w.exist_watches,
                    child_watches: w.child_watches,
                    persistent_watches: vec![],
                    persistent_recursive_watches: vec![],
                };
                self.set_watches(conn_id, xid, w2);
                return;
            }
            Request::SetWatches2(w) => {
                self.set_watches(conn_id, xid, w);
                return;
            }
            _ => {}
        }
        let Core {
            tree,
            watches,
            conns,
            dirty,
            stats,
            cfg,
            ..
        } = self;
        let Some(conn) = conns.get(&conn_id) else {
            return;
        };
        let r = ReadCtx {
            tree,
            data_watches: &mut watches.data,
            child_watches: &mut watches.child,
            ids: &conn.ids,
            skip_acl: cfg.skip_acl,
            conn: conn_id,
            session,
        }
        .run(&req);
        push_frame(conns, dirty, stats, conn_id, |o| match &r {
            Ok(body) => {
                ReplyHeader { xid, zxid, err: 0 }.encode(o);
                body.encode(o);
            }
            Err(c) => ReplyHeader {
                xid,
                zxid,
                err: c.code(),
            }
            .encode(o),
        });
        self.record_latency(conn_id, op, xid, zxid, received);
    }

    /// SetWatches / SetWatches2 on reconnect: fire the events the client missed, re-register
    /// the rest, then reply.
    fn set_watches(&mut self, conn_id: ConnId, xid: i32, w: SetWatches2) {
        let rel = w.relative_zxid;
        let mut events: Vec<(EventType, String)> = Vec::new();
        for p in w.data_watches {
            match self.tree.get(&p) {
                None => events.push((EventType::NodeDeleted, p)),
                Some(n) if n.stat.mzxid > rel => events.push((EventType::NodeDataChanged, p)),
                Some(_) => self.watches.data.add(&p, conn_id, WatchMode::Standard),
            }
        }
        for p in w.exist_watches {
            match self.tree.get(&p) {
                Some(_) => events.push((EventType::NodeCreated, p)),
                None => self.watches.data.add(&p, conn_id, WatchMode::Standard),
            }
        }
        for p in w.child_watches {
            match self.tree.get(&p) {
                None => events.push((EventType::NodeDeleted, p)),
                Some(n) if n.stat.pzxid > rel => events.push((EventType::NodeChildrenChanged, p)),
                Some(_) => self.watches.child.add(&p, conn_id, WatchMode::Standard),
            }
        }
        for p in w.persistent_watches {
            self.watches.data.add(&p, conn_id, WatchMode::Persistent);
            self.watches.child.add(&p, conn_id, WatchMode::Persistent);
        }
        for p in w.persistent_recursive_watches {
            self.watches
                .data
                .add(&p, conn_id, WatchMode::PersistentRecursive);
        }
        for (e, p) in events {
            self.send_event(conn_id, e, &p);
        }
        let zxid = self.tree.last_processed_zxid;
        self.reply_header(conn_id, xid, zxid, 0);
    }
}
