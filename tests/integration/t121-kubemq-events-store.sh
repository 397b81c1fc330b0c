#!/bin/bash
# t121-kubemq-events-store.sh - the kubemq publisher in events_store mode against the
# fake KubeMQ: one POST /send/event with Store: true per message, EventID
# {agent}:{device}:{seq}, the events store of the fake holds every seq; an event
# the server refuses with a validation error (a 400 envelope) is dead-lettered; an
# invalid JSON reply and a 503 spell are retried; a token_file becomes the bearer
# token. Then `edgemon broker config kubemq|http FILE`: good files are installed,
# bad ones are refused with the field named.
. "$(dirname "$0")/../lib.sh"
CHECK=$T_ROOT/tests/fakes/check.py

PS=$(free_port) PK=$(free_port)
start_sim --tcp "127.0.0.1:$PS" --device epever-tracer@1
python3 "$T_ROOT/tests/fakes/kubemq.py" "$PK" 2>"$T_TMP/fake.err" &
track $!
wait_port "$PS" 10 || { fail start "simulator"; exit 1; }
wait_port "$PK" 10 || { fail start "fake kubemq"; exit 1; }
K="http://127.0.0.1:$PK"
printf 'tok-123\n' >"$T_TMP/token" && chmod 600 "$T_TMP/token"
write_conf "$T_TMP/c.json" "[
  {\"id\": \"mppt-1\", \"driver\": \"mppt\", \"profile\": \"epever-tracer\", \"bus\": \"tcp://127.0.0.1:$PS\", \"unit\": 1, \"interval_ms\": 200}]" \
    "{\"backend\": \"spool\"}" \
    "[{\"name\": \"ev\", \"type\": \"kubemq\", \"url\": \"$K/\", \"mode\": \"events_store\",
       \"token_file\": \"$T_TMP/token\", \"timeout_ms\": 2000}]"
check config-valid "$EDGEMON" check -c "$T_TMP/c.json"

stored() { python3 "$CHECK" kmq-bodies "$K" events | grep -c .; }
stored_at_least() { [ "$(stored)" -ge "$1" ]; }
fault() { python3 "$CHECK" post "$K/_fake/fault" "$1" >/dev/null; }
queue_field() { "$EDGEMON" queue -c "$T_TMP/c.json" | grep -o "\"$1\":[0-9]*" | head -1 | cut -d: -f2; }
max_seq() {
    python3 "$CHECK" kmq-bodies "$K" events | grep -o '"seq":[0-9]*' | cut -d: -f2 | sort -n | tail -1
}
caught_up() { [ "$(queue_field pending)" -lt 10 ] 2>/dev/null; }

"$EDGEMON" run -c "$T_TMP/c.json" >/dev/null 2>"$T_TMP/run.err" &
AGENT=$!
track "$AGENT"
wait_for 10 stored_at_least 8
check events-arrive stored_at_least 8
python3 "$CHECK" kmq-verify "$K" events >"$T_TMP/verify.txt"
check event-ids-channels-bodies test $? -eq 0
cat "$T_TMP/verify.txt"
check not-in-queues test "$(python3 "$CHECK" get "$K/_fake/dump" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["queues"]))')" -eq 0
check one-event-per-request python3 -c '
import collections, json, sys, urllib.request
d = json.load(urllib.request.urlopen(sys.argv[1] + "/_fake/log"))
c = collections.Counter(s["request"] for s in d["sends"])
sys.exit(0 if c and max(c.values()) == 1 and all(s["route"] == "/send/event" for s in d["sends"]) else 1)' "$K"
check bearer-token python3 -c '
import json, sys, urllib.request
d = json.load(urllib.request.urlopen(sys.argv[1] + "/_fake/log"))
sys.exit(0 if d["sends"] and all(s["auth"] == "Bearer tok-123" for s in d["sends"]) else 1)' "$K"

# A validation error (400 envelope) for one chosen event: dead-lettered.
target=$(($(max_seq) + 6))
fault "{\"reject_ids\": [\"gw-test:mppt-1:$target\"], \"reject_error\": \"Error 108: invalid channel value, no white spaces are allowed\"}"
past_target() { [ "$(max_seq)" -ge $((target + 3)) ]; }
wait_for 20 past_target
fault '{"reset": true}'
check reject-logged grep -q "refused by the server, dead-lettered (HTTP 400: Error 108" "$T_TMP/run.err"
sleep 1.5
check reject-dead-lettered test "$(queue_field dead_letter)" -eq 1

# An invalid reply and 4 s of 503: retried, nothing lost.
fault '{"invalid_next": 3}'
sleep 2
fault '{"unavailable_s": 4}'
sleep 5
wait_for 30 caught_up
check faults-drained caught_up
check invalid-logged grep -q "HTTP 200 with a malformed reply; retrying in" "$T_TMP/run.err"
check agent-alive kill -0 "$AGENT"
kill "$AGENT"
wait "$AGENT"
check clean-stop-exit-0 test $? -eq 0
python3 "$CHECK" kmq-bodies "$K" events | python3 "$CHECK" gaps 1 "mppt-1:$target" >"$T_TMP/gaps.txt"
check every-seq-once test $? -eq 0
cat "$T_TMP/gaps.txt"

# ---- edgemon broker config ----
BC="$T_TMP/bc"
mkdir -p "$BC"
write_conf "$BC/edgemon.json" "[]"
bc() { "$EDGEMON" broker config "$1" "$2" -c "$BC/edgemon.json" >"$T_TMP/bc.out" 2>&1; }
printf '{"url": "http://127.0.0.1:9090", "channel": "site.{site}.{dataset}", "mode": "queue", "batch": 50, "token_file": "%s"}\n' \
    "$T_TMP/token" >"$BC/kubemq-good.json"
bc kubemq "$BC/kubemq-good.json"
check broker-kubemq-ok test $? -eq 0
check broker-kubemq-message grep -qx "successfully configured broker kubemq" "$T_TMP/bc.out"
check broker-kubemq-installed test -f "$BC/brokers.d/kubemq.json"
check broker-kubemq-check "$EDGEMON" check -c "$BC/edgemon.json"
printf '{"url": "http://127.0.0.1:9090", "mode": "fifo"}\n' >"$BC/kubemq-bad.json"
bc kubemq "$BC/kubemq-bad.json"
check broker-kubemq-bad-exit-1 test $? -eq 1
check broker-kubemq-bad-names-mode grep -q "mode.*fifo" "$T_TMP/bc.out"
printf '{"url": "http://127.0.0.1:9090", "gzip": true}\n' >"$BC/kubemq-bad2.json"
bc kubemq "$BC/kubemq-bad2.json"
check broker-kubemq-gzip-refused grep -q "gzip" "$T_TMP/bc.out"
printf '{"url": "https://collector.example/ingest/{dataset}", "batch": 20, "gzip": true}\n' \
    >"$BC/http-good.json"
bc http "$BC/http-good.json"
check broker-http-ok test $? -eq 0
check broker-http-message grep -qx "successfully configured broker http" "$T_TMP/bc.out"
printf '{"url": "ftp://collector.example/x"}\n' >"$BC/http-bad.json"
bc http "$BC/http-bad.json"
check broker-http-bad-exit-1 test $? -eq 1
check broker-http-bad-names-url grep -q "url" "$T_TMP/bc.out"
printf '{"url": "http://collector.example/{nope}"}\n' >"$BC/http-bad2.json"
bc http "$BC/http-bad2.json"
check broker-http-bad-placeholder grep -q "url.*nope" "$T_TMP/bc.out"
printf '{"url": "http://collector.example/x", "batch": 0}\n' >"$BC/http-bad3.json"
bc http "$BC/http-bad3.json"
check broker-http-bad-batch grep -q "batch" "$T_TMP/bc.out"
cat "$T_TMP/bc.out"
