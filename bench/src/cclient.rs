//! The independent cross-check client: `bench/c/zkload.c` on libzookeeper_mt's async API.
//! Built with gcc next to the rzk-bench binary when missing or older than its source (as
//! the floor server, `bench/c/zk_floor.c`, is).

use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

const SOURCE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/c/zkload.c");

/// Builds zkload if needed; returns its path or why it could not be built.
pub fn ensure_built() -> Result<PathBuf, String> {
    build_c(
        SOURCE,
        "zkload",
        &["-DTHREADED", "-lzookeeper_mt"],
        "is libzookeeper-mt-dev installed?",
    )
}

/// Builds one of `bench/c`'s programs with `gcc -O2` beside the running executable when
/// missing or older than `source`; returns its path. `hint` goes with a gcc failure.
pub fn build_c(source: &str, name: &str, args: &[&str], hint: &str) -> Result<PathBuf, String> {
    let bin = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(|d| d.join(name)))
        .unwrap_or_else(|| PathBuf::from(name));
    let mtime = |p: &std::path::Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    if let (Some(b), Some(s)) = (mtime(&bin), mtime(std::path::Path::new(source))) {
        if b >= s {
            return Ok(bin);
        }
    }
    let out = Command::new("gcc")
        .args(["-O2", "-o"])
        .arg(&bin)
        .arg(source)
        .args(args)
        .output()
        .map_err(|e| format!("gcc: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "gcc failed on {name} ({hint}): {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(bin)
}

/// Runs zkload (`op` is get, set or create) and returns its JSON line, bounded in time.
#[allow(clippy::too_many_arguments)]
pub async fn run(
    addr: &str,
    op: &str,
    conns: usize,
    depth: usize,
    secs: f64,
    warmup: f64,
    size: usize,
    parent: &str,
    nkeys: usize,
) -> Result<Value, String> {
    let bin = ensure_built()?;
    let mut child = Command::new(&bin)
        .arg(addr)
        .arg(op)
        .arg(conns.to_string())
        .arg(depth.to_string())
        .arg(secs.to_string())
        .arg(warmup.to_string())
        .arg(size.to_string())
        .arg(parent)
        .arg(nkeys.to_string())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("zkload: {e}"))?;
    let limit = Instant::now() + Duration::from_secs_f64(secs + warmup + 40.0);
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if Instant::now() > limit => {
                let _ = child.kill();
                let _ = child.wait();
                return Err("zkload timed out".into());
            }
            Ok(None) => tokio::time::sleep(Duration::from_millis(50)).await,
            Err(e) => return Err(e.to_string()),
        }
    }
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().last().unwrap_or("");
    serde_json::from_str(line).map_err(|e| {
        format!(
            "zkload output {line:?}: {e}; stderr {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}
