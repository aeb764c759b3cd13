#!/usr/bin/python3
"""Per .frames file: frame counts and request opcodes seen (RequestHeader only).
usage: summarize.py <fixtures dir>"""
import glob
import os
import sys

NAMES = {1: "create", 2: "delete", 3: "exists", 4: "getData", 5: "setData", 6: "getACL",
         7: "setACL", 8: "getChildren", 9: "sync", 11: "ping", 12: "getChildren2",
         13: "check", 14: "multi", 15: "create2", 16: "reconfig", 17: "checkWatches",
         18: "removeWatches", 19: "createContainer", 20: "deleteContainer", 21: "createTTL",
         22: "multiRead", 100: "auth", 101: "setWatches", 102: "sasl", 103: "getEphemerals",
         104: "getAllChildrenNumber", 105: "setWatches2", 106: "addWatch", 107: "whoAmI",
         -10: "createSession", -11: "closeSession"}
allops = set()
for path in sorted(glob.glob(os.path.join(sys.argv[1], "*.frames"))):
    c, s = [], []
    for line in open(path):
        if line.startswith("C "):
            c.append(bytes.fromhex(line[2:].strip()))
        elif line.startswith("S "):
            s.append(bytes.fromhex(line[2:].strip()))
    ops, special = {}, set()
    for body in c[1:]:
        xid = int.from_bytes(body[0:4], "big", signed=True)
        typ = int.from_bytes(body[4:8], "big", signed=True)
        ops[typ] = ops.get(typ, 0) + 1
        if xid < 0:
            special.add((xid, typ))
        allops.add(typ)
    notif = sum(1 for b in s[1:] if b[:4] == b"\xff\xff\xff\xff")
    print("%s: %d C frames, %d S frames (connect req %dB, resp %dB), %d notifications"
          % (os.path.basename(path), len(c), len(s), len(c[0]) if c else -1,
             len(s[0]) if s else -1, notif))
    print("   ops: " + ", ".join("%d:%s x%d" % (t, NAMES.get(t, "?"), n) for t, n in sorted(ops.items())))
    print("   special (xid,type): %s" % sorted(special))
print("ALL request opcodes: " + ", ".join("%d:%s" % (t, NAMES.get(t, "?")) for t in sorted(allops)))
print("MISSING: " + ", ".join("%d:%s" % (t, n) for t, n in sorted(NAMES.items()) if t not in allops))
