"""Sessions: ephemerals on close/expiry, resumption by id+password, bad
passwords, negotiated timeouts.  Expiry runs on a separate server with
tickTime=500 and minSessionTimeout=1000 so it takes seconds, not minutes."""
import time

import pytest
from kazoo.client import KazooClient
from kazoo.protocol.states import EventType

from harness import rawzk
from harness.util import EventLog, wait_until


def test_ephemeral_removed_on_close(kazoo_factory, target, base):
    owner, watcher = kazoo_factory(target), kazoo_factory(target)
    p = owner.create(base + "/e", ephemeral=True)
    ev = EventLog()
    watcher.exists(p, watch=ev)
    kids = EventLog()
    watcher.get_children(base, watch=kids)
    owner.stop()
    assert ev.wait(1) == [(EventType.DELETED, p)]
    assert kids.wait(1) == [(EventType.CHILD, base)]
    assert watcher.exists(p) is None


def test_close_deletes_all_ephemerals_in_one_txn(raw_factory, target, zk, base):
    c = raw_factory(target)
    c.create(base + "/e1", flags=rawzk.EPHEMERAL)
    last = c.create(base + "/e2", flags=rawzk.EPHEMERAL).zxid
    err, close_zxid, _ = c.call(rawzk.CLOSE)
    assert err == 0 and close_zxid == last + 1
    st = zk.exists(base)
    assert st.pzxid == close_zxid and st.numChildren == 0


def test_session_timeout_negotiation(server_factory, raw_factory):
    srv = server_factory(tick_time=500, min_session_timeout=1000, max_session_timeout=3000)
    assert raw_factory(srv, timeout_ms=10).timeout == 1000
    assert raw_factory(srv, timeout_ms=2000).timeout == 2000
    assert raw_factory(srv, timeout_ms=60000).timeout == 3000
    default = server_factory()                          # tickTime 2000: [4000, 40000]
    assert raw_factory(default, timeout_ms=100).timeout == 4000
    assert raw_factory(default, timeout_ms=100000).timeout == 40000


def test_session_expiry_removes_ephemerals(server_factory, raw_factory, kazoo_factory):
    srv = server_factory(tick_time=500, min_session_timeout=1000)
    c = raw_factory(srv, timeout_ms=1000)
    assert c.create("/eph", flags=rawzk.EPHEMERAL).err == 0
    w = raw_factory(srv, timeout_ms=20000)
    w.exists("/eph", watch=True)
    c.drop()                                            # no close: must expire
    t0 = time.monotonic()
    w.wait_events(1, timeout=8)
    assert [e[:3] for e in w.events] == [(2, 3, "/eph")]
    assert time.monotonic() - t0 < 6
    # resuming the expired session is refused with timeout 0 / id 0
    r = rawzk.RawClient(srv.host, srv.port, session_id=c.session_id, passwd=c.passwd)
    assert (r.timeout, r.session_id, r.passwd) == (0, 0, b"\0" * 16)
    r.drop()


def test_kazoo_resuming_closed_session_is_lost(target, raw_factory):
    c = raw_factory(target)
    sid, pwd = c.session_id, c.passwd
    c.close()
    zk = KazooClient(hosts=target.hosts, timeout=4.0, client_id=(sid, pwd))
    try:
        # kazoo treats the refusal as expiry and silently opens a new session
        zk.start(timeout=15)
        assert zk.connected and zk.client_id[0] not in (0, sid)
    finally:
        zk.stop()
        zk.close()


def test_session_resumption(raw_factory, kazoo_factory, target, base):
    a = kazoo_factory(target)
    p = a.create(base + "/e", ephemeral=True)
    sid, pwd = a.client_id
    r = raw_factory(target, session_id=sid, passwd=pwd)
    assert r.session_id == sid and r.passwd == pwd
    assert r.get_ephemerals(base).value == [p]
    assert r.exists(p).value.ephemeralOwner == sid
    b = kazoo_factory(target, client_id=(sid, pwd))
    assert b.client_id[0] == sid
    assert b.exists(p).ephemeralOwner == sid


def test_wrong_password_is_expired(raw_factory, target):
    a = raw_factory(target)
    bad = bytes(16 - len(b"x")) + b"x"
    r = rawzk.RawClient(target.host, target.port, session_id=a.session_id, passwd=bad)
    assert (r.protocol_version, r.timeout, r.session_id, r.passwd) == (0, 0, 0, b"\0" * 16)
    with pytest.raises((ConnectionError, OSError)):
        r.ping()
    r.drop()
    # surprising but real: the server first closes the session's existing
    # connection, then rejects the password; the session itself survives
    with pytest.raises((ConnectionError, OSError)):
        a.ping()
    again = raw_factory(target, session_id=a.session_id, passwd=a.passwd)
    assert again.session_id == a.session_id and again.ping() == 0


def test_session_ids_and_passwords(raw_factory, target):
    a, b = raw_factory(target), raw_factory(target)
    assert b.session_id == a.session_id + 1
    assert a.session_id >> 56 == 1               # standalone server id 1
    assert len(a.passwd) == 16 and a.passwd != b.passwd


def test_client_seen_newer_zxid_is_refused(raw_factory, target):
    a = raw_factory(target)
    last = a.sync("/").zxid
    with pytest.raises((ConnectionError, OSError)):
        rawzk.RawClient(target.host, target.port, last_zxid=last + 1000, io_timeout=5)
