#!/bin/bash
# t172-feature-mqtt.sh - feature flags over MQTT (CONTRACT section 5): the MQTT
# publisher with "features": true subscribes to system.feature and
# system.feature/<agent>; a valid message is applied within a second and acked on
# system.feature.ack, an invalid one is refused with the reason; after a broker
# restart the agent subscribes again and the next message is applied.
. "$(dirname "$0")/../lib.sh"
PY=/usr/bin/python3

PS=$(free_port) PM=$(free_port) PH=$(free_port)
start_sim --tcp "127.0.0.1:$PS" --device epever-tracer@1 --device seplos-v3@2
start_mosquitto "$PM"
wait_port "$PS" 10 && wait_port "$PM" 10 || { fail start "simulator or broker"; exit 1; }
B="tcp://127.0.0.1:$PS"
write_conf "$T_TMP/c.json" "[
  {\"id\": \"mppt-1\", \"driver\": \"mppt\", \"profile\": \"epever-tracer\", \"bus\": \"$B\", \"unit\": 1, \"interval_ms\": 200},
  {\"id\": \"bms-1\", \"driver\": \"pms\", \"profile\": \"seplos-v3\", \"bus\": \"$B\", \"unit\": 2, \"interval_ms\": 200}]" \
    "{\"backend\": \"spool\"}" \
    "[{\"name\": \"m\", \"type\": \"mqtt\", \"url\": \"mqtt://127.0.0.1:$PM\", \"qos\": 1, \"features\": true}]"
"$PY" -c "import json,sys; d=json.load(open(sys.argv[1])); d['http']={'listen':'127.0.0.1:$PH'}; json.dump(d, open(sys.argv[1],'w'))" "$T_TMP/c.json"
check config-valid "$EDGEMON" check -c "$T_TMP/c.json"

api() { "$PY" "$T_ROOT/tests/fakes/check.py" get "http://127.0.0.1:$PH$1"; }
features() { api /api/features | "$PY" -c "import json,sys; print(json.dumps(json.load(sys.stdin)['features'], sort_keys=True))"; }
send() { mosquitto_pub -h 127.0.0.1 -p "$PM" -q 1 -t "$1" -m "$2"; }
acked() { grep -q "$1" "$T_TMP/acks.txt"; }
count_mppt() { grep -c '"id":"mppt-1"' "$T_TMP/data.txt"; }
sub() {
    mosquitto_sub -h 127.0.0.1 -p "$PM" -q 1 -t system.feature.ack >>"$T_TMP/acks.txt" 2>/dev/null &
    track $!
    mosquitto_sub -h 127.0.0.1 -p "$PM" -q 1 -t 'monitoring/#' >>"$T_TMP/data.txt" 2>/dev/null &
    track $!
    sleep 0.3
}
sub
"$EDGEMON" run -c "$T_TMP/c.json" >/dev/null 2>"$T_TMP/run.err" &
AGENT=$!
track "$AGENT"
wait_for 10 grep -q '"id":"mppt-1"' "$T_TMP/data.txt"
sleep 1 # subscribed after the connect

send system.feature/gw-test '{"features":{"dataset.mppt":false}}'
wait_for 3 acked '"applied":true'
check ack-on-mqtt acked '{"agent":"gw-test","applied":true,"error":null,"active":{"dataset.mppt":false}}'
check api-shows-set test "$(features)" = '{"dataset.mppt": false}'
sleep 0.5
a=$(count_mppt); sleep 1.5; b=$(count_mppt)
check mppt-not-published test "$b" -eq "$a"

send system.feature '{"features":{"site.snapshot":"yes"}}'
wait_for 3 acked '"applied":false'
check invalid-refused-with-reason acked "\"applied\":false,\"error\":\"'site.snapshot' must be true or false\",\"active\":{\"dataset.mppt\":false}"
check invalid-changes-nothing test "$(features)" = '{"dataset.mppt": false}'
"$PY" -c "print('x' * 17000)" >"$T_TMP/big.txt"
mosquitto_pub -h 127.0.0.1 -p "$PM" -q 1 -t system.feature -f "$T_TMP/big.txt"
wait_for 3 acked 'over the 16384 byte limit'
check oversized-refused acked '"error":"message of 17001 bytes is over the 16384 byte limit"'

# Broker restart: subscriptions are gone with it; the agent subscribes again.
disown "$MOSQ_PID"; kill "$MOSQ_PID"
sleep 1
start_mosquitto "$PM"
sub
wait_for 10 grep -q 'uplink back' "$T_TMP/run.err"
again() {
    send system.feature '{"features":{}}'
    sleep 0.5
    acked '"applied":true,"error":null,"active":{}}'
}
wait_for 10 again
check resubscribed-after-broker-restart acked '"applied":true,"error":null,"active":{}}'
check set-reset test "$(features)" = "{}"
a=$(count_mppt); sleep 1.5; b=$(count_mppt)
check mppt-published-again test "$b" -gt "$a"
kill "$AGENT"
wait "$AGENT"
check clean-stop-exit-0 test $? -eq 0
