"""Stock ZooKeeper clients against the target server.

Builds (once per session) and runs two programs that use the unmodified Debian
client libraries, so rzk is judged by the clients real applications ship with:

  * java/  -- ZooKeeper 3.8 Java client + Curator 5.4 recipes (rzkcompat.Main)
  * c/     -- libzookeeper_mt, the ZooKeeper 3.8 C client (zkcompat)

Each program prints `PASS name` / `FAIL name: reason` per case and a final
`N passed, M failed`.  Every program runs once per session; each expected case
becomes its own pytest item (so KNOWN_FAILURES can list single cases), plus one
item per program asserting exit status 0, the summary line, and that the
program's case list still matches the expected names below.
"""
import os
import re
import subprocess

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
JAVA_DIR = os.path.join(HERE, "java")
C_DIR = os.path.join(HERE, "c")

JAVA_CASES = [
    "create_modes", "create2_stat", "get_set_versions", "null_vs_empty_data",
    "delete_codes", "sequence_and_cversion", "container_reaped", "ttl_reaped",
    "get_ephemerals", "all_children_number", "sync", "chroot", "builtin_nodes",
    "exists_watch", "getdata_watch", "children_watch", "default_watcher",
    "persistent_watch", "persistent_recursive_watch", "remove_watches",
    "ephemeral_close_events",
    "multi_success", "multi_failure", "multi_watches", "multi_read",
    "acl_digest", "acl_invalid", "acl_perms", "who_am_i",
    "session_expiry", "session_resume_setwatches", "session_reattach",
    "curator_mutex", "curator_leader_latch", "curator_cache", "curator_queue",
    "curator_shared_count", "curator_transaction",
]
C_CASES = [
    "c_create_modes", "c_create2_stat", "c_get_set_version", "c_delete_codes",
    "c_get_children2", "c_multi_success", "c_multi_failure", "c_acl_digest",
    "c_auth_failed", "c_exists_watch", "c_default_watcher",
    "c_children_watch_remove", "c_async_create_get", "c_ephemeral_close",
    "c_async_multi_sync", "c_bad_session_password",
]
RUN_TIMEOUT = 180  # seconds per program; cases are individually bounded far below this


class Run:
    """Outcome of one program run: exit code, per-case results, raw output."""

    def __init__(self, argv, timeout):
        self.argv = argv
        try:
            p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               stdin=subprocess.DEVNULL, timeout=timeout)
            self.rc, out, err = p.returncode, p.stdout, p.stderr
        except subprocess.TimeoutExpired as e:
            self.rc, out, err = "timeout", e.stdout or b"", e.stderr or b""
        self.stdout = out.decode(errors="replace")
        self.stderr = err.decode(errors="replace")
        self.results = {}
        for line in self.stdout.splitlines():
            m = re.match(r"^(PASS|FAIL) ([A-Za-z0-9_]+)(?:: (.*))?$", line)
            if m:
                self.results[m.group(2)] = (m.group(1), m.group(3) or "")

    def describe(self):
        return "argv: %s\nexit: %s\n--- stdout\n%s\n--- stderr (tail)\n%s" % (
            " ".join(self.argv), self.rc, self.stdout, self.stderr[-3000:])


def _build(script):
    p = subprocess.run(["sh", script], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       stdin=subprocess.DEVNULL, timeout=600)
    assert p.returncode == 0, "%s failed:\n%s" % (script, p.stdout.decode(errors="replace"))


@pytest.fixture(scope="session")
def java_cmd():
    _build(os.path.join(JAVA_DIR, "build.sh"))
    with open(os.path.join(JAVA_DIR, "build", "classpath")) as f:
        cp = f.read().strip()
    return ["java", "-Xmx256m", "-cp", cp, "rzkcompat.Main"]


@pytest.fixture(scope="session")
def c_cmd():
    _build(os.path.join(C_DIR, "build.sh"))
    return [os.path.join(C_DIR, "build", "zkcompat")]


@pytest.fixture(scope="session")
def java_run(java_cmd, target):
    return Run(java_cmd + [target.hosts], RUN_TIMEOUT)


@pytest.fixture(scope="session")
def c_run(c_cmd, target):
    return Run(c_cmd + [target.hosts], RUN_TIMEOUT)


def _listed(cmd):
    out = subprocess.run(cmd + ["--list"], stdout=subprocess.PIPE, timeout=60, check=True)
    return out.stdout.decode().split()


def _check_whole_run(run, cmd, expected):
    assert _listed(cmd) == expected, "program case list drifted from this file"
    n_fail = sum(1 for s, _ in run.results.values() if s == "FAIL")
    summary = "%d passed, %d failed" % (len(run.results) - n_fail, n_fail)
    assert run.stdout.rstrip().endswith(summary), run.describe()
    assert run.rc == 0, run.describe()
    assert sorted(run.results) == sorted(expected), run.describe()


def _check_case(run, name):
    status, reason = run.results.get(name, ("MISSING", "no PASS/FAIL line printed"))
    assert status == "PASS", "%s: %s %s\n\n%s" % (name, status, reason, run.describe())


def test_java_client_run(java_run, java_cmd):
    _check_whole_run(java_run, java_cmd, JAVA_CASES)


@pytest.mark.parametrize("name", JAVA_CASES)
def test_java_case(java_run, name):
    _check_case(java_run, name)


def test_c_client_run(c_run, c_cmd):
    _check_whole_run(c_run, c_cmd, C_CASES)


@pytest.mark.parametrize("name", C_CASES)
def test_c_case(c_run, name):
    _check_case(c_run, name)
