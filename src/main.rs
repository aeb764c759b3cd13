//! The `rzk` command: start the server, print the version, dump txn logs and snapshots.

use clap::{Parser, Subcommand};
use rzk::config::{jvm_flags_from_env, Config};
use std::path::PathBuf;
use std::process::ExitCode;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "rzk", about = "A drop-in replacement for Apache ZooKeeper")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Start a server from zoo.cfg (or the embedded standalone default).
    Start {
        /// Path to zoo.cfg.
        #[arg(long, short)]
        config: Option<PathBuf>,
    },
    /// Print the version.
    Version,
    /// Txn log tools.
    Log {
        #[command(subcommand)]
        cmd: FileCmd,
    },
    /// Snapshot tools.
    Snapshot {
        #[command(subcommand)]
        cmd: FileCmd,
    },
}

/// What to do with a txn log or snapshot file.
#[derive(Subcommand)]
enum FileCmd {
    /// Print every entry (ZooKeeper's or rzk's file) readably.
    Dump {
        /// The file (`log.<zxid>` / `snapshot.<zxid>`).
        file: PathBuf,
        /// One JSON object per txn (logs) or one JSON document (snapshots).
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.cmd {
        Cmd::Version => {
            println!(
                "rzk {} (ZooKeeper {} compatible)",
                env!("CARGO_PKG_VERSION"),
                rzk::admin::VERSION
            );
            ExitCode::SUCCESS
        }
        Cmd::Start { config } => start(config),
        Cmd::Log {
            cmd: FileCmd::Dump { file, json },
        } => dump(rzk::persist::dump::dump_log(
            &file,
            json,
            &mut std::io::stdout().lock(),
        )),
        Cmd::Snapshot {
            cmd: FileCmd::Dump { file, json },
        } => dump(rzk::persist::dump::dump_snapshot(
            &file,
            json,
            &mut std::io::stdout().lock(),
        )),
    }
}

fn dump(r: Result<(), rzk::persist::PersistError>) -> ExitCode {
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("rzk: {e}");
            ExitCode::FAILURE
        }
    }
}

fn start(config: Option<PathBuf>) -> ExitCode {
    let filter =
        tracing_subscriber::EnvFilter::try_from_env("RZK_LOG").unwrap_or_else(|_| "info".into());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    let flags = jvm_flags_from_env();
    let cfg = match &config {
        Some(p) => Config::load(p, &flags),
        None => Config::from_env_default(&flags),
    };
    let cfg = match cfg {
        Ok(c) => c,
        Err(e) => {
            eprintln!("rzk: invalid configuration: {e}");
            return ExitCode::from(2);
        }
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cfg.runtime_threads())
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("rzk: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(rzk::server::run_standalone(cfg)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("rzk: {e}");
            ExitCode::FAILURE
        }
    }
}
