//! The AdminServer commands (`/commands/<name>`) with ZooKeeper 3.8.0's names, aliases
//! and JSON field names; every answer ends with `"command"` (the primary name) and
//! `"error"`, as ZooKeeper's CommandResponse does.

use super::json::J;
use crate::processor::Core;

/// Every command: primary name first, then its aliases (ZooKeeper's Commands registry).
pub const COMMANDS: &[&[&str]] = &[
    &["configuration", "conf", "config"],
    &["connection_stat_reset", "crst"],
    &["connections", "cons"],
    &["dirs"],
    &["dump"],
    &["environment", "env", "envi"],
    &["get_trace_mask", "gtmk"],
    &["hash"],
    &["initial_configuration", "icfg"],
    &["is_read_only", "isro"],
    &["last_snapshot", "lsnp"],
    &["leader", "lead"],
    &["monitor", "mntr"],
    &["observer_connection_stat_reset", "orst"],
    &["observers", "obsr"],
    &["ruok"],
    &["server_stats", "srvr"],
    &["set_trace_mask", "stmk"],
    &["stat_reset", "srst"],
    &["stats", "stat"],
    &["system_properties", "sysp"],
    &["voting_view"],
    &["watch_summary", "wchs"],
    &["watches", "wchc"],
    &["watches_by_path", "wchp"],
    &["zabstate"],
];

/// The primary name of a command known by `name`.
pub fn primary(name: &str) -> Option<&'static str> {
    COMMANDS
        .iter()
        .find(|names| names.contains(&name))
        .map(|names| names[0])
}

/// The `/commands` page: one link per primary name, sorted, as ZooKeeper lists them.
pub fn listing() -> String {
    let mut names: Vec<&str> = COMMANDS.iter().map(|n| n[0]).collect();
    names.sort_unstable();
    names
        .iter()
        .map(|n| format!("<a href=\"/commands/{n}\">{n}</a>\n<br/>\n"))
        .collect()
}

fn obj(fields: Vec<(&str, J)>) -> Vec<(String, J)> {
    fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

impl Core {
    /// Runs an AdminServer command and returns ZooKeeper's JSON text for it.
    pub fn command_json(&mut self, name: &str, params: &[(String, String)]) -> String {
        let Some(cmd) = primary(name) else {
            return J::Obj(obj(vec![
                ("command", J::s(name)),
                ("error", J::s(format!("Unknown command: {name}"))),
            ]))
            .pretty();
        };
        let mut fields = match self.command_fields(cmd, params) {
            Ok(f) => f,
            // ZooKeeper puts "error" before "command" when a command fails.
            Err(e) => {
                return J::Obj(obj(vec![("error", J::s(e)), ("command", J::s(cmd))])).pretty()
            }
        };
        fields.push(("command".into(), J::s(cmd)));
        fields.push(("error".into(), J::Null));
        J::Obj(fields).pretty()
    }

    fn command_fields(
        &mut self,
        cmd: &str,
        params: &[(String, String)],
    ) -> Result<Vec<(String, J)>, String> {
        Ok(match cmd {
            "configuration" => {
                let c = &self.cfg;
                obj(vec![
                    ("client_port", J::i(c.client_port)),
                    (
                        "data_dir",
                        J::s(c.data_dir.join("version-2").display().to_string()),
                    ),
                    (
                        "data_log_dir",
                        J::s(c.data_log_dir.join("version-2").display().to_string()),
                    ),
                    ("tick_time", J::i(c.tick_time_ms)),
                    ("max_client_cnxns", J::i(c.max_client_cnxns)),
                    ("min_session_timeout", J::i(c.min_session_timeout_ms)),
                    ("max_session_timeout", J::i(c.max_session_timeout_ms)),
                    (
                        "server_id",
                        J::i(if c.is_distributed() { c.server_id } else { 0 }),
                    ),
                    ("client_port_listen_backlog", J::Int(-1)),
                ])
            }
            "connection_stat_reset" => {
                self.reset_conn_stats();
                vec![]
            }
            "connections" => obj(vec![
                ("connections", J::Arr(self.connections_json(true))),
                ("secure_connections", J::Arr(vec![])),
            ]),
            "dirs" => {
                let (d, l) = self.dir_sizes();
                obj(vec![("datadir_size", J::i(d)), ("logdir_size", J::i(l))])
            }
            "dump" => {
                let expiry = self
                    .session_buckets()
                    .into_iter()
                    .map(|(at, _, ids)| {
                        (
                            at.to_string(),
                            J::Arr(ids.into_iter().map(J::Int).collect()),
                        )
                    })
                    .collect();
                let mut eph: Vec<(String, J)> = self
                    .tree
                    .all_ephemerals()
                    .iter()
                    .map(|(sid, paths)| {
                        (
                            sid.to_string(),
                            J::Arr(paths.iter().map(|p| J::s(&**p)).collect()),
                        )
                    })
                    .collect();
                eph.sort_by(|a, b| a.0.cmp(&b.0));
                obj(vec![
                    ("expiry_time_to_session_ids", J::Obj(expiry)),
                    ("session_id_to_ephemeral_paths", J::Obj(eph)),
                ])
            }
            "environment" => super::env::environment(&self.cfg)
                .into_iter()
                .map(|(k, v)| (k.to_owned(), J::Str(v)))
                .collect(),
            "get_trace_mask" => obj(vec![("tracemask", J::Int(super::trace_mask()))]),
            // ZooKeeper logs a digest every 128 txns; rzk keeps no digest history.
            "hash" => obj(vec![("digests", J::Arr(vec![]))]),
            "initial_configuration" => {
                let text = self
                    .cfg
                    .source
                    .as_ref()
                    .and_then(|p| std::fs::read_to_string(p).ok())
                    .unwrap_or_default();
                obj(vec![("initial_configuration", J::Str(text))])
            }
            "is_read_only" => obj(vec![("read_only", J::Bool(false))]),
            "last_snapshot" => {
                let started = crate::processor::wall_ms() / 1000
                    - self.stats.started.elapsed().as_secs() as i64;
                obj(vec![
                    ("zxid", J::s(format!("{:x}", self.tree.last_processed_zxid))),
                    ("timestamp", J::Int(started)),
                ])
            }
            "leader" => return Err("server is not initialized".into()),
            "monitor" => self
                .monitor(None)
                .into_iter()
                .map(|(k, v)| {
                    let j = match v {
                        super::metrics::MVal::Int(n) => J::Int(n),
                        super::metrics::MVal::Dbl(d) => J::Float(d),
                        super::metrics::MVal::Str(s) => J::Str(s),
                    };
                    (k, j)
                })
                .collect(),
            "observer_connection_stat_reset" | "ruok" => vec![],
            "observers" => obj(vec![
                ("synced_observers", J::Int(0)),
                ("observers", J::Arr(vec![])),
            ]),
            "server_stats" => self.server_stats_json(),
            "set_trace_mask" => {
                let mask = params
                    .iter()
                    .find(|(k, _)| k == "traceMask")
                    .and_then(|(_, v)| v.parse::<i64>().ok())
                    .ok_or("setTraceMask requires long traceMask argument")?;
                super::set_trace_mask(mask);
                obj(vec![("tracemask", J::Int(mask))])
            }
            "stat_reset" => {
                self.reset_server_stats();
                vec![]
            }
            "stats" => {
                let mut f = self.server_stats_json();
                f.push(("connections".into(), J::Arr(self.connections_json(false))));
                f.push(("secure_connections".into(), J::Arr(vec![])));
                f
            }
            "system_properties" => super::env::system_properties(&self.cfg)
                .into_iter()
                .map(|(k, v)| (k, J::Str(v)))
                .collect(),
            "voting_view" => obj(vec![("current_config", J::Obj(vec![]))]),
            "watch_summary" => {
                let t = &self.watches.data;
                obj(vec![
                    ("num_connections", J::i(t.conn_count())),
                    ("num_paths", J::i(t.path_count())),
                    ("num_total_watches", J::i(t.len())),
                ])
            }
            "watches" => {
                let m = self
                    .watches_by_session()
                    .into_iter()
                    .map(|(sid, paths)| {
                        (
                            sid.to_string(),
                            J::Arr(paths.into_iter().map(J::s).collect()),
                        )
                    })
                    .collect();
                obj(vec![("session_id_to_watched_paths", J::Obj(m))])
            }
            "watches_by_path" => {
                let m = self
                    .watches_by_path()
                    .into_iter()
                    .map(|(p, sids)| (p.to_owned(), J::Arr(sids.into_iter().map(J::Int).collect())))
                    .collect();
                obj(vec![("path_to_session_ids", J::Obj(m))])
            }
            "zabstate" => obj(vec![("voting", J::Bool(false)), ("zabstate", J::s(""))]),
            _ => vec![],
        })
    }

    /// `server_stats` fields (also the head of `stats`).
    fn server_stats_json(&self) -> Vec<(String, J)> {
        let (min, avg, max) = self.latency();
        let (d, l) = self.dir_sizes();
        let response = || {
            J::Obj(obj(vec![
                ("last_buffer_size", J::Int(-1)),
                ("min_buffer_size", J::Int(-1)),
                ("max_buffer_size", J::Int(-1)),
            ]))
        };
        let s = &self.stats;
        let stats = obj(vec![
            ("packets_sent", J::i(s.packets_sent)),
            ("packets_received", J::i(s.packets_received)),
            ("fsync_threshold_exceed_count", J::Int(0)),
            ("client_response_stats", response()),
            ("data_dir_size", J::i(d)),
            ("log_dir_size", J::i(l)),
            ("provider_null", J::Bool(false)),
            ("server_state", J::s("standalone")),
            ("last_processed_zxid", J::Int(self.tree.last_processed_zxid)),
            ("outstanding_requests", J::i(self.outstanding_requests())),
            ("avg_latency", J::Float(avg)),
            ("max_latency", J::i(max)),
            ("min_latency", J::i(min)),
            ("num_alive_client_connections", J::i(self.conns.len())),
            ("uptime", J::i(s.started.elapsed().as_millis() as u64)),
            ("auth_failed_count", J::Int(0)),
            ("non_mtlsremote_conn_count", J::Int(0)),
            ("non_mtlslocal_conn_count", J::Int(0)),
        ]);
        obj(vec![
            ("version", J::s(super::full_version())),
            ("read_only", J::Bool(false)),
            ("server_stats", J::Obj(stats)),
            ("client_response", response()),
            ("node_count", J::i(self.tree.node_count())),
        ])
    }

    /// One object per client connection; `full` adds the session fields of `cons`.
    fn connections_json(&self, full: bool) -> Vec<J> {
        self.conns
            .values()
            .map(|c| {
                let s = &c.stats;
                let mut f = obj(vec![
                    (
                        "remote_socket_address",
                        J::s(format!("{}:{}", c.peer.ip(), c.peer.port())),
                    ),
                    ("interest_ops", J::Int(1)),
                    ("outstanding_requests", J::Int(0)),
                    ("packets_received", J::i(s.received)),
                    ("packets_sent", J::i(s.sent)),
                ]);
                if let (true, Some(sid)) = (full, c.session) {
                    let (min, avg) = match s.count {
                        0 => (0, 0),
                        n => (s.min_latency, s.total_latency / n),
                    };
                    let lop = if s.last_op.is_empty() {
                        "NA"
                    } else {
                        s.last_op
                    };
                    f.extend(obj(vec![
                        ("session_id", J::Int(sid)),
                        ("last_operation", J::s(lop)),
                        ("established", J::Int(s.established_ms)),
                        ("session_timeout", J::i(self.conn_timeout(c))),
                        ("last_cxid", J::Int(i64::from(s.last_cxid))),
                        ("last_zxid", J::Int(s.last_zxid)),
                        ("last_response_time", J::Int(s.last_response_ms)),
                        ("last_latency", J::i(s.last_latency)),
                        ("min_latency", J::i(min)),
                        ("avg_latency", J::i(avg)),
                        ("max_latency", J::i(s.max_latency)),
                    ]));
                }
                J::Obj(f)
            })
            .collect()
    }
}
