"""Watches through kazoo (one-shot) and the raw client (persistent, recursive,
removeWatches/checkWatches, which kazoo 2.8 cannot send).

Trigger table under test (PROTOCOL.md 5.8): exists-watch fires on
Created/Deleted/DataChanged, getData-watch on Deleted/DataChanged,
getChildren-watch on ChildrenChanged/Deleted; all are one-shot.
"""
from kazoo.protocol.states import EventType

from harness.util import EventLog

CREATED, DELETED, CHANGED, CHILD = 1, 2, 3, 4


def test_exists_watch_on_missing_node_fires_created(zk, base):
    ev = EventLog()
    assert zk.exists(base + "/n", watch=ev) is None
    zk.create(base + "/n")
    assert ev.wait(1) == [(EventType.CREATED, base + "/n")]
    zk.set(base + "/n", b"x")                         # one-shot: no second event
    zk.sync(base)
    assert ev.wait(2, timeout=0.5) == [(EventType.CREATED, base + "/n")]


def test_exists_watch_fires_changed_and_deleted(zk, base):
    p = zk.create(base + "/n")
    ev = EventLog()
    zk.exists(p, watch=ev)
    zk.set(p, b"1")
    zk.exists(p, watch=ev)
    zk.delete(p)
    assert ev.wait(2) == [(EventType.CHANGED, p), (EventType.DELETED, p)]


def test_get_watch(zk, base):
    p = zk.create(base + "/n")
    ev = EventLog()
    zk.get(p, watch=ev)
    zk.create(p + "/child")                       # not a data change
    zk.set(p, b"1")
    zk.get(p, watch=ev)
    zk.delete(p + "/child")
    zk.delete(p)
    assert ev.wait(2) == [(EventType.CHANGED, p), (EventType.DELETED, p)]


def test_children_watch(zk, base):
    p = zk.create(base + "/n")
    ev = EventLog()
    zk.get_children(p, watch=ev)
    zk.set(p, b"data")                            # not a children change
    zk.create(p + "/a")
    zk.get_children(p, watch=ev)
    zk.set(p + "/a", b"x")                        # child data change: nothing
    zk.delete(p + "/a")
    zk.get_children(p, watch=ev)
    zk.delete(p)
    assert ev.wait(3) == [(EventType.CHILD, p), (EventType.CHILD, p), (EventType.DELETED, p)]


def test_several_watch_kinds_one_event_each(zk, base, raw):
    p = zk.create(base + "/n")
    assert raw.exists(p, watch=True).err == 0
    assert raw.get_data(p, watch=True).err == 0
    assert raw.get_children(p, watch=True).err == 0
    zk.delete(p)
    raw.wait_events(1)
    raw.ping()
    assert [(e[0], e[1], e[2]) for e in raw.events] == [(DELETED, 3, p)]
    assert all(e[3] == -1 for e in raw.events)    # 3.8 notification zxid is -1


def test_get_on_missing_node_sets_no_watch(zk, base, raw):
    assert raw.get_data(base + "/n", watch=True).err == -101
    assert raw.get_children(base + "/n", watch=True).err == -101
    zk.create(base + "/n")
    raw.ping()
    assert raw.events == []


def test_watch_event_precedes_reply(raw_factory, target, base):
    a, b = raw_factory(target), raw_factory(target)
    a.exists(base + "/n", watch=True)
    b.create(base + "/n")
    # a's notification is queued before any later reply to a
    a.ping()
    assert [e[:3] for e in a.events] == [(CREATED, 3, base + "/n")]


def test_persistent_watch(raw_factory, target, zk, base):
    w = raw_factory(target)
    p = zk.create(base + "/p")
    assert w.add_watch(p, 0).err == 0
    zk.set(p, b"1")
    zk.create(p + "/c")
    zk.set(p + "/c", b"x")                        # not this path: ignored
    zk.delete(p + "/c")
    zk.set(p, b"2")                               # still registered after firing
    zk.delete(p)
    zk.create(p)
    w.wait_events(6)
    assert [e[:3] for e in w.events] == [
        (CHANGED, 3, p), (CHILD, 3, p), (CHILD, 3, p), (CHANGED, 3, p),
        (DELETED, 3, p), (CREATED, 3, p)]
    assert w.check_watches(p, 3).err == 0
    assert w.remove_watches(p, 3).err == 0
    assert w.check_watches(p, 3).err == -121
    zk.set(p, b"3")
    w.ping()
    assert len(w.events) == 6


def test_persistent_recursive_watch(raw_factory, target, zk, base):
    w = raw_factory(target)
    p = zk.create(base + "/r")
    assert w.add_watch(p, 1).err == 0
    zk.create(p + "/a")
    zk.create(p + "/a/b")
    zk.set(p + "/a/b", b"x")
    zk.set(p, b"y")
    zk.delete(p + "/a/b")
    zk.create(base + "/sibling")                  # outside the subtree
    w.wait_events(5)
    w.ping()
    assert [e[:3] for e in w.events] == [
        (CREATED, 3, p + "/a"), (CREATED, 3, p + "/a/b"), (CHANGED, 3, p + "/a/b"),
        (CHANGED, 3, p), (DELETED, 3, p + "/a/b")]   # never NodeChildrenChanged


def test_add_watch_needs_no_node(raw, zk, base):
    p = base + "/later"
    assert raw.add_watch(p, 0).err == 0
    zk.create(p)
    raw.wait_events(1)
    assert [e[:3] for e in raw.events] == [(CREATED, 3, p)]


def test_remove_watches(raw, zk, base):
    p = zk.create(base + "/n")
    assert raw.remove_watches(p, 1).err == -121        # nothing registered
    raw.get_children(p, watch=True)
    raw.get_data(p, watch=True)
    assert raw.check_watches(p, 1).err == 0
    assert raw.remove_watches(p, 1).err == 0           # children only
    assert raw.check_watches(p, 1).err == -121
    assert raw.check_watches(p, 2).err == 0
    zk.create(p + "/c")
    zk.set(p, b"x")
    raw.wait_events(1)
    raw.ping()
    assert [e[:3] for e in raw.events] == [(CHANGED, 3, p)]


def test_watches_are_per_session(kazoo_factory, target, base):
    a, b = kazoo_factory(target), kazoo_factory(target)
    p = a.create(base + "/n")
    ea, eb = EventLog(), EventLog()
    a.get(p, watch=ea)
    b.get(p, watch=eb)
    b.set(p, b"x")
    assert ea.wait(1) == [(EventType.CHANGED, p)]
    assert eb.wait(1) == [(EventType.CHANGED, p)]
