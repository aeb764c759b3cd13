//! Runs the suite against one server: setup, the load matrix, the C cross-check, churn,
//! fan-out, then memory and restart on a second, fresh server (the floor: the load matrix,
//! churn and fan-out). Every figure becomes one JSON
//! record (printed as a line as soon as it exists).

use crate::cclient;
use crate::load::{self, Spec, Tally};
use crate::procfs;
use crate::server::{Kind, Server};
use crate::snap;
use crate::special;
use crate::workload::{self, Mix, KEYS, KIDS};
use bytes::Bytes;
use serde_json::{json, Value};
use std::cell::Cell;
use std::io::Write;
use std::rc::Rc;
use std::time::Duration;

/// Which parts of the suite to run and how big.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Throughput points: (mix, conns, depth, size).
    pub points: Vec<(Mix, usize, usize, usize)>,
    /// Open-loop points: (mix, conns, rate).
    pub open: Vec<(Mix, usize, f64)>,
    /// C cross-check points: (op, conns, depth).
    pub cross: Vec<(&'static str, usize, usize)>,
    /// Measured seconds per point.
    pub secs: f64,
    /// Warm-up seconds per point.
    pub warmup: f64,
    /// Session churn (workers), if run.
    pub churn: Option<usize>,
    /// Fan-out (watchers, rounds), if run.
    pub fanout: Option<(usize, usize)>,
    /// Memory + restart test with this many 100 B znodes, if run.
    pub memory: Option<usize>,
    /// Unrecorded mixed load (seconds) after setup, so the JVM has compiled its hot paths.
    pub server_warmup: f64,
}

/// Where results go.
pub struct Sink {
    /// All records so far.
    pub records: Vec<Value>,
    /// Optional JSON-lines file.
    pub file: Option<std::fs::File>,
}

impl Sink {
    /// Records one figure: prints it as a JSON line and keeps it.
    pub fn emit(&mut self, v: Value) {
        let line = v.to_string();
        println!("{line}");
        if let Some(f) = self.file.as_mut() {
            let _ = writeln!(f, "{line}");
        }
        self.records.push(v);
    }
}

fn tally_json(server: &str, spec: &Spec, t: &Tally, secs: f64, scpu: f64, ccpu: f64) -> Value {
    let ops = t.ops.max(1) as f64;
    let q = |h: &hdrhistogram::Histogram<u64>, p: f64| {
        if h.is_empty() {
            0
        } else {
            h.value_at_quantile(p)
        }
    };
    let mut v = json!({
        "kind": "load", "client": "rust", "server": server, "workload": spec.mix.name(),
        "mode": if spec.rate.is_some() { "open" } else { "closed" },
        "conns": spec.conns, "depth": spec.depth, "size": spec.size, "secs": secs,
        "ops": t.ops, "errors": t.errors, "xid_mismatches": t.xid_mismatches, "lost": t.lost,
        "ops_per_sec": t.ops as f64 / secs,
        "p50_us": q(&t.hist, 0.5), "p99_us": q(&t.hist, 0.99), "p999_us": q(&t.hist, 0.999),
        "max_us": t.hist.max(),
        "server_cpu_us_per_op": scpu * 1e6 / ops, "client_cpu_us_per_op": ccpu * 1e6 / ops,
        "loadavg": procfs::loadavg(),
    });
    if let Some(rate) = spec.rate {
        v["rate"] = json!(rate);
        v["skipped"] = json!(t.skipped);
        v["p50_sched_us"] = json!(q(&t.hist_sched, 0.5));
        v["p99_sched_us"] = json!(q(&t.hist_sched, 0.99));
        v["p999_sched_us"] = json!(q(&t.hist_sched, 0.999));
    }
    if let Some(e) = &t.first_error {
        v["first_error"] = json!(e);
    }
    v
}

/// Runs one load spec against a running server, sampling its CPU over the window.
pub async fn load_point(srv: &Server, spec: &Spec) -> Value {
    load_point_at(&srv.addr(), srv.kind.name(), &srv.pid_str(), spec).await
}

/// Like [`load_point`] for a server given by address and pid ("0" = no CPU figures).
pub async fn load_point_at(addr: &str, server: &str, pid: &str, spec: &Spec) -> Value {
    let pid = pid.to_string();
    let rx0 = crate::server::packets_received(addr);
    type Sample = (f64, f64, std::time::Instant, Option<(u64, u64)>);
    let s0: Rc<Cell<Sample>> = Rc::new(Cell::new((0.0, 0.0, std::time::Instant::now(), None)));
    let s1: Rc<Cell<Sample>> = Rc::new(Cell::new((0.0, 0.0, std::time::Instant::now(), None)));
    let sample = |c: Rc<Cell<Sample>>, pid: String| {
        move || {
            c.set((
                procfs::cpu_secs(&pid).unwrap_or(0.0),
                procfs::self_cpu_secs().unwrap_or(0.0),
                std::time::Instant::now(),
                procfs::cpu_steal_ticks(),
            ))
        }
    };
    let t = load::run(
        addr,
        spec,
        sample(s0.clone(), pid.clone()),
        sample(s1.clone(), pid),
    )
    .await;
    let (a, b) = (s0.get(), s1.get());
    let secs = (b.2 - a.2).as_secs_f64().max(1e-3);
    let mut v = tally_json(server, spec, &t, secs, b.0 - a.0, b.1 - a.1);
    if let Some(p) = procfs::steal_pct(a.3, b.3) {
        v["steal_pct"] = json!(p);
    }
    // Independent of the client's bookkeeping: the server's own packet count over the run
    // (connect + requests + closeSession per connection).
    v["client_packets_sent"] = json!(t.sent + 2 * spec.conns as u64);
    if let (Some(r0), Some(r1)) = (rx0, crate::server::packets_received(addr)) {
        v["server_packets_received"] = json!(r1.saturating_sub(r0));
    }
    v
}

/// Creates the keyed sets for `sizes` and the 1,000-child node.
pub async fn setup(addr: &str, sizes: &[usize]) -> Result<(), String> {
    let mut parents = vec!["/rzkb".to_string(), "/rzkb/kids".to_string()];
    parents.extend(sizes.iter().map(|s| workload::key_parent(*s)));
    special::ensure(addr, &parents)
        .await
        .map_err(|e| e.to_string())?;
    let long = Duration::from_secs(120);
    for &size in sizes {
        let f = special::fill(
            addr,
            KEYS,
            4,
            100,
            Rc::new(move |i| workload::key_path(size, i)),
            Bytes::from(vec![b'v'; size]),
            long,
        )
        .await;
        if f.errors > 0 {
            return Err(format!("setup of {size} B keys: {} errors", f.errors));
        }
    }
    let f = special::fill(
        addr,
        KIDS,
        4,
        100,
        Rc::new(|i| format!("/rzkb/kids/c{i:04}")),
        Bytes::from(vec![b'v'; 100]),
        long,
    )
    .await;
    if f.errors > 0 {
        return Err(format!("setup of /rzkb/kids: {} errors", f.errors));
    }
    Ok(())
}

/// Runs `plan` against a fresh `kind` server (and the memory test on another one).
pub async fn run_server(
    kind: Kind,
    root: &std::path::Path,
    rzk_bin: &std::path::Path,
    plan: &Plan,
    sink: &mut Sink,
) -> Result<(), String> {
    let tag = |t: &str| format!("{t}-{}", std::process::id());
    let mut srv = Server::new(kind, root, &tag("load"), rzk_bin).map_err(|e| e.to_string())?;
    let ready = srv
        .start(Duration::from_secs(120))
        .await
        .map_err(|e| e.to_string())?;
    eprintln!(
        "# {} ready in {:.2} s (pid {})",
        kind.name(),
        ready.as_secs_f64(),
        srv.pid_str()
    );
    let mut sizes: Vec<usize> = plan.points.iter().map(|p| p.3).collect();
    sizes.push(100);
    sizes.sort();
    sizes.dedup();
    setup(&srv.addr(), &sizes).await?;
    // The floor keeps no tree: load points, churn and fan-out only.
    let real = kind != Kind::Floor;
    if plan.server_warmup > 0.0 && real {
        let spec = Spec {
            mix: Mix::Mixed80,
            conns: 8,
            depth: 100,
            size: 100,
            secs: plan.server_warmup,
            warmup: 0.0,
            rate: None,
            run_id: "warm".into(),
        };
        let _ = load_point(&srv, &spec).await;
    }
    for (n, &(mix, conns, depth, size)) in plan.points.iter().enumerate() {
        let run_id = format!("{}-{n}", std::process::id());
        if mix == Mix::Create {
            special::ensure(&srv.addr(), &[workload::OpGen::create_parent(&run_id)])
                .await
                .map_err(|e| e.to_string())?;
        }
        let spec = Spec {
            mix,
            conns,
            depth,
            size,
            secs: plan.secs,
            warmup: plan.warmup,
            rate: None,
            run_id: run_id.clone(),
        };
        sink.emit(load_point(&srv, &spec).await);
        if mix == Mix::Create && real {
            // Untimed: the next point starts from the same tree, not one grown by this one.
            let parent = workload::OpGen::create_parent(&run_id);
            special::remove_created(&srv.addr(), &parent, conns, Duration::from_secs(300))
                .await
                .map_err(|e| format!("removing {parent}: {e}"))?;
        }
    }
    for (n, &(mix, conns, rate)) in plan.open.iter().enumerate() {
        let run_id = format!("open{}-{n}", std::process::id());
        let parent = workload::OpGen::create_parent(&run_id);
        if mix == Mix::Create {
            special::ensure(&srv.addr(), std::slice::from_ref(&parent))
                .await
                .map_err(|e| e.to_string())?;
        }
        let spec = Spec {
            mix,
            conns,
            depth: 1000,
            size: 100,
            secs: plan.secs,
            warmup: plan.warmup,
            rate: Some(rate),
            run_id,
        };
        sink.emit(load_point(&srv, &spec).await);
        if mix == Mix::Create && real {
            special::remove_created(&srv.addr(), &parent, conns, Duration::from_secs(300))
                .await
                .map_err(|e| format!("removing {parent}: {e}"))?;
        }
    }
    for &(op, conns, depth) in plan.cross.iter().filter(|_| real) {
        let parent = if op == "create" {
            let p = workload::OpGen::create_parent(&format!("c{}", std::process::id()));
            special::ensure(&srv.addr(), std::slice::from_ref(&p))
                .await
                .map_err(|e| e.to_string())?;
            p
        } else {
            workload::key_parent(100)
        };
        let pid = srv.pid_str();
        let c0 = procfs::cpu_secs(&pid).unwrap_or(0.0);
        match cclient::run(
            &srv.addr(),
            op,
            conns,
            depth,
            plan.secs,
            plan.warmup,
            100,
            &parent,
            KEYS,
        )
        .await
        {
            Ok(mut v) => {
                let cpu = procfs::cpu_secs(&pid).unwrap_or(0.0) - c0;
                v["kind"] = json!("cload");
                v["server"] = json!(kind.name());
                v["workload"] = json!(match op {
                    "get" => "getdata",
                    "set" => "setdata",
                    o => o,
                });
                v["conns"] = json!(conns);
                v["depth"] = json!(depth);
                v["size"] = json!(100);
                v["server_cpu_whole_run_s"] = json!(cpu);
                sink.emit(v);
            }
            Err(e) => sink
                .emit(json!({"kind": "cload", "server": kind.name(), "workload": op, "error": e})),
        }
    }
    if let Some(workers) = plan.churn {
        let pid = srv.pid_str();
        let c0 = procfs::cpu_secs(&pid).unwrap_or(0.0);
        let c = special::churn(&srv.addr(), workers, plan.secs).await;
        let cpu = procfs::cpu_secs(&pid).unwrap_or(0.0) - c0;
        let q = |p| {
            if c.hist.is_empty() {
                0
            } else {
                c.hist.value_at_quantile(p)
            }
        };
        sink.emit(json!({"kind": "churn", "server": kind.name(), "workers": workers, "secs": plan.secs,
            "sessions": c.sessions, "errors": c.errors, "sessions_per_sec": c.sessions as f64 / plan.secs,
            "p50_us": q(0.5), "p99_us": q(0.99), "server_cpu_us_per_session": cpu * 1e6 / c.sessions.max(1) as f64,
            "loadavg": procfs::loadavg()}));
    }
    if let Some((n, rounds)) = plan.fanout {
        let st0 = procfs::cpu_steal_ticks();
        match special::fanout(&srv.addr(), n, rounds).await {
            Ok(f) => {
                let steal = procfs::steal_pct(st0, procfs::cpu_steal_ticks());
                let mut done: Vec<u64> = f.rounds_us.iter().flatten().copied().collect();
                done.sort();
                let q = |p| {
                    if f.hist.is_empty() {
                        0
                    } else {
                        f.hist.value_at_quantile(p)
                    }
                };
                sink.emit(
                    json!({"kind": "fanout", "server": kind.name(), "watchers": f.watchers,
                    "rounds": rounds, "rounds_us": f.rounds_us, "missed": f.missed,
                    "median_last_us": done.get(done.len() / 2).copied(),
                    "max_last_us": done.last().copied(), "notify_p50_us": q(0.5),
                    "rounds_first_us": f.first_us, "rounds_reply_us": f.reply_us,
                    "steal_pct": steal, "loadavg": procfs::loadavg()}),
                );
            }
            Err(e) => {
                sink.emit(json!({"kind": "fanout", "server": kind.name(), "error": e.to_string()}))
            }
        }
    }
    srv.stop();
    if let Some(n) = plan.memory.filter(|_| real) {
        memory(kind, root, rzk_bin, n, sink).await?;
    }
    let _ = std::fs::remove_dir_all(&srv.dir);
    Ok(())
}

/// RSS before/after `n` znodes of 100 B, then a timed restart on that dataDir, then the
/// size and write time of a snapshot of the full tree (forced by setData txns; the server
/// runs with `snapCount` = n/10 within 1,000–100,000, so at most that many are needed).
async fn memory(
    kind: Kind,
    root: &std::path::Path,
    rzk_bin: &std::path::Path,
    n: usize,
    sink: &mut Sink,
) -> Result<(), String> {
    let mut srv = Server::new(kind, root, &format!("mem-{}", std::process::id()), rzk_bin)
        .map_err(|e| e.to_string())?;
    let snap_count = (n / 10).clamp(1000, 100_000);
    srv.add_cfg(&format!("snapCount={snap_count}"))
        .map_err(|e| e.to_string())?;
    srv.start(Duration::from_secs(120))
        .await
        .map_err(|e| e.to_string())?;
    let buckets = 1000.min(n.max(1));
    let mut parents = vec!["/rzkb".to_string(), "/rzkb/mem".to_string()];
    parents.extend((0..buckets).map(|b| format!("/rzkb/mem/b{b:03}")));
    special::ensure(&srv.addr(), &parents)
        .await
        .map_err(|e| e.to_string())?;
    let rss0 = procfs::rss_bytes(&srv.pid_str()).unwrap_or(0);
    let path = Rc::new(move |i: usize| format!("/rzkb/mem/b{:03}/n{i:07}", i % buckets));
    let timeout = Duration::from_secs(900);
    let f = special::fill(
        &srv.addr(),
        n,
        8,
        100,
        path.clone(),
        Bytes::from(vec![b'v'; 100]),
        timeout,
    )
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss1 = procfs::rss_bytes(&srv.pid_str()).unwrap_or(0);
    srv.stop();
    let disk = srv.data_bytes();
    let restart = srv
        .start(Duration::from_secs(600))
        .await
        .map_err(|e| e.to_string());
    let rss2 = procfs::rss_bytes(&srv.pid_str()).unwrap_or(0);
    // Check the data really came back: the last znode must exist.
    let last_ok = match &restart {
        Ok(_) => exists(&srv.addr(), &path(n - 1)).await,
        Err(_) => false,
    };
    let snap = match &restart {
        Ok(_) => {
            let (addr, keys) = (srv.addr(), n.clamp(1, 1000));
            let value = Bytes::from(vec![b'w'; 100]);
            let set: Rc<dyn Fn(usize) -> jute::Request> = Rc::new(move |i| {
                jute::Request::SetData(jute::proto::SetDataRequest {
                    path: path(i % keys),
                    data: Some(value.clone()),
                    version: -1,
                })
            });
            let pump = move |stop| async move {
                let t = Duration::from_secs(300);
                special::pipeline(&addr, 3 * snap_count, 8, 100, set, stop, t)
                    .await
                    .created
            };
            let dir = srv.dir.join("data").join("version-2");
            let m0 = snap::mntr_times(&srv.addr());
            let r = snap::measure(&dir, &srv.pid_str(), pump, Duration::from_secs(600)).await;
            (r, m0.zip(snap::mntr_times(&srv.addr())))
        }
        Err(_) => (Err("no restart".into()), None),
    };
    // The server's own figure: mntr's snapshottime (ZooKeeper) or its log line (rzk).
    let server_ms = match snap {
        (_, Some(((s0, c0), (s1, c1)))) if c1 > c0 => Some((s1 - s0) / (c1 - c0)),
        (Ok(_), _) => snap::logged_ms(&srv.dir).map(|ms| ms as f64),
        _ => None,
    };
    let (snap, snap_ok) = (&snap.0, snap.0.as_ref().ok());
    sink.emit(
        json!({"kind": "memory", "server": kind.name(), "znodes": n, "created": f.created,
        "existed": f.existed, "errors": f.errors, "fill_secs": f.secs,
        "create_per_sec": f.created as f64 / f.secs.max(1e-3),
        "rss_before": rss0, "rss_after": rss1,
        "bytes_per_znode": (rss1 as f64 - rss0 as f64) / n.max(1) as f64,
        "data_dir_bytes": disk, "snap_count": snap_count,
        "snapshot_bytes": snap_ok.map(|s| s.bytes),
        "snapshot_bytes_per_znode": snap_ok.map(|s| s.bytes as f64 / n.max(1) as f64),
        "snapshot_secs": snap_ok.map(|s| s.secs), "snapshot_file": snap_ok.map(|s| &s.name),
        "snapshot_txns": snap_ok.map(|s| s.txns),
        "snapshot_server_ms": server_ms,
        "snapshot_error": snap.as_ref().err(), "loadavg": procfs::loadavg()}),
    );
    sink.emit(
        json!({"kind": "restart", "server": kind.name(), "znodes": n,
        "secs_to_first_read": restart.as_ref().ok().map(|d| d.as_secs_f64()),
        "error": restart.as_ref().err(), "rss_after_restart": rss2, "data_intact": last_ok,
        "loadavg": procfs::loadavg()}),
    );
    srv.stop();
    let _ = std::fs::remove_dir_all(&srv.dir);
    Ok(())
}

async fn exists(addr: &str, path: &str) -> bool {
    let t = Duration::from_secs(10);
    let Ok(mut c) = crate::conn::Conn::connect(addr, 30000, t).await else {
        return false;
    };
    let req = jute::Request::Exists(jute::proto::PathWatchRequest {
        path: path.into(),
        watch: false,
    });
    let ok = matches!(c.call(&req, t).await, Ok(r) if r.header.err == 0);
    let _ = c.close(t).await;
    ok
}
