//! Apply: run a committed txn against the DataTree, producing the result a reply is built
//! from and the watch triggers it fires. The same code serves live commits, log replay and
//! (later) followers, so it is deterministic and tolerant of replaying a fuzzy snapshot.

use crate::tree::{split_path, DataTree, NodeKind};
use jute::data::{Acl, Stat};
use jute::txn::{TxnBody, TxnHeader};
use jute::{Code, EventType, OpCode};
use std::sync::Arc;

/// A watch event to deliver: path, event type, and the ACL that gates delivery.
#[derive(Debug, Clone)]
pub struct Trigger {
    pub path: String,
    pub event: EventType,
    pub acl: Arc<[Acl]>,
}

/// The outcome of applying one txn (or one multi sub-txn).
#[derive(Debug, Clone, PartialEq)]
pub enum TxnResult {
    Created { path: String, stat: Stat },
    Deleted,
    SetData(Stat),
    SetAcl(Stat),
    Check,
    Error(Code),
    Multi(Vec<(i32, TxnResult)>),
    SessionCreated,
    SessionClosed,
}

/// Applies txns to a tree, collecting watch triggers when anyone watches.
pub struct Applier<'a> {
    pub tree: &'a mut DataTree,
    /// Whether to collect triggers (skipped when no watch is registered).
    pub want_triggers: bool,
    pub triggers: &'a mut Vec<Trigger>,
}

impl Applier<'_> {
    fn trigger(&mut self, path: &str, event: EventType) {
        if !self.want_triggers {
            return;
        }
        let acl = match self.tree.get(path) {
            Some(n) => self.tree.acl_of(n),
            None => Arc::from(Vec::new()),
        };
        self.triggers.push(Trigger {
            path: path.to_owned(),
            event,
            acl,
        });
    }

    fn delete(&mut self, path: &str, zxid: i64) -> TxnResult {
        if self.want_triggers {
            self.trigger(path, EventType::NodeDeleted);
        }
        match self.tree.delete(path, zxid) {
            Ok(()) => {
                if let Some((parent, _)) = split_path(path) {
                    self.trigger(parent, EventType::NodeChildrenChanged);
                }
                TxnResult::Deleted
            }
            Err(c) => {
                if self.want_triggers {
                    self.triggers.pop();
                }
                TxnResult::Error(c)
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn create(
        &mut self,
        path: &str,
        data: &Option<bytes::Bytes>,
        acl: &[Acl],
        owner: i64,
        parent_cversion: i32,
        hdr: &TxnHeader,
    ) -> TxnResult {
        match self.tree.create(
            path,
            data.as_deref(),
            acl,
            owner,
            parent_cversion,
            hdr.zxid,
            hdr.time,
        ) {
            Ok(stat) => {
                self.trigger(path, EventType::NodeCreated);
                if let Some((parent, _)) = split_path(path) {
                    self.trigger(parent, EventType::NodeChildrenChanged);
                }
                TxnResult::Created {
                    path: path.to_owned(),
                    stat,
                }
            }
            Err(c) => TxnResult::Error(c),
        }
    }

    /// Applies one txn body of type `kind` with header `hdr`.
    pub fn apply(&mut self, hdr: &TxnHeader, kind: i32, body: &TxnBody) -> TxnResult {
        match body {
            TxnBody::Create(t) => {
                let owner = if t.ephemeral { hdr.client_id } else { 0 };
                self.create(&t.path, &t.data, &t.acl, owner, t.parent_cversion, hdr)
            }
            TxnBody::CreateV0(t) => {
                let owner = if t.ephemeral { hdr.client_id } else { 0 };
                self.create(&t.path, &t.data, &t.acl, owner, -1, hdr)
            }
            TxnBody::CreateContainer(t) => self.create(
                &t.path,
                &t.data,
                &t.acl,
                crate::tree::CONTAINER_OWNER,
                t.parent_cversion,
                hdr,
            ),
            TxnBody::CreateTtl(t) => self.create(
                &t.path,
                &t.data,
                &t.acl,
                NodeKind::ttl_owner(t.ttl),
                t.parent_cversion,
                hdr,
            ),
            TxnBody::Delete(t) => self.delete(&t.path, hdr.zxid),
            TxnBody::SetData(t) => {
                match self
                    .tree
                    .set_data(&t.path, t.data.as_deref(), t.version, hdr.zxid, hdr.time)
                {
                    Ok(stat) => {
                        self.trigger(&t.path, EventType::NodeDataChanged);
                        TxnResult::SetData(stat)
                    }
                    Err(c) => TxnResult::Error(c),
                }
            }
            TxnBody::SetAcl(t) => match self.tree.set_acl(&t.path, &t.acl, t.version) {
                Ok(stat) => TxnResult::SetAcl(stat),
                Err(c) => TxnResult::Error(c),
            },
            TxnBody::Check(_) => TxnResult::Check,
            TxnBody::Error(e) => {
                TxnResult::Error(Code::try_from(e.err).unwrap_or(Code::SystemError))
            }
            TxnBody::SetMaxChildren(_) => TxnResult::Check,
            TxnBody::CreateSession(_) => TxnResult::SessionCreated,
            TxnBody::CloseSession(list) => {
                let paths: Vec<String> = match list {
                    Some(l) => l.paths_to_delete.clone(),
                    None => self
                        .tree
                        .ephemerals_of(hdr.client_id)
                        .map(str::to_owned)
                        .collect(),
                };
                for p in paths {
                    self.delete(&p, hdr.zxid);
                }
                TxnResult::SessionClosed
            }
            TxnBody::Multi(subs) => {
                let _ = kind;
                let failed = subs.iter().any(|s| s.kind == OpCode::Error.code());
                let mut results = Vec::with_capacity(subs.len());
                let mut after_failure = false;
                for s in subs {
                    if failed {
                        let code = match &s.body {
                            TxnBody::Error(e) => {
                                after_failure = true;
                                e.err
                            }
                            _ if after_failure => Code::RuntimeInconsistency.code(),
                            _ => 0,
                        };
                        let code = Code::try_from(code).unwrap_or(Code::SystemError);
                        results.push((OpCode::Error.code(), TxnResult::Error(code)));
                    } else {
                        let r = self.apply(hdr, s.kind, &s.body);
                        results.push((s.kind, r));
                    }
                }
                TxnResult::Multi(results)
            }
        }
    }
}
