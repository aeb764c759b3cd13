#!/usr/bin/env python3
"""Recording TCP proxy for ZooKeeper client traffic (capture tool, not a test).

Listens on 127.0.0.1:LISTEN, forwards every connection to 127.0.0.1:TARGET and
splits both directions into frames (4-byte big-endian length + body). Each
accepted connection is written to its own fixture file:

    <outdir>/<name>.frames           for the first connection
    <outdir>/<name>-connN.frames     for the N-th connection (N >= 2)

The current session name is read from <outdir>/.proxy-name at accept time
(default "session"), so the driver script can label connections.
File lines: "# comment", "C <hex>" (client->server body), "S <hex>"
(server->client body), in arrival order. No decoding beyond framing.

SIGUSR1 drops all live connections abruptly (to force a client reconnect).
"""
import os
import signal
import socket
import sys
import threading
import time

LISTEN, TARGET, OUTDIR = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
live = set()
live_lock = threading.Lock()
counts = {}


def recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


class Recorder:
    def __init__(self, path, name, peer):
        self.f = open(path, "w")
        self.lock = threading.Lock()
        self.f.write("# rzk golden wire capture: session '%s'\n" % name)
        self.f.write("# client <-> Apache ZooKeeper 3.8.0 server (via record_proxy.py)\n")
        self.f.write("# C = client->server frame body, S = server->client frame body "
                     "(hex, 4-byte length prefix stripped)\n")
        self.f.flush()

    def line(self, text):
        with self.lock:
            self.f.write(text + "\n")
            self.f.flush()


def pump(src, dst, tag, rec, pair):
    try:
        while True:
            hdr = recv_exact(src, 4)
            if hdr is None:
                break
            n = int.from_bytes(hdr, "big", signed=True)
            if n < 0 or n > 0x100000:
                rec.line("# %s bad frame length %d; raw passthrough follows" % (tag, n))
                dst.sendall(hdr)
                while True:
                    data = src.recv(65536)
                    if not data:
                        break
                    dst.sendall(data)
                break
            body = recv_exact(src, n)
            if body is None:
                rec.line("# %s truncated frame (declared %d bytes)" % (tag, n))
                break
            rec.line("%s %s" % (tag, body.hex()))
            dst.sendall(hdr + body)
    except OSError as e:
        rec.line("# %s stream ended: %s" % (tag, e.__class__.__name__))
    finally:
        rec.line("# %s EOF" % tag)
        for s in pair:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def session_file():
    try:
        with open(os.path.join(OUTDIR, ".proxy-name")) as f:
            name = f.read().strip() or "session"
    except OSError:
        name = "session"
    counts[name] = counts.get(name, 0) + 1
    k = counts[name]
    fname = name + (".frames" if k == 1 else "-conn%d.frames" % k)
    return fname, name + ("" if k == 1 else " connection %d" % k)


def handle(client, peer, fname, label):
    rec = Recorder(os.path.join(OUTDIR, fname), label, peer)
    server = socket.create_connection(("127.0.0.1", TARGET), timeout=10)
    server.settimeout(None)
    pair = (client, server)
    with live_lock:
        live.add(pair)
    ts = [threading.Thread(target=pump, args=(client, server, "C", rec, pair), daemon=True),
          threading.Thread(target=pump, args=(server, client, "S", rec, pair), daemon=True)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    with live_lock:
        live.discard(pair)
    for s in pair:
        s.close()
    rec.f.close()


def drop_all(signum, frame):
    with live_lock:
        pairs = list(live)
    for pair in pairs:
        for s in pair:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def main():
    signal.signal(signal.SIGUSR1, drop_all)
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("127.0.0.1", LISTEN))
    lsock.listen(16)
    print("proxy listening 127.0.0.1:%d -> %d" % (LISTEN, TARGET), flush=True)
    while True:
        try:
            c, peer = lsock.accept()
        except InterruptedError:
            continue
        fname, label = session_file()
        threading.Thread(target=handle, args=(c, peer, fname, label), daemon=True).start()


if __name__ == "__main__":
    main()
