"""Helpers for the durability suites (test_durability_*.py).

* `DClient`: rawzk.RawClient plus a write `multi`.
* `read_tree`: every node's data, full Stat and ACL, walked from "/".
* `PipelinedWriter`: one session sending pipelined writes with unique values and
  recording which were acknowledged, for kill -9 tests.
* `SmallFs`: a size-limited filesystem (tmpfs, else loop-mounted ext4).
* `dump_command`: `rzk log|snapshot dump` or ZooKeeper's own dump tools.
Every wait is bounded.
"""
import os
import subprocess
import tempfile
import time
from collections import deque

from . import rawzk, servers
from .rawzk import p_acl, p_bool, p_buf, p_int, p_str

SUPER_AUTH = b"super:secret"  # matches servers.SUPER_DIGEST


class DClient(rawzk.RawClient):
    def multi(self, ops):
        """ops: ("create", path, data, acl, flags) | ("set", path, data, version)
        | ("delete", path, version) | ("check", path, version).  Returns (err, zxid)."""
        err, zxid, _ = self.call(rawzk.MULTI, multi_body(ops))
        return err, zxid


def multi_body(ops):
    body = b""
    for op in ops:
        kind = op[0]
        if kind == "create":
            _, path, data, acl, flags = op
            body += p_int(rawzk.CREATE) + p_bool(False) + p_int(-1)
            body += p_str(path) + p_buf(data) + p_acl(acl) + p_int(flags)
        elif kind == "set":
            body += p_int(rawzk.SETDATA) + p_bool(False) + p_int(-1)
            body += p_str(op[1]) + p_buf(op[2]) + p_int(op[3])
        elif kind == "delete":
            body += p_int(rawzk.DELETE) + p_bool(False) + p_int(-1) + p_str(op[1]) + p_int(op[2])
        elif kind == "check":
            body += p_int(rawzk.CHECK) + p_bool(False) + p_int(-1) + p_str(op[1]) + p_int(op[2])
        else:
            raise ValueError(kind)
    return body + p_int(-1) + p_bool(True) + p_int(-1)


def connect(server, **kw):
    """A DClient authenticated as super (reads every node whatever its ACL)."""
    c = DClient(server.host, server.port, **kw)
    assert c.add_auth("digest", SUPER_AUTH) == 0
    return c


def read_tree(client, root="/", limit=20000):
    """{path: (data, Stat, acl)} for `root` and everything under it."""
    out, todo = {}, [root]
    while todo:
        path = todo.pop()
        d = client.get_data(path)
        a = client.get_acl(path)
        ch = client.get_children(path)
        if d.err == -101:  # vanished meanwhile (e.g. a container)
            continue
        assert d.err == 0 and a.err == 0 and ch.err == 0, (path, d.err, a.err, ch.err)
        out[path] = (d.value[0], d.value[1], sorted(a.value[0]))
        todo += [(path.rstrip("/") + "/" + c) for c in ch.value[0]]
        assert len(out) < limit, "tree walk bound exceeded"
    return out


def diff_trees(a, b, max_lines=30):
    """Human-readable differences between two read_tree results ([] if identical)."""
    lines = []
    for p in sorted(set(a) | set(b)):
        if p not in a or p not in b:
            lines.append("%s only in %s" % (p, "first" if p in a else "second"))
        elif a[p] != b[p]:
            for name, x, y in zip(("data", "stat", "acl"), a[p], b[p]):
                if x != y:
                    lines.append("%s %s: %r != %r" % (p, name, x, y))
    return lines[:max_lines]


class PipelinedWriter:
    """One session; op i (i = 0, 1, ...) cycles through
    0: create <base>/n<i> data b"<tag>:<i>"; 1: setData <base> b"<i>";
    2: multi create <base>/m<i>a + <base>/m<i>b (data b"<tag>:<i>").
    Keeps `window` requests in flight; `acked` = [(i, zxid, err)], in order."""

    def __init__(self, server, base, tag, window=16, max_ops=3000):
        self.base, self.tag, self.window, self.max_ops = base, tag, window, max_ops
        self.c = DClient(server.host, server.port, timeout_ms=30000, io_timeout=20.0)
        self.acked, self.sent, self.error = [], 0, None

    def request(self, i):
        val = ("%s:%d" % (self.tag, i)).encode()
        if i % 3 == 0:
            return rawzk.CREATE, (p_str("%s/n%d" % (self.base, i)) + p_buf(val) +
                                  p_acl(rawzk.OPEN_ACL) + p_int(0))
        if i % 3 == 1:
            return rawzk.SETDATA, p_str(self.base) + p_buf(b"%d" % i) + p_int(-1)
        m = "%s/m%d" % (self.base, i)
        return rawzk.MULTI, multi_body([("create", m + "a", val, rawzk.OPEN_ACL, 0),
                                        ("create", m + "b", val, rawzk.OPEN_ACL, 0)])

    def run(self, deadline):
        inflight = deque()
        try:
            while time.monotonic() < deadline:
                while len(inflight) < self.window and self.sent < self.max_ops:
                    op, body = self.request(self.sent)
                    self.c._send(p_int(self.sent + 1) + p_int(op) + body)
                    inflight.append(self.sent + 1)
                    self.sent += 1
                if not inflight:
                    break
                xid, zxid, err, _ = self.c._read_reply()
                assert xid == inflight.popleft(), "reply out of order"
                self.acked.append((xid - 1, zxid, err))
        except (OSError, ConnectionError) as e:
            self.error = e
        finally:
            self.c.drop()

    def verify(self, tree):
        """Check the restarted server's tree; returns a list of problems."""
        bad = []
        if self.base not in tree:
            return ["%s missing" % self.base]
        v = int(tree[self.base][0])
        present = [i for i in range(self.sent) if i % 3 != 1 and
                   ("%s/n%d" % (self.base, i) in tree or "%s/m%da" % (self.base, i) in tree)]
        durable = max(present + [v])  # highest op index that is visibly applied
        last_ack = self.acked[-1][0] if self.acked else -1
        if durable < last_ack:
            bad.append("%s: acknowledged op %d lost (state only reaches op %d)"
                       % (self.base, last_ack, durable))
        for i, _, err in self.acked:
            if err != 0:
                bad.append("%s: op %d acknowledged with err %d" % (self.base, i, err))
        want_v = max([i for i in range(durable + 1) if i % 3 == 1] + [-1])
        if v != want_v:
            bad.append("%s: counter is %d, expected %d (prefix up to op %d)"
                       % (self.base, v, want_v, durable))
        val = lambda i: ("%s:%d" % (self.tag, i)).encode()
        for i in range(0, durable + 1):
            if i % 3 == 0:
                names = ["%s/n%d" % (self.base, i)]
            elif i % 3 == 2:
                names = ["%s/m%da" % (self.base, i), "%s/m%db" % (self.base, i)]
            else:
                continue
            for n in names:
                if n not in tree:
                    bad.append("hole: %s missing but op %d is applied" % (n, durable))
                elif tree[n][0] != val(i):
                    bad.append("%s has %r, expected %r" % (n, tree[n][0], val(i)))
        ma = {p for p in tree if p.startswith(self.base + "/m")}
        for p in ma:
            other = p[:-1] + ("b" if p.endswith("a") else "a")
            if other not in tree:
                bad.append("half-applied multi: %s present, %s absent" % (p, other))
        return bad[:20]


class SmallFs:
    """A filesystem of `size_mb` MiB mounted at a temp dir: tmpfs, else a
    loop-mounted ext4 image.  Needs root.  `how` says which was used."""

    def __init__(self, size_mb=8):
        self.path = tempfile.mkdtemp(prefix="compat-smallfs-")
        self.image = None
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%dm" % size_mb, "tmpfs",
                            self.path], capture_output=True, text=True, timeout=30)
        if r.returncode == 0:
            self.how = "tmpfs"
            return
        self.image = self.path + ".img"
        with open(self.image, "wb") as f:
            f.truncate(size_mb << 20)
        subprocess.run(["mkfs.ext4", "-q", "-F", self.image], check=True, timeout=60)
        r2 = subprocess.run(["mount", "-o", "loop", self.image, self.path],
                            capture_output=True, text=True, timeout=30)
        if r2.returncode != 0:
            os.unlink(self.image)
            raise RuntimeError("cannot mount a small filesystem: tmpfs: %s; loop ext4: %s"
                               % (r.stderr.strip(), r2.stderr.strip()))
        self.how = "ext4 loop image"

    def free_bytes(self):
        st = os.statvfs(self.path)
        return st.f_bavail * st.f_frsize

    def fill(self, name, leave_bytes):
        """Write a filler file until only about `leave_bytes` are free; returns its path."""
        path = os.path.join(self.path, name)
        with open(path, "wb") as f:
            chunk = b"\xff" * 65536
            while self.free_bytes() > leave_bytes + len(chunk):
                f.write(chunk)
                f.flush()
            os.fsync(f.fileno())
        return path

    def close(self):
        subprocess.run(["umount", "-l", self.path], capture_output=True, timeout=30)
        if self.image:
            os.unlink(self.image)
        os.rmdir(self.path)


def dump_command(kind, what, path, json=False):
    """argv that dumps a txn log (what='log') or snapshot (what='snapshot')."""
    if kind == "rzk":
        return [servers.rzk_bin(), what, "dump", path] + (["--json"] if json else [])
    java = ["java", "-Xmx256m", "-XX:TieredStopAtLevel=1", "-cp", servers.JAVA_CP]
    if what == "log":
        return java + ["org.apache.zookeeper.server.persistence.TxnLogToolkit", "-d", path]
    return java + ["org.apache.zookeeper.server.SnapshotFormatter"] + \
        (["-json"] if json else ["-d"]) + [path]


def data_files(data_dir, prefix):
    """Files named <prefix>.<hex zxid> in dataDir/version-2, sorted by zxid."""
    d = os.path.join(data_dir, "version-2")
    names = [n for n in os.listdir(d) if n.startswith(prefix + ".")] if os.path.isdir(d) else []
    return [os.path.join(d, n) for n in sorted(names, key=lambda n: int(n.split(".")[1], 16))]
