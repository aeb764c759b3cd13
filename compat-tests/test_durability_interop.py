"""Durability interop: one server writes a dataDir, another recovers it.

A workload with every kind of node (null/empty/binary data, sequential,
ephemeral of a live session, container with a child, TTL, digest/ip ACLs with
setAcl'd aversions, setData'd versions, deleted children, a multi, a failed
write) runs on the writer with snapCount=50 so several txn logs and snapshots
exist; every node's data, 11-field Stat and ACL is recorded; the writer is
killed with SIGKILL and the reader starts on the SAME dataDir.  The reader
must show identical data/Stat/ACL for every node, keep the live session (and
its ephemerals) when the client resumes it, and continue the zxid sequence.
A ZooKeeper reader must log no ERROR (3.8 only logs digest mismatches).

Pairs: against ZooKeeper, zookeeper->zookeeper (proves the test); against rzk,
zookeeper->rzk, rzk->zookeeper and rzk->rzk; plus variants with compressed
ZooKeeper snapshots (gz, snappy) and a separate dataLogDir.
"""
import base64
import hashlib

import pytest

from harness import rawzk, servers
from harness.durable import DClient, connect, data_files, diff_trees, read_tree
from harness.rawzk import p_acl, p_int, p_str
from harness.util import wait_until

CFG = ["snapCount=50", "preAllocSize=64", "minSessionTimeout=4000", "maxSessionTimeout=40000"]
OPEN = rawzk.OPEN_ACL
DIGEST_ID = "user:" + base64.b64encode(hashlib.sha1(b"user:pw").digest()).decode()

# (writer, reader, variant): "plain"; "gz"/"snappy" = ZooKeeper's
# snapshot.compression.method (snapshot.<zxid>.gz|.snappy); "logdir" = a separate dataLogDir
if servers.target_name() == "zookeeper":
    PAIRS = [("zookeeper", "zookeeper", v) for v in ("plain", "gz", "snappy", "logdir")]
else:
    PAIRS = [("zookeeper", "rzk", "plain"), ("rzk", "zookeeper", "plain"), ("rzk", "rzk", "plain"),
             ("zookeeper", "rzk", "gz"), ("zookeeper", "rzk", "snappy"),
             ("zookeeper", "rzk", "logdir"), ("rzk", "zookeeper", "logdir")]


def ok(reply):
    assert reply.err == 0, reply
    return reply


def set_acl(c, path, acl, version=-1):
    err, zxid, _ = c.call(rawzk.SETACL, p_str(path) + p_acl(acl) + p_int(version))
    assert err == 0, (path, err)
    return zxid


def workload(c, keeper):
    """Returns the highest zxid of a reply seen."""
    zx = [ok(c.create("/d", None)).zxid]
    ok(c.create("/d/null", None))
    ok(c.create("/d/empty", b""))
    ok(c.create("/d/bin", bytes(range(256)) * 4))
    ok(c.create("/d/seq"))
    for _ in range(4):
        ok(c.create("/d/seq/s-", b"x", flags=rawzk.PERSISTENT_SEQ))
    ok(keeper.create("/d/eph", b"mine", flags=rawzk.EPHEMERAL))
    ok(keeper.create("/d/seq/e-", None, flags=rawzk.EPHEMERAL_SEQ))
    ok(c.create("/d/cont", b"c", flags=rawzk.CONTAINER))
    ok(c.create("/d/cont/child", b"k"))
    ok(c.create("/d/cont_unused", None, flags=rawzk.CONTAINER))
    ok(c.create("/d/ttl", b"t", flags=rawzk.TTL, ttl=3600 * 1000))
    ok(c.create("/d/acl_digest", b"secret", acl=[(31, "digest", DIGEST_ID)]))
    ok(c.create("/d/acl_ip", b"ip", acl=[(31, "ip", "127.0.0.1"), (1, "ip", "10.0.0.0/8")]))
    ok(c.create("/d/acl_set", b"a"))
    set_acl(c, "/d/acl_set", [(1, "world", "anyone"), (31, "digest", DIGEST_ID)])
    set_acl(c, "/d/acl_set", [(3, "world", "anyone")], version=1)
    ok(c.create("/d/ver", b"v0"))
    for i in range(1, 6):
        ok(c.set_data("/d/ver", b"v%d" % i))
    ok(c.create("/d/parent"))
    for i in range(6):
        ok(c.create("/d/parent/c%d" % i))
    for i in (1, 3, 5):
        ok(c.delete("/d/parent/c%d" % i))
    assert c.create("/d/parent/c0").err == -110  # failed write: an error txn
    err, _ = c.multi([("create", "/d/multi", b"m", OPEN, 0), ("set", "/d/ver", b"vm", 5),
                      ("check", "/d/parent", -1)])
    assert err == 0
    ok(c.create("/d/bulk"))
    for i in range(120):
        ok(c.create("/d/bulk/k%03d" % i, b"%d" % i))
        if i % 2:
            ok(c.set_data("/d/bulk/k%03d" % i, b"set%d" % i))
    for i in range(0, 120, 7):
        ok(c.delete("/d/bulk/k%03d" % i))
    zx.append(ok(c.set_data("/d", b"done")).zxid)
    return max(zx)


def ident(pair):
    return "%s-to-%s" % pair[:2] + ("" if pair[2] == "plain" else "-" + pair[2])


@pytest.mark.parametrize("writer,reader,variant", PAIRS, ids=[ident(p) for p in PAIRS])
def test_recover_other_servers_datadir(writer, reader, variant, tmp_path):
    cfg = CFG + {"plain": [], "gz": ["snapshot.compression.method=gz"],
                 "snappy": ["snapshot.compression.method=snappy"],
                 "logdir": ["dataLogDir=%s" % tmp_path]}[variant]
    w = servers.Server(writer, extra_cfg=cfg).start()
    log_dir = str(tmp_path) if variant == "logdir" else w.data_dir
    r = keeper = None
    try:
        c = connect(w)
        keeper = DClient(w.host, w.port, timeout_ms=30000)
        last = workload(c, keeper)
        before = read_tree(c)
        c.close()
        keeper.drop()  # the session stays alive
        # snapshots are written in the background: give them a bounded moment
        wait_until(lambda: len(data_files(w.data_dir, "snapshot")) >= 2, 10)
        logs, snaps = data_files(log_dir, "log"), data_files(w.data_dir, "snapshot")
        assert len(logs) >= 3 and len(snaps) >= 2, (logs, snaps)
        w.kill9()

        r = servers.Server(reader, extra_cfg=cfg, data_dir=w.data_dir).start()
        k2 = DClient(r.host, r.port, timeout_ms=30000, session_id=keeper.session_id,
                     passwd=keeper.passwd, last_zxid=last)
        assert (k2.session_id, k2.timeout > 0) == (keeper.session_id, True), \
            "live session was not restored"
        c = connect(r)
        after = read_tree(c)
        assert diff_trees(before, after) == []
        assert after["/d/eph"][1].ephemeralOwner == keeper.session_id
        nxt = ok(c.set_data("/d", b"next"))
        assert nxt.zxid > last, "zxid went backwards: %#x after %#x" % (nxt.zxid, last)
        k2.close()  # closing the restored session removes its ephemerals
        assert c.exists("/d/eph").err == -101
        assert c.get_children("/d/seq").value[0] and \
            not any(n.startswith("e-") for n in c.get_children("/d/seq").value[0])
        c.close()
        if reader == "zookeeper":  # e.g. digest mismatches or bad records only log errors
            with open(r.log, errors="replace") as f:
                errors = [line for line in f if " ERROR " in line]
            assert errors == [], "ZooKeeper logged errors reading the dataDir:\n" + "".join(errors[:10])
    finally:
        for s in (r, w):
            if s is not None:
                s.cleanup()  # r's dataDir is w's: removed with w's temp dir
