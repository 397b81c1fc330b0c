#!/bin/bash
# t102-queue-bound.sh - with a small max_messages and the broker down, the oldest
# readings are dropped, the drop counter equals the gap, the newest are kept.
. "$(dirname "$0")/../lib.sh"

PS=$(free_port) PR=$(free_port) PM=$(free_port)
start_sim --tcp "127.0.0.1:$PS" --device epever-tracer@1 --device renogy-rover@2
start_redis "$PR"
wait_port "$PS" 10 || { fail start "simulator"; exit 1; }

B="tcp://127.0.0.1:$PS"
write_conf "$T_TMP/c.json" "[
  {\"id\": \"a\", \"driver\": \"mppt\", \"profile\": \"epever-tracer\", \"bus\": \"$B\", \"unit\": 1, \"interval_ms\": 100},
  {\"id\": \"b\", \"driver\": \"mppt\", \"profile\": \"renogy-rover\", \"bus\": \"$B\", \"unit\": 2, \"interval_ms\": 100}]" \
    "{\"backend\": \"redis\", \"url\": \"redis://127.0.0.1:$PR/0\", \"max_messages\": 30}" \
    "[{\"name\": \"uplink\", \"type\": \"mqtt\", \"url\": \"mqtt://127.0.0.1:$PM\"}]"

# Broker down from the start: ~20 readings a second pile up against a cap of 30.
"$EDGEMON" run -c "$T_TMP/c.json" --print >"$T_TMP/run.out" 2>"$T_TMP/run.err" &
AGENT=$!
track "$AGENT"
sleep 4
kill "$AGENT"
wait "$AGENT"
"$EDGEMON" queue -c "$T_TMP/c.json" >"$T_TMP/q.json"
cat "$T_TMP/q.json"
pending=$(grep -o '"pending":[0-9]*' "$T_TMP/q.json" | cut -d: -f2)
dropped=$(grep -o '"dropped":[0-9]*' "$T_TMP/q.json" | cut -d: -f2)
polled=$(grep -c '"seq"' "$T_TMP/run.out")
check bound-holds test "$pending" -eq 30
check drops-counted test "$dropped" -gt 0
check drops-plus-kept-is-polled test $((dropped + pending)) -eq "$polled"
check drop-reason-named grep -q '"max_messages":'"$dropped" "$T_TMP/q.json"
check never-connected-logged grep -q "\[pub:mqtt:uplink\] uplink not reachable since start, buffering" "$T_TMP/run.err"
check drops-logged grep -q "\[pub:mqtt:uplink\] queue full: [0-9]* oldest readings dropped" "$T_TMP/run.err"
check drops-logged-not-flooding test "$(grep -c 'queue full' "$T_TMP/run.err")" -le 1

# Bring the broker up and drain: exactly the newest 30 arrive, the gap is the count.
start_mosquitto "$PM"
mosquitto_sub -h 127.0.0.1 -p "$PM" -q 1 -t 'monitoring/#' >"$T_TMP/sub.txt" 2>/dev/null &
track $!
sleep 0.3
write_conf "$T_TMP/c2.json" "[]" \
    "{\"backend\": \"redis\", \"url\": \"redis://127.0.0.1:$PR/0\", \"max_messages\": 30}" \
    "[{\"name\": \"uplink\", \"type\": \"mqtt\", \"url\": \"mqtt://127.0.0.1:$PM\"}]"
"$EDGEMON" run -c "$T_TMP/c2.json" >>"$T_TMP/run2.out" 2>>"$T_TMP/run2.err" &
AGENT=$!
track "$AGENT"
wait_for 10 lines_at_least "$T_TMP/sub.txt" 30
sleep 0.5
kill "$AGENT"
wait "$AGENT"
check newest-kept-count test "$(grep -c . "$T_TMP/sub.txt")" -eq 30
for dev in a b; do
    last=$(grep "\"id\":\"$dev\"" "$T_TMP/run.out" | tail -1 | grep -o '"seq":[0-9]*' | cut -d: -f2)
    check "newest-of-$dev-delivered" grep -q "\"id\":\"$dev\".*\"seq\":$last," "$T_TMP/sub.txt"
done
# The gap: seqs polled but never delivered, over both devices.
gap=$(for dev in a b; do
    grep "\"id\":\"$dev\"" "$T_TMP/run.out" | grep -o '"seq":[0-9]*' | sort -u >"$T_TMP/p.$dev"
    grep "\"id\":\"$dev\"" "$T_TMP/sub.txt" | grep -o '"seq":[0-9]*' | sort -u >"$T_TMP/s.$dev"
    comm -23 "$T_TMP/p.$dev" "$T_TMP/s.$dev" | wc -l
done | awk '{ s += $1 } END { print s }')
check drop-counter-equals-gap test "$gap" -eq "$dropped"
SEQ_FIRST= seq_check "$T_TMP/sub.txt" >/dev/null
check kept-in-order test $? -eq 0
