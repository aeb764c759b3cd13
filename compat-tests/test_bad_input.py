"""Bad input closes that one connection and harms nothing else.

Each case sends malformed bytes on a fresh socket to the real ZooKeeper 3.8 and to the
target in the same run, and compares what the server did (the bytes it answered, whether it
closed). Afterwards a session opened *before* the bad input must still work on both.
"""
import socket
import struct

import pytest

from harness import rawzk
from harness.util import read_until_closed


def frame(body):
    return struct.pack("!i", len(body)) + body


def connect_body():
    return rawzk.p_int(0) + rawzk.p_long(0) + rawzk.p_int(10000) + rawzk.p_long(0) + \
        rawzk.p_buf(b"\0" * 16) + rawzk.p_bool(False)


def request(xid, op, body=b""):
    return frame(struct.pack("!ii", xid, op) + body)


# name -> (bytes sent after an optional valid handshake, handshake first?)
CASES = {
    "oversize_frame_length": (struct.pack("!i", 0x100000) + b"\0" * 64, False),
    "negative_frame_length": (struct.pack("!i", -7) + b"\0" * 16, False),
    "unknown_4_letters": (b"abcd" + b"\0" * 16, False),
    "truncated_connect": (frame(b"\0\0\0\0\0\0"), False),
    "unknown_opcode": (request(1, 999), True),
    "bare_check_opcode": (request(1, 13, rawzk.p_str("/") + rawzk.p_int(-1)), True),
    "string_longer_than_frame": (request(1, 4, rawzk.p_int(500) + b"/abc"), True),
    "undecodable_create": (request(1, 1, rawzk.p_str("/x") + rawzk.p_int(-9)), True),
    "oversize_frame_after_handshake": (struct.pack("!i", 0x7fffffff) + b"\0" * 64, True),
}


def outcome(server, payload, handshake):
    """(reply headers seen as (xid, err), closed?) after sending `payload`."""
    s = socket.create_connection((server.host, server.port), timeout=5)
    try:
        if handshake:
            s.sendall(frame(connect_body()))
            n = struct.unpack("!i", s.recv(4, socket.MSG_WAITALL))[0]
            s.recv(n, socket.MSG_WAITALL)
        s.sendall(payload)
        data, closed = read_until_closed(s)
        replies = []
        while len(data) >= 4:
            n = struct.unpack_from("!i", data)[0]
            body = data[4:4 + n]
            if len(body) >= 16:
                xid, _zxid, err = struct.unpack_from("!iqi", body)
                replies.append((xid, err))
            data = data[4 + n:]
        return replies, closed
    finally:
        s.close()


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input_closes_only_that_connection(name, reference, target, raw_factory):
    payload, handshake = CASES[name]
    ref, tgt = reference, target
    survivors = [raw_factory(ref), raw_factory(tgt)]
    want = outcome(ref, payload, handshake)
    got = outcome(tgt, payload, handshake)
    print(name, "zookeeper:", want, "target:", got)
    assert got == want
    for c in survivors:
        assert c.ping() == 0
        r = c.create("/after-%s" % name)
        assert r.err == 0 and r.zxid > 0
