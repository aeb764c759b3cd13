#!/bin/sh
# Builds the Java stock-client compatibility program (rzkcompat.Main) with plain javac
# against the Debian-packaged ZooKeeper 3.8 / Curator 5.4 jars; no Maven, no network.
# Output goes to build/classes-<source hash> and is reused while sources are unchanged, so
# a concurrent run is never disturbed; build/classpath names it. Run with:
#   java -cp "$(cat compat-tests/java/build/classpath)" rzkcompat.Main host:port
set -eu
here=$(cd "$(dirname "$0")" && pwd)
pkgs="openjdk-17-jdk-headless libzookeeper-java libcurator-framework-java libcurator-recipes-java libslf4j-java"
missing=""
for p in $pkgs; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"; done
if [ -n "$missing" ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing
fi
J=/usr/share/java
# jar manifests pull in the transitive deps (netty, jute, guava, ...); slf4j-nop silences logs
libs="$J/zookeeper.jar:$J/zookeeper-jute.jar:$J/curator-client.jar:$J/curator-framework.jar:$J/curator-recipes.jar:$J/guava.jar:$J/slf4j-api.jar:$J/slf4j-nop.jar"
mkdir -p "$here/build"
stamp=$(cat "$here"/src/rzkcompat/*.java "$0" | sha1sum | cut -c1-12)
out="$here/build/classes-$stamp"
if [ ! -f "$out/.complete" ]; then
    tmp=$(mktemp -d "$here/build/tmp.XXXXXX")
    javac -nowarn -encoding UTF-8 -d "$tmp" -cp "$libs" "$here"/src/rzkcompat/*.java
    touch "$tmp/.complete"
    mv -T "$tmp" "$out" 2>/dev/null || rm -rf "$tmp"   # lost a race: an identical build won
fi
printf '%s\n' "$out:$libs" > "$here/build/classpath.$$"
mv -f "$here/build/classpath.$$" "$here/build/classpath"
# drop stale builds (older than an hour) of other source versions
find "$here/build" -maxdepth 1 \( -name 'classes-*' -o -name 'tmp.*' \) ! -name "classes-$stamp" -mmin +60 \
    -exec rm -rf {} + 2>/dev/null || true
echo "built $out"
