#!/bin/bash
# t100-deliver-broker-outage.sh - the broker stopped for 20 s while 3 devices poll
# at 200 ms: after it returns every seq of every device arrives, in order, with few
# duplicates. Then kill -9 of the agent during a second outage: still no gap.
# `ordered`: a loaded machine drains slowly enough for the live lane (t106) to let
# fresh readings overtake the backlog; here the order itself is checked.
. "$(dirname "$0")/../lib.sh"

PS=$(free_port) PR=$(free_port) PM=$(free_port)
start_sim --tcp "127.0.0.1:$PS" --device epever-tracer@1 --device seplos-v3@2 --device sunspec@3
start_redis "$PR" --appendonly yes
MOSQ_PERSIST=1 start_mosquitto "$PM" "max_queued_messages 0"
wait_port "$PS" 10 || { fail start "simulator"; exit 1; }

B="tcp://127.0.0.1:$PS"
write_conf "$T_TMP/c.json" "[
  {\"id\": \"mppt-1\", \"driver\": \"mppt\", \"profile\": \"epever-tracer\", \"bus\": \"$B\", \"unit\": 1, \"interval_ms\": 200},
  {\"id\": \"bms-1\", \"driver\": \"pms\", \"profile\": \"seplos-v3\", \"bus\": \"$B\", \"unit\": 2, \"interval_ms\": 200},
  {\"id\": \"inv-1\", \"driver\": \"inverter\", \"profile\": \"sunspec\", \"bus\": \"$B\", \"unit\": 3, \"interval_ms\": 200}]" \
    "{\"backend\": \"redis\", \"url\": \"redis://127.0.0.1:$PR/0\"}" \
    "[{\"name\": \"uplink\", \"type\": \"mqtt\", \"url\": \"mqtt://127.0.0.1:$PM\", \"qos\": 1, \"ordered\": true}]"

# A durable subscriber (clean session off, QoS 1): the broker keeps its
# subscription and queued messages across the broker's own restart.
mosquitto_sub -h 127.0.0.1 -p "$PM" -c -i t100-checker -q 1 -t 'monitoring/#' \
    >"$T_TMP/sub.txt" 2>/dev/null &
track $!
sleep 0.5

start_agent
wait_for 10 grep -q '"seq":5' "$T_TMP/sub.txt" || fail first-messages "nothing arrived"

# Outage 1: 20 s.
stop_pid "$MOSQ_PID"
sleep 20
check outage-logged grep -q "uplink down, buffering" "$T_TMP/run.err"
pending=$("$EDGEMON" queue -c "$T_TMP/c.json" | grep -o '"pending":[0-9]*' | cut -d: -f2)
check outage-buffers-in-queue test "${pending:-0}" -ge 200
MOSQ_PERSIST=1 start_mosquitto "$PM" "max_queued_messages 0"
wait_for 20 grep -q "uplink back, [0-9]* pending, draining" "$T_TMP/run.err"
check drain-logged grep -q "uplink back, [0-9]* pending, draining" "$T_TMP/run.err"
sleep 3
pending=$("$EDGEMON" queue -c "$T_TMP/c.json" | grep -o '"pending":[0-9]*' | cut -d: -f2)
check backlog-drained test "${pending:-99}" -lt 20
check delivered-logged grep -Eq "\[pub:mqtt:[^]]*\] backlog delivered: [0-9]{3,} readings in [0-9.]+ s \([0-9]+/s\)" "$T_TMP/run.err"

# Outage 2 with kill -9 of the agent in the middle of it.
stop_pid "$MOSQ_PID"
sleep 3
kill -9 "$AGENT"
wait "$AGENT" 2>/dev/null
sleep 1
start_agent
sleep 3
MOSQ_PERSIST=1 start_mosquitto "$PM" "max_queued_messages 0"
sleep 5
kill "$AGENT"
wait "$AGENT"
check clean-stop-exit-0 test $? -eq 0
sleep 1

SEQ_FIRST=1 seq_check "$T_TMP/sub.txt" >"$T_TMP/check.txt"
rc=$?
cat "$T_TMP/check.txt"
check every-seq-in-order test "$rc" -eq 0
n=$(grep -c . "$T_TMP/sub.txt")
check enough-messages test "$n" -ge 400
dup=$(grep -o 'duplicates [0-9]*' "$T_TMP/check.txt" | cut -d' ' -f2)
# At-least-once: only messages in flight at a failure are sent twice (a window
# per failure, three failures here).
check duplicates-small test "${dup:-999}" -le 200
