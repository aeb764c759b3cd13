"""Operator interfaces, differentially: four-letter words, the AdminServer's HTTP
commands and the Prometheus metrics names.

A real ZooKeeper 3.8.0 (the oracle) and the target get the same state (two sessions,
ephemerals, data and exists watches); every four-letter word and AdminServer command is
asked of both and the answers must be identical after normalising only the values that
legitimately differ (version, ports, paths, times, session ids, latencies, sizes, packet
counts).  The AdminServer needs javax.servlet on ZooKeeper's classpath, which Debian's
zookeeper.jar manifest omits, hence AdminServer below.
"""
import json
import re
import socket
import struct
import time
import urllib.error
import urllib.request

import pytest
from kazoo.client import KazooClient

from harness import servers

SERVLET_JAR = "/usr/share/java/servlet-api.jar"
PROMETHEUS = "org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider"
WORDS = ["ruok", "stat", "srvr", "conf", "cons", "dump", "envi", "mntr", "wchs", "wchc",
         "wchp", "isro", "dirs", "gtmk", "hash", "crst", "srst"]
HTTP_NAMES = [c[0] for c in [
    ("configuration",), ("conf",), ("config",), ("connection_stat_reset",), ("crst",),
    ("connections",), ("cons",), ("dirs",), ("dump",), ("environment",), ("env",),
    ("envi",), ("get_trace_mask",), ("gtmk",), ("hash",), ("initial_configuration",),
    ("icfg",), ("is_read_only",), ("isro",), ("last_snapshot",), ("lsnp",), ("leader",),
    ("lead",), ("monitor",), ("mntr",), ("observer_connection_stat_reset",), ("orst",),
    ("observers",), ("obsr",), ("ruok",), ("server_stats",), ("srvr",), ("set_trace_mask",),
    ("stmk",), ("stat_reset",), ("srst",), ("stats",), ("stat",), ("system_properties",),
    ("sysp",), ("voting_view",), ("watch_summary",), ("wchs",), ("watches",), ("wchc",),
    ("watches_by_path",), ("wchp",), ("zabstate",), ("digest",), ("nonexistent",)]]


class AdminServer(servers.Server):
    """A Server with the AdminServer enabled on its own free loopback port."""

    def __init__(self, kind, extra_cfg=()):
        self.admin_port = servers.free_port()
        super().__init__(kind, extra_cfg=[
            "admin.enableServer=true", "admin.serverAddress=127.0.0.1",
            "admin.serverPort=%d" % self.admin_port] + list(extra_cfg))

    def command(self):
        argv, env = super().command()
        if self.kind == "zookeeper":
            i = argv.index("-cp")
            argv[i + 1] += ":" + SERVLET_JAR
        return argv, env

    def http(self, path, port=None):
        url = "http://127.0.0.1:%d%s" % (port or self.admin_port, path)
        try:
            with urllib.request.urlopen(url, timeout=10) as r:
                return r.status, r.headers.get("Content-Type"), r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.headers.get("Content-Type"), e.read().decode(errors="replace")


def _populate(srv):
    """The same state on each server; returns the clients (kept open)."""
    cs = [KazooClient(hosts=srv.hosts, timeout=10.0) for _ in range(2)]
    for c in cs:
        c.start(timeout=15)
    cs[0].create("/a", b"x")
    cs[0].create("/a/e1", b"", ephemeral=True)
    cs[1].create("/a/e2", b"yy", ephemeral=True)
    cs[0].get("/a", watch=lambda e: None)
    cs[1].get("/a", watch=lambda e: None)
    cs[1].get_children("/a", watch=lambda e: None)
    cs[1].exists("/nope", watch=lambda e: None)
    return cs


@pytest.fixture(scope="module")
def pair():
    started, clients = [], []
    try:
        for kind in ("zookeeper", servers.target_name()):
            srv = AdminServer(kind)
            started.append(srv)
            srv.start()
            clients += _populate(srv)
        yield started[0], started[1]
    finally:
        for c in clients:
            try:
                c.stop()
                c.close()
            except Exception:
                pass
        for s in started:
            s.cleanup()


# ---------------------------------------------------------------- normalisation
def _sids(text):
    """Session ids (long hex or decimal) -> SID1.. in numeric order."""
    hexes = sorted({int(h, 16) for h in re.findall(r"0x([0-9a-f]{9,})", text)})
    for i, v in enumerate(hexes, 1):
        text = re.sub(r"0x%x\b" % v, "SID%d" % i, text)
    return text


def _blocks(lines):
    """Sort 'header + tab-indented lines' blocks and the lines inside them."""
    out, cur = [], None
    for line in lines:
        if line.startswith("\t") and cur is not None:
            cur[1].append(line)
        else:
            cur = (line, [])
            out.append(cur)
    return [x for h, body in sorted(out) for x in [h] + sorted(body)]


def normalise(cmd, text):
    t = re.sub(r"(Zookeeper version: |zookeeper\.version=|zk_version\t).*", r"\1VERSION", text)
    t = re.sub(r"/127\.0\.0\.1:\d+", "/IP:PORT", t)
    t = _sids(t)
    t = re.sub(r"\w{3} \w{3} \d\d \d\d:\d\d:\d\d \w+ \d{4}", "DATE", t)
    if cmd in ("stat", "srvr"):
        t = re.sub(r"Latency min/avg/max: \d+/\d+\.\d+/\d+", "Latency min/avg/max: N/D/N", t)
        t = re.sub(r"(Received|Sent): \d+", r"\1: N", t)
        t = re.sub(r"(recved|sent)=\d+", r"\1=N", t)
    if cmd in ("stat", "cons"):
        lines = t.split("\n")
        conns = sorted(l for l in lines if l.startswith(" /"))
        rest = [l for l in lines if not l.startswith(" /")]
        i = rest.index("") if "" in rest else len(rest)
        t = "\n".join(rest[:i] + conns + rest[i:])
    if cmd == "cons":
        t = re.sub(r"(recved|sent|est|lresp|llat|minlat|avglat|maxlat)=\d+", r"\1=N", t)
    if cmd == "conf":
        t = re.sub(r"(clientPort|dataDirSize|dataLogSize)=\d+", r"\1=N", t)
        t = re.sub(r"(dataDir|dataLogDir)=.*", r"\1=DIR", t)
    if cmd == "dirs":
        t = re.sub(r"\d+", "N", t)
    if cmd == "envi":
        t = re.sub(r"^((?!os\.name|os\.arch|java\.compiler|user\.name|user\.home|java\.io\.tmpdir)"
                   r"[\w.]+)=.*$", r"\1=V", t, flags=re.M)
    if cmd == "dump":
        # ZooKeeper sometimes lists an already-empty expiry bucket (timing): ignore empty
        # buckets and the bucket count on both sides.
        t = re.sub(r"^0 expire at DATE:\n", "", t, flags=re.M)
        t = re.sub(r"Session Sets \(\d+\)/", "Session Sets (N)/", t)
        head, _, conns = t.partition("Connections dump:\n")
        ips = sorted(l for l in conns.split("\n") if l.startswith("\tip:"))
        t = "\n".join(_blocks(head.split("\n"))) + "Connections dump:\n" + "\n".join(ips)
    if cmd in ("wchc", "wchp"):
        t = "\n".join(_blocks(t.split("\n")))
    if cmd == "mntr":
        keep = {"zk_server_state", "zk_znode_count", "zk_ephemerals_count", "zk_watch_count",
                "zk_global_sessions", "zk_local_sessions", "zk_num_alive_connections",
                "zk_outstanding_requests", "zk_connection_drop_probability", "zk_version"}
        rows = []
        for line in t.strip("\n").split("\n"):
            k, _, v = line.partition("\t")
            if k not in keep:
                v = "D" if re.fullmatch(r"-?\d+\.\d+(E-?\d+)?", v) else \
                    "N" if re.fullmatch(r"-?\d+", v) else "S"
            rows.append(k + "\t" + v)
        t = "\n".join(rows)
    return t


def four(srv, word, tail=b""):
    with socket.create_connection((srv.host, srv.port), timeout=5) as s:
        s.sendall(word.encode() + tail)
        out = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return out.decode(errors="replace")
            out += chunk


# ---------------------------------------------------------------- four-letter words
@pytest.mark.parametrize("word", WORDS)
def test_four_letter_word(pair, word):
    zk, tgt = pair
    want, got = normalise(word, four(zk, word)), normalise(word, four(tgt, word))
    assert got == want, "%s differs:\n--- zookeeper\n%s\n--- target\n%s" % (word, want, got)


def test_mntr_log_summaries_count_writes(pair):
    """fsynctime and sync_processor_batch_size count the log's write rounds, as
    ZooKeeper's do: one sample per fsync, the batch's txn count, a 4-decimal average;
    srst clears them."""
    def mntr(srv):
        return dict(line.split("\t", 1) for line in four(srv, "mntr").strip().split("\n"))
    for srv in pair:
        assert four(srv, "srst") == "Server stats reset.\n"
        m = mntr(srv)
        for k in ("cnt_fsynctime", "sum_fsynctime", "cnt_sync_processor_batch_size",
                  "sum_sync_processor_batch_size", "max_sync_processor_batch_size"):
            assert m["zk_" + k] == "0", (srv.kind, k, m["zk_" + k])
        assert m["zk_avg_sync_processor_batch_size"] == "0.0", srv.kind
        c = KazooClient(hosts=srv.hosts, timeout=10.0)
        c.start(timeout=15)
        try:
            for i in range(3):
                c.create("/a/summaries-%d" % i, b"v")  # no new namespace
        finally:
            c.stop()
            c.close()
        m = mntr(srv)
        cnt = int(m["zk_cnt_sync_processor_batch_size"])
        total = int(m["zk_sum_sync_processor_batch_size"])
        # A session create, three creates and a session close: five logged txns.
        assert total == 5 and 1 <= cnt <= total, (srv.kind, cnt, total)
        assert int(m["zk_min_sync_processor_batch_size"]) >= 1, srv.kind
        assert int(m["zk_max_sync_processor_batch_size"]) <= total, srv.kind
        assert float(m["zk_avg_sync_processor_batch_size"]) == round(total / cnt, 4), srv.kind
        assert int(m["zk_cnt_fsynctime"]) == cnt, (srv.kind, m["zk_cnt_fsynctime"], cnt)
        assert int(m["zk_sum_fsynctime"]) >= int(m["zk_max_fsynctime"]) >= 0, srv.kind


def test_stmk_sets_mask(pair):
    """stmk takes an 8-byte big-endian mask and prints it; gtmk reads it back."""
    zk, tgt = pair
    for srv in pair:
        assert four(srv, "stmk", struct.pack(">q", 0x1f2)) == "498"
        assert four(srv, "gtmk") == "498"
        assert four(srv, "stmk", struct.pack(">q", 306)) == "306"
    assert four(tgt, "stmk") == four(zk, "stmk") == ""


def test_unknown_word_closes(pair):
    for srv in pair:
        assert four(srv, "xyzw") == ""


def test_whitelist_refusal(server_factory):
    cfg = ["4lw.commands.whitelist=srvr, ruok"]
    zk = server_factory("zookeeper", extra_cfg=cfg)
    tgt = server_factory(extra_cfg=cfg)
    for word in ("stat", "mntr", "isro", "stmk", "ruok", "srvr"):
        assert normalise(word, four(tgt, word)) == normalise(word, four(zk, word)), word
    assert four(tgt, "stat") == "stat is not executed because it is not in the whitelist.\n"


# ---------------------------------------------------------------- AdminServer
def _shape(v, ids=False):
    """JSON structure: key order and value types (keys that are ids/times collapse)."""
    if isinstance(v, dict):
        if ids:  # keys are ids/times; empty expiry buckets come and go with timing
            return sorted({json.dumps(_shape(x)) for x in v.values() if x != []})
        return [(k, _shape(x, k in ("expiry_time_to_session_ids", "session_id_to_ephemeral_paths",
                                    "session_id_to_watched_paths", "path_to_session_ids")))
                for k, x in v.items()]
    if isinstance(v, list):
        return ["list"] + sorted({json.dumps(_shape(x)) for x in v})
    return type(v).__name__


def test_commands_listing(pair):
    zk, tgt = pair
    want = zk.http("/commands")
    assert tgt.http("/commands") == want
    assert tgt.http("/commands/")[0] == 200
    assert tgt.http("/")[0] == zk.http("/")[0] == 404


@pytest.mark.parametrize("name", HTTP_NAMES)
def test_admin_command(pair, name):
    zk, tgt = pair
    zs, zct, zb = zk.http("/commands/" + name)
    ts, tct, tb = tgt.http("/commands/" + name)
    assert (ts, tct) == (zs, zct)
    zj, tj = json.loads(zb), json.loads(tb)
    if name in ("system_properties", "sysp"):
        assert [k for k in tj][-2:] == ["command", "error"]
        for k in zj:
            if k.startswith("zookeeper."):
                assert k in tj, k
                if not k.endswith("Port"):
                    assert tj[k] == zj[k], k
        return
    assert _shape(tj) == _shape(zj), "%s:\nzookeeper: %s\ntarget:    %s" % (name, zb, tb)
    for k in ("command", "error", "read_only", "tracemask", "server_state", "node_count",
              "num_paths", "num_total_watches", "num_connections", "znode_count"):
        if k in zj:
            assert tj[k] == zj[k], k


def test_set_trace_mask_param(pair):
    for srv in pair:
        _, _, body = srv.http("/commands/stmk?traceMask=306")
        assert json.loads(body)["tracemask"] == 306


# ---------------------------------------------------------------- Prometheus
def _expected_metric_names(mntr_text):
    """Prometheus names for ZooKeeper's mntr keys (as its provider exports them)."""
    names = set()
    for line in mntr_text.strip().split("\n"):
        key = line.split("\t")[0][3:]
        if key in ("version", "server_state") or key.endswith("_per_namespace"):
            continue
        m = re.match(r"(avg|min|max|cnt|sum|p50|p95|p99|p999)_(.*)", key)
        if m and key not in ("min_latency", "max_latency", "avg_latency", "max_file_descriptor_count",
                             "max_client_response_size", "min_client_response_size"):
            names.add(m.group(2) + "_count")
            names.add(m.group(2) + "_sum")
        else:
            names.add(key)
    return names


def test_prometheus_metrics(pair, server_factory):
    zk, _ = pair
    expected = _expected_metric_names(four(zk, "mntr"))
    if servers.target_name() == "zookeeper":
        # Debian ships no Prometheus client jars: check the name mapping itself.
        assert {"znode_count", "readlatency_count", "packets_received"} <= expected
        return
    port = servers.free_port()
    srv = server_factory(extra_cfg=["metricsProvider.className=" + PROMETHEUS,
                                    "metricsProvider.httpPort=%d" % port,
                                    "metricsProvider.httpHost=127.0.0.1"])
    deadline = time.monotonic() + 10
    while True:
        try:
            status, ctype, body = AdminServer.http(srv, "/metrics", port=port)
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    assert status == 200 and ctype.startswith("text/plain")
    samples = {re.split(r"[ {]", l, 1)[0] for l in body.split("\n") if l and not l.startswith("#")}
    missing = expected - samples
    assert not missing, sorted(missing)
    assert "# TYPE znode_count gauge" in body
    assert "# TYPE readlatency summary" in body
    assert 'readlatency{quantile="0.99",}' in body
    assert "# TYPE connection_request_count counter" in body
