#!/bin/bash
# t130-kafka.sh - the Kafka publisher against librdkafka's mock cluster (a real Kafka
# wire-protocol server, tests/tools/kafka_mock.c) with the spool queue: every seq of
# two devices arrives on monitoring.mppt / monitoring.pms keyed by the device id;
# the broker down for 10 s, then up: nothing lost; Produce requests failing with
# NOT_LEADER_FOR_PARTITION more often than librdkafka's 8 retries: nothing lost
# (the core re-sends what came back RETRY). Then `edgemon broker config kafka`.
. "$(dirname "$0")/../lib.sh"
MOCK=$T_ROOT/${B:-build}/tools/kafka_mock
[ -x "$MOCK" ] || { fail kafka-mock "missing $MOCK (WITH_KAFKA=no?)"; exit 1; }

PS=$(free_port)
start_sim --tcp "127.0.0.1:$PS" --device epever-tracer@1 --device seplos-v3@2
wait_port "$PS" 10 || { fail start "simulator"; exit 1; }
mkfifo "$T_TMP/ctl"
"$MOCK" monitoring.mppt monitoring.pms <"$T_TMP/ctl" >"$T_TMP/kafka.out" 2>"$T_TMP/kafka.err" &
MOCK_PID=$!
track "$MOCK_PID"
exec 3>"$T_TMP/ctl"
has_bootstrap() { grep -q '^bootstrap ' "$T_TMP/kafka.out"; }
wait_for 10 has_bootstrap || { fail start "kafka_mock"; exit 1; }
KB=$(sed -n 's/^bootstrap //p' "$T_TMP/kafka.out" | head -1)
echo "mock cluster at $KB"
mock() { echo "$*" >&3; wait_for 10 grep -q "^ok $*\$" "$T_TMP/kafka.out"; }

B="tcp://127.0.0.1:$PS"
write_conf "$T_TMP/c.json" "[
  {\"id\": \"mppt-1\", \"driver\": \"mppt\", \"profile\": \"epever-tracer\", \"bus\": \"$B\", \"unit\": 1, \"interval_ms\": 200},
  {\"id\": \"bms-1\", \"driver\": \"pms\", \"profile\": \"seplos-v3\", \"bus\": \"$B\", \"unit\": 2, \"interval_ms\": 200}]" \
    "{\"backend\": \"spool\"}" \
    "[{\"name\": \"k\", \"type\": \"kafka\", \"bootstrap_servers\": \"$KB\", \"timeout_ms\": 1000}]"
conf_ok() { "$EDGEMON" check -c "$T_TMP/c.json" >/dev/null; }
check config-valid conf_ok

"$EDGEMON" run -c "$T_TMP/c.json" >/dev/null 2>"$T_TMP/run.err" &
AGENT=$!
track "$AGENT"
n_on() { grep -c "^$1	" "$T_TMP/kafka.out"; }
at_least() { [ "$(n_on "$1")" -ge "$2" ]; }
wait_for 15 at_least monitoring.mppt 10
check messages-arrive at_least monitoring.pms 5
check uplink-up-logged grep -q "\[pub:kafka:k\] uplink up" "$T_TMP/run.err"
keyed() { # every message on topic $1 has key $2 and that device's id in its body
    awk -F'\t' -v t="$1" -v k="$2" '$1 == t { n++; if ($2 != k || index($3, "\"id\":\"" k "\"") == 0) bad++ }
        END { exit (n > 0 && bad == 0) ? 0 : 1 }' "$T_TMP/kafka.out"
}
check mppt-keyed-by-device keyed monitoring.mppt mppt-1
check pms-keyed-by-device keyed monitoring.pms bms-1

# Every seq present per device; duplicates and reordering by retries are reported.
no_gap() {
    grep -P '^monitoring\.' "$T_TMP/kafka.out" | cut -f3 >"$T_TMP/values.txt"
    seq_check "$T_TMP/values.txt" >"$T_TMP/check.txt"
    cat "$T_TMP/check.txt"
    ! grep -q -e '^gap' -e '^start' "$T_TMP/check.txt" &&
        [ "$(grep -c '^device ' "$T_TMP/check.txt")" -eq 2 ]
}

# Broker down for 10 s: the readings wait in the spool, then all arrive.
before=$(n_on monitoring.mppt)
mock down
sleep 10
during=$(n_on monitoring.mppt)
check down-stops-delivery test "$during" -le $((before + 5))
check outage-logged grep -q "\[pub:kafka:k\] uplink down" "$T_TMP/run.err"
mock up
wait_for 30 at_least monitoring.mppt $((during + 55))
check delivered-after-outage at_least monitoring.mppt $((during + 55))
check nothing-lost-after-outage no_gap

# 20 failed Produce requests (NOT_LEADER_FOR_PARTITION), more than 8 retries.
mock error 6 20
sleep 6
"$EDGEMON" queue -c "$T_TMP/c.json" >"$T_TMP/q.json"
cat "$T_TMP/q.json"
now=$(n_on monitoring.mppt)
wait_for 20 at_least monitoring.mppt $((now + 10))
check delivered-after-leader-errors at_least monitoring.mppt $((now + 10))
kill "$AGENT"
wait "$AGENT"
check clean-stop-exit-0 test $? -eq 0
check nothing-lost-after-leader-errors no_gap
check nothing-dropped grep -q '"dropped":0' "$T_TMP/q.json"

# broker config: a good file, a bad one naming the field, the bootstrapServers spelling.
mkdir -p "$T_TMP/cfg"
write_conf "$T_TMP/cfg/edgemon.json" "[]"
echo "{\"bootstrap_servers\": \"127.0.0.1:9092\", \"topic\": \"monitoring.{dataset}\"}" >"$T_TMP/good.json"
out=$("$EDGEMON" broker config kafka "$T_TMP/good.json" -c "$T_TMP/cfg/edgemon.json" 2>&1)
check broker-config-good test "$out" = "successfully configured broker kafka"
check broker-file-installed test -f "$T_TMP/cfg/brokers.d/kafka.json"
check installed-config-valid "$EDGEMON" check -c "$T_TMP/cfg/edgemon.json"
echo "{\"bootstrap_servers\": \"no-port-here\"}" >"$T_TMP/bad.json"
out=$("$EDGEMON" broker config kafka "$T_TMP/bad.json" -c "$T_TMP/cfg/edgemon.json" 2>&1)
rc=$?
echo "$out"
check broker-config-bad-exit-1 test "$rc" -eq 1
check broker-config-bad-names-field grep -q bootstrap_servers <<<"$out"
echo "{\"bootstrapServers\": \"127.0.0.1:9092,127.0.0.1:9093\"}" >"$T_TMP/camel.json"
out=$("$EDGEMON" broker config kafka "$T_TMP/camel.json" -c "$T_TMP/cfg/edgemon.json" 2>&1)
check broker-config-bootstrapServers test "$out" = "successfully configured broker kafka"
exec 3>&-
