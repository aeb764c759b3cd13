//! Server configuration: `zoo.cfg`, `myid`, and ZooKeeper system properties given as
//! `-Dkey=value` in `SERVER_JVMFLAGS` / `JVMFLAGS`, so an operator's existing files work.

use std::collections::BTreeMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};

/// One `server.N=host:peerPort:electionPort[:role][;[clientHost:]clientPort]` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuorumServer {
    pub id: i64,
    pub host: String,
    pub peer_port: u16,
    pub election_port: u16,
    pub observer: bool,
    pub client_addr: Option<(String, u16)>,
}

/// Everything the server reads from its configuration, with ZooKeeper's defaults.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where the config came from (None = the embedded default).
    pub source: Option<PathBuf>,
    pub tick_time_ms: u32,
    pub data_dir: PathBuf,
    /// Defaults to `data_dir`.
    pub data_log_dir: PathBuf,
    pub client_port: u16,
    pub client_port_address: IpAddr,
    /// Per-IP connection cap, 0 = unlimited.
    pub max_client_cnxns: u32,
    pub min_session_timeout_ms: u32,
    pub max_session_timeout_ms: u32,
    pub global_outstanding_limit: u32,
    /// Enabled four-letter words; contains "*" for all.
    pub four_letter_whitelist: Vec<String>,
    pub extended_types_enabled: bool,
    /// `zookeeper.DigestAuthenticationProvider.superDigest` (`super:<base64 sha1>`).
    pub super_digest: Option<String>,
    /// `jute.maxbuffer`.
    pub jute_max_buffer: usize,
    pub skip_acl: bool,
    pub read_only_mode_enabled: bool,
    pub admin_enable_server: bool,
    pub admin_server_address: IpAddr,
    pub admin_server_port: u16,
    pub metrics_port: Option<u16>,
    pub init_limit: u32,
    pub sync_limit: u32,
    pub servers: Vec<QuorumServer>,
    /// From `<dataDir>/myid`; 1 when standalone without one (session ids use it).
    pub server_id: i64,
    pub autopurge_snap_retain_count: u32,
    pub autopurge_purge_interval_hours: u32,
    pub snap_count: u64,
    pub pre_alloc_size_kb: u64,
    pub force_sync: bool,
    pub fsync_warning_threshold_ms: u64,
    pub digest_enabled: bool,
    pub close_session_txn_enabled: bool,
    pub container_check_interval_ms: u64,
    pub container_max_per_minute: u32,
    pub container_max_never_used_interval_ms: u64,
    /// `zookeeper.nio.sessionlessCnxnTimeout`: a connection with no session handshake by
    /// then is closed.
    pub sessionless_cnxn_timeout: std::time::Duration,
    /// `rzk.snapshot.fork` (default true, Linux only): write snapshots from a forked copy
    /// of the process instead of walking the tree on the core task between batches.
    pub snapshot_fork: bool,
    /// `rzk.snapshot.forkMinBytes` (default 32 MiB): a tree whose snapshot would be
    /// smaller is walked on the core task even when `snapshot_fork` is set, because
    /// forking a large process stops the core for longer than walking a small tree does.
    pub snapshot_fork_min_bytes: u64,
    /// `rzk.log.inlineSync` (default true): when the core has nothing else queued and the
    /// log writer thread is idle, the core writes and fsyncs a small batch itself instead
    /// of handing it to the writer thread and waiting to be woken.
    pub log_inline_sync: bool,
    /// `rzk.log.directIO` (default true): with forceSync, write the txn log with
    /// `O_DIRECT` from a reused aligned buffer instead of through the page cache.
    pub log_direct_io: bool,
    /// `rzk.snapshot.directIO` (default true): write snapshots with `O_DIRECT` from a
    /// reused aligned buffer instead of through the page cache.
    pub snapshot_direct_io: bool,
    /// `rzk.thpWhileServing` (default true): keep transparent huge pages for memory the
    /// server takes after start-up; `false` leaves them to recovery only (see
    /// `server::end_huge_pages`).
    pub thp_while_serving: bool,
    /// `rzk.workerThreads`: threads running the connection tasks and the core (default:
    /// one less than the CPUs, at least one — the txn-log writer and a snapshot child
    /// each want a CPU of their own).
    pub worker_threads: Option<usize>,
    /// Every key/property as given, for `conf`/`envi` and features not modelled yet.
    pub properties: BTreeMap<String, String>,
    /// Non-fatal findings (unknown keys, values ZooKeeper would also ignore), for the log.
    pub warnings: Vec<String>,
    /// The number in `<dataDir>/myid`, if that file exists (`server_id` is what sessions use).
    pub myid: Option<i64>,
    /// `standaloneEnabled`: a config with at most one voting server runs standalone.
    pub standalone_enabled: bool,
    /// `reconfigEnabled`: allows the reconfig op.
    pub reconfig_enabled: bool,
    /// `localSessionsEnabled` / `localSessionsUpgradingEnabled`.
    pub local_sessions_enabled: bool,
    pub local_sessions_upgrading_enabled: bool,
    /// This server is an observer (decided by its `server.N` line, as in ZooKeeper).
    pub observer: bool,
    /// `dynamicConfigFile`, when the membership lives in a separate file.
    pub dynamic_config_file: Option<PathBuf>,
    /// Membership version: `version=` (hex) or the dynamic file's hex suffix; 0 otherwise.
    pub config_version: u64,
    /// `clientPortListenBacklog`, -1 = OS default (printed by `conf`).
    pub client_port_listen_backlog: i32,
    /// `syncEnabled`: observers/followers log txns to disk.
    pub sync_enabled: bool,
    /// `quorumListenOnAllIPs`.
    pub quorum_listen_on_all_ips: bool,
    /// `zookeeper.datadir.autocreate`: create a missing data dir instead of failing.
    pub datadir_autocreate: bool,
    /// The effective JVM system properties: `-D` flags, overridden by zoo.cfg keys that
    /// ZooKeeper turns into `zookeeper.<key>` (for `envi` and not-yet-modelled features).
    pub system_properties: BTreeMap<String, String>,
}

impl Default for Config {
    /// The embedded default: standalone on 127.0.0.1:2181 with data under `./data`.
    fn default() -> Config {
        let tick = 2000;
        Config {
            source: None,
            tick_time_ms: tick,
            data_dir: PathBuf::from("data"),
            data_log_dir: PathBuf::from("data"),
            client_port: 2181,
            client_port_address: IpAddr::V4(Ipv4Addr::LOCALHOST),
            max_client_cnxns: 60,
            min_session_timeout_ms: 2 * tick,
            max_session_timeout_ms: 20 * tick,
            global_outstanding_limit: 1000,
            four_letter_whitelist: vec!["srvr".into()],
            extended_types_enabled: false,
            super_digest: None,
            jute_max_buffer: jute::consts::DEFAULT_MAX_BUFFER,
            skip_acl: false,
            read_only_mode_enabled: false,
            admin_enable_server: false,
            admin_server_address: IpAddr::V4(Ipv4Addr::LOCALHOST),
            admin_server_port: 8080,
            metrics_port: None,
            init_limit: 10,
            sync_limit: 5,
            servers: Vec::new(),
            server_id: 1,
            autopurge_snap_retain_count: 3,
            autopurge_purge_interval_hours: 0,
            snap_count: 100_000,
            pre_alloc_size_kb: 65536,
            force_sync: true,
            fsync_warning_threshold_ms: 1000,
            digest_enabled: true,
            close_session_txn_enabled: true,
            container_check_interval_ms: 60_000,
            container_max_per_minute: 10_000,
            container_max_never_used_interval_ms: 0,
            sessionless_cnxn_timeout: std::time::Duration::from_millis(10_000),
            snapshot_fork: true,
            snapshot_fork_min_bytes: 32 << 20,
            log_inline_sync: true,
            log_direct_io: true,
            snapshot_direct_io: true,
            thp_while_serving: true,
            worker_threads: None,
            properties: BTreeMap::new(),
            warnings: Vec::new(),
            myid: None,
            standalone_enabled: true,
            reconfig_enabled: false,
            local_sessions_enabled: false,
            local_sessions_upgrading_enabled: false,
            observer: false,
            dynamic_config_file: None,
            config_version: 0,
            client_port_listen_backlog: -1,
            sync_enabled: true,
            quorum_listen_on_all_ips: false,
            datadir_autocreate: true,
            system_properties: BTreeMap::new(),
        }
    }
}

impl Config {
    /// Worker threads for the runtime: `rzk.workerThreads`, else one less than the CPUs.
    pub fn runtime_threads(&self) -> usize {
        self.worker_threads.unwrap_or_else(|| {
            let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
            cpus.saturating_sub(1).max(1)
        })
    }

    /// Whether a four-letter word is enabled by the whitelist.
    pub fn four_letter_enabled(&self, cmd: &str) -> bool {
        self.four_letter_whitelist
            .iter()
            .any(|w| w == "*" || w == cmd)
    }
}

// ---------------------------------------------------------------------------------------
// Loading and parsing.
//
// Precedence, as ZooKeeper 3.8 does it (QuorumPeerConfig.parseProperties): every zoo.cfg
// key it does not handle itself is set as JVM system property `zookeeper.<key>` *after* the
// JVM has started with its `-D` flags, so a zoo.cfg key overrides the matching
// `-Dzookeeper.<key>` flag (checked against a real 3.8 server with
// `4lw.commands.whitelist`). Properties that ZooKeeper reads without the `zookeeper.`
// prefix (`jute.maxbuffer`, `readonlymode.enabled`, `znode.container.*`) therefore cannot
// be set from zoo.cfg at all: there the key becomes `zookeeper.jute.maxbuffer` etc., which
// nothing reads. We do the same and warn. `fsync.warningthresholdms` is read under both
// names, `zookeeper.` first.
//
// Bad values: keys ZooKeeper parses itself fail startup as in ZooKeeper. For the
// property-style keys ZooKeeper silently falls back to the default; rzk fails on a bad
// value written in zoo.cfg (with file:line) and warns + uses the default for a bad `-D`.
// ---------------------------------------------------------------------------------------

/// Why a configuration cannot be used: where (`file:line`, a file, or the JVM flags),
/// which key, and why. Displayed as `zoo.cfg:7: clientPort: "abc" is not a valid port number`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// `path:line`, a path, or `SERVER_JVMFLAGS/JVMFLAGS`.
    pub location: String,
    /// The offending key, if one is to blame.
    pub key: Option<String>,
    /// What is wrong, in words.
    pub reason: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.key {
            Some(k) => write!(f, "{}: {}: {}", self.location, k, self.reason),
            None => write!(f, "{}: {}", self.location, self.reason),
        }
    }
}

impl std::error::Error for ConfigError {}

/// How the JVM flags are named in messages.
const FLAGS_SOURCE: &str = "SERVER_JVMFLAGS/JVMFLAGS";

/// Keys QuorumPeerConfig handles itself (they never become system properties).
const NATIVE_KEYS: &[&str] = &[
    "dataDir",
    "dataLogDir",
    "clientPort",
    "localSessionsEnabled",
    "localSessionsUpgradingEnabled",
    "clientPortAddress",
    "secureClientPort",
    "secureClientPortAddress",
    "observerMasterPort",
    "clientPortListenBacklog",
    "tickTime",
    "maxClientCnxns",
    "minSessionTimeout",
    "maxSessionTimeout",
    "initLimit",
    "syncLimit",
    "connectToLearnerMasterLimit",
    "electionAlg",
    "quorumListenOnAllIPs",
    "peerType",
    "syncEnabled",
    "dynamicConfigFile",
    "autopurge.snapRetainCount",
    "autopurge.purgeInterval",
    "standaloneEnabled",
    "reconfigEnabled",
    "sslQuorum",
    "portUnification",
    "sslQuorumReloadCertFiles",
    "quorum.auth.enableSasl",
    "quorum.auth.serverRequireSasl",
    "quorum.auth.learnerRequireSasl",
    "quorum.auth.learner.saslLoginContext",
    "quorum.auth.server.saslLoginContext",
    "quorum.auth.kerberos.servicePrincipal",
    "quorum.cnxn.threads.size",
    "jvm.pause.info-threshold.ms",
    "jvm.pause.warn-threshold.ms",
    "jvm.pause.sleep.time.ms",
    "jvm.pause.monitor",
    "metricsProvider.className",
    "multiAddress.enabled",
    "multiAddress.reachabilityCheckTimeoutMs",
    "multiAddress.reachabilityCheckEnabled",
    "oraclePath",
];

/// zoo.cfg keys that ZooKeeper code reads as `zookeeper.<key>` (no "unknown key" warning).
const PROPERTY_KEYS: &[&str] = &[
    "snapCount",
    "preAllocSize",
    "forceSync",
    "fsync.warningthresholdms",
    "digest.enabled",
    "closeSessionTxn.enabled",
    "skipACL",
    "extendedTypesEnabled",
    "emulate353TTLNodes",
    "4lw.commands.whitelist",
    "globalOutstandingLimit",
    "superUser",
    "enforceQuota",
    "maxCnxns",
    "snapSizeLimitInKb",
    "txnLogSizeLimitInKb",
    "datadir.autocreate",
    "db.autocreate",
    "serverCnxnFactory",
    "flushDelay",
    "maxBatchSize",
    "maxWriteQueuePollTime",
    "enableEagerACLCheck",
    "allowSaslFailedClients",
    "sessionRequireClientSASLAuth",
    "largeRequestMaxBytes",
    "largeRequestThreshold",
    "maxResponseCacheSize",
    "maxGetChildrenResponseCacheSize",
    "watchManagerName",
    "throttled_op_wait_time",
    "intBufferStartingSizeBytes",
    "serializeLastProcessedZxid.enabled",
    "leaderServes",
    "cnxTimeout",
    "audit.enable",
    "jute.maxbuffer.extrasize",
    "kinit",
    "electionPortBindRetry",
    "tcpKeepAlive",
];

/// Prefixes of property-style keys ZooKeeper reads as `zookeeper.<key>`.
const PROPERTY_PREFIXES: &[&str] = &[
    "admin.",
    "DigestAuthenticationProvider.",
    "X509AuthenticationProvider.",
    "ssl.",
    "nio.",
    "netty.",
    "authProvider.",
    "requestThrottle",
    "request_throttle",
    "connection_throttle",
    "learner.",
    "leader.",
    "follower.",
    "observer.",
    "enforce.auth.",
    "commitProcessor.",
    "messageTracker.",
    "fastleader.",
    "snapshot.",
    "watcher",
    "sasl.",
    "kerberos.",
    "digest.",
];

/// Properties ZooKeeper reads without the `zookeeper.` prefix: only `-D` can set them.
const PLAIN_PROPERTIES: &[&str] = &["jute.maxbuffer", "readonlymode.enabled", "znode.container."];

/// Where an effective system property came from.
#[derive(Debug, Clone)]
enum Origin {
    Flags,
    /// zoo.cfg line number and the key as written there.
    File(usize, String),
}

/// One `key=value` of a properties file with the line it starts on (1-based).
#[derive(Debug, Clone, PartialEq)]
struct Entry {
    key: String,
    value: String,
    line: usize,
}

/// Splits `text` like `java.util.Properties.load`: `#`/`!` comment lines, key ends at the
/// first unescaped `=`, `:` or blank, backslash continuation and escapes. Keys and values are
/// trimmed (ZooKeeper trims both); a repeated key keeps its last value, as in a Properties.
fn parse_properties(text: &str) -> Vec<Entry> {
    fn blank(c: char) -> bool {
        matches!(c, ' ' | '\t' | '\x0c')
    }
    fn continued(s: &str) -> bool {
        s.chars().rev().take_while(|&c| c == '\\').count() % 2 == 1
    }
    let lines: Vec<&str> = text.lines().collect();
    let mut out: Vec<Entry> = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line_no = i + 1;
        let mut cur = lines[i].trim_start_matches(blank);
        i += 1;
        if cur.is_empty() || cur.starts_with('#') || cur.starts_with('!') {
            continue;
        }
        let mut logical = String::new();
        while continued(cur) {
            logical.push_str(&cur[..cur.len() - 1]);
            if i >= lines.len() {
                cur = "";
                break;
            }
            cur = lines[i].trim_start_matches(blank);
            i += 1;
        }
        logical.push_str(cur);
        let chars: Vec<char> = logical.chars().collect();
        let (mut k, mut escaped) = (0, false);
        while k < chars.len() {
            let c = chars[k];
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '=' || c == ':' || blank(c) {
                break;
            }
            k += 1;
        }
        let mut v = k;
        while v < chars.len() && blank(chars[v]) {
            v += 1;
        }
        if v < chars.len() && (chars[v] == '=' || chars[v] == ':') {
            v += 1;
        }
        let key = unescape(&chars[..k]).trim().to_string();
        let value = unescape(&chars[v..]).trim().to_string();
        out.retain(|e| e.key != key);
        out.push(Entry {
            key,
            value,
            line: line_no,
        });
    }
    out
}

/// Java properties escapes: `\t \n \r \f \uXXXX`, any other `\c` is `c`.
fn unescape(chars: &[char]) -> String {
    let mut s = String::with_capacity(chars.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        if c != '\\' || i >= chars.len() {
            s.push(c);
            continue;
        }
        let e = chars[i];
        i += 1;
        match e {
            't' => s.push('\t'),
            'n' => s.push('\n'),
            'r' => s.push('\r'),
            'f' => s.push('\x0c'),
            'u' if i + 4 <= chars.len() => {
                let hex: String = chars[i..i + 4].iter().collect();
                match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                    Some(ch) => {
                        s.push(ch);
                        i += 4;
                    }
                    None => s.push('u'),
                }
            }
            other => s.push(other),
        }
    }
    s
}

/// The `-Dkey=value` system properties in a JVM flag string, in order (later wins).
/// Words split on blanks; single quotes, double quotes and backslash work as in a shell,
/// since operators write these strings for a shell. `-Dkey` alone sets `key` to "".
fn parse_jvm_flags(flags: &str) -> Vec<(String, String)> {
    let mut words: Vec<String> = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = flags.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if let Some(w) = word.take() {
                    words.push(w);
                }
            }
            '\'' => {
                let w = word.get_or_insert_with(String::new);
                for q in chars.by_ref() {
                    if q == '\'' {
                        break;
                    }
                    w.push(q);
                }
            }
            '"' => {
                let w = word.get_or_insert_with(String::new);
                while let Some(q) = chars.next() {
                    match q {
                        '"' => break,
                        '\\' => w.extend(chars.next()),
                        q => w.push(q),
                    }
                }
            }
            '\\' => word.get_or_insert_with(String::new).extend(chars.next()),
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    words
        .iter()
        .filter_map(|w| w.strip_prefix("-D"))
        .filter(|kv| !kv.is_empty() && !kv.starts_with('='))
        .map(|kv| match kv.split_once('=') {
            Some((k, v)) => (k.to_string(), v.to_string()),
            None => (kv.to_string(), String::new()),
        })
        .collect()
}

/// `Integer.decode`/`Long.decode`, which `Integer.getInteger` uses: optional sign, then
/// `0x`/`0X`/`#` hex, a leading `0` for octal, or decimal.
fn java_decode(s: &str) -> Option<i64> {
    let (neg, body) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let (digits, radix) =
        if let Some(h) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
            (h, 16)
        } else if let Some(h) = body.strip_prefix('#') {
            (h, 16)
        } else if body.len() > 1 && body.starts_with('0') {
            (&body[1..], 8)
        } else {
            (body, 10)
        };
    if digits.is_empty() || digits.starts_with(['+', '-']) {
        return None;
    }
    let v = i64::from_str_radix(digits, radix).ok()?;
    Some(if neg { -v } else { v })
}

/// Resolves a host name or address like `InetAddress.getByName` (first address wins).
fn resolve_host(host: &str) -> Result<IpAddr, String> {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = h.parse::<IpAddr>() {
        return Ok(ip);
    }
    match (h, 0).to_socket_addrs() {
        Ok(mut addrs) => addrs
            .next()
            .map(|a: SocketAddr| a.ip())
            .ok_or_else(|| format!("cannot resolve host {host:?}")),
        Err(e) => Err(format!("cannot resolve host {host:?}: {e}")),
    }
}

/// ZooKeeper's `ConfigUtils.getHostAndPort`: `[v6]:a:b` or `host:a:b` split on colons.
fn host_and_port(s: &str) -> Result<Vec<String>, String> {
    if let Some(rest) = s.strip_prefix('[') {
        let i = rest
            .find(']')
            .ok_or_else(|| format!("{s} starts with '[' but has no matching ']:'"))?;
        let after = &rest[i + 1..];
        let mut parts = vec![rest[..i].to_string()];
        match after.strip_prefix(':') {
            Some("") => return Err(format!("{s} doesn't have a port after colon")),
            Some(ports) => parts.extend(ports.split(':').map(String::from)),
            None if after.is_empty() => {}
            None => return Err(format!("{s}: expected ':' after ']'")),
        }
        Ok(parts)
    } else {
        Ok(s.split(':').map(String::from).collect())
    }
}

/// Parses a port as `Integer.parseInt` + `InetSocketAddress` would accept it.
fn port_number(s: &str) -> Result<u16, String> {
    s.parse::<i64>()
        .ok()
        .and_then(|p| u16::try_from(p).ok())
        .ok_or_else(|| format!("{s:?} is not a valid port number"))
}

/// Parses the value of `server.<id>`:
/// `host:peerPort:electionPort[:participant|observer][;[clientHost:]clientPort]`, with
/// `|`-joined alternatives only under `zookeeper.multiAddress.enabled` (first one is kept).
fn parse_server(id: i64, value: &str, multi_address: bool) -> Result<QuorumServer, String> {
    let wrong = || {
        format!(
            "{value:?} does not have the form host:peerPort:electionPort[:participant|observer]\
             [;[clientHost:]clientPort]"
        )
    };
    let mut parts: Vec<&str> = value.split(';').collect();
    while parts.len() > 1 && parts.last() == Some(&"") {
        parts.pop(); // Java's split drops trailing empty strings
    }
    if parts.len() > 2 {
        return Err(wrong());
    }
    let client_addr = match parts.get(1) {
        None => None,
        Some(c) => {
            let cp = host_and_port(c.trim())?;
            if cp.len() > 2 {
                return Err(wrong());
            }
            let host = if cp.len() == 2 {
                cp[0].clone()
            } else {
                "0.0.0.0".to_string()
            };
            Some((host, port_number(cp[cp.len() - 1].trim())?))
        }
    };
    let addresses: Vec<&str> = parts[0].split('|').collect();
    if addresses.len() > 1 && !multi_address {
        return Err(format!(
            "several addresses for server {id} need -Dzookeeper.multiAddress.enabled=true"
        ));
    }
    let mut first: Option<QuorumServer> = None;
    for addr in addresses {
        let sp = host_and_port(addr.trim())?;
        if sp.len() < 3 || sp.len() > 4 {
            return Err(wrong());
        }
        let peer_port = port_number(sp[1].trim())?;
        let election_port = port_number(sp[2].trim())?;
        if peer_port == election_port {
            return Err(format!(
                "peer and election port must be different ({peer_port})"
            ));
        }
        let observer = match sp.get(3).map(|t| t.trim().to_ascii_lowercase()) {
            None => first.as_ref().is_some_and(|f| f.observer),
            Some(t) if t == "observer" => true,
            Some(t) if t == "participant" => false,
            Some(t) => return Err(format!("unrecognised peer type {t:?}")),
        };
        if let Some(f) = &first {
            if f.observer != observer {
                return Err("multiple addresses should have the same role".to_string());
            }
        } else {
            first = Some(QuorumServer {
                id,
                host: sp[0].clone(),
                peer_port,
                election_port,
                observer,
                client_addr: client_addr.clone(),
            });
        }
    }
    first.ok_or_else(wrong)
}

/// Accumulates the result of one parse: the file name for messages, the config being built
/// and the effective system properties with their origin.
struct Parser {
    name: String,
    cfg: Config,
    sys: BTreeMap<String, (String, Origin)>,
}

impl Parser {
    fn err(&self, line: Option<usize>, key: &str, reason: impl Into<String>) -> ConfigError {
        ConfigError {
            location: match line {
                Some(l) => format!("{}:{}", self.name, l),
                None => self.name.clone(),
            },
            key: Some(key.to_string()),
            reason: reason.into(),
        }
    }

    fn entry_err(&self, e: &Entry, reason: impl Into<String>) -> ConfigError {
        self.err(Some(e.line), &e.key, reason)
    }

    /// `Integer.parseInt`, as QuorumPeerConfig does for its own keys.
    fn int(&self, e: &Entry) -> Result<i32, ConfigError> {
        e.value
            .parse::<i32>()
            .map_err(|_| self.entry_err(e, format!("{:?} is not a valid integer", e.value)))
    }

    fn non_negative(&self, e: &Entry) -> Result<u32, ConfigError> {
        let v = self.int(e)?;
        u32::try_from(v).map_err(|_| self.entry_err(e, format!("{v} must not be negative")))
    }

    fn port(&self, e: &Entry) -> Result<u16, ConfigError> {
        port_number(&e.value).map_err(|r| self.entry_err(e, r))
    }

    /// QuorumPeerConfig.parseBoolean: `true`/`false` in any case, anything else fails.
    fn boolean(&self, e: &Entry) -> Result<bool, ConfigError> {
        match e.value.to_ascii_lowercase().as_str() {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err(self.entry_err(
                e,
                format!("{:?} is not valid, choose true or false", e.value),
            )),
        }
    }

    fn prop(&self, name: &str) -> Option<&str> {
        self.sys.get(name).map(|(v, _)| v.as_str())
    }

    /// A bad property value: an error when it was written in zoo.cfg, a warning (and the
    /// default, as `Integer.getInteger` does) when it came from a `-D` flag.
    fn bad_prop(&mut self, name: &str, reason: String) -> Result<(), ConfigError> {
        match self.sys.get(name).map(|(_, o)| o.clone()) {
            Some(Origin::File(line, key)) => Err(self.err(Some(line), &key, reason)),
            _ => {
                self.cfg.warnings.push(format!(
                    "{FLAGS_SOURCE}: -D{name}: {reason}; using the default"
                ));
                Ok(())
            }
        }
    }

    /// A numeric property as `Integer.getInteger`/`Long.getLong` reads it, range-checked
    /// into `T`.
    fn num<T: TryFrom<i64>>(&mut self, name: &str) -> Result<Option<T>, ConfigError> {
        let Some(raw) = self.prop(name).map(str::to_string) else {
            return Ok(None);
        };
        match java_decode(&raw).and_then(|v| T::try_from(v).ok()) {
            Some(v) => Ok(Some(v)),
            None => {
                let reason = match java_decode(&raw) {
                    Some(_) => format!("{raw:?} is out of range"),
                    None => format!("{raw:?} is not a valid number"),
                };
                self.bad_prop(name, reason)?;
                Ok(None)
            }
        }
    }

    /// A boolean property read as `Boolean.parseBoolean` (only `true`, any case, is true).
    /// A value that is neither true nor false is taken as false, with a warning.
    fn java_bool(&mut self, name: &str) -> Option<bool> {
        let raw = self.prop(name)?.to_string();
        let v = raw.eq_ignore_ascii_case("true");
        if !v && !raw.eq_ignore_ascii_case("false") {
            self.cfg.warnings.push(format!(
                "{name}={raw:?} is not true or false; taken as false, as ZooKeeper does"
            ));
        }
        Some(v)
    }

    /// Warning for a zoo.cfg key that is neither handled by ZooKeeper's parser nor read as a
    /// `zookeeper.<key>` property anywhere in ZooKeeper.
    fn check_property_key(&mut self, e: &Entry) {
        let line = format!("{}:{}", self.name, e.line);
        if PLAIN_PROPERTIES.iter().any(|p| e.key.starts_with(p)) {
            self.cfg.warnings.push(format!(
                "{line}: {}: has no effect: ZooKeeper turns it into zookeeper.{} but reads only \
                 the JVM property; pass -D{}={} in SERVER_JVMFLAGS instead",
                e.key, e.key, e.key, e.value
            ));
        } else if let Some(rest) = e.key.strip_prefix("zookeeper.") {
            self.cfg.warnings.push(format!(
                "{line}: {}: has no effect: in zoo.cfg keys get the zookeeper. prefix added \
                 (zookeeper.{}); write {rest}",
                e.key, e.key
            ));
        } else if !PROPERTY_KEYS.contains(&e.key.as_str())
            && !PROPERTY_PREFIXES.iter().any(|p| e.key.starts_with(p))
        {
            self.cfg
                .warnings
                .push(format!("{line}: unknown key {:?} ignored", e.key));
        }
    }
}

impl Config {
    /// Reads a zoo.cfg-style file and the `-D` properties in `env_flags` (see [`parse`]).
    /// Non-UTF-8 files are read as ISO-8859-1, which is what Java's `Properties.load` uses.
    ///
    /// [`parse`]: Config::parse
    pub fn load(path: &Path, env_flags: &str) -> Result<Config, ConfigError> {
        let bytes = std::fs::read(path).map_err(|e| ConfigError {
            location: path.display().to_string(),
            key: None,
            reason: format!("cannot read configuration file: {e}"),
        })?;
        let text = match String::from_utf8(bytes) {
            Ok(s) => s,
            Err(e) => e.into_bytes().iter().map(|&b| b as char).collect(),
        };
        Config::parse(&text, Some(path), env_flags)
    }

    /// Builds the configuration from zoo.cfg text the way ZooKeeper 3.8's QuorumPeerConfig
    /// does, plus the `-Dkey=value` system properties in `env_flags` (the concatenated
    /// `SERVER_JVMFLAGS` and `JVMFLAGS`). `source` names the file in messages and is where
    /// relative paths such as `dataDir` are *not* resolved against (ZooKeeper uses the
    /// working directory). Also reads `<dataDir>/myid` and a `dynamicConfigFile`.
    pub fn parse(
        text: &str,
        source: Option<&Path>,
        env_flags: &str,
    ) -> Result<Config, ConfigError> {
        build(parse_properties(text), source, env_flags, false)
    }

    /// The embedded default (standalone, 127.0.0.1:2181, `./data`) with the system
    /// properties of `env_flags` applied, for running without a zoo.cfg.
    pub fn from_env_default(env_flags: &str) -> Result<Config, ConfigError> {
        build(Vec::new(), None, env_flags, true)
    }

    /// Whether this configuration runs a quorum rather than a standalone server: more than
    /// one voting server, or `standaloneEnabled=false` (ZooKeeper's `isDistributed`).
    pub fn is_distributed(&self) -> bool {
        let voting = self.servers.iter().filter(|s| !s.observer).count();
        !self.servers.is_empty() && (!self.standalone_enabled || voting > 1)
    }
}

/// `"$SERVER_JVMFLAGS $JVMFLAGS"`, the flags zkServer.sh hands the server JVM.
pub fn jvm_flags_from_env() -> String {
    let get = |k: &str| {
        std::env::var_os(k)
            .map(|v| v.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    format!("{} {}", get("SERVER_JVMFLAGS"), get("JVMFLAGS"))
}

/// The whole pipeline behind [`Config::parse`] and [`Config::from_env_default`].
fn build(
    entries: Vec<Entry>,
    source: Option<&Path>,
    env_flags: &str,
    embedded: bool,
) -> Result<Config, ConfigError> {
    let mut p = Parser {
        name: source.map_or_else(|| "<config>".to_string(), |s| s.display().to_string()),
        cfg: Config {
            source: source.map(Path::to_path_buf),
            ..Config::default()
        },
        sys: BTreeMap::new(),
    };
    for (k, v) in parse_jvm_flags(env_flags) {
        p.sys.insert(k, (v, Origin::Flags));
    }
    if !embedded {
        // ZooKeeper's own defaults where they differ from the embedded one.
        p.cfg.tick_time_ms = 3000;
        p.cfg.client_port_address = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
        p.cfg.admin_server_address = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
    }

    let has_dynamic = entries.iter().any(|e| e.key == "dynamicConfigFile");
    let mut data_dir: Option<PathBuf> = None;
    let mut data_log_dir: Option<PathBuf> = None;
    let mut client_port: Option<&Entry> = None;
    let mut client_port_address: Option<&Entry> = None;
    let (mut min_st, mut max_st, mut init_limit, mut sync_limit) = (-1i64, -1i64, 0u32, 0u32);
    let mut peer_type_observer = false;
    let mut server_entries: Vec<&Entry> = Vec::new();
    let mut metrics_class: Option<String> = None;
    let mut metrics_port: Option<u16> = None;

    for e in &entries {
        p.cfg.properties.insert(e.key.clone(), e.value.clone());
        let k = e.key.as_str();
        let is_membership =
            k.starts_with("server.") || k.starts_with("group") || k.starts_with("weight");
        if is_membership && has_dynamic {
            return Err(p.entry_err(e, "must be in the separate dynamic config file"));
        }
        match k {
            "dataDir" => data_dir = Some(PathBuf::from(&e.value)),
            "dataLogDir" => data_log_dir = Some(PathBuf::from(&e.value)),
            "clientPort" => {
                p.port(e)?;
                client_port = Some(e);
            }
            "clientPortAddress" => client_port_address = Some(e),
            "tickTime" => {
                p.cfg.tick_time_ms = p.non_negative(e)?;
                if p.cfg.tick_time_ms == 0 {
                    return Err(p.entry_err(e, "tickTime is not set (0)"));
                }
            }
            // ZooKeeper: a negative cap never triggers, i.e. unlimited.
            "maxClientCnxns" => p.cfg.max_client_cnxns = p.int(e)?.max(0) as u32,
            "minSessionTimeout" | "maxSessionTimeout" => {
                let v = p.int(e)?;
                if v < -1 {
                    return Err(p.entry_err(e, format!("{v} must not be negative")));
                }
                *(if k == "minSessionTimeout" {
                    &mut min_st
                } else {
                    &mut max_st
                }) = v as i64;
            }
            "initLimit" => init_limit = p.non_negative(e)?,
            "syncLimit" => sync_limit = p.non_negative(e)?,
            "electionAlg" => {
                if p.int(e)? != 3 {
                    return Err(p.entry_err(e, "invalid electionAlg value, only 3 is supported"));
                }
            }
            "peerType" => {
                peer_type_observer = match e.value.to_ascii_lowercase().as_str() {
                    "observer" => true,
                    "participant" => false,
                    _ => {
                        return Err(p.entry_err(e, format!("unrecognised peer type {:?}", e.value)))
                    }
                }
            }
            "localSessionsEnabled" => p.cfg.local_sessions_enabled = p.boolean(e)?,
            "localSessionsUpgradingEnabled" => {
                p.cfg.local_sessions_upgrading_enabled = p.boolean(e)?
            }
            "quorumListenOnAllIPs" => p.cfg.quorum_listen_on_all_ips = p.boolean(e)?,
            "syncEnabled" => p.cfg.sync_enabled = p.boolean(e)?,
            "standaloneEnabled" => p.cfg.standalone_enabled = p.boolean(e)?,
            "reconfigEnabled" => p.cfg.reconfig_enabled = p.boolean(e)?,
            "dynamicConfigFile" => p.cfg.dynamic_config_file = Some(PathBuf::from(&e.value)),
            "clientPortListenBacklog" => p.cfg.client_port_listen_backlog = p.int(e)?,
            "autopurge.snapRetainCount" => {
                let v = p.int(e)?;
                if v < 3 {
                    p.cfg.warnings.push(format!(
                        "{}:{}: invalid autopurge.snapRetainCount {v}, using 3",
                        p.name, e.line
                    ));
                }
                p.cfg.autopurge_snap_retain_count = v.max(3) as u32;
            }
            // ZooKeeper: purging runs only when the interval is > 0.
            "autopurge.purgeInterval" => {
                p.cfg.autopurge_purge_interval_hours = p.int(e)?.max(0) as u32
            }
            "secureClientPort"
            | "observerMasterPort"
            | "connectToLearnerMasterLimit"
            | "quorum.cnxn.threads.size"
            | "multiAddress.reachabilityCheckTimeoutMs" => {
                let v = p.int(e)?;
                if k == "secureClientPort" && v != 0 {
                    p.cfg.warnings.push(format!(
                        "{}:{}: secureClientPort (TLS) is not supported by rzk; ignored",
                        p.name, e.line
                    ));
                }
            }
            "jvm.pause.info-threshold.ms"
            | "jvm.pause.warn-threshold.ms"
            | "jvm.pause.sleep.time.ms" => {
                e.value
                    .parse::<i64>()
                    .map_err(|_| p.entry_err(e, format!("{:?} is not a valid integer", e.value)))?;
            }
            "sslQuorum"
            | "portUnification"
            | "sslQuorumReloadCertFiles"
            | "quorum.auth.enableSasl"
            | "quorum.auth.serverRequireSasl"
            | "quorum.auth.learnerRequireSasl"
            | "jvm.pause.monitor"
            | "multiAddress.enabled"
            | "multiAddress.reachabilityCheckEnabled" => {
                if p.boolean(e)? && k != "jvm.pause.monitor" && !k.starts_with("multiAddress.") {
                    p.cfg.warnings.push(format!(
                        "{}:{}: {k}=true is not supported by rzk; ignored",
                        p.name, e.line
                    ));
                }
            }
            "metricsProvider.className" => metrics_class = Some(e.value.clone()),
            "metricsProvider.httpPort" => metrics_port = Some(p.port(e)?),
            "version" => {
                p.cfg.config_version = u64::from_str_radix(&e.value, 16)
                    .map_err(|_| p.entry_err(e, format!("{:?} is not a hex version", e.value)))?;
            }
            _ if NATIVE_KEYS.contains(&k) || k.starts_with("metricsProvider.") => {}
            _ if is_membership => server_entries.push(e),
            _ => {
                p.sys.insert(
                    format!("zookeeper.{k}"),
                    (e.value.clone(), Origin::File(e.line, e.key.clone())),
                );
                p.check_property_key(e);
            }
        }
    }

    // Directories.
    match data_dir {
        Some(d) => {
            if d.is_relative() && !d.starts_with(".") {
                p.cfg.warnings.push(format!(
                    "dataDir {} is relative to the working directory; prefix ./ to say you mean it",
                    d.display()
                ));
            }
            p.cfg.data_log_dir = data_log_dir.unwrap_or_else(|| d.clone());
            p.cfg.data_dir = d;
        }
        None if embedded => {}
        None => {
            return Err(ConfigError {
                location: p.name.clone(),
                key: Some("dataDir".into()),
                reason: "dataDir is not set".into(),
            })
        }
    }

    // Session timeouts default from tickTime, checked as ZooKeeper does.
    let tick = p.cfg.tick_time_ms as i64;
    let min = if min_st == -1 { 2 * tick } else { min_st };
    let max = if max_st == -1 { 20 * tick } else { max_st };
    if min > max {
        let line = entries
            .iter()
            .find(|e| e.key == "minSessionTimeout")
            .map(|e| e.line);
        return Err(p.err(
            line,
            "minSessionTimeout",
            format!("minSessionTimeout ({min}) must not be larger than maxSessionTimeout ({max})"),
        ));
    }
    p.cfg.min_session_timeout_ms = u32::try_from(min).unwrap_or(u32::MAX);
    p.cfg.max_session_timeout_ms = u32::try_from(max).unwrap_or(u32::MAX);

    // Metrics: the Prometheus provider (default port 7000), or just an httpPort.
    match metrics_class.as_deref() {
        Some(c) if c.ends_with("PrometheusMetricsProvider") => {
            p.cfg.metrics_port = Some(metrics_port.unwrap_or(7000))
        }
        Some(c) if !c.ends_with("DefaultMetricsProvider") => p.cfg.warnings.push(format!(
            "metricsProvider.className {c} is not supported by rzk; no metrics endpoint"
        )),
        _ => p.cfg.metrics_port = metrics_port,
    }

    // Membership: static server.N lines or the dynamic file.
    let multi_address = p
        .prop("zookeeper.multiAddress.enabled")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    if let Some(dyn_path) = p.cfg.dynamic_config_file.clone() {
        let text = std::fs::read_to_string(&dyn_path).map_err(|e| {
            p.err(
                None,
                "dynamicConfigFile",
                format!("cannot read {}: {e}", dyn_path.display()),
            )
        })?;
        let dyn_name = dyn_path.display().to_string();
        for e in parse_properties(&text) {
            let at = |reason: String| ConfigError {
                location: format!("{dyn_name}:{}", e.line),
                key: Some(e.key.clone()),
                reason,
            };
            if e.key == "version" {
                return Err(at("the dynamic file must not contain a version".into()));
            } else if let Some(id) = e.key.strip_prefix("server.") {
                let id = id
                    .parse::<i64>()
                    .map_err(|_| at(format!("{id:?} is not a server id")))?;
                p.cfg
                    .servers
                    .push(parse_server(id, &e.value, multi_address).map_err(at)?);
            } else if !e.key.starts_with("group") && !e.key.starts_with("weight") {
                return Err(at("unrecognised parameter in a dynamic config file".into()));
            }
        }
        let file_name = dyn_path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        if let Some((_, suffix)) = file_name.rsplit_once('.') {
            if let Ok(v) = u64::from_str_radix(suffix, 16) {
                p.cfg.config_version = v;
            }
        }
    } else {
        for e in server_entries
            .iter()
            .filter(|e| e.key.starts_with("server."))
        {
            let id = &e.key["server.".len()..];
            let id = id
                .parse::<i64>()
                .map_err(|_| p.entry_err(e, format!("{id:?} is not a server id")))?;
            let server =
                parse_server(id, &e.value, multi_address).map_err(|r| p.entry_err(e, r))?;
            p.cfg.servers.push(server);
        }
    }
    p.cfg.servers.sort_by_key(|s| s.id);
    if entries
        .iter()
        .any(|e| e.key.starts_with("group") || e.key.starts_with("weight"))
    {
        p.cfg
            .warnings
            .push("hierarchical quorums (group.N/weight.N) are not supported by rzk yet".into());
    }
    let voting = p.cfg.servers.iter().filter(|s| !s.observer).count();
    let observers = p.cfg.servers.len() - voting;
    if voting == 0 {
        if !p.cfg.standalone_enabled {
            return Err(file_err(
                &p.name,
                "standaloneEnabled=false needs at least one participant server.N",
            ));
        }
        if observers > 0 {
            return Err(file_err(
                &p.name,
                "observers without participants is an invalid configuration",
            ));
        }
    } else if voting == 1 && p.cfg.standalone_enabled {
        if observers > 0 {
            return Err(file_err(
                &p.name,
                "observers without a quorum is an invalid configuration",
            ));
        }
        p.cfg
            .warnings
            .push("only one server specified: running standalone".into());
    } else if voting <= 2 {
        p.cfg
            .warnings
            .push("no server failure will be tolerated: you need at least 3 servers".into());
    } else if voting % 2 == 0 {
        p.cfg
            .warnings
            .push("non-optimal configuration: consider an odd number of servers".into());
    }

    // myid, then this server's client address and role from its server.N line.
    let myid_path = p.cfg.data_dir.join("myid");
    if myid_path.is_file() {
        let text = std::fs::read_to_string(&myid_path).map_err(|e| ConfigError {
            location: myid_path.display().to_string(),
            key: None,
            reason: format!("cannot read: {e}"),
        })?;
        let first = text.lines().next().unwrap_or("").trim();
        let id = first.parse::<i64>().map_err(|_| ConfigError {
            location: myid_path.display().to_string(),
            key: None,
            reason: format!("server id {first:?} is not a number"),
        })?;
        p.cfg.myid = Some(id);
    }
    let static_port = match client_port {
        Some(e) if p.port(e)? != 0 => Some(p.port(e)?),
        _ => None,
    };
    let mut client_addr: Option<(IpAddr, u16)> = None;
    if let Some(port) = static_port {
        let ip = match client_port_address {
            Some(e) => resolve_host(&e.value).map_err(|r| p.entry_err(e, r))?,
            None => p.cfg.client_port_address,
        };
        client_addr = Some((ip, port));
    } else if let Some(e) = client_port_address {
        return Err(p.entry_err(e, "clientPortAddress is set but clientPort is not set"));
    }
    let me = p
        .cfg
        .myid
        .and_then(|id| p.cfg.servers.iter().find(|s| s.id == id))
        .cloned();
    if let Some((host, port)) = me.as_ref().and_then(|s| s.client_addr.clone()) {
        let ip = resolve_host(&host)
            .map_err(|r| p.err(None, &format!("server.{}", me.as_ref().unwrap().id), r))?;
        if let Some((sip, sport)) = client_addr {
            if (!sip.is_unspecified() && (sip, sport) != (ip, port))
                || (sip.is_unspecified() && sport != port)
            {
                return Err(p.err(
                    None,
                    "clientPort",
                    format!(
                        "client address {sip}:{sport} differs from the one in server.{}: {host}:{port}",
                        p.cfg.myid.unwrap_or_default()
                    ),
                ));
            }
        }
        client_addr = Some((ip, port));
    }
    p.cfg.observer = me.as_ref().is_some_and(|s| s.observer);
    if p.cfg.observer != peer_type_observer {
        p.cfg.warnings.push(format!(
            "peerType ({}) does not match the servers list; using the servers list",
            if peer_type_observer {
                "observer"
            } else {
                "participant"
            }
        ));
    }
    if p.cfg.is_distributed() {
        let Some(id) = p.cfg.myid else {
            return Err(file_err(
                &p.name,
                format!("myid file is missing ({})", myid_path.display()),
            ));
        };
        if init_limit == 0 {
            return Err(file_err(&p.name, "initLimit is not set"));
        }
        if sync_limit == 0 {
            return Err(file_err(&p.name, "syncLimit is not set"));
        }
        p.cfg.server_id = id;
    } else {
        // ZooKeeperServer's standalone session tracker always uses server id 1.
        p.cfg.server_id = 1;
    }
    match client_addr {
        Some((ip, port)) => {
            p.cfg.client_port_address = ip;
            p.cfg.client_port = port;
        }
        None if embedded => {}
        None => {
            return Err(ConfigError {
                location: p.name.clone(),
                key: Some("clientPort".into()),
                reason: "clientPort is not set (nor a client port in this server's server.N line)"
                    .into(),
            })
        }
    }
    if init_limit != 0 {
        p.cfg.init_limit = init_limit;
    }
    if sync_limit != 0 {
        p.cfg.sync_limit = sync_limit;
    }

    apply_system_properties(&mut p)?;
    p.cfg.system_properties = p
        .sys
        .iter()
        .map(|(k, (v, _))| (k.clone(), v.clone()))
        .collect();
    Ok(p.cfg)
}

/// An error about the file as a whole (no single key or line to blame).
fn file_err(name: &str, reason: impl Into<String>) -> ConfigError {
    ConfigError {
        location: name.to_string(),
        key: None,
        reason: reason.into(),
    }
}

/// Reads the modelled system properties with the parsing rule of the ZooKeeper code that
/// reads each one.
fn apply_system_properties(p: &mut Parser) -> Result<(), ConfigError> {
    if let Some(v) = p.num::<u32>("zookeeper.globalOutstandingLimit")? {
        p.cfg.global_outstanding_limit = v;
    }
    if let Some(v) = p.num::<i64>("zookeeper.snapCount")? {
        if v < 2 {
            p.cfg
                .warnings
                .push("snapCount should be 2 or more; using 2".into());
        }
        p.cfg.snap_count = v.max(2) as u64;
    }
    // FilePadding: Long.parseLong, in KB.
    if let Some(raw) = p.prop("zookeeper.preAllocSize").map(str::to_string) {
        match raw.parse::<u64>() {
            Ok(v) => p.cfg.pre_alloc_size_kb = v,
            Err(_) => p.bad_prop(
                "zookeeper.preAllocSize",
                format!("{raw:?} is not a valid size in KB"),
            )?,
        }
    }
    // FileTxnLog: anything but "no" syncs.
    if let Some(v) = p.prop("zookeeper.forceSync") {
        p.cfg.force_sync = v != "no";
    }
    // FileTxnLog reads zookeeper.fsync.warningthresholdms first, then the plain name.
    let zk_fsync = p.num::<u64>("zookeeper.fsync.warningthresholdms")?;
    match zk_fsync {
        Some(v) => p.cfg.fsync_warning_threshold_ms = v,
        None => {
            if let Some(v) = p.num::<u64>("fsync.warningthresholdms")? {
                p.cfg.fsync_warning_threshold_ms = v;
            }
        }
    }
    if let Some(v) = p.java_bool("zookeeper.digest.enabled") {
        p.cfg.digest_enabled = v;
    }
    if let Some(v) = p.java_bool("zookeeper.closeSessionTxn.enabled") {
        p.cfg.close_session_txn_enabled = v;
    }
    if let Some(v) = p.java_bool("zookeeper.extendedTypesEnabled") {
        p.cfg.extended_types_enabled = v;
    }
    if let Some(v) = p.java_bool("zookeeper.datadir.autocreate") {
        p.cfg.datadir_autocreate = v;
    }
    // ZooKeeperServer: ACLs are skipped only for exactly "yes".
    if let Some(v) = p.prop("zookeeper.skipACL").map(str::to_string) {
        p.cfg.skip_acl = v == "yes";
        if v != "yes" && v != "no" {
            p.cfg.warnings.push(format!(
                "skipACL={v:?} is not \"yes\": ACLs stay enforced, as in ZooKeeper"
            ));
        }
    }
    // AdminServerFactory: enabled unless exactly "false" (rzk keeps it off when unset).
    if let Some(v) = p.prop("zookeeper.admin.enableServer") {
        p.cfg.admin_enable_server = v != "false";
    }
    if let Some(v) = p.prop("zookeeper.admin.serverAddress").map(str::to_string) {
        match resolve_host(&v) {
            Ok(ip) => p.cfg.admin_server_address = ip,
            Err(r) => p.bad_prop("zookeeper.admin.serverAddress", r)?,
        }
    }
    if let Some(v) = p.num::<u16>("zookeeper.admin.serverPort")? {
        p.cfg.admin_server_port = v;
    }
    p.cfg.super_digest = p
        .prop("zookeeper.DigestAuthenticationProvider.superDigest")
        .map(str::to_string);
    if let Some(v) = p.num::<usize>("jute.maxbuffer")? {
        p.cfg.jute_max_buffer = v;
    }
    p.cfg.read_only_mode_enabled = p.java_bool("readonlymode.enabled").unwrap_or(false);
    if let Some(v) = p.num::<u64>("znode.container.checkIntervalMs")? {
        p.cfg.container_check_interval_ms = v;
    }
    if let Some(v) = p.num::<u32>("znode.container.maxPerMinute")? {
        p.cfg.container_max_per_minute = v;
    }
    if let Some(v) = p.num::<u64>("znode.container.maxNeverUsedIntervalMs")? {
        p.cfg.container_max_never_used_interval_ms = v;
    }
    if let Some(v) = p.num::<u64>("zookeeper.nio.sessionlessCnxnTimeout")? {
        p.cfg.sessionless_cnxn_timeout = std::time::Duration::from_millis(v);
    }
    if let Some(v) = p.java_bool("rzk.snapshot.fork") {
        p.cfg.snapshot_fork = v;
    }
    if let Some(v) = p.num::<u64>("rzk.snapshot.forkMinBytes")? {
        p.cfg.snapshot_fork_min_bytes = v;
    }
    if let Some(v) = p.java_bool("rzk.log.inlineSync") {
        p.cfg.log_inline_sync = v;
    }
    if let Some(v) = p.java_bool("rzk.log.directIO") {
        p.cfg.log_direct_io = v;
    }
    if let Some(v) = p.java_bool("rzk.snapshot.directIO") {
        p.cfg.snapshot_direct_io = v;
    }
    if let Some(v) = p.java_bool("rzk.thpWhileServing") {
        p.cfg.thp_while_serving = v;
    }
    if let Some(v) = p.num::<usize>("rzk.workerThreads")? {
        if v == 0 {
            p.bad_prop("rzk.workerThreads", "must be at least 1".into())?;
        } else {
            p.cfg.worker_threads = Some(v);
        }
    }
    // FourLetterCommands: the list, `*` = all; srvr always; isro iff exactly "true".
    let mut list: Vec<String> = Vec::new();
    if let Some(v) = p.prop("zookeeper.4lw.commands.whitelist") {
        for cmd in v.split(',').map(str::trim).filter(|c| !c.is_empty()) {
            if cmd == "*" {
                list = vec!["*".into()];
                break;
            }
            if !list.iter().any(|c| c == cmd) {
                list.push(cmd.to_string());
            }
        }
    }
    for always in ["srvr", "isro"] {
        let wanted = always == "srvr" || p.prop("readonlymode.enabled") == Some("true");
        if wanted && !list.iter().any(|c| c == always || c == "*") {
            list.push(always.into());
        }
    }
    p.cfg.four_letter_whitelist = list;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh empty directory under the system temp dir.
    fn temp_dir(tag: &str) -> PathBuf {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let d = std::env::temp_dir().join(format!(
            "rzk-config-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn cfg(text: &str) -> Config {
        Config::parse(text, Some(Path::new("zoo.cfg")), "").unwrap()
    }

    fn cfg_err(text: &str) -> String {
        Config::parse(text, Some(Path::new("zoo.cfg")), "")
            .unwrap_err()
            .to_string()
    }

    const BASE: &str = "dataDir=/nonexistent/rzk\nclientPort=2181\n";

    #[test]
    fn embedded_default() {
        let c = Config::from_env_default("").unwrap();
        assert_eq!(c.tick_time_ms, 2000);
        assert_eq!(c.client_port, 2181);
        assert_eq!(c.client_port_address, IpAddr::V4(Ipv4Addr::LOCALHOST));
        assert_eq!(c.data_dir, PathBuf::from("data"));
        assert_eq!(
            (c.min_session_timeout_ms, c.max_session_timeout_ms),
            (4000, 40000)
        );
        assert_eq!(c.four_letter_whitelist, vec!["srvr"]);
        assert_eq!(c.server_id, 1);
        assert!(!c.is_distributed());
        assert!(c.warnings.is_empty());
        let c = Config::from_env_default("-Dzookeeper.4lw.commands.whitelist=ruok -Xmx1g").unwrap();
        assert!(c.four_letter_enabled("ruok") && c.four_letter_enabled("srvr"));
        assert!(!c.four_letter_enabled("stat"));
    }

    #[test]
    fn zookeeper_defaults_for_a_minimal_file() {
        let c = cfg(BASE);
        assert_eq!(c.source, Some(PathBuf::from("zoo.cfg")));
        assert_eq!(c.tick_time_ms, 3000);
        assert_eq!(
            (c.min_session_timeout_ms, c.max_session_timeout_ms),
            (6000, 60000)
        );
        assert_eq!(c.data_log_dir, PathBuf::from("/nonexistent/rzk"));
        assert_eq!(c.client_port_address, IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        assert_eq!(c.max_client_cnxns, 60);
        assert_eq!(c.server_id, 1);
        assert_eq!(c.myid, None);
        assert_eq!(
            c.properties.get("clientPort").map(String::as_str),
            Some("2181")
        );
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    }

    #[test]
    fn every_modelled_key() {
        let c = cfg(concat!(
            "tickTime=1000\ndataDir=./d\ndataLogDir=./l\nclientPort=2190\n",
            "clientPortAddress=127.0.0.1\nmaxClientCnxns=5\nminSessionTimeout=1500\n",
            "maxSessionTimeout=9000\nglobalOutstandingLimit=7\n4lw.commands.whitelist=ruok, stat ,\n",
            "extendedTypesEnabled=true\nsnapCount=500\npreAllocSize=1024\nforceSync=no\n",
            "fsync.warningthresholdms=50\ndigest.enabled=false\ncloseSessionTxn.enabled=false\n",
            "skipACL=yes\nadmin.enableServer=true\nadmin.serverAddress=127.0.0.2\n",
            "admin.serverPort=9090\nmetricsProvider.httpPort=7001\ninitLimit=4\nsyncLimit=3\n",
            "autopurge.snapRetainCount=5\nautopurge.purgeInterval=2\nlocalSessionsEnabled=true\n",
            "localSessionsUpgradingEnabled=TRUE\nreconfigEnabled=true\nclientPortListenBacklog=50\n",
            "DigestAuthenticationProvider.superDigest=super:abc=\nelectionAlg=3\nsyncEnabled=false\n",
            "quorumListenOnAllIPs=true\ndatadir.autocreate=false\n",
        ));
        assert_eq!(c.tick_time_ms, 1000);
        assert_eq!(c.data_dir, PathBuf::from("./d"));
        assert_eq!(c.data_log_dir, PathBuf::from("./l"));
        assert_eq!(c.client_port, 2190);
        assert_eq!(c.client_port_address, IpAddr::V4(Ipv4Addr::LOCALHOST));
        assert_eq!(c.max_client_cnxns, 5);
        assert_eq!(
            (c.min_session_timeout_ms, c.max_session_timeout_ms),
            (1500, 9000)
        );
        assert_eq!(c.global_outstanding_limit, 7);
        assert_eq!(c.four_letter_whitelist, vec!["ruok", "stat", "srvr"]);
        assert!(c.extended_types_enabled);
        assert_eq!((c.snap_count, c.pre_alloc_size_kb), (500, 1024));
        assert!(!c.force_sync);
        assert_eq!(c.fsync_warning_threshold_ms, 50);
        assert!(!c.digest_enabled && !c.close_session_txn_enabled);
        assert!(c.skip_acl);
        assert!(c.admin_enable_server);
        assert_eq!(
            c.admin_server_address,
            "127.0.0.2".parse::<IpAddr>().unwrap()
        );
        assert_eq!(c.admin_server_port, 9090);
        assert_eq!(c.metrics_port, Some(7001));
        assert_eq!((c.init_limit, c.sync_limit), (4, 3));
        assert_eq!(
            (
                c.autopurge_snap_retain_count,
                c.autopurge_purge_interval_hours
            ),
            (5, 2)
        );
        assert!(c.local_sessions_enabled && c.local_sessions_upgrading_enabled);
        assert!(c.reconfig_enabled);
        assert_eq!(c.client_port_listen_backlog, 50);
        assert_eq!(c.super_digest.as_deref(), Some("super:abc="));
        assert!(!c.sync_enabled && c.quorum_listen_on_all_ips && !c.datadir_autocreate);
        assert_eq!(
            c.system_properties
                .get("zookeeper.snapCount")
                .map(String::as_str),
            Some("500")
        );
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    }

    #[test]
    fn zookeeper_value_rules() {
        // skipACL needs exactly "yes"; forceSync is off only for "no"; snapRetainCount >= 3.
        let c = cfg(&format!(
            "{BASE}skipACL=true\nforceSync=off\nautopurge.snapRetainCount=1\nsnapCount=1\n"
        ));
        assert!(!c.skip_acl && c.force_sync);
        assert_eq!((c.autopurge_snap_retain_count, c.snap_count), (3, 2));
        assert_eq!(c.warnings.len(), 3, "{:?}", c.warnings);
        // Java number forms for property-style values; -1 session timeouts mean the default.
        let c = cfg(&format!(
            "{BASE}snapCount=0x10\nminSessionTimeout=-1\nmaxClientCnxns=-3\n"
        ));
        assert_eq!(
            (c.snap_count, c.min_session_timeout_ms, c.max_client_cnxns),
            (16, 6000, 0)
        );
        // 4lw: "*" means all, isro joins when read-only mode is on.
        let c = Config::parse(
            &format!("{BASE}4lw.commands.whitelist=*\n"),
            None,
            "-Dreadonlymode.enabled=true",
        )
        .unwrap();
        assert_eq!(c.four_letter_whitelist, vec!["*"]);
        assert!(c.read_only_mode_enabled);
        let c = Config::parse(BASE, None, "-Dreadonlymode.enabled=true").unwrap();
        assert_eq!(c.four_letter_whitelist, vec!["srvr", "isro"]);
        // Prometheus provider class without a port uses 7000.
        let c = cfg(&format!(
            "{BASE}metricsProvider.className=org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider\n"
        ));
        assert_eq!(c.metrics_port, Some(7000));
    }

    #[test]
    fn bad_values_name_key_file_and_line() {
        let e = cfg_err("# comment\ndataDir=/x\n\nclientPort=abc\n");
        assert_eq!(
            e,
            "zoo.cfg:4: clientPort: \"abc\" is not a valid port number"
        );
        for (text, key) in [
            ("tickTime=fast", "tickTime"),
            ("tickTime=0", "tickTime"),
            ("maxSessionTimeout=-5", "maxSessionTimeout"),
            ("standaloneEnabled=yes", "standaloneEnabled"),
            ("electionAlg=1", "electionAlg"),
            ("peerType=voter", "peerType"),
            ("snapCount=lots", "snapCount"),
            ("preAllocSize=1G", "preAllocSize"),
            ("admin.serverPort=99999", "admin.serverPort"),
            ("clientPort=70000", "clientPort"),
            ("server.x=h:1:2", "server.x"),
            ("server.1=h:1:1", "server.1"),
            ("metricsProvider.httpPort=-1", "metricsProvider.httpPort"),
        ] {
            let e = cfg_err(&format!("{BASE}{text}\n"));
            assert!(e.starts_with(&format!("zoo.cfg:3: {key}: ")), "{text}: {e}");
        }
        let e = cfg_err(&format!(
            "{BASE}minSessionTimeout=5000\nmaxSessionTimeout=4000\n"
        ));
        assert!(
            e.contains("zoo.cfg:3: minSessionTimeout") && e.contains("larger"),
            "{e}"
        );
        assert_eq!(
            cfg_err("clientPort=1\n"),
            "zoo.cfg: dataDir: dataDir is not set"
        );
        assert!(cfg_err("dataDir=/x\n").contains("clientPort is not set"));
        assert!(
            cfg_err("dataDir=/x\nclientPortAddress=1.2.3.4\n").contains("clientPort is not set")
        );
        let e = Config::load(Path::new("/nonexistent/zoo.cfg"), "").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("/nonexistent/zoo.cfg: cannot read"),
            "{e}"
        );
    }

    #[test]
    fn unknown_and_ineffective_keys_warn() {
        let c = cfg(&format!(
            "{BASE}frobnicate=1\njute.maxbuffer=5\nznode.container.checkIntervalMs=5\nzookeeper.snapCount=9\nsslQuorum=true\n"
        ));
        assert_eq!(c.warnings.len(), 5, "{:?}", c.warnings);
        assert!(c.warnings[0].contains("zoo.cfg:3") && c.warnings[0].contains("frobnicate"));
        assert!(c.warnings[1].contains("-Djute.maxbuffer=5"));
        // As in ZooKeeper these zoo.cfg spellings change nothing.
        assert_eq!(c.jute_max_buffer, jute::consts::DEFAULT_MAX_BUFFER);
        assert_eq!(c.container_check_interval_ms, 60_000);
        assert_eq!(c.snap_count, 100_000);
        assert!(c.properties.contains_key("frobnicate"));
    }

    #[test]
    fn jvm_flags() {
        assert_eq!(
            parse_jvm_flags(r#"-Xmx1g -Da=1 "-Db=two words" -Dc='x y' -Dd -De=f=g -D -cp x"#),
            vec![
                ("a".into(), "1".into()),
                ("b".into(), "two words".into()),
                ("c".into(), "x y".into()),
                ("d".into(), "".into()),
                ("e".into(), "f=g".into()),
            ]
        );
        let flags = " -Djute.maxbuffer=0x200000 -Dznode.container.checkIntervalMs=1000 \
            -Dznode.container.maxPerMinute=5 -Dznode.container.maxNeverUsedIntervalMs=100 \
            -Dzookeeper.extendedTypesEnabled=True -Dzookeeper.skipACL=yes \
            -Dzookeeper.DigestAuthenticationProvider.superDigest=super:x= \
            -Dfsync.warningthresholdms=20 -Dzookeeper.admin.enableServer=false";
        let c = Config::parse(BASE, None, flags).unwrap();
        assert_eq!(c.jute_max_buffer, 0x200000);
        assert_eq!(c.container_check_interval_ms, 1000);
        assert_eq!(c.container_max_per_minute, 5);
        assert_eq!(c.container_max_never_used_interval_ms, 100);
        assert!(c.extended_types_enabled && c.skip_acl && !c.admin_enable_server);
        assert_eq!(c.super_digest.as_deref(), Some("super:x="));
        assert_eq!(c.fsync_warning_threshold_ms, 20);
        assert_eq!(
            c.system_properties
                .get("jute.maxbuffer")
                .map(String::as_str),
            Some("0x200000")
        );
        // A bad -D value is a warning and the default, as Integer.getInteger does.
        let c = Config::parse(BASE, None, "-Dzookeeper.snapCount=many").unwrap();
        assert_eq!(c.snap_count, 100_000);
        assert!(
            c.warnings[0].contains("-Dzookeeper.snapCount"),
            "{:?}",
            c.warnings
        );
    }

    #[test]
    fn zoo_cfg_overrides_jvm_flags() {
        let flags = "-Dzookeeper.4lw.commands.whitelist=ruok -Dzookeeper.snapCount=10 \
                     -Dzookeeper.fsync.warningthresholdms=7 -Dfsync.warningthresholdms=8";
        let c = Config::parse(
            &format!("{BASE}4lw.commands.whitelist=conf\nsnapCount=20\n"),
            None,
            flags,
        )
        .unwrap();
        assert_eq!(c.four_letter_whitelist, vec!["conf", "srvr"]);
        assert_eq!(c.snap_count, 20);
        assert_eq!(c.fsync_warning_threshold_ms, 7);
        let c = Config::parse(&format!("{BASE}fsync.warningthresholdms=9\n"), None, flags).unwrap();
        assert_eq!(c.fsync_warning_threshold_ms, 9);
    }

    #[test]
    fn rzk_properties() {
        let c = Config::parse(BASE, None, "").unwrap();
        assert!(c.snapshot_fork && c.worker_threads.is_none() && c.runtime_threads() >= 1);
        assert!(c.log_inline_sync && c.log_direct_io && c.thp_while_serving);
        assert!(c.snapshot_direct_io);
        assert_eq!(c.snapshot_fork_min_bytes, 32 << 20);
        let flags = "-Drzk.workerThreads=3 -Drzk.snapshot.fork=false -Drzk.log.inlineSync=false \
                     -Drzk.log.directIO=false -Drzk.thpWhileServing=false \
                     -Drzk.snapshot.directIO=false -Drzk.snapshot.forkMinBytes=0";
        let c = Config::parse(BASE, None, flags).unwrap();
        assert_eq!((c.worker_threads, c.runtime_threads()), (Some(3), 3));
        assert!(!c.snapshot_fork);
        assert_eq!(c.snapshot_fork_min_bytes, 0);
        assert!(!c.log_inline_sync && !c.log_direct_io && !c.thp_while_serving);
        assert!(!c.snapshot_direct_io);
        // A bad -D value is ignored with a warning, as bad JVM properties are.
        let c = Config::parse(BASE, None, "-Drzk.workerThreads=0").unwrap();
        assert!(c.worker_threads.is_none());
        assert!(c.warnings.iter().any(|w| w.contains("rzk.workerThreads")));
    }

    #[test]
    fn properties_syntax() {
        let entries = parse_properties(concat!(
            "  # comment\n! also comment\n\na = 1\nb:2\nc 3\n",
            "d=x\\\n   y\\\\\ne\\:f=\\u0041\\t\ng=first\ng=last\r\nempty=\n",
        ));
        let kv: Vec<(&str, &str)> = entries
            .iter()
            .map(|e| (e.key.as_str(), e.value.as_str()))
            .collect();
        assert_eq!(
            kv,
            vec![
                ("a", "1"),
                ("b", "2"),
                ("c", "3"),
                ("d", "xy\\"),
                ("e:f", "A"),
                ("g", "last"),
                ("empty", ""),
            ]
        );
        assert_eq!(entries[3].line, 7);
        assert_eq!(entries[5].line, 11);
    }

    #[test]
    fn server_lines() {
        let s = parse_server(1, "zk1:2888:3888", false).unwrap();
        assert_eq!(
            s,
            QuorumServer {
                id: 1,
                host: "zk1".into(),
                peer_port: 2888,
                election_port: 3888,
                observer: false,
                client_addr: None
            }
        );
        let s = parse_server(2, "zk2:2888:3888:observer;2181", false).unwrap();
        assert!(s.observer);
        assert_eq!(s.client_addr, Some(("0.0.0.0".into(), 2181)));
        let s = parse_server(3, "[::1]:2888:3888:Participant;[::1]:2182", false).unwrap();
        assert_eq!((s.host.as_str(), s.observer), ("::1", false));
        assert_eq!(s.client_addr, Some(("::1".into(), 2182)));
        let s = parse_server(4, "a:1:2;127.0.0.1:2183", false).unwrap();
        assert_eq!(s.client_addr, Some(("127.0.0.1".into(), 2183)));
        assert!(parse_server(5, "a:1:2|b:1:2", true).is_ok());
        for bad in [
            "a:1",
            "a:1:2:observer:x",
            "a:1:2:voter",
            "a:1:1",
            "a:x:2",
            "a:1:2;b:c:3",
            "a:1:2|b:1:2",
        ] {
            assert!(parse_server(9, bad, false).is_err(), "{bad}");
        }
    }

    #[test]
    fn quorum_and_myid() {
        let dir = temp_dir("quorum");
        let servers = "server.1=127.0.0.1:2888:3888;2181\nserver.2=127.0.0.1:2889:3889;2182\n\
                       server.3=127.0.0.1:2890:3890:observer;127.0.0.1:2183\n";
        let text = format!(
            "dataDir={}\ninitLimit=5\nsyncLimit=2\n{servers}",
            dir.display()
        );
        // No myid in a quorum is an error.
        assert!(cfg_err(&text).contains("myid file is missing"));
        std::fs::write(dir.join("myid"), "2\n").unwrap();
        let c = cfg(&text);
        assert!(c.is_distributed());
        assert_eq!((c.server_id, c.myid, c.client_port), (2, Some(2), 2182));
        assert_eq!(c.client_port_address, IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        assert_eq!(c.servers.len(), 3);
        assert!(c.servers[2].observer && !c.observer);
        // Observer role comes from the servers list.
        std::fs::write(dir.join("myid"), "3").unwrap();
        let c = cfg(&text);
        assert!(c.observer);
        assert_eq!(
            (c.client_port_address, c.client_port),
            (IpAddr::V4(Ipv4Addr::LOCALHOST), 2183)
        );
        // A static clientPort that disagrees with the server line is an error.
        assert!(cfg_err(&format!("{text}clientPort=9999\n")).contains("differs"));
        // initLimit is required in a quorum.
        let no_init = format!("dataDir={}\nsyncLimit=2\n{servers}", dir.display());
        assert!(cfg_err(&no_init).contains("initLimit is not set"));
        // Bad myid names the file.
        std::fs::write(dir.join("myid"), "one\n").unwrap();
        let e = cfg_err(&text);
        assert!(
            e.contains(&dir.join("myid").display().to_string()) && e.contains("\"one\""),
            "{e}"
        );
        // Standalone ignores myid for session ids (ZooKeeperServer uses 1).
        std::fs::write(dir.join("myid"), "7").unwrap();
        let c = cfg(&format!("dataDir={}\nclientPort=2181\n", dir.display()));
        assert_eq!((c.server_id, c.myid), (1, Some(7)));
        // One voting server runs standalone; with standaloneEnabled=false it is a quorum.
        let one = format!(
            "dataDir={}\nserver.7=127.0.0.1:2888:3888;2185\n",
            dir.display()
        );
        let c = cfg(&one);
        assert!(!c.is_distributed());
        assert_eq!((c.server_id, c.client_port), (1, 2185));
        let c = cfg(&format!(
            "{one}standaloneEnabled=false\ninitLimit=1\nsyncLimit=1\n"
        ));
        assert!(c.is_distributed());
        assert_eq!(c.server_id, 7);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn dynamic_config_file() {
        let dir = temp_dir("dynamic");
        let dynf = dir.join("zoo.cfg.dynamic.100000000");
        std::fs::write(
            &dynf,
            "server.1=a:1:2;2181\nserver.2=b:1:2;2181\nserver.3=c:1:2;2181\n",
        )
        .unwrap();
        std::fs::write(dir.join("myid"), "1").unwrap();
        let text = format!(
            "dataDir={}\ninitLimit=5\nsyncLimit=2\ndynamicConfigFile={}\n",
            dir.display(),
            dynf.display()
        );
        let c = cfg(&text);
        assert_eq!(c.servers.len(), 3);
        assert_eq!(c.config_version, 0x100000000);
        assert_eq!(c.client_port, 2181);
        assert!(cfg_err(&format!("{text}server.4=d:1:2\n")).contains("dynamic config file"));
        std::fs::write(&dynf, "server.1=a:1:2;2181\nversion=5\n").unwrap();
        assert!(cfg_err(&text).contains("must not contain a version"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn load_reads_latin1_files() {
        let dir = temp_dir("load");
        let path = dir.join("zoo.cfg");
        let mut bytes = b"# caf\xe9\n".to_vec();
        bytes.extend_from_slice(format!("dataDir={}\nclientPort=2181\n", dir.display()).as_bytes());
        std::fs::write(&path, bytes).unwrap();
        let c = Config::load(&path, "").unwrap();
        assert_eq!(c.source.as_deref(), Some(path.as_path()));
        assert_eq!(c.data_dir, dir);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
