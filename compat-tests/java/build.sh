#!/bin/sh
# Builds the Java stock-client compatibility program (rzkcompat.Main) with plain javac
# against the Debian-packaged ZooKeeper 3.8 / Curator 5.4 jars; no Maven, no network.
# Output: compat-tests/java/build/classes. Run with:
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
rm -rf "$here/build/classes"
mkdir -p "$here/build/classes"
javac -nowarn -encoding UTF-8 -d "$here/build/classes" -cp "$libs" "$here"/src/rzkcompat/*.java
printf '%s\n' "$here/build/classes:$libs" > "$here/build/classpath"
echo "built $here/build/classes"
