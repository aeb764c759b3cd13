"""Crash loop: kill -9 under pipelined write load, restart, check what survived.

Each iteration starts the server on the same dataDir, lets SESSIONS sessions
send pipelined writes (creates, setData of a per-session counter, two-create
multis; unique values), SIGKILLs the server after a random delay, restarts it
and checks, per session, that the visible state is exactly a prefix of the ops
sent (no holes, no half-applied multi, values intact) that contains every
acknowledged op, and that the server's zxid is >= the highest acknowledged
zxid (a client that saw it can reconnect; the next write's zxid is higher).
For rzk, the last iteration restarts into the real ZooKeeper instead, which
must pass the same checks on the dataDir rzk left (torn tail and all).

The kill comes once a random number of writes (0 .. 90% of all) were
acknowledged, so writes are in flight whatever the server's speed.
Env: RZK_CRASH_ITERATIONS (default 5), RZK_CRASH_SEED (default: time based,
printed; reproduces the kill points).
Long run: RZK_CRASH_ITERATIONS=200 compat-tests/run -s test_durability_crash.py
(also set COMPAT_TIMEOUT and use -o timeout=0 to lift the per-test limit).
"""
import os
import random
import threading
import time

import pytest

from harness import servers
from harness.durable import PipelinedWriter, connect, read_tree
from harness.util import wait_until

ITERATIONS = int(os.environ.get("RZK_CRASH_ITERATIONS", "5"))
MAX_OPS = 1500  # per session and iteration
SESSIONS = 4
CFG = ["snapCount=150", "preAllocSize=64", "maxSessionTimeout=40000"]


@pytest.mark.parametrize("kind", [servers.target_name()])  # distinct ids per target
def test_kill9_loop(kind):
    seed = int(os.environ.get("RZK_CRASH_SEED", "0")) or (time.time_ns() % 10**9)
    print("crash loop seed %d (RZK_CRASH_SEED=%d reproduces the kill points)" % (seed, seed))
    rng = random.Random(seed)
    srv = servers.Server(kind, extra_cfg=CFG).start()
    history = []  # (iteration, writers, descendant count after its check)
    others = []
    top_zxid = 0  # highest zxid any client has seen
    try:
        c = connect(srv)
        assert c.create("/crash").err == 0
        c.close()
        for it in range(ITERATIONS):
            top = "/crash/i%d" % it
            c = connect(srv)
            assert c.create(top).err == 0
            for s in range(SESSIONS):
                assert c.create("%s/s%d" % (top, s), b"-1").err == 0
            c.close()
            ws = [PipelinedWriter(srv, "%s/s%d" % (top, s), "i%d.s%d" % (it, s), max_ops=MAX_OPS)
                  for s in range(SESSIONS)]
            deadline = time.monotonic() + 30
            threads = [threading.Thread(target=w.run, args=(deadline,)) for w in ws]
            for t in threads:
                t.start()
            # kill once a random number of writes were acknowledged (speed-independent,
            # so writes are always in flight), plus a random sub-millisecond jitter
            kill_at = rng.randint(0, int(0.9 * SESSIONS * MAX_OPS))
            jitter = rng.uniform(0, 0.001)
            t0 = time.monotonic()
            wait_until(lambda: sum(len(w.acked) for w in ws) >= kill_at
                       or not any(t.is_alive() for t in threads), 30, 0.0005)
            time.sleep(jitter)
            delay = time.monotonic() - t0
            srv.kill9()
            for t in threads:
                t.join(timeout=35)
                assert not t.is_alive(), "writer did not notice the kill"
            acked = [z for w in ws for (_, z, _) in w.acked]
            top_zxid = max(acked + [top_zxid])
            print("iteration %d: kill at >=%d acks after %.3fs, sent %d, acked %d, max acked zxid %#x"
                  % (it, kill_at, delay, sum(w.sent for w in ws), len(acked), top_zxid))

            if kind == "rzk" and it == ITERATIONS - 1:
                # the last crash's dataDir (torn tail and all) must be readable by ZooKeeper
                reader = servers.Server("zookeeper", extra_cfg=CFG, data_dir=srv.data_dir)
                others.append(reader.start())
            else:
                reader = srv.start()
            tree, top_zxid = check(reader, top_zxid, it, ws, history, seed)
            history.append((it, ws, len(tree) - 1))
    finally:
        for x in others + [srv]:
            x.cleanup()


def check(srv, top_zxid, it, ws, history, seed):
    """Verify iteration `it` (writers ws) and the older ones; returns its tree and
    the zxid of a write made after the check."""
    # a client that saw top_zxid must be accepted (ZooKeeper refuses a lastZxid
    # ahead of its own by closing the connection)
    c = connect(srv, last_zxid=top_zxid)
    tree = read_tree(c, "/crash/i%d" % it)
    problems = [p for w in ws for p in w.verify(tree)]
    if history:  # the previous iteration's data survived a second crash
        prev_it, prev_ws, _ = history[-1]
        prev = read_tree(c, "/crash/i%d" % prev_it)
        problems += [p for w in prev_ws for p in w.verify(prev)]
    for old_it, _, count in history:
        n = c.get_all_children_number("/crash/i%d" % old_it)
        if (n.err, n.value) != (0, count):
            problems.append("/crash/i%d: %r descendants, had %d" % (old_it, n, count))
    assert problems == [], "%s, seed %d iteration %d:\n%s" % (srv.kind, seed, it,
                                                             "\n".join(problems))
    nxt = c.set_data("/crash", b"%d" % it)
    assert nxt.err == 0 and nxt.zxid > top_zxid, (srv.kind, nxt, top_zxid)
    c.close()
    return tree, nxt.zxid


def _children_of(pid):
    """Pids whose parent is `pid` (from /proc)."""
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/stat" % d) as f:
                    rest = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if rest[1] == str(pid):
                out.append(int(d))
    return out


def _alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.parametrize("kind", [servers.target_name()])
def test_kill9_while_snapshotting_frees_the_port(kind):
    """kill -9 while a snapshot is being written: nothing the server started may outlive
    it (rzk writes snapshots from a forked child, which must not keep the client port or
    the dataDir), the server restarts on the same port, and every acknowledged write is
    there. For rzk the kill must land while a snapshot child runs."""
    cfg = ["snapCount=2000", "preAllocSize=64"]
    srv = servers.Server(kind, extra_cfg=cfg).start()
    try:
        c = connect(srv)
        assert c.create("/snapkill").err == 0
        # ~50 MB of tree (ZooKeeper runs with a 256 MB heap here): a snapshot takes far
        # longer than the check below allows
        big = b"x" * 4000
        from harness import rawzk
        for m in range(600):
            ops = [("create", "/snapkill/f%d-%d" % (m, i), big, rawzk.OPEN_ACL, 0)
                   for i in range(20)]
            assert c.multi(ops)[0] == 0
        c.close()
        ws = [PipelinedWriter(srv, "/snapkill", "w%d" % s, max_ops=100000) for s in range(1)]
        deadline = time.monotonic() + 30
        threads = [threading.Thread(target=w.run, args=(deadline,)) for w in ws]
        for t in threads:
            t.start()
        pid = srv.pid
        kids = []
        if kind == "rzk":
            wait_until(lambda: bool(_children_of(pid)), 25, 0.0005)
            kids = _children_of(pid)
            assert kids, "no snapshot child seen under write load"
        else:
            wait_until(lambda: sum(len(w.acked) for w in ws) >= 3000, 25, 0.001)
        srv.kill9()
        for t in threads:
            t.join(timeout=35)
        # the child dies with the server, not when it has finished writing
        wait_until(lambda: not any(_alive(k) for k in kids), 0.02, 0.002)
        assert not any(_alive(k) for k in kids), "snapshot child outlived the server"
        acked = [i for w in ws for (i, _, err) in w.acked if err == 0]
        srv.start()  # same port, same dataDir
        c = connect(srv)
        last_create = max(i for i in acked if i % 3 == 0)
        r = c.get_data("/snapkill/n%d" % last_create)
        assert r.err == 0 and r.value[0] == b"w0:%d" % last_create, r
        c.close()
    finally:
        srv.cleanup()
