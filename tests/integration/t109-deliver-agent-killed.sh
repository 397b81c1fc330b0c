#!/bin/bash
# t109-deliver-agent-killed.sh - the agent killed (-9) while readings wait in the
# hand-off between the bus threads and the queue: the queue's Redis is stopped
# (SIGSTOP) first, so the core sits in a push for up to the Redis timeout and the
# readings of three devices at 100 ms pile up behind it. A seq is persisted only
# as its reading goes to the queue, so the restarted agent hands those seqs out
# again: no gap, and nothing the queue stored is lost (duplicates are allowed).
. "$(dirname "$0")/../lib.sh"

PS=$(free_port) PQ=$(free_port) PM=$(free_port)
start_sim --tcp "127.0.0.1:$PS" --device epever-tracer@1 --device seplos-v3@2 --device sunspec@3
start_redis "$PQ" --appendonly yes --appendfsync always
QPID=$REDIS_PID
start_mosquitto "$PM"
wait_port "$PS" 10 || { fail start "simulator"; exit 1; }
subscribe "$PM" "$T_TMP/sub.txt"

B="tcp://127.0.0.1:$PS"
write_conf "$T_TMP/c.json" "$(site_devices "$B" 100)" \
    "{\"backend\": \"redis\", \"url\": \"redis://127.0.0.1:$PQ/0\"}" \
    "[{\"name\": \"uplink\", \"type\": \"mqtt\", \"url\": \"mqtt://127.0.0.1:$PM\", \"qos\": 1}]"

start_agent
wait_for 10 grep -q '"seq":5,' "$T_TMP/sub.txt" || fail first-messages "nothing arrived"

# Four kills inside a Redis stall (0.15-0.45 s into it), two without one.
for delay in 0.15 0.25 0.35 0.45 - -; do
    sleep 1.5
    [ "$delay" != - ] && kill -STOP "$QPID" && sleep "$delay"
    kill -9 "$AGENT"
    wait "$AGENT" 2>/dev/null
    [ "$delay" != - ] && kill -CONT "$QPID"
    sleep 0.2
    start_agent
done
# Drained: at most the few readings of the last 100 ms still on their way.
drained() {
    local n
    n=$("$EDGEMON" queue -c "$T_TMP/c.json" 2>/dev/null | grep -o '"pending":[0-9]*' | cut -d: -f2)
    [ -n "$n" ] && [ "$n" -lt 5 ]
}
wait_for 20 drained
check backlog-drained drained
kill "$AGENT"
wait "$AGENT"
check clean-stop-exit-0 test $? -eq 0
sleep 0.5

# The live lane may overtake a backlog after a restart: order is not the question.
SEQ_FIRST=1 seq_check "$T_TMP/sub.txt" >"$T_TMP/check.txt"
grep -v '^out of order' "$T_TMP/check.txt" | sed 's/^/    /'
check no-seq-missing test -z "$(grep -E '^(gap|start):' "$T_TMP/check.txt")"
check started-seven-times test "$(grep -c 'started: agent' "$T_TMP/run.err")" -eq 7
n=$(grep -c . "$T_TMP/sub.txt")
check enough-messages test "$n" -ge 150
exit $T_FAILED
