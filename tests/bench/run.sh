#!/bin/bash
# run.sh - `make bench`: every benchmark, printing figures (nothing here is a pass/fail test).
# Copyright (c) 2026 edgemon authors. SPDX-License-Identifier: MIT
cd "$(dirname "$0")/../.." || exit 2
. tests/lib.sh
BB=${B:-build}/bench

echo "== edgemon size"
cp edgemon "$T_TMP/edgemon.stripped" && ${STRIP:-strip} "$T_TMP/edgemon.stripped"
echo "  stripped edgemon: $(stat -c %s "$T_TMP/edgemon.stripped") bytes"

echo "== poll"
P=$(free_port)
start_sim --tcp "127.0.0.1:$P" --device epever-tracer@1 --device renogy-rover@2 \
    --device seplos-v3@3 --device sunspec@4 --device sunspec-battery@5
wait_port "$P" 10
"$BB/bench_poll" "$P"
stop_pid "$SIM_PID"

for b in "$BB"/bench_*; do
    case "$b" in */bench_poll | */bench_paho) continue ;; esac
    [ -x "$b" ] || continue
    echo "== $(basename "$b")"
    "$b"
done

# ---- store-and-forward: draining a backlog, next to the broker's own limit ----
N=${BENCH_BACKLOG:-100000}
echo "== drain of a $N-reading backlog to mosquitto at QoS 1"
PR=$(free_port) PM=$(free_port)
start_redis "$PR"
start_mosquitto "$PM"
write_conf "$T_TMP/drain.json" "[]" "{\"backend\": \"redis\", \"url\": \"redis://127.0.0.1:$PR/0\", \"max_messages\": 10000000}" \
    "[{\"name\": \"uplink\", \"type\": \"mqtt\", \"url\": \"mqtt://127.0.0.1:$PM\", \"qos\": 1, \"window\": 256}]"
"$FILL" "$T_TMP/drain.json" "$N"
t0=$(date +%s%N)
"$EDGEMON" run -c "$T_TMP/drain.json" 2>"$T_TMP/drain.err" &
AG=$!
track "$AG"
while :; do
    sleep 0.2
    p=$("$EDGEMON" queue -c "$T_TMP/drain.json" 2>/dev/null | grep -o '"pending":[0-9]*' | cut -d: -f2)
    [ "${p:-1}" -eq 0 ] && break
done
t1=$(date +%s%N)
published=$("$EDGEMON" queue -c "$T_TMP/drain.json" | grep -o '"published":[0-9]*' | cut -d: -f2)
kill "$AG"
wait "$AG"
ours=$(awk -v n="$N" -v ns=$((t1 - t0)) 'BEGIN { printf "%.0f", n / (ns / 1e9) }')
head -c 600 /dev/zero | tr '\0' x >"$T_TMP/line"
awk -v n="$N" 'BEGIN { getline l < ARGV[1]; for (i = 0; i < n; i++) print l }' "$T_TMP/line" >"$T_TMP/lines"
t0=$(date +%s%N)
mosquitto_pub -h 127.0.0.1 -p "$PM" -q 1 -t bench/line -l <"$T_TMP/lines"
t1=$(date +%s%N)
theirs=$(awk -v n="$N" -v ns=$((t1 - t0)) 'BEGIN { printf "%.0f", n / (ns / 1e9) }')
# The agent's own figure, from the connect to the last confirmation, as bench_paho
# counts from its connect: the wall figure above includes the agent's start.
own=$(grep -o 'backlog delivered: [0-9]* readings in [0-9.]* s ([0-9]*/s)' "$T_TMP/drain.err" | tail -1)
wall=$ours
ours=$(echo "$own" | grep -o '([0-9]*/s)' | tr -dc 0-9)
echo "  edgemon drain (Redis -> MQTT, QoS 1, PUBACK before ack): ${ours:-?} readings/s (agent log: ${own:-none})"
echo "    with the agent's start, from exec to an empty queue:   $wall readings/s ($published confirmed)"
ours=${ours:-$wall}
echo "  mosquitto_pub -l -q 1, same count, same broker:          $theirs lines/s"
awk -v a="$ours" -v b="$theirs" 'BEGIN { printf "  ratio: %.2f\n", a / b }'
echo "  the client library's own ceiling, same broker (no Redis, no edgemon):"
"$BB/bench_paho" "$PM" "$N" | tee "$T_TMP/paho.out"
# The goal: the drain at >= 0.8 x paho's fastest loop (MQTTClient, single thread).
best() { grep "$1" "$T_TMP/paho.out" | grep -v FAILED | grep -o '[0-9]* msgs/s' | cut -d' ' -f1 | sort -n | tail -1; }
sync_best=$(best MQTTClient) async_best=$(best MQTTAsync)
echo "  drain $ours readings/s; paho MQTTClient ceiling ${sync_best:-?} msgs/s, MQTTAsync ${async_best:-?} msgs/s"
[ -n "$sync_best" ] && awk -v a="$ours" -v b="$sync_best" -v c="${async_best:-0}" 'BEGIN {
    printf "  ratio drain / MQTTClient ceiling: %.2f (goal >= 0.80: %s)", a / b, (a / b >= 0.8 ? "met" : "NOT met")
    if (c > 0) printf "; drain / MQTTAsync: %.2f", a / c
    printf "\n" }'

# ---- kubemq and http publishers: draining a backlog into the test fakes ----
# The fakes are single-process Python servers (tests/fakes/): the figures are
# their limit as much as ours, not what a real KubeMQ or web server takes.
fake_drain() { # name publisher-json
    local name=$1 pub=$2 n=${BENCH_FAKE_BACKLOG:-20000} t0 t1 p
    write_conf "$T_TMP/$name.json" "[]" "{\"backend\": \"redis\", \"url\": \"redis://127.0.0.1:$PR/1\", \"max_messages\": 10000000}" \
        "[$pub]"
    sed -i "s|$T_TMP/state|$T_TMP/state-$name|" "$T_TMP/$name.json"
    redis-cli -h 127.0.0.1 -p "$PR" -n 1 FLUSHDB >/dev/null
    "$FILL" "$T_TMP/$name.json" "$n"
    t0=$(date +%s%N)
    "$EDGEMON" run -c "$T_TMP/$name.json" 2>"$T_TMP/$name.err" &
    AG=$!
    track "$AG"
    while :; do
        sleep 0.2
        p=$("$EDGEMON" queue -c "$T_TMP/$name.json" 2>/dev/null | grep -o '"pending":[0-9]*' | cut -d: -f2)
        [ "${p:-1}" -eq 0 ] && break
        kill -0 "$AG" 2>/dev/null || { echo "  $name: the agent died"; return; }
    done
    t1=$(date +%s%N)
    kill "$AG"
    wait "$AG"
    awk -v name="$name" -v n="$n" -v ns=$((t1 - t0)) 'BEGIN {
        printf "  %-44s %7.0f readings/s (%d confirmed in %.1f s)\n", name, n / (ns / 1e9), n, ns / 1e9 }'
}
echo "== kubemq and http publishers draining a backlog into the Python fakes (the fakes' limit)"
PK=$(free_port) PH=$(free_port)
python3 tests/fakes/kubemq.py "$PK" &
track $!
python3 tests/fakes/http_sink.py "$PH" &
track $!
wait_port "$PK" 10
wait_port "$PH" 10
fake_drain "kubemq queue, batch 100, window 256" \
    "{\"name\": \"kq\", \"type\": \"kubemq\", \"url\": \"http://127.0.0.1:$PK\", \"window\": 256}"
fake_drain "kubemq events_store, one per request" \
    "{\"name\": \"ke\", \"type\": \"kubemq\", \"url\": \"http://127.0.0.1:$PK\", \"mode\": \"events_store\"}"
fake_drain "http, one message per POST" \
    "{\"name\": \"h1\", \"type\": \"http\", \"url\": \"http://127.0.0.1:$PH/ingest/{dataset}\"}"
fake_drain "http, gzip, batch 100, window 256" \
    "{\"name\": \"hg\", \"type\": \"http\", \"url\": \"http://127.0.0.1:$PH/ingest/{dataset}\", \"gzip\": true, \"batch\": 100, \"window\": 256}"
echo "  (the sink keeps every POST in memory; the fake KubeMQ every message)"

# ---- the nats publisher: a real nats-server -js ----
if [ -x "${B:-build}/tools/nats_read" ] && command -v nats-server >/dev/null; then
    echo "== nats publisher draining a backlog into nats-server -js (file store)"
    PN=$(free_port)
    nats-server -js -sd "$T_TMP/nats-js" -a 127.0.0.1 -p "$PN" >"$T_TMP/nats.log" 2>&1 &
    track $!
    wait_port "$PN" 10
    fake_drain "nats jetstream, PubAck each, window 256" \
        "{\"name\": \"nj\", \"type\": \"nats\", \"url\": \"nats://127.0.0.1:$PN\", \"window\": 256}"
    fake_drain "nats core, marker-confirmed, window 256" \
        "{\"name\": \"nc\", \"type\": \"nats\", \"url\": \"nats://127.0.0.1:$PN\", \"mode\": \"core\", \"window\": 256}"
fi

# ---- steady state: RSS and CPU per published reading ----
steady() { # name devices-per-sim sims interval seconds
    local name=$1 per=$2 sims=$3 iv=$4 secs=$5 devs="" i k port first=1 pub=$PUB
    # MODELS: "profile:driver ..." given to the devices in turn (default: all MPPTs).
    local -a models=(${MODELS:-epever-tracer:mppt})
    [ -n "$pub" ] || pub="{\"name\": \"uplink\", \"type\": \"mqtt\", \"url\": \"mqtt://127.0.0.1:$PM\"}"
    for i in $(seq "$sims"); do
        port=$(free_port)
        args=""
        for k in $(seq "$per"); do
            args="$args --device ${models[(k - 1) % ${#models[@]}]%%:*}@$k"
        done
        # shellcheck disable=SC2086
        start_sim --tcp "127.0.0.1:$port" $args
        wait_port "$port" 10
        for k in $(seq "$per"); do
            local m=${models[(k - 1) % ${#models[@]}]}
            [ $first = 1 ] || devs="$devs,"
            first=0
            devs="$devs{\"id\": \"d$i-$k\", \"driver\": \"${m#*:}\", \"profile\": \"${m%%:*}\", \"bus\": \"tcp://127.0.0.1:$port\", \"unit\": $k, \"interval_ms\": $iv}"
        done
    done
    write_conf "$T_TMP/$name.json" "[$devs]" "{\"backend\": \"redis\", \"url\": \"redis://127.0.0.1:$PR/0\"}" \
        "[$pub]"
    sed -i "s|$T_TMP/state|$T_TMP/state-$name|" "$T_TMP/$name.json"
    "$EDGEMON" run -c "$T_TMP/$name.json" 2>"$T_TMP/$name.err" &
    AG=$!
    track "$AG"
    sleep 3
    read -r u0 s0 < <(awk '{ print $14, $15 }' "/proc/$AG/stat")
    p0=$("$EDGEMON" queue -c "$T_TMP/$name.json" | grep -o '"published":[0-9]*' | cut -d: -f2)
    sleep "$secs"
    read -r u1 s1 < <(awk '{ print $14, $15 }' "/proc/$AG/stat")
    p1=$("$EDGEMON" queue -c "$T_TMP/$name.json" | grep -o '"published":[0-9]*' | cut -d: -f2)
    rss=$(awk '/VmRSS/ { print $2 }' "/proc/$AG/status")
    hwm=$(awk '/VmHWM/ { print $2 }' "/proc/$AG/status")
    kill "$AG"
    wait "$AG"
    tck=$(getconf CLK_TCK)
    awk -v name="$name" -v rss="$rss" -v hwm="$hwm" -v cpu=$((u1 + s1 - u0 - s0)) -v tck="$tck" \
        -v n=$((p1 - p0)) -v secs="$secs" 'BEGIN {
        printf "  %-28s RSS %5.1f MB (peak %5.1f MB)  CPU %5.1f%%  %7.1f us CPU per published reading  (%d readings in %d s)\n",
            name, rss / 1024, hwm / 1024, 100 * cpu / tck / secs, n ? cpu / tck / n * 1e6 : 0, n, secs }'
}
echo "== steady state (Redis queue, MQTT QoS 1 to local mosquitto)"
DEMO_MODELS="seplos-v3:pms epever-tracer:mppt sunspec:inverter"
MODELS=$DEMO_MODELS steady "demo site: 3 devices at 1 s" 3 1 1000 20
steady "100 devices at 1 s (10 buses)" 10 10 1000 20
# The demo site again over mqtts:// (certificates made here): what loading OpenSSL costs.
D=$T_TMP/pki
mkdir -p "$D"
(
    cd "$D" || exit 1
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=bench CA" -keyout ca.key -out ca.crt &&
        openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout srv.key -out srv.csr &&
        printf 'subjectAltName=IP:127.0.0.1\n' >san.ext &&
        openssl x509 -req -in srv.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
            -extfile san.ext -out srv.crt
) >"$T_TMP/openssl.log" 2>&1 || echo "  (openssl failed: $(tail -1 "$T_TMP/openssl.log"))"
PT=$(free_port)
start_mosquitto "$PT" "listener $PT 127.0.0.1" "cafile $D/ca.crt" "certfile $D/srv.crt" \
    "keyfile $D/srv.key"
PUB="{\"name\": \"uplink\", \"type\": \"mqtt\", \"url\": \"mqtts://127.0.0.1:$PT\", \"ca_file\": \"$D/ca.crt\"}"
echo "== steady state over TLS (mqtts://, the TLS paho and OpenSSL loaded)"
MODELS=$DEMO_MODELS steady "demo site over TLS" 3 1 1000 20

# ---- the drain over an emulated cellular uplink ----
bash tests/bench/cellular.sh

# ---- idle cost and reconnect beside a plain pymodbus + paho-mqtt script ----
bash tests/bench/idle.sh
