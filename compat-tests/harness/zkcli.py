"""Run Apache's zkCli.sh with a command script and normalise its output.

zkCli prints command results on stdout and stderr (merged here; both Java
streams autoflush per line) and watch events from a separate thread, so
`normalise` pulls "WatchedEvent" lines out into their own ordered list and
replaces run-specific values: dates, ports, zxids and session ids.  zxids and
session ids are relabelled by first appearance (Z1, Z2, S1...), so equality
relationships between them are still compared.
"""
import re
import subprocess

ZKCLI = "/usr/share/zookeeper/bin/zkCli.sh"
NOISE = re.compile(r"^(SLF4J:|Welcome to ZooKeeper!|JLine support is|WATCHER::\s*$|\s*$)")
DATE = re.compile(r"\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \w+ \d{4}")
ZXID_LINE = re.compile(r"^(cZxid|mZxid|pZxid) = (0x[0-9a-f]+)$")
OWNER_LINE = re.compile(r"^ephemeralOwner = (0x[0-9a-f]+)$")
CLOSED_EVENT = "WatchedEvent state:Closed type:None path:null"


def run_script(hosts, script_text, timeout=90):
    script = script_text.replace("{hosts}", hosts)
    proc = subprocess.run([ZKCLI, "-server", hosts], input=script, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          timeout=timeout)
    return proc.stdout.replace(hosts, "HOST:PORT")


def normalise(output):
    """Return (lines, events) with run-specific values replaced."""
    zxids, sessions = {}, {}

    def label(table, prefix, value):
        if value == "0x0":                 # built-in nodes / no owner
            return value
        if value not in table:
            table[value] = "%s%d" % (prefix, len(table) + 1)
        return table[value]

    lines, events = [], []
    for line in output.splitlines():
        line = line.rstrip()
        if NOISE.match(line):
            continue
        if line.startswith("WatchedEvent "):
            events.append(line)
            continue
        line = DATE.sub("DATE", line)
        m = ZXID_LINE.match(line)
        if m:
            line = "%s = %s" % (m.group(1), label(zxids, "Z", m.group(2)))
        m = OWNER_LINE.match(line)
        if m and m.group(1) != "0x0":
            line = "ephemeralOwner = " + label(sessions, "S", m.group(1))
        lines.append(line)
    # A script ends with `close`, and the client queues its own Closed event (the server
    # sends no such thing) to the event thread, which races the JVM's exit on end of
    # input: the last line is there in some runs and not in others, against either
    # server. It says nothing about the server, so a trailing one is dropped.
    if events and events[-1] == CLOSED_EVENT:
        events.pop()
    return lines, events
