#!/bin/bash
# lib.sh - helpers for integration tests: temp dirs, free ports, real servers by PID.
# Copyright (c) 2026 edgemon authors. SPDX-License-Identifier: MIT
#
# Source it from a test script:  . "$(dirname "$0")/../lib.sh"
# Servers listen on 127.0.0.1 only, live in $T_TMP, and are stopped by PID on exit.

T_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
T_TMP=$(mktemp -d "${TMPDIR:-/tmp}/edgemon-test.XXXXXX")
EDGEMON=${EDGEMON:-$T_ROOT/edgemon}
EDGEMON_SIM=${EDGEMON_SIM:-$T_ROOT/edgemon-sim}
JSONCMP=${JSONCMP:-$T_ROOT/${B:-build}/tools/jsoncmp}
FILL=${FILL:-$T_ROOT/${B:-build}/tools/fill} # adds readings to a queue with no agent running
EXPECTED=$T_ROOT/tests/sim/expected
T_PIDS=""
T_FAILED=0

t_cleanup() {
    # Newest first: the agent stops before the servers it talks to.
    local rev="" p
    for p in $T_PIDS; do rev="$p $rev"; done
    for p in $rev; do
        kill -0 "$p" 2>/dev/null || continue
        kill "$p" 2>/dev/null
        for _ in $(seq 40); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$p" 2>/dev/null
    done
    if [ "$T_FAILED" -ne 0 ] && [ -n "${T_KEEP_ON_FAIL:-}" ]; then
        echo "kept $T_TMP"
    else
        rm -rf "$T_TMP"
    fi
}
trap t_cleanup EXIT

pass() { echo "PASS $1"; }
fail() { echo "FAIL $1${2:+: $2}"; T_FAILED=1; }
# check NAME command...: PASS when the command succeeds.
check() { local n=$1; shift; if "$@"; then pass "$n"; else fail "$n"; fi; }

# Remember a background PID for cleanup.
track() { T_PIDS="$T_PIDS $1"; }
# Stop one tracked process by PID (TERM, then KILL after 3 s).
stop_pid() {
    local p=$1
    kill "$p" 2>/dev/null
    for _ in $(seq 30); do kill -0 "$p" 2>/dev/null || return 0; sleep 0.1; done
    kill -9 "$p" 2>/dev/null
    wait "$p" 2>/dev/null
    return 0
}

. "$T_ROOT/tests/ports.sh"
# wait_port PORT [seconds]: until something accepts on 127.0.0.1:PORT.
wait_port() {
    local i n=$((${2:-10} * 20))
    for i in $(seq "$n"); do port_busy "$1" && return 0; sleep 0.05; done
    return 1
}
# wait_for SECONDS command...: until the command succeeds. The command is run again
# each time, but its arguments are expanded once by the caller: wait on a function
# (lines_at_least, ...), never on "$(...)".
wait_for() {
    local s=$1 i
    shift
    for i in $(seq $((s * 10))); do "$@" && return 0; sleep 0.1; done
    return 1
}

# start_redis PORT [redis-server options...]; sets REDIS_PID.
start_redis() {
    local port=$1
    shift
    mkdir -p "$T_TMP/redis-$port"
    redis-server --port "$port" --bind 127.0.0.1 --dir "$T_TMP/redis-$port" \
        --save "" --appendonly no --daemonize no --logfile "$T_TMP/redis-$port/log" "$@" &
    REDIS_PID=$!
    track "$REDIS_PID"
    wait_port "$port" 10
}

# make_pki DIR: a test CA (ca.crt), a server certificate for 127.0.0.1 and localhost
# (server.crt/.key), a client certificate CN=gw-test (client.crt/.key) and a second,
# unrelated CA (other.crt) in DIR. Returns non-zero with openssl's output in
# DIR/openssl.log when openssl fails.
make_pki() {
    mkdir -p "$1" && (
        cd "$1" || exit 1
        openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=edgemon test CA" \
            -keyout ca.key -out ca.crt &&
            openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout server.key \
                -out server.csr &&
            printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >san.ext &&
            openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
                -extfile san.ext -out server.crt &&
            openssl req -newkey rsa:2048 -nodes -subj "/CN=gw-test" -keyout client.key \
                -out client.csr &&
            openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
                -out client.crt &&
            openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=other CA" \
                -keyout other.key -out other.crt
    ) >"$1/openssl.log" 2>&1
}

# start_mosquitto PORT [extra config lines...]; sets MOSQ_PID. With MOSQ_PERSIST=1
# the broker keeps sessions in $T_TMP/mosq-PORT across a restart (saved on SIGTERM).
# Extra lines replace the default listener when one of them starts with "listener".
start_mosquitto() {
    local port=$1 conf="$T_TMP/mosquitto-$1.conf"
    shift
    mkdir -p "$T_TMP/mosq-$port"
    {
        # Running as root, mosquitto would switch to its own user, which cannot
        # write into our 0700 temp dir; "user root" keeps it as it is.
        echo "user root"
        case "$*" in *listener*) ;; *) echo "listener $port 127.0.0.1" ;; esac
        echo "allow_anonymous true"
        if [ "${MOSQ_PERSIST:-0}" = 1 ]; then
            echo "persistence true"
            echo "persistence_location $T_TMP/mosq-$port/"
            echo "autosave_interval 1"
        else
            echo "persistence false"
        fi
        echo "log_dest file $T_TMP/mosquitto-$port.log"
        for l in "$@"; do echo "$l"; done
    } >"$conf"
    mosquitto -c "$conf" 2>>"$T_TMP/mosquitto-$port.stderr" &
    MOSQ_PID=$!
    track "$MOSQ_PID"
    wait_port "$port" 10
}

# start_sim ARGS...; sets SIM_PID. The caller passes --tcp 127.0.0.1:PORT or --rtu.
start_sim() {
    "$EDGEMON_SIM" "$@" >>"$T_TMP/sim.log" 2>&1 &
    SIM_PID=$!
    track "$SIM_PID"
}

# pty_pair: socat pseudo-tty pair; sets PTY_A (for the simulator), PTY_B (for the agent).
pty_pair() {
    PTY_A=$T_TMP/ttyA
    PTY_B=$T_TMP/ttyB
    socat -d -d "pty,raw,echo=0,link=$PTY_A" "pty,raw,echo=0,link=$PTY_B" \
        2>"$T_TMP/socat.log" &
    SOCAT_PID=$!
    track "$SOCAT_PID"
    wait_for 5 test -e "$PTY_B" -a -e "$PTY_A"
}

# write_conf FILE DEVICES_JSON [QUEUE_JSON] [PUBLISHERS_JSON]: a config with one
# agent whose state lives in $T_TMP/state.
write_conf() {
    cat >"$1" <<EOF_CONF
{"agent": {"id": "gw-test", "site": "site-test", "state_dir": "$T_TMP/state"},
 "devices": $2,
 "queue": ${3:-{\"backend\": \"spool\"\}},
 "publishers": ${4:-[]}}
EOF_CONF
}

# seq_check FILE: FILE holds received messages (any text with "id":"..." and
# "seq":N per line). For every device: no seq missing between its first and last,
# and first arrivals in increasing order (re-sent duplicates may come later).
# Prints a summary; returns 0 when both hold. SEQ_FIRST=N also demands that every
# device's first seq is N.
seq_check() {
    grep -o '"id":"[^"]*".*"seq":[0-9]*' "$1" |
        sed -e 's/^"id":"\([^"]*\)".*"seq":\([0-9]*\)$/\1 \2/' |
        awk -v first="${SEQ_FIRST:-}" '
        { n[$1]++; total++
          if (seen[$1, $2]++) { dup++; next }
          if ($1 in max && $2 < max[$1]) { disorder++; print "out of order: " $1 " " $2 " after " max[$1] }
          if (!($1 in max) || $2 > max[$1]) max[$1] = $2
          if (!($1 in min) || $2 < min[$1]) min[$1] = $2
          uniq[$1]++ }
        END {
          for (d in max) {
            want = max[d] - min[d] + 1
            if (uniq[d] != want) { gaps++; print "gap: " d " has " uniq[d] " of " want " (" min[d] ".." max[d] ")" }
            if (first != "" && min[d] != first) { gaps++; print "start: " d " begins at " min[d] }
            printf "device %s: seq %d..%d, %d messages\n", d, min[d], max[d], n[d]
          }
          printf "total %d, duplicates %d, out of order %d\n", total, dup, disorder
          exit (gaps || disorder) ? 1 : 0 }'
}

# poll_expected CONF PREFIX DEV:MODEL...: `edgemon poll --json` each device and
# compare with tests/sim/expected/MODEL.json; one PASS/FAIL "PREFIX-MODEL" each.
poll_expected() {
    local conf=$1 prefix=$2 pair dev model
    shift 2
    for pair in "$@"; do
        dev=${pair%%:*} model=${pair#*:}
        if "$EDGEMON" poll -c "$conf" "$dev" --json >"$T_TMP/$dev.json" 2>"$T_TMP/$dev.err"; then
            if "$JSONCMP" "$EXPECTED/$model.json" "$T_TMP/$dev.json"; then
                pass "$prefix-$model"
            else
                fail "$prefix-$model" "values differ from $EXPECTED/$model.json"
            fi
        else
            fail "$prefix-$model" "$(cat "$T_TMP/$dev.err")"
        fi
    done
}

# lines_at_least FILE N: FILE has at least N lines (for wait_for).
lines_at_least() {
    local n
    n=$(grep -c . "$1" 2>/dev/null)
    [ "${n:-0}" -ge "$2" ]
}

# subscribe PORT FILE: a QoS 1 subscriber to monitoring/# of the broker on PORT,
# what it receives to FILE; returns once it had time to subscribe.
subscribe() {
    mosquitto_sub -h 127.0.0.1 -p "$1" -q 1 -t 'monitoring/#' >"$2" 2>/dev/null &
    track $!
    sleep 0.3
}

# start_agent [OUT]: `edgemon run` on $T_TMP/c.json in the background, stdout to OUT
# (default $T_TMP/run.out), stderr appended to $T_TMP/run.err; sets AGENT.
start_agent() {
    "$EDGEMON" run -c "$T_TMP/c.json" >>"${1:-$T_TMP/run.out}" 2>>"$T_TMP/run.err" &
    AGENT=$!
    track "$AGENT"
}

# site_devices BUS INTERVAL_MS: the devices array of a simulator started with
# --device epever-tracer@1 --device seplos-v3@2 --device sunspec@3.
site_devices() {
    local d='' id drv prof u=1
    for id in mppt-1:mppt:epever-tracer bms-1:pms:seplos-v3 inv-1:inverter:sunspec; do
        IFS=: read -r id drv prof <<<"$id"
        d="$d${d:+,}{\"id\": \"$id\", \"driver\": \"$drv\", \"profile\": \"$prof\", \"bus\": \"$1\", \"unit\": $u, \"interval_ms\": $2}"
        u=$((u + 1))
    done
    echo "[$d]"
}

# five_devices_conf FILE BUS: the five simulator models as units 1-5 of one bus,
# as tests/sim/expected/ describes them.
five_devices_conf() {
    write_conf "$1" "[
  {\"id\": \"mppt-1\", \"driver\": \"mppt\", \"profile\": \"epever-tracer\", \"bus\": \"$2\", \"unit\": 1},
  {\"id\": \"mppt-2\", \"driver\": \"mppt\", \"profile\": \"renogy-rover\", \"bus\": \"$2\", \"unit\": 2},
  {\"id\": \"bms-1\", \"driver\": \"pms\", \"profile\": \"seplos-v3\", \"bus\": \"$2\", \"unit\": 3},
  {\"id\": \"inv-1\", \"driver\": \"inverter\", \"profile\": \"sunspec\", \"bus\": \"$2\", \"unit\": 4},
  {\"id\": \"bat-1\", \"driver\": \"pms\", \"profile\": \"sunspec-battery\", \"bus\": \"$2\", \"unit\": 5}]"
}
