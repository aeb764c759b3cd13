#!/bin/sh
# Builds the C stock-client compatibility program (zkcompat) against the Debian
# libzookeeper-mt (ZooKeeper 3.8 C client). Output: compat-tests/c/build/zkcompat. Run:
#   compat-tests/c/build/zkcompat host:port
set -eu
here=$(cd "$(dirname "$0")" && pwd)
missing=""
for p in gcc libc6-dev libzookeeper-mt-dev; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing
fi
mkdir -p "$here/build"
# link to a temporary name, then rename: a concurrently running binary is never disturbed
gcc -std=gnu11 -DTHREADED -O1 -g -Wall -Wextra -Werror -o "$here/build/zkcompat.$$" \
    "$here/main.c" "$here/util.c" "$here/sync_cases.c" "$here/async_cases.c" \
    -lzookeeper_mt -lpthread
mv -f "$here/build/zkcompat.$$" "$here/build/zkcompat"
echo "built $here/build/zkcompat"
