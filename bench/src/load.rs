//! The load generator: many pipelined connections on one thread, closed or open loop.
//!
//! Closed loop: each connection keeps `depth` requests outstanding, sending a new one for
//! every reply. Open loop: each connection sends at a fixed rate (total rate / conns) on a
//! schedule, whatever the replies do; latency is then reported both from the actual send
//! and from the scheduled send (the latter free of coordinated omission).
//!
//! Only replies that arrive inside the measurement window count; the window starts after a
//! warm-up, and every connection stops sending at its end and drains for at most 10 s.

use crate::conn::{Conn, Reply, NOTIFICATION_XID};
use crate::workload::{Mix, OpGen};
use hdrhistogram::Histogram;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::io;
use std::rc::Rc;
use std::time::{Duration, Instant};

/// How long a connection may drain its outstanding requests after the window ends.
pub const DRAIN: Duration = Duration::from_secs(10);

/// One load run's parameters.
#[derive(Debug, Clone)]
pub struct Spec {
    /// Request mix.
    pub mix: Mix,
    /// Connections (sessions).
    pub conns: usize,
    /// Outstanding requests per connection (closed loop) or the cap on them (open loop).
    pub depth: usize,
    /// Value size in bytes.
    pub size: usize,
    /// Measured seconds.
    pub secs: f64,
    /// Warm-up seconds before the window.
    pub warmup: f64,
    /// Open-loop total rate (ops/s); None = closed loop.
    pub rate: Option<f64>,
    /// Unique id (names the create workload's parent).
    pub run_id: String,
}

/// The shared measurement window.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    /// Start of measurement (end of warm-up).
    pub start: Instant,
    /// End of measurement; no request is sent after it.
    pub end: Instant,
}

/// What the connections measured, merged.
pub struct Tally {
    /// Replies inside the window.
    pub ops: u64,
    /// Of those, replies with a non-zero error code.
    pub errors: u64,
    /// Replies whose xid was not the one expected next (a protocol or harness bug).
    pub xid_mismatches: u64,
    /// Requests still unanswered after the drain, or connections that failed.
    pub lost: u64,
    /// Open loop: scheduled sends skipped because `depth` were already outstanding.
    pub skipped: u64,
    /// Every request sent, warm-up and drain included (to compare with the server's count).
    pub sent: u64,
    /// Latency from the actual send, µs.
    pub hist: Histogram<u64>,
    /// Open loop: latency from the scheduled send, µs.
    pub hist_sched: Histogram<u64>,
    /// First connection or I/O error seen.
    pub first_error: Option<String>,
}

/// A histogram from 1 µs to 100 s at 3 significant figures.
pub fn new_hist() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 100_000_000, 3).expect("valid histogram bounds")
}

impl Tally {
    fn new() -> Tally {
        Tally {
            ops: 0,
            errors: 0,
            xid_mismatches: 0,
            lost: 0,
            skipped: 0,
            sent: 0,
            hist: new_hist(),
            hist_sched: new_hist(),
            first_error: None,
        }
    }
    fn note_error(&mut self, e: &io::Error) {
        self.lost += 1;
        if self.first_error.is_none() {
            self.first_error = Some(e.to_string());
        }
    }
}

fn micros(d: Duration) -> u64 {
    (d.as_micros() as u64).clamp(1, 100_000_000)
}

type Shared = Rc<RefCell<Tally>>;

/// Runs `spec` against `addr` on the current thread's LocalSet. Calls `at_start` when the
/// window opens and `at_end` when it closes (the caller samples CPU there).
pub async fn run(
    addr: &str,
    spec: &Spec,
    mut at_start: impl FnMut(),
    mut at_end: impl FnMut(),
) -> Tally {
    let tally: Shared = Rc::new(RefCell::new(Tally::new()));
    let mut conns = Vec::with_capacity(spec.conns);
    for i in 0..spec.conns {
        match Conn::connect(addr, 30000, Duration::from_secs(10)).await {
            Ok(c) => conns.push((i, c)),
            Err(e) => tally.borrow_mut().note_error(&e),
        }
    }
    let t0 = Instant::now();
    let start = t0 + Duration::from_secs_f64(spec.warmup);
    let win = Window {
        start,
        end: start + Duration::from_secs_f64(spec.secs),
    };
    let mut tasks = Vec::new();
    for (i, c) in conns {
        let gen = OpGen::new(spec.mix, spec.size, &spec.run_id, i, 0x5eed ^ i as u64);
        let tally = tally.clone();
        let depth = spec.depth.max(1);
        tasks.push(match spec.rate {
            None => tokio::task::spawn_local(closed_conn(c, gen, depth, win, tally)),
            Some(rate) => {
                let interval = Duration::from_secs_f64(spec.conns as f64 / rate.max(1.0));
                tokio::task::spawn_local(open_conn(c, gen, depth, interval, t0, win, tally))
            }
        });
    }
    tokio::time::sleep_until(win.start.into()).await;
    at_start();
    tokio::time::sleep_until(win.end.into()).await;
    at_end();
    for t in tasks {
        let _ = t.await;
    }
    Rc::try_unwrap(tally)
        .ok()
        .expect("all tasks done")
        .into_inner()
}

/// One connection's reply accounting, shared by the closed and the open loop.
#[derive(Default)]
struct Counts {
    ops: u64,
    errors: u64,
    mism: u64,
}

impl Counts {
    /// Matches reply `r` with the oldest outstanding request (`(xid, when)` in `q`); a
    /// reply with no request or another xid is a mismatch. Returns the request's `when`
    /// if the reply counts (it arrived inside the window); notifications are skipped.
    fn take<T>(&mut self, r: &Reply, q: &mut VecDeque<(i32, T)>, counted: bool) -> Option<T> {
        if r.header.xid == NOTIFICATION_XID {
            return None;
        }
        let Some((xid, when)) = q.pop_front() else {
            self.mism += 1;
            return None;
        };
        if xid != r.header.xid {
            self.mism += 1;
        }
        if !counted {
            return None;
        }
        self.ops += 1;
        if r.header.err != 0 {
            self.errors += 1;
        }
        Some(when)
    }

    fn add_to(&self, tl: &mut Tally) {
        tl.ops += self.ops;
        tl.errors += self.errors;
        tl.xid_mismatches += self.mism;
    }
}

async fn closed_conn(mut c: Conn, mut gen: OpGen, depth: usize, win: Window, tally: Shared) {
    let mut hist = new_hist();
    let mut counts = Counts::default();
    let mut inflight: VecDeque<(i32, Instant)> = VecDeque::with_capacity(depth);
    let mut replies = Vec::with_capacity(depth);
    let hard_end = win.end + DRAIN;
    let mut failure = None;
    let mut sent = 0u64;
    loop {
        let now = Instant::now();
        if now < win.end {
            while inflight.len() < depth {
                let xid = c.writer.queue_frame(|b| gen.next_frame(b));
                inflight.push_back((xid, now));
                sent += 1;
            }
            if let Err(e) = c.writer.flush().await {
                failure = Some(e);
                break;
            }
        } else if inflight.is_empty() {
            break;
        }
        let left = hard_end.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, c.reader.read_replies(&mut replies)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                failure = Some(e);
                break;
            }
            Err(_) => break,
        }
        let t = Instant::now();
        let counted = t >= win.start && t < win.end;
        for r in replies.drain(..) {
            if let Some(sent) = counts.take(&r, &mut inflight, counted) {
                let _ = hist.record(micros(t - sent));
            }
        }
    }
    {
        let mut tl = tally.borrow_mut();
        counts.add_to(&mut tl);
        tl.sent += sent;
        tl.lost += inflight.len() as u64;
        let _ = tl.hist.add(&hist);
        if let Some(e) = failure {
            tl.note_error(&e);
        }
    }
    let _ = c.close(Duration::from_secs(5)).await;
}

/// (xid, scheduled send, actual send) of one outstanding open-loop request.
type Pending = Rc<RefCell<VecDeque<(i32, (Instant, Instant))>>>;

async fn open_conn(
    c: Conn,
    mut gen: OpGen,
    cap: usize,
    interval: Duration,
    t0: Instant,
    win: Window,
    tally: Shared,
) {
    let Conn {
        mut reader,
        mut writer,
        ..
    } = c;
    let pending: Pending = Rc::new(RefCell::new(VecDeque::new()));
    let done = Rc::new(std::cell::Cell::new(false));
    let (p2, d2, t2) = (pending.clone(), done.clone(), tally.clone());
    let sender = tokio::task::spawn_local(async move {
        let mut next = t0;
        let (mut skipped, mut sent) = (0u64, 0u64);
        let mut failure = None;
        let mut pacer = crate::pacer::Pacer::new().ok();
        while next < win.end {
            match pacer.as_mut() {
                Some(p) => {
                    if let Err(e) = p.sleep_until(next).await {
                        failure = Some(e);
                        break;
                    }
                }
                None => tokio::time::sleep_until(next.into()).await,
            }
            let now = Instant::now();
            while next <= now && next < win.end {
                if p2.borrow().len() < cap {
                    let xid = writer.queue_frame(|b| gen.next_frame(b));
                    p2.borrow_mut().push_back((xid, (next, now)));
                    sent += 1;
                } else if next >= win.start {
                    skipped += 1;
                }
                next += interval;
            }
            if let Err(e) = writer.flush().await {
                failure = Some(e);
                break;
            }
        }
        d2.set(true);
        let mut tl = t2.borrow_mut();
        tl.skipped += skipped;
        tl.sent += sent;
        if let Some(e) = failure {
            tl.note_error(&e);
        }
        writer
    });
    let (mut hist, mut hsched) = (new_hist(), new_hist());
    let mut counts = Counts::default();
    let mut replies = Vec::new();
    let hard_end = win.end + DRAIN;
    let mut failure = None;
    loop {
        if done.get() && pending.borrow().is_empty() {
            break;
        }
        // Wake at least every 50 ms to notice the sender finishing.
        let left = hard_end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        let step = left.min(Duration::from_millis(50));
        match tokio::time::timeout(step, reader.read_replies(&mut replies)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                failure = Some(e);
                break;
            }
            Err(_) => continue,
        }
        let t = Instant::now();
        let counted = t >= win.start && t < win.end;
        let mut p = pending.borrow_mut();
        for r in replies.drain(..) {
            if let Some((sched, sent)) = counts.take(&r, &mut p, counted) {
                let _ = hist.record(micros(t - sent));
                let _ = hsched.record(micros(t - sched));
            }
        }
    }
    let writer = sender.await.ok();
    {
        let mut tl = tally.borrow_mut();
        counts.add_to(&mut tl);
        tl.lost += pending.borrow().len() as u64;
        let _ = tl.hist.add(&hist);
        let _ = tl.hist_sched.add(&hsched);
        if let Some(e) = failure {
            tl.note_error(&e);
        }
    }
    if let Some(writer) = writer {
        let mut c = Conn {
            reader,
            writer,
            session_id: 0,
        };
        let _ = c
            .call(&jute::Request::CloseSession, Duration::from_secs(5))
            .await;
    }
}
