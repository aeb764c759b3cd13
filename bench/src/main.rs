//! `rzk-bench`: side-by-side benchmarks of rzk and Apache ZooKeeper 3.8.
//!
//! - `rzk-bench run` starts each server in turn, runs the suite, prints JSON lines and a
//!   side-by-side table, and can write the JSON lines and an SVG plot.
//! - `rzk-bench load` runs one load point against a server that is already running.
//! - `rzk-bench smoke` runs every workload very briefly against rzk and checks the output.

mod bar;
mod cclient;
mod conn;
mod load;
mod pacer;
mod procfs;
mod report;
mod runner;
mod server;
mod snap;
mod special;
mod workload;

use clap::{Parser, Subcommand};
use runner::{Plan, Sink};
use serde_json::Value;
use server::Kind;
use std::path::PathBuf;
use workload::Mix;

#[derive(Parser)]
#[command(
    name = "rzk-bench",
    about = "Benchmarks rzk against Apache ZooKeeper 3.8"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Start each server in turn, run the suite, print the side-by-side table.
    Run(RunArgs),
    /// One load point against a running server.
    Load(LoadArgs),
    /// Every workload very briefly against rzk (and the floor); non-zero exit on any failure.
    Smoke(SmokeArgs),
    /// Tables (and optionally the plot) from the JSON lines of an earlier run.
    Report(ReportArgs),
}

#[derive(clap::Args)]
struct ReportArgs {
    /// JSON-lines file written by `run --json-out`.
    #[arg(long)]
    from: PathBuf,
    /// Write the throughput-vs-connections plot (SVG) here.
    #[arg(long)]
    plot: Option<PathBuf>,
}

#[derive(clap::Args)]
struct RunArgs {
    /// Servers, in run order: rzk, zookeeper, and floor (a fake server doing nothing but
    /// I/O, `bench/c/zk_floor.c`: the kernel's share of each load point).
    #[arg(long, default_value = "rzk,zookeeper,floor", value_delimiter = ',')]
    servers: Vec<String>,
    /// 1 s per point and 20,000 znodes for the memory test.
    #[arg(long)]
    quick: bool,
    /// Subset: create,setdata,getdata,exists,getchildren,mixed80,mixed95,open,crosscheck,churn,fanout,memory.
    #[arg(long, value_delimiter = ',')]
    workloads: Option<Vec<String>>,
    /// Measured seconds per point (default 4, quick 1).
    #[arg(long)]
    secs: Option<f64>,
    /// Znodes for the memory/restart test (default 1,000,000, quick 20,000).
    #[arg(long)]
    znodes: Option<usize>,
    /// Also write the JSON lines here.
    #[arg(long)]
    json_out: Option<PathBuf>,
    /// Write the throughput-vs-connections plot (SVG) here.
    #[arg(long)]
    plot: Option<PathBuf>,
    #[command(flatten)]
    common: Common,
}

#[derive(clap::Args)]
struct Common {
    /// rzk binary (default: beside this binary, else target/release/rzk).
    #[arg(long)]
    rzk_bin: Option<PathBuf>,
    /// Parent of the servers' temporary directories (one filesystem for both).
    #[arg(long)]
    data_root: Option<PathBuf>,
}

#[derive(clap::Args)]
struct LoadArgs {
    /// host:port of the server.
    #[arg(long, default_value = "127.0.0.1:2181")]
    hosts: String,
    /// create, setdata, getdata, exists, getchildren, mixed80 or mixed95.
    #[arg(long, default_value = "getdata")]
    workload: String,
    #[arg(long, default_value_t = 8)]
    conns: usize,
    /// Outstanding requests per connection (open loop: the cap).
    #[arg(long, default_value_t = 100)]
    depth: usize,
    #[arg(long, default_value_t = 10.0)]
    secs: f64,
    #[arg(long, default_value_t = 1.0)]
    warmup: f64,
    /// Value size in bytes.
    #[arg(long, default_value_t = 100)]
    size: usize,
    /// Open loop at this total rate (ops/s) instead of closed loop.
    #[arg(long)]
    rate: Option<f64>,
    /// Server pid, to report its CPU time per op.
    #[arg(long)]
    server_pid: Option<u32>,
}

#[derive(clap::Args)]
struct SmokeArgs {
    /// Also smoke-test against Apache ZooKeeper.
    #[arg(long)]
    with_zookeeper: bool,
    #[command(flatten)]
    common: Common,
}

fn main() {
    let cli = Cli::parse();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let local = tokio::task::LocalSet::new();
    let code = local.block_on(&rt, async move {
        match cli.cmd {
            Cmd::Run(a) => cmd_run(a).await,
            Cmd::Load(a) => cmd_load(a).await,
            Cmd::Smoke(a) => cmd_smoke(a).await,
            Cmd::Report(a) => cmd_report(a),
        }
    });
    std::process::exit(code);
}

fn rzk_bin(c: &Common) -> PathBuf {
    if let Some(b) = &c.rzk_bin {
        return b.clone();
    }
    let beside = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(|d| d.join("rzk")));
    match beside {
        Some(b) if b.exists() => b,
        _ => PathBuf::from("target/release/rzk"),
    }
}

fn data_root(c: &Common) -> PathBuf {
    c.data_root
        .clone()
        .unwrap_or_else(|| std::env::temp_dir().join("rzk-bench"))
}

const SHAPES: [(usize, usize); 4] = [(1, 1), (1, 100), (8, 1), (8, 100)];

fn full_plan(
    quick: bool,
    only: &Option<Vec<String>>,
    secs: Option<f64>,
    znodes: Option<usize>,
) -> Plan {
    let on = |w: &str| only.as_ref().is_none_or(|l| l.iter().any(|x| x == w));
    let mut points = Vec::new();
    for mix in Mix::ALL.into_iter().filter(|m| on(m.name())) {
        for (c, d) in SHAPES {
            points.push((mix, c, d, 100));
        }
        if matches!(mix, Mix::Create | Mix::SetData | Mix::GetData) {
            for (c, d) in SHAPES {
                points.push((mix, c, d, 10240));
            }
        }
        if matches!(mix, Mix::SetData | Mix::GetData) {
            for c in [2, 4, 16, 32] {
                points.push((mix, c, 100, 100));
            }
        }
    }
    let mut open = Vec::new();
    if on("open") {
        // The same offered load for both servers, so latencies compare like for like.
        open.push((Mix::GetData, 8, 10000.0));
        open.push((Mix::GetData, 8, 40000.0));
        open.push((Mix::SetData, 8, 3000.0));
        open.push((Mix::SetData, 8, 15000.0));
        open.push((Mix::Create, 8, 10000.0));
    }
    let cross = if on("crosscheck") {
        vec![
            ("get", 1, 1),
            ("set", 1, 1),
            ("get", 8, 100),
            ("set", 8, 100),
        ]
    } else {
        vec![]
    };
    Plan {
        points,
        open,
        cross,
        secs: secs.unwrap_or(if quick { 1.0 } else { 4.0 }),
        warmup: if quick { 0.3 } else { 1.0 },
        churn: on("churn").then_some(8),
        fanout: on("fanout").then_some(if quick { (200, 2) } else { (1000, 5) }),
        memory: on("memory").then(|| znodes.unwrap_or(if quick { 20_000 } else { 1_000_000 })),
        server_warmup: if quick { 1.0 } else { 5.0 },
    }
}

fn machine_banner(servers: &[Kind]) {
    eprintln!(
        "# machine: {} × {} cpus, {:.1} GB RAM; load average at start {:.2}",
        procfs::cpu_model(),
        procfs::ncpus(),
        procfs::mem_total() as f64 / 1e9,
        procfs::loadavg()
    );
    eprintln!(
        "# servers: {} (one after the other; same zoo.cfg, forceSync=yes, dataDir on one filesystem)",
        servers.iter().map(|k| k.name()).collect::<Vec<_>>().join(", ")
    );
    if procfs::ncpus() <= 4 {
        eprintln!(
            "# NOTE: only {} cores: the load generator competes with the server for CPU. It runs on \
             one thread; its CPU per op is in every JSON line (client_cpu_us_per_op).",
            procfs::ncpus()
        );
    }
}

async fn run_all(
    servers: &[Kind],
    plan: &Plan,
    common: &Common,
    sink: &mut Sink,
) -> Result<(), String> {
    let root = data_root(common);
    std::fs::create_dir_all(&root).map_err(|e| format!("{}: {e}", root.display()))?;
    let bin = rzk_bin(common);
    for &k in servers {
        runner::run_server(k, &root, &bin, plan, sink)
            .await
            .map_err(|e| format!("{}: {e}", k.name()))?;
    }
    Ok(())
}

fn print_tables(recs: &[Value]) {
    println!("\n## Throughput, server CPU per op, p99 (ratio = rzk / ZooKeeper)\n");
    if recs.iter().any(|r| r["server"] == "floor") {
        println!(
            "(floor: bench/c/zk_floor.c, a fake server answering from canned replies with one \
             O_DIRECT write of the round's requests + fdatasync per round of writes, created \
             values kept in memory, and nothing else: what the kernel alone costs at each \
             point)\n"
        );
    }
    println!("{}", report::load_table(recs));
    println!("## Other figures\n");
    println!("{}", report::other_table(recs));
    println!("## Cross-check: rzk-bench's jute client vs the C client (libzookeeper_mt)\n");
    println!("{}", report::cross_table(recs));
    println!("{}", report::packet_check(recs));
    println!("{}", report::steal_summary(recs));
    let bar = bar::bar_table(recs);
    if !bar.is_empty() {
        println!("## Against the bar (the floor held to the same limits)\n");
        println!("{bar}");
    }
    println!("load average at end: {:.2}", procfs::loadavg());
}

/// Installs the Debian packages the run needs (Apache ZooKeeper, the C client, gcc) with
/// the compat suites' idempotent script when any is missing, so a run on a fresh machine
/// works as the README says.
fn ensure_deps() -> Result<(), String> {
    let have = [
        "/usr/share/java/zookeeper.jar",
        "/usr/include/zookeeper/zookeeper.h",
    ]
    .iter()
    .all(|p| std::path::Path::new(p).exists());
    if have {
        return Ok(());
    }
    let script = [
        std::path::PathBuf::from("compat-tests/install-deps.sh"),
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../compat-tests/install-deps.sh"),
    ]
    .into_iter()
    .find(|p| p.exists())
    .ok_or(
        "Apache ZooKeeper or the C client is not installed and compat-tests/install-deps.sh \
            was not found; run it from the repository root",
    )?;
    eprintln!(
        "# installing the reference server and C client: bash {}",
        script.display()
    );
    let st = std::process::Command::new("bash")
        .arg(&script)
        .status()
        .map_err(|e| format!("{}: {e}", script.display()))?;
    if !st.success() {
        return Err(format!("{} failed ({st})", script.display()));
    }
    Ok(())
}

fn parse_servers(list: &[String]) -> Result<Vec<Kind>, String> {
    list.iter()
        .map(|s| Kind::parse(s).ok_or(format!("unknown server {s:?}")))
        .collect()
}

async fn cmd_run(a: RunArgs) -> i32 {
    let servers = match parse_servers(&a.servers) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("rzk-bench: {e}");
            return 2;
        }
    };
    let plan = full_plan(a.quick, &a.workloads, a.secs, a.znodes);
    if servers.contains(&Kind::Zookeeper) || !plan.cross.is_empty() {
        if let Err(e) = ensure_deps() {
            eprintln!("rzk-bench: {e}");
            return 2;
        }
    }
    machine_banner(&servers);
    let file = a
        .json_out
        .as_ref()
        .and_then(|p| std::fs::File::create(p).ok());
    let mut sink = Sink {
        records: Vec::new(),
        file,
    };
    let res = run_all(&servers, &plan, &a.common, &mut sink).await;
    print_tables(&sink.records);
    if let Some(p) = &a.plot {
        let title = format!(
            "closed-loop throughput, {} cores shared with the client",
            procfs::ncpus()
        );
        if let Err(e) = std::fs::write(p, report::svg_plot(&sink.records, &title)) {
            eprintln!("rzk-bench: {}: {e}", p.display());
        }
    }
    match res {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("rzk-bench: {e}");
            1
        }
    }
}

fn plot_title() -> String {
    format!(
        "closed-loop throughput, {} cores shared with the client",
        procfs::ncpus()
    )
}

fn cmd_report(a: ReportArgs) -> i32 {
    let text = match std::fs::read_to_string(&a.from) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("rzk-bench: {}: {e}", a.from.display());
            return 1;
        }
    };
    let recs: Vec<Value> = text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    print_tables(&recs);
    if let Some(p) = &a.plot {
        if let Err(e) = std::fs::write(p, report::svg_plot(&recs, &plot_title())) {
            eprintln!("rzk-bench: {}: {e}", p.display());
            return 1;
        }
    }
    0
}

async fn cmd_load(a: LoadArgs) -> i32 {
    let Some(mix) = Mix::parse(&a.workload) else {
        eprintln!("rzk-bench: unknown workload {:?}", a.workload);
        return 2;
    };
    if let Err(e) = runner::setup(&a.hosts, &[a.size]).await {
        eprintln!("rzk-bench: setup: {e}");
        return 1;
    }
    let run_id = format!("load-{}", std::process::id());
    if mix == Mix::Create {
        if let Err(e) = special::ensure(&a.hosts, &[workload::OpGen::create_parent(&run_id)]).await
        {
            eprintln!("rzk-bench: {e}");
            return 1;
        }
    }
    let spec = load::Spec {
        mix,
        conns: a.conns,
        depth: a.depth,
        size: a.size,
        secs: a.secs,
        warmup: a.warmup,
        rate: a.rate,
        run_id,
    };
    let pid = a.server_pid.unwrap_or(0).to_string();
    let v = runner::load_point_at(&a.hosts, &a.hosts, &pid, &spec).await;
    println!("{v}");
    i32::from(v["ops"].as_u64() == Some(0))
}

/// Why a smoke record is not sane, if it is not.
fn smoke_problem(r: &Value) -> Option<String> {
    let n = |k: &str| r.get(k).and_then(Value::as_f64).unwrap_or(-1.0);
    if let Some(e) = r.get("error").filter(|e| !e.is_null()) {
        return Some(format!("error {e}"));
    }
    let ok = match r["kind"].as_str().unwrap_or("") {
        "load" => {
            n("ops") > 0.0 && n("errors") == 0.0 && n("xid_mismatches") == 0.0 && n("lost") == 0.0
        }
        "cload" => n("ops") > 0.0 && n("errors") == 0.0,
        "churn" => n("sessions") > 0.0 && n("errors") == 0.0,
        "fanout" => n("watchers") > 0.0 && n("missed") == 0.0 && r["median_last_us"].is_u64(),
        "memory" => {
            n("created") == n("znodes")
                && n("errors") == 0.0
                && n("rss_after") > 0.0
                && n("snapshot_bytes") > 0.0
                && n("snapshot_secs") >= 0.0
        }
        "restart" => n("secs_to_first_read") > 0.0 && r["data_intact"] == Value::Bool(true),
        _ => false,
    };
    (!ok).then(|| "not sane".to_string())
}

async fn cmd_smoke(a: SmokeArgs) -> i32 {
    let mut servers = vec![Kind::Rzk];
    if a.with_zookeeper {
        servers.push(Kind::Zookeeper);
    }
    servers.push(Kind::Floor);
    let mut points: Vec<_> = Mix::ALL.into_iter().map(|m| (m, 4, 10, 100)).collect();
    points.push((Mix::GetData, 2, 10, 10240));
    let plan = Plan {
        points,
        open: vec![(Mix::GetData, 4, 500.0)],
        cross: vec![("get", 4, 10)],
        secs: 0.5,
        warmup: 0.2,
        churn: Some(2),
        fanout: Some((50, 1)),
        memory: Some(1000),
        server_warmup: 0.2,
    };
    if let Err(e) = ensure_deps() {
        eprintln!("rzk-bench: {e}");
        return 2;
    }
    machine_banner(&servers);
    let t0 = std::time::Instant::now();
    let mut sink = Sink {
        records: Vec::new(),
        file: None,
    };
    let res = run_all(&servers, &plan, &a.common, &mut sink).await;
    let (mut passed, mut failed) = (0, 0);
    for r in &sink.records {
        match smoke_problem(r) {
            None => passed += 1,
            Some(why) => {
                failed += 1;
                eprintln!("smoke FAIL ({why}): {r}");
            }
        }
    }
    // Per real server: every point, the cross-check, churn, fan-out, memory and restart;
    // the floor: the points, churn and fan-out.
    let real = servers.iter().filter(|&&k| k != Kind::Floor).count();
    let per_point = plan.points.len() + plan.open.len();
    let expected =
        real * (per_point + plan.cross.len() + 4) + (servers.len() - real) * (per_point + 2);
    if let Err(e) = &res {
        eprintln!("smoke FAIL: {e}");
        failed += 1;
    } else if sink.records.len() != expected {
        eprintln!(
            "smoke FAIL: {} records, expected {expected}",
            sink.records.len()
        );
        failed += 1;
    }
    eprintln!("smoke took {:.1} s", t0.elapsed().as_secs_f64());
    println!("rzk-bench smoke: {passed} passed, {failed} failed");
    i32::from(failed > 0)
}
