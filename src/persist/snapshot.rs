//! Snapshot files in ZooKeeper's format (PROTOCOL.md §6.3):
//!
//! ```text
//! FileHeader{ZKSN, 2, -1}
//! int n; n × {long session, int timeout}
//! int m; m × {long aclId, vector<ACL>}
//! pre-order DFS × {ustring path ("" for the root), buffer data, long aclId, StatPersisted}
//! ustring "/"                          end of nodes
//! long adler32-so-far; ustring "/"     seal
//! long zxid; int 2; long digest        ZxidDigest (unless digest.enabled=false)
//! long adler32-so-far; ustring "/"     seal #2
//! ```
//!
//! The ZxidDigest is the tree digest at `zxid`, both taken when the walk ends (as
//! ZooKeeper's `serializeZxidDigest` does after the nodes), so the pair is consistent even
//! though the nodes are fuzzy; recovery compares it once replay reaches that zxid. The 3.9
//! lastProcessedZxid trailer is read, checked and ignored.
//!
//! **Fuzzy writing.** [`FuzzyWriter`] serializes the tree in bounded steps between the
//! core's batches while writes continue, as ZooKeeper's fuzzy snapshot does. The file is
//! named after `last_processed_zxid` when it started, and recovery replays every txn after
//! that, which repairs what changed meanwhile. Two rules keep that replay sufficient:
//! nodes created after the start (`czxid` above the snapshot zxid) are skipped with their
//! subtrees — replay creates them — and a node whose ACL id is not in the ACL map written at
//! the start (a `setACL` to a new list happened meanwhile) is written with the open ACL id
//! -1, which the replayed `setACL` overwrites. ACL ids are never reused, so every other id a
//! node carries is in the map.

use crate::acl::OPEN_ACL_ID;
use crate::fast::HashSet;
use crate::persist::direct::{open_maybe_direct, AlignedChunk, BLOCK};
use crate::persist::files;
use crate::tree::{DataTree, NodeId, ROOT};
use bytes::{BufMut, BytesMut};
use jute::codec::decode_prefix;
use jute::data::{Acl, StatPersisted};
use jute::file::FileHeader;
use jute::Codec;
use std::fs::{self, File};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tracing::debug;

/// The bytes every complete snapshot ends with: the string "/" after the seal.
pub const SEAL_END: [u8; 5] = [0, 0, 0, 1, b'/'];

/// What a snapshot holds, delivered item by item while reading; `'a` is the file's bytes,
/// which node paths and data borrow from.
pub trait SnapSink<'a> {
    /// A session and its timeout.
    fn session(&mut self, id: i64, timeout: i32);
    /// An ACL-cache entry.
    fn acl(&mut self, id: i64, acl: Vec<Acl>);
    /// A node; `path` is `""` for the root. An `Err` aborts reading.
    fn node(
        &mut self,
        path: &'a str,
        data: Option<&'a [u8]>,
        acl: i64,
        stat: StatPersisted,
    ) -> Result<(), String>;
}

/// The optional trailers after the first seal.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Trailer {
    /// ZxidDigest: zxid, digest version and the digest (stored as hex text below version 2).
    pub digest: Option<(i64, i32, i64)>,
    /// 3.9's lastProcessedZxid.
    pub last_zxid: Option<i64>,
}

/// ZooKeeper's `Util.isValidSnapshot` shape check: long enough and ends with the seal's "/".
pub fn looks_complete(bytes: &[u8]) -> bool {
    bytes.len() >= 10 && bytes[bytes.len() - 5..] == SEAL_END
}

/// Reads a whole uncompressed snapshot, checking every seal. Errors carry the offset.
pub fn read<'a>(bytes: &'a [u8], sink: &mut dyn SnapSink<'a>) -> Result<Trailer, (u64, String)> {
    let off = |rest: &[u8]| (bytes.len() - rest.len()) as u64;
    let mut i = bytes;
    macro_rules! get {
        ($t:ty, $what:expr) => {{
            let (v, rest) =
                decode_prefix::<$t>(i).map_err(|e| (off(i), format!("{}: {e}", $what)))?;
            i = rest;
            v
        }};
    }
    let h = get!(FileHeader, "file header");
    if h.magic != jute::consts::magic::SNAPSHOT {
        return Err((0, format!("magic {:#x} is not ZKSN", h.magic)));
    }
    let n = get!(i32, "session count");
    for _ in 0..n.max(0) {
        let id = get!(i64, "session id");
        let timeout = get!(i32, "session timeout");
        sink.session(id, timeout);
    }
    let m = get!(i32, "ACL map size");
    for _ in 0..m.max(0) {
        let id = get!(i64, "ACL id");
        let acl = get!(Vec<Acl>, "ACL list");
        sink.acl(id, acl);
    }
    loop {
        let at = off(i);
        let (path, rest) = str_ref(i).map_err(|e| (at, format!("node path: {e}")))?;
        i = rest;
        if path == "/" {
            break;
        }
        let (data, rest) = jute::codec::buffer_ref(i)
            .map(|(r, d)| (d, r))
            .map_err(|e| (off(i), format!("node data: {}", jute::codec::finish_err(e))))?;
        i = rest;
        let acl = get!(i64, "node ACL id");
        let stat = get!(StatPersisted, "node stat");
        sink.node(path, data, acl, stat).map_err(|e| (at, e))?;
    }
    let mut sum = RunningAdler::default();
    check_seal(bytes, &mut i, &mut sum)?;
    let mut t = Trailer::default();
    if i.is_empty() {
        return Ok(t);
    }
    let zxid = get!(i64, "digest zxid");
    let version = get!(i32, "digest version");
    let digest = if version >= 2 {
        get!(i64, "digest")
    } else {
        let hex = get!(String, "digest");
        u64::from_str_radix(&hex, 16).unwrap_or(0) as i64
    };
    t.digest = Some((zxid, version, digest));
    check_seal(bytes, &mut i, &mut sum)?;
    if i.is_empty() {
        return Ok(t);
    }
    t.last_zxid = Some(get!(i64, "last processed zxid"));
    check_seal(bytes, &mut i, &mut sum)?;
    if !i.is_empty() {
        return Err((
            off(i),
            format!("{} unexpected bytes after the seal", i.len()),
        ));
    }
    Ok(t)
}

/// A snapshot-node path as a borrowed, UTF-8-checked string.
fn str_ref(i: &[u8]) -> Result<(&str, &[u8]), String> {
    let (rest, b) =
        jute::codec::buffer_ref(i).map_err(|e| jute::codec::finish_err(e).to_string())?;
    let s =
        std::str::from_utf8(b.unwrap_or_default()).map_err(|_| "path is not UTF-8".to_string())?;
    Ok((s, rest))
}

/// Adler-32 of the file so far, extended as each seal is checked (one pass in all).
#[derive(Default)]
struct RunningAdler {
    sum: simd_adler32::Adler32,
    upto: usize,
}

/// Checks `long adler32(bytes before it)` followed by the string "/".
fn check_seal(bytes: &[u8], i: &mut &[u8], run: &mut RunningAdler) -> Result<(), (u64, String)> {
    let at = bytes.len() - i.len();
    let (seal, rest) = decode_prefix::<i64>(i).map_err(|e| (at as u64, format!("seal: {e}")))?;
    run.sum.write(&bytes[run.upto..at]);
    run.upto = at;
    let want = run.sum.finish() as i64;
    if seal != want {
        return Err((
            at as u64,
            format!("checksum mismatch: stored {seal:#x}, computed {want:#x}"),
        ));
    }
    let (slash, rest) =
        decode_prefix::<String>(rest).map_err(|e| (at as u64 + 8, format!("seal: {e}")))?;
    if slash != "/" {
        return Err((at as u64 + 8, "seal not followed by \"/\"".into()));
    }
    run.sum.write(&bytes[at..at + 13]);
    run.upto = at + 13;
    *i = rest;
    Ok(())
}

fn put_str(out: &mut BytesMut, s: &str) {
    out.put_i32(s.len() as i32);
    out.put_slice(s.as_bytes());
}

/// Appends the seal for a stream whose Adler-32 so far is `adler`.
pub fn put_seal(out: &mut BytesMut, adler: u32) {
    out.put_i64(adler as i64);
    put_str(out, "/");
}

/// Serializes a tree in bounded steps (see the module doc for the fuzzy rules).
#[derive(Debug)]
pub struct FuzzyWriter {
    zxid: i64,
    stack: Vec<(NodeId, usize)>,
    /// Path of the node written last (the root is `""`).
    path: Vec<u8>,
    acl_ids: HashSet<i64>,
    nodes: u64,
    done: bool,
    zxid_digest: Option<(i64, i64)>,
}

impl FuzzyWriter {
    /// Starts a snapshot of `tree` at its `last_processed_zxid`: appends the header,
    /// `sessions` and the ACL map to `out`.
    pub fn begin(
        tree: &DataTree,
        sessions: impl Iterator<Item = (i64, u32)>,
        out: &mut BytesMut,
    ) -> FuzzyWriter {
        FileHeader::snapshot().encode(out);
        let sessions: Vec<(i64, u32)> = sessions.collect();
        out.put_i32(sessions.len() as i32);
        for (id, timeout) in sessions {
            out.put_i64(id);
            out.put_i32(timeout as i32);
        }
        let acls = tree.acls.entries();
        out.put_i32(acls.len() as i32);
        let mut acl_ids = HashSet::with_capacity_and_hasher(acls.len(), Default::default());
        for (id, list) in acls {
            out.put_i64(id);
            out.put_i32(list.len() as i32);
            for a in list.iter() {
                a.encode(out);
            }
            acl_ids.insert(id);
        }
        FuzzyWriter {
            zxid: tree.last_processed_zxid,
            stack: vec![(ROOT, 0)],
            path: Vec::new(),
            acl_ids,
            nodes: 0,
            done: false,
            zxid_digest: None,
        }
    }

    /// The zxid the snapshot is named after.
    pub fn zxid(&self) -> i64 {
        self.zxid
    }

    /// Reserves room for a walk of `tree` that must not allocate (a forked child's): a
    /// stack entry per node and 1 MB of path, in `spare`'s buffers where they are large
    /// enough (see [`WalkSpare`]).
    pub fn reserve_for(&mut self, tree: &DataTree, spare: &mut WalkSpare) {
        spare.reserve_walk(tree.node_count());
        let mut stack = std::mem::take(&mut spare.stack);
        stack.clear();
        stack.extend_from_slice(&self.stack);
        let mut path = std::mem::take(&mut spare.path);
        path.clear();
        path.extend_from_slice(&self.path);
        self.stack = stack;
        self.path = path;
    }

    /// Hands the walk's buffers back to `spare` for the next snapshot.
    pub fn release_into(self, spare: &mut WalkSpare) {
        spare.stack = self.stack;
        spare.path = self.path;
    }

    /// Nodes written so far.
    pub fn nodes(&self) -> u64 {
        self.nodes
    }

    /// The ZxidDigest to write after the seal: the tree's zxid and digest when the walk
    /// ended (`None` before that, or with `digest.enabled=false`).
    pub fn zxid_digest(&self) -> Option<(i64, i64)> {
        self.zxid_digest.filter(|_| crate::tree::digest_enabled())
    }

    /// Whether the end-of-nodes marker has been written.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Serializes nodes into `out` until it holds `max_bytes` or `deadline` passes; at the
    /// end of the tree appends the "/" marker and returns true.
    pub fn step(
        &mut self,
        tree: &DataTree,
        out: &mut BytesMut,
        max_bytes: usize,
        deadline: Option<Instant>,
    ) -> bool {
        if self.done {
            return true;
        }
        let mut n = 0usize;
        // Pre-order walk by node id. Each stack entry carries the length of its parent's
        // path; when it is popped, `self.path` still starts with that parent's path (every
        // node written in between lies in the parent's subtree), so the child's path is
        // that prefix plus its name — no path string is built per child.
        while let Some((id, parent_len)) = self.stack.pop() {
            let Some(node) = tree.get_by_id(id) else {
                continue; // deleted meanwhile: replay of its delete is a NoNode no-op
            };
            let root = id == ROOT;
            if !root && node.stat.czxid > self.zxid {
                continue; // created meanwhile (or its slot reused): replay creates it
            }
            self.path.truncate(parent_len);
            if !root {
                self.path.push(b'/');
                self.path.extend_from_slice(node.name_bytes());
            }
            out.put_i32(self.path.len() as i32);
            out.put_slice(&self.path);
            match node.data() {
                Some(d) => {
                    out.put_i32(d.len() as i32);
                    out.put_slice(d);
                }
                None => out.put_i32(-1),
            }
            let acl = if node.acl == OPEN_ACL_ID || self.acl_ids.contains(&node.acl) {
                node.acl
            } else {
                OPEN_ACL_ID // setACL to a new list meanwhile: replay sets it
            };
            out.put_i64(acl);
            node.stat.encode(out);
            let len = self.path.len();
            self.stack.extend(tree.child_ids(node).map(|c| (c, len)));
            self.nodes += 1;
            // Work units: the node plus its children's stack entries.
            n += 1 + node.child_count() / 64;
            if out.len() >= max_bytes {
                return false;
            }
            if n >= 32 {
                n = 0;
                if deadline.is_some_and(|d| Instant::now() >= d) {
                    return false;
                }
            }
        }
        put_str(out, "/");
        self.done = true;
        self.zxid_digest = Some((tree.last_processed_zxid, tree.digest()));
        true
    }
}

/// A forked walk's buffers, kept between snapshots. A walk of a large tree reserves
/// megabytes up front (the child must not allocate), and allocating them afresh each
/// time cost the core up to 10 ms per snapshot here (the allocator maps and faults
/// large blocks anew); the parent never writes to them, so keeping them costs only
/// address space.
#[derive(Default)]
pub struct WalkSpare {
    stack: Vec<(NodeId, usize)>,
    path: Vec<u8>,
    /// The chunk buffer the child serializes into.
    pub buf: BytesMut,
    /// The next snapshot's file, made before it is needed.
    pub next_file: NextFile,
}

/// The next snapshot's file, created ahead of time by a thread other than the core (at
/// start-up, then by the thread that saw the previous snapshot finish).
///
/// Why: creating a file waits for the filesystem's journal, which the txn log's
/// fdatasyncs keep busy. On the benchmark guest under 15,000 setData/s, creating the
/// snapshot file took 0.2–1 ms, and 7 ms for the first one, out of a fork that took
/// 0.5–0.8 ms: time the core stood still with every request waiting. Taken from here, the
/// file costs the core a `try_lock`.
///
/// The file is removed when the last holder drops it unused; a server killed by a signal
/// leaves it behind, for recovery to remove at the next start like any `tmp.snapshot.*`.
#[derive(Clone, Default)]
pub struct NextFile(Arc<SpareSlot>);

#[derive(Default)]
struct SpareSlot(Mutex<Option<SnapFile>>);

/// The name a file made ahead of time has until a snapshot claims it (a `tmp.snapshot.`
/// name: ZooKeeper's file scan ignores it, and recovery removes it as a stale temporary).
const SPARE_NAME: &str = "tmp.snapshot.next";

impl NextFile {
    fn slot(&self) -> &Mutex<Option<SnapFile>> {
        &self.0 .0
    }

    /// Creates the next file in `dir` if none is held. Blocks on the filesystem: not for
    /// the core while it serves.
    pub fn fill(&self, dir: &Path) {
        let empty = self.slot().lock().map(|g| g.is_none()).unwrap_or(false);
        if !empty {
            return;
        }
        match SnapFile::create_at(
            dir,
            dir.join(SPARE_NAME),
            dir.to_owned(),
            DIRECT_IO.load(Ordering::Relaxed),
        ) {
            Ok(f) => {
                if let Ok(mut g) = self.slot().lock() {
                    *g = Some(f);
                }
            }
            Err(e) => {
                debug!(dir = %dir.display(), error = %e, "cannot create the next snapshot file ahead; the snapshot will create its own");
            }
        }
    }

    /// The file for a snapshot at `zxid` in `dir`: the one made ahead if there is one
    /// (and nobody holds the slot at this instant), else a new one.
    pub fn take(&self, dir: &Path, zxid: i64) -> io::Result<SnapFile> {
        let held = self.slot().try_lock().ok().and_then(|mut g| g.take());
        match held {
            Some(mut f) if f.dir == dir => {
                f.dest = dir.join(files::snapshot_name(zxid));
                Ok(f)
            }
            other => {
                if let Some(f) = other {
                    f.abandon();
                }
                SnapFile::create(dir, zxid)
            }
        }
    }
}

impl Drop for SpareSlot {
    /// A file made ahead and never used is removed with the last holder.
    fn drop(&mut self) {
        if let Some(f) = self.0.get_mut().ok().and_then(Option::take) {
            f.abandon();
        }
    }
}

impl WalkSpare {
    /// Makes the walk's stack and path buffers big enough for a tree of `nodes` nodes.
    fn reserve_walk(&mut self, nodes: usize) {
        let need = nodes + 1;
        if self.stack.capacity() < need {
            // A fresh block rather than a reallocation, which would copy (and so touch)
            // the whole old capacity; with headroom so a growing tree reuses it.
            self.stack = Vec::with_capacity(need + need / 2);
        }
        // A path cannot be longer than a request (jute.maxbuffer, 1 MB by default); the
        // pages are only touched if a path that long exists.
        self.path.reserve(1 << 20);
    }

    /// Allocates every buffer a forked walk of a tree of `nodes` nodes needs, with a
    /// chunk buffer of `chunk` bytes, so that the first snapshot does not. Why: with
    /// transparent huge pages, each fresh allocation faults in 2 MB of zeroed memory on
    /// the core's thread; the first forked snapshot's buffer setup took 5–19 ms of the
    /// core on the benchmark guest. Done before serving, that cost lands in start-up.
    pub fn warm(&mut self, nodes: usize, chunk: usize) {
        self.reserve_walk(nodes);
        self.buf.reserve(chunk);
    }
}

/// Whether snapshots are written with `O_DIRECT` (`rzk.snapshot.directIO`, default on).
static DIRECT_IO: AtomicBool = AtomicBool::new(true);

/// Sets whether snapshots are written with `O_DIRECT`, from the configuration.
pub fn set_direct_io(on: bool) {
    DIRECT_IO.store(on, Ordering::Relaxed);
}

/// Bytes a snapshot file gathers before each write.
const WRITE_CHUNK: usize = 1 << 20;

/// A snapshot being written: a temporary name (`tmp.snapshot.<hex>`, which ZooKeeper's
/// file scan ignores), the running Adler-32, and an atomic rename when complete.
///
/// Written with `O_DIRECT` where the filesystem allows it (see [`AlignedChunk`]): whole
/// 1 MiB chunks, and at the end the last block zero-padded and the file cut back to its
/// length. Otherwise through the page cache, paced (see [`WRITEBACK_WINDOW`]).
pub struct SnapFile {
    file: File,
    buf: AlignedChunk,
    direct: bool,
    adler: simd_adler32::Adler32,
    tmp: PathBuf,
    dest: PathBuf,
    dir: PathBuf,
    zxid_digest: Option<(i64, i64)>,
    /// Bytes written to the file; the file offsets up to which writeback has been
    /// started, and waited for (page-cache writes only).
    written: u64,
    paced: u64,
    waited: u64,
}

/// Writeback window: a snapshot starts writing back each window of this size as soon as
/// it is complete and waits for the previous one, so at most two windows are dirty. A
/// snapshot of gigabytes then never piles up in the page cache for the final sync to
/// flush in one burst, which would stall every txn-log fsync behind it (ext4 commits
/// ordered data before the log's metadata).
const WRITEBACK_WINDOW: u64 = 4 << 20;

impl SnapFile {
    /// Creates the temporary file for a snapshot at `zxid` in `dir` (a version-2 dir).
    pub fn create(dir: &Path, zxid: i64) -> io::Result<SnapFile> {
        SnapFile::create_as(dir, zxid, DIRECT_IO.load(Ordering::Relaxed))
    }

    /// As [`SnapFile::create`], trying `O_DIRECT` only when `direct`.
    fn create_as(dir: &Path, zxid: i64, direct: bool) -> io::Result<SnapFile> {
        let name = files::snapshot_name(zxid);
        SnapFile::create_at(dir, dir.join(format!("tmp.{name}")), dir.join(name), direct)
    }

    /// Creates `tmp` (in `dir`), to be renamed to `dest` once sealed.
    fn create_at(dir: &Path, tmp: PathBuf, dest: PathBuf, direct: bool) -> io::Result<SnapFile> {
        let mut o = fs::OpenOptions::new();
        o.write(true).create(true).truncate(true);
        let (file, direct) = open_maybe_direct(&o, &tmp, direct)?;
        Ok(SnapFile {
            file,
            buf: AlignedChunk::new(WRITE_CHUNK),
            direct,
            adler: simd_adler32::Adler32::new(),
            tmp,
            dest,
            dir: dir.to_owned(),
            zxid_digest: None,
            written: 0,
            paced: 0,
            waited: 0,
        })
    }

    /// Appends bytes, updating the checksum.
    pub fn write(&mut self, mut b: &[u8]) -> io::Result<()> {
        self.adler.write(b);
        while !b.is_empty() {
            let n = self.buf.fill(b);
            b = &b[n..];
            if self.buf.is_full() {
                self.write_out()?;
            }
        }
        Ok(())
    }

    /// Writes the buffer at the file's end: padded to a block when direct (the file is
    /// cut back to its length after the last one).
    fn write_out(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let len = self.buf.len() as u64;
        let r = match self.direct {
            true => self.file.write_all_at(self.buf.padded(), self.written),
            false => self.file.write_all_at(self.buf.bytes(), self.written),
        };
        match r {
            Ok(()) => {}
            Err(e) if self.direct && e.raw_os_error() == Some(libc::EINVAL) => {
                // Opened for O_DIRECT, yet the filesystem refuses 4 KiB-aligned writes:
                // go on through the page cache.
                self.direct = false;
                clear_o_direct(&self.file)?;
                self.file.write_all_at(self.buf.bytes(), self.written)?;
            }
            Err(e) => return Err(e),
        }
        self.written += len;
        self.buf.clear();
        if self.direct && !len.is_multiple_of(BLOCK as u64) {
            self.file.set_len(self.written)?;
        }
        if !self.direct {
            self.pace();
        }
        Ok(())
    }

    /// Starts writeback of the newest complete window and waits for the one before it.
    #[cfg(target_os = "linux")]
    fn pace(&mut self) {
        use std::os::unix::io::AsRawFd;
        let flushed = self.written;
        if flushed < self.paced + WRITEBACK_WINDOW {
            return;
        }
        let fd = self.file.as_raw_fd();
        let (start, len) = (self.paced as i64, (flushed - self.paced) as i64);
        // SAFETY: plain system calls on our own descriptor; failures only lose pacing.
        unsafe {
            libc::sync_file_range(fd, start, len, libc::SYNC_FILE_RANGE_WRITE);
            if start > 0 {
                // The previous window: [0 or the start of the window before, start).
                let prev = self.waited as i64;
                libc::sync_file_range(
                    fd,
                    prev,
                    start - prev,
                    libc::SYNC_FILE_RANGE_WAIT_BEFORE
                        | libc::SYNC_FILE_RANGE_WRITE
                        | libc::SYNC_FILE_RANGE_WAIT_AFTER,
                );
            }
        }
        self.waited = self.paced;
        self.paced = flushed;
    }

    #[cfg(not(target_os = "linux"))]
    fn pace(&mut self) {}

    /// Sets the ZxidDigest (zxid, tree digest) [`SnapFile::finish`] writes after the seal.
    pub fn set_zxid_digest(&mut self, d: Option<(i64, i64)>) {
        self.zxid_digest = d;
    }

    /// Writes the seal (and the ZxidDigest with a second seal), syncs (when `fsync`),
    /// renames into place and returns the path.
    pub fn finish(mut self, fsync: bool) -> io::Result<PathBuf> {
        self.seal(fsync)?;
        self.publish(fsync)
    }

    /// Writes the seal (and the ZxidDigest with a second seal) and syncs the file's data
    /// (when `fsync`), leaving it under its temporary name. Allocates nothing, so a forked
    /// child can call it.
    pub fn seal(&mut self, fsync: bool) -> io::Result<()> {
        let mut seal = [0u8; 13];
        let put = |w: &mut SnapFile, seal: &mut [u8; 13]| {
            seal[..8].copy_from_slice(&(w.adler.finish() as i64).to_be_bytes());
            seal[8..].copy_from_slice(&SEAL_END);
            w.write(&seal[..])
        };
        put(self, &mut seal)?;
        if let Some((zxid, digest)) = self.zxid_digest {
            let mut d = [0u8; 20];
            d[..8].copy_from_slice(&zxid.to_be_bytes());
            d[8..12].copy_from_slice(&crate::tree::DIGEST_VERSION.to_be_bytes());
            d[12..].copy_from_slice(&digest.to_be_bytes());
            self.write(&d)?;
            put(self, &mut seal)?;
        }
        self.write_out()?;
        if fsync {
            self.file.sync_all()?;
        }
        Ok(())
    }

    /// Renames a sealed file into place (syncing the directory when `fsync`).
    pub fn publish(self, fsync: bool) -> io::Result<PathBuf> {
        fs::rename(&self.tmp, &self.dest)?;
        if fsync {
            files::sync_dir(&self.dir)?;
        }
        Ok(self.dest)
    }

    /// The directory the file is in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The open file's descriptor (kept open in a forked child).
    #[cfg(unix)]
    pub fn raw_fd(&self) -> i32 {
        std::os::unix::io::AsRawFd::as_raw_fd(&self.file)
    }

    /// Removes the temporary file after a failure.
    pub fn abandon(self) {
        let _ = fs::remove_file(&self.tmp);
    }
}

/// Turns `O_DIRECT` off for an open file (a filesystem that opened it so, yet refuses
/// aligned direct writes).
fn clear_o_direct(file: &File) -> io::Result<()> {
    use std::os::unix::io::AsRawFd;
    let fd = file.as_raw_fd();
    // SAFETY: fcntl on our own descriptor with integer arguments.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    // SAFETY: as above.
    if flags < 0 || unsafe { libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_DIRECT) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Writes a complete (non-fuzzy) snapshot of `tree` into `dir`, e.g. at start-up.
pub fn write_full(
    dir: &Path,
    tree: &DataTree,
    sessions: &[(i64, u32)],
    fsync: bool,
) -> io::Result<PathBuf> {
    let mut f = SnapFile::create(dir, tree.last_processed_zxid)?;
    let mut buf = BytesMut::with_capacity(1 << 20);
    let mut w = FuzzyWriter::begin(tree, sessions.iter().copied(), &mut buf);
    let r = (|| loop {
        let done = w.step(tree, &mut buf, 1 << 20, None);
        f.write(&buf)?;
        buf.clear();
        if done {
            return Ok(());
        }
    })();
    match r {
        Ok(()) => {
            f.set_zxid_digest(w.zxid_digest());
            f.finish(fsync)
        }
        Err(e) => {
            f.abandon();
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    // Unwraps here assert on files the test itself writes, never on wire or disk input.
    use super::*;

    /// Writes 2.5 MiB in odd-sized pieces (so chunks, the padded last block and the cut
    /// back to length are all exercised) and returns the published file's bytes.
    fn write_pieces(dir: &Path, direct: bool) -> (bool, Vec<u8>) {
        fs::create_dir_all(dir).unwrap();
        let mut f = SnapFile::create_as(dir, 0x1234, direct).unwrap();
        let used_direct = f.direct;
        let mut n = 0u32;
        while f.written + (f.buf.len() as u64) < (5 << 20) / 2 {
            let piece: Vec<u8> = (0..(n % 7919 + 1)).map(|i| (i ^ n) as u8).collect();
            f.write(&piece).unwrap();
            n += 1;
        }
        f.set_zxid_digest(Some((0x1234, 99)));
        let path = f.finish(false).unwrap();
        (used_direct, fs::read(path).unwrap())
    }

    #[test]
    fn direct_and_page_cache_writes_give_the_same_file() {
        let base = std::env::temp_dir().join(format!("rzk-snapfile-{}", std::process::id()));
        let (_, buffered) = write_pieces(&base.join("buffered"), false);
        let (used_direct, direct) = write_pieces(&base.join("direct"), true);
        if !used_direct {
            eprintln!("the temp dir refuses O_DIRECT: both files went through the page cache");
        }
        assert!(buffered.len() % BLOCK != 0, "the last block is partial");
        assert_eq!(direct.len(), buffered.len(), "cut back to the exact length");
        assert!(direct == buffered);
        assert!(looks_complete(&direct));
        let _ = fs::remove_dir_all(&base);
    }

    #[test]
    fn a_file_made_ahead_becomes_the_next_snapshot_and_is_made_once() {
        let dir = std::env::temp_dir().join(format!("rzk-nextfile-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let next = NextFile::default();
        next.fill(&dir);
        let spare = dir.join(SPARE_NAME);
        let ino = |p: &Path| std::os::unix::fs::MetadataExt::ino(&fs::metadata(p).unwrap());
        let made = ino(&spare);
        next.fill(&dir);
        assert_eq!(ino(&spare), made, "a second fill keeps the file it has");
        // The snapshot takes the file made ahead and publishes it under its zxid.
        let mut f = next.take(&dir, 0x2a).unwrap();
        f.write(b"body").unwrap();
        let published = f.finish(false).unwrap();
        assert_eq!(published, dir.join(files::snapshot_name(0x2a)));
        assert_eq!(ino(&published), made);
        assert_eq!(fs::read(&published).unwrap().len(), 4 + 13);
        assert!(!spare.exists());
        // With none held, a snapshot creates its own file under its own name.
        let f = next.take(&dir, 0x2b).unwrap();
        assert!(dir.join("tmp.snapshot.2b").exists() && !spare.exists());
        f.abandon();
        // A file held for another directory is not used there (and is removed).
        let other = dir.join("other");
        fs::create_dir_all(&other).unwrap();
        next.fill(&other);
        let f = next.take(&dir, 0x2c).unwrap();
        assert!(!other.join(SPARE_NAME).exists());
        assert_eq!(f.dir(), dir.as_path());
        f.abandon();
        // The last holder dropping a file nobody used removes it.
        next.fill(&dir);
        assert!(spare.exists());
        drop(next);
        assert!(!spare.exists());
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn warmed_buffers_are_the_ones_the_walk_uses() {
        let tree = DataTree::new();
        let mut spare = WalkSpare::default();
        spare.warm(1000, 64 << 10);
        assert!(spare.stack.capacity() > 1000 && spare.path.capacity() >= 1 << 20);
        assert!(spare.buf.capacity() >= 64 << 10);
        let (stack, path) = (spare.stack.as_ptr(), spare.path.as_ptr());
        let mut buf = BytesMut::new();
        let mut w = FuzzyWriter::begin(&tree, std::iter::empty(), &mut buf);
        w.reserve_for(&tree, &mut spare);
        // No allocation at snapshot time: the walk took the warmed blocks.
        assert_eq!((w.stack.as_ptr(), w.path.as_ptr()), (stack, path));
        w.release_into(&mut spare);
        assert_eq!(spare.stack.as_ptr(), stack);
    }
}
