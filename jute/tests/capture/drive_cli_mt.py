#!/usr/bin/python3
"""Feed commands to the C client shell (libzookeeper-mt 3.8.0 cli_mt), one
every 0.4 s so each async reply arrives before the next command.
usage: PROXY_PID=<pid> drive_cli_mt.py HOST:PORT
'!drop' makes the proxy drop the connection (reconnect with SetWatches)."""
import os
import signal
import subprocess
import sys
import time

CMDS = """create /cc
create2 /cc/two
create +e /cc/eph
create +s /cc/seq
create +c /cc/cont
create +t=10000 /cc/ttl
exists /cc/two
wexists /cc/later
create /cc/later
get /cc
set /cc/two payload
ls /cc
ls2 /cc
sync /cc
addauth digest ccuser:ccpass
delete /cc/two
delete /cc/missing
wexists /cc/later2
get /cc
!drop
create /cc/later2
config
quit""".splitlines()

p = subprocess.Popen(["/usr/lib/zookeeper/bin/cli_mt", "-h", sys.argv[1]],
                     stdin=subprocess.PIPE, text=True)
time.sleep(1.5)
for c in CMDS:
    if c == "!drop":  # proxy drops the TCP connection -> reconnect + SetWatches
        os.kill(int(os.environ["PROXY_PID"]), signal.SIGUSR1)
        time.sleep(3)
        continue
    p.stdin.write(c + "\n")
    p.stdin.flush()
    time.sleep(0.4)
try:
    p.stdin.close()
    p.wait(15)
except subprocess.TimeoutExpired:
    p.kill()
    p.wait(5)
