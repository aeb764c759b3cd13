"""Start and stop a ZooKeeper-compatible server (real ZooKeeper 3.8 or rzk).

Both targets get the same generated zoo.cfg and the same -D properties (for
rzk via SERVER_JVMFLAGS, which it honours like zkServer.sh does).  Each server
gets a fresh temporary dataDir and a free 127.0.0.1 port; readiness means a
successful client read; teardown kills by PID.  Every wait is bounded.
"""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

from . import rawzk

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
JAVA_CP = ":".join(["/usr/share/java/zookeeper.jar", "/usr/share/java/slf4j-simple.jar"])
SUPER_DIGEST = "super:lK75jTNcA+U9vtVEw5vB51mj/w4="  # super:secret
SYSTEM_PROPS = [
    "-Dzookeeper.extendedTypesEnabled=true",
    "-Dznode.container.checkIntervalMs=1000",
    "-Dzookeeper.DigestAuthenticationProvider.superDigest=" + SUPER_DIGEST,
]


def target_name():
    t = os.environ.get("ZK_TARGET", "rzk")
    if t not in ("rzk", "zookeeper"):
        raise ValueError("ZK_TARGET must be rzk or zookeeper, not %r" % t)
    return t


def rzk_bin():
    return os.environ.get("RZK_BIN") or os.path.join(REPO, "target", "release", "rzk")


_HANDED_OUT = set()


def free_port():
    """A free 127.0.0.1 port never handed out before in this process.

    The kernel may give the same ephemeral port to two binds in a row once the
    first socket is closed, so a server's client and admin ports could collide
    (seen in CI: ZooKeeper's AdminServer took the port meant for clients).
    """
    for _ in range(1000):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _HANDED_OUT:
            _HANDED_OUT.add(port)
            return port
    raise RuntimeError("no fresh free port after 1000 tries")


class Server:
    """One server process.  kind: 'zookeeper' or 'rzk'."""

    def __init__(self, kind, tick_time=2000, min_session_timeout=None,
                 max_session_timeout=None, extra_cfg=None, data_dir=None):
        """data_dir: use this EXISTING dataDir (never removed by cleanup)."""
        self.kind = kind
        self.port = free_port()
        self.host = "127.0.0.1"
        self.hosts = "%s:%d" % (self.host, self.port)
        self.dir = tempfile.mkdtemp(prefix="compat-%s-" % kind)
        if data_dir is None:
            self.data_dir = os.path.join(self.dir, "data")
            os.mkdir(self.data_dir)
        else:
            self.data_dir = data_dir
        self.cfg = os.path.join(self.dir, "zoo.cfg")
        self.log = os.path.join(self.dir, "server.log")
        lines = ["tickTime=%d" % tick_time, "dataDir=" + self.data_dir,
                 "clientPort=%d" % self.port, "clientPortAddress=127.0.0.1",
                 "4lw.commands.whitelist=*", "extendedTypesEnabled=true",
                 "admin.enableServer=false", "maxClientCnxns=0"]
        if min_session_timeout:
            lines.append("minSessionTimeout=%d" % min_session_timeout)
        if max_session_timeout:
            lines.append("maxSessionTimeout=%d" % max_session_timeout)
        lines += list(extra_cfg or [])
        with open(self.cfg, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.proc = None

    def command(self):
        if self.kind == "zookeeper":
            return (["java", "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                     "-Dzookeeper.admin.enableServer=false",
                     "-Dorg.slf4j.simpleLogger.defaultLogLevel=info",
                     "-cp", JAVA_CP] + SYSTEM_PROPS +
                    ["org.apache.zookeeper.server.ZooKeeperServerMain", self.cfg], {})
        binary = rzk_bin()
        if not os.access(binary, os.X_OK):
            raise RuntimeError("rzk binary not found at %s (set RZK_BIN or build it)" % binary)
        return [binary, "start", "--config", self.cfg], {"SERVER_JVMFLAGS": " ".join(SYSTEM_PROPS)}

    def start(self, timeout=60.0):
        argv, extra_env = self.command()
        env = dict(os.environ, **extra_env)
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, env=env,
                                         cwd=self.dir, start_new_session=True)
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("%s exited with %s during startup; log:\n%s"
                                   % (self.kind, self.proc.returncode, self.log_tail()))
            try:
                c = rawzk.RawClient(self.host, self.port, io_timeout=2.0)
                try:
                    if c.exists("/").err == 0:
                        return self
                finally:
                    c.close()
            except (OSError, ConnectionError, AssertionError) as e:
                last = e
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("%s not ready after %ss (%r); log:\n%s"
                           % (self.kind, timeout, last, self.log_tail()))

    def log_tail(self, n=40):
        try:
            with open(self.log, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None

    @property
    def pid(self):
        return None if self.proc is None else self.proc.pid

    def kill9(self):
        """SIGKILL the server by PID (no shutdown hooks); start() may be called again."""
        if self.proc is not None:
            if self.proc.poll() is None:
                os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        self.proc = None

    def cleanup(self):
        """Stop; remove the temp dir unless COMPAT_KEEP_DIRS=1 (to read server.log)."""
        self.stop()
        if os.environ.get("COMPAT_KEEP_DIRS") != "1":
            shutil.rmtree(self.dir, ignore_errors=True)

    def four_letter(self, cmd, timeout=5.0):
        with socket.create_connection((self.host, self.port), timeout=timeout) as s:
            s.sendall(cmd.encode())
            out = b""
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                chunk = s.recv(65536)
                if not chunk:
                    break
                out += chunk
            return out.decode(errors="replace")
