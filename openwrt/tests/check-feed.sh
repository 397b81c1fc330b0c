#!/bin/bash
# check-feed.sh - check the OpenWrt feed without an OpenWrt SDK.
# Copyright (c) 2026 edgemon authors. SPDX-License-Identifier: MIT
#
# No SDK or buildroot is available in the test environment (only the Debian and npm
# registries are reachable), so the package Makefiles are checked with `make -n`
# against the stand-ins in openwrt/tests/stub/ (rules.mk, include/package.mk,
# include/cmake.mk). The stub package.mk enforces the feed conventions (see its
# header) and prints every build and install step; this script then checks the
# printed steps, the shipped files, and runs the procd init script's functions
# against stub procd/UCI helpers.
#
# With a real SDK, the equivalent is:
#   echo "src-link edgemon $PWD/openwrt" >> feeds.conf
#   ./scripts/feeds update edgemon && ./scripts/feeds install -a -p edgemon
#   make package/edgemon/compile V=s
#
# Output: PASS/FAIL lines, then "N passed, N failed". Exit status 1 on any failure.
set -uo pipefail

FEED=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ROOT=$(cd "$FEED/.." && pwd)
STUB=$FEED/tests/stub
npass=0
nfail=0
ok() { echo "PASS openwrt: $1"; npass=$((npass + 1)); }
ko() { echo "FAIL openwrt: $1${2:+: $2}"; nfail=$((nfail + 1)); }
TMP=$(mktemp -d "${TMPDIR:-/tmp}/edgemon-feed.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
# A calling make (make test) must not leak its flags into the stub runs.
unset MAKEFLAGS MAKELEVEL MFLAGS

echo "note: no OpenWrt SDK here; Makefiles checked with make -n against $STUB"

# stub_make PKG OUT [VAR=value...]: make -n of one package against the stubs.
stub_make() {
    local pkg=$1 out=$2
    shift 2
    make -n -C "$FEED/$pkg" TOPDIR="$STUB" STUB_OUT="$TMP/sdk" "$@" >"$out" 2>&1
}
has() { grep -qF -- "$2" "$1"; }

# --- edgemon: full build (the Kconfig defaults) -----------------------------------
full=(CONFIG_EDGEMON_MQTT=y CONFIG_EDGEMON_REDIS_PUB=y CONFIG_EDGEMON_KUBEMQ=y
    CONFIG_EDGEMON_HTTP=y CONFIG_EDGEMON_KAFKA=y CONFIG_EDGEMON_NATS=y)
if stub_make edgemon "$TMP/full.txt" "${full[@]}"; then
    ok "edgemon/Makefile parses (make -n, all publishers)"
    bad=""
    for want in "WITH_MQTT=yes" "WITH_REDIS_PUB=yes" "WITH_KUBEMQ=yes" "WITH_HTTP=yes" \
        "WITH_KAFKA=yes" "WITH_NATS=yes" "SMALL=yes" ":librdkafka" ":libnats" \
        "MQTT_TLS=no" "/usr/bin/edgemon" "/etc/init.d/edgemon" \
        "/etc/config/edgemon" "/etc/edgemon/edgemon.json" "/usr/share/edgemon/profiles" \
        "USERID: edgemon=" "+libmodbus +libhiredis +cJSON" ":libcurl" ":libpaho-mqtt-c"; do
        has "$TMP/full.txt" "$want" || bad="$bad '$want'"
    done
    # The compile step must target the agent only, with the SDK's CC on the command
    # line and CFLAGS in the environment (what the project Makefile expects).
    grep -Eq '^CFLAGS=".*" .*make .* CC="[^"]*gcc" .* edgemon$' "$TMP/full.txt" ||
        bad="$bad 'compile line'"
    if [ -z "$bad" ]; then ok "edgemon build/install steps as expected"; else
        ko "edgemon build/install steps" "missing$bad"
    fi
else
    cat "$TMP/full.txt"
    ko "edgemon/Makefile parses (make -n, all publishers)"
fi

# --- edgemon: minimal build (no KubeMQ, no HTTP) and MQTT over TLS -----------------
if stub_make edgemon "$TMP/min.txt" CONFIG_EDGEMON_MQTT=y CONFIG_EDGEMON_MQTT_TLS=y; then
    if has "$TMP/min.txt" "WITH_KUBEMQ=no" && has "$TMP/min.txt" "WITH_HTTP=no" &&
        has "$TMP/min.txt" "WITH_KAFKA=no" && has "$TMP/min.txt" "WITH_NATS=no" &&
        has "$TMP/min.txt" "MQTT_TLS=yes"; then
        ok "edgemon minimal + TLS switches reach the build (WITH_KUBEMQ=no WITH_HTTP=no MQTT_TLS=yes)"
    else
        ko "edgemon minimal + TLS switches" "not in the compile line"
    fi
else
    cat "$TMP/min.txt"
    ko "edgemon/Makefile parses (make -n, minimal)"
fi

# Sources Build/Prepare copies must exist in this checkout.
parts=$(sed -n 's/^EDGEMON_SRC_PARTS:=//p' "$FEED/edgemon/Makefile")
missing=""
for p in $parts; do [ -e "$ROOT/$p" ] || missing="$missing $p"; done
if [ -n "$parts" ] && [ -z "$missing" ]; then ok "source parts present in the checkout ($parts)"
else ko "source parts present in the checkout" "missing:$missing"; fi

# Versions must agree with the project Makefile.
pv=$(sed -n 's/^PKG_VERSION:=//p' "$FEED/edgemon/Makefile")
mv=$(sed -n 's/^VERSION *:= *//p' "$ROOT/Makefile")
if [ -n "$pv" ] && [ "$pv" = "$mv" ]; then ok "PKG_VERSION $pv = Makefile VERSION"
else ko "PKG_VERSION '$pv' = Makefile VERSION '$mv'"; fi

# --- libpaho-mqtt-c -----------------------------------------------------------------
if stub_make libpaho-mqtt-c "$TMP/paho.txt"; then
    ok "libpaho-mqtt-c/Makefile parses (make -n)"
    bad=""
    for want in "-DPAHO_WITH_SSL=TRUE" "-DPAHO_HIGH_PERFORMANCE=TRUE" \
        "-DPAHO_ENABLE_TESTING=FALSE" "paho.mqtt.c-1.3" "libpaho-mqtt3a.so" \
        "libpaho-mqtt3as.so" "packages: libpaho-mqtt-c libpaho-mqtt-c-ssl" \
        "DEPENDS: +libopenssl"; do
        has "$TMP/paho.txt" "$want" || bad="$bad '$want'"
    done
    if [ -z "$bad" ]; then ok "libpaho-mqtt-c steps as expected"
    else ko "libpaho-mqtt-c steps" "missing$bad"; fi
else
    cat "$TMP/paho.txt"
    ko "libpaho-mqtt-c/Makefile parses (make -n)"
fi

# --- shipped files ------------------------------------------------------------------
FILES=$FEED/edgemon/files
if jq -e '(.agent | type) == "object" and (.devices | length) > 0 and
        (.queue.backend == "spool" or .queue.backend == "redis")' \
        "$FILES/edgemon.json" >/dev/null 2>&1; then
    ok "files/edgemon.json is JSON with agent, devices, queue"
else
    ko "files/edgemon.json is JSON with agent, devices, queue"
fi
if grep -Eq "^config edgemon 'main'" "$FILES/edgemon.config" &&
    ! grep -Evq "^(#.*|config [a-z_]+ '[a-z_]+'|	(option|list) [a-z_]+ '[^']*'|	#.*|)$" \
        "$FILES/edgemon.config"; then
    ok "files/edgemon.config is UCI syntax with section edgemon 'main'"
else
    ko "files/edgemon.config is UCI syntax with section edgemon 'main'"
fi
if sh -n "$FILES/edgemon.init" 2>"$TMP/shn.txt"; then ok "edgemon.init passes sh -n"
else ko "edgemon.init passes sh -n" "$(head -n 1 "$TMP/shn.txt")"; fi
bad=""
for want in "#!/bin/sh /etc/rc.common" "USE_PROCD=1" "procd_set_param respawn" \
    "procd_set_param file" "procd_set_param stdout 1" "procd_set_param stderr 1" \
    "procd_add_reload_trigger" " check -c "; do
    grep -qF -- "$want" "$FILES/edgemon.init" || bad="$bad '$want'"
done
if [ -z "$bad" ]; then ok "edgemon.init has the procd essentials"
else ko "edgemon.init has the procd essentials" "missing$bad"; fi

# --- init script behaviour against stub procd/UCI helpers ---------------------------
# Runs the script's functions in dash (closest to busybox ash) with recording stubs.
cat >"$TMP/fake-edgemon" <<'EOF'
#!/bin/sh
# check -c FILE: valid when the file is JSON with an "agent" object.
[ "$1" = check ] || exit 2
if jq -e '.agent | type == "object"' "$3" >/dev/null 2>&1; then
    echo "configuration OK"; exit 0
fi
echo "agent: missing or not an object"; exit 1
EOF
chmod +x "$TMP/fake-edgemon"
cat >"$TMP/harness.sh" <<'EOF'
# Sourced by dash after the init script; SIM_* select the scenario.
LOG=$SIM_DIR/procd.log
: >"$LOG"
PROG=$SIM_DIR/fake-edgemon
uci_load_validate() {   # pkg type section callback specs...: defaults, then overrides
    enabled=${SIM_ENABLED:-1}; config=$SIM_CONF
    respawn_threshold=3600; respawn_timeout=5; respawn_retry=5
    "$4" "$3" 0
}
user_exists() { [ "${SIM_USER:-1}" = 1 ]; }
jsonfilter() { jq -r '.agent.state_dir // empty' "$2"; }
logger() { cat >/dev/null; }
chown() { echo "chown $*" >>"$LOG"; }
chgrp() { echo "chgrp $*" >>"$LOG"; }
uci() { echo "$SIM_CONF"; }
procd_open_instance() { echo "open_instance $*" >>"$LOG"; }
procd_set_param() { echo "set_param $*" >>"$LOG"; }
procd_close_instance() { echo "close_instance" >>"$LOG"; }
procd_add_reload_trigger() { echo "reload_trigger $*" >>"$LOG"; }
procd_add_validation() { echo "validation $*" >>"$LOG"; }
start() { start_service; }
"$@"
EOF
sim() { # sim NAME FUNCTION [VAR=value...]: run one function of the init script
    local fn=$1
    shift
    # shellcheck disable=SC2016 # expanded by dash
    env "$@" SIM_DIR="$TMP" dash -c 'i=$1 h=$2; shift 2; . "$i"; . "$h"' sim \
        "$FILES/edgemon.init" "$TMP/harness.sh" "$fn" >"$TMP/sim.out" 2>&1
}
mkdir -p "$TMP/state"
printf '{ "agent": { "id": "a", "state_dir": "%s" }, "devices": [] }\n' "$TMP/state/x" \
    >"$TMP/good.json"
echo '{ "devices": [] }' >"$TMP/bad.json"

if sim start_service SIM_CONF="$TMP/good.json" &&
    grep -qxF "set_param command $TMP/fake-edgemon run -c $TMP/good.json" "$TMP/procd.log" &&
    grep -qxF "set_param user edgemon" "$TMP/procd.log" &&
    grep -qxF "set_param respawn 3600 5 5" "$TMP/procd.log" &&
    grep -qxF "set_param file $TMP/good.json" "$TMP/procd.log" &&
    grep -qxF "set_param reload_signal HUP" "$TMP/procd.log" &&
    grep -qxF "set_param stderr 1" "$TMP/procd.log" &&
    grep -qxF "close_instance" "$TMP/procd.log" && [ -d "$TMP/state/x" ]; then
    ok "init: valid config -> one procd instance (run -c, user, respawn, file, HUP, syslog, state dir)"
else
    cat "$TMP/sim.out" "$TMP/procd.log"
    ko "init: valid config -> one procd instance"
fi
if ! sim start_service SIM_CONF="$TMP/bad.json" && ! grep -q open_instance "$TMP/procd.log" &&
    grep -q "is invalid" "$TMP/sim.out"; then
    ok "init: invalid config (edgemon check fails) -> not started, error shown"
else
    ko "init: invalid config -> not started"
fi
if ! sim start_service SIM_CONF="$TMP/good.json" SIM_USER=0 &&
    ! grep -q open_instance "$TMP/procd.log"; then
    ok "init: missing user edgemon -> not started (procd would run it as root)"
else
    ko "init: missing user edgemon -> not started"
fi
if sim start_service SIM_CONF="$TMP/good.json" SIM_ENABLED=0 &&
    ! grep -q open_instance "$TMP/procd.log"; then
    ok "init: enabled=0 -> no instance"
else
    ko "init: enabled=0 -> no instance"
fi
if ! sim reload_service SIM_CONF="$TMP/bad.json" && ! grep -q open_instance "$TMP/procd.log"; then
    ok "init: reload with an invalid config leaves the running agent alone"
else
    ko "init: reload with an invalid config leaves the running agent alone"
fi
if sim reload_service SIM_CONF="$TMP/good.json" && grep -q open_instance "$TMP/procd.log"; then
    ok "init: reload with a valid config re-declares the instance"
else
    ko "init: reload with a valid config re-declares the instance"
fi
if sim service_triggers && grep -qxF "reload_trigger edgemon" "$TMP/procd.log"; then
    ok "init: reload trigger on UCI package edgemon"
else
    ko "init: reload trigger on UCI package edgemon"
fi

echo "$npass passed, $nfail failed"
[ "$nfail" -eq 0 ]
