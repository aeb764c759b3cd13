//! Where a connection's reply bytes go at the end of a batch.
//!
//! The core writes them straight to the socket (one non-blocking `write`, no task wake-up,
//! the batch buffer reused) when nothing is queued ahead of them and they are small —
//! the common case for a client waiting on its answer, and for a watch fired to a
//! thousand sessions at once. Otherwise (a large batch, a full socket buffer, or bytes
//! still queued) they go to the connection's task, which writes them in order.
//!
//! Order is kept by two counters: the core counts what it queued, the task counts what
//! it finished writing, and the core writes directly only when the two are equal, i.e.
//! when the task has nothing left to write. Only the core queues, so the check cannot
//! race with a new queued write.

use super::Out;
use bytes::{Buf, BytesMut};
use std::io::ErrorKind;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::net::TcpStream;
use tokio::sync::mpsc;

/// Largest batch the core writes itself; bigger ones cost the core more in the kernel's
/// TCP path than a hand-off to the connection task does.
pub const DIRECT_MAX: usize = 16 * 1024;

/// The core's end of a connection's output.
#[derive(Debug)]
pub struct Outlet {
    tx: mpsc::UnboundedSender<Out>,
    sock: Option<Arc<TcpStream>>,
    queued: u64,
    written: Arc<AtomicU64>,
}

/// The connection task's end: what it must write, and the counter it advances after each.
#[derive(Debug)]
pub struct Inlet {
    pub rx: mpsc::UnboundedReceiver<Out>,
    pub written: Arc<AtomicU64>,
}

impl Outlet {
    /// An outlet that may write to `sock` directly, and its task end.
    pub fn new(sock: Option<Arc<TcpStream>>) -> (Outlet, Inlet) {
        let (tx, rx) = mpsc::unbounded_channel();
        let written = Arc::new(AtomicU64::new(0));
        let o = Outlet {
            tx,
            sock,
            queued: 0,
            written: written.clone(),
        };
        (o, Inlet { rx, written })
    }

    /// Sends the bytes in `buf` (and leaves it empty, its capacity kept when written
    /// directly).
    pub fn send(&mut self, buf: &mut BytesMut) {
        if buf.is_empty() {
            return;
        }
        if let Some(sock) = &self.sock {
            if buf.len() <= DIRECT_MAX && self.written.load(Ordering::Acquire) == self.queued {
                match sock.try_write(buf) {
                    Ok(n) if n == buf.len() => {
                        buf.clear();
                        return;
                    }
                    Ok(n) => buf.advance(n),
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                    // The socket is broken: the reading side sees it and closes.
                    Err(_) => {
                        buf.clear();
                        return;
                    }
                }
            }
        }
        self.queue(Out::Data(buf.split().freeze()));
    }

    /// Closes the connection after everything sent before.
    pub fn close(&mut self) {
        self.queue(Out::Close);
    }

    fn queue(&mut self, o: Out) {
        self.queued += 1;
        let _ = self.tx.send(o);
    }
}
