#!/bin/bash
# cellular.sh - the drain over an emulated cellular uplink (part of `make bench`).
# Copyright (c) 2026 edgemon authors. SPDX-License-Identifier: MIT
#
# 150 ms round trip, 2 Mbit/s each way, 1 % segment loss, by tests/bench/linkproxy.py
# between the agent and mosquitto (this machine's kernel has no netem). A backlog of
# CELL_N readings (default 3000) in Redis drains to mosquitto at QoS 1; printed: the
# readings/s, the bytes per reading on the wire (the proxy's count, both MQTT
# directions), the link's own limit (bandwidth / wire bytes per reading) and the
# share of it reached, for the default window and a large one. A window W with a
# round trip R can never carry more than W / R readings/s: that is printed too, so
# it shows whether the window or the link is the limit.
cd "$(dirname "$0")/../.." || exit 2
. tests/lib.sh
N=${CELL_N:-3000}
RTT_MS=150 RATE=2000000 LOSS=0.01

one_run() { # WINDOW
    local w=$1 PR PM PX t0 t1 p up down
    PR=$(free_port) PM=$(free_port) PX=$(free_port)
    start_redis "$PR"
    local rpid=$REDIS_PID
    start_mosquitto "$PM"
    local mpid=$MOSQ_PID
    python3 tests/bench/linkproxy.py "$PX" "$PM" --rtt-ms $RTT_MS --rate-bps $RATE --loss $LOSS \
        --stats "$T_TMP/link-$w.json" >/dev/null &
    local xpid=$!
    track "$xpid"
    wait_port "$PX" 10
    write_conf "$T_TMP/cell-$w.json" "[]" \
        "{\"backend\": \"redis\", \"url\": \"redis://127.0.0.1:$PR/0\", \"max_messages\": 10000000}" \
        "[{\"name\": \"uplink\", \"type\": \"mqtt\", \"url\": \"mqtt://127.0.0.1:$PX\", \"qos\": 1, \"window\": $w}]"
    rm -rf "$T_TMP/state"
    "$FILL" "$T_TMP/cell-$w.json" "$N" >/dev/null
    t0=$(date +%s%N)
    "$EDGEMON" run -c "$T_TMP/cell-$w.json" 2>"$T_TMP/cell-$w.err" &
    local ag=$!
    track "$ag"
    while :; do
        sleep 0.2
        p=$("$EDGEMON" queue -c "$T_TMP/cell-$w.json" 2>/dev/null | grep -o '"pending":[0-9]*' | cut -d: -f2)
        [ "${p:-1}" -eq 0 ] && break
        [ $(($(date +%s%N) - t0)) -gt 300000000000 ] && { echo "  window $w: no drain in 300 s"; break; }
    done
    t1=$(date +%s%N)
    stop_pid "$ag"
    sleep 1.2 # the proxy's last stats
    up=$(grep -o '"up_bytes": [0-9]*' "$T_TMP/link-$w.json" | grep -o '[0-9]*$')
    down=$(grep -o '"down_bytes": [0-9]*' "$T_TMP/link-$w.json" | grep -o '[0-9]*$')
    stop_pid "$xpid"
    stop_pid "$mpid"
    stop_pid "$rpid"
    awk -v n="$N" -v ns=$((t1 - t0)) -v up="$up" -v down="$down" -v rate=$RATE -v w="$w" \
        -v rtt=$RTT_MS 'BEGIN {
        rps = n / (ns / 1e9); bpr = up / n
        limit = rate / 8 / bpr; wlimit = w / (rtt / 1000)
        printf "  window %4d: %6.0f readings/s, %4.0f bytes per reading up (+%.0f down), link limit %.0f readings/s -> %.0f%% of it; window bound %.0f/s\n",
            w, rps, bpr, down / n, limit, 100 * rps / limit, wlimit }'
}
echo "== drain over an emulated cellular link ($RTT_MS ms RTT, $((RATE / 1000000)) Mbit/s, 1 % loss; $N readings, QoS 1)"
one_run 64
one_run 512
