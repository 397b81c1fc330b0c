#!/bin/bash
# t160-publishers-together.sh - every publisher type at once, each against its real or
# faithful server: MQTT (mosquitto), Redis (stream mode, redis-server), KubeMQ (the fake,
# tests/fakes/kubemq.py), Kafka (librdkafka's mock cluster), NATS (nats-server -js, when
# this build has the NATS publisher) and, added while the agent runs, HTTP
# (tests/fakes/http_sink.py) through `edgemon broker config http` and SIGHUP. Then the
# MQTT broker is stopped for 20 s: every other uplink keeps receiving live readings
# meanwhile, and afterwards every uplink holds every seq of both devices without a gap
# (the HTTP one from its first reading on).
. "$(dirname "$0")/../lib.sh"
CHECK=$T_ROOT/tests/fakes/check.py
MOCK=$T_ROOT/${B:-build}/tools/kafka_mock
NATS_READ=$T_ROOT/${B:-build}/tools/nats_read

PS=$(free_port) PM=$(free_port) PR=$(free_port) PK=$(free_port) PH=$(free_port) PN=$(free_port)
start_sim --tcp "127.0.0.1:$PS" --device epever-tracer@1 --device seplos-v3@2
MOSQ_PERSIST=1 start_mosquitto "$PM" "max_queued_messages 0"
start_redis "$PR"
python3 "$T_ROOT/tests/fakes/kubemq.py" "$PK" 2>"$T_TMP/kubemq.err" &
track $!
python3 "$T_ROOT/tests/fakes/http_sink.py" "$PH" 2>"$T_TMP/sink.err" &
track $!
mkfifo "$T_TMP/ctl"
"$MOCK" monitoring.mppt monitoring.pms <"$T_TMP/ctl" >"$T_TMP/kafka.out" 2>"$T_TMP/kafka.err" &
track $!
exec 3>"$T_TMP/ctl"
has_bootstrap() { grep -q '^bootstrap ' "$T_TMP/kafka.out"; }
for p in "$PS" "$PK" "$PH"; do wait_port "$p" 10 || { fail start "server on $p"; exit 1; }; done
wait_for 10 has_bootstrap || { fail start "kafka_mock"; exit 1; }
KB=$(sed -n 's/^bootstrap //p' "$T_TMP/kafka.out" | head -1)
NATS_PUB=""
if [ -x "$NATS_READ" ] && command -v nats-server >/dev/null; then
    nats-server -js -sd "$T_TMP/nats" -a 127.0.0.1 -p "$PN" >"$T_TMP/nats.log" 2>&1 &
    track $!
    wait_port "$PN" 10 && NATS_PUB=",{\"name\": \"n\", \"type\": \"nats\", \"url\": \"nats://127.0.0.1:$PN\"}"
fi

B="tcp://127.0.0.1:$PS"
write_conf "$T_TMP/c.json" "[
  {\"id\": \"mppt-1\", \"driver\": \"mppt\", \"profile\": \"epever-tracer\", \"bus\": \"$B\", \"unit\": 1, \"interval_ms\": 200},
  {\"id\": \"bms-1\", \"driver\": \"pms\", \"profile\": \"seplos-v3\", \"bus\": \"$B\", \"unit\": 2, \"interval_ms\": 200}]" \
    "{\"backend\": \"spool\"}" \
    "[{\"name\": \"m\", \"type\": \"mqtt\", \"url\": \"mqtt://127.0.0.1:$PM\"},
      {\"name\": \"r\", \"type\": \"redis\", \"url\": \"redis://127.0.0.1:$PR/0\", \"mode\": \"stream\"},
      {\"name\": \"kq\", \"type\": \"kubemq\", \"url\": \"http://127.0.0.1:$PK\", \"timeout_ms\": 2000},
      {\"name\": \"k\", \"type\": \"kafka\", \"bootstrap_servers\": \"$KB\", \"timeout_ms\": 1000}$NATS_PUB]"
# The NATS publisher is optional here (WITH_NATS=no builds): drop it if not built.
if [ -n "$NATS_PUB" ] && ! "$EDGEMON" check -c "$T_TMP/c.json" >/dev/null 2>&1; then
    sed -i "s|$NATS_PUB||" "$T_TMP/c.json"
    NATS_PUB=""
fi
[ -n "$NATS_PUB" ] && echo "with the NATS publisher" || echo "without NATS (not built or no nats-server)"
check config-valid "$EDGEMON" check -c "$T_TMP/c.json"

mosquitto_sub -h 127.0.0.1 -p "$PM" -c -i t160 -q 1 -t 'monitoring/#' >"$T_TMP/mqtt.txt" 2>/dev/null &
track $!
sleep 0.3
"$EDGEMON" run -c "$T_TMP/c.json" >/dev/null 2>"$T_TMP/run.err" &
AGENT=$!
track "$AGENT"

# What each uplink received so far, one message per line.
got() {
    case "$1" in
    mqtt) cat "$T_TMP/mqtt.txt" ;;
    redis) for k in monitoring.mppt monitoring.pms; do
        redis-cli -h 127.0.0.1 -p "$PR" XRANGE "$k" - + | grep '^{'
    done ;;
    kubemq) python3 "$CHECK" kmq-bodies "http://127.0.0.1:$PK" ;;
    kafka) cut -f3- "$T_TMP/kafka.out" | grep '^{' ;;
    http) python3 "$CHECK" sink-bodies "http://127.0.0.1:$PH" ;;
    nats) "$NATS_READ" "nats://127.0.0.1:$PN" monitoring 2>/dev/null ;;
    esac
}
count() { got "$1" | grep -c '"seq"'; }
at_least() { [ "$(count "$1")" -ge "$2" ]; }
UPLINKS="mqtt redis kubemq kafka"
[ -n "$NATS_PUB" ] && UPLINKS="$UPLINKS nats"
for u in $UPLINKS; do
    wait_for 20 at_least "$u" 10
    check "$u-delivers" at_least "$u" 10
done

# HTTP added to the running agent: a broker file and SIGHUP.
printf '{"url": "http://127.0.0.1:%s/ingest/{dataset}", "timeout_ms": 2000}\n' "$PH" >"$T_TMP/http.json"
out=$("$EDGEMON" broker config http "$T_TMP/http.json" -c "$T_TMP/c.json" 2>&1)
check broker-config-http test "$out" = "successfully configured broker http"
kill -HUP "$AGENT"
wait_for 20 at_least http 10
check http-added-by-sighup at_least http 10
check agent-survived-reload kill -0 "$AGENT"

# The MQTT broker away for 20 s; everyone else keeps getting live readings.
stop_pid "$MOSQ_PID"
sleep 1
declare -A before
for u in $UPLINKS http; do before[$u]=$(count "$u"); done
sleep 19
for u in $UPLINKS http; do
    [ "$u" = mqtt ] && continue
    # 2 devices at 200 ms: about 190 in 19 s; at least half of it, or it was held back.
    check "$u-live-while-mqtt-down" at_least "$u" $((before[$u] + 90))
done
MOSQ_PERSIST=1 start_mosquitto "$PM" "max_queued_messages 0"
caught_up() { [ "$("$EDGEMON" queue -c "$T_TMP/c.json" | grep -o '"pending":[0-9]*' | cut -d: -f2 | sort -n | tail -1)" -lt 10 ]; }
wait_for 60 caught_up
check all-caught-up caught_up
sleep 1
stop_pid "$AGENT"
sleep 1

for u in $UPLINKS http; do
    got "$u" >"$T_TMP/$u.got"
    if [ "$u" = http ]; then first=""; else first=1; fi
    SEQ_FIRST=$first seq_check "$T_TMP/$u.got" >"$T_TMP/$u.check"
    sed "s/^/  $u: /" "$T_TMP/$u.check" | grep -v 'out of order'
    nogap() { ! grep -q '^gap\|^start' "$1"; }
    check "$u-no-gap" nogap "$T_TMP/$u.check"
done
