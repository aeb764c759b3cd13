//! The server keeps transparent huge pages unless `-Drzk.thpWhileServing=false` says to
//! turn them off once it serves (see `server::end_huge_pages`).
#![cfg(target_os = "linux")]

use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A server started from the built binary; killed (by its PID) when dropped.
struct Server {
    child: Child,
    dir: std::path::PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn start(name: &str, flags: &str) -> Server {
    let dir = std::env::temp_dir().join(format!("rzk-thp-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("test dir");
    let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let cfg = dir.join("zoo.cfg");
    let text = format!(
        "tickTime=2000\ndataDir={}\nclientPort={port}\nclientPortAddress=127.0.0.1\n\
         admin.enableServer=false\n4lw.commands.whitelist=ruok\n",
        dir.join("data").display()
    );
    std::fs::write(&cfg, text).expect("zoo.cfg");
    let child = Command::new(env!("CARGO_BIN_EXE_rzk"))
        .arg("start")
        .arg("-c")
        .arg(&cfg)
        .env("SERVER_JVMFLAGS", flags)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn rzk");
    let server = Server { child, dir };
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if ruok(port) {
            return server;
        }
        assert!(Instant::now() < deadline, "rzk did not answer ruok");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn ruok(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect((Ipv4Addr::LOCALHOST, port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    let mut out = String::new();
    s.write_all(b"ruok").is_ok() && s.read_to_string(&mut out).is_ok() && out == "imok"
}

/// The `THP_enabled` line of the process's status: false once PR_SET_THP_DISABLE is set.
fn thp_enabled(pid: u32) -> bool {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    let line = status.lines().find(|l| l.starts_with("THP_enabled:"));
    line.expect("THP_enabled line").trim_end().ends_with('1')
}

#[test]
fn huge_pages_end_when_serving_only_if_asked() {
    let kept = start("default", "");
    assert!(thp_enabled(kept.child.id()));
    let off = start("off", "-Drzk.thpWhileServing=false");
    assert!(!thp_enabled(off.child.id()));
}
