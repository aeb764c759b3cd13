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
    let (tree, sessions, log) = crate::persist::start(&cfg, committed_tx)?;
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
