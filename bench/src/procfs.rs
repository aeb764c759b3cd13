//! Process figures from /proc: CPU time (all threads and children) and resident memory.

use std::fs;

/// Clock ticks per second for /proc/<pid>/stat times.
pub fn clk_tck() -> f64 {
    // SAFETY: sysconf has no preconditions.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 {
        t as f64
    } else {
        100.0
    }
}

/// Fields of /proc/<pid>/stat after the ")" closing the command name (state first).
fn stat_fields(pid: &str) -> Option<Vec<String>> {
    let s = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &s[s.rfind(')')? + 2..];
    Some(rest.split_whitespace().map(str::to_string).collect())
}

/// CPU seconds of `pid` (or "self"), summed over all its threads **and its children**:
/// utime+stime, plus cutime+cstime (children already reaped), plus the utime+stime of
/// children still running. rzk writes snapshots from a forked child; its CPU is the
/// server's cost and must not escape the figure. None if gone.
pub fn cpu_secs(pid: &str) -> Option<f64> {
    let f = stat_fields(pid)?;
    // Field numbers (proc(5)): utime 14, stime 15, cutime 16, cstime 17; f[0] is field 3.
    let num = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok());
    let mut ticks = num(11)? + num(12)? + num(13)? + num(14)?;
    let me = if pid == "self" {
        std::process::id().to_string()
    } else {
        pid.to_string()
    };
    ticks += live_children_ticks(&me);
    Some(ticks / clk_tck())
}

/// utime+stime of this process alone (the load generator; the servers it starts are its
/// children and must not count).
pub fn self_cpu_secs() -> Option<f64> {
    let f = stat_fields("self")?;
    let num = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok());
    Some((num(11)? + num(12)?) / clk_tck())
}

/// utime+stime of the running (not yet reaped) children of `pid`.
fn live_children_ticks(pid: &str) -> f64 {
    let Ok(dir) = fs::read_dir("/proc") else {
        return 0.0;
    };
    let mut sum = 0.0;
    for e in dir.flatten() {
        let name = e.file_name();
        let Some(name) = name.to_str() else { continue };
        if !name.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let Some(f) = stat_fields(name) else { continue };
        // f[1] is field 4, the parent pid.
        if f.get(1).map(String::as_str) == Some(pid) {
            let t = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
            sum += t(11) + t(12);
        }
    }
    sum
}

/// VmRSS of `pid` in bytes; None if gone.
pub fn rss_bytes(pid: &str) -> Option<u64> {
    let s = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = s.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// The 1-minute load average.
pub fn loadavg() -> f64 {
    fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|v| v.parse().ok()))
        .unwrap_or(0.0)
}

/// Number of online CPUs.
pub fn ncpus() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// Total memory in bytes (MemTotal).
pub fn mem_total() -> u64 {
    fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            let l = s.lines().find(|l| l.starts_with("MemTotal:"))?.to_string();
            l.split_whitespace().nth(1)?.parse::<u64>().ok()
        })
        .map(|kb| kb * 1024)
        .unwrap_or(0)
}

/// All CPUs' (total, steal) times in clock ticks since boot, from /proc/stat's `cpu`
/// line. Steal is time a vCPU was ready but the hypervisor ran something else: on a shared
/// host it shows up as stalls no server can avoid, so each load point reports its share.
pub fn cpu_steal_ticks() -> Option<(u64, u64)> {
    let s = fs::read_to_string("/proc/stat").ok()?;
    parse_cpu_steal(s.lines().next()?)
}

fn parse_cpu_steal(line: &str) -> Option<(u64, u64)> {
    let mut it = line.split_whitespace();
    if it.next()? != "cpu" {
        return None;
    }
    // user nice system idle iowait irq softirq steal [guest guest_nice]; guest time is
    // already counted in user and nice.
    let v: Vec<u64> = it.take(8).map(|f| f.parse().ok()).collect::<Option<_>>()?;
    let steal = *v.get(7)?;
    Some((v.iter().sum(), steal))
}

/// Steal as a percentage of all CPU time between two [`cpu_steal_ticks`] readings.
pub fn steal_pct(a: Option<(u64, u64)>, b: Option<(u64, u64)>) -> Option<f64> {
    let ((t0, s0), (t1, s1)) = (a?, b?);
    let total = t1.checked_sub(t0).filter(|&t| t > 0)?;
    Some(100.0 * s1.saturating_sub(s0) as f64 / total as f64)
}

/// The CPU model name.
pub fn cpu_model() -> String {
    fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            let l = s.lines().find(|l| l.starts_with("model name"))?;
            Some(l.split(':').nth(1)?.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_own_process() {
        assert!(cpu_secs("self").is_some());
        assert!(self_cpu_secs().is_some());
        assert!(rss_bytes("self").unwrap() > 0);
    }

    #[test]
    fn steal_is_the_eighth_field_of_the_cpu_line() {
        let a = parse_cpu_steal("cpu  100 0 50 800 10 0 5 35 7 0").unwrap();
        assert_eq!(a, (1000, 35));
        let b = parse_cpu_steal("cpu  150 0 60 950 10 0 5 75 7 0").unwrap();
        assert_eq!(steal_pct(Some(a), Some(b)), Some(16.0));
        assert_eq!(parse_cpu_steal("cpu0 1 2 3 4 5 6 7 8"), None);
        assert_eq!(steal_pct(Some(a), Some(a)), None);
        assert!(cpu_steal_ticks().is_some());
    }
}
