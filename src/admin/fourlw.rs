//! Four-letter words: the same text, field names, layout and number formats ZooKeeper
//! 3.8.0 prints, so scripts that parse `srvr`, `stat`, `cons` or `mntr` keep working.

use super::{avg4, dir_size, full_version, java_date, java_double};
use crate::processor::{wall_ms, Conn, Core};
use std::fmt::Write;
use std::net::SocketAddr;

/// ZooKeeper flushes a four-letter answer in chunks of this many chars; each chunk counts
/// as one sent packet.
const FLUSH_CHARS: usize = 8192;

/// How long ZooKeeper keeps a connection without a session (`Connections dump` buckets).
const CNXN_EXPIRY_MS: i64 = 10_000;

/// `/ip:port` as Java prints an `InetSocketAddress`.
pub fn java_addr(a: &SocketAddr) -> String {
    format!("/{}:{}", a.ip(), a.port())
}

/// A `stat`/`cons` line. `long` adds the session fields of `cons`.
fn conn_line(c: &Conn, timeout: u32, long: bool) -> String {
    let s = &c.stats;
    let mut line = format!(
        " {}[1](queued={},recved={},sent={}",
        java_addr(&c.peer),
        0,
        s.received,
        s.sent
    );
    if let (true, Some(sid)) = (long, c.session) {
        let (min, avg) = match s.count {
            0 => (0, 0),
            n => (s.min_latency, s.total_latency / n),
        };
        let _ = write!(
            line,
            ",sid=0x{sid:x},lop={},est={},to={timeout},lcxid=0x{:x},lzxid=0x{:x},lresp={},llat={},minlat={min},avglat={avg},maxlat={}",
            if s.last_op.is_empty() { "NA" } else { s.last_op },
            s.established_ms,
            i64::from(s.last_cxid),
            s.last_zxid,
            s.last_response_ms,
            s.last_latency,
            s.max_latency
        );
    }
    line.push(')');
    line
}

/// The line for a four-letter word's own connection (not reading: interest ops 0).
fn own_line(peer: &SocketAddr) -> String {
    format!(" {}[0](queued=0,recved=1,sent=0)", java_addr(peer))
}

impl Core {
    /// The session timeout of a connection's session (0 without one).
    pub(super) fn conn_timeout(&self, c: &Conn) -> u32 {
        c.session
            .and_then(|s| self.sessions.get(s))
            .map_or(0, |s| s.timeout_ms)
    }

    /// Client connections, counting an asking four-letter connection.
    pub(super) fn alive_connections(&self, peer: Option<SocketAddr>) -> usize {
        self.conns.len() + usize::from(peer.is_some())
    }

    /// `(min, avg, max)` request latency as ZooKeeper's ServerStats reports it.
    pub(super) fn latency(&self) -> (u64, f64, u64) {
        let s = &self.stats;
        match s.count {
            0 => (0, 0.0, 0),
            n => (s.min_latency, avg4(s.total_latency, n), s.max_latency),
        }
    }

    fn srvr_body(&self, out: &mut String, peer: Option<SocketAddr>) {
        let (min, avg, max) = self.latency();
        let s = &self.stats;
        let _ = writeln!(out, "Latency min/avg/max: {min}/{}/{max}", java_double(avg));
        let _ = writeln!(out, "Received: {}", s.packets_received);
        let _ = writeln!(out, "Sent: {}", s.packets_sent);
        let _ = writeln!(out, "Connections: {}", self.alive_connections(peer));
        let _ = writeln!(out, "Outstanding: {}", self.outstanding_requests());
        let _ = writeln!(out, "Zxid: 0x{:x}", self.tree.last_processed_zxid);
        let _ = writeln!(out, "Mode: standalone");
        let _ = writeln!(out, "Node count: {}", self.tree.node_count());
    }

    /// The text answer to an enabled four-letter word (no asking connection to count).
    pub fn four_letter(&mut self, cmd: &str) -> String {
        self.four_letter_from(cmd, None, None)
    }

    /// The text answer to an enabled four-letter word asked on connection `peer`; `arg` is
    /// `stmk`'s mask. Counts the word as one received packet and its answer as sent ones.
    pub fn four_letter_from(
        &mut self,
        cmd: &str,
        arg: Option<i64>,
        peer: Option<SocketAddr>,
    ) -> String {
        if peer.is_some() {
            self.stats.packets_received += 1;
        }
        let out = self.four_letter_text(cmd, arg, peer);
        if peer.is_some() {
            self.stats.packets_sent += out.len().div_ceil(FLUSH_CHARS) as u64;
        }
        out
    }

    fn four_letter_text(
        &mut self,
        cmd: &str,
        arg: Option<i64>,
        peer: Option<SocketAddr>,
    ) -> String {
        let mut out = String::new();
        match cmd {
            "ruok" => out.push_str("imok"),
            "isro" => out.push_str("rw"),
            "srvr" => {
                let _ = writeln!(out, "Zookeeper version: {}", full_version());
                self.srvr_body(&mut out, peer);
            }
            "stat" => {
                let _ = writeln!(out, "Zookeeper version: {}", full_version());
                out.push_str("Clients:\n");
                for c in self.conns.values() {
                    let _ = writeln!(out, "{}", conn_line(c, 0, false));
                }
                if let Some(p) = &peer {
                    let _ = writeln!(out, "{}", own_line(p));
                }
                out.push('\n');
                self.srvr_body(&mut out, peer);
            }
            "cons" => {
                for c in self.conns.values() {
                    let _ = writeln!(out, "{}", conn_line(c, self.conn_timeout(c), true));
                }
                if let Some(p) = &peer {
                    let _ = writeln!(out, "{}", own_line(p));
                }
                out.push('\n');
            }
            "crst" => {
                self.reset_conn_stats();
                out.push_str("Connection stats reset.\n");
            }
            "srst" => {
                self.reset_server_stats();
                out.push_str("Server stats reset.\n");
            }
            "conf" => self.conf_text(&mut out),
            "envi" => {
                out.push_str("Environment:\n");
                for (k, v) in super::env::environment(&self.cfg) {
                    let _ = writeln!(out, "{k}={v}");
                }
            }
            "dirs" => {
                let (d, l) = self.dir_sizes();
                let _ = writeln!(out, "datadir_size: {d}");
                let _ = writeln!(out, "logdir_size: {l}");
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
                for (sid, paths) in self.watches_by_session() {
                    let _ = writeln!(out, "0x{sid:x}");
                    for p in paths {
                        let _ = writeln!(out, "\t{p}");
                    }
                }
                out.push('\n');
            }
            "wchp" => {
                for (path, sids) in self.watches_by_path() {
                    let _ = writeln!(out, "{path}");
                    for sid in sids {
                        let _ = writeln!(out, "\t0x{sid:x}");
                    }
                }
                out.push('\n');
            }
            "dump" => self.dump_text(&mut out, peer),
            "mntr" => {
                for (k, v) in self.monitor(peer) {
                    let _ = writeln!(out, "zk_{k}\t{v}");
                }
            }
            "gtmk" => {
                let _ = write!(out, "{}", super::trace_mask());
            }
            "stmk" => {
                if let Some(m) = arg {
                    super::set_trace_mask(m);
                    let _ = write!(out, "{m}");
                }
            }
            // Digest history: ZooKeeper logs a digest every 128 txns; rzk keeps none.
            _ => {}
        }
        out
    }

    /// `crst`: per-connection counters back to their initial values.
    pub(super) fn reset_conn_stats(&mut self) {
        for c in self.conns.values_mut() {
            let est = c.stats.established_ms;
            c.stats = Default::default();
            c.stats.established_ms = est;
            c.stats.min_latency = u64::MAX;
            c.stats.last_cxid = -1;
            c.stats.last_zxid = -1;
        }
    }

    /// Sizes of the snapshot and log directories (`version-2`).
    pub(super) fn dir_sizes(&self) -> (u64, u64) {
        (
            dir_size(&self.cfg.data_dir.join("version-2")),
            dir_size(&self.cfg.data_log_dir.join("version-2")),
        )
    }

    /// Data watches grouped by session id (the `wchc` view).
    pub(super) fn watches_by_session(&self) -> Vec<(i64, Vec<&str>)> {
        let mut v: Vec<(i64, Vec<&str>)> = self
            .watches
            .data
            .by_conn()
            .iter()
            .map(|(conn, paths)| {
                let sid = self.conns.get(conn).and_then(|c| c.session).unwrap_or(0);
                let mut p: Vec<&str> = paths.iter().map(|p| &**p).collect();
                p.sort_unstable();
                (sid, p)
            })
            .collect();
        v.sort_unstable();
        v
    }

    /// Data watches grouped by path (the `wchp` view).
    pub(super) fn watches_by_path(&self) -> Vec<(&str, Vec<i64>)> {
        let mut v: Vec<(&str, Vec<i64>)> = self
            .watches
            .data
            .by_path()
            .iter()
            .map(|(path, conns)| {
                let sids = conns
                    .keys()
                    .map(|c| self.conns.get(c).and_then(|c| c.session).unwrap_or(0))
                    .collect();
                (&**path, sids)
            })
            .collect();
        v.sort_unstable();
        v
    }

    /// Session expiry buckets as (core-clock ms, wall ms, sorted session ids).
    pub(super) fn session_buckets(&self) -> Vec<(u64, i64, Vec<i64>)> {
        let offset = wall_ms() - self.now_ms() as i64;
        self.sessions
            .buckets()
            .iter()
            .filter(|(_, ids)| !ids.is_empty())
            .map(|(&at, ids)| {
                let mut ids: Vec<i64> = ids.iter().copied().collect();
                ids.sort_unstable();
                (at, at as i64 + offset, ids)
            })
            .collect()
    }

    fn dump_text(&self, out: &mut String, peer: Option<SocketAddr>) {
        out.push_str("SessionTracker dump:\n");
        let buckets = self.session_buckets();
        let total: usize = buckets.iter().map(|b| b.2.len()).sum();
        let _ = writeln!(out, "Session Sets ({})/({}):", buckets.len(), total);
        for (_, wall, ids) in &buckets {
            let _ = writeln!(out, "{} expire at {}:", ids.len(), java_date(*wall));
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
        // Connections expire CNXN_EXPIRY_MS after their last activity, in buckets of that
        // size, as ZooKeeper's NIO connection expiry queue groups them.
        let bucket = |t: i64| (t + CNXN_EXPIRY_MS).div_euclid(CNXN_EXPIRY_MS) * CNXN_EXPIRY_MS;
        let mut sets: std::collections::BTreeMap<i64, Vec<String>> = Default::default();
        for c in self.conns.values() {
            let last = c.stats.established_ms.max(c.stats.last_response_ms);
            sets.entry(bucket(last)).or_default().push(format!(
                "\tip: {} sessionId: 0x{:x}",
                java_addr(&c.peer),
                c.session.unwrap_or(0)
            ));
        }
        if let Some(p) = &peer {
            sets.entry(bucket(wall_ms()))
                .or_default()
                .push(format!("\tip: {} sessionId: 0x0", java_addr(p)));
        }
        let n: usize = sets.values().map(Vec::len).sum();
        let _ = writeln!(out, "Connections Sets ({})/({}):", sets.len(), n);
        for (at, lines) in sets {
            let _ = writeln!(out, "{} expire at {}:", lines.len(), java_date(at));
            for l in lines {
                let _ = writeln!(out, "{l}");
            }
        }
    }

    fn conf_text(&self, out: &mut String) {
        let c = &self.cfg;
        let (d, l) = self.dir_sizes();
        let _ = writeln!(out, "clientPort={}", c.client_port);
        let _ = writeln!(out, "secureClientPort=-1");
        let _ = writeln!(out, "dataDir={}", c.data_dir.join("version-2").display());
        let _ = writeln!(out, "dataDirSize={d}");
        let _ = writeln!(
            out,
            "dataLogDir={}",
            c.data_log_dir.join("version-2").display()
        );
        let _ = writeln!(out, "dataLogSize={l}");
        let _ = writeln!(out, "tickTime={}", c.tick_time_ms);
        let _ = writeln!(out, "maxClientCnxns={}", c.max_client_cnxns);
        let _ = writeln!(out, "minSessionTimeout={}", c.min_session_timeout_ms);
        let _ = writeln!(out, "maxSessionTimeout={}", c.max_session_timeout_ms);
        let _ = writeln!(out, "clientPortListenBacklog=-1");
        // Standalone ZooKeeper reports serverId 0 whatever myid says.
        let sid = if c.is_distributed() { c.server_id } else { 0 };
        let _ = writeln!(out, "serverId={sid}");
    }
}
