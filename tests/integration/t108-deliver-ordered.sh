#!/bin/bash
# t108-deliver-ordered.sh - `ordered: true` turns the live lane off: with a large
# backlog queued, every backlog reading reaches the broker before any reading polled
# after the start, so a consumer sees the queue's order exactly (the default lane
# would let fresh readings overtake the backlog: t106).
. "$(dirname "$0")/../lib.sh"
BACKLOG=${T107_BACKLOG:-60000}

PS=$(free_port) PR=$(free_port) PM=$(free_port)
start_sim --tcp "127.0.0.1:$PS" --device epever-tracer@1
start_redis "$PR"
start_mosquitto "$PM" "max_queued_messages 0"
wait_port "$PS" 10 || { fail start "simulator"; exit 1; }
B="tcp://127.0.0.1:$PS"
Q="{\"backend\": \"redis\", \"url\": \"redis://127.0.0.1:$PR/0\", \"max_messages\": 10000000}"
P="[{\"name\": \"uplink\", \"type\": \"mqtt\", \"url\": \"mqtt://127.0.0.1:$PM\", \"ordered\": true}]"
write_conf "$T_TMP/c.json" "[
  {\"id\": \"mppt-1\", \"driver\": \"mppt\", \"profile\": \"epever-tracer\", \"bus\": \"$B\", \"unit\": 1, \"interval_ms\": 100}]" "$Q" "$P"
conf_ok() { "$EDGEMON" check -c "$T_TMP/c.json" >/dev/null; }
check ordered-accepted conf_ok

"$FILL" "$T_TMP/c.json" "$BACKLOG" >"$T_TMP/fill.log" 2>&1 || { fail fill "$(cat "$T_TMP/fill.log")"; exit 1; }
mosquitto_sub -h 127.0.0.1 -p "$PM" -q 1 -t 'monitoring/#' -F '%U %p' >"$T_TMP/sub.txt" 2>/dev/null &
track $!
sleep 0.3
"$EDGEMON" run -c "$T_TMP/c.json" >/dev/null 2>"$T_TMP/run.err" &
AGENT=$!
track "$AGENT"
pending() { "$EDGEMON" queue -c "$T_TMP/c.json" | grep -o '"pending":[0-9]*' | cut -d: -f2; }
pending_below() { [ "$(pending)" -lt "$1" ]; }
sleep 2
wait_for 120 pending_below 20
sleep 1
stop_pid "$AGENT"

old=$(grep -c '"id":"mppt-1-old"' "$T_TMP/sub.txt")
check backlog-all-delivered test "$old" -eq "$BACKLOG"
first=$(head -1 "$T_TMP/sub.txt" | cut -d' ' -f1)
done_at=$(grep '"id":"mppt-1-old"' "$T_TMP/sub.txt" | tail -1 | cut -d' ' -f1)
drain_ms=$(awk -v a="$first" -v b="$done_at" 'BEGIN { printf "%d", (b - a) * 1000 }')
echo "backlog of $BACKLOG drained in $drain_ms ms"
# Readings are polled every 100 ms: a drain this long gives a lane time to act.
check drain-long-enough-to-matter test "$drain_ms" -ge 1000
last_old=$(grep -n '"id":"mppt-1-old"' "$T_TMP/sub.txt" | tail -1 | cut -d: -f1)
first_new=$(grep -n '"id":"mppt-1"' "$T_TMP/sub.txt" | head -1 | cut -d: -f1)
echo "last backlog reading at line $last_old, first fresh one at line ${first_new:-none}"
check fresh-readings-arrived test -n "$first_new"
check no-fresh-reading-overtakes-backlog test "${first_new:-0}" -gt "$last_old"
grep '"id":"mppt-1"' "$T_TMP/sub.txt" | cut -d' ' -f2- >"$T_TMP/new.txt"
SEQ_FIRST=1 seq_check "$T_TMP/new.txt" >"$T_TMP/check.txt"
cat "$T_TMP/check.txt"
check fresh-in-order-no-duplicates sh -c "! grep -q '^gap\|^start\|out of order [1-9]\|duplicates [1-9]' '$T_TMP/check.txt'"
