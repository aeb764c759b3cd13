//! A fuzzy snapshot in progress: the core serializes the tree in bounded chunks between
//! batches ([`SnapJob::step`]); a background thread checksums, writes and fsyncs them and
//! renames the file into place. At most [`MAX_INFLIGHT`] chunks wait for the thread, so a
//! slow disk slows the snapshot, not the core; the thread wakes the core (a no-op
//! `committed` value) after each chunk so an idle server keeps making progress.

use crate::persist::snapshot::{FuzzyWriter, SnapFile};
use crate::tree::DataTree;
use bytes::BytesMut;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use tokio::sync::mpsc::UnboundedSender;
use tracing::{error, info};

/// Chunks handed to the thread but not yet written.
pub const MAX_INFLIGHT: usize = 4;
/// Bytes per chunk.
const CHUNK_BYTES: usize = 1 << 20;
/// Longest the core spends serializing per step.
const STEP_TIME: Duration = Duration::from_millis(2);

enum SnapMsg {
    /// A chunk to write; the buffer comes back (cleared) on the return channel, so a
    /// snapshot reuses a handful of buffers instead of faulting in fresh pages per chunk.
    Chunk(BytesMut),
    /// End of the nodes, with the ZxidDigest to write after the seal.
    Finish(Option<(i64, i64)>),
}

/// One snapshot being taken.
pub struct SnapJob {
    writer: FuzzyWriter,
    tx: Option<Sender<SnapMsg>>,
    inflight: Arc<AtomicUsize>,
    finished: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    buf: BytesMut,
    spare: Receiver<BytesMut>,
}

impl SnapJob {
    /// Starts a snapshot of `tree` into `dir` (version-2); writes the header, sessions
    /// and ACL map as the first chunk.
    pub fn start(
        dir: PathBuf,
        tree: &DataTree,
        sessions: impl Iterator<Item = (i64, u32)>,
        wake: UnboundedSender<i64>,
        fsync: bool,
    ) -> std::io::Result<SnapJob> {
        let mut buf = BytesMut::with_capacity(CHUNK_BYTES);
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
        let mut job = SnapJob {
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

    /// The snapshot's zxid.
    pub fn zxid(&self) -> i64 {
        self.writer.zxid()
    }

    fn send_buf(&mut self) {
        if self.buf.is_empty() {
            return;
        }
        let next = self
            .spare
            .try_recv()
            .unwrap_or_else(|_| BytesMut::with_capacity(CHUNK_BYTES));
        let chunk = std::mem::replace(&mut self.buf, next);
        if let Some(tx) = &self.tx {
            self.inflight.fetch_add(1, Ordering::AcqRel);
            if tx.send(SnapMsg::Chunk(chunk)).is_err() {
                self.inflight.fetch_sub(1, Ordering::AcqRel);
            }
        }
    }

    /// Serializes the next chunk if the thread has room (bounded by [`STEP_TIME`]).
    pub fn step(&mut self, tree: &DataTree) {
        if self.tx.is_none() || self.inflight.load(Ordering::Acquire) >= MAX_INFLIGHT {
            return;
        }
        let deadline = Instant::now() + STEP_TIME;
        let done = self
            .writer
            .step(tree, &mut self.buf, CHUNK_BYTES, Some(deadline));
        self.send_buf();
        if done {
            if let Some(tx) = self.tx.take() {
                let _ = tx.send(SnapMsg::Finish(self.writer.zxid_digest()));
            }
        }
    }

    /// Whether the thread has finished (written, or given up after an error).
    pub fn is_finished(&self) -> bool {
        self.finished.load(Ordering::Acquire)
    }

    /// Waits for the thread (after [`SnapJob::is_finished`], or to abandon the job).
    pub fn join(mut self) {
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
