//! Prepare: validate a write against the tree plus the changes of writes already prepared
//! but not yet applied, and turn it into a deterministic txn body. A failed validation
//! becomes an error txn — it still takes a zxid, as in ZooKeeper.

use crate::acl;
use crate::fast::HashMap;
use crate::tree::{
    content_crc, digest_with, last_slash, split_path, DataTree, NodeKind, CONFIG, MAX_TTL, QUOTA,
    ZOOKEEPER,
};
use bytes::Bytes;
use jute::data::{Acl, Id, StatPersisted};
use jute::proto::CreateRequest;
use jute::request::MultiOp;
use jute::txn::*;
use jute::{Code, CreateMode, OpCode};
use std::sync::Arc;

/// What prep needs to know about a node, from the tree or an outstanding change: the
/// node as applying the txns prepared so far will leave it (stat and data are also the
/// inputs of its digest).
#[derive(Debug, Clone)]
pub struct NodeState {
    /// Stored stat (`cversion` counts creates).
    pub stat: StatPersisted,
    /// The data a pending create or setData leaves; `None` means the data is the tree's,
    /// unchanged (so preparing a write never copies a node's data out of the tree).
    pub data: Option<Option<Bytes>>,
    pub children: i32,
    pub acl: Arc<[Acl]>,
    /// Cached [`crate::tree::node_digest`]; `None` until computed (always set for outstanding changes).
    digest: Option<u64>,
    /// [`content_crc`] of the path and the data [`Self::data_in`] gives, when known: a
    /// state read from the tree takes the node's, a change of data clears it.
    crc: Option<u32>,
}

impl NodeState {
    fn digest(&self, path: &str, tree: &DataTree) -> u64 {
        self.digest
            .unwrap_or_else(|| digest_with(path, self.content_crc(path, tree), &self.stat))
    }

    /// The [`content_crc`], computed over the data only when it is not known.
    fn content_crc(&self, path: &str, tree: &DataTree) -> u32 {
        self.crc
            .unwrap_or_else(|| content_crc(path, self.data_in(path, tree)))
    }

    /// Gives the node new data (forgetting the digests of the old).
    fn set_data(&mut self, data: Option<Bytes>) {
        self.data = Some(data);
        self.crc = None;
        self.digest = None;
    }

    /// The node's data: the pending new data, or else the tree's.
    fn data_in<'a>(&'a self, path: &str, tree: &'a DataTree) -> Option<&'a [u8]> {
        match &self.data {
            Some(d) => d.as_deref(),
            None => tree.get(path).and_then(|n| n.data()),
        }
    }
}

/// Changes of prepared-but-unapplied txns, newest per path (`None` = deleted).
#[derive(Debug, Default)]
pub struct Outstanding {
    changes: HashMap<String, (i64, Option<NodeState>)>,
    /// The tree digest after the newest prepared txn that changed nodes, until applied.
    digest: Option<(i64, u64)>,
}

impl Outstanding {
    /// Forgets changes made by txns up to `zxid` (they are in the tree now).
    pub fn applied(&mut self, zxid: i64, paths: &[String]) {
        for p in paths {
            if self.changes.get(p).is_some_and(|(z, _)| *z <= zxid) {
                self.changes.remove(p);
            }
        }
        if self.digest.is_some_and(|(z, _)| z <= zxid) {
            self.digest = None;
        }
    }

    /// ZooKeeper's tree digest of the tree plus every prepared txn (what a txn prepared
    /// now carries as its TxnDigest).
    pub fn digest(&self, tree: &DataTree) -> i64 {
        self.digest.map_or(tree.digest(), |(_, d)| d as i64)
    }

    /// Number of paths with outstanding changes.
    pub fn len(&self) -> usize {
        self.changes.len()
    }

    /// Whether nothing is outstanding.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }
}

/// The context of one write: tree, outstanding changes, and a scratch layer for this txn
/// (a multi's earlier ops are visible to later ones; a failure discards the scratch).
pub struct Prep<'a> {
    pub tree: &'a DataTree,
    pub outstanding: &'a mut Outstanding,
    pub ids: &'a [Id],
    pub session: i64,
    pub zxid: i64,
    /// The txn's time (ctime/mtime of what it creates or changes).
    pub time: i64,
    pub extended_types: bool,
    pub skip_acl: bool,
    /// `zookeeper.digest.enabled`: track the tree digest of the changes.
    pub digest: bool,
    scratch: Vec<(String, Option<NodeState>)>,
    /// Tree-digest change of the scratch layer.
    delta: u64,
}

/// ZooKeeper's PathUtils.validatePath: an absolute path of non-empty names, none `.` or
/// `..`, with no character ZooKeeper refuses. Runs on every request that names a path, so
/// it scans in place (no allocation).
pub fn validate_path(path: &str) -> Result<(), Code> {
    let Some(rest) = path.strip_prefix('/') else {
        return Err(Code::BadArguments);
    };
    if rest.is_empty() {
        return Ok(());
    }
    for name in rest.as_bytes().split(|&b| b == b'/') {
        if name.is_empty() || name == b"." || name == b".." {
            return Err(Code::BadArguments);
        }
    }
    let chars_ok = if path.is_ascii() {
        path.bytes().all(|b| b >= 0x20 && b != 0x7f)
    } else {
        path.chars().all(path_char)
    };
    if chars_ok {
        Ok(())
    } else {
        Err(Code::BadArguments)
    }
}

/// Whether ZooKeeper accepts `c` in a path. Java checks UTF-16 units, so a character
/// beyond U+FFFF (a surrogate pair there) is refused like the surrogates themselves.
fn path_char(c: char) -> bool {
    !matches!(c,
        '\0'..='\u{1f}'
        | '\u{7f}'..='\u{9f}'
        | '\u{e000}'..='\u{f8ff}'
        | '\u{fff0}'..='\u{ffff}')
        && (c as u32) <= 0xFFFF
}

fn is_special(path: &str) -> bool {
    matches!(path, "/" | ZOOKEEPER | QUOTA | CONFIG)
}

fn check_version(current: i32, expected: i32) -> Result<i32, Code> {
    if expected != -1 && expected != current {
        return Err(Code::BadVersion);
    }
    Ok(current.wrapping_add(1))
}

impl<'a> Prep<'a> {
    /// Starts preparing one txn with this zxid and time.
    pub fn new(
        tree: &'a DataTree,
        outstanding: &'a mut Outstanding,
        ids: &'a [Id],
        session: i64,
        zxid: i64,
        time: i64,
    ) -> Prep<'a> {
        Prep {
            tree,
            outstanding,
            ids,
            session,
            zxid,
            time,
            extended_types: false,
            skip_acl: false,
            digest: true,
            scratch: Vec::new(),
            delta: 0,
        }
    }

    /// Current state of a node as later writes must see it.
    pub fn state(&self, path: &str) -> Option<NodeState> {
        let path = if path.is_empty() { "/" } else { path };
        if let Some((_, s)) = self.scratch.iter().rev().find(|(p, _)| p == path) {
            return s.clone();
        }
        if let Some((_, s)) = self.outstanding.changes.get(path) {
            return s.clone();
        }
        let n = self.tree.get(path)?;
        Some(NodeState {
            stat: n.stat.clone(),
            data: None,
            children: n.child_count() as i32,
            acl: self.tree.acl_of(n),
            digest: None,
            crc: Some(n.content_crc()),
        })
    }

    /// Records a node's new state (`None` = deleted) and its change of the tree digest.
    fn set(&mut self, path: &str, s: Option<NodeState>) {
        let old = if self.digest {
            self.state(path).map_or(0, |o| self.digest_of(path, &o))
        } else {
            0
        };
        self.set_replacing(path, old, s);
    }

    /// The digest of `node`, the state at `path` before a change (0 when digests are off).
    fn digest_of(&self, path: &str, node: &NodeState) -> u64 {
        if !self.digest {
            return 0;
        }
        let path = if path.is_empty() { "/" } else { path };
        node.digest(path, self.tree)
    }

    /// [`Self::set`] for a caller that has just read the node's state: `old` is that
    /// state's [`Self::digest_of`], which saves resolving the path again (for a create,
    /// a lookup that walks every level to find nothing).
    fn set_replacing(&mut self, path: &str, old: u64, mut s: Option<NodeState>) {
        let path = if path.is_empty() { "/" } else { path };
        if self.digest {
            let tree = self.tree;
            let new = s.as_mut().map_or(0, |n| {
                let crc = n.content_crc(path, tree);
                let d = digest_with(path, crc, &n.stat);
                (n.crc, n.digest) = (Some(crc), Some(d));
                d
            });
            self.delta = self.delta.wrapping_sub(old).wrapping_add(new);
        }
        self.scratch.push((path.to_owned(), s));
    }

    fn check_acl(&self, acl: &[Acl], perm: i32) -> Result<(), Code> {
        if acl::check(acl, perm, self.ids, self.skip_acl) {
            Ok(())
        } else {
            Err(Code::NoAuth)
        }
    }

    /// Makes this txn's changes visible to later prepares; returns the touched paths.
    pub fn commit(self) -> Vec<String> {
        if self.digest && !self.scratch.is_empty() {
            let base = self.outstanding.digest(self.tree) as u64;
            self.outstanding.digest = Some((self.zxid, base.wrapping_add(self.delta)));
        }
        let mut touched = Vec::with_capacity(self.scratch.len());
        for (p, s) in self.scratch {
            if !touched.contains(&p) {
                touched.push(p.clone());
            }
            self.outstanding.changes.insert(p, (self.zxid, s));
        }
        touched
    }

    /// create / create2 / createContainer / createTTL.
    pub fn create(
        &mut self,
        op: OpCode,
        req: &CreateRequest,
        ttl: i64,
    ) -> Result<(TxnBody, String), Code> {
        let mode = CreateMode::try_from(req.flags).map_err(|_| Code::BadArguments)?;
        if mode.is_ttl() && !self.extended_types {
            return Err(Code::Unimplemented);
        }
        if mode.is_ttl() {
            if ttl <= 0 || ttl > MAX_TTL {
                return Err(Code::BadArguments);
            }
        } else if ttl >= 0 {
            return Err(Code::BadArguments);
        }
        let path = req.path.as_str();
        let slash = last_slash(path).ok_or(Code::BadArguments)?;
        if path.contains('\0') {
            return Err(Code::BadArguments);
        }
        let acl = acl::fixup(&req.acl, self.ids).ok_or(Code::InvalidAcl)?;
        let parent_path = if slash == 0 { "/" } else { &path[..slash] };
        let parent = self.state(parent_path).ok_or(Code::NoNode)?;
        self.check_acl(&parent.acl, acl::CREATE)?;
        let path = if mode.is_sequential() {
            format!("{path}{:010}", parent.stat.cversion)
        } else {
            path.to_owned()
        };
        validate_path(&path)?;
        if self.state(&path).is_some() {
            return Err(Code::NodeExists);
        }
        if matches!(
            NodeKind::of(parent.stat.ephemeral_owner),
            NodeKind::Ephemeral(_)
        ) {
            return Err(Code::NoChildrenForEphemerals);
        }
        let parent_cversion = parent.stat.cversion.wrapping_add(1);
        // As in ZooKeeper, the opcode (not the flags) decides container and TTL nodes.
        let owner = match op {
            OpCode::CreateContainer => crate::tree::CONTAINER_OWNER,
            OpCode::CreateTtl => NodeKind::ttl_owner(ttl),
            _ if mode.is_ephemeral() => self.session,
            _ => 0,
        };
        let parent_digest = self.digest_of(parent_path, &parent);
        let mut p = parent;
        p.children += 1;
        // As the tree applies it: only a newer cversion moves the parent.
        if parent_cversion > p.stat.cversion {
            p.stat.cversion = parent_cversion;
            p.stat.pzxid = self.zxid;
        }
        self.set_replacing(parent_path, parent_digest, Some(p));
        let (z, t) = (self.zxid, self.time);
        let state = NodeState {
            stat: StatPersisted {
                czxid: z,
                mzxid: z,
                ctime: t,
                mtime: t,
                version: 0,
                cversion: 0,
                aversion: 0,
                ephemeral_owner: owner,
                pzxid: z,
            },
            data: Some(req.data.clone()),
            children: 0,
            acl: acl.clone().into(),
            digest: None,
            crc: None,
        };
        // No node at `path` (checked above): nothing to take out of the digest.
        self.set_replacing(&path, 0, Some(state));
        let (data, p) = (req.data.clone(), path.clone());
        let body = match op {
            OpCode::CreateContainer => TxnBody::CreateContainer(CreateContainerTxn {
                path: p,
                data,
                acl,
                parent_cversion,
            }),
            OpCode::CreateTtl => TxnBody::CreateTtl(CreateTtlTxn {
                path: p,
                data,
                acl,
                parent_cversion,
                ttl,
            }),
            _ => TxnBody::Create(CreateTxn {
                path: p,
                data,
                acl,
                ephemeral: mode.is_ephemeral(),
                parent_cversion,
            }),
        };
        Ok((body, path))
    }

    /// delete (`container` = the server's deleteContainer, which skips ACLs).
    pub fn delete(&mut self, path: &str, version: i32, container: bool) -> Result<TxnBody, Code> {
        let slash = last_slash(path).ok_or(Code::BadArguments)?;
        if path.contains('\0') || is_special(path) {
            return Err(Code::BadArguments);
        }
        let parent_path = if slash == 0 { "/" } else { &path[..slash] };
        let parent = self.state(parent_path).ok_or(Code::NoNode)?;
        if !container {
            self.check_acl(&parent.acl, acl::DELETE)?;
        }
        let node = self.state(path).ok_or(Code::NoNode)?;
        if container {
            if node.children > 0 {
                return Err(Code::NotEmpty);
            }
            if matches!(
                NodeKind::of(node.stat.ephemeral_owner),
                NodeKind::Ephemeral(_)
            ) {
                return Err(Code::BadVersion);
            }
        } else {
            check_version(node.stat.version, version)?;
            if node.children > 0 {
                return Err(Code::NotEmpty);
            }
        }
        let mut p = parent;
        p.children -= 1;
        p.stat.pzxid = p.stat.pzxid.max(self.zxid);
        self.set(parent_path, Some(p));
        self.set(path, None);
        Ok(TxnBody::Delete(DeleteTxn {
            path: path.to_owned(),
        }))
    }

    /// setData.
    pub fn set_data(
        &mut self,
        path: &str,
        data: Option<bytes::Bytes>,
        version: i32,
    ) -> Result<TxnBody, Code> {
        validate_path(path)?;
        let mut node = self.state(path).ok_or(Code::NoNode)?;
        self.check_acl(&node.acl, acl::WRITE)?;
        let new = check_version(node.stat.version, version)?;
        let old = self.digest_of(path, &node);
        node.stat.version = new;
        node.stat.mzxid = self.zxid;
        node.stat.mtime = self.time;
        node.set_data(data.clone());
        self.set_replacing(path, old, Some(node));
        Ok(TxnBody::SetData(SetDataTxn {
            path: path.to_owned(),
            data,
            version: new,
        }))
    }

    /// setACL.
    pub fn set_acl(&mut self, path: &str, acl: &[Acl], version: i32) -> Result<TxnBody, Code> {
        validate_path(path)?;
        let acl = acl::fixup(acl, self.ids).ok_or(Code::InvalidAcl)?;
        let mut node = self.state(path).ok_or(Code::NoNode)?;
        self.check_acl(&node.acl, acl::ADMIN)?;
        let new = check_version(node.stat.aversion, version)?;
        node.stat.aversion = new;
        node.acl = acl.clone().into();
        self.set(path, Some(node));
        Ok(TxnBody::SetAcl(SetAclTxn {
            path: path.to_owned(),
            acl,
            version: new,
        }))
    }

    /// check (inside multi).
    pub fn check(&mut self, path: &str, version: i32) -> Result<TxnBody, Code> {
        validate_path(path)?;
        let node = self.state(path).ok_or(Code::NoNode)?;
        self.check_acl(&node.acl, acl::READ)?;
        let new = check_version(node.stat.version, version)?;
        Ok(TxnBody::Check(CheckVersionTxn {
            path: path.to_owned(),
            version: new,
        }))
    }

    /// closeSession: the session's ephemerals, including ones created by outstanding txns.
    pub fn close_session(&mut self) -> TxnBody {
        let mut paths: Vec<String> = self
            .tree
            .ephemerals_of(self.session)
            .map(str::to_owned)
            .collect();
        for (p, (_, s)) in &self.outstanding.changes {
            match s {
                None => paths.retain(|x| x != p),
                Some(s) if s.stat.ephemeral_owner == self.session && !paths.contains(p) => {
                    paths.push(p.clone())
                }
                _ => {}
            }
        }
        paths.sort();
        for p in &paths {
            // Each delete moves the parent's pzxid (its child count is left as ZooKeeper's
            // closeSession leaves it).
            if let Some(parent) = split_path(p).map(|(parent, _)| parent) {
                if let Some(mut s) = self.state(parent) {
                    s.stat.pzxid = s.stat.pzxid.max(self.zxid);
                    self.set(parent, Some(s));
                }
            }
            self.set(p, None);
        }
        TxnBody::CloseSession(Some(CloseSessionTxn {
            paths_to_delete: paths,
        }))
    }

    /// multi: every op in order against the scratch state; on the first failure, the ops
    /// before keep their txns, the failing op gets its code and later ops -2.
    pub fn multi(&mut self, ops: &[MultiOp]) -> TxnBody {
        let mut subs = Vec::with_capacity(ops.len());
        let mut failed = false;
        for op in ops {
            if failed {
                subs.push(error_sub(Code::RuntimeInconsistency));
                continue;
            }
            let r = match op {
                MultiOp::Create(o, r) => self.create(*o, r, -1).map(|(b, _)| (o.code(), b)),
                MultiOp::CreateTtl(r) => {
                    let cr = CreateRequest {
                        path: r.path.clone(),
                        data: r.data.clone(),
                        acl: r.acl.clone(),
                        flags: r.flags,
                    };
                    self.create(OpCode::CreateTtl, &cr, r.ttl)
                        .map(|(b, _)| (OpCode::CreateTtl.code(), b))
                }
                MultiOp::Delete(r) => self
                    .delete(&r.path, r.version, false)
                    .map(|b| (OpCode::Delete.code(), b)),
                MultiOp::SetData(r) => self
                    .set_data(&r.path, r.data.clone(), r.version)
                    .map(|b| (OpCode::SetData.code(), b)),
                MultiOp::Check(r) => self
                    .check(&r.path, r.version)
                    .map(|b| (OpCode::Check.code(), b)),
                MultiOp::GetChildren(_) | MultiOp::GetData(_) => Err(Code::BadArguments),
            };
            match r {
                Ok((kind, body)) => subs.push(TxnBodyOf { kind, body }),
                Err(code) => {
                    failed = true;
                    self.scratch.clear();
                    self.delta = 0;
                    subs.push(error_sub(code));
                }
            }
        }
        TxnBody::Multi(subs)
    }
}

fn error_sub(code: Code) -> TxnBodyOf {
    TxnBodyOf {
        kind: OpCode::Error.code(),
        body: TxnBody::Error(ErrorTxn { err: code.code() }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The check as ZooKeeper's PathUtils.validatePath writes it, character by character,
    /// to hold the in-place version to.
    fn validate_path_by_chars(path: &str) -> Result<(), Code> {
        let bad = Err(Code::BadArguments);
        if !path.starts_with('/') {
            return bad;
        }
        if path.len() == 1 {
            return Ok(());
        }
        if path.ends_with('/') {
            return bad;
        }
        let chars: Vec<char> = path.chars().collect();
        let mut prev = '/';
        for (i, &c) in chars.iter().enumerate().skip(1) {
            let end_or_slash = i + 1 == chars.len() || chars[i + 1] == '/';
            let invalid = c == '\0'
                || (c == '/' && prev == '/')
                || (c == '.' && prev == '.' && chars[i - 2] == '/' && end_or_slash)
                || (c == '.' && prev == '/' && end_or_slash)
                || ('\u{1}'..='\u{1f}').contains(&c)
                || ('\u{7f}'..='\u{9f}').contains(&c)
                || ('\u{e000}'..='\u{f8ff}').contains(&c)
                || c as u32 > 0xFFFF
                || ('\u{fff0}'..='\u{ffff}').contains(&c);
            if invalid {
                return bad;
            }
            prev = c;
        }
        Ok(())
    }

    proptest::proptest! {
        #[test]
        fn paths_agree_with_the_char_by_char_check(
            path in "[/./a\u{0}\u{1f}\u{7f}\u{9f}\u{e000}\u{fff0}\u{10000}é]{0,12}"
        ) {
            proptest::prop_assert_eq!(validate_path(&path), validate_path_by_chars(&path));
        }
    }

    #[test]
    fn paths() {
        for ok in [
            "/", "/a", "/a/b", "/a.b", "/..a", "/a/.b", "/.a.", "/a/...", "/é",
        ] {
            assert_eq!(validate_path(ok), Ok(()), "{ok}");
        }
        for bad in [
            "",
            "a",
            "/a/",
            "//",
            "/a//b",
            "/.",
            "/..",
            "/a/./b",
            "/a/../b",
            "/a\0",
            "/\u{1}",
            "/\u{e000}",
            "/a/.",
            "/a/..",
            "/\u{10000}",
            "/\u{ffff}",
        ] {
            assert_eq!(validate_path(bad), Err(Code::BadArguments), "{bad:?}");
        }
    }

    #[test]
    fn sequential_and_multi_rollback() {
        let tree = DataTree::new();
        let mut out = Outstanding::default();
        let mut p = Prep::new(&tree, &mut out, &[], 1, 1, 0);
        let req = CreateRequest {
            path: "/s-".into(),
            data: None,
            acl: Acl::open(),
            flags: 2,
        };
        let (_, path) = p.create(OpCode::Create, &req, -1).unwrap();
        assert_eq!(path, "/s-0000000000");
        p.commit();
        let mut p = Prep::new(&tree, &mut out, &[], 1, 2, 0);
        let ops = vec![
            MultiOp::Create(
                OpCode::Create,
                CreateRequest {
                    path: "/x".into(),
                    data: None,
                    acl: Acl::open(),
                    flags: 0,
                },
            ),
            MultiOp::Delete(jute::proto::DeleteRequest {
                path: "/nope".into(),
                version: -1,
            }),
            MultiOp::Check(jute::proto::CheckVersionRequest {
                path: "/x".into(),
                version: 0,
            }),
        ];
        let TxnBody::Multi(subs) = p.multi(&ops) else {
            panic!()
        };
        assert_eq!(subs[0].kind, 1);
        assert_eq!(subs[1].body, TxnBody::Error(ErrorTxn { err: -101 }));
        assert_eq!(subs[2].body, TxnBody::Error(ErrorTxn { err: -2 }));
        assert!(p.commit().is_empty());
    }
}
