//! Wires a standalone server together: config → data tree → core task → client port.

use crate::config::Config;
use crate::processor::{self, Core};
use std::sync::Arc;
use tokio::sync::mpsc;
use tracing::info;

/// Starts a standalone server and runs until the listener fails.
pub async fn run_standalone(cfg: Config) -> std::io::Result<()> {
    for w in &cfg.warnings {
        tracing::warn!("{w}");
    }
    let cfg = Arc::new(cfg);
    std::fs::create_dir_all(&cfg.data_dir)?;
    let listener = crate::net::bind(&cfg)?;
    crate::net::log_listening(&listener);
    // globalOutstandingLimit bounds requests queued for the core: connection tasks stop
    // reading while it is full, as ZooKeeper throttles its sockets.
    let (tx, rx) = mpsc::channel(cfg.global_outstanding_limit.max(64) as usize);
    let (committed_tx, committed_rx) = mpsc::unbounded_channel();
    // persist: recover the tree and sessions from disk, start the txn-log writer.
    crate::tree::set_digest_enabled(cfg.digest_enabled);
    crate::persist::snapshot::set_direct_io(cfg.snapshot_direct_io);
    let (tree, sessions, log) = crate::persist::start(&cfg, committed_tx)?;
    if !cfg.thp_while_serving {
        end_huge_pages();
    }
    crate::tree::blob::start_trimmer();
    let mut core = Core::new(cfg.clone(), tree, log);
    for (id, timeout_ms) in sessions {
        core.restore_session(id, timeout_ms);
    }
    tokio::spawn(processor::run(core, rx, committed_rx));
    // AdminServer (admin.*) and Prometheus /metrics (metricsProvider.*), if configured.
    crate::admin::http::spawn(&cfg, &tx).await;
    info!(version = crate::admin::VERSION, "rzk serving standalone");
    crate::net::serve(listener, cfg, tx).await
}

/// Stops transparent huge pages for memory the process faults in from now on
/// (`-Drzk.thpWhileServing=false`).
///
/// Why one may want it: the allocator asks for huge pages, and with them the first touch
/// of each new 2 MB of heap zeroes all of it at once on the touching thread, usually the
/// core. On the benchmark guest (fresh memory at about 650 MB/s) every request waited
/// about 3 ms each time: the first forked snapshot's buffer setup took 5–19 ms with huge
/// pages and 0.13–0.2 ms without, and memory growth per znode fell from 280–294 to 249 B.
/// Why it is not the default: a server restarted after one that ran this way took
/// 1.10–1.25 s to serve 1,000,000 znodes, against 0.34–0.42 s after one that kept huge
/// pages (the new process's huge-page faults then find memory fragmented). Recovery
/// itself always runs with them; pages already huge stay so; a snapshot child inherits
/// the setting.
fn end_huge_pages() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: prctl with PR_SET_THP_DISABLE takes plain integers and touches no memory
        // of ours.
        let r = unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) };
        if r != 0 {
            tracing::warn!(error = %std::io::Error::last_os_error(),
                "cannot turn transparent huge pages off; new heap memory may stall requests");
        }
    }
}
