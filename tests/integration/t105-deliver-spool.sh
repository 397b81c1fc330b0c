#!/bin/bash
# t105-deliver-spool.sh - queue.backend "spool" (no Redis at all): a broker outage
# with kill -9 of the agent in the middle; every seq still arrives, in order, and
# the spool is emptied after the drain.
. "$(dirname "$0")/../lib.sh"

PS=$(free_port) PM=$(free_port)
start_sim --tcp "127.0.0.1:$PS" --device epever-tracer@1 --device sunspec-battery@2
MOSQ_PERSIST=1 start_mosquitto "$PM" "max_queued_messages 0"
wait_port "$PS" 10 || { fail start "simulator"; exit 1; }
B="tcp://127.0.0.1:$PS"
write_conf "$T_TMP/c.json" "[
  {\"id\": \"mppt-1\", \"driver\": \"mppt\", \"profile\": \"epever-tracer\", \"bus\": \"$B\", \"unit\": 1, \"interval_ms\": 200},
  {\"id\": \"bat-1\", \"driver\": \"pms\", \"profile\": \"sunspec-battery\", \"bus\": \"$B\", \"unit\": 2, \"interval_ms\": 200}]" \
    "{\"backend\": \"spool\"}" \
    "[{\"name\": \"uplink\", \"type\": \"mqtt\", \"url\": \"mqtt://127.0.0.1:$PM\"}]"
mosquitto_sub -h 127.0.0.1 -p "$PM" -c -i t105-checker -q 1 -t 'monitoring/#' \
    >"$T_TMP/sub.txt" 2>/dev/null &
track $!
sleep 0.3
start_agent /dev/null
wait_for 10 grep -q '"seq":3,' "$T_TMP/sub.txt"
stop_pid "$MOSQ_PID"
sleep 4
# While the daemon holds the spool, `edgemon queue` answers from its last report.
"$EDGEMON" queue -c "$T_TMP/c.json" >"$T_TMP/q1.json"
check queue-while-running grep -q '"pending":[1-9]' "$T_TMP/q1.json"
kill -9 "$AGENT"
wait "$AGENT" 2>/dev/null
start_agent /dev/null
sleep 3
MOSQ_PERSIST=1 start_mosquitto "$PM" "max_queued_messages 0"
wait_for 20 grep -q "uplink back" "$T_TMP/run.err" || wait_for 20 grep -q "uplink up" "$T_TMP/run.err"
sleep 4
kill "$AGENT"
wait "$AGENT"
check clean-stop-exit-0 test $? -eq 0
sleep 0.5
"$EDGEMON" queue -c "$T_TMP/c.json" >"$T_TMP/q2.json"
check drained-after-outage grep -q '"pending":[0-9],' "$T_TMP/q2.json"
SEQ_FIRST=1 seq_check "$T_TMP/sub.txt" >"$T_TMP/check.txt"
rc=$?
cat "$T_TMP/check.txt"
check every-seq-in-order test "$rc" -eq 0
check enough-messages test "$(grep -c . "$T_TMP/sub.txt")" -ge 80

# The previous run ended drained (pending 0 in its queue.json). A backlog added
# while no agent runs must show as soon as the next agent has started, not a
# second later when the file would first be rewritten.
stop_pid "$MOSQ_PID"
"$FILL" "$T_TMP/c.json" 500 >/dev/null
check fill-backlog test $? -eq 0
start_agent /dev/null
started_thrice() { test "$(grep -c 'started: agent' "$T_TMP/run.err")" -eq 3; }
wait_for 10 started_thrice
"$EDGEMON" queue -c "$T_TMP/c.json" >"$T_TMP/q3.json"
pending=$(grep -o '"pending":[0-9]*' "$T_TMP/q3.json" | cut -d: -f2)
check queue-at-start-shows-backlog test "${pending:-0}" -ge 500
kill "$AGENT"
wait "$AGENT"
exit $T_FAILED
