//! Starting and stopping the servers under test: rzk, Apache ZooKeeper 3.8 (Debian) and
//! the floor (a fake server that shows the kernel's share of each figure).
//!
//! Both get the same generated zoo.cfg (127.0.0.1 only, a fresh dataDir under one root so
//! both sit on the same filesystem, default forceSync=yes) and are stopped by PID. ZooKeeper
//! runs with the JVM settings Debian's zkServer.sh uses (no -Xmx: the JVM default heap).
//! Readiness is a successful client read (`exists /`), not `ruok`.

use crate::conn::Conn;
use jute::proto::PathWatchRequest;
use jute::Request;
use std::collections::BTreeSet;
use std::fs;
use std::io;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Which server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// This project's server.
    Rzk,
    /// Apache ZooKeeper 3.8 as Debian packages it.
    Zookeeper,
    /// `bench/c/zk_floor.c`: a fake server that answers from canned replies (with an
    /// O_DIRECT write of the round's write requests + fdatasync per round of writes, and
    /// created values kept in memory) and does nothing else, so its CPU per op is the
    /// kernel's share that no server avoids. Load points, churn and fan-out.
    Floor,
}

impl Kind {
    /// The CLI / JSON name.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Rzk => "rzk",
            Kind::Zookeeper => "zookeeper",
            Kind::Floor => "floor",
        }
    }
    /// Parses `rzk`, `zookeeper` (also `zk`) or `floor`.
    pub fn parse(s: &str) -> Option<Kind> {
        match s {
            "rzk" => Some(Kind::Rzk),
            "zookeeper" | "zk" => Some(Kind::Zookeeper),
            "floor" => Some(Kind::Floor),
            _ => None,
        }
    }
}

/// The JVM command line of Debian's `zkServer.sh start` (classpath, OOM flags, main class).
const ZK_CLASSPATH: &str = "/etc/zookeeper/conf:/usr/share/java/zookeeper.jar";

/// A server with its own directory; the process may be stopped and started again.
pub struct Server {
    /// Which server.
    pub kind: Kind,
    /// 127.0.0.1 port.
    pub port: u16,
    /// Working directory (config, log, dataDir).
    pub dir: PathBuf,
    rzk_bin: PathBuf,
    child: Option<Child>,
}

/// A free 127.0.0.1 port not handed out before by this process.
///
/// The kernel may return the same ephemeral port to two binds in a row once the
/// first socket is closed, and servers are prepared before any of them starts, so
/// without the record two of them could be given one port.
pub fn free_port() -> io::Result<u16> {
    static HANDED_OUT: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());
    let mut handed_out = HANDED_OUT.lock().unwrap_or_else(|e| e.into_inner());
    for _ in 0..1000 {
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        if handed_out.insert(port) {
            return Ok(port);
        }
    }
    Err(io::Error::other("no fresh free port after 1000 tries"))
}

impl Server {
    /// Prepares (does not start) a server in a fresh directory under `root`.
    pub fn new(kind: Kind, root: &Path, tag: &str, rzk_bin: &Path) -> io::Result<Server> {
        let dir = root.join(format!("{}-{tag}", kind.name()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("data"))?;
        let port = free_port()?;
        let cfg = format!(
            "tickTime=2000\ndataDir={}\nclientPort={port}\nclientPortAddress=127.0.0.1\n\
             maxClientCnxns=0\nadmin.enableServer=false\n4lw.commands.whitelist=mntr,srvr\n",
            dir.join("data").display()
        );
        fs::write(dir.join("zoo.cfg"), cfg)?;
        Ok(Server {
            kind,
            port,
            dir,
            rzk_bin: rzk_bin.to_path_buf(),
            child: None,
        })
    }

    /// Appends `line` (e.g. `snapCount=1000`) to zoo.cfg; takes effect at the next start.
    pub fn add_cfg(&self, line: &str) -> io::Result<()> {
        use std::io::Write;
        let mut f = fs::OpenOptions::new()
            .append(true)
            .open(self.dir.join("zoo.cfg"))?;
        writeln!(f, "{line}")
    }

    /// `127.0.0.1:port`.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The running process id, if started.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(|c| c.id())
    }

    /// The pid as a /proc path component ("0" when not running).
    pub fn pid_str(&self) -> String {
        self.pid().unwrap_or(0).to_string()
    }

    fn command(&self) -> io::Result<Command> {
        let cfg = self.dir.join("zoo.cfg");
        Ok(match self.kind {
            Kind::Rzk => {
                let mut c = Command::new(&self.rzk_bin);
                c.arg("start").arg("--config").arg(cfg);
                c
            }
            Kind::Zookeeper => {
                let mut c = Command::new("java");
                c.arg(format!("-Dzookeeper.log.dir={}", self.dir.display()))
                    .arg("-Dzookeeper.log.file=zookeeper.log")
                    .arg("-XX:+HeapDumpOnOutOfMemoryError")
                    .arg("-XX:OnOutOfMemoryError=kill -9 %p")
                    .arg("-cp")
                    .arg(ZK_CLASSPATH)
                    .arg("org.apache.zookeeper.server.quorum.QuorumPeerMain")
                    .arg(cfg);
                c
            }
            Kind::Floor => {
                let source = concat!(env!("CARGO_MANIFEST_DIR"), "/c/zk_floor.c");
                let bin = crate::cclient::build_c(source, "zk_floor", &[], "is gcc installed?")
                    .map_err(io::Error::other)?;
                let mut c = Command::new(bin);
                c.arg(self.port.to_string())
                    .arg("-s")
                    .arg(self.dir.join("data").join("floor.log"));
                c
            }
        })
    }

    /// Spawns the server and waits (bounded by `timeout`) for the first successful read.
    /// Returns the time from spawn to that read.
    pub async fn start(&mut self, timeout: Duration) -> io::Result<Duration> {
        use std::os::unix::process::CommandExt;
        let log = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("server.out"))?;
        let t0 = Instant::now();
        let child = self
            .command()?
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .process_group(0)
            .spawn()?;
        self.child = Some(child);
        let deadline = t0 + timeout;
        while Instant::now() < deadline {
            if let Some(st) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                self.child = None;
                return Err(io::Error::other(format!(
                    "{} exited with {st} during start-up; see {}",
                    self.kind.name(),
                    self.dir.join("server.out").display()
                )));
            }
            if read_ok(&self.addr()).await {
                return Ok(t0.elapsed());
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        self.stop();
        Err(io::Error::other(format!(
            "{} not ready within {timeout:?}",
            self.kind.name()
        )))
    }

    /// SIGTERM by PID, bounded wait (20 s), then SIGKILL.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        // SAFETY: kill(2) on our own child's pid.
        unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
    }

    /// Bytes under dataDir.
    pub fn data_bytes(&self) -> u64 {
        fn walk(p: &Path) -> u64 {
            let Ok(rd) = fs::read_dir(p) else { return 0 };
            rd.flatten()
                .map(|e| match e.metadata() {
                    Ok(m) if m.is_dir() => walk(&e.path()),
                    Ok(m) => m.len(),
                    Err(_) => 0,
                })
                .sum()
        }
        walk(&self.dir.join("data"))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// True when a fresh session can read `/` (connect + exists), within 2 s.
pub async fn read_ok(addr: &str) -> bool {
    let t = Duration::from_secs(2);
    let Ok(mut c) = Conn::connect(addr, 30000, t).await else {
        return false;
    };
    let req = Request::Exists(PathWatchRequest {
        path: "/".into(),
        watch: false,
    });
    let ok = matches!(c.call(&req, t).await, Ok(r) if r.header.err == 0);
    let _ = c.close(t).await;
    ok
}

/// Sends a four-letter command and returns the whole answer (bounded: 5 s).
pub fn four_letter(addr: &str, cmd: &str) -> io::Result<String> {
    use std::io::{Read, Write};
    let t = Duration::from_secs(5);
    let sa: std::net::SocketAddr = addr.parse().map_err(io::Error::other)?;
    let mut s = std::net::TcpStream::connect_timeout(&sa, t)?;
    s.set_read_timeout(Some(t))?;
    s.write_all(cmd.as_bytes())?;
    let mut out = String::new();
    s.take(1 << 20).read_to_string(&mut out)?;
    Ok(out)
}

/// The server's own count of packets received (`mntr` zk_packets_received), if it answers.
pub fn packets_received(addr: &str) -> Option<u64> {
    let text = four_letter(addr, "mntr").ok()?;
    let line = text
        .lines()
        .find(|l| l.starts_with("zk_packets_received"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
