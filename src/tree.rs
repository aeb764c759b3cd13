//! The DataTree: every znode with its data, ACL reference, Stat and children, plus the
//! indexes the server needs (ephemerals by session, containers, TTL nodes).
//!
//! The tree only applies already-decided changes (txns); validation happens in
//! `processor::prep` so the same txn replays identically from the log or a leader.
//!
//! Layout, chosen for memory (a znode costs little more than its name and data): nodes live
//! in a slab addressed by a `u32` [`NodeId`]; a node stores only its own name — in one
//! allocation with its data — and its parent's id; children are a per-node hash table of
//! ids keyed by name. A path is resolved component by component from the root, so no full
//! path is stored anywhere except in the small ephemeral/container/TTL indexes.

pub mod blob;

use crate::acl::{AclCache, OPEN_ACL_ID};
use blob::Blob;
use hashbrown::HashTable;
use jute::data::{Acl, Stat, StatPersisted};
use jute::Code;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::hash::BuildHasher;

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
    digest_with(path, content_crc(path, data), s)
}

/// The CRC-32 of a node's path and data: the part of its [`node_digest`] that only a
/// change of data alters. Nodes keep it, so the digest of a stat change (a child added,
/// an ACL set) or of the old state a setData replaces costs 60 bytes of CRC, not the
/// whole value again.
pub fn content_crc(path: &str, data: Option<&[u8]>) -> u32 {
    let path = if path == "/" {
        b"" as &[u8]
    } else {
        path.as_bytes()
    };
    let data = data.unwrap_or_default();
    // One contiguous update is much cheaper than two small ones for typical nodes.
    let mut buf = [0u8; 448];
    let n = path.len() + data.len();
    if n <= buf.len() {
        buf[..path.len()].copy_from_slice(path);
        buf[path.len()..n].copy_from_slice(data);
        return crc32fast::hash(&buf[..n]);
    }
    let mut h = crc32fast::Hasher::new();
    h.update(path);
    h.update(data);
    h.finalize()
}

/// [`node_digest`] from the node's [`content_crc`] and its stat.
pub fn digest_with(path: &str, content_crc: u32, s: &StatPersisted) -> u64 {
    if path.starts_with("/zookeeper/") {
        return 0;
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
    let mut h = crc32fast::Hasher::new_with_initial(content_crc);
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

/// Index of a node in the tree's slab.
pub type NodeId = u32;
/// The root's id.
pub const ROOT: NodeId = 0;

/// A node's children: ids with a 32-bit hash of the child's name, so a growing table
/// rehashes without touching the children themselves.
type Children = HashTable<(NodeId, u32)>;

/// The table hash for a stored 32-bit name hash (hashbrown wants well-spread u64s).
fn spread(h32: u32) -> u64 {
    (h32 as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// Nodes per slab chunk: the slab grows by chunks, never by copying all nodes.
const CHUNK_BITS: u32 = 12;
const CHUNK_LEN: usize = 1 << CHUNK_BITS;

/// One znode.
#[derive(Debug)]
pub struct Node {
    /// The node's name (last path component) followed by its data.
    blob: Blob,
    name_len: u32,
    /// `false` is ZooKeeper's null data, distinct from empty.
    has_data: bool,
    /// [`content_crc`] of the node's path and data, set whenever either is (on insert
    /// and on setData); the struct's padding holds it, so it costs no memory.
    crc: u32,
    parent: NodeId,
    /// Reference into the tree's [`AclCache`].
    pub acl: i64,
    /// Stored stat: `cversion` is the stored (create-count) value.
    pub stat: StatPersisted,
    children: Option<Box<Children>>,
}

fn blob(name: &str, data: Option<&[u8]>) -> Blob {
    Blob::concat(name.as_bytes(), data.unwrap_or_default())
}

impl Node {
    /// A detached node (its name is set when it is inserted), e.g. from a snapshot.
    pub fn new(data: Option<&[u8]>, acl: i64, stat: StatPersisted) -> Node {
        Node::named("", data, acl, stat)
    }

    /// A detached node already carrying its name, so inserting it at a path ending in
    /// `name` allocates nothing more (snapshot loading builds nodes this way).
    pub fn named(name: &str, data: Option<&[u8]>, acl: i64, stat: StatPersisted) -> Node {
        Node {
            blob: blob(name, data),
            name_len: name.len() as u32,
            has_data: data.is_some(),
            crc: 0,
            parent: ROOT,
            acl,
            stat,
            children: None,
        }
    }

    /// The node's data; `None` is null data.
    pub fn data(&self) -> Option<&[u8]> {
        self.has_data.then(|| &self.blob[self.name_len as usize..])
    }

    fn data_len(&self) -> usize {
        self.blob.len() - self.name_len as usize
    }

    /// The name as bytes (no UTF-8 check; names are validated when created).
    pub fn name_bytes(&self) -> &[u8] {
        &self.blob[..self.name_len as usize]
    }

    /// The last component of the node's path (`""` for the root).
    pub fn name(&self) -> &str {
        std::str::from_utf8(&self.blob[..self.name_len as usize]).unwrap_or("")
    }

    fn set_name(&mut self, name: &str) {
        if self.name_bytes() == name.as_bytes() {
            return;
        }
        // `name_len <= blob.len()`: every constructor and rename sets both together.
        let renamed = blob(
            name,
            self.has_data.then(|| &self.blob[self.name_len as usize..]),
        );
        self.blob = renamed;
        self.name_len = name.len() as u32;
    }

    /// Replaces the data of the node at `path`.
    fn set_data(&mut self, path: &str, data: Option<&[u8]>) {
        self.blob
            .replace_after(self.name_len as usize, data.unwrap_or_default());
        self.has_data = data.is_some();
        self.crc = content_crc(path, data);
    }

    /// This node's [`content_crc`] (valid once it is in the tree).
    pub fn content_crc(&self) -> u32 {
        self.crc
    }

    /// Number of children.
    pub fn child_count(&self) -> usize {
        self.children.as_ref().map_or(0, |c| c.len())
    }

    /// This node's [`node_digest`] at `path`, from its kept [`content_crc`].
    pub fn digest(&self, path: &str) -> u64 {
        digest_with(path, self.crc, &self.stat)
    }

    /// The Stat clients see (reported cversion, numChildren, dataLength, masked owner).
    pub fn stat(&self) -> Stat {
        let s = &self.stat;
        let n = self.child_count() as i32;
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
            data_length: if self.has_data {
                self.data_len() as i32
            } else {
                0
            },
            num_children: n,
            pzxid: s.pzxid,
        }
    }
}

/// Byte index of the last `/` in `path`. A byte search: `str::rfind` with a `char`
/// pattern calls `memcmp` for each candidate, which was 10 % of a restart's profile.
#[inline]
pub fn last_slash(path: &str) -> Option<usize> {
    path.as_bytes().iter().rposition(|&b| b == b'/')
}

/// Splits `/a/b` into (`/a`, `b`); the parent of `/a` is `/`.
pub fn split_path(path: &str) -> Option<(&str, &str)> {
    let i = last_slash(path)?;
    let parent = if i == 0 { "/" } else { &path[..i] };
    Some((parent, &path[i + 1..]))
}

/// All znodes and their indexes.
#[derive(Debug)]
pub struct DataTree {
    slab: Vec<Box<[Option<Node>]>>,
    /// Ids below this have been handed out at least once.
    next: NodeId,
    free: Vec<NodeId>,
    count: usize,
    hasher: foldhash::fast::RandomState,
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
    /// Encoded child lists of large nodes, for repeated getChildren.
    child_lists: std::cell::RefCell<ChildLists>,
    /// Paths [`DataTree::lookup`] resolved lately, by the path's hash, in a slot picked by
    /// that hash: creates under one parent resolve the same parent again and again, and a
    /// write resolves its path when it is prepared, again for the digest, and again when
    /// it is applied after the fsync, with the rest of its batch resolved in between.
    /// Checking a remembered node's names up to the root is cheaper than probing every
    /// level's child table, and a slot holding another path costs only the hash.
    recent: [std::cell::Cell<(u64, NodeId)>; RECENT_LOOKUPS],
}

/// Slots of [`DataTree`]'s recent-lookup cache (a power of two): more than the writes a
/// batch at depth 1 holds, so that each one's path is still there when it is applied.
const RECENT_LOOKUPS: usize = 32;

/// getChildren replies of nodes with many children, encoded once and reused until a child
/// is linked or unlinked (the only ways a child list changes). Listing a big directory
/// over and over — Curator's lock and queue recipes, Kafka's broker registry — then costs
/// a copy of bytes instead of a walk of every child.
#[derive(Debug, Default)]
struct ChildLists {
    map: crate::fast::HashMap<NodeId, bytes::Bytes>,
    bytes: usize,
}

/// Nodes with fewer children are listed directly (cheap enough, and not worth the memory).
const CHILD_LIST_MIN: usize = 64;
/// Bytes the cached lists may hold; past it the cache starts over.
const CHILD_LIST_BUDGET: usize = 32 << 20;

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
    Node::new(Some(b""), acl, StatPersisted::default())
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
        t.insert_raw("/", empty_node(OPEN_ACL_ID));
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

    /// A tree with no nodes at all (snapshot loading fills it, root first).
    pub fn empty() -> DataTree {
        DataTree {
            slab: Vec::new(),
            next: 0,
            free: Vec::new(),
            count: 0,
            hasher: foldhash::fast::RandomState::default(),
            acls: AclCache::default(),
            ephemerals: HashMap::new(),
            containers: HashSet::new(),
            ttls: HashSet::new(),
            last_processed_zxid: 0,
            data_size: 0,
            quotas: HashSet::new(),
            digest: 0,
            digest_mismatches: 0,
            child_lists: Default::default(),
            recent: std::array::from_fn(|_| std::cell::Cell::new((0, NodeId::MAX))),
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

    // ---------------------------------------------------------------- slab and lookup

    fn node(&self, id: NodeId) -> Option<&Node> {
        self.slot(id).and_then(|n| n.as_ref())
    }

    fn node_mut(&mut self, id: NodeId) -> Option<&mut Node> {
        self.slot_mut(id).and_then(|n| n.as_mut())
    }

    fn slot(&self, id: NodeId) -> Option<&Option<Node>> {
        self.slab
            .get((id >> CHUNK_BITS) as usize)?
            .get(id as usize & (CHUNK_LEN - 1))
    }

    fn slot_mut(&mut self, id: NodeId) -> Option<&mut Option<Node>> {
        self.slab
            .get_mut((id >> CHUNK_BITS) as usize)?
            .get_mut(id as usize & (CHUNK_LEN - 1))
    }

    /// Makes slot `id` exist (a new chunk when needed).
    fn ensure_slot(&mut self, id: NodeId) {
        while self.slab.len() <= (id >> CHUNK_BITS) as usize {
            self.slab.push((0..CHUNK_LEN).map(|_| None).collect());
        }
    }

    fn hash(&self, name: &[u8]) -> u32 {
        self.hasher.hash_one(name) as u32
    }

    fn child_id(&self, parent: NodeId, name: &[u8]) -> Option<NodeId> {
        let table = self.node(parent)?.children.as_ref()?;
        let h = self.hash(name);
        table
            .find(spread(h), |&(c, hc)| {
                hc == h && self.node(c).is_some_and(|n| n.name_bytes() == name)
            })
            .map(|&(c, _)| c)
    }

    /// Resolves a path; `""` aliases the root, as in ZooKeeper.
    pub fn lookup(&self, path: &str) -> Option<NodeId> {
        if path.is_empty() || path == "/" {
            return self.node(ROOT).map(|_| ROOT);
        }
        let h = self.hasher.hash_one(path.as_bytes());
        let slot = &self.recent[(h >> 32) as usize % RECENT_LOOKUPS];
        let (seen, known) = slot.get();
        if seen == h && self.is_at(known, path) {
            return Some(known);
        }
        // Names are split at the byte '/', which in UTF-8 is never part of another
        // character; short names make a plain loop cheaper than the str searchers.
        let mut id = ROOT;
        for comp in path.strip_prefix('/')?.as_bytes().split(|&b| b == b'/') {
            id = self.child_id(id, comp)?;
        }
        slot.set((h, id));
        Some(id)
    }

    /// Whether node `id` is the one at `path` (its name and its ancestors' names match the
    /// path's components, ending at the root). Paths are unique, so this is exact whatever
    /// happened to the slot since it was remembered.
    fn is_at(&self, mut id: NodeId, path: &str) -> bool {
        let mut rest = path.as_bytes();
        loop {
            if rest.is_empty() {
                return id == ROOT;
            }
            let Some(cut) = rest.iter().rposition(|&b| b == b'/') else {
                return false;
            };
            let Some(n) = self.node(id) else {
                return false;
            };
            if id == ROOT || n.name_bytes() != &rest[cut + 1..] {
                return false;
            }
            id = n.parent;
            rest = &rest[..cut];
        }
    }

    /// Looks a node up; `""` aliases the root, as in ZooKeeper.
    pub fn get(&self, path: &str) -> Option<&Node> {
        self.lookup(path).and_then(|id| self.node(id))
    }

    /// A node by id (snapshot walks).
    pub fn get_by_id(&self, id: NodeId) -> Option<&Node> {
        self.node(id)
    }

    /// Names of a node's children, in no particular order.
    pub fn child_names<'a>(&'a self, node: &'a Node) -> impl Iterator<Item = &'a str> + 'a {
        self.child_ids(node)
            .filter_map(move |c| self.node(c).map(|n| n.name()))
    }

    /// Ids of a node's children, in no particular order.
    pub fn child_ids<'a>(&'a self, node: &'a Node) -> impl Iterator<Item = NodeId> + 'a {
        node.children.iter().flat_map(|t| t.iter().map(|&(c, _)| c))
    }

    fn alloc(&mut self, node: Node) -> NodeId {
        self.count += 1;
        let id = match self.free.pop() {
            Some(id) => id,
            None => {
                self.next += 1;
                self.next - 1
            }
        };
        self.ensure_slot(id);
        if let Some(slot) = self.slot_mut(id) {
            *slot = Some(node);
        }
        id
    }

    /// Appends a node's children as a getChildren reply encodes them (`int count`, then
    /// each name as a jute string), in the same order as [`DataTree::child_names`]. A
    /// small list is encoded straight into `out`; a large one is encoded once, kept, and
    /// copied from then on.
    pub fn put_child_list(&self, id: NodeId, out: &mut bytes::BytesMut) {
        let Some(node) = self.node(id) else {
            out.extend_from_slice(&[0, 0, 0, 0]);
            return;
        };
        if node.child_count() < CHILD_LIST_MIN {
            self.encode_child_list(node, out);
            return;
        }
        if let Some(b) = self.child_lists.borrow().map.get(&id) {
            out.extend_from_slice(b);
            return;
        }
        let start = out.len();
        self.encode_child_list(node, out);
        let list = bytes::Bytes::copy_from_slice(&out[start..]);
        let mut c = self.child_lists.borrow_mut();
        if c.bytes + list.len() > CHILD_LIST_BUDGET {
            c.map.clear();
            c.bytes = 0;
        }
        c.bytes += list.len();
        c.map.insert(id, list);
    }

    fn encode_child_list(&self, node: &Node, out: &mut bytes::BytesMut) {
        out.extend_from_slice(&(node.child_count() as i32).to_be_bytes());
        for name in self.child_names(node) {
            out.extend_from_slice(&(name.len() as i32).to_be_bytes());
            out.extend_from_slice(name.as_bytes());
        }
    }

    /// Forgets `id`'s cached child list (its children changed, or it went).
    fn child_list_changed(&mut self, id: NodeId) {
        let c = self.child_lists.get_mut();
        if !c.map.is_empty() {
            if let Some(b) = c.map.remove(&id) {
                c.bytes -= b.len();
            }
        }
    }

    /// Links `child` (already in the slab, named) under `parent`.
    fn link(&mut self, parent: NodeId, child: NodeId) {
        self.child_list_changed(parent);
        let Some(name_hash) = self.node(child).map(|n| self.hash(n.name_bytes())) else {
            return;
        };
        let Some(mut table) = self
            .node_mut(parent)
            .map(|p| p.children.take().unwrap_or_default())
        else {
            return;
        };
        table.insert_unique(spread(name_hash), (child, name_hash), |&(_, h)| spread(h));
        if let Some(p) = self.node_mut(parent) {
            p.children = Some(table);
        }
    }

    /// Unlinks `child` from `parent`'s table; the table goes when it empties.
    fn unlink(&mut self, parent: NodeId, child: NodeId) {
        self.child_list_changed(parent);
        let Some(name_hash) = self.node(child).map(|n| self.hash(n.name_bytes())) else {
            return;
        };
        let Some(p) = self.node_mut(parent) else {
            return;
        };
        let Some(table) = p.children.as_mut() else {
            return;
        };
        if let Ok(e) = table.find_entry(spread(name_hash), |&(c, _)| c == child) {
            e.remove();
        }
        if table.is_empty() {
            p.children = None;
        }
    }

    /// Inserts a node at `path` (tree building: snapshot load, the built-in nodes),
    /// linking it to its parent without touching Stats. Returns false, inserting
    /// nothing, if the parent does not exist (ZooKeeper refuses such a snapshot).
    pub fn insert_raw(&mut self, path: &str, mut node: Node) -> bool {
        let path = if path.is_empty() { "/" } else { path };
        if path != "/" {
            let Some((parent_path, _)) = split_path(path) else {
                return false;
            };
            let Some(parent) = self.lookup(parent_path) else {
                return false;
            };
            return self.insert_child(parent, path, node).is_some();
        }
        node.set_name("");
        if let Some(old) = self.slot_mut(ROOT).and_then(|s| s.take()) {
            self.count -= 1;
            self.sub_digest("/", &old);
            node.children = old.children;
        }
        self.ensure_slot(ROOT);
        self.next = self.next.max(ROOT + 1);
        if let Some(slot) = self.slot_mut(ROOT) {
            *slot = Some(node);
        }
        self.count += 1;
        self.account(ROOT, path, None)
    }

    /// Inserts a node at `path` under the already-resolved `parent` (snapshot loading
    /// knows the parent from its depth-first order), replacing a node already there.
    /// `None` for an invalid path.
    pub fn insert_child(&mut self, parent: NodeId, path: &str, node: Node) -> Option<NodeId> {
        let (_, name) = split_path(path)?;
        if let Some(old) = self.child_id(parent, name.as_bytes()) {
            self.remove_leaf(path, parent, old);
        }
        self.insert_new_child(parent, path, node, None)
    }

    /// [`Self::insert_child`] for a path known not to exist yet (a snapshot lists each
    /// path once): skips the probe for an existing node.
    /// `digests` are the node's [`content_crc`] and [`node_digest`] when the caller has
    /// already computed them (snapshot loading does so on another thread); `None`
    /// computes them here.
    pub fn insert_new_child(
        &mut self,
        parent: NodeId,
        path: &str,
        mut node: Node,
        digests: Option<(u32, u64)>,
    ) -> Option<NodeId> {
        let (_, name) = split_path(path)?;
        if name.is_empty() || self.node(parent).is_none() {
            return None;
        }
        node.set_name(name);
        node.parent = parent;
        let id = self.alloc(node);
        self.link(parent, id);
        self.account(id, path, digests).then_some(id)
    }

    /// Adds a just-inserted node to the indexes, data size, digest (`digests`, or
    /// computed when `None`) and quotas.
    fn account(&mut self, id: NodeId, path: &str, digests: Option<(u32, u64)>) -> bool {
        let Some(node) = self.node_mut(id) else {
            return false;
        };
        let (crc, digest) = digests.unwrap_or_else(|| {
            let crc = content_crc(path, node.data());
            (crc, digest_with(path, crc, &node.stat))
        });
        node.crc = crc;
        let (owner, bytes) = (node.stat.ephemeral_owner, node.data_len() as u64);
        self.index(path, owner);
        self.data_size += path.len() as u64 + bytes;
        self.digest = self.digest.wrapping_add(digest);
        if let Some(q) = quota_target(path, QUOTA_LIMITS) {
            self.quotas.insert(q.into());
        }
        true
    }

    fn index(&mut self, path: &str, owner: i64) {
        match NodeKind::of(owner) {
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

    fn sub_digest(&mut self, path: &str, node: &Node) {
        self.digest = self.digest.wrapping_sub(node.digest(path));
    }

    /// Changes a node's stat in place via `f`, keeping the tree digest.
    fn restat(&mut self, id: NodeId, path: &str, f: impl FnOnce(&mut StatPersisted)) {
        let Some(n) = self.node_mut(id) else { return };
        let old = n.digest(path);
        f(&mut n.stat);
        let new = n.digest(path);
        self.digest = self.digest.wrapping_sub(old).wrapping_add(new);
    }

    /// Changes a node's stat in place, keeping the tree digest (replay repairs).
    pub fn update_stat(&mut self, path: &str, f: impl FnOnce(&mut StatPersisted)) {
        let path = if path.is_empty() { "/" } else { path };
        if let Some(id) = self.lookup(path) {
            self.restat(id, path, f);
        }
    }

    /// The ACL list of a node.
    pub fn acl_of(&self, node: &Node) -> std::sync::Arc<[Acl]> {
        self.acls.get(node.acl)
    }

    /// Number of nodes, counted as ZooKeeper counts them (the root twice: `""` and `/`).
    pub fn node_count(&self) -> usize {
        self.count + 1
    }

    /// Sum of path and data lengths (mntr's approximate_data_size).
    pub fn approximate_data_size(&self) -> u64 {
        self.data_size
    }

    /// Applies a create; returns the new node's Stat (for the reply). `parent_cversion` is
    /// the parent's new stored cversion from the txn.
    #[allow(clippy::too_many_arguments)]
    pub fn create(
        &mut self,
        path: &str,
        data: Option<&[u8]>,
        acl: &[Acl],
        owner: i64,
        parent_cversion: i32,
        zxid: i64,
        time: i64,
    ) -> Result<Stat, Code> {
        let (parent_path, name) = split_path(path).ok_or(Code::NoNode)?;
        let parent = self.lookup(parent_path).ok_or(Code::NoNode)?;
        if name.is_empty() || self.child_id(parent, name.as_bytes()).is_some() {
            return Err(Code::NodeExists);
        }
        let cur = self.node(parent).map_or(0, |p| p.stat.cversion);
        let cv = if parent_cversion == -1 {
            cur + 1
        } else {
            parent_cversion
        };
        // As ZooKeeper: only a newer cversion moves the parent (fuzzy replay).
        if cv > cur {
            self.restat(parent, parent_path, |s| {
                s.cversion = cv;
                s.pzxid = zxid;
            });
        }
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
        let bytes = data.map_or(0, |d| d.len() as i64);
        self.data_size += path.len() as u64 + bytes as u64;
        let mut node = Node::named(name, data, acl_id, stat);
        node.parent = parent;
        node.crc = content_crc(path, data);
        self.digest = self.digest.wrapping_add(node.digest(path));
        let id = self.alloc(node);
        self.link(parent, id);
        self.index(path, owner);
        self.quota_on_create(path, bytes);
        Ok(self.node(id).map(|n| n.stat()).unwrap_or_default())
    }

    /// Removes a childless node from the slab and its parent, with its indexes.
    fn remove_leaf(&mut self, path: &str, parent: NodeId, id: NodeId) -> Option<Node> {
        self.unlink(parent, id);
        self.child_list_changed(id);
        let node = self.slot_mut(id)?.take()?;
        self.free.push(id);
        self.count -= 1;
        self.sub_digest(path, &node);
        self.unindex(path, node.stat.ephemeral_owner);
        self.data_size = self
            .data_size
            .saturating_sub(path.len() as u64 + node.data_len() as u64);
        Some(node)
    }

    /// Applies a delete; the parent's pzxid moves forward, its stored cversion does not.
    pub fn delete(&mut self, path: &str, zxid: i64) -> Result<(), Code> {
        let (parent_path, name) = split_path(path).ok_or(Code::NoNode)?;
        let parent = self.lookup(parent_path);
        let id = parent
            .and_then(|p| self.child_id(p, name.as_bytes()))
            .ok_or(Code::NoNode)?;
        let parent = parent.ok_or(Code::NoNode)?;
        if let Some(q) = quota_target(path, QUOTA_LIMITS) {
            self.quotas.remove(q);
        }
        let node = self.remove_leaf(path, parent, id).ok_or(Code::NoNode)?;
        if !self.quotas.is_empty() {
            self.quota_update(path, -(node.data_len() as i64), -1);
        }
        self.acls.release(node.acl);
        if self.node(parent).is_some_and(|p| zxid > p.stat.pzxid) {
            self.restat(parent, parent_path, |s| s.pzxid = zxid);
        }
        Ok(())
    }

    /// Moves a parent's pzxid forward when replay finds its child already gone (as
    /// ZooKeeper's deleteNode does).
    pub fn touch_pzxid(&mut self, parent_path: &str, zxid: i64) {
        if let Some(id) = self.lookup(parent_path) {
            if self.node(id).is_some_and(|p| zxid > p.stat.pzxid) {
                self.restat(id, parent_path, |s| s.pzxid = zxid);
            }
        }
    }

    /// Applies a setData with the txn's new version.
    pub fn set_data(
        &mut self,
        path: &str,
        data: Option<&[u8]>,
        version: i32,
        zxid: i64,
        time: i64,
    ) -> Result<Stat, Code> {
        let id = self.lookup(path).ok_or(Code::NoNode)?;
        let node = self.node_mut(id).ok_or(Code::NoNode)?;
        let old = node.data_len() as u64;
        let new = data.map_or(0, |d| d.len() as u64);
        let old_digest = node.digest(path);
        node.set_data(path, data);
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
        let id = self.lookup(path).ok_or(Code::NoNode)?;
        let new_id = self.acls.intern(acl);
        let Some(node) = self.node_mut(id) else {
            self.acls.release(new_id);
            return Err(Code::NoNode);
        };
        let old_id = std::mem::replace(&mut node.acl, new_id);
        self.restat(id, path, |s| s.aversion = aversion);
        self.acls.release(old_id);
        Ok(self.node(id).map(|n| n.stat()).unwrap_or_default())
    }

    /// Keeps quota bookkeeping after a create: a new `zookeeper_limits` node adds a quota,
    /// a new `zookeeper_stats` node is filled with the subtree's current counts, any
    /// other node counts towards the closest quota above it (as ZooKeeper's DataTree).
    fn quota_on_create(&mut self, path: &str, bytes: i64) {
        if let Some(q) = quota_target(path, QUOTA_LIMITS) {
            self.quotas.insert(q.into());
        } else if let Some(q) = quota_target(path, QUOTA_STATS) {
            let (count, bytes) = self.subtree_counts(q);
            let text = format!("count={count},bytes={bytes}");
            if let Some(n) = self.lookup(path).and_then(|id| self.node_mut(id)) {
                n.set_data(path, Some(text.as_bytes()));
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
            let i = last_slash(p)?;
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
        let Some(node) = self.lookup(&stats_path).and_then(|id| self.node_mut(id)) else {
            return;
        };
        let text = node.data().map(String::from_utf8_lossy).unwrap_or_default();
        let field = |k: &str| -> i64 {
            text.split(',')
                .find_map(|kv| kv.split_once('=').filter(|(key, _)| *key == k))
                .and_then(|(_, v)| v.split(['=', ';']).next()?.parse().ok())
                .unwrap_or(0)
        };
        let (c, b) = (field("count") + count, field("bytes") + bytes);
        node.set_data(&stats_path, Some(format!("count={c},bytes={b}").as_bytes()));
    }

    /// Node count (including `path`) and data bytes of a subtree.
    fn subtree_counts(&self, path: &str) -> (i64, i64) {
        let Some(id) = self.lookup(path) else {
            return (0, 0);
        };
        let (mut count, mut bytes) = (0i64, 0i64);
        let mut stack = vec![id];
        while let Some(id) = stack.pop() {
            let Some(n) = self.node(id) else { continue };
            count += 1;
            bytes += n.data_len() as i64;
            stack.extend(self.child_ids(n));
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
        let mut stack: Vec<NodeId> = self.child_ids(node).collect();
        let mut n = 0;
        while let Some(id) = stack.pop() {
            n += 1;
            if let Some(node) = self.node(id) {
                stack.extend(self.child_ids(node));
            }
        }
        n
    }

    /// Every (path, node) pair, depth first (tests, tools; builds each path).
    pub fn iter(&self) -> impl Iterator<Item = (String, &Node)> {
        let mut out = Vec::with_capacity(self.count);
        let mut stack: Vec<(NodeId, String)> = vec![(ROOT, "/".to_owned())];
        while let Some((id, path)) = stack.pop() {
            let Some(n) = self.node(id) else { continue };
            for c in self.child_ids(n) {
                if let Some(child) = self.node(c) {
                    let base = if path == "/" { "" } else { path.as_str() };
                    stack.push((c, format!("{base}/{}", child.name())));
                }
            }
            out.push((path, n));
        }
        out.into_iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The digest built from a kept content CRC equals one CRC over the whole input, for
    /// the root, small and large nodes, and `/zookeeper/` nodes (which count 0).
    #[test]
    fn digest_from_content_crc_is_the_crc_of_path_data_and_stat() {
        let stat = StatPersisted {
            czxid: 1,
            mzxid: -2,
            pzxid: 3 << 40,
            ctime: 4,
            mtime: 5,
            version: 6,
            cversion: -7,
            aversion: 8,
            ephemeral_owner: i64::MIN,
        };
        let mut block = Vec::new();
        for v in [stat.czxid, stat.mzxid, stat.pzxid, stat.ctime, stat.mtime] {
            block.extend_from_slice(&v.to_be_bytes());
        }
        for v in [stat.version, stat.cversion, stat.aversion] {
            block.extend_from_slice(&v.to_be_bytes());
        }
        block.extend_from_slice(&stat.ephemeral_owner.to_be_bytes());
        let big = vec![0xa5u8; 10_000];
        for (path, data) in [
            ("/", None),
            ("/a", Some(&b""[..])),
            ("/a/b", Some(&b"hello"[..])),
            ("/big", Some(&big[..])),
            ("/zookeeper", Some(&b"x"[..])),
        ] {
            let mut whole = if path == "/" {
                Vec::new()
            } else {
                path.as_bytes().to_vec()
            };
            whole.extend_from_slice(data.unwrap_or_default());
            whole.extend_from_slice(&block);
            let expect = crc32fast::hash(&whole) as u64;
            assert_eq!(node_digest(path, data, &stat), expect, "{path}");
            assert_eq!(digest_with(path, content_crc(path, data), &stat), expect);
        }
        assert_eq!(node_digest("/zookeeper/quota", Some(b"x"), &stat), 0);
    }

    /// The kept CRC lives in padding: a node is no bigger than before it was added.
    #[test]
    fn node_size_is_unchanged_by_the_kept_crc() {
        assert!(
            std::mem::size_of::<Node>() <= 112,
            "{}",
            std::mem::size_of::<Node>()
        );
    }

    #[test]
    fn fresh_tree_reports_like_zookeeper() {
        let t = DataTree::new();
        assert_eq!(t.node_count(), 5);
        assert_eq!(t.get("/").unwrap().stat().cversion, -1);
        assert_eq!(t.get("/zookeeper").unwrap().stat().cversion, -2);
        assert_eq!(t.descendant_count("/"), 3);
        assert!(t.get("").is_some() && t.get("/zookeeper/").is_none() && t.get("//").is_none());
    }

    /// The listing a getChildren reply carries, decoded.
    fn listed(t: &DataTree, path: &str) -> Vec<String> {
        let mut b = bytes::BytesMut::new();
        t.put_child_list(t.lookup(path).unwrap(), &mut b);
        let (rest, v) = <Vec<String> as jute::Codec>::decode(&b).unwrap();
        assert!(rest.is_empty());
        v
    }

    fn direct(t: &DataTree, path: &str) -> Vec<String> {
        t.child_names(t.get(path).unwrap())
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn remembered_lookup_follows_deletes_and_reused_slots() {
        let mut t = DataTree::new();
        let open = Acl::open();
        t.create("/a", None, &open, 0, -1, 2, 0).unwrap();
        t.create("/a/b", None, &open, 0, -1, 3, 0).unwrap();
        let b = t.lookup("/a/b").unwrap();
        assert_eq!(t.lookup("/a/b"), Some(b)); // remembered
        t.delete("/a/b", 4).unwrap();
        assert_eq!(t.lookup("/a/b"), None);
        t.create("/a/c", None, &open, 0, -1, 5, 0).unwrap(); // reuses b's slot
        assert_eq!(t.lookup("/a/c"), Some(b));
        assert_eq!(t.lookup("/a/b"), None);
        t.create("/z", None, &open, 0, -1, 6, 0).unwrap();
        t.create("/z/b", None, &open, 0, -1, 7, 0).unwrap();
        let zb = t.lookup("/z/b").unwrap();
        assert_eq!(t.lookup("/a/b"), None); // same leaf name, other parent
        assert_eq!(t.lookup("/z/b"), Some(zb));
        assert_eq!(t.lookup("/z/b/"), None);
        assert_eq!(t.lookup("/z//b"), None);
        assert_eq!(t.lookup("/"), Some(ROOT));
        assert_eq!(t.get("/z/b").map(|n| n.name()), Some("b"));
    }

    #[test]
    fn recent_lookups_stay_exact_with_more_paths_than_slots() {
        let mut t = DataTree::new();
        let open = Acl::open();
        let mut zxid = 1;
        let paths: Vec<String> = (0..3 * RECENT_LOOKUPS)
            .map(|i| format!("/p{}/n{}", i % 3, i))
            .collect();
        for p in ["/p0", "/p1", "/p2"]
            .iter()
            .map(|p| p.to_string())
            .chain(paths.clone())
        {
            zxid += 1;
            t.create(&p, None, &open, 0, -1, zxid, 0).unwrap();
        }
        for round in 0..3 {
            for (i, p) in paths.iter().enumerate() {
                let deleted = i % 5 == round;
                if deleted {
                    zxid += 1;
                    t.delete(p, zxid).unwrap();
                }
                let found = t.lookup(p).and_then(|id| t.get_by_id(id)).map(|n| n.name());
                let want = format!("n{i}");
                assert_eq!(found, (!deleted).then_some(want.as_str()), "{p}");
                if deleted {
                    zxid += 1;
                    t.create(p, None, &open, 0, -1, zxid, 0).unwrap();
                }
            }
        }
    }

    #[test]
    fn cached_child_lists_follow_every_change() {
        let mut t = DataTree::new();
        let open = Acl::open();
        let mut zxid = 1;
        let next = |z: &mut i64| {
            *z += 1;
            *z
        };
        t.create("/big", None, &open, 0, -1, next(&mut zxid), 0)
            .unwrap();
        for i in 0..200 {
            let z = next(&mut zxid);
            t.create(&format!("/big/c{i}"), None, &open, 0, -1, z, 0)
                .unwrap();
        }
        assert_eq!(listed(&t, "/big").len(), 200);
        assert_eq!(listed(&t, "/big"), direct(&t, "/big")); // now served from the cache
        let z = next(&mut zxid);
        t.create("/big/new", None, &open, 0, -1, z, 0).unwrap();
        assert!(listed(&t, "/big").contains(&"new".to_string()));
        assert_eq!(listed(&t, "/big"), direct(&t, "/big"));
        let z = next(&mut zxid);
        t.delete("/big/c7", z).unwrap();
        assert!(!listed(&t, "/big").contains(&"c7".to_string()));
        assert_eq!(listed(&t, "/big"), direct(&t, "/big"));
        // A node deleted and its slot reused by another big directory.
        for i in 0..200 {
            let z = next(&mut zxid);
            t.delete(&format!("/big/c{i}"), z).ok();
        }
        let z = next(&mut zxid);
        t.delete("/big/new", z).unwrap();
        let z = next(&mut zxid);
        t.delete("/big", z).unwrap();
        let z = next(&mut zxid);
        t.create("/other", None, &open, 0, -1, z, 0).unwrap();
        for i in 0..100 {
            let z = next(&mut zxid);
            t.create(&format!("/other/d{i}"), None, &open, 0, -1, z, 0)
                .unwrap();
        }
        assert_eq!(listed(&t, "/other"), direct(&t, "/other"));
        assert_eq!(listed(&t, "/other").len(), 100);
    }

    #[test]
    fn quota_stats_follow_the_subtree() {
        let mut t = DataTree::new();
        let open = Acl::open();
        t.create("/q", None, &open, 0, -1, 1, 0).unwrap();
        t.create("/q/a", Some(b"12345"), &open, 0, -1, 2, 0)
            .unwrap();
        t.create("/zookeeper/quota/q", None, &open, 0, -1, 3, 0)
            .unwrap();
        t.create(
            "/zookeeper/quota/q/zookeeper_limits",
            Some(b"count=5,bytes=-1"),
            &open,
            0,
            -1,
            4,
            0,
        )
        .unwrap();
        t.create(
            "/zookeeper/quota/q/zookeeper_stats",
            Some(b"count=0,bytes=0"),
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
                .data()
                .unwrap()
                .to_vec()
        };
        assert_eq!(stats(&t), b"count=2,bytes=5");
        t.create("/q/c", Some(b"abc"), &open, 0, -1, 6, 0).unwrap();
        t.set_data("/q/a", Some(b"1"), 1, 7, 0).unwrap();
        assert_eq!(stats(&t), b"count=3,bytes=4");
        t.delete("/q/c", 8).unwrap();
        assert_eq!(stats(&t), b"count=2,bytes=1");
    }

    #[test]
    fn create_delete_stats() {
        let mut t = DataTree::new();
        t.create("/a", None, &Acl::open(), 0, 1, 5, 100).unwrap();
        t.create("/a/b", Some(b"x"), &Acl::open(), 0, 1, 6, 101)
            .unwrap();
        assert_eq!(
            t.create("/a/b", None, &Acl::open(), 0, 2, 7, 1),
            Err(Code::NodeExists)
        );
        assert_eq!(t.get("/a/b").unwrap().data(), Some(&b"x"[..]));
        assert_eq!(t.get("/a").unwrap().data(), None);
        t.delete("/a/b", 8).unwrap();
        let a = t.get("/a").unwrap().stat();
        assert_eq!((a.cversion, a.pzxid, a.num_children), (2, 8, 0));
        assert_eq!(split_path("/a"), Some(("/", "a")));
        assert_eq!(t.node_count(), 6);
    }

    #[test]
    fn slots_are_reused_and_digest_returns_to_start() {
        let mut t = DataTree::new();
        let d0 = t.digest();
        for i in 0..100 {
            t.create(&format!("/n{i}"), Some(b"v"), &Acl::open(), 0, -1, i + 1, 0)
                .unwrap();
        }
        assert_eq!(t.get("/").unwrap().child_count(), 101);
        for i in 0..100 {
            t.delete(&format!("/n{i}"), 200 + i).unwrap();
        }
        let slab = t.next;
        t.create("/again", None, &Acl::open(), 0, -1, 400, 0)
            .unwrap();
        assert_eq!(t.next, slab);
        t.delete("/again", 401).unwrap();
        // Only the root's stat changed.
        let root = t.get("/").unwrap();
        let mut fresh = DataTree::new();
        fresh.update_stat("/", |s| *s = root.stat.clone());
        assert_eq!(t.digest(), fresh.digest());
        assert_ne!(t.digest(), d0);
        let names: Vec<&str> = t.child_names(t.get("/").unwrap()).collect();
        assert_eq!(names, vec!["zookeeper"]);
    }
}
