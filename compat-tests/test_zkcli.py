"""Scripted zkCli.sh sessions: the same script runs against a fresh real
ZooKeeper 3.8 and a fresh target server; normalised outputs must match line by
line, and the ZooKeeper output must match the stored zkcli/<name>.expected
(so the test still proves something when the target is ZooKeeper itself).
Regenerate the expected files with UPDATE_ZKCLI_EXPECTED=1 (real ZK only).
"""
import difflib
import os

import pytest

from harness import zkcli

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "zkcli")
SCRIPTS = sorted(f[:-4] for f in os.listdir(HERE) if f.endswith(".txt"))


def _render(lines, events):
    return lines + ["--- watch events ---"] + events


def _diff(a, b, name_a, name_b):
    return "\n".join(difflib.unified_diff(a, b, name_a, name_b, lineterm="", n=3))


@pytest.mark.parametrize("name", SCRIPTS)
def test_zkcli_script(name, server_factory):
    with open(os.path.join(HERE, name + ".txt")) as f:
        script = f.read()
    ref = server_factory("zookeeper")
    tgt = server_factory()
    got_ref = _render(*zkcli.normalise(zkcli.run_script(ref.hosts, script)))
    got_tgt = _render(*zkcli.normalise(zkcli.run_script(tgt.hosts, script)))
    expected_file = os.path.join(HERE, name + ".expected")
    if os.environ.get("UPDATE_ZKCLI_EXPECTED"):
        with open(expected_file, "w") as f:
            f.write("\n".join(got_ref) + "\n")
    with open(expected_file) as f:
        expected = f.read().splitlines()
    assert got_ref == expected, "real ZooKeeper drifted from %s.expected:\n%s" % (
        name, _diff(expected, got_ref, "expected", "zookeeper"))
    assert got_tgt == got_ref, "target differs from ZooKeeper:\n" + _diff(
        got_ref, got_tgt, "zookeeper", "target")
