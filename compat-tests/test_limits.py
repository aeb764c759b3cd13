"""Connection-level rules, checked on the target and compared with the real ZooKeeper:
maxClientCnxns per address, refusal of a client that has seen a newer zxid, and the answer
to a SASL packet when no SASL is configured."""
import socket
import struct
import time

from harness import rawzk
from harness.util import read_until_closed


def frame(body):
    return struct.pack("!i", len(body)) + body


def test_max_client_cnxns_per_address(server_factory):
    srv = server_factory(extra_cfg=["maxClientCnxns=3"])
    time.sleep(1.0)  # let the harness's readiness probe connection go away
    held = [rawzk.RawClient(srv.host, srv.port, io_timeout=3) for _ in range(3)]
    try:
        refused = None
        try:
            rawzk.RawClient(srv.host, srv.port, io_timeout=3)
        except (ConnectionError, OSError) as e:
            refused = e
        assert refused is not None, "a 4th connection from 127.0.0.1 was accepted"
        assert all(c.ping() == 0 for c in held), "existing connections must keep working"
        held.pop().close()
        time.sleep(0.5)
        again = rawzk.RawClient(srv.host, srv.port, io_timeout=3)
        assert again.ping() == 0
        held.append(again)
    finally:
        for c in held:
            c.close()


def test_client_that_saw_a_newer_zxid_is_refused(reference, target):
    """A client whose lastZxidSeen is ahead of the server gets no session: the server
    closes without answering, so the client tries another server."""
    body = rawzk.p_int(0) + rawzk.p_long(1 << 40) + rawzk.p_int(10000) + rawzk.p_long(0) + \
        rawzk.p_buf(b"\0" * 16) + rawzk.p_bool(False)
    for srv in (reference, target):
        s = socket.create_connection((srv.host, srv.port), timeout=5)
        s.sendall(frame(body))
        assert read_until_closed(s) == (b"", True), srv.kind
        s.close()


def test_sasl_packet_without_sasl_configured(reference, target, raw_factory):
    answers = []
    for srv in (reference, target):
        c = raw_factory(srv)
        c._send(struct.pack("!ii", 7, 102) + rawzk.p_buf(b"token"))
        data, closed = read_until_closed(c.sock, wait=2.0)
        answers.append((data.hex(), closed))
        assert not closed and c.ping() == 0
    assert answers[0] == answers[1]
    # header {xid 7, zxid 0, err 0} and a null token
    assert answers[0][0] == "00000014" + "00000007" + "00" * 8 + "00000000" + "ffffffff"
