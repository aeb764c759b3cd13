"""kazoo recipes against the target: Lock contention, Election, Barrier,
DoubleBarrier, Counter, Queue/LockingQueue.  These exercise sequential
ephemerals, child watches and multi in the patterns real applications use."""
import threading

from kazoo.recipe.barrier import Barrier
from kazoo.recipe.counter import Counter
from kazoo.recipe.election import Election
from kazoo.recipe.lock import Lock
from kazoo.recipe.queue import LockingQueue, Queue

from harness.util import wait_until


def test_lock_contention(kazoo_factory, target, base):
    a, b = kazoo_factory(target), kazoo_factory(target)
    la, lb = Lock(a, base + "/lock", "a"), Lock(b, base + "/lock", "b")
    assert la.acquire(timeout=5)
    assert not lb.acquire(blocking=False)
    assert lb.contenders() == ["a"]
    got = threading.Event()
    t = threading.Thread(target=lambda: lb.acquire(timeout=10) and got.set(), daemon=True)
    t.start()
    assert wait_until(lambda: len(a.get_children(base + "/lock")) == 2, timeout=5)
    assert not got.wait(0.5)
    la.release()
    assert got.wait(10)
    t.join(5)
    assert lb.contenders() == ["b"]
    lb.release()


def test_lock_released_when_holder_session_closes(kazoo_factory, target, base):
    a, b = kazoo_factory(target), kazoo_factory(target)
    assert Lock(a, base + "/lock").acquire(timeout=5)
    lb = Lock(b, base + "/lock")
    a.stop()
    assert lb.acquire(timeout=10)
    lb.release()


def test_election(kazoo_factory, target, base):
    a, b = kazoo_factory(target), kazoo_factory(target)
    ea, eb = Election(a, base + "/elect", "a"), Election(b, base + "/elect", "b")
    leaders = []
    release = threading.Event()

    def lead(name):
        leaders.append(name)
        release.wait(10)
    ta = threading.Thread(target=ea.run, args=(lead, "a"), daemon=True)
    ta.start()
    assert wait_until(lambda: leaders == ["a"], timeout=5)
    tb = threading.Thread(target=eb.run, args=(lead, "b"), daemon=True)
    tb.start()
    assert wait_until(lambda: len(eb.contenders()) == 2, timeout=5)
    assert eb.contenders() == ["a", "b"]
    release.set()
    assert wait_until(lambda: leaders == ["a", "b"], timeout=10)
    ta.join(5)
    tb.join(5)


def test_barrier(kazoo_factory, target, base):
    a, b = kazoo_factory(target), kazoo_factory(target)
    Barrier(a, base + "/barrier").create()
    waiter = Barrier(b, base + "/barrier")
    assert waiter.wait(timeout=0.3) is False
    passed = threading.Event()
    t = threading.Thread(target=lambda: waiter.wait(timeout=10) and passed.set(), daemon=True)
    t.start()
    Barrier(a, base + "/barrier").remove()
    assert passed.wait(10)
    t.join(5)


def test_counter(kazoo_factory, target, base):
    a, b = kazoo_factory(target), kazoo_factory(target)
    ca, cb = Counter(a, base + "/count"), Counter(b, base + "/count")
    ca += 5
    cb += 2
    ca -= 1
    assert (ca.value, cb.value) == (6, 6)
    assert ca.pre_value == 7 and ca.post_value == 6
    fa = Counter(a, base + "/fcount", default=0.5)
    fa += 1.25
    assert fa.value == 1.75


def test_queue(kazoo_factory, target, base):
    a, b = kazoo_factory(target), kazoo_factory(target)
    qa, qb = Queue(a, base + "/q"), Queue(b, base + "/q")
    for item in (b"one", b"two", b"three"):
        qa.put(item)
    qa.put(b"urgent", priority=1)
    assert len(qb) == 4
    assert [qb.get(), qb.get(), qb.get(), qb.get(), qb.get()] == [
        b"urgent", b"one", b"two", b"three", None]


def test_locking_queue(kazoo_factory, target, base):
    a, b = kazoo_factory(target), kazoo_factory(target)
    qa, qb = LockingQueue(a, base + "/lq"), LockingQueue(b, base + "/lq")
    qa.put_all([b"x", b"y"])
    assert qb.get(timeout=5) == b"x"
    assert qa.get(timeout=0.5) == b"y"           # x is locked by b, a gets y
    assert qb.consume() and qa.consume()
    assert len(qa) == 0
