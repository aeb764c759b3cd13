#!/usr/bin/python3
"""Copy ZooKeeper txn logs (trimmed of preallocation padding) and snapshots.
usage: collect_disk.py <dataDir>/version-2 <dest>
Log layout: 16-byte FileHeader, then records {8-byte crc, 4-byte len, body,
0x42}; the log ends at the first zero length (preallocated zeros)."""
import os
import shutil
import sys

src, dst = sys.argv[1], sys.argv[2]
for name in sorted(os.listdir(src)):
    path = os.path.join(src, name)
    if name.startswith("log."):
        data = open(path, "rb").read()
        off, n = 16, 0
        while off + 12 <= len(data):
            ln = int.from_bytes(data[off + 8:off + 12], "big", signed=True)
            if ln <= 0 or off + 12 + ln + 1 > len(data):
                break
            assert data[off + 12 + ln] == 0x42, "missing 0x42 end-of-record at %d" % off
            off += 12 + ln + 1
            n += 1
        open(os.path.join(dst, name), "wb").write(data[:off])
        print("%s: %d records, %d bytes kept of %d" % (name, n, off, len(data)))
    elif name.startswith("snapshot."):
        shutil.copyfile(path, os.path.join(dst, name))
        print("%s: %d bytes" % (name, os.path.getsize(path)))
