#!/usr/bin/env bash
# Re-capture the golden wire/disk fixtures in jute/tests/fixtures/ from a real
# Apache ZooKeeper 3.8 (Debian package) driven by zkCli.sh and kazoo.
# usage: bash jute/tests/capture/capture.sh      (run from anywhere; needs root for apt)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
FIX="$(cd "$HERE/.." && pwd)/fixtures"
ZK_PORT="${ZK_PORT:-22181}"
PROXY_PORT="${PROXY_PORT:-22182}"
PY=/usr/bin/python3            # Debian python, has python3-kazoo

# --- dependencies (idempotent) -------------------------------------------
need=()
for p in zookeeper zookeeper-bin python3-kazoo default-jre-headless; do
  dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if ((${#need[@]})); then
  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}"
fi

WORK="$(mktemp -d /tmp/rzk-capture.XXXXXX)"
STAGE="$WORK/frames"; DATA="$WORK/data"
mkdir -p "$STAGE" "$DATA"
CP="/usr/share/java/zookeeper.jar:/usr/share/java/zookeeper-jute.jar:/usr/share/java/slf4j-simple.jar"
cat > "$WORK/zoo.cfg" <<EOF
tickTime=2000
dataDir=$DATA
clientPort=$ZK_PORT
clientPortAddress=127.0.0.1
extendedTypesEnabled=true
4lw.commands.whitelist=*
admin.enableServer=false
maxClientCnxns=0
EOF

SERVER_PID=""; PROXY_PID=""
cleanup() {
  for pid in $PROXY_PID $SERVER_PID; do
    kill "$pid" 2>/dev/null || true
  done
}
trap cleanup EXIT

wait_port() {  # port, seconds
  for _ in $(seq 1 $(( $2 * 5 ))); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.2
  done
  echo "port $1 did not open" >&2; return 1
}

start_server() {
  java -Dzookeeper.extendedTypesEnabled=true -Dznode.container.checkIntervalMs=1000 -Dorg.slf4j.simpleLogger.defaultLogLevel=info \
    -cp "$CP" org.apache.zookeeper.server.ZooKeeperServerMain "$WORK/zoo.cfg" \
    >>"$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  wait_port "$ZK_PORT" 60
}

stop_pid() {  # pid: TERM, bounded wait, then KILL
  local pid=$1
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.2; done
  kill -9 "$pid" 2>/dev/null || true
}

session() { echo "$1" > "$STAGE/.proxy-name"; echo "== session $1"; }

echo "work dir: $WORK"
start_server
"$PY" "$HERE/record_proxy.py" "$PROXY_PORT" "$ZK_PORT" "$STAGE" >"$WORK/proxy.log" 2>&1 &
PROXY_PID=$!
wait_port "$PROXY_PORT" 20
# the wait_port probe itself connected to the proxy; drop that empty file
sleep 0.5; rm -f "$STAGE"/session*.frames

# a. zkCli.sh (Java client 3.8.0), commands from stdin (no jline -> line mode)
session zkcli
timeout 180 /usr/share/zookeeper/bin/zkCli.sh -server "127.0.0.1:$PROXY_PORT" \
  <"$HERE/zkcli_commands.txt" >"$WORK/zkcli.out" 2>&1 || echo "zkCli exit $?"

# b. kazoo
export PROXY_PID
for mode in main reconnect reconfig authfail; do
  session "kazoo-$mode"
  timeout 120 "$PY" "$HERE/drive_kazoo.py" "$mode" "127.0.0.1:$PROXY_PORT" \
    >>"$WORK/kazoo.out" 2>&1 || echo "kazoo $mode exit $?"
done

# c. stock Java client API (same jar as zkCli): multi/multiRead/checkWatches,
#    pings, and two forced reconnects -> SetWatches (101) and SetWatches2 (105)
session java-api
timeout 120 java -cp "$CP" "$HERE/DriveJava.java" "127.0.0.1:$PROXY_PORT" \
  >"$WORK/java.out" 2>&1 || echo "DriveJava exit $?"

# d. C client (libzookeeper-mt 3.8.0 cli_mt), if present
if [ -x /usr/lib/zookeeper/bin/cli_mt ]; then
  session cclient
  timeout 60 "$PY" "$HERE/drive_cli_mt.py" "127.0.0.1:$PROXY_PORT" \
    >"$WORK/cclient.out" 2>&1 || echo "cli_mt exit $?"
fi

sleep 1
stop_pid "$PROXY_PID"; PROXY_PID=""
stop_pid "$SERVER_PID"; SERVER_PID=""
# restart once on the same dataDir: loading the db makes the server write a
# snapshot of the whole tree (the log from the run above stays as is)
start_server
sleep 2
stop_pid "$SERVER_PID"; SERVER_PID=""

# --- collect ----------------------------------------------------------------
mkdir -p "$FIX/disk"
rm -f "$FIX"/*.frames "$FIX"/disk/log.* "$FIX"/disk/snapshot.*
cp "$STAGE"/*.frames "$FIX/"
"$PY" "$HERE/collect_disk.py" "$DATA/version-2" "$FIX/disk"
echo
"$PY" "$HERE/summarize.py" "$FIX"
du -sh "$FIX"
echo "logs kept in $WORK (zkcli.out kazoo.out java.out cclient.out server.log proxy.log)"
