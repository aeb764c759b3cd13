//! A minimal pipelining ZooKeeper client connection on the `jute` codec.
//!
//! No reconnects, no pings, no watch bookkeeping: one TCP connection, one session, requests
//! written in batches and replies read back in order (ZooKeeper answers a session's
//! requests in the order it sent them, which the harness checks by xid).

use bytes::{Buf, BytesMut};
use jute::frame::{complete_frame, put_frame, LEN_PREFIX};
use jute::proto::{ConnectRequest, ConnectResponse, ReplyHeader, RequestHeader};
use jute::{decode_prefix, Codec, Request};
use std::io;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;

/// Largest reply frame accepted (ZooKeeper's default `jute.maxbuffer` plus slack).
pub const MAX_FRAME: usize = 4 << 20;

/// xid ZooKeeper uses for watch notifications.
pub const NOTIFICATION_XID: i32 = -1;

/// One established session.
pub struct Conn {
    /// Receiving half.
    pub reader: ConnReader,
    /// Sending half.
    pub writer: ConnWriter,
    /// The session id the server assigned.
    pub session_id: i64,
}

/// The receiving half of a session: a read buffer cut into reply frames.
pub struct ConnReader {
    rd: OwnedReadHalf,
    rbuf: BytesMut,
}

/// The sending half of a session: requests queued into one buffer, written in batches.
pub struct ConnWriter {
    wr: OwnedWriteHalf,
    wbuf: BytesMut,
    next_xid: i32,
}

/// One decoded reply (only its header: the harness counts replies, it does not read them).
pub struct Reply {
    /// xid, zxid and error code.
    pub header: ReplyHeader,
}

fn bad(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.into())
}

impl Conn {
    /// Connects and completes the session handshake within `timeout`.
    pub async fn connect(
        addr: &str,
        session_timeout_ms: i32,
        timeout: Duration,
    ) -> io::Result<Conn> {
        tokio::time::timeout(timeout, Self::connect_inner(addr, session_timeout_ms))
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "connect timed out"))?
    }

    async fn connect_inner(addr: &str, session_timeout_ms: i32) -> io::Result<Conn> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let (rd, wr) = stream.into_split();
        let mut c = Conn {
            reader: ConnReader {
                rd,
                rbuf: BytesMut::with_capacity(64 * 1024),
            },
            writer: ConnWriter {
                wr,
                wbuf: BytesMut::with_capacity(64 * 1024),
                next_xid: 1,
            },
            session_id: 0,
        };
        let req = ConnectRequest {
            protocol_version: 0,
            last_zxid_seen: 0,
            timeout: session_timeout_ms,
            session_id: 0,
            passwd: bytes::Bytes::from_static(&[0u8; 16]),
            read_only: Some(false),
        };
        put_frame(&mut c.writer.wbuf, |o| req.encode(o));
        c.writer.flush().await?;
        let body = c.reader.read_frame().await?;
        let (resp, _) = decode_prefix::<ConnectResponse>(&body).map_err(|e| bad(e.to_string()))?;
        if resp.session_id == 0 {
            return Err(bad("server refused the session"));
        }
        c.session_id = resp.session_id;
        Ok(c)
    }

    /// Sends one request and waits for its reply (skipping notifications), bounded by `timeout`.
    pub async fn call(&mut self, req: &Request, timeout: Duration) -> io::Result<Reply> {
        let xid = self.writer.queue(req);
        let fut = async {
            self.writer.flush().await?;
            let mut replies = Vec::new();
            loop {
                self.reader.read_replies(&mut replies).await?;
                for r in replies.drain(..) {
                    if r.header.xid == xid {
                        return Ok(r);
                    }
                    if r.header.xid != NOTIFICATION_XID {
                        return Err(bad(format!(
                            "reply xid {} while waiting for {}",
                            r.header.xid, xid
                        )));
                    }
                }
            }
        };
        tokio::time::timeout(timeout, fut)
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "request timed out"))?
    }

    /// Closes the session (closeSession, bounded wait for its reply) and the socket.
    pub async fn close(mut self, timeout: Duration) -> io::Result<()> {
        let r = self.call(&Request::CloseSession, timeout).await;
        let _ = self.writer.wr.shutdown().await;
        r.map(|_| ())
    }
}

impl ConnWriter {
    /// Queues one request (not yet sent) and returns its xid.
    pub fn queue(&mut self, req: &Request) -> i32 {
        let xid = self.next_xid;
        self.next_xid = self.next_xid.wrapping_add(1).max(1);
        let header = RequestHeader {
            xid,
            op: req.opcode().code(),
        };
        put_frame(&mut self.wbuf, |o| {
            header.encode(o);
            req.encode(o);
        });
        xid
    }

    /// Queues one pre-encoded frame whose header xid is patched here; returns the xid.
    pub fn queue_frame(&mut self, write: impl FnOnce(&mut BytesMut)) -> i32 {
        let xid = self.next_xid;
        self.next_xid = self.next_xid.wrapping_add(1).max(1);
        let start = self.wbuf.len();
        write(&mut self.wbuf);
        let at = start + LEN_PREFIX;
        self.wbuf[at..at + 4].copy_from_slice(&xid.to_be_bytes());
        xid
    }

    /// Writes everything queued.
    pub async fn flush(&mut self) -> io::Result<()> {
        if !self.wbuf.is_empty() {
            self.wr.write_all(&self.wbuf).await?;
            self.wbuf.clear();
        }
        Ok(())
    }
}

impl ConnReader {
    /// Reads from the socket at least once and returns every complete reply now buffered.
    pub async fn read_replies(&mut self, out: &mut Vec<Reply>) -> io::Result<()> {
        loop {
            self.drain_frames(out)?;
            if !out.is_empty() {
                return Ok(());
            }
            self.fill().await?;
        }
    }

    fn drain_frames(&mut self, out: &mut Vec<Reply>) -> io::Result<()> {
        while let Some(n) = complete_frame(&self.rbuf, MAX_FRAME).map_err(|e| bad(e.to_string()))? {
            self.rbuf.advance(LEN_PREFIX);
            let (header, _) =
                decode_prefix::<ReplyHeader>(&self.rbuf[..n]).map_err(|e| bad(e.to_string()))?;
            self.rbuf.advance(n);
            out.push(Reply { header });
        }
        Ok(())
    }

    async fn fill(&mut self) -> io::Result<()> {
        if self.rbuf.capacity() - self.rbuf.len() < 16 * 1024 {
            self.rbuf.reserve(64 * 1024);
        }
        let n = self.rd.read_buf(&mut self.rbuf).await?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "server closed the connection",
            ));
        }
        Ok(())
    }

    async fn read_frame(&mut self) -> io::Result<BytesMut> {
        loop {
            if let Some(n) =
                complete_frame(&self.rbuf, MAX_FRAME).map_err(|e| bad(e.to_string()))?
            {
                self.rbuf.advance(LEN_PREFIX);
                return Ok(self.rbuf.split_to(n));
            }
            self.fill().await?;
        }
    }
}
