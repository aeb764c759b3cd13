//! The DataTree: every znode with its data, ACL reference, Stat and children, plus the
//! indexes the server needs (ephemerals by session, containers, TTL nodes).
//!
//! The tree only applies already-decided changes (txns); validation happens in
//! `processor::prep` so the same txn replays identically from the log or a leader.

use crate::acl::{AclCache, OPEN_ACL_ID};
use bytes::Bytes;
use jute::data::{Acl, Stat, StatPersisted};
use jute::Code;
use std::collections::{BTreeSet, HashMap, HashSet};

/// ZooKeeper's digest version (`DigestCalculator.DIGEST_VERSION`) for TxnDigest and ZxidDigest.
pub const DIGEST_VERSION: i32 = 2;

static DIGEST_ENABLED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);

/// `zookeeper.digest.enabled` for persistence (snapshot ZxidDigest, digest checks at
/// recovery); process-wide like ZooKeeper's `ZooKeeperServer.isDigestEnabled()`.
pub fn digest_enabled() -> bool {
    DIGEST_ENABLED.load(std::sync::atomic::Ordering::Relaxed)
}

/// Sets [`digest_enabled`] (server start-up, from the configuration).
pub fn set_digest_enabled(on: bool) {
    DIGEST_ENABLED.store(on, std::sync::atomic::Ordering::Relaxed);
}

/// ZooKeeper's per-node digest (`DigestCalculator`): CRC-32 over the path (`""` for the
/// root), the data when not null, and the 60-byte block czxid, mzxid, pzxid, ctime, mtime,
/// version, cversion (stored), aversion, ephemeralOwner (big-endian). Nodes under
/// `/zookeeper/` count 0 (`/zookeeper` itself counts).
pub fn node_digest(path: &str, data: Option<&[u8]>, s: &StatPersisted) -> u64 {
    if path.starts_with("/zookeeper/") {
        return 0;
    }
    let mut h = crc32fast::Hasher::new();
    h.update(if path == "/" { b"" } else { path.as_bytes() });
    if let Some(d) = data {
        h.update(d);
    }
    let mut b = [0u8; 60];
    for (i, v) in [s.czxid, s.mzxid, s.pzxid, s.ctime, s.mtime]
        .into_iter()
        .enumerate()
    {
        b[i * 8..i * 8 + 8].copy_from_slice(&v.to_be_bytes());
    }
    for (i, v) in [s.version, s.cversion, s.aversion].into_iter().enumerate() {
        b[40 + i * 4..44 + i * 4].copy_from_slice(&v.to_be_bytes());
    }
    b[52..].copy_from_slice(&s.ephemeral_owner.to_be_bytes());
    h.update(&b);
    h.finalize() as u64
}

/// `ephemeralOwner` of container nodes.
pub const CONTAINER_OWNER: i64 = i64::MIN;
/// High byte marking a TTL node's `ephemeralOwner`.
const TTL_MASK: i64 = 0xFF00_0000_0000_0000u64 as i64;
/// Largest TTL a node may carry (40 bits of milliseconds).
pub const MAX_TTL: i64 = 0x0000_00FF_FFFF_FFFF;

/// What kind of node an `ephemeralOwner` value denotes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    Persistent,
    Ephemeral(i64),
    Container,
    Ttl(i64),
}

impl NodeKind {
    /// Decodes an `ephemeralOwner`.
    pub fn of(owner: i64) -> NodeKind {
        if owner == 0 {
            NodeKind::Persistent
        } else if owner == CONTAINER_OWNER {
            NodeKind::Container
        } else if owner & TTL_MASK == TTL_MASK {
            NodeKind::Ttl(owner & MAX_TTL)
        } else {
            NodeKind::Ephemeral(owner)
        }
    }
    /// Encodes a TTL as an `ephemeralOwner`.
    pub fn ttl_owner(ttl: i64) -> i64 {
        TTL_MASK | (ttl & MAX_TTL)
    }
}

/// One znode.
#[derive(Debug, Clone)]
pub struct Node {
    /// `None` is ZooKeeper's null data, distinct from empty.
    pub data: Option<Bytes>,
    /// Reference into the tree's [`AclCache`].
    pub acl: i64,
    /// Stored stat: `cversion` is the stored (create-count) value.
    pub stat: StatPersisted,
    pub children: HashSet<Box<str>>,
}

impl Node {
    /// This node's [`node_digest`] at `path`.
    pub fn digest(&self, path: &str) -> u64 {
        node_digest(path, self.data.as_deref(), &self.stat)
    }

    /// The Stat clients see (reported cversion, numChildren, dataLength, masked owner).
    pub fn stat(&self) -> Stat {
        let s = &self.stat;
        let n = self.children.len() as i32;
        Stat {
            czxid: s.czxid,
            mzxid: s.mzxid,
            ctime: s.ctime,
            mtime: s.mtime,
            version: s.version,
            cversion: s.cversion.wrapping_mul(2).wrapping_sub(n),
            aversion: s.aversion,
            ephemeral_owner: match NodeKind::of(s.ephemeral_owner) {
                NodeKind::Ephemeral(o) => o,
                _ => 0,
            },
            data_length: self.data.as_ref().map_or(0, |d| d.len() as i32),
            num_children: n,
            pzxid: s.pzxid,
        }
    }
}

/// Splits `/a/b` into (`/a`, `b`); the parent of `/a` is `/`.
pub fn split_path(path: &str) -> Option<(&str, &str)> {
    let i = path.rfind('/')?;
    let parent = if i == 0 { "/" } else { &path[..i] };
    Some((parent, &path[i + 1..]))
}

/// All znodes and their indexes.
#[derive(Debug)]
pub struct DataTree {
    nodes: HashMap<Box<str>, Node>,
    pub acls: AclCache,
    ephemerals: HashMap<i64, BTreeSet<Box<str>>>,
    containers: HashSet<Box<str>>,
    ttls: HashSet<Box<str>>,
    /// Zxid of the last txn applied.
    pub last_processed_zxid: i64,
    data_size: u64,
    /// Paths with a quota (a `zookeeper_limits` node under `/zookeeper/quota`).
    quotas: HashSet<Box<str>>,
    /// ZooKeeper's tree digest (AdHash): wrapping sum of every node's [`node_digest`].
    digest: u64,
    /// Digest mismatches found (replayed or applied txns, loaded snapshots).
    pub digest_mismatches: u64,
}

/// The built-in nodes ZooKeeper creates in every tree.
pub const ZOOKEEPER: &str = "/zookeeper";
pub const QUOTA: &str = "/zookeeper/quota";
pub const CONFIG: &str = "/zookeeper/config";
/// Name of the node holding a quota's limits, under `/zookeeper/quota/<path>/`.
const QUOTA_LIMITS: &str = "zookeeper_limits";
/// Name of the node holding a quota's current usage.
const QUOTA_STATS: &str = "zookeeper_stats";

/// For `/zookeeper/quota/<p>/<leaf>`, the quota'd path `<p>`.
fn quota_target<'a>(path: &'a str, leaf: &str) -> Option<&'a str> {
    let rest = path.strip_prefix(QUOTA)?;
    let q = rest.strip_suffix(leaf)?.strip_suffix('/')?;
    q.starts_with('/').then_some(q)
}

fn empty_node(acl: i64) -> Node {
    Node {
        data: Some(Bytes::new()),
        acl,
        stat: StatPersisted::default(),
        children: HashSet::new(),
    }
}

impl Default for DataTree {
    fn default() -> Self {
        DataTree::new()
    }
}

impl DataTree {
    /// A fresh tree: `/`, `/zookeeper`, `/zookeeper/quota`, `/zookeeper/config`.
    pub fn new() -> DataTree {
        let mut t = DataTree::empty();
        let root = empty_node(OPEN_ACL_ID);
        t.add_digest("/", &root);
        t.nodes.insert("/".into(), root);
        for p in [ZOOKEEPER, QUOTA] {
            t.insert_raw(p, empty_node(OPEN_ACL_ID));
        }
        let ro = t.acls.intern(&Acl::read_only());
        let mut config = empty_node(ro);
        // ZooKeeper sets this ACL with version -1 after creating the node.
        config.stat.aversion = -1;
        t.insert_raw(CONFIG, config);
        t
    }

    /// A tree with no nodes at all (snapshot loading fills it).
    pub fn empty() -> DataTree {
        DataTree {
            nodes: HashMap::new(),
            acls: AclCache::default(),
            ephemerals: HashMap::new(),
            containers: HashSet::new(),
            ttls: HashSet::new(),
            last_processed_zxid: 0,
            data_size: 0,
            quotas: HashSet::new(),
            digest: 0,
            digest_mismatches: 0,
        }
    }

    /// ZooKeeper's tree digest of the current tree (`DataTree.getTreeDigest`).
    pub fn digest(&self) -> i64 {
        self.digest as i64
    }

    /// ZooKeeper's `compareDigest`: whether a txn's logged digest matches the tree after
    /// applying it. A mismatch logs an error and counts; another digest version is skipped.
    pub fn check_digest(&mut self, zxid: i64, d: &jute::txn::TxnDigest) -> bool {
        if d.version != DIGEST_VERSION || d.tree_digest == self.digest() {
            return true;
        }
        self.digest_mismatches += 1;
        tracing::error!(
            zxid = format_args!("0x{zxid:x}"),
            expected = d.tree_digest,
            actual = self.digest(),
            "digest mismatch: the tree digest after this txn differs from the logged one"
        );
        false
    }

    fn add_digest(&mut self, path: &str, node: &Node) {
        self.digest = self.digest.wrapping_add(node.digest(path));
    }

    fn sub_digest(&mut self, path: &str, node: &Node) {
        self.digest = self.digest.wrapping_sub(node.digest(path));
    }

    /// Changes a node's stat in place, keeping the tree digest (replay repairs).
    pub fn update_stat(&mut self, path: &str, f: impl FnOnce(&mut StatPersisted)) {
        let path = if path.is_empty() { "/" } else { path };
        if let Some(n) = self.nodes.get_mut(path) {
            let old = n.digest(path);
            f(&mut n.stat);
            let new = n.digest(path);
            self.digest = self.digest.wrapping_sub(old).wrapping_add(new);
        }
    }

    /// Inserts a node and links it to its parent without touching Stats (tree building).
    pub fn insert_raw(&mut self, path: &str, node: Node) {
        if let Some((parent, name)) = split_path(path) {
            if path != "/" {
                if let Some(p) = self.nodes.get_mut(parent) {
                    p.children.insert(name.into());
                }
            }
        }
        self.index(path, &node);
        self.data_size += path.len() as u64 + node.data.as_ref().map_or(0, |d| d.len() as u64);
        self.add_digest(path, &node);
        if let Some(old) = self.nodes.insert(path.into(), node) {
            self.sub_digest(path, &old);
        }
        if let Some(q) = quota_target(path, QUOTA_LIMITS) {
            self.quotas.insert(q.into());
        }
    }

    fn index(&mut self, path: &str, node: &Node) {
        match NodeKind::of(node.stat.ephemeral_owner) {
            NodeKind::Ephemeral(s) => {
                self.ephemerals.entry(s).or_default().insert(path.into());
            }
            NodeKind::Container => {
                self.containers.insert(path.into());
            }
            NodeKind::Ttl(_) => {
                self.ttls.insert(path.into());
            }
            NodeKind::Persistent => {}
        }
    }

    fn unindex(&mut self, path: &str, owner: i64) {
        match NodeKind::of(owner) {
            NodeKind::Ephemeral(s) => {
                if let Some(set) = self.ephemerals.get_mut(&s) {
                    set.remove(path);
                    if set.is_empty() {
                        self.ephemerals.remove(&s);
                    }
                }
            }
            NodeKind::Container => {
                self.containers.remove(path);
            }
            NodeKind::Ttl(_) => {
                self.ttls.remove(path);
            }
            NodeKind::Persistent => {}
        }
    }

    /// Looks a node up; `""` aliases the root, as in ZooKeeper.
    pub fn get(&self, path: &str) -> Option<&Node> {
        self.nodes.get(if path.is_empty() { "/" } else { path })
    }

    /// The ACL list of a node.
    pub fn acl_of(&self, node: &Node) -> std::sync::Arc<[Acl]> {
        self.acls.get(node.acl)
    }

    /// Number of nodes, counted as ZooKeeper counts them (the root twice: `""` and `/`).
    pub fn node_count(&self) -> usize {
        self.nodes.len() + 1
    }

    /// Sum of path and data lengths (mntr's approximate_data_size).
    pub fn approximate_data_size(&self) -> u64 {
        self.data_size
    }

    /// Applies a create. `parent_cversion` is the parent's new stored cversion from the txn.
    #[allow(clippy::too_many_arguments)]
    pub fn create(
        &mut self,
        path: &str,
        data: Option<Bytes>,
        acl: &[Acl],
        owner: i64,
        parent_cversion: i32,
        zxid: i64,
        time: i64,
    ) -> Result<(), Code> {
        let (parent, name) = split_path(path).ok_or(Code::NoNode)?;
        let p = self.nodes.get_mut(parent).ok_or(Code::NoNode)?;
        if p.children.contains(name) {
            return Err(Code::NodeExists);
        }
        let cv = if parent_cversion == -1 {
            p.stat.cversion + 1
        } else {
            parent_cversion
        };
        // As ZooKeeper: only a newer cversion moves the parent (fuzzy replay).
        if cv > p.stat.cversion {
            let old = p.digest(parent);
            p.stat.cversion = cv;
            p.stat.pzxid = zxid;
            self.digest = self.digest.wrapping_sub(old).wrapping_add(p.digest(parent));
        }
        p.children.insert(name.into());
        let acl_id = self.acls.intern(acl);
        let stat = StatPersisted {
            czxid: zxid,
            mzxid: zxid,
            ctime: time,
            mtime: time,
            version: 0,
            cversion: 0,
            aversion: 0,
            ephemeral_owner: owner,
            pzxid: zxid,
        };
        let bytes = data.as_ref().map_or(0, |d| d.len() as i64);
        self.data_size += path.len() as u64 + bytes as u64;
        let node = Node {
            data,
            acl: acl_id,
            stat,
            children: HashSet::new(),
        };
        self.index(path, &node);
        self.add_digest(path, &node);
        self.nodes.insert(path.into(), node);
        self.quota_on_create(path, bytes);
        Ok(())
    }

    /// Applies a delete; the parent's pzxid moves forward, its stored cversion does not.
    pub fn delete(&mut self, path: &str, zxid: i64) -> Result<(), Code> {
        let (parent, name) = split_path(path).ok_or(Code::NoNode)?;
        let node = self.nodes.remove(path).ok_or(Code::NoNode)?;
        self.sub_digest(path, &node);
        if let Some(q) = quota_target(path, QUOTA_LIMITS) {
            self.quotas.remove(q);
        }
        if !self.quotas.is_empty() {
            self.quota_update(path, -node.data.as_ref().map_or(0, |d| d.len() as i64), -1);
        }
        self.acls.release(node.acl);
        self.unindex(path, node.stat.ephemeral_owner);
        self.data_size = self
            .data_size
            .saturating_sub(path.len() as u64 + node.data.as_ref().map_or(0, |d| d.len() as u64));
        if let Some(p) = self.nodes.get_mut(parent) {
            p.children.remove(name);
            if zxid > p.stat.pzxid {
                let old = p.digest(parent);
                p.stat.pzxid = zxid;
                self.digest = self.digest.wrapping_sub(old).wrapping_add(p.digest(parent));
            }
        }
        Ok(())
    }

    /// Applies a setData with the txn's new version.
    pub fn set_data(
        &mut self,
        path: &str,
        data: Option<Bytes>,
        version: i32,
        zxid: i64,
        time: i64,
    ) -> Result<Stat, Code> {
        let node = self.nodes.get_mut(path).ok_or(Code::NoNode)?;
        let old = node.data.as_ref().map_or(0, |d| d.len() as u64);
        let new = data.as_ref().map_or(0, |d| d.len() as u64);
        let old_digest = node.digest(path);
        node.data = data;
        node.stat.version = version;
        node.stat.mzxid = zxid;
        node.stat.mtime = time;
        let stat = node.stat();
        let new_digest = node.digest(path);
        self.digest = self
            .digest
            .wrapping_sub(old_digest)
            .wrapping_add(new_digest);
        self.data_size = self.data_size.saturating_sub(old) + new;
        if !self.quotas.is_empty() {
            self.quota_update(path, new as i64 - old as i64, 0);
        }
        Ok(stat)
    }

    /// Applies a setACL with the txn's new aversion.
    pub fn set_acl(&mut self, path: &str, acl: &[Acl], aversion: i32) -> Result<Stat, Code> {
        let new_id = self.acls.intern(acl);
        let node = self.nodes.get_mut(path).ok_or(Code::NoNode)?;
        let old_id = std::mem::replace(&mut node.acl, new_id);
        let old_digest = node.digest(path);
        node.stat.aversion = aversion;
        let stat = node.stat();
        let new_digest = node.digest(path);
        self.digest = self
            .digest
            .wrapping_sub(old_digest)
            .wrapping_add(new_digest);
        self.acls.release(old_id);
        Ok(stat)
    }

    /// Keeps quota bookkeeping after a create: a new `zookeeper_limits` node adds a quota,
    /// a new `zookeeper_stats` node is filled with the subtree's current counts, any
    /// other node counts towards the closest quota above it (as ZooKeeper's DataTree).
    fn quota_on_create(&mut self, path: &str, bytes: i64) {
        if let Some(q) = quota_target(path, QUOTA_LIMITS) {
            self.quotas.insert(q.into());
        } else if let Some(q) = quota_target(path, QUOTA_STATS) {
            let (count, bytes) = self.subtree_counts(q);
            if let Some(n) = self.nodes.get_mut(path) {
                n.data = Some(Bytes::from(format!("count={count},bytes={bytes}")));
            }
        } else if !self.quotas.is_empty() {
            self.quota_update(path, bytes, 1);
        }
    }

    /// The quota path governing `path`: the longest quota'd ancestor-or-self, never `/`.
    fn quota_root(&self, path: &str) -> Option<String> {
        let mut p = path;
        loop {
            if p != "/" && self.quotas.contains(p) {
                return Some(p.to_owned());
            }
            let i = p.rfind('/')?;
            if i == 0 {
                return None;
            }
            p = &p[..i];
        }
    }

    /// Adjusts the `zookeeper_stats` node of the quota governing `path` (under
    /// `/zookeeper/`, so outside the tree digest).
    fn quota_update(&mut self, path: &str, bytes: i64, count: i64) {
        if path.starts_with(QUOTA) {
            return;
        }
        let Some(q) = self.quota_root(path) else {
            return;
        };
        let stats_path = format!("{QUOTA}{q}/{QUOTA_STATS}");
        let Some(node) = self.nodes.get_mut(stats_path.as_str()) else {
            return;
        };
        let text = node
            .data
            .as_deref()
            .map(String::from_utf8_lossy)
            .unwrap_or_default();
        let field = |k: &str| -> i64 {
            text.split(',')
                .find_map(|kv| kv.split_once('=').filter(|(key, _)| *key == k))
                .and_then(|(_, v)| v.split(['=', ';']).next()?.parse().ok())
                .unwrap_or(0)
        };
        let (c, b) = (field("count") + count, field("bytes") + bytes);
        node.data = Some(Bytes::from(format!("count={c},bytes={b}")));
    }

    /// Node count (including `path`) and data bytes of a subtree.
    fn subtree_counts(&self, path: &str) -> (i64, i64) {
        let mut stack = vec![path.to_owned()];
        let (mut count, mut bytes) = (0i64, 0i64);
        while let Some(p) = stack.pop() {
            let Some(n) = self.nodes.get(p.as_str()) else {
                continue;
            };
            count += 1;
            bytes += n.data.as_ref().map_or(0, |d| d.len() as i64);
            let base = if p == "/" { "" } else { p.as_str() };
            stack.extend(n.children.iter().map(|c| format!("{base}/{c}")));
        }
        (count, bytes)
    }

    /// Paths of a session's ephemerals.
    pub fn ephemerals_of(&self, session: i64) -> impl Iterator<Item = &str> {
        self.ephemerals
            .get(&session)
            .into_iter()
            .flat_map(|s| s.iter().map(|p| &**p))
    }

    /// Sessions that own ephemerals, with their paths (for `dump`).
    pub fn all_ephemerals(&self) -> &HashMap<i64, BTreeSet<Box<str>>> {
        &self.ephemerals
    }

    /// Total number of ephemeral nodes.
    pub fn ephemeral_count(&self) -> usize {
        self.ephemerals.values().map(|s| s.len()).sum()
    }

    /// Container nodes (ContainerManager candidates).
    pub fn containers(&self) -> impl Iterator<Item = &str> {
        self.containers.iter().map(|p| &**p)
    }

    /// TTL nodes (ContainerManager candidates).
    pub fn ttl_nodes(&self) -> impl Iterator<Item = &str> {
        self.ttls.iter().map(|p| &**p)
    }

    /// Number of descendants of `path` (getAllChildrenNumber).
    pub fn descendant_count(&self, path: &str) -> usize {
        let Some(node) = self.get(path) else { return 0 };
        let base = if path == "/" || path.is_empty() {
            ""
        } else {
            path
        };
        let mut stack: Vec<String> = node
            .children
            .iter()
            .map(|c| format!("{base}/{c}"))
            .collect();
        let mut n = 0;
        while let Some(p) = stack.pop() {
            n += 1;
            if let Some(node) = self.nodes.get(p.as_str()) {
                stack.extend(node.children.iter().map(|c| format!("{p}/{c}")));
            }
        }
        n
    }

    /// Iterates all (path, node) pairs in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Node)> {
        self.nodes.iter().map(|(k, v)| (&**k, v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_tree_reports_like_zookeeper() {
        let t = DataTree::new();
        assert_eq!(t.node_count(), 5);
        assert_eq!(t.get("/").unwrap().stat().cversion, -1);
        assert_eq!(t.get("/zookeeper").unwrap().stat().cversion, -2);
        assert_eq!(t.descendant_count("/"), 3);
    }

    #[test]
    fn quota_stats_follow_the_subtree() {
        let mut t = DataTree::new();
        let open = Acl::open();
        let d = |s: &'static str| Some(Bytes::from_static(s.as_bytes()));
        t.create("/q", None, &open, 0, -1, 1, 0).unwrap();
        t.create("/q/a", d("12345"), &open, 0, -1, 2, 0).unwrap();
        for p in ["/zookeeper/quota/q"] {
            t.create(p, None, &open, 0, -1, 3, 0).unwrap();
        }
        t.create(
            "/zookeeper/quota/q/zookeeper_limits",
            d("count=5,bytes=-1"),
            &open,
            0,
            -1,
            4,
            0,
        )
        .unwrap();
        t.create(
            "/zookeeper/quota/q/zookeeper_stats",
            d("count=0,bytes=0"),
            &open,
            0,
            -1,
            5,
            0,
        )
        .unwrap();
        let stats = |t: &DataTree| {
            t.get("/zookeeper/quota/q/zookeeper_stats")
                .unwrap()
                .data
                .clone()
                .unwrap()
        };
        assert_eq!(&stats(&t)[..], b"count=2,bytes=5");
        t.create("/q/c", d("abc"), &open, 0, -1, 6, 0).unwrap();
        t.set_data("/q/a", d("1"), 1, 7, 0).unwrap();
        assert_eq!(&stats(&t)[..], b"count=3,bytes=4");
        t.delete("/q/c", 8).unwrap();
        assert_eq!(&stats(&t)[..], b"count=2,bytes=1");
    }

    #[test]
    fn create_delete_stats() {
        let mut t = DataTree::new();
        t.create("/a", None, &Acl::open(), 0, 1, 5, 100).unwrap();
        t.create(
            "/a/b",
            Some(Bytes::from_static(b"x")),
            &Acl::open(),
            0,
            1,
            6,
            101,
        )
        .unwrap();
        assert_eq!(
            t.create("/a/b", None, &Acl::open(), 0, 2, 7, 1),
            Err(Code::NodeExists)
        );
        t.delete("/a/b", 8).unwrap();
        let a = t.get("/a").unwrap().stat();
        assert_eq!((a.cversion, a.pzxid, a.num_children), (2, 8, 0));
        assert_eq!(split_path("/a"), Some(("/", "a")));
    }
}
