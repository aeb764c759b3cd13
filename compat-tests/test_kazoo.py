"""kazoo against the target: znode CRUD, create modes, Stat bookkeeping, transactions.

Expected values were first observed on Apache ZooKeeper 3.8.0 and are
hard-coded, so the suite proves facts rather than just "rzk == zk".
Watches, sessions, ACLs, extended node types and recipes live in the
sibling test_kazoo_*.py modules.
"""
import pytest
from kazoo import exceptions as ke
from kazoo.exceptions import (BadArgumentsError, BadVersionError, NoChildrenForEphemeralsError,
                              NodeExistsError, NoNodeError, NotEmptyError)

from harness import rawzk


def test_fresh_server_builtin_tree(server_factory, raw_factory):
    srv = server_factory()
    c = raw_factory(srv)
    root = c.exists("/").value
    assert (root.czxid, root.mzxid, root.pzxid, root.ctime, root.mtime) == (0, 0, 0, 0, 0)
    assert (root.version, root.cversion, root.aversion, root.numChildren) == (0, -1, 0, 1)
    assert c.get_children("/").value[0] == ["zookeeper"]
    zkn = c.exists("/zookeeper").value
    assert (zkn.cversion, zkn.numChildren) == (-2, 2)
    assert sorted(c.get_children("/zookeeper").value[0]) == ["config", "quota"]
    assert c.get_all_children_number("/").value == 3
    assert c.get_acl("/zookeeper/config").value[0] == [(1, "world", "anyone")]
    assert c.get_acl("/").value[0] == [(31, "world", "anyone")]
    # readiness probe session (create+close) = zxids 1,2; this session = 3
    r = c.create("/a")
    assert r.zxid == 4 and r.value[1].czxid == 4
    # a failed write still consumes a zxid; reads do not
    assert c.create("/a").err == -110
    assert c.exists("/a").zxid == 5
    assert c.create("/b").zxid == 6
    # reported cversion = 2*creates - numChildren: root had 0 creates, 1 child
    assert c.exists("/").value.cversion == 2 * 2 - 3


def test_create_persistent_and_get(zk, base):
    assert zk.create(base + "/p", b"hello") == base + "/p"
    data, st = zk.get(base + "/p")
    assert data == b"hello"
    assert st.czxid == st.mzxid == st.pzxid
    assert st.ctime == st.mtime and st.ctime > 0
    assert (st.version, st.cversion, st.aversion) == (0, 0, 0)
    assert (st.ephemeralOwner, st.dataLength, st.numChildren) == (0, 5, 0)
    with pytest.raises(NodeExistsError):
        zk.create(base + "/p")
    with pytest.raises(NoNodeError):
        zk.create(base + "/missing/child")
    assert zk.create(base + "/x/y/z", b"d", makepath=True) == base + "/x/y/z"
    assert zk.get(base + "/x/y")[0] == b""


def test_create_ephemeral(zk, base):
    path = zk.create(base + "/e", b"v", ephemeral=True)
    st = zk.exists(path)
    assert st.ephemeralOwner == zk.client_id[0]
    with pytest.raises(NoChildrenForEphemeralsError):
        zk.create(path + "/child")
    with pytest.raises(NoChildrenForEphemeralsError):
        zk.create(path + "/child", ephemeral=True)


def test_sequential_suffix_counts_creates(zk, base):
    p = base + "/q"
    zk.create(p)
    assert zk.create(p + "/s-", sequence=True) == p + "/s-0000000000"
    assert zk.create(p + "/s-", sequence=True) == p + "/s-0000000001"
    zk.create(p + "/plain")                       # any child create bumps the counter
    assert zk.create(p + "/e-", ephemeral=True, sequence=True) == p + "/e-0000000003"
    zk.delete(p + "/s-0000000000")                # deletes never decrement it
    zk.delete(p + "/plain")
    assert zk.create(p + "/s-", sequence=True) == p + "/s-0000000004"
    with pytest.raises(NodeExistsError):
        zk.create(p + "/s-0000000001")            # failed create: no bump
    assert zk.create(p + "/", sequence=True) == p + "/0000000005"  # trailing slash is legal
    st = zk.exists(p)
    assert (st.numChildren, st.cversion) == (4, 2 * 6 - 4)


def test_parent_stat_after_creates_and_deletes(zk, base):
    p = base + "/par"
    zk.create(p, b"abc")
    before = zk.exists(p)
    zk.create(p + "/a")
    zk.create(p + "/b")
    st = zk.exists(p)
    assert (st.cversion, st.numChildren) == (2, 2)
    assert st.pzxid == zk.exists(p + "/b").czxid
    assert (st.mzxid, st.mtime, st.version) == (before.mzxid, before.mtime, 0)
    zk.delete(p + "/a")
    st2 = zk.exists(p)
    assert (st2.cversion, st2.numChildren) == (3, 1)
    assert st2.pzxid > st.pzxid
    assert st2.mzxid == before.mzxid


def test_set_data_versions(zk, base):
    p = base + "/v"
    zk.create(p, b"1")
    st = zk.set(p, b"22")
    assert (st.version, st.dataLength) == (1, 2)
    assert st.mzxid > st.czxid and st.mtime >= st.ctime
    assert st.pzxid == st.czxid
    st = zk.set(p, b"333", version=1)
    assert st.version == 2
    with pytest.raises(BadVersionError):
        zk.set(p, b"x", version=1)
    with pytest.raises(NoNodeError):
        zk.set(base + "/nope", b"x")
    assert zk.set(p, b"", version=-1).dataLength == 0
    assert zk.get(p)[0] == b""


def test_set_acl_bumps_aversion_only(zk, base):
    p = base + "/acl"
    zk.create(p)
    st0 = zk.exists(p)
    st = zk.set_acls(p, [ke_open()], version=0)
    assert (st.aversion, st.version, st.mzxid) == (1, 0, st0.mzxid)
    with pytest.raises(BadVersionError):
        zk.set_acls(p, [ke_open()], version=0)


def ke_open():
    from kazoo.security import OPEN_ACL_UNSAFE
    return OPEN_ACL_UNSAFE[0]


def test_null_vs_empty_data(raw, zk, base):
    r = raw.create(base + "/null", None)
    assert r.err == 0
    data, st = raw.get_data(base + "/null").value
    assert data is None and st.dataLength == 0
    raw.create(base + "/empty", b"")
    data, st = raw.get_data(base + "/empty").value
    assert data == b"" and st.dataLength == 0
    raw.set_data(base + "/empty", None)
    assert raw.get_data(base + "/empty").value[0] is None
    assert zk.get(base + "/null")[0] is None


def test_delete_semantics(zk, base, raw):
    p = base + "/d"
    zk.create(p + "/child", makepath=True)
    with pytest.raises(BadVersionError):        # version is checked before emptiness
        zk.delete(p, version=5)
    with pytest.raises(NotEmptyError):
        zk.delete(p)
    with pytest.raises(NoNodeError):
        zk.delete(base + "/none")
    zk.delete(p, recursive=True)
    assert zk.exists(p) is None
    for special in ("/", "/zookeeper", "/zookeeper/quota", "/zookeeper/config"):
        assert raw.delete(special).err == -8
    assert raw.delete(base + "/nope/x").err == -101


def test_invalid_paths(raw, base):
    # the parent is looked up before the full path is validated
    for bad in ("a", "/a\u0000b", base + "/", base + "/.", base + "/..", base + "/x\u0001"):
        assert raw.create(bad).err == -8, repr(bad)
    assert raw.create("/nope/").err == -101
    assert raw.create(base + "//b").err == -101
    assert raw.create(base + "/x", flags=7).err == -8        # unknown create flag
    assert raw.exists(base + "/").err == -101                # reads look paths up literally


def test_get_children_and_include_data(zk, base):
    for name in ("c1", "c2", "c3"):
        zk.create(base + "/" + name, name.encode())
    assert sorted(zk.get_children(base)) == ["c1", "c2", "c3"]
    kids, st = zk.get_children(base, include_data=True)
    assert sorted(kids) == ["c1", "c2", "c3"]
    assert (st.numChildren, st.cversion) == (3, 3)
    with pytest.raises(NoNodeError):
        zk.get_children(base + "/nope")


def test_sync(zk, base, raw):
    assert zk.sync(base) == base
    r = raw.sync(base)
    assert (r.err, r.value) == (0, base)


def test_transaction_success(zk, base):
    t = zk.transaction()
    t.create(base + "/a", b"1")
    t.set_data(base + "/a", b"2")          # earlier ops are visible to later ones
    t.create(base + "/s-", sequence=True)
    t.create(base + "/s-", sequence=True)
    t.check(base + "/a", 1)
    t.delete(base + "/a")
    res = t.commit()
    assert res[0] == base + "/a"
    assert res[1].version == 1
    assert res[2:4] == [base + "/s-0000000001", base + "/s-0000000002"]
    assert res[4] is True and res[5] is True
    assert zk.exists(base + "/a") is None
    st = zk.exists(base + "/s-0000000001")
    assert st.czxid == zk.exists(base + "/s-0000000002").czxid   # one zxid for the multi


def test_transaction_failure_is_atomic(zk, base):
    zk.create(base + "/exists")
    t = zk.transaction()
    t.create(base + "/new")
    t.set_data(base + "/new", b"x")
    t.create(base + "/exists")
    t.delete(base + "/new")
    res = t.commit()
    assert [type(r) for r in res] == [ke.RolledBackError, ke.RolledBackError,
                                      NodeExistsError, ke.RuntimeInconsistency]
    assert zk.exists(base + "/new") is None
    t = zk.transaction()
    t.check(base + "/exists", 3)
    t.create(base + "/new2")
    res = t.commit()
    assert [type(r) for r in res] == [BadVersionError, ke.RuntimeInconsistency]
    assert zk.exists(base + "/new2") is None


def test_failed_multi_consumes_one_zxid(raw, base):
    z0 = raw.create(base + "/m0").zxid
    body = b""
    for path in (base + "/m1", base + "/m0"):
        body += (rawzk.p_int(1) + rawzk.p_bool(False) + rawzk.p_int(-1) + rawzk.p_str(path)
                 + rawzk.p_buf(b"") + rawzk.p_acl(rawzk.OPEN_ACL) + rawzk.p_int(0))
    body += rawzk.p_int(-1) + rawzk.p_bool(True) + rawzk.p_int(-1)
    err, zxid, rbody = raw.call(rawzk.MULTI, body)
    assert (err, zxid) == (0, z0 + 1)
    r = rawzk.Reader(rbody)
    assert [(r.int(), r.bool(), r.int(), r.int()) for _ in range(2)] == [
        (-1, False, 0, 0), (-1, False, -110, -110)]
    assert (r.int(), r.bool(), r.int()) == (-1, True, -1)
    assert raw.create(base + "/m2").zxid == z0 + 2


def test_multi_read(raw, base):
    raw.create(base + "/r", b"data")
    res = raw.multi_read([(rawzk.GETDATA, base + "/r"), (rawzk.GETCHILDREN, base),
                          (rawzk.GETDATA, base + "/none")]).value
    assert res[0][0:2] == (rawzk.GETDATA, 0) and res[0][2][0] == b"data"
    assert res[1] == (rawzk.GETCHILDREN, 0, ["r"])
    assert res[2] == (-1, -101, -101)


def test_large_values_round_trip(zk, base):
    """Values around the size rzk starts slicing frames instead of copying (1 KiB), up to
    near jute.maxbuffer, pipelined so that frames share read buffers and arrive split
    across reads: every byte comes back where it was written."""
    import os
    sizes = [1023, 1024, 1025, 10_000, 65_537, 1_000_000]
    values = {n: os.urandom(n) for n in sizes}
    pending = [(n, zk.create_async(f"{base}/v{n}", values[n])) for n in sizes]
    for n, a in pending:
        assert a.get(timeout=30) == f"{base}/v{n}"
    for n in sizes:
        data, st = zk.get(f"{base}/v{n}")
        assert data == values[n] and st.dataLength == n
    # setData with other large values, pipelined, then read back
    again = {n: os.urandom(n) for n in sizes}
    sets = [(n, zk.set_async(f"{base}/v{n}", again[n])) for n in sizes]
    assert [a.get(timeout=30).version for _, a in sets] == [1] * len(sizes)
    gets = [(n, zk.get_async(f"{base}/v{n}")) for n in sizes]
    for n, a in gets:
        assert a.get(timeout=30)[0] == again[n]
    # a multi carrying large values
    t = zk.transaction()
    t.create(base + "/t1", values[10_000])
    t.set_data(base + "/v1024", values[65_537])
    t.create(base + "/t2", values[1025])
    assert t.commit() == [base + "/t1", zk.exists(base + "/v1024"), base + "/t2"]
    assert zk.get(base + "/t1")[0] == values[10_000]
    assert zk.get(base + "/v1024")[0] == values[65_537]
    assert zk.get(base + "/t2")[0] == values[1025]
