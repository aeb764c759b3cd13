#!/usr/bin/python3
"""Drive a kazoo (python3-kazoo) session through the recording proxy.

usage: PROXY_PID=<pid> drive_kazoo.py main|reconnect|authfail|reconfig HOST:PORT
 main      - broad API coverage: creates, watches (+notifications), set, delete,
             transactions (ok + failing), ACLs, digest auth, sync, pings
 reconnect - sets watches + auth, drops the TCP connection (SIGUSR1 to the
             proxy); the reconnect carries sessionId/passwd and replays auth
             (xid -4). kazoo 2.8 never sends SetWatches (watches fire NONE).
 reconfig  - reconfig -> ReconfigDisabled (-123)
 authfail  - add_auth with an unknown scheme -> AuthFailed (-115) + close
"""
import os
import signal
import sys
import threading
import time

from kazoo.client import KazooClient
from kazoo.exceptions import KazooException, ZookeeperError
from kazoo.security import make_digest_acl, make_acl, OPEN_ACL_UNSAFE

mode, hosts = sys.argv[1], sys.argv[2]


def log(*a):
    print("[kazoo %s]" % mode, *a, flush=True)


def try_(label, fn, *a, **kw):
    try:
        r = fn(*a, **kw)
        log(label, "->", repr(r)[:120])
        return r
    except (KazooException, ZookeeperError, Exception) as e:  # we want error replies
        log(label, "raised", type(e).__name__, e)
        return None


def wait_event(ev, what):
    if not ev.wait(10):
        log("TIMEOUT waiting for", what)


def main():
    zk = KazooClient(hosts=hosts, timeout=6.0)
    zk.start(timeout=15)
    fired = threading.Event()
    child_fired = threading.Event()
    try_("create plain", zk.create, "/kz", b"kazoo-root")
    try_("create empty b''", zk.create, "/kz/empty", b"")
    try_("create None data", zk.create, "/kz/nodata", None)
    try_("create2 include_data", zk.create, "/kz/c2", b"\x00\x01\xff", include_data=True)
    try_("create ephemeral", zk.create, "/kz/eph", b"e", ephemeral=True)
    try_("create sequence", zk.create, "/kz/seq-", b"s", sequence=True)
    try_("create eph+seq", zk.create, "/kz/es-", b"", ephemeral=True, sequence=True)
    try_("create makepath", zk.create, "/kz/deep/a/b", b"x", makepath=True)
    try_("create exists (error)", zk.create, "/kz", b"")
    try_("create unicode BMP", zk.create, "/kz/\u00e9t\u00e9-\u4e2d", "h\u00e9".encode())
    try_("create non-BMP (error)", zk.create, "/kz/\U0001F600", b"")
    try_("exists missing", zk.exists, "/kz/missing")
    try_("exists+watch", zk.exists, "/kz/w", watch=lambda ev: (log("watch", ev), fired.set()))
    try_("create fires watch", zk.create, "/kz/w", b"1")
    wait_event(fired, "exists watch")
    fired.clear()
    try_("get+watch", zk.get, "/kz/w", watch=lambda ev: (log("watch", ev), fired.set()))
    try_("set fires watch", zk.set, "/kz/w", b"2")
    wait_event(fired, "data watch")
    try_("get_children+watch", zk.get_children, "/kz",
         watch=lambda ev: (log("watch", ev), child_fired.set()))
    try_("create fires child watch", zk.create, "/kz/child", b"")
    wait_event(child_fired, "child watch")
    try_("get_children include_data", zk.get_children, "/kz", include_data=True)
    try_("get None-data node", zk.get, "/kz/nodata")
    try_("get missing (error)", zk.get, "/kz/missing")
    try_("set version", zk.set, "/kz/w", b"3", version=1)
    try_("set bad version (error)", zk.set, "/kz/w", b"4", version=99)
    try_("delete", zk.delete, "/kz/child")
    try_("delete versioned", zk.delete, "/kz/empty", version=0)
    try_("delete not empty (error)", zk.delete, "/kz/deep")
    t = zk.transaction()
    t.create("/kz/tx1", b"t")
    t.check("/kz/w", 2)
    t.set_data("/kz/tx1", b"t2")
    t.delete("/kz/nodata")
    try_("transaction ok", t.commit)
    t = zk.transaction()
    t.create("/kz/tx2", b"")
    t.check("/kz/w", 42)
    t.delete("/kz/missing")
    try_("transaction failing", t.commit)
    digest = make_digest_acl("kuser", "kpass", all=True)
    try_("set_acls", zk.set_acls, "/kz/tx1", [digest, make_acl("world", "anyone", read=True)])
    try_("get_acls", zk.get_acls, "/kz/tx1")
    try_("set on acl node w/o auth (error)", zk.set, "/kz/tx1", b"no")
    try_("add_auth digest", zk.add_auth, "digest", "kuser:kpass")
    try_("set on acl node with auth", zk.set, "/kz/tx1", b"yes")
    try_("sync", zk.sync, "/kz")
    log("idling to capture pings")
    time.sleep(5)
    try_("get after idle", zk.get, "/kz")
    zk.stop()
    zk.close()


def reconfig():
    # kazoo 2.8 does not know error -123 (ReconfigDisabled): its connection
    # thread dies with "Invalid error code", so this runs in its own session
    zk = KazooClient(hosts=hosts, timeout=6.0)
    zk.start(timeout=15)
    threading.Thread(target=try_, daemon=True, args=("reconfig (error -123)", zk.reconfig,
                     None, None, "server.1=127.0.0.1:2888:3888;2181")).start()
    time.sleep(2)
    log("done (abandoning client)")
    os._exit(0)


def reconnect():
    zk = KazooClient(hosts=hosts, timeout=10.0)
    zk.start(timeout=15)
    try_("add_auth digest", zk.add_auth, "digest", "kuser:kpass")
    try_("create", zk.create, "/kr", b"r")
    try_("create ephemeral", zk.create, "/kr/e", b"", ephemeral=True)
    got = threading.Event()
    try_("exists+watch (missing)", zk.exists, "/kr/later", watch=lambda ev: (log("watch", ev), got.set()))
    try_("get+watch", zk.get, "/kr", watch=lambda ev: (log("watch", ev), got.set()))
    try_("get_children+watch", zk.get_children, "/kr", watch=lambda ev: log("watch", ev))
    reconnected = threading.Event()
    states = []

    def listener(state):
        states.append(state)
        if state == "CONNECTED" and len(states) > 1:
            reconnected.set()
    zk.add_listener(listener)
    os.kill(int(os.environ["PROXY_PID"]), signal.SIGUSR1)
    log("asked the proxy (SIGUSR1) to drop the connection")
    if not reconnected.wait(25):
        log("TIMEOUT waiting for reconnect", states)
    try_("get after reconnect", zk.get, "/kr")
    try_("create fires exists watch", zk.create, "/kr/later", b"")
    wait_event(got, "watch after reconnect")
    zk.stop()
    zk.close()


def authfail():
    zk = KazooClient(hosts=hosts, timeout=6.0)
    zk.start(timeout=15)
    try_("exists /", zk.exists, "/")
    try_("add_auth bogus scheme", zk.add_auth, "bogus", "x:y")
    time.sleep(1)
    try:
        zk.stop()
        zk.close()
    except Exception as e:
        log("stop raised", e)


{"main": main, "reconnect": reconnect, "authfail": authfail, "reconfig": reconfig}[mode]()
log("done")
