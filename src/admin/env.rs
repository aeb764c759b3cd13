//! The `envi` / `environment` key set ZooKeeper prints, with meaningful values for a
//! native process (there is no JVM: the `java.*` keys describe the rzk binary instead).

use crate::config::Config;

fn read(path: &str) -> String {
    std::fs::read_to_string(path)
        .map(|s| s.trim().to_owned())
        .unwrap_or_default()
}

/// `kB` value of a `/proc` `Key:   N kB` line.
fn proc_kb(file: &str, key: &str) -> u64 {
    read(file)
        .lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or(0)
}

/// The user name of this process's uid (from /etc/passwd), else `$USER`.
fn user_name() -> String {
    let uid = read("/proc/self/status")
        .lines()
        .find(|l| l.starts_with("Uid:"))
        .and_then(|l| l.split_whitespace().nth(1).map(str::to_owned));
    uid.and_then(|uid| {
        read("/etc/passwd").lines().find_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.len() > 2 && f[2] == uid).then(|| f[0].to_owned())
        })
    })
    .or_else(|| std::env::var("USER").ok())
    .unwrap_or_default()
}

/// Java's `os.arch` spelling of the CPU architecture.
fn java_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "x86" => "i386",
        a => a,
    }
}

/// The `envi` pairs in ZooKeeper's order.
pub fn environment(_cfg: &Config) -> Vec<(&'static str, String)> {
    let exe = std::env::current_exe().unwrap_or_default();
    let mb = |kb: u64| format!("{}MB", kb / 1024);
    let rss = proc_kb("/proc/self/status", "VmRSS:");
    let os = match std::env::consts::OS {
        "linux" => "Linux".to_owned(),
        o => o.to_owned(),
    };
    vec![
        ("zookeeper.version", super::full_version()),
        ("host.name", host_name()),
        (
            "java.version",
            format!("n/a (rzk {}, native)", env!("CARGO_PKG_VERSION")),
        ),
        ("java.vendor", "rzk".into()),
        (
            "java.home",
            exe.parent()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
        ),
        ("java.class.path", exe.display().to_string()),
        (
            "java.library.path",
            std::env::var("LD_LIBRARY_PATH").unwrap_or_default(),
        ),
        ("java.io.tmpdir", std::env::temp_dir().display().to_string()),
        ("java.compiler", "<NA>".into()),
        ("os.name", os),
        ("os.arch", java_arch().into()),
        ("os.version", read("/proc/sys/kernel/osrelease")),
        ("user.name", user_name()),
        (
            "user.home",
            std::env::var("HOME").unwrap_or_else(|_| "?".into()),
        ),
        (
            "user.dir",
            std::env::current_dir()
                .map(|d| d.display().to_string())
                .unwrap_or_default(),
        ),
        // Java reports heap figures; the closest native ones: free = available system
        // memory, max = total system memory, total = this process's resident set.
        (
            "os.memory.free",
            mb(proc_kb("/proc/meminfo", "MemAvailable:")),
        ),
        ("os.memory.max", mb(proc_kb("/proc/meminfo", "MemTotal:"))),
        ("os.memory.total", mb(rss)),
    ]
}

/// The host name as Java's `InetAddress.getLocalHost().getCanonicalHostName()` usually
/// resolves it: the kernel host name.
fn host_name() -> String {
    let h = read("/proc/sys/kernel/hostname");
    if h.is_empty() {
        "localhost".into()
    } else {
        h
    }
}

/// System properties for `system_properties`: the configured/`-D` ones plus the standard
/// keys a JVM always has, described for this native process.
pub fn system_properties(cfg: &Config) -> Vec<(String, String)> {
    let mut m: std::collections::BTreeMap<String, String> = cfg.system_properties.clone();
    for (k, v) in environment(cfg) {
        if !k.starts_with("os.memory") && k != "host.name" && k != "zookeeper.version" {
            m.entry(k.to_owned()).or_insert(v);
        }
    }
    for (k, v) in [
        ("file.encoding", "UTF-8"),
        ("file.separator", "/"),
        ("line.separator", "\n"),
        ("path.separator", ":"),
    ] {
        m.entry(k.into()).or_insert_with(|| v.into());
    }
    m.into_iter().collect()
}
