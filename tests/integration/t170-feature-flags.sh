#!/bin/bash
# t170-feature-flags.sh - feature flags over Redis (CONTRACT section 5): a valid message
# on system.feature or system.feature/<agent> changes behaviour within a second and is
# acked on system.feature.ack; invalid, non-JSON and oversized ones are rejected with
# the reason and change nothing; dataset.* stops publishing but not polling,
# device.* stops polling, poll.interval_ms re-plans the buses; the set is in
# state_dir and in the Redis hash env.active.features, survives an agent restart
# and a Redis restart, and is restored from the hash when state_dir lost it.
. "$(dirname "$0")/../lib.sh"
PY=/usr/bin/python3

PS=$(free_port) PR=$(free_port) PH=$(free_port)
start_sim --tcp "127.0.0.1:$PS" --device epever-tracer@1 --device seplos-v3@2
start_redis "$PR"
wait_port "$PS" 10 && wait_port "$PR" 10 || { fail start "simulator or redis"; exit 1; }
B="tcp://127.0.0.1:$PS"
write_conf "$T_TMP/c.json" "[
  {\"id\": \"mppt-1\", \"driver\": \"mppt\", \"profile\": \"epever-tracer\", \"bus\": \"$B\", \"unit\": 1, \"interval_ms\": 200},
  {\"id\": \"bms-1\", \"driver\": \"pms\", \"profile\": \"seplos-v3\", \"bus\": \"$B\", \"unit\": 2, \"interval_ms\": 200}]" \
    "{\"backend\": \"redis\", \"url\": \"redis://127.0.0.1:$PR/0\"}" \
    "[{\"name\": \"r\", \"type\": \"redis\", \"url\": \"redis://127.0.0.1:$PR/0\", \"mode\": \"stream\", \"features\": true}]"
"$PY" -c "import json,sys; d=json.load(open(sys.argv[1])); d['http']={'listen':'127.0.0.1:$PH'}; json.dump(d, open(sys.argv[1],'w'))" "$T_TMP/c.json"
check config-valid "$EDGEMON" check -c "$T_TMP/c.json"

rcli() { redis-cli -h 127.0.0.1 -p "$PR" "$@"; }
api() { "$PY" "$T_ROOT/tests/fakes/check.py" get "http://127.0.0.1:$PH$1"; }
features() { api /api/features | "$PY" -c "import json,sys; print(json.dumps(json.load(sys.stdin)['features'], sort_keys=True))"; }
# polls_ok DEVICE: its answered polls so far, from /api/status.
polls_ok() {
    api /api/status | "$PY" -c "import json,sys; print([d['polls']['ok']+d['polls']['partial'] for d in json.load(sys.stdin)['devices'] if d['id']==sys.argv[1]][0])" "$1"
}
dev_state() {
    api /api/status | "$PY" -c "import json,sys; print([d['state'] for d in json.load(sys.stdin)['devices'] if d['id']==sys.argv[1]][0])" "$1"
}
xlen() { rcli XLEN "$1"; }
acks() { grep -c '"agent":"gw-test"' "$T_TMP/acks.txt"; }
acks_at_least() { [ "$(acks)" -ge "$1" ]; }
last_ack() { grep '"agent":"gw-test"' "$T_TMP/acks.txt" | tail -1; }
# send CHANNEL MESSAGE: published again until a subscriber heard it (up to 10 s): a
# message is not retained, and a restarted agent subscribes a moment after its HTTP
# port opens (longer under valgrind). gw-other's channel has no listener: sent once.
send() {
    local i
    for i in $(seq 50); do
        [ "$(rcli PUBLISH "$1" "$2")" -ge 1 ] 2>/dev/null && return 0
        case "$1" in */gw-other) return 0 ;; esac
        sleep 0.2
    done
}
start_agent() {
    "$EDGEMON" run -c "$T_TMP/c.json" >/dev/null 2>>"$T_TMP/run.err" &
    AGENT=$!
    track "$AGENT"
    wait_port "$PH" 10
}
grows() { local a b; a=$(xlen "$1"); sleep "$2"; b=$(xlen "$1"); [ "$b" -gt "$a" ]; }
still() { local a b; a=$(xlen "$1"); sleep "$2"; b=$(xlen "$1"); [ "$b" -eq "$a" ]; }

# redis-cli prints the channel and the message of every ack on lines of their own.
redis-cli -h 127.0.0.1 -p "$PR" SUBSCRIBE system.feature.ack >"$T_TMP/acks.txt" 2>/dev/null &
track $!
start_agent
wait_for 10 test "$(xlen monitoring.mppt)" -ge 5
check streams-fill test "$(xlen monitoring.pms)" -ge 3
check starts-with-empty-set test "$(features)" = "{}"

# ---- dataset.mppt off: still polled (and on the local API), no longer published
send system.feature '{"features":{"dataset.mppt":false}}'
wait_for 2 acks_at_least 1
check ack-arrives acks_at_least 1
check ack-applied test "$(last_ack)" = '{"agent":"gw-test","applied":true,"error":null,"active":{"dataset.mppt":false}}'
check api-shows-set test "$(features)" = '{"dataset.mppt": false}'
sleep 0.5 # what was queued before the flag drains
check mppt-not-published still monitoring.mppt 1.5
check pms-still-published grows monitoring.pms 1
a=$(polls_ok mppt-1); sleep 1; b=$(polls_ok mppt-1)
check mppt-still-polled test "$b" -gt "$a"
check hash-holds-set test "$(rcli HGET env.active.features dataset.mppt)" = false
check state-dir-holds-set grep -q '"dataset.mppt":false' "$T_TMP/state/features.json"
check apply-logged grep -q 'features: applied from r system.feature: {"dataset.mppt":false}' "$T_TMP/run.err"

# ---- invalid messages: nothing changes, the ack says why
n=$(acks)
send system.feature/gw-test '{"features":{"dataset.mppt":true,"poll.interval_ms":5}}'
wait_for 2 acks_at_least $((n + 1))
check invalid-acked-with-reason grep -q '"applied":false,"error":"'"'"'poll.interval_ms'"'"' must be an integer from 100 to 3600000","active":{"dataset.mppt":false}' "$T_TMP/acks.txt"
check invalid-changes-nothing test "$(features)" = '{"dataset.mppt": false}'
check invalid-keeps-effect still monitoring.mppt 1
send system.feature 'hello, agents'
wait_for 2 acks_at_least $((n + 2))
check non-json-rejected grep -q '"applied":false,"error":"not JSON"' "$T_TMP/acks.txt"
big=$("$PY" -c "print('{\"features\":{\"log.level\":\"info\"}}' + ' ' * 20000)")
send system.feature "$big"
wait_for 2 acks_at_least $((n + 3))
check oversized-rejected grep -q '"applied":false,"error":"message of 20033 bytes is over the 16384 byte limit"' "$T_TMP/acks.txt"
send system.feature '{"features":{"device.no-such":false}}'
wait_for 2 acks_at_least $((n + 4))
check unknown-device-rejected grep -q "no device 'no-such' in this agent's configuration" "$T_TMP/acks.txt"
check rejects-logged grep -q 'features: rejected a message from r system.feature: not JSON (nothing changed)' "$T_TMP/run.err"
check still-same-set test "$(features)" = '{"dataset.mppt": false}'
# Another agent's topic is not ours.
send system.feature/gw-other '{"features":{}}'
sleep 1
check other-agent-ignored test "$(acks)" -eq $((n + 4))

# ---- device.bms-1 off (and mppt back on): bms-1 is no longer asked
send system.feature '{"features":{"device.bms-1":false,"poll.interval_ms":1000}}'
wait_for 2 acks_at_least $((n + 5))
sleep 1.2 # a poll under way finishes
check device-disabled-state test "$(dev_state bms-1)" = disabled
a=$(polls_ok bms-1); sleep 2; b=$(polls_ok bms-1)
check device-not-polled test "$b" -eq "$a"
check mppt-published-again grows monitoring.mppt 1.5
# poll.interval_ms 1000 instead of 200: about 4 readings in 4 s, not 20.
a=$(polls_ok mppt-1); sleep 4; b=$(polls_ok mppt-1)
echo "mppt-1: $((b - a)) polls in 4 s at poll.interval_ms 1000"
check interval-applied test $((b - a)) -ge 2 -a $((b - a)) -le 7

# ---- agent restart (clean, then kill -9): the set comes back from state_dir
kill "$AGENT"; wait "$AGENT"
start_agent
wait_for 5 test "$(dev_state bms-1)" = disabled
check restart-keeps-set test "$(features)" = '{"device.bms-1": false, "poll.interval_ms": 1000}'
check restart-keeps-effect test "$(dev_state bms-1)" = disabled
check restore-logged grep -q 'features: restored from features.json' "$T_TMP/run.err"
kill -9 "$AGENT"; wait "$AGENT" 2>/dev/null
start_agent
wait_for 5 test "$(dev_state bms-1)" = disabled
check kill9-keeps-set test "$(features)" = '{"device.bms-1": false, "poll.interval_ms": 1000}'

# ---- Redis restart (no persistence: it comes back empty): the hash is rewritten
disown "$REDIS_PID"
kill -9 "$REDIS_PID"
sleep 1
start_redis "$PR"
hash_back() { [ "$(rcli HGET env.active.features device.bms-1)" = false ]; }
wait_for 15 hash_back
check hash-rewritten-after-redis-restart hash_back
check set-survives-redis-restart test "$(features)" = '{"device.bms-1": false, "poll.interval_ms": 1000}'
# The subscription came back too: a new message is applied and acked.
redis-cli -h 127.0.0.1 -p "$PR" SUBSCRIBE system.feature.ack >"$T_TMP/acks2.txt" 2>/dev/null &
track $!
sleep 0.5
flags_after_restart() {
    send system.feature '{"features":{"device.bms-1":false,"poll.interval_ms":1000,"site.snapshot":false}}'
    sleep 0.3
    grep -q '"site.snapshot":false' "$T_TMP/acks2.txt"
}
wait_for 10 flags_after_restart
check resubscribed-after-redis-restart grep -q '"applied":true' "$T_TMP/acks2.txt"

# ---- state_dir lost its copy: restored from the Redis hash
kill "$AGENT"; wait "$AGENT"
rm -f "$T_TMP/state/features.json"
start_agent
wait_for 5 test "$(dev_state bms-1)" = disabled
check restored-from-redis test "$(features)" = '{"device.bms-1": false, "poll.interval_ms": 1000, "site.snapshot": false}'
check restore-from-redis-logged grep -q 'features: restored from redis env.active.features' "$T_TMP/run.err"
wait_for 3 test -e "$T_TMP/state/features.json"
check state-dir-rewritten grep -q '"device.bms-1":false' "$T_TMP/state/features.json"

# ---- an empty set: back to every default
send system.feature '{"features":{}}'
wait_for 3 test "$(dev_state bms-1)" != disabled
check empty-set-resets test "$(features)" = "{}"
a=$(polls_ok bms-1); sleep 1; b=$(polls_ok bms-1)
check device-polled-again test "$b" -gt "$a"
check hash-emptied test "$(rcli HLEN env.active.features)" = 0
kill "$AGENT"
wait "$AGENT"
check clean-stop-exit-0 test $? -eq 0
check no-crash-logged sh -c "! grep -qi 'sanitizer\|segmentation' '$T_TMP/run.err'"
