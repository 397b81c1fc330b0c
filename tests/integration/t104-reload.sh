#!/bin/bash
# t104-reload.sh - SIGHUP with an invalid config keeps the old one running; a
# valid one is swapped in without losing the queue or repeating a seq.
. "$(dirname "$0")/../lib.sh"

PS=$(free_port)
start_sim --tcp "127.0.0.1:$PS" --device epever-tracer@1 --device seplos-v3@2
wait_port "$PS" 10 || { fail start "simulator"; exit 1; }
dev1="{\"id\": \"mppt-1\", \"driver\": \"mppt\", \"profile\": \"epever-tracer\", \"bus\": \"tcp://127.0.0.1:$PS\", \"unit\": 1, \"interval_ms\": 200}"
dev2="{\"id\": \"bms-1\", \"driver\": \"pms\", \"profile\": \"seplos-v3\", \"bus\": \"tcp://127.0.0.1:$PS\", \"unit\": 2, \"interval_ms\": 200}"
write_conf "$T_TMP/c.json" "[$dev1]"
"$EDGEMON" run -c "$T_TMP/c.json" --print >"$T_TMP/run.out" 2>"$T_TMP/run.err" &
AGENT=$!
track "$AGENT"
sleep 1.5

# Invalid: a typo in a key. The agent says why and goes on with the old config.
sed 's/"interval_ms"/"intervall_ms"/' "$T_TMP/c.json" >"$T_TMP/c.bad" && cp "$T_TMP/c.bad" "$T_TMP/c.json"
kill -HUP "$AGENT"
sleep 1.5
check invalid-reload-survives kill -0 "$AGENT"
check invalid-reload-logged grep -q "keeping the running configuration" "$T_TMP/run.err"
check invalid-reload-names-path grep -q "devices\[0\].intervall_ms: unknown key" "$T_TMP/run.err"
before=$(grep -c '"id":"mppt-1"' "$T_TMP/run.out")
sleep 1
check invalid-reload-still-polling test "$(grep -c '"id":"mppt-1"' "$T_TMP/run.out")" -gt "$before"

# Valid: a second device appears; the first keeps counting without a repeat.
write_conf "$T_TMP/c.json" "[$dev1, $dev2]"
kill -HUP "$AGENT"
wait_for 5 grep -q '"id":"bms-1"' "$T_TMP/run.out"
check valid-reload-applied grep -q '"id":"bms-1"' "$T_TMP/run.out"
sleep 1
kill "$AGENT"
wait "$AGENT"
check stop-exit-0 test $? -eq 0
grep '"id":"mppt-1"' "$T_TMP/run.out" >"$T_TMP/m.txt"
SEQ_FIRST=1 seq_check "$T_TMP/m.txt" >"$T_TMP/check.txt"
check seq-continuous-across-reload test $? -eq 0
check no-duplicate-seq grep -q "duplicates 0" "$T_TMP/check.txt"
