"""Extended node types and 3.6+ requests via the raw client (kazoo 2.8 lacks
them): containers, TTL nodes, getEphemerals, getAllChildrenNumber.  The harness
runs servers with znode.container.checkIntervalMs=1000 and extended types on."""
import time

from harness import rawzk
from harness.util import wait_until


def test_container_deleted_after_last_child(raw, zk, base):
    c = base + "/box"
    r = raw.create(c, flags=rawzk.CONTAINER)
    assert r.err == 0 and r.value[0] == c
    assert r.value[1].ephemeralOwner == 0          # containers report owner 0
    raw.create(c + "/kid")
    time.sleep(2.5)                                # has a child: survives
    assert raw.exists(c).err == 0
    raw.delete(c + "/kid")
    assert wait_until(lambda: zk.exists(c) is None, timeout=10)


def test_never_used_container_survives(raw, base):
    raw.create(base + "/empty", flags=rawzk.CONTAINER)
    time.sleep(2.5)
    assert raw.exists(base + "/empty").err == 0


def test_container_sequential_and_children(raw, base):
    c = base + "/box"
    raw.create(c, flags=rawzk.CONTAINER)
    assert raw.create(c + "/e", flags=rawzk.EPHEMERAL).err == 0   # not a real ephemeral parent
    r = raw.create(c + "/c", flags=rawzk.CONTAINER)
    assert r.value[0] == c + "/c"


def test_ttl_node_expires(raw, zk, base):
    p = base + "/ttl"
    r = raw.create(p, b"v", flags=rawzk.TTL, ttl=500)
    assert r.err == 0 and r.value[1].ephemeralOwner == 0
    assert wait_until(lambda: zk.exists(p) is None, timeout=10)


def test_ttl_sequential_and_children_keep_alive(raw, base):
    r = raw.create(base + "/t-", flags=rawzk.TTL_SEQ, ttl=300)
    assert r.err == 0 and r.value[0] == base + "/t-0000000000"
    parent = raw.create(base + "/tp", flags=rawzk.TTL, ttl=300).value[0]
    raw.create(parent + "/kid")
    time.sleep(2.5)
    assert raw.exists(parent).err == 0             # has a child: kept
    assert raw.exists(base + "/t-0000000000").err == -101


def test_ttl_argument_errors(raw, base):
    assert raw.create(base + "/a", flags=rawzk.TTL, ttl=0).err == -8
    assert raw.create(base + "/a", flags=rawzk.TTL, ttl=-5).err == -8
    assert raw.create(base + "/a", flags=rawzk.TTL, ttl=1 << 40).err == -8
    assert raw.create(base + "/a", flags=rawzk.PERSISTENT, ttl=100).err == -8
    assert raw.create(base + "/a", flags=rawzk.EPHEMERAL, ttl=100).err == -8
    assert raw.create(base + "/a", flags=rawzk.TTL, ttl=(1 << 40) - 1).err == 0


def test_container_create_via_legacy_opcodes(raw, base):
    # flag 4 through plain create (op 1) is accepted and makes a container
    r = raw.create(base + "/legacy", flags=rawzk.CONTAINER, op=rawzk.CREATE)
    assert (r.err, r.value) == (0, base + "/legacy")


def test_get_ephemerals(raw_factory, target, base):
    a, b = raw_factory(target), raw_factory(target)
    a.create(base + "/a1", flags=rawzk.EPHEMERAL)
    a.create(base + "/a2", flags=rawzk.EPHEMERAL_SEQ)
    b.create(base + "/b1", flags=rawzk.EPHEMERAL)
    a.create(base + "/persistent")
    assert sorted(a.get_ephemerals(base).value) == [base + "/a1", base + "/a20000000001"]
    assert sorted(a.get_ephemerals("/").value) == [base + "/a1", base + "/a20000000001"]
    assert a.get_ephemerals(base + "/a2").value == [base + "/a20000000001"]
    assert a.get_ephemerals(base + "/b").value == []
    assert b.get_ephemerals(base + "/b").value == [base + "/b1"]
    assert b.get_ephemerals("/nonexistent").value == []


def test_get_all_children_number(raw, base):
    for p in ("/a", "/a/b", "/a/b/c", "/d"):
        raw.create(base + p)
    assert raw.get_all_children_number(base).value == 4
    assert raw.get_all_children_number(base + "/a").value == 2
    assert raw.get_all_children_number(base + "/d").value == 0
    assert raw.get_all_children_number(base + "/zz").err == -101
