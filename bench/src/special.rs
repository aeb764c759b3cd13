//! The non-throughput workloads: bulk fill (setup and the memory test), session churn and
//! watch fan-out.

use crate::conn::{Conn, NOTIFICATION_XID};
use crate::load::new_hist;
use crate::workload::create_req;
use bytes::Bytes;
use hdrhistogram::Histogram;
use jute::proto::{PathWatchRequest, SetDataRequest};
use jute::{Code, Request};
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::io;
use std::rc::Rc;
use std::time::{Duration, Instant};

/// Result of a bulk create.
#[derive(Debug, Default, Clone, Copy)]
pub struct Filled {
    /// Znodes created.
    pub created: u64,
    /// Creates answered NodeExists (already there; fine for setup).
    pub existed: u64,
    /// Other errors, lost requests or failed connections.
    pub errors: u64,
    /// Wall time.
    pub secs: f64,
}

/// Creates znodes `path(i)` for i in 0..n with `value`, over `conns` pipelined connections
/// of `depth` each; gives up at `timeout`.
pub async fn fill(
    addr: &str,
    n: usize,
    conns: usize,
    depth: usize,
    path: Rc<dyn Fn(usize) -> String>,
    value: Bytes,
    timeout: Duration,
) -> Filled {
    let req = Rc::new(move |i| create_req(path(i), value.clone()));
    pipeline(
        addr,
        n,
        conns,
        depth,
        req,
        Rc::new(Cell::new(false)),
        timeout,
    )
    .await
}

/// Sends `req(i)` for i in 0..n over `conns` connections keeping `depth` outstanding on
/// each, until all are answered, `stop` is set (outstanding replies are still read) or
/// `timeout` passes. Replies with error 0 count as `created`.
pub async fn pipeline(
    addr: &str,
    n: usize,
    conns: usize,
    depth: usize,
    req: Rc<dyn Fn(usize) -> Request>,
    stop: Rc<Cell<bool>>,
    timeout: Duration,
) -> Filled {
    let t0 = Instant::now();
    let deadline = t0 + timeout;
    let total = Rc::new(RefCell::new(Filled::default()));
    let mut tasks = Vec::new();
    for k in 0..conns.max(1) {
        let (req, stop, total, addr) = (req.clone(), stop.clone(), total.clone(), addr.to_string());
        let conns = conns.max(1);
        tasks.push(tokio::task::spawn_local(async move {
            let mut f = Filled::default();
            let Ok(mut c) = Conn::connect(&addr, 30000, Duration::from_secs(10)).await else {
                total.borrow_mut().errors += 1;
                return;
            };
            let mut next = k;
            let mut inflight = VecDeque::new();
            let mut replies = Vec::new();
            while Instant::now() < deadline {
                while inflight.len() < depth && next < n && !stop.get() {
                    inflight.push_back(c.writer.queue(&req(next)));
                    next += conns;
                }
                if inflight.is_empty() || c.writer.flush().await.is_err() {
                    break;
                }
                let left = deadline.saturating_duration_since(Instant::now());
                match tokio::time::timeout(left, c.reader.read_replies(&mut replies)).await {
                    Ok(Ok(())) => {}
                    _ => break,
                }
                for r in replies.drain(..) {
                    if r.header.xid == NOTIFICATION_XID {
                        continue;
                    }
                    inflight.pop_front();
                    match r.header.err {
                        0 => f.created += 1,
                        e if e == Code::NodeExists.code() => f.existed += 1,
                        _ => f.errors += 1,
                    }
                }
            }
            f.errors += inflight.len() as u64 + (next < n && !stop.get()) as u64;
            {
                let mut t = total.borrow_mut();
                t.created += f.created;
                t.existed += f.existed;
                t.errors += f.errors;
            }
            let _ = c.close(Duration::from_secs(5)).await;
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    let mut f = *total.borrow();
    f.secs = t0.elapsed().as_secs_f64();
    f
}

/// Creates each of `paths` (in order, one at a time; for parents), ignoring NodeExists.
pub async fn ensure(addr: &str, paths: &[String]) -> io::Result<()> {
    let t = Duration::from_secs(10);
    let mut c = Conn::connect(addr, 30000, t).await?;
    for p in paths {
        let r = c.call(&create_req(p.clone(), Bytes::new()), t).await?;
        if r.header.err != 0 && r.header.err != Code::NodeExists.code() {
            return Err(io::Error::other(format!(
                "create {p}: error {}",
                r.header.err
            )));
        }
    }
    c.close(t).await
}

/// Session churn result.
pub struct Churn {
    /// Completed connect+close cycles inside the window.
    pub sessions: u64,
    /// Failed cycles.
    pub errors: u64,
    /// Latency of one whole cycle (connect, handshake, closeSession reply), µs.
    pub hist: Histogram<u64>,
}

/// `workers` loops of connect + closeSession + close, for `secs` (bounded).
pub async fn churn(addr: &str, workers: usize, secs: f64) -> Churn {
    let end = Instant::now() + Duration::from_secs_f64(secs);
    let out = Rc::new(RefCell::new(Churn {
        sessions: 0,
        errors: 0,
        hist: new_hist(),
    }));
    let mut tasks = Vec::new();
    for _ in 0..workers.max(1) {
        let (out, addr) = (out.clone(), addr.to_string());
        tasks.push(tokio::task::spawn_local(async move {
            while Instant::now() < end {
                let t0 = Instant::now();
                let r = match Conn::connect(&addr, 30000, Duration::from_secs(5)).await {
                    Ok(c) => c.close(Duration::from_secs(5)).await,
                    Err(e) => Err(e),
                };
                let mut o = out.borrow_mut();
                match r {
                    Ok(()) if Instant::now() <= end => {
                        o.sessions += 1;
                        let _ = o.hist.record(t0.elapsed().as_micros().max(1) as u64);
                    }
                    Ok(()) => {}
                    Err(_) => o.errors += 1,
                }
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    Rc::try_unwrap(out).ok().expect("tasks done").into_inner()
}

/// Watch fan-out result.
pub struct Fanout {
    /// Watching sessions that were connected.
    pub watchers: usize,
    /// Per round: µs from sending setData to the last notification (None if some missed).
    pub rounds_us: Vec<Option<u64>>,
    /// Per notification: µs from sending setData to its arrival.
    pub hist: Histogram<u64>,
    /// Notifications that did not arrive within 10 s.
    pub missed: u64,
    /// Per round: µs from sending setData to the first notification, and to its reply
    /// (where the time goes: the write's own path, then the spread of the fan-out).
    pub first_us: Vec<u64>,
    pub reply_us: Vec<u64>,
}

#[derive(Default)]
struct FanState {
    armed: usize,
    arrivals: Vec<Instant>,
}

/// `n` sessions each set a data watch on `/rzkb/fan`; another session sets its data; the
/// time to the last notification is measured, `rounds` times (watches re-armed each round).
pub async fn fanout(addr: &str, n: usize, rounds: usize) -> io::Result<Fanout> {
    let t = Duration::from_secs(10);
    ensure(addr, &["/rzkb".into(), "/rzkb/fan".into()]).await?;
    let state = Rc::new(RefCell::new(FanState::default()));
    let mut conns = Vec::new();
    for chunk in (0..n).collect::<Vec<_>>().chunks(50) {
        let hs: Vec<_> = chunk
            .iter()
            .map(|_| {
                let addr = addr.to_string();
                tokio::task::spawn_local(async move { Conn::connect(&addr, 30000, t).await })
            })
            .collect();
        for h in hs {
            if let Ok(Ok(c)) = h.await {
                conns.push(c);
            }
        }
    }
    let watchers = conns.len();
    // Round barrier and "all arrived" signal: no task polls a timer while the
    // notifications are arriving (1,000 sleeping tasks waking every millisecond would
    // load the client exactly when it must read 1,000 sockets).
    let (round_tx, round_rx) = tokio::sync::watch::channel(0usize);
    let all_in = Rc::new(tokio::sync::Notify::new());
    let mut tasks = Vec::new();
    for mut c in conns {
        let state = state.clone();
        let mut round_rx = round_rx.clone();
        let all_in = all_in.clone();
        tasks.push(tokio::task::spawn_local(async move {
            let get = Request::GetData(PathWatchRequest {
                path: "/rzkb/fan".into(),
                watch: true,
            });
            for round in 0..rounds {
                // Bounded: if the setter gave up, stop waiting after 30 s.
                let next = round_rx.wait_for(|r| *r >= round);
                if !matches!(
                    tokio::time::timeout(Duration::from_secs(30), next).await,
                    Ok(Ok(_))
                ) {
                    return;
                }
                if !matches!(c.call(&get, t).await, Ok(r) if r.header.err == 0) {
                    return;
                }
                state.borrow_mut().armed += 1;
                let mut replies = Vec::new();
                let got = tokio::time::timeout(t, async {
                    loop {
                        if c.reader.read_replies(&mut replies).await.is_err() {
                            return false;
                        }
                        if replies.drain(..).any(|r| r.header.xid == NOTIFICATION_XID) {
                            return true;
                        }
                    }
                })
                .await;
                if got != Ok(true) {
                    return;
                }
                let mut st = state.borrow_mut();
                st.arrivals.push(Instant::now());
                if st.arrivals.len() == watchers {
                    all_in.notify_waiters();
                }
            }
            let _ = c.close(Duration::from_secs(5)).await;
        }));
    }
    let mut setter = Conn::connect(addr, 30000, t).await?;
    let mut out = Fanout {
        watchers,
        rounds_us: Vec::new(),
        hist: new_hist(),
        missed: 0,
        first_us: Vec::new(),
        reply_us: Vec::new(),
    };
    for round in 0..rounds {
        let arm_deadline = Instant::now() + t;
        while state.borrow().armed < watchers && Instant::now() < arm_deadline {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        let set = Request::SetData(SetDataRequest {
            path: "/rzkb/fan".into(),
            data: Some(Bytes::from(format!("round {round}"))),
            version: -1,
        });
        let t0 = Instant::now();
        setter.call(&set, t).await?;
        out.reply_us.push(t0.elapsed().as_micros() as u64);
        if state.borrow().arrivals.len() < watchers {
            let _ = tokio::time::timeout_at((t0 + t).into(), all_in.notified()).await;
        }
        let mut s = state.borrow_mut();
        for a in &s.arrivals {
            let _ = out.hist.record((*a - t0).as_micros().max(1) as u64);
        }
        let last = s
            .arrivals
            .iter()
            .max()
            .map(|a| (*a - t0).as_micros() as u64);
        if let Some(first) = s.arrivals.iter().min() {
            out.first_us.push((*first - t0).as_micros() as u64);
        }
        out.missed += (watchers - s.arrivals.len()) as u64;
        out.rounds_us.push(if s.arrivals.len() == watchers {
            last
        } else {
            None
        });
        s.arrivals.clear();
        s.armed = 0;
        drop(s);
        let _ = round_tx.send(round + 1);
    }
    for task in tasks {
        let _ = task.await;
    }
    let _ = setter.close(t).await;
    Ok(out)
}

/// Deletes what the `create` workload made under `parent` (`<parent>/<conn>-<seq>`, seq
/// counting from 1 on each connection with no gaps), then `parent` itself, so every
/// point starts from the same tree whatever ran before it. Untimed; bounded by `timeout`.
/// Returns the number of znodes deleted.
pub async fn remove_created(
    addr: &str,
    parent: &str,
    conns: usize,
    timeout: Duration,
) -> io::Result<u64> {
    use jute::proto::DeleteRequest;
    let deadline = Instant::now() + timeout;
    let mut tasks = Vec::new();
    for k in 0..conns.max(1) {
        let (addr, parent) = (addr.to_string(), parent.to_string());
        tasks.push(tokio::task::spawn_local(async move {
            let mut c = Conn::connect(&addr, 30000, Duration::from_secs(10)).await?;
            let mut deleted = 0u64;
            let mut next = 1u64;
            let mut inflight = 0usize;
            let mut end = false;
            let mut replies = Vec::new();
            while Instant::now() < deadline {
                while !end && inflight < 100 {
                    let path = format!("{parent}/{k}-{next}");
                    c.writer
                        .queue(&Request::Delete(DeleteRequest { path, version: -1 }));
                    next += 1;
                    inflight += 1;
                }
                if inflight == 0 {
                    break;
                }
                c.writer.flush().await?;
                let left = deadline.saturating_duration_since(Instant::now());
                tokio::time::timeout(left, c.reader.read_replies(&mut replies))
                    .await
                    .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "delete timed out"))??;
                for r in replies.drain(..) {
                    if r.header.xid == NOTIFICATION_XID {
                        continue;
                    }
                    inflight -= 1;
                    match r.header.err {
                        0 => deleted += 1,
                        e if e == Code::NoNode.code() => end = true,
                        e => return Err(io::Error::other(format!("delete: error {e}"))),
                    }
                }
            }
            let _ = c.close(Duration::from_secs(5)).await;
            Ok::<u64, io::Error>(deleted)
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.map_err(io::Error::other)??;
    }
    let mut c = Conn::connect(addr, 30000, Duration::from_secs(10)).await?;
    let r = c
        .call(
            &Request::Delete(DeleteRequest {
                path: parent.to_string(),
                version: -1,
            }),
            Duration::from_secs(10),
        )
        .await?;
    let _ = c.close(Duration::from_secs(5)).await;
    if r.header.err != 0 {
        return Err(io::Error::other(format!(
            "delete {parent}: error {} (znodes left behind)",
            r.header.err
        )));
    }
    Ok(total)
}
