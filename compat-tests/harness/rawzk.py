"""Minimal synchronous ZooKeeper wire client (jute over TCP), written for tests.

Why: kazoo 2.8 has no API for containers, TTL nodes, addWatch, removeWatches,
checkWatches, getEphemerals, getAllChildrenNumber, whoAmI or multiRead, and it
hides reply zxids.  This client sends one request at a time and returns the raw
reply header (err, zxid) plus the decoded body; watch notifications that arrive
meanwhile are appended to `self.events` as (type, state, path, zxid).
"""
import socket
import struct
import time
from collections import namedtuple

Stat = namedtuple("Stat", "czxid mzxid ctime mtime version cversion aversion "
                          "ephemeralOwner dataLength numChildren pzxid")
Reply = namedtuple("Reply", "err zxid value")

OPEN_ACL = [(31, "world", "anyone")]
# opcodes (PROTOCOL.md 4.1)
CREATE, DELETE, EXISTS, GETDATA, SETDATA, GETACL, SETACL, GETCHILDREN = 1, 2, 3, 4, 5, 6, 7, 8
SYNC, PING, GETCHILDREN2, CHECK, MULTI, CREATE2 = 9, 11, 12, 13, 14, 15
CHECKWATCHES, REMOVEWATCHES, CREATECONTAINER, CREATETTL, MULTIREAD = 17, 18, 19, 21, 22
GETEPHEMERALS, GETALLCHILDRENNUMBER, ADDWATCH, WHOAMI, CLOSE = 103, 104, 106, 107, -11
# create flags
PERSISTENT, EPHEMERAL, PERSISTENT_SEQ, EPHEMERAL_SEQ, CONTAINER, TTL, TTL_SEQ = range(7)


def p_int(v): return struct.pack("!i", v)
def p_long(v): return struct.pack("!q", v)
def p_bool(v): return b"\x01" if v else b"\x00"


def p_buf(b):
    return p_int(-1) if b is None else p_int(len(b)) + b


def p_str(s):
    return p_buf(None if s is None else s.encode("utf-8"))


def p_acl(acl):
    out = p_int(len(acl))
    for perms, scheme, ident in acl:
        out += p_int(perms) + p_str(scheme) + p_str(ident)
    return out


class Reader:
    """Cursor over a reply body."""
    def __init__(self, data):
        self.d, self.o = data, 0

    def _un(self, fmt):
        v = struct.unpack_from(fmt, self.d, self.o)[0]
        self.o += struct.calcsize(fmt)
        return v

    def int(self): return self._un("!i")
    def long(self): return self._un("!q")
    def bool(self): return self._un("!B") != 0

    def buf(self):
        n = self.int()
        if n < 0:
            return None
        v = self.d[self.o:self.o + n]
        self.o += n
        return v

    def str(self):
        b = self.buf()
        return None if b is None else b.decode("utf-8")

    def stat(self):
        return Stat(*struct.unpack_from("!qqqqiiiqiiq", self.d, self._adv(68)))

    def _adv(self, n):
        self.o += n
        return self.o - n

    def strs(self):
        n = self.int()
        return [self.str() for _ in range(max(n, 0))]

    def acl(self):
        n = self.int()
        return [(self.int(), self.str(), self.str()) for _ in range(max(n, 0))]


class RawClient:
    """One connection/session.  Not thread-safe; every wait is bounded."""

    def __init__(self, host, port, timeout_ms=10000, session_id=0,
                 passwd=b"\0" * 16, last_zxid=0, io_timeout=10.0):
        self.events = []
        self.xid = 0
        self.last_zxid = last_zxid
        self.sock = socket.create_connection((host, port), timeout=io_timeout)
        self.io_timeout = io_timeout
        self._send(p_int(0) + p_long(last_zxid) + p_int(timeout_ms) +
                   p_long(session_id) + p_buf(passwd) + p_bool(False))
        r = Reader(self._recv_frame())
        self.protocol_version = r.int()
        self.timeout = r.int()
        self.session_id = r.long()
        self.passwd = r.buf()

    # -- framing -------------------------------------------------------
    def _send(self, payload):
        self.sock.sendall(p_int(len(payload)) + payload)

    def _recv_exact(self, n):
        out = b""
        while len(out) < n:
            chunk = self.sock.recv(n - len(out))
            if not chunk:
                raise ConnectionError("server closed the connection")
            out += chunk
        return out

    def _recv_frame(self):
        n = struct.unpack("!i", self._recv_exact(4))[0]
        return self._recv_exact(n)

    def _read_reply(self):
        """Read frames until a non-notification reply; returns (xid, zxid, err, body)."""
        while True:
            frame = self._recv_frame()
            xid, zxid, err = struct.unpack_from("!iqi", frame, 0)
            body = frame[16:]
            if xid == -1:
                r = Reader(body)
                self.events.append((r.int(), r.int(), r.str(), zxid))
                continue
            if zxid > 0:
                self.last_zxid = zxid
            return xid, zxid, err, body

    def call(self, op, body=b"", xid=None):
        """Send one request and return (err, zxid, body bytes)."""
        if xid is None:
            self.xid += 1
            xid = self.xid
        self._send(p_int(xid) + p_int(op) + body)
        rxid, zxid, err, rbody = self._read_reply()
        if rxid != xid:
            raise AssertionError("xid mismatch: sent %d got %d" % (xid, rxid))
        return err, zxid, rbody

    def _do(self, op, body, decode=None):
        err, zxid, rbody = self.call(op, body)
        value = decode(Reader(rbody)) if (decode and err == 0) else None
        return Reply(err, zxid, value)

    # -- operations ----------------------------------------------------
    def create(self, path, data=b"", acl=OPEN_ACL, flags=PERSISTENT, ttl=None, op=None):
        if op is None:
            op = CREATETTL if ttl is not None else (CREATECONTAINER if flags == CONTAINER else CREATE2)
        body = p_str(path) + p_buf(data) + p_acl(acl) + p_int(flags)
        if op == CREATETTL:
            body += p_long(ttl if ttl is not None else 0)
        dec = (lambda r: r.str()) if op == CREATE else (lambda r: (r.str(), r.stat()))
        return self._do(op, body, dec)

    def get_data(self, path, watch=False):
        return self._do(GETDATA, p_str(path) + p_bool(watch), lambda r: (r.buf(), r.stat()))

    def exists(self, path, watch=False):
        return self._do(EXISTS, p_str(path) + p_bool(watch), lambda r: r.stat())

    def get_children(self, path, watch=False):
        return self._do(GETCHILDREN2, p_str(path) + p_bool(watch), lambda r: (r.strs(), r.stat()))

    def set_data(self, path, data, version=-1):
        return self._do(SETDATA, p_str(path) + p_buf(data) + p_int(version), lambda r: r.stat())

    def delete(self, path, version=-1):
        return self._do(DELETE, p_str(path) + p_int(version))

    def get_acl(self, path):
        return self._do(GETACL, p_str(path), lambda r: (r.acl(), r.stat()))

    def sync(self, path):
        return self._do(SYNC, p_str(path), lambda r: r.str())

    def add_watch(self, path, mode):
        """mode 0 = PERSISTENT, 1 = PERSISTENT_RECURSIVE."""
        return self._do(ADDWATCH, p_str(path) + p_int(mode))

    def remove_watches(self, path, wtype):
        return self._do(REMOVEWATCHES, p_str(path) + p_int(wtype))

    def check_watches(self, path, wtype):
        return self._do(CHECKWATCHES, p_str(path) + p_int(wtype))

    def get_ephemerals(self, prefix):
        return self._do(GETEPHEMERALS, p_str(prefix), lambda r: r.strs())

    def get_all_children_number(self, path):
        return self._do(GETALLCHILDRENNUMBER, p_str(path), lambda r: r.int())

    def whoami(self):
        return self._do(WHOAMI, b"", lambda r: [(r.str(), r.str()) for _ in range(r.int())])

    def multi_read(self, ops):
        """ops: list of (GETDATA|GETCHILDREN, path). Returns list of (type, err, value)."""
        body = b"".join(p_int(op) + p_bool(False) + p_int(-1) + p_str(path) + p_bool(False)
                        for op, path in ops)
        body += p_int(-1) + p_bool(True) + p_int(-1)
        return self._do(MULTIREAD, body, _decode_multi)

    def add_auth(self, scheme, auth):
        """AuthPacket (xid -4); returns the reply err."""
        err, _, _ = self.call(100, p_int(0) + p_str(scheme) + p_buf(auth), xid=-4)
        return err

    def ping(self):
        """Round trip; also collects any notifications queued before it."""
        return self.call(PING, xid=-2)[0]

    def wait_events(self, count, timeout=5.0):
        """Ping until at least `count` events arrived or `timeout` passed."""
        deadline = time.monotonic() + timeout
        while len(self.events) < count and time.monotonic() < deadline:
            self.ping()
            time.sleep(0.05)
        return self.events

    def close(self):
        try:
            self.call(CLOSE)
        except (OSError, ConnectionError, AssertionError):
            pass
        self.drop()

    def drop(self):
        """Close the socket without ending the session."""
        try:
            self.sock.close()
        except OSError:
            pass


def _decode_multi(r):
    out = []
    while True:
        typ, done, err = r.int(), r.bool(), r.int()
        if done:
            return out
        if typ == -1:
            out.append((typ, err, r.int()))
        elif typ == GETDATA:
            out.append((typ, err, (r.buf(), r.stat())))
        elif typ == GETCHILDREN:
            out.append((typ, err, r.strs()))
        else:
            raise AssertionError("unexpected multi result type %d" % typ)
