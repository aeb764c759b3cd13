//! Four-letter words: the same text, field names and layout ZooKeeper 3.8 prints, so
//! scripts that parse `srvr`, `stat` or `mntr` keep working.

use crate::processor::{Conn, Core};
use std::fmt::Write;

/// The version clients and scripts see: ZooKeeper's protocol level plus ours.
pub const VERSION: &str = concat!("3.8.4-rzk-", env!("CARGO_PKG_VERSION"));

fn latency(min: u64, total: u64, count: u64, max: u64) -> String {
    let avg = if count == 0 {
        0.0
    } else {
        total as f64 / count as f64
    };
    format!("{}/{:.4}/{}", if count == 0 { 0 } else { min }, avg, max)
}

fn conn_line(c: &Conn, long: bool) -> String {
    let s = &c.stats;
    let mut line = format!(
        " /{}:{}[1](queued=0,recved={},sent={}",
        c.peer.ip(),
        c.peer.port(),
        s.received,
        s.sent
    );
    if long {
        let sid = c.session.unwrap_or(0);
        let avg = if s.count == 0 {
            0
        } else {
            s.total_latency / s.count
        };
        let min = if s.count == 0 { 0 } else { s.min_latency };
        let _ = write!(
            line,
            ",sid=0x{sid:x},lop={},est={},to={},lcxid=0x{:x},lzxid=0x{:x},lresp={},llat={},minlat={},avglat={},maxlat={}",
            if s.last_op.is_empty() { "NA" } else { s.last_op },
            s.established_ms,
            0,
            s.last_cxid,
            s.last_zxid,
            s.last_response_ms,
            s.last_latency,
            min,
            avg,
            s.max_latency
        );
    }
    line.push(')');
    line
}

impl Core {
    fn srvr_body(&self, out: &mut String) {
        let s = &self.stats;
        let _ = writeln!(
            out,
            "Latency min/avg/max: {}",
            latency(s.min_latency, s.total_latency, s.count, s.max_latency)
        );
        let _ = writeln!(out, "Received: {}", s.packets_received);
        let _ = writeln!(out, "Sent: {}", s.packets_sent);
        let _ = writeln!(out, "Connections: {}", self.conns.len());
        let _ = writeln!(out, "Outstanding: {}", self.outstanding_requests());
        let _ = writeln!(out, "Zxid: 0x{:x}", self.tree.last_processed_zxid);
        let _ = writeln!(out, "Mode: standalone");
        let _ = writeln!(out, "Node count: {}", self.tree.node_count());
    }

    /// The text answer to an enabled four-letter word.
    pub fn four_letter(&mut self, cmd: &str) -> String {
        let mut out = String::new();
        match cmd {
            "ruok" => out.push_str("imok"),
            "isro" => out.push_str("rw"),
            "srvr" => {
                let _ = writeln!(
                    out,
                    "Zookeeper version: {VERSION}, built on {}",
                    build_date()
                );
                self.srvr_body(&mut out);
            }
            "stat" => {
                let _ = writeln!(
                    out,
                    "Zookeeper version: {VERSION}, built on {}",
                    build_date()
                );
                out.push_str("Clients:\n");
                for c in self.conns.values() {
                    out.push_str(&conn_line(c, false));
                    out.push('\n');
                }
                out.push('\n');
                self.srvr_body(&mut out);
            }
            "cons" => {
                for c in self.conns.values() {
                    out.push_str(&conn_line(c, true));
                    out.push('\n');
                }
                out.push('\n');
            }
            "crst" => {
                for c in self.conns.values_mut() {
                    let est = c.stats.established_ms;
                    c.stats = Default::default();
                    c.stats.established_ms = est;
                    c.stats.min_latency = u64::MAX;
                }
                out.push_str("Connection stats reset.\n");
            }
            "srst" => {
                self.stats.reset();
                out.push_str("Server stats reset.\n");
            }
            "conf" => {
                let c = &self.cfg;
                let _ = writeln!(out, "clientPort={}", c.client_port);
                let _ = writeln!(out, "secureClientPort=-1");
                let _ = writeln!(out, "dataDir={}", c.data_dir.join("version-2").display());
                let _ = writeln!(
                    out,
                    "dataDirSize={}",
                    dir_size(&c.data_dir.join("version-2"))
                );
                let _ = writeln!(
                    out,
                    "dataLogDir={}",
                    c.data_log_dir.join("version-2").display()
                );
                let _ = writeln!(
                    out,
                    "dataLogSize={}",
                    dir_size(&c.data_log_dir.join("version-2"))
                );
                let _ = writeln!(out, "tickTime={}", c.tick_time_ms);
                let _ = writeln!(out, "maxClientCnxns={}", c.max_client_cnxns);
                let _ = writeln!(out, "minSessionTimeout={}", c.min_session_timeout_ms);
                let _ = writeln!(out, "maxSessionTimeout={}", c.max_session_timeout_ms);
                let _ = writeln!(out, "clientPortListenBacklog=-1");
                let _ = writeln!(out, "serverId=0");
            }
            "envi" => {
                out.push_str("Environment:\n");
                let _ = writeln!(
                    out,
                    "zookeeper.version={VERSION}, built on {}",
                    build_date()
                );
                let host = std::fs::read_to_string("/etc/hostname").unwrap_or_default();
                let _ = writeln!(out, "host.name={}", host.trim());
                let _ = writeln!(out, "java.version=n/a (rzk, Rust)");
                let _ = writeln!(out, "os.name={}", std::env::consts::OS);
                let _ = writeln!(out, "os.arch={}", std::env::consts::ARCH);
                let _ = writeln!(
                    out,
                    "user.name={}",
                    std::env::var("USER").unwrap_or_default()
                );
                let _ = writeln!(
                    out,
                    "user.home={}",
                    std::env::var("HOME").unwrap_or_default()
                );
                let _ = writeln!(
                    out,
                    "user.dir={}",
                    std::env::current_dir()
                        .map(|d| d.display().to_string())
                        .unwrap_or_default()
                );
            }
            "dirs" => {
                let _ = writeln!(
                    out,
                    "datadir_size: {}",
                    dir_size(&self.cfg.data_dir.join("version-2"))
                );
                let _ = writeln!(
                    out,
                    "logdir_size: {}",
                    dir_size(&self.cfg.data_log_dir.join("version-2"))
                );
            }
            "wchs" => {
                let t = &self.watches.data;
                let _ = writeln!(
                    out,
                    "{} connections watching {} paths",
                    t.conn_count(),
                    t.path_count()
                );
                let _ = writeln!(out, "Total watches:{}", t.len());
            }
            "wchc" => {
                for (conn, paths) in self.watches.data.by_conn() {
                    let sid = self.conns.get(conn).and_then(|c| c.session).unwrap_or(0);
                    let _ = writeln!(out, "0x{sid:x}");
                    for p in paths {
                        let _ = writeln!(out, "\t{p}");
                    }
                }
            }
            "wchp" => {
                for (path, conns) in self.watches.data.by_path() {
                    let _ = writeln!(out, "{path}");
                    for conn in conns.keys() {
                        let sid = self.conns.get(conn).and_then(|c| c.session).unwrap_or(0);
                        let _ = writeln!(out, "\t0x{sid:x}");
                    }
                }
            }
            "dump" => {
                out.push_str("SessionTracker dump:\n");
                let _ = writeln!(
                    out,
                    "Session Sets ({})/({}):",
                    self.sessions.buckets().len(),
                    self.sessions.len()
                );
                for (at, ids) in self.sessions.buckets() {
                    let _ = writeln!(out, "{} expire at {}:", ids.len(), at);
                    for id in ids {
                        let _ = writeln!(out, "\t0x{id:x}");
                    }
                }
                out.push_str("ephemeral nodes dump:\n");
                let e = self.tree.all_ephemerals();
                let _ = writeln!(out, "Sessions with Ephemerals ({}):", e.len());
                for (sid, paths) in e {
                    let _ = writeln!(out, "0x{sid:x}:");
                    for p in paths {
                        let _ = writeln!(out, "\t{p}");
                    }
                }
                out.push_str("Connections dump:\n");
            }
            "mntr" => self.mntr(&mut out),
            "gtmk" => out.push_str("0\n"),
            "stmk" => out.push_str("0\n"),
            "hash" => {}
            _ => {}
        }
        out
    }

    fn mntr(&self, out: &mut String) {
        let s = &self.stats;
        let avg = if s.count == 0 {
            0.0
        } else {
            s.total_latency as f64 / s.count as f64
        };
        let min = if s.count == 0 { 0 } else { s.min_latency };
        let (fds, max_fds) = fd_counts();
        let lines: Vec<(&str, String)> = vec![
            (
                "zk_version",
                format!("{VERSION}, built on {}", build_date()),
            ),
            ("zk_server_state", "standalone".into()),
            ("zk_avg_latency", format!("{avg:.1}")),
            ("zk_max_latency", s.max_latency.to_string()),
            ("zk_min_latency", min.to_string()),
            ("zk_packets_received", s.packets_received.to_string()),
            ("zk_packets_sent", s.packets_sent.to_string()),
            ("zk_num_alive_connections", self.conns.len().to_string()),
            (
                "zk_outstanding_requests",
                self.outstanding_requests().to_string(),
            ),
            ("zk_uptime", s.started.elapsed().as_millis().to_string()),
            ("zk_znode_count", self.tree.node_count().to_string()),
            (
                "zk_watch_count",
                (self.watches.data.len() + self.watches.child.len()).to_string(),
            ),
            (
                "zk_ephemerals_count",
                self.tree.ephemeral_count().to_string(),
            ),
            (
                "zk_approximate_data_size",
                self.tree.approximate_data_size().to_string(),
            ),
            ("zk_global_sessions", self.sessions.len().to_string()),
            ("zk_local_sessions", "0".into()),
            ("zk_open_file_descriptor_count", fds.to_string()),
            ("zk_max_file_descriptor_count", max_fds.to_string()),
        ];
        for (k, v) in lines {
            let _ = writeln!(out, "{k}\t{v}");
        }
    }
}

/// When this binary was built (as `srvr` prints ZooKeeper's build date).
fn build_date() -> &'static str {
    option_env!("RZK_BUILD_DATE").unwrap_or("1970-01-01 00:00 UTC")
}

fn dir_size(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok()?.metadata().ok())
                .filter(|m| m.is_file())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

fn fd_counts() -> (u64, u64) {
    let open = std::fs::read_dir("/proc/self/fd")
        .map(|d| d.count() as u64)
        .unwrap_or(0);
    let max = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Max open files"))
                .and_then(|l| l.split_whitespace().nth(3).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0);
    (open, max)
}
