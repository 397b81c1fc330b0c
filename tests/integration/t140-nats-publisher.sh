#!/bin/bash
# t140-nats-publisher.sh - the NATS publisher (JetStream) against a real nats-server -js
# with the spool queue: the agent creates the stream, every reading of two devices lands
# on monitoring.mppt / monitoring.pms with its body and Nats-Msg-Id {agent}:{id}:{seq};
# the server stopped for 10 s and restarted on the same port and store: nothing lost,
# the stream holds each seq once; the server hung (SIGSTOP) with readings in flight and
# the agent killed (kill -9) meanwhile: the restarted agent re-sends them with the same
# ids (a core subscriber sees them twice) and the stream still holds each once. Then
# `edgemon broker config nats`.
. "$(dirname "$0")/../lib.sh"
NATS_READ=$T_ROOT/${B:-build}/tools/nats_read
[ -x "$NATS_READ" ] || { fail nats-read "missing $NATS_READ (WITH_NATS=no?)"; exit 1; }
command -v nats-server >/dev/null || { fail nats-server "not installed (tests/deps.sh)"; exit 1; }

PS=$(free_port) PN=$(free_port)
URL="nats://127.0.0.1:$PN"
start_sim --tcp "127.0.0.1:$PS" --device epever-tracer@1 --device seplos-v3@2
start_nats() {
    nats-server -js -sd "$T_TMP/js" -a 127.0.0.1 -p "$PN" >>"$T_TMP/nats.log" 2>&1 &
    NATS_PID=$!
    track "$NATS_PID"
    wait_port "$PN" 10
}
start_nats || { fail start "nats-server"; exit 1; }
wait_port "$PS" 10 || { fail start "simulator"; exit 1; }
# A core subscriber sees every publish, re-sends included (the stream drops those).
"$NATS_READ" --sub "$URL" 'monitoring.>' >"$T_TMP/sub.txt" 2>"$T_TMP/sub.err" &
track $!
wait_for 10 grep -q ready "$T_TMP/sub.err" || { fail start "subscriber"; exit 1; }

B="tcp://127.0.0.1:$PS"
write_conf "$T_TMP/c.json" "[
  {\"id\": \"mppt-1\", \"driver\": \"mppt\", \"profile\": \"epever-tracer\", \"bus\": \"$B\", \"unit\": 1, \"interval_ms\": 200},
  {\"id\": \"bms-1\", \"driver\": \"pms\", \"profile\": \"seplos-v3\", \"bus\": \"$B\", \"unit\": 2, \"interval_ms\": 200}]" \
    "{\"backend\": \"spool\"}" \
    "[{\"name\": \"n\", \"type\": \"nats\", \"url\": \"$URL\", \"timeout_ms\": 5000}]"
conf_ok() { "$EDGEMON" check -c "$T_TMP/c.json" >/dev/null; }
check config-valid conf_ok

"$EDGEMON" run -c "$T_TMP/c.json" >/dev/null 2>"$T_TMP/run.err" &
AGENT=$!
track "$AGENT"
stream() { "$NATS_READ" "$URL" monitoring 2>/dev/null; }
n_on() { stream | grep -c "^$1	"; }
at_least() { [ "$(n_on "$1")" -ge "$2" ]; }
wait_for 20 at_least monitoring.mppt 10
check messages-arrive at_least monitoring.pms 5
check stream-created-logged grep -q "\[pub:nats:n\] created JetStream stream 'monitoring'" "$T_TMP/run.err"
check uplink-up-logged grep -q "\[pub:nats:n\] uplink up" "$T_TMP/run.err"
# Subject, body and id agree: monitoring.DATASET, the device's own body, its seq in the id.
well_formed() {
    stream | awk -F'\t' '
        { n++
          if (!match($3, /"dataset":"[a-z]*"/)) { bad++; next }
          ds = substr($3, RSTART + 11, RLENGTH - 12)
          match($3, /"id":"[^"]*"/); dev = substr($3, RSTART + 6, RLENGTH - 7)
          match($3, /"seq":[0-9]*/); seq = substr($3, RSTART + 6, RLENGTH - 6)
          if ($1 != "monitoring." ds || $2 != "gw-test:" dev ":" seq) { bad++; print "bad: " $1 " " $2 }
          if (ds == "mppt" && dev != "mppt-1" || ds == "pms" && dev != "bms-1") bad++ }
        END { exit (n > 0 && bad == 0) ? 0 : 1 }'
}
check subject-body-and-id well_formed

# Every seq of each device present, and each stored once (Nats-Msg-Id unique).
no_gap() {
    stream >"$T_TMP/stream.txt"
    cut -f3 "$T_TMP/stream.txt" >"$T_TMP/values.txt"
    seq_check "$T_TMP/values.txt" >"$T_TMP/check.txt"
    cat "$T_TMP/check.txt"
    ! grep -q -e '^gap' -e '^start' "$T_TMP/check.txt" &&
        [ "$(grep -c '^device ' "$T_TMP/check.txt")" -eq 2 ]
}
each_once() {
    local d
    d=$(cut -f2 "$T_TMP/stream.txt" | sort | uniq -d | wc -l)
    echo "stream: $(wc -l <"$T_TMP/stream.txt") messages, $d ids twice"
    [ "$d" -eq 0 ] && ! cut -f2 "$T_TMP/stream.txt" | grep -qx -- -
}

# The server away for 10 s, back on the same port with the same store.
stop_pid "$NATS_PID"
sleep 1
before=$(n_on monitoring.mppt)
check outage-logged grep -q "\[pub:nats:n\] uplink down" "$T_TMP/run.err"
sleep 9
start_nats || fail restart "nats-server"
wait_for 30 at_least monitoring.mppt $((before + 55))
check delivered-after-outage at_least monitoring.mppt $((before + 55))
check nothing-lost-after-outage no_gap
check stored-once-after-outage each_once

# Readings in flight (the server hangs), then the agent frozen while the server
# stores them and answers, and killed (kill -9) before it could read the PubAcks.
kill -STOP "$NATS_PID"
sleep 2
kill -STOP "$AGENT"
kill -CONT "$NATS_PID"
sleep 1
kill -9 "$AGENT"
wait "$AGENT" 2>/dev/null
"$EDGEMON" run -c "$T_TMP/c.json" >/dev/null 2>>"$T_TMP/run.err" &
AGENT=$!
track "$AGENT"
caught_up() { [ "$("$EDGEMON" queue -c "$T_TMP/c.json" | grep -o '"pending":[0-9]*' | cut -d: -f2)" -lt 5 ]; }
now=$(n_on monitoring.mppt)
wait_for 30 at_least monitoring.mppt $((now + 10))
wait_for 30 caught_up
"$EDGEMON" queue -c "$T_TMP/c.json" >"$T_TMP/q.json"
kill "$AGENT"
wait "$AGENT"
check clean-stop-exit-0 test $? -eq 0
check nothing-lost-after-kill no_gap
check stored-once-after-kill each_once
check nothing-dropped grep -q '"dropped":0' "$T_TMP/q.json"
# The re-sends did happen: the subscriber saw some ids twice.
resent=$(cut -f2 "$T_TMP/sub.txt" | sort | uniq -d | wc -l)
echo "core subscriber: $(wc -l <"$T_TMP/sub.txt") publishes, $resent ids sent more than once"
check resent-after-kill test "$resent" -gt 0

# broker config: a good file, bad ones naming the field.
mkdir -p "$T_TMP/cfg"
write_conf "$T_TMP/cfg/edgemon.json" "[]"
echo "{\"url\": \"nats://127.0.0.1:4222\", \"mode\": \"jetstream\", \"stream\": \"monitoring\"}" >"$T_TMP/good.json"
out=$("$EDGEMON" broker config nats "$T_TMP/good.json" -c "$T_TMP/cfg/edgemon.json" 2>&1)
check broker-config-good test "$out" = "successfully configured broker nats"
check broker-file-installed test -f "$T_TMP/cfg/brokers.d/nats.json"
check installed-config-valid "$EDGEMON" check -c "$T_TMP/cfg/edgemon.json"
echo "{\"url\": \"nats://127.0.0.1:4222\", \"mode\": \"queue\"}" >"$T_TMP/bad.json"
out=$("$EDGEMON" broker config nats "$T_TMP/bad.json" -c "$T_TMP/cfg/edgemon.json" 2>&1)
rc=$?
echo "$out"
check broker-config-bad-exit-1 test "$rc" -eq 1
check broker-config-bad-names-field grep -q "mode" <<<"$out"
echo "{\"url\": \"http://127.0.0.1:4222\"}" >"$T_TMP/badurl.json"
out=$("$EDGEMON" broker config nats "$T_TMP/badurl.json" -c "$T_TMP/cfg/edgemon.json" 2>&1)
echo "$out"
check broker-config-bad-url grep -q "url" <<<"$out"
