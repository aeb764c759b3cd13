//! Start-up recovery (PROTOCOL.md §6.5): load the newest valid snapshot, replay the txn
//! logs after it through the live server's [`Applier`], drop ephemerals of sessions that
//! did not survive, and write a fresh snapshot.
//!
//! Damage is never silently skipped: a torn tail of the *last* log (a write the crash
//! interrupted, so never acknowledged) is truncated with a warning naming file and
//! offset; anything else — a checksum mismatch or garbage with data after it, a txn
//! that does not decode, missing txns between files — stops start-up with an error that
//! names the file and offset.

use crate::acl::OPEN_ACL_ID;
use crate::config::Config;
use crate::persist::logfile::{self, LogEnd, HEADER_LEN};
use crate::persist::snapshot::{self, SnapSink};
use crate::persist::{files, PersistError};
use crate::processor::apply::{Applier, Trigger, TxnResult};
use crate::tree::{split_path, DataTree, Node, NodeId, ROOT};
use jute::data::{Acl, StatPersisted};
use jute::txn::{TxnBody, TxnEntry};
use jute::{Code, OpCode};
use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{channel, sync_channel, Receiver, SyncSender};
use tracing::{error, info, warn};

/// What recovery hands the server.
#[derive(Debug)]
pub struct Recovered {
    /// The tree; `last_processed_zxid` is where the zxid continues.
    pub tree: DataTree,
    /// Restored sessions (id, timeout ms), sorted by id.
    pub sessions: Vec<(i64, u32)>,
    /// The snapshot loaded, if any.
    pub snapshot: Option<PathBuf>,
    /// Txns replayed from the logs.
    pub replayed: u64,
    /// Whether a fresh snapshot is still owed (taken in the background once serving).
    pub snapshot_due: bool,
}

/// Where and how to recover.
#[derive(Debug, Clone)]
pub struct RecoveryOptions {
    /// Snapshot version-2 directory.
    pub snap_dir: PathBuf,
    /// Txn-log version-2 directory.
    pub log_dir: PathBuf,
    /// `zookeeper.snapshot.trust.empty`: replay logs onto an empty tree when no snapshot exists.
    pub trust_empty: bool,
    /// fsync the start-up snapshot.
    pub fsync: bool,
    /// Write the start-up snapshot (ZooKeeper always does; tools may not).
    pub write_snapshot: bool,
}

impl RecoveryOptions {
    /// Options from the server configuration.
    pub fn from_config(cfg: &Config) -> RecoveryOptions {
        let trust_empty = cfg
            .system_properties
            .get("zookeeper.snapshot.trust.empty")
            .is_some_and(|v| v.eq_ignore_ascii_case("true"));
        RecoveryOptions {
            snap_dir: files::version_dir(&cfg.data_dir),
            log_dir: files::version_dir(&cfg.data_log_dir),
            trust_empty,
            fsync: cfg.force_sync,
            write_snapshot: true,
        }
    }
}

/// Nodes per hand-off from the snapshot reader thread to the tree builder.
const LOAD_BATCH: usize = 2048;
/// Batches the reader may run ahead of the builder.
const LOAD_QUEUE: usize = 8;

/// A node as the reader hands it over: its path (borrowed from the file), the node
/// (already named, its blob allocated), its [`crate::tree::content_crc`] and its
/// [`crate::tree::node_digest`].
type Parsed<'a> = (&'a str, Node, (u32, u64));

/// What the reader thread hands the builder, in file order.
enum Item<'a> {
    Acl(i64, Vec<Acl>),
    Nodes(Vec<Parsed<'a>>),
}

/// The reader half of snapshot loading, on its own thread: parses the records, computes
/// each node's digest and allocates its blob, and sends the nodes in batches. Loading a
/// large snapshot is bound by that work and by the tree's inserts about equally, so the
/// two run on both CPUs instead of one.
struct ReaderSink<'a> {
    to_builder: SyncSender<Item<'a>>,
    /// Emptied batches coming back, so batches reuse their memory.
    spare: Receiver<Vec<Parsed<'a>>>,
    batch: Vec<Parsed<'a>>,
    sessions: HashMap<i64, u32>,
}

/// The reader's error when the builder has stopped (it reports its own error).
const BUILDER_STOPPED: &str = "tree builder stopped";

impl<'a> ReaderSink<'a> {
    fn send(&mut self, item: Item<'a>) -> Result<(), String> {
        self.to_builder
            .send(item)
            .map_err(|_| BUILDER_STOPPED.to_string())
    }

    fn flush(&mut self) -> Result<(), String> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let next = self
            .spare
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(LOAD_BATCH));
        let full = std::mem::replace(&mut self.batch, next);
        self.send(Item::Nodes(full))
    }
}

impl<'a> SnapSink<'a> for ReaderSink<'a> {
    fn session(&mut self, id: i64, timeout: i32) {
        self.sessions.insert(id, timeout.max(0) as u32);
    }
    fn acl(&mut self, id: i64, acl: Vec<Acl>) {
        // A failed send means the builder stopped; the next node reports it.
        let _ = self.send(Item::Acl(id, acl));
    }
    fn node(
        &mut self,
        path: &'a str,
        data: Option<&'a [u8]>,
        acl: i64,
        stat: StatPersisted,
    ) -> Result<(), String> {
        // '/' is one byte, so `cut + 1` is a char boundary and at most the path's length.
        let name = crate::tree::last_slash(path).map_or("", |cut| &path[cut + 1..]);
        let digest_path = if path.is_empty() { "/" } else { path };
        let crc = crate::tree::content_crc(digest_path, data);
        let digest = crate::tree::digest_with(digest_path, crc, &stat);
        self.batch
            .push((path, Node::named(name, data, acl, stat), (crc, digest)));
        if self.batch.len() >= LOAD_BATCH {
            self.flush()?;
        }
        Ok(())
    }
}

/// The builder half of snapshot loading: inserts the reader's nodes into the tree.
struct TreeBuilder<'a> {
    tree: DataTree,
    unknown_acls: u64,
    /// Ids of the last node inserted and its ancestors, with their path lengths: nodes
    /// arrive in depth-first order, so a node's parent is on this chain and needs no
    /// lookup from the root.
    chain: Vec<(usize, NodeId)>,
    /// Path of the last node inserted (`""` for the root).
    last: &'a str,
}

impl<'a> TreeBuilder<'a> {
    fn new() -> TreeBuilder<'a> {
        TreeBuilder {
            tree: DataTree::empty(),
            unknown_acls: 0,
            chain: Vec::new(),
            last: "",
        }
    }

    /// The id of `parent` (a path prefix ending before the node's last '/').
    fn parent_id(&mut self, parent: &str) -> Option<NodeId> {
        while let Some(&(len, id)) = self.chain.last() {
            if len == parent.len() && self.last.as_bytes().get(..len) == Some(parent.as_bytes()) {
                return Some(id);
            }
            self.chain.pop();
        }
        self.tree
            .lookup(if parent.is_empty() { "/" } else { parent })
    }

    fn acl(&mut self, id: i64, acl: Vec<Acl>) {
        self.tree.acls.insert_with_id(id, acl);
    }

    fn node(&mut self, path: &'a str, node: Node, digests: (u32, u64)) -> Result<(), String> {
        if node.acl != OPEN_ACL_ID {
            if self.tree.acls.get(node.acl).is_empty() {
                self.unknown_acls += 1;
            } else {
                self.tree.acls.add_ref(node.acl);
            }
        }
        let id = if path.is_empty() || path == "/" {
            self.tree.insert_raw("/", node);
            ROOT
        } else {
            let Some(cut) = crate::tree::last_slash(path) else {
                return Err(format!("invalid node path {path:?}"));
            };
            let parent = &path[..cut];
            let Some(parent_id) = self.parent_id(parent) else {
                return Err(format!("node {path} comes before its parent {parent}"));
            };
            self.tree
                .insert_new_child(parent_id, path, node, Some(digests))
                .ok_or_else(|| format!("invalid node path {path:?}"))?
        };
        self.last = if id == ROOT { "" } else { path };
        self.chain.push((self.last.len(), id));
        Ok(())
    }
}

/// A built tree with the snapshot's sessions (id → timeout) and trailer.
type Built<'a> = (TreeBuilder<'a>, HashMap<i64, u32>, snapshot::Trailer);

/// Reads a snapshot's bytes into a tree: the reader thread parses, the calling thread
/// builds (see [`ReaderSink`]). Errors carry the file offset, as [`snapshot::read`]'s do.
fn build_tree(bytes: &[u8]) -> Result<Built<'_>, (u64, String)> {
    let (to_builder, from_reader) = sync_channel::<Item<'_>>(LOAD_QUEUE);
    let (spare_tx, spare) = channel::<Vec<Parsed<'_>>>();
    std::thread::scope(|s| {
        let reader = std::thread::Builder::new()
            .name("rzk-snapload".into())
            .spawn_scoped(s, move || {
                let mut sink = ReaderSink {
                    to_builder,
                    spare,
                    batch: Vec::with_capacity(LOAD_BATCH),
                    sessions: HashMap::new(),
                };
                let read = snapshot::read(bytes, &mut sink);
                // The nodes parsed before a failure go to the builder too: an error it
                // finds among them lies earlier in the file, so it is the one reported.
                let flushed = sink.flush();
                let read = read.and_then(|t| flushed.map(|_| t).map_err(|e| (0, e)));
                (read, sink.sessions)
            })
            .map_err(|e| (0, format!("cannot start the snapshot reader thread: {e}")))?;
        let mut b = TreeBuilder::new();
        let mut failed = None;
        'items: for item in &from_reader {
            match item {
                Item::Acl(id, acl) => b.acl(id, acl),
                Item::Nodes(mut nodes) => {
                    for (path, node, digest) in nodes.drain(..) {
                        if let Err(e) = b.node(path, node, digest) {
                            // The record starts with the path's 4-byte length.
                            let at = (path.as_ptr() as usize)
                                .saturating_sub(bytes.as_ptr() as usize)
                                .saturating_sub(4);
                            failed = Some((at as u64, e));
                            break 'items;
                        }
                    }
                    let _ = spare_tx.send(nodes);
                }
            }
        }
        drop(from_reader);
        let (read, sessions) = reader
            .join()
            .map_err(|_| (0, "the snapshot reader thread panicked".to_string()))?;
        if let Some(e) = failed {
            return Err(e);
        }
        read.map(|trailer| (b, sessions, trailer))
    })
}

/// Loads one snapshot file; the tree's zxid is the one in the file name.
pub fn load_snapshot(
    path: &Path,
    zxid: i64,
) -> Result<(DataTree, HashMap<i64, u32>), PersistError> {
    load_snapshot_digest(path, zxid).map(|(t, s, _)| (t, s))
}

/// A snapshot's ZxidDigest: zxid, digest version, tree digest.
pub type ZxidDigest = (i64, i32, i64);

/// A loaded snapshot: the tree, the sessions (id → timeout) and the ZxidDigest if any.
pub type LoadedSnapshot = (DataTree, HashMap<i64, u32>, Option<ZxidDigest>);

/// [`load_snapshot`], also returning the snapshot's ZxidDigest if it has one.
pub fn load_snapshot_digest(path: &Path, zxid: i64) -> Result<LoadedSnapshot, PersistError> {
    let bytes = files::read_snapshot(path).map_err(|e| PersistError::io(path, e))?;
    if !snapshot::looks_complete(&bytes) {
        return Err(PersistError::file(
            path,
            "incomplete snapshot (does not end with the seal)",
        ));
    }
    let (built, sessions, trailer) =
        build_tree(&bytes).map_err(|(o, m)| PersistError::at(path, o, m))?;
    if built.tree.get("/").is_none() {
        return Err(PersistError::file(path, "snapshot has no root node"));
    }
    if built.unknown_acls > 0 {
        warn!(file = %path.display(), nodes = built.unknown_acls, "nodes refer to ACL ids missing from the snapshot's ACL map");
    }
    let mut tree = built.tree;
    tree.last_processed_zxid = zxid;
    Ok((tree, sessions, trailer.digest))
}

/// ZooKeeper's digest checks during recovery (DataTree.compareSnapshotDigests and
/// compareDigest): the snapshot's ZxidDigest once replay reaches its zxid (the tree is
/// fuzzy before that, so logged digests are not compared), then every logged TxnDigest.
/// A mismatch logs an error and counts in `tree.digest_mismatches`; start-up continues.
#[derive(Debug, Default)]
pub struct DigestCheck {
    pending: Option<ZxidDigest>,
    warned: bool,
}

impl DigestCheck {
    /// Starts checking a tree loaded from a snapshot with this ZxidDigest.
    pub fn new(tree: &mut DataTree, snap: Option<ZxidDigest>) -> DigestCheck {
        let start = tree.last_processed_zxid;
        let pending = snap.filter(|(z, _, _)| *z > 0 && crate::tree::digest_enabled());
        let mut c = DigestCheck {
            pending,
            warned: false,
        };
        if let Some((z, _, _)) = c.pending {
            if z < start {
                info!(
                    digest_zxid = format_args!("0x{z:x}"),
                    "the snapshot's digest is older than the snapshot; not compared"
                );
                c.pending = None;
            } else if z == start {
                c.compare_snapshot(tree);
            }
        }
        c
    }

    fn compare_snapshot(&mut self, tree: &mut DataTree) {
        let Some((z, version, digest)) = self.pending.take() else {
            return;
        };
        if version != crate::tree::DIGEST_VERSION {
            info!(version, "snapshot digest of another version; not compared");
        } else if digest != tree.digest() {
            tree.digest_mismatches += 1;
            error!(
                zxid = format_args!("0x{z:x}"),
                expected = digest,
                actual = tree.digest(),
                "digest mismatch: the tree digest at the snapshot's digest zxid differs"
            );
        }
    }

    /// After replaying `e`.
    pub fn after_txn(&mut self, tree: &mut DataTree, e: &TxnEntry) {
        if !crate::tree::digest_enabled() {
            return;
        }
        let z = e.header.zxid;
        if let Some((dz, _, _)) = self.pending {
            if z == dz {
                self.compare_snapshot(tree);
            } else {
                if z > dz && !self.warned {
                    self.warned = true;
                    warn!(
                        digest_zxid = format_args!("0x{dz:x}"),
                        "the txn of the snapshot's digest is not in the log"
                    );
                }
                return;
            }
        }
        if let Some(d) = &e.digest {
            tree.check_digest(z, d);
        }
    }

    /// At the end of replay: warns if the logs never reached the snapshot's digest zxid.
    pub fn finish(&self, tree: &DataTree) {
        if let Some((z, _, _)) = self.pending {
            warn!(
                last = format_args!("0x{:x}", tree.last_processed_zxid),
                digest_zxid = format_args!("0x{z:x}"),
                "replayed txns do not reach the snapshot's digest zxid"
            );
        }
    }
}

/// Applies one logged txn during replay, with ZooKeeper's fuzzy-snapshot tolerance:
/// NodeExists/NoNode results are ignored; a create that finds its node already there
/// still moves the parent's cversion/pzxid forward (DataTree.processTxn), and a delete
/// that finds its node already gone still moves the parent's pzxid forward
/// (DataTree.deleteNode). createSession/closeSession add/remove sessions.
pub fn apply_txn(
    tree: &mut DataTree,
    sessions: &mut HashMap<i64, u32>,
    e: &TxnEntry,
    triggers: &mut Vec<Trigger>,
) {
    let h = &e.header;
    let r = Applier {
        tree,
        want_triggers: false,
        triggers,
    }
    .apply(h, h.kind, &e.body);
    fuzzy_fixup(tree, h.kind, &e.body, &r, h.zxid);
    match &e.body {
        TxnBody::CreateSession(t) => {
            sessions.insert(h.client_id, t.timeout.max(0) as u32);
        }
        TxnBody::CloseSession(_) => {
            sessions.remove(&h.client_id);
        }
        _ => {}
    }
    tree.last_processed_zxid = h.zxid;
}

/// The parent-stat repairs ZooKeeper makes when a replayed txn meets the fuzzy state.
fn fuzzy_fixup(tree: &mut DataTree, kind: i32, body: &TxnBody, r: &TxnResult, zxid: i64) {
    let bump_pzxid = |tree: &mut DataTree, path: &str| {
        if let Some((parent, _)) = split_path(path) {
            if tree.get(parent).is_some_and(|p| zxid > p.stat.pzxid) {
                tree.update_stat(parent, |s| s.pzxid = zxid);
            }
        }
    };
    match (body, r) {
        (TxnBody::Create(c), TxnResult::Error(Code::NodeExists))
            if kind == OpCode::Create.code() =>
        {
            let Some((parent, _)) = split_path(&c.path) else {
                return;
            };
            let Some(cur) = tree.get(parent).map(|p| p.stat.cversion) else {
                return;
            };
            let cv = if c.parent_cversion == -1 {
                cur + 1
            } else {
                c.parent_cversion
            };
            if cv > cur {
                tree.update_stat(parent, |s| {
                    s.cversion = cv;
                    s.pzxid = zxid;
                });
            }
        }
        (TxnBody::Delete(d), TxnResult::Error(Code::NoNode)) => bump_pzxid(tree, &d.path),
        (TxnBody::CloseSession(Some(c)), _) => {
            for p in &c.paths_to_delete {
                bump_pzxid(tree, p);
            }
        }
        (TxnBody::Multi(subs), TxnResult::Multi(results)) => {
            for (s, (_, r)) in subs.iter().zip(results) {
                fuzzy_fixup(tree, s.kind, &s.body, r, zxid);
            }
        }
        _ => {}
    }
}

/// Replays every log entry after the tree's zxid, checking digests with `check`. Returns
/// the number applied.
pub fn replay(
    tree: &mut DataTree,
    sessions: &mut HashMap<i64, u32>,
    logs: &[(i64, PathBuf)],
    check: &mut DigestCheck,
) -> Result<u64, PersistError> {
    let start = tree.last_processed_zxid;
    // The newest log starting at or before the snapshot, and every later one.
    let from = logs.iter().rposition(|(z, _)| *z <= start).unwrap_or(0);
    let mut triggers = Vec::new();
    let mut last = start;
    let mut count = 0u64;
    for (idx, (_, path)) in logs.iter().enumerate().skip(from) {
        let is_last = idx + 1 == logs.len();
        let bytes = files::map(path).map_err(|e| PersistError::io(path, e))?;
        // Each entry is applied as it is decoded (`scan_each`), not after the whole file.
        let (_, end) = logfile::scan_each(&bytes, last, |off, e| {
            let z = e.header.zxid;
            if z <= last {
                if z > start {
                    warn!(file = %path.display(), offset = off, zxid = format_args!("0x{z:x}"), "txn zxid does not increase; skipped");
                }
                return Ok(());
            }
            if z != last + 1 && z >> 32 == last >> 32 {
                return Err(PersistError::at(
                    path,
                    off,
                    format!("txn 0x{z:x} follows 0x{last:x}: txns in between are missing"),
                ));
            }
            apply_txn(tree, sessions, &e, &mut triggers);
            check.after_txn(tree, &e);
            last = z;
            count += 1;
            Ok(())
        })?;
        drop(bytes);
        match end {
            LogEnd::Clean { .. } => {}
            LogEnd::Torn { offset, reason } if is_last => {
                warn!(file = %path.display(), offset, %reason, "truncating the torn tail of the last txn log (a write interrupted by a crash; it was never acknowledged)");
                truncate(path, offset)?;
            }
            LogEnd::Torn { offset, reason } => {
                warn!(file = %path.display(), offset, %reason, "txn log ends in a torn record written before an earlier crash; continuing with the next log");
            }
            LogEnd::Corrupt { offset, reason } => {
                return Err(PersistError::at(
                    path,
                    offset,
                    format!("{reason}; the txn log is damaged (refusing to start rather than lose txns)"),
                ));
            }
        }
    }
    Ok(count)
}

fn truncate(path: &Path, offset: u64) -> Result<(), PersistError> {
    if offset < HEADER_LEN as u64 {
        return fs::remove_file(path).map_err(|e| PersistError::io(path, e));
    }
    let f = fs::OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(|e| PersistError::io(path, e))?;
    f.set_len(offset)
        .and_then(|_| f.sync_all())
        .map_err(|e| PersistError::io(path, e))
}

/// Deletes ephemerals whose owner session was not restored (ZooKeeper's killSession at
/// load time: no txn, deleted at the current zxid).
pub fn drop_dead_ephemerals(tree: &mut DataTree, sessions: &HashMap<i64, u32>) -> usize {
    let mut dead: Vec<String> = tree
        .all_ephemerals()
        .iter()
        .filter(|(s, _)| !sessions.contains_key(s))
        .flat_map(|(_, paths)| paths.iter().map(|p| p.to_string()))
        .collect();
    dead.sort();
    let zxid = tree.last_processed_zxid;
    for p in &dead {
        let _ = tree.delete(p, zxid);
    }
    dead.len()
}

/// Recovers the state in the configured directories (see the module doc).
pub fn recover(opts: &RecoveryOptions) -> Result<Recovered, PersistError> {
    for d in [&opts.snap_dir, &opts.log_dir] {
        fs::create_dir_all(d).map_err(|e| PersistError::io(d, e))?;
    }
    remove_stale_temporaries(&opts.snap_dir);
    remove_stale_temporaries(&opts.log_dir);
    let snaps =
        files::list(&opts.snap_dir, "snapshot").map_err(|e| PersistError::io(&opts.snap_dir, e))?;
    let logs = files::list(&opts.log_dir, "log").map_err(|e| PersistError::io(&opts.log_dir, e))?;
    let mut loaded = None;
    for (z, path) in snaps.iter().rev().take(100) {
        match load_snapshot_digest(path, *z) {
            Ok(x) => {
                info!(file = %path.display(), "snapshot loaded");
                loaded = Some((x, path.clone()));
                break;
            }
            Err(e) => warn!(error = %e, "skipping snapshot"),
        }
    }
    let (mut tree, mut sessions, snapshot, snap_digest) = match loaded {
        Some(((t, s, d), p)) => (t, s, Some(p), d),
        None if !snaps.is_empty() => {
            return Err(PersistError::file(
                &opts.snap_dir,
                format!("none of the {} snapshots is valid", snaps.len()),
            ))
        }
        None if !logs.is_empty() && !opts.trust_empty => {
            return Err(PersistError::file(
                &opts.log_dir,
                "no snapshot but txn logs exist; something is broken (set \
                 zookeeper.snapshot.trust.empty=true to replay the logs onto an empty tree)",
            ))
        }
        None => (DataTree::new(), HashMap::new(), None, None),
    };
    let mut check = DigestCheck::new(&mut tree, snap_digest);
    let replayed = replay(&mut tree, &mut sessions, &logs, &mut check)?;
    check.finish(&tree);
    let killed = drop_dead_ephemerals(&mut tree, &sessions);
    let mut sessions: Vec<(i64, u32)> = sessions.into_iter().collect();
    sessions.sort_unstable();
    info!(
        zxid = format_args!("0x{:x}", tree.last_processed_zxid),
        replayed,
        sessions = sessions.len(),
        dead_ephemerals = killed,
        "data tree recovered"
    );
    // ZooKeeper writes a snapshot before serving. rzk only does so synchronously when the
    // tree holds changes that no txn records (dead ephemerals dropped above) or there is
    // no snapshot at all; otherwise everything is already durable in snapshot + logs, so
    // the fresh snapshot is taken in the background once serving (a fuzzy snapshot), and
    // a restart with a large tree is not held up writing it.
    let snapshot_due = opts.write_snapshot && replayed > 0 && killed == 0 && snapshot.is_some();
    if opts.write_snapshot && !snapshot_due && (killed > 0 || snapshot.is_none() || replayed > 0) {
        snapshot::write_full(&opts.snap_dir, &tree, &sessions, opts.fsync)
            .map_err(|e| PersistError::io(&opts.snap_dir, e))?;
    }
    Ok(Recovered {
        tree,
        sessions,
        snapshot,
        replayed,
        snapshot_due,
    })
}

/// Removes `tmp.snapshot.*` left by a snapshot a crash interrupted, and `tmp.log.*` left
/// by a crash while a new txn log was being given its header.
fn remove_stale_temporaries(dir: &Path) {
    let Ok(rd) = fs::read_dir(dir) else { return };
    for e in rd.flatten() {
        let name = e.file_name();
        let name = name.to_string_lossy();
        if name.starts_with("tmp.snapshot.") || name.starts_with("tmp.log.") {
            let _ = fs::remove_file(e.path());
        }
    }
}

#[cfg(test)]
mod tests {
    // Test fixtures: the tests build these trees and files themselves, so `unwrap` on
    // them is a test failure, never input handling.
    use super::*;
    use jute::data::Id;

    fn scratch(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("rzk-recovery-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    /// A tree of several load batches: 40 parents × 150 children, some null data, a
    /// second ACL and an ephemeral owner.
    fn big_tree() -> DataTree {
        let mut t = DataTree::new();
        let open = [Acl {
            perms: 31,
            id: Id::new("world", "anyone"),
        }];
        let digest = [Acl {
            perms: 1,
            id: Id::new("digest", "u:x"),
        }];
        let mut zxid = 1;
        for p in 0..40 {
            t.create(&format!("/n{p}"), Some(b"parent"), &open, 0, -1, zxid, 7)
                .unwrap();
            zxid += 1;
            for c in 0..150 {
                let data = format!("v{p}-{c}");
                let (data, acl, owner) = match c % 10 {
                    0 => (None, &open[..], 0),
                    1 => (Some(data.as_bytes()), &digest[..], 0),
                    2 => (Some(data.as_bytes()), &open[..], 0x55),
                    _ => (Some(data.as_bytes()), &open[..], 0),
                };
                t.create(&format!("/n{p}/c{c}"), data, acl, owner, -1, zxid, 7)
                    .unwrap();
                zxid += 1;
            }
        }
        t.last_processed_zxid = zxid - 1;
        t
    }

    #[test]
    fn a_snapshot_of_many_batches_loads_the_same_tree() {
        let d = scratch("many");
        let tree = big_tree();
        assert!(tree.node_count() > 2 * LOAD_BATCH);
        let sessions = [(0x55, 30_000), (0x56, 4_000)];
        let file = snapshot::write_full(&d, &tree, &sessions, false).unwrap();
        let (t, s, digest) = load_snapshot_digest(&file, tree.last_processed_zxid).unwrap();
        assert_eq!(t.node_count(), tree.node_count());
        assert_eq!(t.digest(), tree.digest());
        assert_eq!(digest.map(|(_, _, d)| d), Some(tree.digest()));
        assert_eq!(s, HashMap::from(sessions));
        for path in ["/n0", "/n3/c0", "/n3/c1", "/n39/c149", "/zookeeper/config"] {
            let (a, b) = (t.get(path).unwrap(), tree.get(path).unwrap());
            assert_eq!(
                (a.data(), a.acl, &a.stat),
                (b.data(), b.acl, &b.stat),
                "{path}"
            );
            assert_eq!(t.acls.get(a.acl), tree.acls.get(b.acl), "{path}");
        }
        assert_eq!(t.get("/n7").unwrap().child_count(), 150);
        let _ = fs::remove_dir_all(&d);
    }

    #[test]
    fn a_node_before_its_parent_is_reported_at_its_offset() {
        let d = scratch("order");
        let tree = big_tree();
        let file = snapshot::write_full(&d, &tree, &[], false).unwrap();
        let mut bytes = fs::read(&file).unwrap();
        // Rename one parent's first child to a path whose parent does not exist (the
        // seal's checksum breaks too, later in the file).
        let needle = b"\0\0\0\x07/n33/c0";
        let at = bytes
            .windows(needle.len())
            .position(|w| w == needle)
            .unwrap();
        bytes[at + 5] = b'x';
        fs::write(&file, &bytes).unwrap();
        let e = load_snapshot_digest(&file, tree.last_processed_zxid).unwrap_err();
        assert_eq!(e.msg, "node /x33/c0 comes before its parent /x33");
        assert_eq!(e.offset, Some(at as u64));
        let _ = fs::remove_dir_all(&d);
    }
}
