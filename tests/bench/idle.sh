#!/bin/bash
# idle.sh - idle cost and reconnect, edgemon beside a plain pymodbus + paho-mqtt
# script doing the same 1 s polls of the demo site (part of `make bench`).
# Copyright (c) 2026 edgemon authors. SPDX-License-Identifier: MIT
#
# Each runs IDLE_S seconds (default 60) against its own simulator (seplos-v3,
# epever-tracer, sunspec inverter) and mosquitto: printed are its CPU time over that
# time, start included, the readings the broker delivered, and CPU per reading. Then
# the broker is stopped for 5 s and started again: printed is the time from the
# broker accepting connections to the first reading a fresh subscriber receives.
# The script is tests/bench/baseline.py (Debian's python3-pymodbus, python3-paho-mqtt).
cd "$(dirname "$0")/../.." || exit 2
. tests/lib.sh
S=${IDLE_S:-60}
PY=/usr/bin/python3 # Debian's, where its pymodbus and paho live
tck=$(getconf CLK_TCK)

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null; }
first_after_restart() { # MQTT_PORT: sets MS, from broker up to the first reading received
    local pm=$1 t0 t1
    MOSQ_PERSIST=0 start_mosquitto "$pm"
    t0=$(date +%s%N)
    mosquitto_sub -h 127.0.0.1 -p "$pm" -q 1 -t 'monitoring/#' -C 1 -W 60 >/dev/null 2>&1
    t1=$(date +%s%N)
    MS=$(((t1 - t0) / 1000000))
}
one() { # NAME: runs edgemon or the script; prints one line
    local who=$1 PS PM PR pid n cpu ms
    PS=$(free_port) PM=$(free_port) PR=$(free_port)
    start_sim --tcp "127.0.0.1:$PS" --device seplos-v3@1 --device epever-tracer@2 --device sunspec@3
    local spid=$SIM_PID
    start_mosquitto "$PM"
    wait_port "$PS" 10
    mosquitto_sub -h 127.0.0.1 -p "$PM" -q 1 -t 'monitoring/#' >"$T_TMP/$who.sub" 2>/dev/null &
    local sub=$!
    track "$sub"
    sleep 0.3
    if [ "$who" = edgemon ]; then
        start_redis "$PR"
        B="tcp://127.0.0.1:$PS"
        write_conf "$T_TMP/idle.json" "[
  {\"id\": \"bms-1\", \"driver\": \"pms\", \"profile\": \"seplos-v3\", \"bus\": \"$B\", \"unit\": 1},
  {\"id\": \"mppt-1\", \"driver\": \"mppt\", \"profile\": \"epever-tracer\", \"bus\": \"$B\", \"unit\": 2},
  {\"id\": \"inv-1\", \"driver\": \"inverter\", \"profile\": \"sunspec\", \"bus\": \"$B\", \"unit\": 3}]" \
            "{\"backend\": \"redis\", \"url\": \"redis://127.0.0.1:$PR/0\"}" \
            "[{\"name\": \"uplink\", \"type\": \"mqtt\", \"url\": \"mqtt://127.0.0.1:$PM\"}]"
        "$EDGEMON" run -c "$T_TMP/idle.json" 2>"$T_TMP/idle.err" &
    else
        "$PY" tests/bench/baseline.py "$PS" "$PM" 2>"$T_TMP/baseline.err" &
    fi
    pid=$!
    track "$pid"
    sleep "$S"
    cpu=$(cpu_ticks "$pid")
    kill "$sub" 2>/dev/null
    wait "$sub" 2>/dev/null
    n=$(grep -c . "$T_TMP/$who.sub")
    stop_pid "$MOSQ_PID"
    sleep 5
    first_after_restart "$PM"
    ms=$MS
    stop_pid "$pid"
    stop_pid "$MOSQ_PID"
    stop_pid "$spid"
    awk -v who="$who" -v cpu="$cpu" -v tck="$tck" -v n="$n" -v s="$S" -v ms="$ms" 'BEGIN {
        printf "  %-30s CPU %.2f s in %d s (start included), %d readings, %6.0f us CPU per reading; first reading %d ms after the broker returned\n",
            who, cpu / tck, s, n, n ? cpu / tck / n * 1e6 : 0, ms }'
    echo "$who $cpu $n $ms" >>"$T_TMP/idle.results"
}
if ! "$PY" -c 'import pymodbus.client, paho.mqtt.client' 2>/dev/null; then
    echo "== idle cost: skipped (needs Debian's python3-pymodbus python3-serial-asyncio python3-paho-mqtt)"
    exit 0
fi
echo "== idle cost and reconnect: the demo site's 3 devices at 1 s, $S s each"
one edgemon
one script
awk '{ c[NR] = $2; n[NR] = $3 } END {
    if (n[1] && n[2] && c[1]) printf "  CPU per reading: edgemon %.3f of the script'"'"'s\n", (c[1] / n[1]) / (c[2] / n[2]) }' \
    "$T_TMP/idle.results"
