#!/bin/sh
# deps.sh - install the Debian packages edgemon builds, tests and demos with.
# Copyright (c) 2026 edgemon authors. SPDX-License-Identifier: MIT
# As root: apt-get install what is missing. Otherwise: print the exact command.
set -eu
PKGS="build-essential pkg-config libmodbus-dev libhiredis-dev libcjson-dev
libcurl4-openssl-dev zlib1g-dev librdkafka-dev libnats-dev libpaho-mqtt-dev redis-server
mosquitto mosquitto-clients nats-server socat python3
openssl libmicrohttpd-dev python3-prometheus-client chromium ${EXTRA_DEPS:-}"
missing=""
for p in $PKGS; do
    st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$st" in *"install ok installed"*) ;; *) missing="$missing $p" ;; esac
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -eq 0 ]; then
    echo "deps: installing$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
else
    echo "deps: missing Debian packages; run:"
    echo "  sudo apt-get install -y$missing"
    exit 1
fi
