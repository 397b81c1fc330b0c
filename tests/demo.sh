#!/bin/bash
# demo.sh - `make demo`: a simulated site (PMS, MPPT, inverter) polled by edgemon,
# buffered in a throwaway Redis and published to a throwaway mosquitto, all on
# free loopback ports in a temp dir; the datasets are shown as they arrive.
# Ctrl-C stops everything (by PID). DEMO_OUTAGE=1 stops the broker for 20 s after
# 15 s to show buffering and draining. DEMO_SECONDS=N stops by itself after N s.
# Copyright (c) 2026 edgemon authors. SPDX-License-Identifier: MIT
cd "$(dirname "$0")/.." || exit 2
. tests/lib.sh

PS=$(free_port) PR=$(free_port) PM=$(free_port)
start_sim --tcp "127.0.0.1:$PS" --vary --device seplos-v3@1 --device epever-tracer@2 --device sunspec@3
start_redis "$PR" --appendonly yes
start_mosquitto "$PM"
wait_port "$PS" 10 && wait_port "$PR" 10 && wait_port "$PM" 10 ||
    { echo "demo: a service did not start; see $T_TMP"; exit 1; }

B="tcp://127.0.0.1:$PS"
write_conf "$T_TMP/edgemon.json" "[
  {\"id\": \"bms-1\", \"driver\": \"pms\", \"profile\": \"seplos-v3\", \"bus\": \"$B\", \"unit\": 1},
  {\"id\": \"mppt-1\", \"driver\": \"mppt\", \"profile\": \"epever-tracer\", \"bus\": \"$B\", \"unit\": 2},
  {\"id\": \"inv-1\", \"driver\": \"inverter\", \"profile\": \"sunspec\", \"bus\": \"$B\", \"unit\": 3}]" \
    "{\"backend\": \"redis\", \"url\": \"redis://127.0.0.1:$PR/0\"}" \
    "[{\"name\": \"uplink\", \"type\": \"mqtt\", \"url\": \"mqtt://127.0.0.1:$PM\", \"qos\": 1}]"

echo "demo: simulator 127.0.0.1:$PS, redis 127.0.0.1:$PR, mosquitto 127.0.0.1:$PM"
echo "demo: config $T_TMP/edgemon.json; agent log below, datasets as they arrive at the broker"
echo "demo: Ctrl-C to stop"

# One line per message: topic, seq, quality and the headline values.
show() {
    awk '{
        topic = $1; sub(/^[^ ]* /, "")
        seq = $0; sub(/.*"seq":/, "", seq); sub(/,.*/, "", seq)
        q = $0; sub(/.*"quality":"/, "", q); sub(/".*/, "", q)
        out = ""
        n = split("soc_pct voltage_v current_a pv_power_w battery_voltage_v charge_state ac_power_w energy_total_wh state", keys, " ")
        for (i = 1; i <= n; i++) {
            k = "\"" keys[i] "\":"
            p = index($0, k)
            if (p) { v = substr($0, p + length(k)); sub(/[,}].*/, "", v); out = out " " keys[i] "=" v }
        }
        printf "%-28s seq %-5s %-7s%s\n", topic, seq, q, out
        fflush()
    }'
}
# The subscriber's own PID is tracked (not the pipeline's last command), so the
# cleanup stops it and the display ends with it.
mosquitto_sub -h 127.0.0.1 -p "$PM" -q 1 -v -t 'monitoring/#' 2>/dev/null > >(show) &
track $!
"$EDGEMON" run -c "$T_TMP/edgemon.json" &
AGENT=$!
track "$AGENT"

trap 'echo; echo "demo: stopping"; exit 0' INT TERM
if [ "${DEMO_OUTAGE:-0}" = 1 ]; then
    sleep 15
    echo "demo: stopping the broker for 20 s (the agent buffers in Redis)"
    stop_pid "$MOSQ_PID"
    sleep 20
    echo "demo: broker back"
    start_mosquitto "$PM"
    mosquitto_sub -h 127.0.0.1 -p "$PM" -q 1 -v -t 'monitoring/#' 2>/dev/null > >(show) &
    track $!
fi
if [ -n "${DEMO_SECONDS:-}" ]; then
    sleep "$DEMO_SECONDS"
    "$EDGEMON" queue -c "$T_TMP/edgemon.json"
else
    wait "$AGENT"
fi
