//! The client port: a tokio listener and one task per connection that frames, decodes and
//! writes — nothing else. A fresh connection whose first 4 bytes spell a four-letter word
//! gets that command's text instead of a session.

use crate::config::Config;
use crate::processor::{Event, Inlet, Out, Outlet};
use crate::watch::ConnId;
use bytes::{Buf, BytesMut};
use jute::proto::{ConnectRequest, ReplyHeader, RequestHeader};
use jute::request::Request;
use jute::{decode_all, decode_prefix, Codec, DecodeError, OpCode};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, info, warn};

/// Every four-letter word ZooKeeper 3.8 knows.
pub const FOUR_LETTER_WORDS: &[&str] = &[
    "ruok", "stat", "srvr", "conf", "cons", "crst", "dump", "envi", "mntr", "wchs", "wchc", "wchp",
    "isro", "dirs", "srst", "gtmk", "stmk", "hash",
];

/// Binds the client port (SO_REUSEADDR, as ZooKeeper) on the configured address.
pub fn bind(cfg: &Config) -> std::io::Result<TcpListener> {
    let addr = SocketAddr::new(cfg.client_port_address, cfg.client_port);
    let sock = socket2::Socket::new(
        socket2::Domain::for_address(addr),
        socket2::Type::STREAM,
        None,
    )?;
    sock.set_reuse_address(true)?;
    sock.set_nonblocking(true)?;
    sock.bind(&addr.into())?;
    sock.listen(1024)?;
    TcpListener::from_std(sock.into())
}

/// Per-IP connection counts for `maxClientCnxns` (touched only on connect/close).
type IpCounts = Arc<Mutex<HashMap<IpAddr, u32>>>;

/// Releases a connection's slot in the per-IP count when the task ends.
struct Slot {
    counts: IpCounts,
    ip: IpAddr,
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Ok(mut m) = self.counts.lock() {
            if let Some(n) = m.get_mut(&self.ip) {
                *n -= 1;
                if *n == 0 {
                    m.remove(&self.ip);
                }
            }
        }
    }
}

/// Accepts connections until the listener fails.
pub async fn serve(
    listener: TcpListener,
    cfg: Arc<Config>,
    core: mpsc::Sender<Event>,
) -> std::io::Result<()> {
    let counts: IpCounts = Arc::default();
    let next_id = AtomicU64::new(1);
    loop {
        let (sock, peer) = match listener.accept().await {
            Ok(x) => x,
            Err(e) => {
                warn!("accept failed: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
        };
        let slot = {
            let Ok(mut m) = counts.lock() else { continue };
            let n = m.entry(peer.ip()).or_insert(0);
            if cfg.max_client_cnxns > 0 && *n >= cfg.max_client_cnxns {
                warn!(%peer, max = cfg.max_client_cnxns, "too many connections from this address; closing");
                continue;
            }
            *n += 1;
            Slot {
                counts: counts.clone(),
                ip: peer.ip(),
            }
        };
        let _ = sock.set_nodelay(true);
        let id = next_id.fetch_add(1, Ordering::Relaxed);
        let (core, cfg) = (core.clone(), cfg.clone());
        tokio::spawn(async move {
            connection(sock, peer, id, core, cfg).await;
            drop(slot);
        });
    }
}

/// What a connection's reader decided about the bytes it has.
enum Step {
    Continue,
    /// Close, after writing these bytes (if any).
    Close(Option<BytesMut>),
}

/// Serves one connection: 4lw sniffing, then frames in, [`Out`] chunks out.
async fn connection(
    mut sock: TcpStream,
    peer: SocketAddr,
    id: ConnId,
    core: mpsc::Sender<Event>,
    cfg: Arc<Config>,
) {
    let mut buf = BytesMut::with_capacity(16 * 1024);
    while buf.len() < 4 {
        match sock.read_buf(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
    }
    if let Ok(word) = std::str::from_utf8(&buf[..4]).map(str::to_owned) {
        let word = word.as_str();
        if FOUR_LETTER_WORDS.contains(&word) {
            // stmk carries an 8-byte mask; ZooKeeper answers nothing when it is missing.
            let arg = if word == "stmk" && word_enabled(word, &cfg) {
                match stmk_mask(&mut sock, &mut buf).await {
                    Some(m) => Some(m),
                    None => return,
                }
            } else {
                None
            };
            let text = four_letter(word, arg, peer, &cfg, &core).await;
            let _ = sock.write_all(text.as_bytes()).await;
            let _ = sock.shutdown().await;
            return;
        }
    }
    // From here the socket is shared with the core, which writes small replies to it
    // directly (see `processor::Outlet`); this task reads, and writes what is queued.
    let sock = Arc::new(sock);
    let (out, mut inlet) = Outlet::new(Some(sock.clone()));
    if core
        .send(Event::Open {
            conn: id,
            peer,
            out,
        })
        .await
        .is_err()
    {
        return;
    }
    let mut handshaken = false;
    let max = cfg.jute_max_buffer;
    // ZooKeeper closes connections that have no session after
    // zookeeper.nio.sessionlessCnxnTimeout (10 s by default).
    let handshake_deadline = tokio::time::Instant::now() + cfg.sessionless_cnxn_timeout;
    loop {
        match process_frames(&mut buf, &mut handshaken, id, peer, max, &core).await {
            Step::Continue => {}
            Step::Close(last) => {
                // The core may be writing to the socket: the last bytes go through it, and
                // it closes the connection once they are out.
                let bytes = last.map(BytesMut::freeze);
                if core
                    .send(Event::CloseWith { conn: id, bytes })
                    .await
                    .is_err()
                {
                    break;
                }
                let wait = std::time::Duration::from_secs(5);
                let _ = tokio::time::timeout(wait, drain(&sock, &mut inlet)).await;
                break;
            }
        }
        tokio::select! {
            _ = tokio::time::sleep_until(handshake_deadline), if !handshaken => {
                debug!(%peer, "closing connection: no session handshake in time");
                break;
            }
            r = read_some(&sock, &mut buf) => match r {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) => {
                    debug!(%peer, "read error: {e}");
                    break;
                }
            },
            m = inlet.rx.recv() => match m {
                Some(Out::Data(b)) => {
                    if write_queued(&sock, &inlet, &b).await.is_err() {
                        break;
                    }
                }
                Some(Out::Close) | None => {
                    shutdown(&sock);
                    break;
                }
            },
        }
    }
    let _ = core.send(Event::Closed { conn: id }).await;
}

/// Writes what the core queued until it says Close (or goes away).
async fn drain(sock: &TcpStream, inlet: &mut Inlet) {
    while let Some(m) = inlet.rx.recv().await {
        match m {
            Out::Data(b) => {
                if write_queued(sock, inlet, &b).await.is_err() {
                    return;
                }
            }
            Out::Close => break,
        }
    }
    shutdown(sock);
}

/// Writes a chunk the core queued and counts it written (the core writes directly again
/// once every queued chunk is counted), whether or not the write succeeded.
async fn write_queued(sock: &TcpStream, inlet: &Inlet, b: &[u8]) -> std::io::Result<()> {
    let r = write_all(sock, b).await;
    inlet.written.fetch_add(1, Ordering::Release);
    r
}

/// Reads what is available into `buf`. A read that leaves room in `buf` drained the
/// socket, so its readiness is cleared right away (as of before the read: data arriving
/// after it sets readiness again) instead of by one more `read` returning EAGAIN — one
/// system call fewer per request at low load.
async fn read_some(sock: &TcpStream, buf: &mut BytesMut) -> std::io::Result<usize> {
    use std::os::unix::io::AsRawFd;
    if buf.capacity() - buf.len() < 4096 {
        buf.reserve(16 * 1024);
    }
    let fd = sock.as_raw_fd();
    loop {
        sock.readable().await?;
        let mut drained = None;
        let r = sock.try_io(tokio::io::Interest::READABLE, || {
            let spare = buf.spare_capacity_mut();
            let room = spare.len();
            // SAFETY: reads at most `room` bytes into the spare capacity, then marks
            // exactly the bytes the kernel wrote as initialized.
            let n = unsafe { libc::read(fd, spare.as_mut_ptr().cast(), room) };
            if n < 0 {
                return Err(std::io::Error::last_os_error());
            }
            let n = n as usize;
            unsafe { buf.set_len(buf.len() + n) };
            if n > 0 && n < room {
                drained = Some(n);
                return Err(std::io::ErrorKind::WouldBlock.into());
            }
            Ok(n)
        });
        match r {
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                if let Some(n) = drained {
                    return Ok(n);
                }
            }
            Err(e) => return Err(e),
        }
    }
}

/// Writes all of `b` to the shared socket.
async fn write_all(sock: &TcpStream, mut b: &[u8]) -> std::io::Result<()> {
    while !b.is_empty() {
        sock.writable().await?;
        match sock.try_write(b) {
            Ok(n) => b = &b[n..],
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Sends FIN (the descriptor closes when the last reference goes).
fn shutdown(sock: &TcpStream) {
    let _ = socket2::SockRef::from(sock).shutdown(std::net::Shutdown::Write);
}

/// Decodes every complete frame in `buf` and hands it to the core.
async fn process_frames(
    buf: &mut BytesMut,
    handshaken: &mut bool,
    id: ConnId,
    peer: SocketAddr,
    max: usize,
    core: &mpsc::Sender<Event>,
) -> Step {
    loop {
        let len = match jute::frame::complete_frame(buf, max) {
            Ok(Some(n)) => n,
            Ok(None) => {
                if let Ok(Some(n)) = jute::frame::frame_len(buf, max) {
                    buf.reserve(n + 4 - buf.len().min(n + 4));
                }
                return Step::Continue;
            }
            Err(e) => {
                warn!(%peer, "closing connection: bad frame length: {e}");
                return Step::Close(None);
            }
        };
        let received = Instant::now();
        // A frame that may carry a large value is taken out of `buf` whole, so the value
        // is decoded as a slice of it (see `jute::codec::decode_sharing`) instead of
        // copied; smaller frames are decoded in place and their few bytes copied.
        let frame = (len >= jute::codec::SHARE_MIN).then(|| buf.split_to(4 + len).freeze());
        let taken = frame.is_some();
        let body = match &frame {
            Some(f) => &f[4..],
            None => &buf[4..4 + len],
        };
        let ev = if !*handshaken {
            match decode_all::<ConnectRequest>(body) {
                Ok(req) => {
                    *handshaken = true;
                    Event::Connect {
                        conn: id,
                        req,
                        received,
                    }
                }
                Err(e) => {
                    warn!(%peer, "closing connection: malformed connect request: {e}");
                    return Step::Close(None);
                }
            }
        } else {
            let decoded = match &frame {
                Some(f) => jute::codec::decode_sharing(f, || decode_request(body)),
                None => decode_request(body),
            };
            match decoded {
                Decoded::Request(xid, req) => Event::Request {
                    conn: id,
                    xid,
                    req,
                    received,
                },
                Decoded::Undecodable(xid, op, e) => {
                    // As ZooKeeper: a known op whose record does not parse gets
                    // MarshallingError, and the connection stays open.
                    warn!(%peer, ?op, "malformed request body: {e}; answering MarshallingError");
                    Event::BadRequest {
                        conn: id,
                        xid,
                        op,
                        received,
                    }
                }
                Decoded::Ignored(op) => {
                    // ZooKeeper 3.8 silently drops a bare check (13): no reply at all.
                    debug!(%peer, op, "ignoring request that is only valid inside a multi");
                    if !taken {
                        buf.advance(4 + len);
                    }
                    continue;
                }
                Decoded::Unimplemented(xid, op) => {
                    warn!(%peer, op, "closing connection: unimplemented opcode");
                    let mut out = BytesMut::new();
                    jute::frame::put_frame(&mut out, |o| {
                        ReplyHeader {
                            xid,
                            zxid: 0,
                            err: jute::Code::Unimplemented.code(),
                        }
                        .encode(o)
                    });
                    return Step::Close(Some(out));
                }
                Decoded::Malformed(e) => {
                    warn!(%peer, "closing connection: malformed request header: {e}");
                    return Step::Close(None);
                }
            }
        };
        if !taken {
            buf.advance(4 + len);
        }
        if core.send(ev).await.is_err() {
            return Step::Close(None);
        }
    }
}

/// What a request frame turned out to be.
enum Decoded {
    Request(i32, Request),
    /// A known opcode whose body does not parse.
    Undecodable(i32, OpCode, DecodeError),
    /// An opcode ZooKeeper accepts but never answers outside a multi (check).
    Ignored(i32),
    /// An opcode ZooKeeper does not serve: Unimplemented, then close.
    Unimplemented(i32, i32),
    /// Not even a request header.
    Malformed(DecodeError),
}

/// Decodes RequestHeader + body, classifying failures as ZooKeeper does.
fn decode_request(body: &[u8]) -> Decoded {
    let (h, rest) = match decode_prefix::<RequestHeader>(body) {
        Ok(x) => x,
        Err(e) => return Decoded::Malformed(e),
    };
    let op = match OpCode::try_from(h.op) {
        Ok(OpCode::Check) => return Decoded::Ignored(h.op),
        Ok(OpCode::Notification | OpCode::Error | OpCode::CreateSession) | Err(_) => {
            return Decoded::Unimplemented(h.xid, h.op)
        }
        Ok(op) => op,
    };
    match Request::decode(h.op, rest) {
        Ok(r) => Decoded::Request(h.xid, r),
        Err(e) => Decoded::Undecodable(h.xid, op, e),
    }
}

/// Whether a four-letter word is whitelisted (`isro` also with read-only mode).
fn word_enabled(word: &str, cfg: &Config) -> bool {
    cfg.four_letter_enabled(word) || (word == "isro" && cfg.read_only_mode_enabled)
}

/// Reads stmk's big-endian 8-byte trace mask after the word (briefly waiting for it).
async fn stmk_mask(sock: &mut TcpStream, buf: &mut BytesMut) -> Option<i64> {
    let wait = std::time::Duration::from_millis(500);
    while buf.len() < 12 {
        match tokio::time::timeout(wait, sock.read_buf(buf)).await {
            Ok(Ok(n)) if n > 0 => {}
            _ => return None,
        }
    }
    let b: [u8; 8] = buf[4..12].try_into().ok()?;
    Some(i64::from_be_bytes(b))
}

/// Answers a four-letter word: disabled ones get ZooKeeper's refusal text, enabled ones
/// are answered by the core (see `crate::admin`), which counts `peer` as a connection.
async fn four_letter(
    word: &str,
    arg: Option<i64>,
    peer: SocketAddr,
    cfg: &Config,
    core: &mpsc::Sender<Event>,
) -> String {
    if !word_enabled(word, cfg) {
        return format!("{word} is not executed because it is not in the whitelist.\n");
    }
    let (tx, rx) = oneshot::channel();
    let q = crate::admin::Query {
        ask: crate::admin::Ask::FourLetter {
            cmd: word.to_owned(),
            arg,
        },
        peer: Some(peer),
        reply: tx,
    };
    if core.send(Event::Admin(q)).await.is_err() {
        return "This ZooKeeper instance is not currently serving requests\n".into();
    }
    rx.await.unwrap_or_default()
}

/// Logs where the server listens.
pub fn log_listening(l: &TcpListener) {
    if let Ok(a) = l.local_addr() {
        info!("binding to port {a}");
    }
}
