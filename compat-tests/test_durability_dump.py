"""Dump tools: `rzk log dump FILE`, `rzk snapshot dump FILE [--json]`.

A writer server (real ZooKeeper, and for the rzk target rzk too) runs a small
workload with snapCount=20 so logs roll and snapshots are taken; then the dump
tool of the target reads the files: the log dumps must name every written
path and the txn kinds (create, setData, delete, multi), the newest snapshot
dump must name every live node and not the deleted one, and --json must be
valid JSON naming them.  Against ZooKeeper the same assertions run on its own
tools (TxnLogToolkit, SnapshotFormatter [-d|-json]) to prove the test, and
against rzk those tools must also read rzk's files.  ZooKeeper's JSON is
ncdu-style with base names, hence "path or base name" below.
"""
import json
import subprocess

import pytest

from harness import rawzk, servers
from harness.durable import connect, data_files, dump_command

TARGET = servers.target_name()
# (writer of the files, dump tool); ZooKeeper's own tools must also read rzk's files
COMBOS = ([("zookeeper", "zookeeper")] if TARGET == "zookeeper" else
          [("zookeeper", "rzk"), ("rzk", "rzk"), ("rzk", "zookeeper")])
LIVE = ["/dump_alpha", "/dump_gamma", "/dump_multi_x", "/dump_multi_y", "/dump_fill/f0"]
DELETED = "/dump_alpha/dump_beta"


@pytest.fixture(scope="module", params=COMBOS, ids=["%s-files-%s-tool" % c for c in COMBOS])
def written(request):
    writer, tool = request.param
    srv = servers.Server(writer, extra_cfg=["snapCount=20", "preAllocSize=64"]).start()
    srv.tool = tool
    try:
        c = connect(srv)
        assert c.create("/dump_alpha", b"hello").err == 0
        assert c.create(DELETED, b"\x00\x01").err == 0
        assert c.set_data("/dump_alpha", b"changed").err == 0
        assert c.delete(DELETED).err == 0
        assert c.create("/dump_gamma", None).err == 0
        err, _ = c.multi([("create", "/dump_multi_x", b"x", rawzk.OPEN_ACL, 0),
                          ("create", "/dump_multi_y", b"y", rawzk.OPEN_ACL, 0)])
        assert err == 0
        assert c.create("/dump_fill").err == 0
        for i in range(30):
            assert c.create("/dump_fill/f%d" % i, b"%d" % i).err == 0
        c.close()
        srv.kill9()
        yield srv
    finally:
        srv.cleanup()


def run_dump(tool, what, path, as_json=False):
    argv = dump_command(tool, what, path, as_json)
    r = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, "%s -> %d\n%s" % (argv, r.returncode, r.stderr[-2000:])
    assert r.stdout.strip(), "%s printed nothing" % argv
    assert "CRC ERROR" not in r.stdout, "checksum errors:\n" + r.stdout[-2000:]
    return r.stdout


def test_log_dump(written):
    logs = data_files(written.data_dir, "log")
    assert len(logs) >= 2, logs
    out = "\n".join(run_dump(written.tool, "log", f) for f in logs)
    missing = [p for p in LIVE + [DELETED] if p not in out]
    assert missing == [], "log dump does not name %s" % missing
    low = out.lower()
    for kind in ("create", "setdata", "delete", "multi", "createsession"):
        assert kind in low, "log dump names no %s txn" % kind


def newest_snapshot(srv):
    snaps = data_files(srv.data_dir, "snapshot")
    assert len(snaps) >= 2, snaps
    return snaps[-1]


def test_snapshot_dump(written):
    out = run_dump(written.tool, "snapshot", newest_snapshot(written))
    missing = [p for p in LIVE if p not in out]
    assert missing == [], "snapshot dump does not name %s" % missing
    assert DELETED not in out


def strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from strings(v)


def test_snapshot_dump_json(written):
    doc = json.loads(run_dump(written.tool, "snapshot", newest_snapshot(written), as_json=True))
    names = set(strings(doc))
    missing = [p for p in LIVE if p not in names and p.rsplit("/", 1)[1] not in names]
    assert missing == [], "JSON snapshot dump does not name %s" % missing
    assert DELETED not in names and "dump_beta" not in names
