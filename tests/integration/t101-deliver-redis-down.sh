#!/bin/bash
# t101-deliver-redis-down.sh - Redis restarted in the middle of a run, and Redis
# absent from the start: polling goes on into the spool, readings move into Redis
# in order once it is there, and every seq arrives.
. "$(dirname "$0")/../lib.sh"

PS=$(free_port) PR=$(free_port) PM=$(free_port)
start_sim --tcp "127.0.0.1:$PS" --device epever-tracer@1 --device seplos-v3@2
start_mosquitto "$PM"
wait_port "$PS" 10 || { fail start "simulator"; exit 1; }
subscribe "$PM" "$T_TMP/sub.txt"

B="tcp://127.0.0.1:$PS"
write_conf "$T_TMP/c.json" "[
  {\"id\": \"mppt-1\", \"driver\": \"mppt\", \"profile\": \"epever-tracer\", \"bus\": \"$B\", \"unit\": 1, \"interval_ms\": 200},
  {\"id\": \"bms-1\", \"driver\": \"pms\", \"profile\": \"seplos-v3\", \"bus\": \"$B\", \"unit\": 2, \"interval_ms\": 200}]" \
    "{\"backend\": \"redis\", \"url\": \"redis://127.0.0.1:$PR/0\"}" \
    "[{\"name\": \"uplink\", \"type\": \"mqtt\", \"url\": \"mqtt://127.0.0.1:$PM\"}]"

# Redis absent from the start.
"$EDGEMON" run -c "$T_TMP/c.json" >"$T_TMP/run.out" 2>"$T_TMP/run.err" &
AGENT=$!
track "$AGENT"
sleep 3
check absent-logged grep -q "redis down: buffering in the spool" "$T_TMP/run.err"
check absent-nothing-published test ! -s "$T_TMP/sub.txt"
check absent-agent-alive kill -0 "$AGENT"
check absent-spool-has-data test -n "$(ls "$T_TMP/state/spool/"*.seg 2>/dev/null)"

# Redis arrives (with an append-only file so its own restart loses nothing).
start_redis "$PR" --appendonly yes
wait_for 10 grep -q "redis back" "$T_TMP/run.err"
check back-logged grep -q "redis back: moving [0-9]* spooled readings into Redis" "$T_TMP/run.err"
sleep 3
check spooled-published grep -q '"seq":1,' "$T_TMP/sub.txt"
"$EDGEMON" queue -c "$T_TMP/c.json" >"$T_TMP/q.json"
check fallback-emptied grep -q '"fallback_pending":0' "$T_TMP/q.json"

# Redis restarted mid-run.
stop_pid "$REDIS_PID"
sleep 3
start_redis "$PR" --appendonly yes
sleep 4
kill "$AGENT"
wait "$AGENT"
check clean-stop-exit-0 test $? -eq 0
sleep 0.5

SEQ_FIRST=1 seq_check "$T_TMP/sub.txt" >"$T_TMP/check.txt"
rc=$?
cat "$T_TMP/check.txt"
check every-seq-in-order test "$rc" -eq 0
check redis-down-twice test "$(grep -c 'redis down' "$T_TMP/run.err")" -eq 2
n=$(grep -c . "$T_TMP/sub.txt")
check enough-messages test "$n" -ge 100
