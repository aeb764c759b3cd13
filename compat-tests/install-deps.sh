#!/bin/bash
# Install what the compat suites need (Debian 12), idempotently.
# The suites run under /usr/bin/python3 (Debian's interpreter) because kazoo,
# pytest and pytest-timeout come from apt (python3-kazoo etc.), not from pip.
# apt-get update runs only when something is actually missing.
set -euo pipefail

PKGS=(zookeeper zookeeper-bin python3-kazoo python3-pytest python3-pytest-timeout
      libzookeeper-java libzookeeper-mt-dev libcurator-framework-java
      libcurator-recipes-java libslf4j-java gcc)
command -v javac >/dev/null 2>&1 || PKGS+=(default-jdk-headless)

missing=()
for p in "${PKGS[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "install-deps: all ${#PKGS[@]} packages present"
    exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q "${missing[@]}"
