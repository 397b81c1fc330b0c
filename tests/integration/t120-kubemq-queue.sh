#!/bin/bash
# t120-kubemq-queue.sh - the kubemq publisher in queue mode against the fake KubeMQ
# (tests/fakes/kubemq.py), with the simulator and the spool queue: every message
# lands in monitoring.{dataset} with MessageID {agent}:{device}:{seq}, ClientID and
# Metadata right and the message as Body; then, one at a time, the server is "not
# ready" (503) for 10 s, answers with invalid JSON, a truncated reply, a connection
# dropped half-way and results without SentAt (all retried, nothing lost, the agent
# keeps running), rejects one chosen message with a validation error (that one is
# dead-lettered, the rest of its batch stored), and the agent is killed with -9
# while the server holds its replies: after the restart the unconfirmed readings
# come again under the same MessageID, and de-duplicating by id yields every seq.
. "$(dirname "$0")/../lib.sh"
CHECK=$T_ROOT/tests/fakes/check.py

PS=$(free_port) PK=$(free_port)
start_sim --tcp "127.0.0.1:$PS" --device epever-tracer@1 --device seplos-v3@2
python3 "$T_ROOT/tests/fakes/kubemq.py" "$PK" 2>"$T_TMP/fake.err" &
track $!
wait_port "$PS" 10 || { fail start "simulator"; exit 1; }
wait_port "$PK" 10 || { fail start "fake kubemq"; exit 1; }
K="http://127.0.0.1:$PK"
B="tcp://127.0.0.1:$PS"
write_conf "$T_TMP/c.json" "[
  {\"id\": \"mppt-1\", \"driver\": \"mppt\", \"profile\": \"epever-tracer\", \"bus\": \"$B\", \"unit\": 1, \"interval_ms\": 200},
  {\"id\": \"bms-1\", \"driver\": \"pms\", \"profile\": \"seplos-v3\", \"bus\": \"$B\", \"unit\": 2, \"interval_ms\": 200}]" \
    "{\"backend\": \"spool\"}" \
    "[{\"name\": \"kq\", \"type\": \"kubemq\", \"url\": \"$K\", \"timeout_ms\": 2000}]"
check config-valid "$EDGEMON" check -c "$T_TMP/c.json"

stored() { python3 "$CHECK" kmq-bodies "$K" | grep -c .; }
stored_at_least() { [ "$(stored)" -ge "$1" ]; }
fault() { python3 "$CHECK" post "$K/_fake/fault" "$1" >/dev/null; }
queue_field() { "$EDGEMON" queue -c "$T_TMP/c.json" | grep -o "\"$1\":[0-9]*" | head -1 | cut -d: -f2; }
max_seq() { # the highest seq of mppt-1 the fake has stored
    python3 "$CHECK" kmq-bodies "$K" | grep '"id":"mppt-1"' | grep -o '"seq":[0-9]*' |
        cut -d: -f2 | sort -n | tail -1
}
agent_alive() { kill -0 "$AGENT" 2>/dev/null; }
# Once the faults are over, the backlog is gone (new readings keep coming).
caught_up() { [ "$(queue_field pending)" -lt 10 ] 2>/dev/null; }

start_agent /dev/null
wait_for 10 stored_at_least 10
check messages-arrive stored_at_least 10
check version-logged grep -q "\[pub:kubemq:kq\] KubeMQ 2.3.7-fake on host" "$T_TMP/run.err"
check uplink-up-logged grep -q "\[pub:kubemq:kq\] uplink up" "$T_TMP/run.err"
python3 "$CHECK" kmq-verify "$K" >"$T_TMP/verify.txt"
check ids-channels-bodies test $? -eq 0
cat "$T_TMP/verify.txt"
check two-channels test "$(python3 "$CHECK" get "$K/_fake/dump" |
    python3 -c 'import json,sys; print(" ".join(sorted(json.load(sys.stdin)["queues"])))')" = \
    "monitoring.mppt monitoring.pms"
# The largest batch (messages in one request) the fake has seen.
biggest_batch() {
    python3 "$CHECK" get "$K/_fake/log" | python3 -c 'import collections, json, sys
print(max(collections.Counter(s["request"] for s in json.load(sys.stdin)["sends"]).values()))'
}

# 503 "not ready" for 10 s: down, buffering, then everything arrives.
fault '{"unavailable_s": 10}'
sleep 3
check 503-down-logged grep -q "\[pub:kubemq:kq\] uplink down, buffering" "$T_TMP/run.err"
check 503-reason-logged grep -q "HTTP 503 (server not ready); retrying in" "$T_TMP/run.err"
before=$(stored)
sleep 4
check 503-nothing-stored test "$(stored)" -eq "$before"
wait_for 30 grep -q "\[pub:kubemq:kq\] uplink back" "$T_TMP/run.err"
check 503-back-logged grep -q "\[pub:kubemq:kq\] uplink back" "$T_TMP/run.err"
wait_for 20 caught_up
check 503-drained caught_up
# The backlog went out in batches (of up to the window, 64), not one by one.
echo "largest batch: $(biggest_batch)"
check backlog-batched test "$(biggest_batch)" -ge 10

# Invalid JSON, a truncated reply, a dropped connection, results without SentAt.
for f in invalid_next truncate_next drop_next unconfirmed_next; do
    fault "{\"$f\": 2}"
    sleep 1.5
done
wait_for 30 caught_up
check bad-replies-agent-alive agent_alive
check bad-replies-drained caught_up
check bad-replies-logged grep -q "HTTP 200 with a malformed reply; retrying in" "$T_TMP/run.err"
check dropped-connection-logged grep -q -e "Transferred a partial file" -e "transfer closed" "$T_TMP/run.err"
check unconfirmed-logged grep -q "not confirmed (no SentAt)" "$T_TMP/run.err"
check bad-replies-retried test "$(queue_field retries)" -ge 4

# One chosen message fails validation: dead-lettered, its batch-mates stored.
target=$(($(max_seq) + 8))
fault "{\"reject_ids\": [\"gw-test:mppt-1:$target\"]}"
has_target_neighbours() { [ "$(max_seq)" -ge $((target + 3)) ]; }
wait_for 20 has_target_neighbours
fault '{"reset": true}'
check reject-logged grep -q "refused by the server, dead-lettered (message 'gw-test:mppt-1:$target': Error 110" "$T_TMP/run.err"
sleep 1.5 # queue.json shows a new dead-letter count within a second
check reject-dead-lettered test "$(queue_field dead_letter)" -eq 1
check reject-not-stored test "$(python3 "$CHECK" kmq-bodies "$K" | grep -c "\"id\":\"mppt-1\".*\"seq\":$target,")" -eq 0
check reject-neighbours-stored test "$(python3 "$CHECK" kmq-bodies "$K" |
    grep -c -e "\"id\":\"mppt-1\".*\"seq\":$((target - 1))," -e "\"id\":\"mppt-1\".*\"seq\":$((target + 1)),")" -eq 2

# kill -9 while the fake holds its replies (stored, not yet confirmed), restart.
dups_before=$(python3 "$CHECK" kmq-dups "$K")
fault '{"slow_ms": 1500}'
sleep 2
disown "$AGENT"
kill -9 "$AGENT"
fault '{"reset": true}'
start_agent /dev/null
wait_for 15 caught_up
sleep 2
dups_after=$(python3 "$CHECK" kmq-dups "$K")
check resend-same-ids test $? -eq 0
echo "ids stored twice: $dups_before before the kill, $dups_after after the restart"
check kill9-resent-same-id test "$dups_after" -gt "$dups_before"
kill "$AGENT"
wait "$AGENT"
check clean-stop-exit-0 test $? -eq 0

# De-duplicated by MessageID: every seq of both devices from 1, but the rejected one.
python3 "$CHECK" kmq-bodies "$K" | python3 "$CHECK" gaps 1 "mppt-1:$target" >"$T_TMP/gaps.txt"
check every-seq-once test $? -eq 0
cat "$T_TMP/gaps.txt"
python3 "$CHECK" kmq-verify "$K" >"$T_TMP/verify.txt"
check ids-match-bodies-at-end test $? -eq 0
cat "$T_TMP/verify.txt"
# A consumer draining the queue with /queue/receive gets the same messages.
n_stored=$(python3 "$CHECK" get "$K/_fake/dump" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["queues"]["monitoring.mppt"]))')
n_recv=$(python3 "$CHECK" kmq-receive "$K" monitoring.mppt | grep -c '"dataset":"mppt"')
check consumer-receives-all test "$n_recv" -eq "$n_stored"
check queue-empty-after-receive test "$(python3 "$CHECK" get "$K/_fake/dump" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["queues"]["monitoring.mppt"]))')" -eq 0
check no-sanitizer-or-crash-lines test "$(grep -c -e 'AddressSanitizer' -e 'runtime error' "$T_TMP/run.err")" -eq 0
