"""Damaged txn logs: a torn tail is repaired, a bad checksum is refused.

20 creates are written and acknowledged (so fsynced), the client's socket is
dropped (no closeSession), the server is killed with SIGKILL, and the newest
log is edited (format: PROTOCOL.md 6.2, records = crc, len, entry, 0x42):
* torn: the second half of the last record and its 0x42 marker zeroed, as a
  crash during the append would leave it.  ZooKeeper 3.8.0 starts and serves
  every earlier write.
* bad checksum: one byte inside the last COMPLETE record (length and 0x42
  intact) flipped.  That record was acknowledged; ZooKeeper 3.8.0 refuses to
  start ("IOException: CRC check failed") rather than silently drop it.
"""
import struct

import pytest

from harness import servers
from harness.durable import connect, data_files


def write_and_damage(kind, damage):
    srv = servers.Server(kind, extra_cfg=["preAllocSize=64"]).start()
    c = connect(srv)
    for i in range(20):
        assert c.create("/n%d" % i, b"value%d" % i).err == 0
    c.drop()
    srv.kill9()
    path = data_files(srv.data_dir, "log")[-1]
    with open(path, "rb") as f:
        b = bytearray(f.read())
    off, last = 16, None
    while off + 12 <= len(b):
        ln = struct.unpack_from("!i", b, off + 8)[0]
        if ln <= 0:
            break
        last, off = (off, ln), off + 12 + ln + 1
    start, ln = last
    if damage == "torn":
        b[start + 12 + ln // 2:start + 12 + ln + 1] = bytes(ln - ln // 2 + 1)
    else:
        b[start + 12 + ln - 3] ^= 0xFF
    with open(path, "wb") as f:
        f.write(b)
    return srv


@pytest.mark.parametrize("kind", [servers.target_name()])  # distinct ids per target
def test_torn_tail_is_dropped(kind):
    srv = write_and_damage(kind, "torn")
    try:
        c = connect(srv.start())
        assert c.get_data("/n18").value[0] == b"value18"
        assert c.exists("/n19").err == -101  # the torn create (last record) is gone
        assert c.create("/n19", b"again").err == 0
        c.close()
    finally:
        srv.cleanup()


@pytest.mark.parametrize("kind", [servers.target_name()])
def test_bad_checksum_refuses_to_start(kind):
    srv = write_and_damage(kind, "crc")
    try:
        with pytest.raises(RuntimeError, match="during startup"):
            srv.start(timeout=30)
    finally:
        srv.cleanup()
