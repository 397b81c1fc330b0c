#!/bin/bash
# t171-feature-url.sh - feature flags from features.url (CONTRACT section 5): the agent
# polls a local HTTP server every poll_s with If-None-Match (304 while unchanged), a
# new document is applied within a poll and acked, an invalid one changes nothing,
# a broken server (500, then gone) keeps the active set and is retried.
. "$(dirname "$0")/../lib.sh"
PY=/usr/bin/python3

PS=$(free_port) PR=$(free_port) PF=$(free_port)
start_sim --tcp "127.0.0.1:$PS" --device epever-tracer@1 --device seplos-v3@2
start_redis "$PR"
echo '{"features":{"dataset.pms":false}}' >"$T_TMP/flags.json"
"$PY" "$T_ROOT/tests/fakes/flag_server.py" "$PF" "$T_TMP/flags.json" "$T_TMP/flags.log" \
    2>"$T_TMP/flag_server.err" &
FS=$!
track "$FS"
wait_port "$PS" 10 && wait_port "$PR" 10 && wait_port "$PF" 10 || { fail start "servers"; exit 1; }
B="tcp://127.0.0.1:$PS"
write_conf "$T_TMP/c.json" "[
  {\"id\": \"mppt-1\", \"driver\": \"mppt\", \"profile\": \"epever-tracer\", \"bus\": \"$B\", \"unit\": 1, \"interval_ms\": 200},
  {\"id\": \"bms-1\", \"driver\": \"pms\", \"profile\": \"seplos-v3\", \"bus\": \"$B\", \"unit\": 2, \"interval_ms\": 200}]" \
    "{\"backend\": \"spool\"}" \
    "[{\"name\": \"r\", \"type\": \"redis\", \"url\": \"redis://127.0.0.1:$PR/0\", \"mode\": \"stream\", \"features\": true}]"
"$PY" -c "import json,sys; d=json.load(open(sys.argv[1])); d['features']={'url':'http://127.0.0.1:$PF/flags','poll_s':1}; json.dump(d, open(sys.argv[1],'w'))" "$T_TMP/c.json"
check config-valid "$EDGEMON" check -c "$T_TMP/c.json"

rcli() { redis-cli -h 127.0.0.1 -p "$PR" "$@"; }
xlen() { rcli XLEN "$1"; }
grows() { local a b; a=$(xlen "$1"); sleep "$2"; b=$(xlen "$1"); [ "$b" -gt "$a" ]; }
still() { local a b; a=$(xlen "$1"); sleep "$2"; b=$(xlen "$1"); [ "$b" -eq "$a" ]; }
acked() { grep -q "$1" "$T_TMP/acks.txt"; }

redis-cli -h 127.0.0.1 -p "$PR" SUBSCRIBE system.feature.ack >"$T_TMP/acks.txt" 2>/dev/null &
track $!
sleep 0.3
"$EDGEMON" run -c "$T_TMP/c.json" >/dev/null 2>"$T_TMP/run.err" &
AGENT=$!
track "$AGENT"
wait_for 5 acked '"active":{"dataset.pms":false}'
check first-document-applied-and-acked acked '"applied":true,"error":null,"active":{"dataset.pms":false}'
wait_for 5 test "$(xlen monitoring.mppt)" -ge 5
check mppt-published test "$(xlen monitoring.mppt)" -ge 5
# The first readings may leave before the first GET answered; after it, none.
check pms-not-published still monitoring.pms 1.5
sleep 2.5
# Unchanged: the server answers 304 to the ETag it gave, and nothing is re-applied.
check etag-sent-back grep -q '^304 if-none-match="' "$T_TMP/flags.log"
check unchanged-not-reapplied test "$(grep -c 'features: applied from features.url' "$T_TMP/run.err")" -eq 1

# A new version: applied within a poll or two.
echo '{"features":{"dataset.pms":true,"dataset.mppt":false}}' >"$T_TMP/flags.json"
wait_for 10 acked '"active":{"dataset.pms":true,"dataset.mppt":false}'
check new-document-applied acked '"active":{"dataset.pms":true,"dataset.mppt":false}'
sleep 0.5
check pms-published-now grows monitoring.pms 1.5
check mppt-stopped still monitoring.mppt 1.5

# An invalid document: rejected with the reason, the set stays.
echo '{"features":{"poll.interval_ms":"fast"}}' >"$T_TMP/flags.json"
wait_for 10 acked '"applied":false'
check invalid-document-rejected acked "\"applied\":false,\"error\":\"'poll.interval_ms' must be an integer"
check invalid-keeps-set still monitoring.mppt 1.5
check invalid-logged grep -q "features: rejected a message from features.url" "$T_TMP/run.err"

# A broken server, then none: logged once, the set stays, polls go on.
echo 500 >"$T_TMP/flags.json"
wait_for 4 grep -q '^500 ' "$T_TMP/flags.log"
sleep 1
check server-error-logged grep -q "features.url: HTTP 500 (keeping the active set; retrying with backoff)" "$T_TMP/run.err"
disown "$FS"; kill "$FS"
sleep 2
check still-running kill -0 "$AGENT"
check set-kept-while-broken still monitoring.mppt 1
# Back with a valid document: picked up again (after the backoff, at most 16 polls).
echo '{"features":{}}' >"$T_TMP/flags.json"
"$PY" "$T_ROOT/tests/fakes/flag_server.py" "$PF" "$T_TMP/flags.json" "$T_TMP/flags.log" \
    2>>"$T_TMP/flag_server.err" &
track $!
wait_for 20 acked '"applied":true,"error":null,"active":{}}'
check server-back-applied acked '"applied":true,"error":null,"active":{}}'
check mppt-published-again grows monitoring.mppt 1.5
kill "$AGENT"
wait "$AGENT"
check clean-stop-exit-0 test $? -eq 0
