#!/bin/bash
# t110-redis-publisher.sh - the Redis publisher in stream mode with the spool queue:
# two devices at 200 ms fill monitoring.mppt and monitoring.pms with every seq in
# order (field "data"); the target Redis hangs (SIGSTOP) with readings in flight,
# dies (SIGKILL), stays away for 5 s in all and is restarted on the same port, and
# afterwards there is still no gap: the readings in flight came back as RETRY, the
# spool kept them and everything polled meanwhile, and the publisher re-sent them.
. "$(dirname "$0")/../lib.sh"

PS=$(free_port) PR=$(free_port)
start_sim --tcp "127.0.0.1:$PS" --device epever-tracer@1 --device seplos-v3@2
# fsync before every reply, so the target's own crash keeps all it had confirmed.
RARGS="--appendonly yes --appendfsync always"
start_redis "$PR" $RARGS
wait_port "$PS" 10 || { fail start "simulator"; exit 1; }
B="tcp://127.0.0.1:$PS"
write_conf "$T_TMP/c.json" "[
  {\"id\": \"mppt-1\", \"driver\": \"mppt\", \"profile\": \"epever-tracer\", \"bus\": \"$B\", \"unit\": 1, \"interval_ms\": 200},
  {\"id\": \"bms-1\", \"driver\": \"pms\", \"profile\": \"seplos-v3\", \"bus\": \"$B\", \"unit\": 2, \"interval_ms\": 200}]" \
    "{\"backend\": \"spool\"}" \
    "[{\"name\": \"r\", \"type\": \"redis\", \"url\": \"redis://127.0.0.1:$PR/0\", \"mode\": \"stream\"}]"
conf_ok() { "$EDGEMON" check -c "$T_TMP/c.json" >/dev/null; }
check config-valid conf_ok

rcli() { redis-cli -h 127.0.0.1 -p "$PR" "$@"; }
xlen_at_least() { [ "$(rcli XLEN "$1" 2>/dev/null)" -ge "$2" ] 2>/dev/null; }
# The payloads of both streams, one per line (redis-cli prints id, field, value).
dump() {
    local k
    for k in monitoring.mppt monitoring.pms; do
        rcli XRANGE "$k" - + | grep '^{'
    done
}

"$EDGEMON" run -c "$T_TMP/c.json" >/dev/null 2>"$T_TMP/run.err" &
AGENT=$!
track "$AGENT"
wait_for 10 xlen_at_least monitoring.mppt 10
check streams-fill xlen_at_least monitoring.pms 5
check field-is-data test "$(rcli XRANGE monitoring.mppt - + COUNT 1 | sed -n 2p)" = data
check type-is-stream test "$(rcli TYPE monitoring.mppt)" = stream
check uplink-up-logged grep -q "\[pub:redis:r\] uplink up" "$T_TMP/run.err"
sleep 1

# The target hangs for 2 s (the publisher's window fills with readings Redis never
# answers), then dies; 5 s without it in all. Readings go on into the spool.
dump >"$T_TMP/before.txt"
kill -STOP "$REDIS_PID"
sleep 2
disown "$REDIS_PID" # no "Killed" job notice in the output
kill -KILL "$REDIS_PID"
for _ in $(seq 50); do kill -0 "$REDIS_PID" 2>/dev/null || break; sleep 0.05; done
sleep 3
check outage-logged grep -q "\[pub:redis:r\] uplink down, buffering" "$T_TMP/run.err"
"$EDGEMON" queue -c "$T_TMP/c.json" >"$T_TMP/q.json"
pending=$(grep -o '"pending":[0-9]*' "$T_TMP/q.json" | cut -d: -f2)
check outage-buffers-in-spool test "${pending:-0}" -ge 40
# The readings in flight at the crash came back as RETRY: the core rewound.
retries=$(grep -o '"retries":[0-9]*' "$T_TMP/q.json" | cut -d: -f2)
check in-flight-retried test "${retries:-0}" -ge 1
start_redis "$PR" $RARGS
wait_for 10 grep -q "\[pub:redis:r\] uplink back" "$T_TMP/run.err"
check back-logged grep -q "\[pub:redis:r\] uplink back, [0-9]* pending, draining" "$T_TMP/run.err"
sleep 3
pending=$("$EDGEMON" queue -c "$T_TMP/c.json" | grep -o '"pending":[0-9]*' | cut -d: -f2)
check backlog-drained test "${pending:-99}" -lt 10
kill "$AGENT"
wait "$AGENT"
check clean-stop-exit-0 test $? -eq 0

# Every seq of both devices, first arrivals in order; what the target had before
# the outage comes first in case its restart lost any of it.
dump >"$T_TMP/after.txt"
cat "$T_TMP/before.txt" "$T_TMP/after.txt" >"$T_TMP/all.txt"
SEQ_FIRST=1 seq_check "$T_TMP/all.txt" >"$T_TMP/check.txt"
rc=$?
cat "$T_TMP/check.txt"
check every-seq-in-order test "$rc" -eq 0
check both-devices test "$(grep -c '^device ' "$T_TMP/check.txt")" -eq 2
# Readings polled during the outage arrived after it (7 s at 200 ms = 35 each).
last_before=$(grep '"id":"mppt-1"' "$T_TMP/before.txt" | tail -1 | grep -o '"seq":[0-9]*' | cut -d: -f2)
last_after=$(grep '"id":"mppt-1"' "$T_TMP/after.txt" | tail -1 | grep -o '"seq":[0-9]*' | cut -d: -f2)
echo "mppt-1: last seq $last_before before the outage, $last_after at the end"
check delivered-after-outage test "${last_after:-0}" -ge $((${last_before:-999999} + 40))
# The streams hold only this agent's datasets, each under its own key.
check only-two-streams test "$(rcli --scan --pattern 'monitoring.*' | sort | tr '\n' ' ')" = \
    "monitoring.mppt monitoring.pms "
