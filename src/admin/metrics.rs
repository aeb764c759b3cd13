//! ZooKeeper 3.8.0's metric set in standalone mode, shared by `mntr`, the AdminServer
//! `monitor` command and the Prometheus `/metrics` endpoint: the same names, order and
//! value kinds (integers stay integers, averages are doubles).
//!
//! Gauges are computed from the core's state. Counters and summaries that describe
//! ZooKeeper internals rzk does not have (commit processor queues, JVM pauses, quorum
//! traffic, ...) are reported with their initial values (0, and `0.0` averages), so the
//! key set and kinds match what tools expect.

use super::java_double;
use crate::processor::Core;
use std::fmt::{self, Write};
use std::net::SocketAddr;

/// The kind of a metric, as ZooKeeper's metrics provider registers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A sampled value (`registerGauge`).
    Gauge,
    /// A monotonically increasing count.
    Counter,
    /// avg/min/max/cnt/sum (DetailLevel.BASIC).
    Summary,
    /// avg/min/max/cnt/sum plus p50/p95/p99/p999 (DetailLevel.ADVANCED).
    Advanced,
}
use Kind::*;

/// One metric value as `mntr` prints it.
#[derive(Debug, Clone, PartialEq)]
pub enum MVal {
    Int(i64),
    Dbl(f64),
    Str(String),
}

impl fmt::Display for MVal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MVal::Int(n) => write!(f, "{n}"),
            MVal::Dbl(d) => f.write_str(&java_double(*d)),
            MVal::Str(s) => f.write_str(s),
        }
    }
}

include!("catalogue.rs");

/// Per-namespace summary sets (`<ns>_read_per_namespace`, ...), basic detail.
const PER_NAMESPACE: [&str; 2] = ["read_per_namespace", "write_per_namespace"];

/// Labelled sets that stay empty in standalone mode (Prometheus prints only their header).
const EMPTY_SETS: [(&str, &str); 8] = [
    ("learner_handler_qp_size", "summary"),
    ("learner_handler_qp_time_ms", "summary"),
    ("ack_latency", "summary"),
    ("quota_exceeded_error_per_namespace", "counter"),
    ("quota_count_limit_per_namespace", "gauge"),
    ("quota_bytes_limit_per_namespace", "gauge"),
    ("quota_count_usage_per_namespace", "gauge"),
    ("quota_bytes_usage_per_namespace", "gauge"),
];

/// The summary suffixes `mntr` prints for a basic / advanced summary.
fn summary_parts(kind: Kind) -> &'static [&'static str] {
    match kind {
        Advanced => &[
            "avg", "min", "max", "cnt", "sum", "p50", "p95", "p99", "p999",
        ],
        _ => &["avg", "min", "max", "cnt", "sum"],
    }
}

impl Core {
    /// A gauge's current value (`peer`: an asking four-letter connection to count).
    /// A counter's value (those rzk keeps; the rest stay 0).
    fn counter(&self, name: &str) -> i64 {
        match name {
            "digest_mismatches_count" => self.tree.digest_mismatches as i64,
            _ => 0,
        }
    }

    fn gauge(&self, name: &str, peer: Option<SocketAddr>) -> MVal {
        let (min, avg, max) = self.latency();
        let (fds, max_fds) = super::fd_counts();
        let n = |v: usize| MVal::Int(v as i64);
        let u = |v: u64| MVal::Int(i64::try_from(v).unwrap_or(i64::MAX));
        match name {
            "avg_latency" => MVal::Dbl(avg),
            "min_latency" => u(min),
            "max_latency" => u(max),
            "packets_received" => u(self.stats.packets_received),
            "packets_sent" => u(self.stats.packets_sent),
            "num_alive_connections" => n(self.alive_connections(peer)),
            "outstanding_requests" => n(self.outstanding_requests()),
            "uptime" => u(self.stats.started.elapsed().as_millis() as u64),
            "znode_count" => n(self.tree.node_count()),
            "watch_count" => n(self.watches.data.len() + self.watches.child.len()),
            "ephemerals_count" => n(self.tree.ephemeral_count()),
            "approximate_data_size" => u(self.tree.approximate_data_size()),
            "global_sessions" => n(self.sessions.len()),
            "open_file_descriptor_count" => u(fds),
            "max_file_descriptor_count" => u(max_fds),
            "connection_drop_probability" => MVal::Dbl(0.0),
            // No response-size sampling: ZooKeeper's "no samples" value.
            "last_client_response_size"
            | "min_client_response_size"
            | "max_client_response_size" => MVal::Int(-1),
            _ => MVal::Int(0),
        }
    }

    /// A summary rzk keeps: (count, sum, min, max); `None` for those it reports as zero.
    fn summary(&self, name: &str) -> Option<(u64, u64, u64, u64)> {
        let stats = self.log_stats()?;
        match name {
            "fsynctime" => Some(stats.fsync_ms.read()),
            "sync_processor_batch_size" => Some(stats.round_txns.read()),
            _ => None,
        }
    }

    /// Top-level namespaces (first path component) that per-namespace stats cover.
    fn namespaces(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .tree
            .get("/")
            .map(|n| {
                self.tree
                    .child_names(n)
                    .filter(|c| *c != "zookeeper")
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        v.sort_unstable();
        v
    }

    /// Every `mntr` key (without `zk_`) and value, in ZooKeeper 3.8.0's order.
    pub fn monitor(&self, peer: Option<SocketAddr>) -> Vec<(String, MVal)> {
        let mut out = vec![
            ("version".to_owned(), MVal::Str(super::full_version())),
            ("server_state".to_owned(), MVal::Str("standalone".into())),
        ];
        let summary = |out: &mut Vec<(String, MVal)>, name: &str, kind: Kind| {
            let (cnt, sum, min, max) = self.summary(name).unwrap_or_default();
            let int = |v: u64| MVal::Int(i64::try_from(v).unwrap_or(i64::MAX));
            for p in summary_parts(kind) {
                let v = match *p {
                    // ZooKeeper rounds a summary's average to four decimals.
                    "avg" if cnt > 0 => MVal::Dbl((sum as f64 / cnt as f64 * 1e4).round() / 1e4),
                    "avg" => MVal::Dbl(0.0),
                    "min" => int(min),
                    "max" => int(max),
                    "cnt" => int(cnt),
                    "sum" => int(sum),
                    _ => MVal::Int(0),
                };
                out.push((format!("{p}_{name}"), v));
            }
        };
        for &(name, kind) in CATALOGUE {
            match kind {
                Gauge => out.push((name.to_owned(), self.gauge(name, peer))),
                Counter => out.push((name.to_owned(), MVal::Int(self.counter(name)))),
                Summary | Advanced => summary(&mut out, name, kind),
            }
        }
        for ns in self.namespaces() {
            for set in PER_NAMESPACE {
                summary(&mut out, &format!("{ns}_{set}"), Summary);
            }
        }
        out
    }

    /// The Prometheus text exposition (format 0.0.4) of the same metrics, named as
    /// ZooKeeper's PrometheusMetricsProvider exports them (no `zk_` prefix).
    pub fn prometheus(&self) -> String {
        let mut out = String::new();
        let head = |out: &mut String, name: &str, kind: &str| {
            let _ = writeln!(out, "# HELP {name} {name}\n# TYPE {name} {kind}");
        };
        let quantiles = |kind: Kind| -> &'static [&'static str] {
            if kind == Advanced {
                &["0.5", "0.9", "0.99"]
            } else {
                &["0.5"]
            }
        };
        for &(name, kind) in CATALOGUE {
            match kind {
                Gauge => {
                    head(&mut out, name, "gauge");
                    let v = match self.gauge(name, None) {
                        MVal::Int(n) => n as f64,
                        MVal::Dbl(d) => d,
                        MVal::Str(_) => 0.0,
                    };
                    let _ = writeln!(out, "{name} {}", java_double(v));
                }
                Counter => {
                    head(&mut out, name, "counter");
                    let _ = writeln!(out, "{name} {}", java_double(self.counter(name) as f64));
                }
                Summary | Advanced => {
                    head(&mut out, name, "summary");
                    for q in quantiles(kind) {
                        let _ = writeln!(out, "{name}{{quantile=\"{q}\",}} NaN");
                    }
                    let (cnt, sum, _, _) = self.summary(name).unwrap_or_default();
                    let (cnt, sum) = (java_double(cnt as f64), java_double(sum as f64));
                    let _ = writeln!(out, "{name}_count {cnt}\n{name}_sum {sum}");
                }
            }
        }
        let namespaces = self.namespaces();
        for set in PER_NAMESPACE {
            head(&mut out, set, "summary");
            for ns in &namespaces {
                let label = format!("key=\"{}\",", ns.replace('\\', "\\\\").replace('"', "\\\""));
                let _ = writeln!(out, "{set}{{{label}quantile=\"0.5\",}} NaN");
                let _ = writeln!(out, "{set}_count{{{label}}} 0.0\n{set}_sum{{{label}}} 0.0");
            }
        }
        for (name, kind) in EMPTY_SETS {
            head(&mut out, name, kind);
        }
        process_metrics(&mut out, self.stats.started.elapsed().as_secs_f64());
        out
    }
}

/// The `process_*` collectors of Prometheus' standard exports, for this process.
fn process_metrics(out: &mut String, uptime_s: f64) {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the parenthesised command name; utime/stime are fields 14/15 (1-based).
    let rest: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, r)| r.split_whitespace().collect())
        .unwrap_or_default();
    let field = |i: usize| rest.get(i - 3).and_then(|v| v.parse::<f64>().ok());
    let cpu = (field(14).unwrap_or(0.0) + field(15).unwrap_or(0.0)) / 100.0;
    let vsize = field(23).unwrap_or(0.0);
    let rss = field(24).unwrap_or(0.0) * 4096.0;
    let (fds, max_fds) = super::fd_counts();
    let start = crate::processor::wall_ms() as f64 / 1000.0 - uptime_s;
    let rows: [(&str, &str, &str, f64); 6] = [
        (
            "process_cpu_seconds_total",
            "counter",
            "Total user and system CPU time spent in seconds.",
            cpu,
        ),
        (
            "process_start_time_seconds",
            "gauge",
            "Start time of the process since unix epoch in seconds.",
            start,
        ),
        (
            "process_open_fds",
            "gauge",
            "Number of open file descriptors.",
            fds as f64,
        ),
        (
            "process_max_fds",
            "gauge",
            "Maximum number of open file descriptors.",
            max_fds as f64,
        ),
        (
            "process_virtual_memory_bytes",
            "gauge",
            "Virtual memory size in bytes.",
            vsize,
        ),
        (
            "process_resident_memory_bytes",
            "gauge",
            "Resident memory size in bytes.",
            rss,
        ),
    ];
    for (name, kind, help, v) in rows {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {}",
            java_double(v)
        );
    }
}
