//! A snapshot in progress, taken one of two ways:
//!
//! - **Forked** (Linux, the default): the core forks the process between batches. The
//!   child owns a copy-on-write image of the tree frozen at that instant, walks and writes
//!   all of it, syncs and exits; a thread of the server waits for it and renames the file
//!   into place. The core pays only for the fork (page tables) and for the pages it
//!   touches afterwards; the walk runs on another core, as ZooKeeper's snapshot thread
//!   does. The snapshot is exact, not fuzzy: every node as of its zxid.
//! - **In-core** (for a tree smaller than `rzk.snapshot.forkMinBytes`, elsewhere, with
//!   `rzk.snapshot.fork=false`, or when fork fails): the core
//!   serializes the tree in bounded chunks between batches ([`SnapJob::step`]); a
//!   background thread checksums, writes and fsyncs them and renames the file into place.
//!   At most [`MAX_INFLIGHT`] chunks wait for the thread, so a slow disk slows the
//!   snapshot, not the core; the thread wakes the core (a no-op `committed` value) after
//!   each chunk so an idle server keeps making progress.

#[cfg(doc)]
use crate::persist::snapshot::NextFile;
use crate::persist::snapshot::{FuzzyWriter, SnapFile, WalkSpare};
use crate::tree::DataTree;
use bytes::BytesMut;
use jute::codec::Codec;
use jute::data::StatPersisted;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use tokio::sync::mpsc::UnboundedSender;
use tracing::{error, info, warn};

/// Chunks handed to the thread but not yet written.
pub const MAX_INFLIGHT: usize = 4;
/// Bytes per chunk of a forked walk.
const CHUNK_BYTES: usize = 1 << 20;
/// Bytes per chunk of an in-core walk: small, because the core serializes a chunk per
/// step between batches and the requests behind it wait for it.
const IN_CORE_CHUNK_BYTES: usize = 256 << 10;
/// Snapshot bytes per node besides its path and data: the path's and data's lengths, the
/// ACL id and the persisted Stat (both fixed-size, so their codecs' minimum is exact).
const NODE_OVERHEAD_BYTES: u64 =
    (4 + 4 + <i64 as Codec>::MIN_SIZE + <StatPersisted as Codec>::MIN_SIZE) as u64;
/// A forked walk's chunk buffer: a chunk is cut after the node that fills it, so room for
/// one more node of the largest size a request can carry (untouched pages cost nothing).
const FORK_BUF_BYTES: usize = CHUNK_BYTES + (4 << 20);
/// Longest the core spends serializing per step.
const STEP_TIME: Duration = Duration::from_micros(500);

/// Whether forking is worth it for `tree`: only when its snapshot would be at least
/// `min_bytes`. A fork copies the page tables of the whole process, so it stops the core
/// for about as long whatever the tree's size (0.7–3 ms for a tree of a few thousand
/// nodes in a process of 170 MB), while an in-core walk of a small tree costs the core a
/// few short steps.
pub fn fork_pays(tree: &DataTree, min_bytes: u64) -> bool {
    let estimate = tree
        .approximate_data_size()
        .saturating_add((tree.node_count() as u64).saturating_mul(NODE_OVERHEAD_BYTES));
    estimate >= min_bytes
}

enum SnapMsg {
    /// A chunk to write; the buffer comes back (cleared) on the return channel, so a
    /// snapshot reuses a handful of buffers instead of faulting in fresh pages per chunk.
    Chunk(BytesMut),
    /// End of the nodes, with the ZxidDigest to write after the seal.
    Finish(Option<(i64, i64)>),
}

/// One snapshot being taken.
pub struct SnapJob {
    zxid: i64,
    how: How,
}

enum How {
    InCore(InCore),
    #[cfg(target_os = "linux")]
    Forked(forked::Forked),
}

/// The in-core walk's state.
struct InCore {
    writer: FuzzyWriter,
    tx: Option<Sender<SnapMsg>>,
    inflight: Arc<AtomicUsize>,
    finished: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    buf: BytesMut,
    spare: Receiver<BytesMut>,
}

impl SnapJob {
    /// Starts a snapshot of `tree` into `dir` (version-2): forked when `fork` is set and
    /// the platform allows it, else in-core.
    pub fn start(
        dir: PathBuf,
        tree: &DataTree,
        sessions: impl Iterator<Item = (i64, u32)>,
        spare: &mut WalkSpare,
        wake: UnboundedSender<i64>,
        fsync: bool,
        fork: bool,
    ) -> std::io::Result<SnapJob> {
        let zxid = tree.last_processed_zxid;
        #[cfg(target_os = "linux")]
        if fork {
            let sessions: Vec<(i64, u32)> = sessions.collect();
            match forked::Forked::start(&dir, tree, &sessions, spare, wake.clone(), fsync) {
                Ok(f) => {
                    return Ok(SnapJob {
                        zxid,
                        how: How::Forked(f),
                    })
                }
                Err(e) => {
                    warn!(error = %e, "cannot fork for the snapshot; walking the tree in-process");
                }
            }
            let job = InCore::start(dir, tree, sessions.into_iter(), wake, fsync)?;
            return Ok(SnapJob {
                zxid,
                how: How::InCore(job),
            });
        }
        #[cfg(not(target_os = "linux"))]
        let _ = (fork, spare);
        let job = InCore::start(dir, tree, sessions, wake, fsync)?;
        Ok(SnapJob {
            zxid,
            how: How::InCore(job),
        })
    }

    /// The snapshot's zxid.
    pub fn zxid(&self) -> i64 {
        self.zxid
    }

    /// Whether it runs in a forked child.
    pub fn is_forked(&self) -> bool {
        !matches!(self.how, How::InCore(_))
    }

    /// In-core: serializes the next chunk if the writer thread has room (bounded by
    /// [`STEP_TIME`]). Forked: nothing to do.
    pub fn step(&mut self, tree: &DataTree) {
        if let How::InCore(j) = &mut self.how {
            j.step(tree);
        }
    }

    /// Whether the snapshot is over (written, or given up after an error).
    pub fn is_finished(&self) -> bool {
        match &self.how {
            How::InCore(j) => j.finished.load(Ordering::Acquire),
            #[cfg(target_os = "linux")]
            How::Forked(f) => f.is_finished(),
        }
    }

    /// Waits for the job (after [`SnapJob::is_finished`]), or abandons it: an unfinished
    /// in-core job stops, an unfinished child is killed; its temporary file is removed.
    pub fn join(self) {
        match self.how {
            How::InCore(j) => j.join(),
            #[cfg(target_os = "linux")]
            How::Forked(f) => f.join(),
        }
    }
}

impl InCore {
    /// Starts a snapshot of `tree` into `dir` (version-2); writes the header, sessions
    /// and ACL map as the first chunk.
    fn start(
        dir: PathBuf,
        tree: &DataTree,
        sessions: impl Iterator<Item = (i64, u32)>,
        wake: UnboundedSender<i64>,
        fsync: bool,
    ) -> std::io::Result<InCore> {
        let mut buf = BytesMut::with_capacity(IN_CORE_CHUNK_BYTES);
        let writer = FuzzyWriter::begin(tree, sessions, &mut buf);
        let (tx, rx) = channel();
        let (spare_tx, spare) = channel();
        let inflight = Arc::new(AtomicUsize::new(0));
        let finished = Arc::new(AtomicBool::new(false));
        let zxid = writer.zxid();
        let (i2, f2) = (inflight.clone(), finished.clone());
        let thread = std::thread::Builder::new()
            .name("rzk-snapshot".into())
            .spawn(move || write_thread(dir, zxid, rx, spare_tx, i2, f2, wake, fsync))?;
        let mut job = InCore {
            writer,
            tx: Some(tx),
            inflight,
            finished,
            thread: Some(thread),
            buf,
            spare,
        };
        job.send_buf();
        Ok(job)
    }

    fn send_buf(&mut self) {
        if self.buf.is_empty() {
            return;
        }
        let next = self
            .spare
            .try_recv()
            .unwrap_or_else(|_| BytesMut::with_capacity(IN_CORE_CHUNK_BYTES));
        let chunk = std::mem::replace(&mut self.buf, next);
        if let Some(tx) = &self.tx {
            self.inflight.fetch_add(1, Ordering::AcqRel);
            if tx.send(SnapMsg::Chunk(chunk)).is_err() {
                self.inflight.fetch_sub(1, Ordering::AcqRel);
            }
        }
    }

    /// Serializes the next chunk if the thread has room (bounded by [`STEP_TIME`]).
    fn step(&mut self, tree: &DataTree) {
        if self.tx.is_none() || self.inflight.load(Ordering::Acquire) >= MAX_INFLIGHT {
            return;
        }
        let deadline = Instant::now() + STEP_TIME;
        let done = self
            .writer
            .step(tree, &mut self.buf, IN_CORE_CHUNK_BYTES, Some(deadline));
        self.send_buf();
        if done {
            if let Some(tx) = self.tx.take() {
                let _ = tx.send(SnapMsg::Finish(self.writer.zxid_digest()));
            }
        }
    }

    /// Waits for the thread (after it finished, or to abandon the job).
    fn join(mut self) {
        self.tx = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn write_thread(
    dir: PathBuf,
    zxid: i64,
    rx: Receiver<SnapMsg>,
    spare: Sender<BytesMut>,
    inflight: Arc<AtomicUsize>,
    finished: Arc<AtomicBool>,
    wake: UnboundedSender<i64>,
    fsync: bool,
) {
    let t0 = Instant::now();
    let mut file = match SnapFile::create(&dir, zxid) {
        Ok(f) => Some(f),
        Err(e) => {
            error!(dir = %dir.display(), error = %e, "cannot create snapshot file; snapshot skipped");
            None
        }
    };
    let mut bytes = 0u64;
    let mut complete = false;
    while let Ok(msg) = rx.recv() {
        match msg {
            SnapMsg::Chunk(mut c) => {
                if let Some(f) = file.as_mut() {
                    if let Err(e) = f.write(&c) {
                        error!(zxid = format_args!("0x{zxid:x}"), error = %e, "snapshot write failed; snapshot skipped");
                        if let Some(f) = file.take() {
                            f.abandon();
                        }
                    }
                }
                bytes += c.len() as u64;
                c.clear();
                let _ = spare.send(c);
                inflight.fetch_sub(1, Ordering::AcqRel);
                let _ = wake.send(0);
            }
            SnapMsg::Finish(d) => {
                if let Some(f) = file.as_mut() {
                    f.set_zxid_digest(d);
                }
                complete = true;
                break;
            }
        }
    }
    if let Some(f) = file {
        if complete {
            match f.finish(fsync) {
                Ok(p) => info!(
                    file = %p.display(),
                    bytes,
                    ms = t0.elapsed().as_millis() as u64,
                    "snapshot written"
                ),
                Err(e) => error!(zxid = format_args!("0x{zxid:x}"), error = %e, "snapshot failed"),
            }
        } else {
            f.abandon();
        }
    }
    finished.store(true, Ordering::Release);
    let _ = wake.send(0);
}

#[cfg(target_os = "linux")]
mod forked {
    //! The forked snapshot: the child's side allocates nothing and only makes system
    //! calls (write, fsync, exit), so no lock another thread held at the fork can block it.

    use super::{CHUNK_BYTES, FORK_BUF_BYTES};
    use crate::persist::snapshot::{FuzzyWriter, SnapFile, WalkSpare};
    use crate::tree::DataTree;
    use bytes::BytesMut;
    use std::io;
    use std::path::Path;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};
    use std::thread::JoinHandle;
    use std::time::Instant;
    use tokio::sync::mpsc::UnboundedSender;
    use tracing::{error, info};

    /// The child's nice value: the lowest CPU priority, so a snapshot never takes a CPU
    /// from the core or the log writer that they want.
    const CHILD_NICE: libc::c_int = 19;
    /// `ioprio_set` target kind: one process.
    const IOPRIO_WHO_PROCESS: libc::c_int = 1;
    /// Best-effort class (2), lowest level (7): the txn log's fsyncs go first on
    /// schedulers that honour I/O priorities.
    const CHILD_IOPRIO: libc::c_int = (2 << 13) | 7;

    /// A child writing a snapshot, and the thread waiting for it.
    pub struct Forked {
        pid: libc::pid_t,
        /// True once the child has been reaped; held while signalling it, so a kill can
        /// never reach a recycled pid.
        reaped: Arc<Mutex<bool>>,
        finished: Arc<AtomicBool>,
        thread: Option<JoinHandle<()>>,
    }

    impl Forked {
        /// Forks; the child writes `tree` as it is now into a temporary file in `dir`.
        pub fn start(
            dir: &Path,
            tree: &DataTree,
            sessions: &[(i64, u32)],
            spare: &mut WalkSpare,
            wake: UnboundedSender<i64>,
            fsync: bool,
        ) -> io::Result<Forked> {
            let t0 = Instant::now();
            let zxid = tree.last_processed_zxid;
            let mut file = spare.next_file.take(dir, zxid)?;
            let next_file = spare.next_file.clone();
            let mut buf = std::mem::take(&mut spare.buf);
            buf.clear();
            buf.reserve(FORK_BUF_BYTES);
            let mut writer = FuzzyWriter::begin(tree, sessions.iter().copied(), &mut buf);
            writer.reserve_for(tree, spare);
            let parent = unsafe { libc::getpid() };
            // SAFETY: the child only runs `child`, which allocates nothing, takes no locks
            // and ends in `_exit`.
            let pid = unsafe { libc::fork() };
            if pid < 0 {
                let e = io::Error::last_os_error();
                file.abandon();
                return Err(e);
            }
            if pid == 0 {
                let code = child(parent, tree, writer, buf, &mut file, fsync);
                unsafe { libc::_exit(code) }
            }
            // The parent's copies were never written after the fork: keep them.
            writer.release_into(spare);
            spare.buf = buf;
            let fork_us = t0.elapsed().as_micros() as u64;
            info!(
                zxid = format_args!("0x{zxid:x}"),
                pid, fork_us, "snapshot child forked"
            );
            let reaped = Arc::new(Mutex::new(false));
            let finished = Arc::new(AtomicBool::new(false));
            let (r2, f2) = (reaped.clone(), finished.clone());
            let thread = std::thread::Builder::new()
                .name("rzk-snapshot".into())
                .spawn(move || {
                    let dir = file.dir().to_owned();
                    let stopped = wait_thread(pid, zxid, file, r2, f2, wake, fsync, t0);
                    if !stopped {
                        next_file.fill(&dir);
                    }
                });
            let thread = match thread {
                Ok(t) => t,
                Err(e) => {
                    unsafe { libc::kill(pid, libc::SIGKILL) };
                    let mut status = 0;
                    unsafe { libc::waitpid(pid, &mut status, 0) };
                    return Err(e);
                }
            };
            Ok(Forked {
                pid,
                reaped,
                finished,
                thread: Some(thread),
            })
        }

        pub fn is_finished(&self) -> bool {
            self.finished.load(Ordering::Acquire)
        }

        pub fn join(mut self) {
            {
                let reaped = self.reaped.lock().unwrap_or_else(|e| e.into_inner());
                if !*reaped {
                    unsafe { libc::kill(self.pid, libc::SIGKILL) };
                }
            }
            if let Some(t) = self.thread.take() {
                let _ = t.join();
            }
        }
    }

    /// The child: dies with its parent, closes every descriptor but the file's, writes and
    /// seals the snapshot. Returns the exit code: 0, or the errno of the failure.
    fn child(
        parent: libc::pid_t,
        tree: &DataTree,
        mut writer: FuzzyWriter,
        mut buf: BytesMut,
        file: &mut SnapFile,
        fsync: bool,
    ) -> i32 {
        unsafe {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            if libc::getppid() != parent {
                return 125;
            }
            for sig in [libc::SIGTERM, libc::SIGINT, libc::SIGHUP, libc::SIGPIPE] {
                libc::signal(sig, libc::SIG_DFL);
            }
            // Background work: the core, the log writer and the clients come first. The
            // child still runs whenever a CPU is idle, and gets a small share when none is.
            libc::setpriority(libc::PRIO_PROCESS, 0, CHILD_NICE);
            libc::syscall(libc::SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, CHILD_IOPRIO);
            // Listening and client sockets must not outlive the parent in this process.
            let fd = file.raw_fd() as libc::c_uint;
            if fd > 0 {
                libc::syscall(libc::SYS_close_range, 0u32, fd - 1, 0u32);
            }
            libc::syscall(libc::SYS_close_range, fd + 1, u32::MAX, 0u32);
        }
        let errno = |e: io::Error| {
            e.raw_os_error()
                .filter(|&c| c > 0 && c < 125)
                .unwrap_or(124)
        };
        loop {
            let done = writer.step(tree, &mut buf, CHUNK_BYTES, None);
            if let Err(e) = file.write(&buf) {
                return errno(e);
            }
            buf.clear();
            if done {
                break;
            }
        }
        file.set_zxid_digest(writer.zxid_digest());
        match file.seal(fsync) {
            Ok(()) => 0,
            Err(e) => errno(e),
        }
    }

    /// Waits for the child, publishes or removes its file, and wakes the core. Returns
    /// whether the child was stopped by a signal (the server is stopping or abandoned
    /// the snapshot), when no next file is worth making.
    #[allow(clippy::too_many_arguments)]
    fn wait_thread(
        pid: libc::pid_t,
        zxid: i64,
        file: SnapFile,
        reaped: Arc<Mutex<bool>>,
        finished: Arc<AtomicBool>,
        wake: UnboundedSender<i64>,
        fsync: bool,
        t0: Instant,
    ) -> bool {
        // Wait for the exit without reaping, then reap under the lock `join` signals under.
        loop {
            let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
            let r = unsafe {
                libc::waitid(
                    libc::P_PID,
                    pid as libc::id_t,
                    &mut info,
                    libc::WEXITED | libc::WNOWAIT,
                )
            };
            if r == 0 || io::Error::last_os_error().kind() != io::ErrorKind::Interrupted {
                break;
            }
        }
        let status = {
            let mut reaped = reaped.lock().unwrap_or_else(|e| e.into_inner());
            let mut status = 0;
            let r = unsafe { libc::waitpid(pid, &mut status, 0) };
            *reaped = true;
            (r == pid).then_some(status)
        };
        let zx = format_args!("0x{zxid:x}");
        let stopped = status.is_some_and(|s| libc::WIFSIGNALED(s));
        match status {
            Some(s) if libc::WIFEXITED(s) && libc::WEXITSTATUS(s) == 0 => match file.publish(fsync)
            {
                Ok(p) => info!(
                    file = %p.display(),
                    ms = t0.elapsed().as_millis() as u64,
                    "snapshot written"
                ),
                Err(e) => error!(zxid = %zx, error = %e, "snapshot rename failed"),
            },
            Some(s) if libc::WIFEXITED(s) => {
                let e = io::Error::from_raw_os_error(libc::WEXITSTATUS(s));
                error!(zxid = %zx, error = %e, "snapshot child failed; snapshot skipped");
                file.abandon();
            }
            Some(s) if libc::WIFSIGNALED(s) => {
                info!(zxid = %zx, signal = libc::WTERMSIG(s), "snapshot child stopped; snapshot abandoned");
                file.abandon();
            }
            _ => {
                error!(zxid = %zx, "lost the snapshot child; snapshot skipped");
                file.abandon();
            }
        }
        finished.store(true, Ordering::Release);
        let _ = wake.send(0);
        stopped
    }
}

/// Allocates a forked snapshot's buffers for `tree`, and creates its file in `dir`, ahead
/// of the first snapshot (see [`WalkSpare::warm`] and [`NextFile`]).
pub fn warm(spare: &mut WalkSpare, tree: &DataTree, dir: &Path) {
    spare.warm(tree.node_count(), FORK_BUF_BYTES);
    spare.next_file.fill(dir);
}

#[cfg(test)]
// Test code only: an unwrap here is an assertion on fixtures the test built itself, never
// input the server reads from the wire or from an operator's disk.
mod tests {
    use super::*;
    use jute::data::Acl;

    /// The estimate `fork_pays` goes by is the size of the snapshot's node records: path,
    /// data and the fixed per-node fields, as the writer encodes them.
    #[test]
    fn the_fork_estimate_is_the_size_of_the_node_records() {
        let mut t = DataTree::new();
        let open = Acl::open();
        let empty = {
            let mut b = BytesMut::new();
            let mut w = FuzzyWriter::begin(&t, std::iter::empty(), &mut b);
            while !w.step(&t, &mut b, usize::MAX, None) {}
            (
                b.len() as u64,
                t.approximate_data_size(),
                t.node_count() as u64,
            )
        };
        t.create("/p", Some(b"x"), &open, 0, -1, 1, 0).unwrap();
        for i in 0..500u32 {
            let data = vec![7u8; (i % 300) as usize];
            t.create(
                &format!("/p/n{i}"),
                Some(&data),
                &open,
                0,
                -1,
                2 + i as i64,
                0,
            )
            .unwrap();
        }
        // The writer leaves out nodes newer than the snapshot's zxid (replay adds them).
        t.last_processed_zxid = 1000;
        let mut b = BytesMut::new();
        let mut w = FuzzyWriter::begin(&t, std::iter::empty(), &mut b);
        while !w.step(&t, &mut b, usize::MAX, None) {}
        let grown = b.len() as u64 - empty.0;
        let estimated = (t.approximate_data_size() - empty.1)
            + (t.node_count() as u64 - empty.2) * NODE_OVERHEAD_BYTES;
        assert_eq!(grown, estimated);
        assert!(fork_pays(&t, estimated) && !fork_pays(&t, estimated + empty.0 + (1 << 20)));
    }
}
