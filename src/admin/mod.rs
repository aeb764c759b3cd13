//! Operator interfaces with ZooKeeper 3.8's exact output, so scripts and tools that parse
//! it keep working: four-letter words on the client port ([`fourlw`]), the AdminServer's
//! JSON commands over HTTP ([`commands`], [`http`]) and the metrics that `mntr`, the
//! `monitor` command and the Prometheus `/metrics` endpoint expose ([`metrics`]).
//!
//! Every answer is computed inside the core task: the connection/HTTP tasks send an
//! [`Query`] through the core's event channel (`Event::Admin`) and await the text on a
//! oneshot, so no state is shared behind locks.

pub mod commands;
mod env;
pub mod fourlw;
pub mod http;
pub mod json;
pub mod metrics;

use crate::processor::Core;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, Ordering};
use tokio::sync::oneshot;

/// The version clients and scripts see: ZooKeeper's protocol level plus ours.
pub const VERSION: &str = concat!("3.8.4-rzk-", env!("CARGO_PKG_VERSION"));

/// What an admin query asks for.
#[derive(Debug)]
pub enum Ask {
    /// A four-letter word (already whitelisted); `arg` is stmk's trace mask.
    FourLetter { cmd: String, arg: Option<i64> },
    /// An AdminServer command by any of its names, with its URL query parameters.
    Command {
        name: String,
        params: Vec<(String, String)>,
    },
    /// The Prometheus text exposition.
    Prometheus,
}

/// A question for the core from the client port or an HTTP endpoint; the answer (plain
/// text, JSON or Prometheus text) goes back on `reply`.
#[derive(Debug)]
pub struct Query {
    pub ask: Ask,
    /// The asking client-port connection: a four-letter word's own connection is counted
    /// (packets, connection lists) as ZooKeeper counts it. `None` for HTTP.
    pub peer: Option<SocketAddr>,
    pub reply: oneshot::Sender<String>,
}

/// ZooTrace's default mask (what `gtmk` prints until `stmk` changes it). A process-wide
/// setting with no effect on serving, so it lives outside the core.
static TRACE_MASK: AtomicI64 = AtomicI64::new(306);

/// The current trace mask (`gtmk`).
pub fn trace_mask() -> i64 {
    TRACE_MASK.load(Ordering::Relaxed)
}

/// Sets the trace mask (`stmk`).
pub fn set_trace_mask(m: i64) {
    TRACE_MASK.store(m, Ordering::Relaxed)
}

impl Core {
    /// Answers an admin query (see [`Query`]); never fails, the reply may be dropped.
    pub fn admin(&mut self, q: Query) {
        let text = match q.ask {
            Ask::FourLetter { cmd, arg } => self.four_letter_from(&cmd, arg, q.peer),
            Ask::Command { name, params } => self.command_json(&name, &params),
            Ask::Prometheus => self.prometheus(),
        };
        let _ = q.reply.send(text);
    }
}

/// Java's `Double.toString` for the values we print (rounded doubles): `0.0`, `2.6667`.
pub fn java_double(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.fract() == 0.0 && v.abs() < 1e7 {
        format!("{v:.1}")
    } else {
        format!("{v}")
    }
}

/// `total / count` rounded to 4 decimals, 0.0 without samples (ZooKeeper's averages).
pub fn avg4(total: u64, count: u64) -> f64 {
    if count == 0 {
        0.0
    } else {
        (total as f64 / count as f64 * 10000.0).round() / 10000.0
    }
}

/// When this binary was built (as `srvr` prints ZooKeeper's build date).
pub fn build_date() -> &'static str {
    option_env!("RZK_BUILD_DATE").unwrap_or("1970-01-01 00:00 UTC")
}

/// The full version line ZooKeeper prints: `<version>, built on <date>`.
pub fn full_version() -> String {
    format!("{VERSION}, built on {}", build_date())
}

/// Total size of the regular files directly in `dir` (ZooKeeper's `dataDirSize`).
pub fn dir_size(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok()?.metadata().ok())
                .filter(|m| m.is_file())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

/// Open and maximum file descriptors of this process (from /proc; 0 if unavailable).
pub fn fd_counts() -> (u64, u64) {
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

/// Java's `Date.toString()` in UTC: `Sat Nov 21 13:30:44 UTC 2026`.
pub fn java_date(ms: i64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let secs = ms.div_euclid(1000);
    let (days, sod) = (secs.div_euclid(86400), secs.rem_euclid(86400));
    let (year, month, day) = crate::clock::civil_from_days(days);
    format!(
        "{} {} {:02} {:02}:{:02}:{:02} UTC {}",
        DAYS[days.rem_euclid(7) as usize],
        MONTHS[(month - 1) as usize],
        day,
        sod / 3600,
        sod % 3600 / 60,
        sod % 60,
        year
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_formats() {
        assert_eq!(java_double(0.0), "0.0");
        assert_eq!(java_double(2.6667), "2.6667");
        assert_eq!(java_double(22.0), "22.0");
        assert_eq!(avg4(8, 3), 2.6667);
        assert_eq!(java_date(0), "Thu Jan 01 00:00:00 UTC 1970");
        assert_eq!(java_date(1_795_267_844_000), "Sat Nov 21 13:30:44 UTC 2026");
    }
}
