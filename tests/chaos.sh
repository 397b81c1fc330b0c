#!/bin/bash
# chaos.sh - `make chaos`: CHAOS_S seconds (default 600) of random faults against a
# running site, then proof from what the brokers received that nothing was lost.
# Copyright (c) 2026 edgemon authors. SPDX-License-Identifier: MIT
#
# The site: three simulated devices on one TCP bus polled every 200 ms, the queue in
# Redis (AOF, fsync always), an MQTT uplink (mosquitto, persistent, a durable QoS 1
# subscriber) and a Redis stream uplink (a second redis-server). Every 2-8 s one of:
#   mqtt     mosquitto stopped for 1-8 s
#   target   the uplink Redis killed (-9) and restarted after 1-6 s
#   queue    the queue's Redis killed (-9) and restarted after 1-6 s (the spool takes
#            the readings meanwhile)
#   hang     the queue's Redis stopped (SIGSTOP) for 1-4 s, then continued
#   agent    the agent killed (-9) and restarted after 0-2 s
#   timeout  one device silent (the agent's polls time out) for 2-6 s
#   except   one device answers Modbus exceptions for 2-6 s
#   flags    a valid or an invalid feature-flag message on system.feature (MQTT), when
#            the build has flags (GET /api/features answers); otherwise skipped
# At the end every server is up, the backlog drains, and for each uplink:
#   lost = seq numbers missing between a device's first and last reading (a reading
#   the agent never made, during a timeout, takes no seq, so there is no excuse);
#   duplicates (at-least-once) and readings overtaken by the live lane are counted,
#   never a failure. The agent's RSS is
#   sampled every second; it must stay under CHAOS_RSS_KB (default 16384).
# One summary line, then "N passed, N failed". CHAOS_SEED makes a run repeatable.
. "$(dirname "$0")/lib.sh"
npass=0 nfail=0
pass() { echo "PASS $1"; npass=$((npass + 1)); }
fail() { echo "FAIL $1${2:+: $2}"; T_FAILED=1; nfail=$((nfail + 1)); }

DUR=${CHAOS_S:-600}
RSS_LIMIT=${CHAOS_RSS_KB:-16384}
SEED=${CHAOS_SEED:-$$}
RANDOM=$SEED
echo "chaos: $DUR s, seed $SEED"

PS=$(free_port) PQ=$(free_port) PT=$(free_port) PM=$(free_port) PH=$(free_port)
printf '' >"$T_TMP/faults"
start_sim --tcp "127.0.0.1:$PS" --device epever-tracer@1 --device seplos-v3@2 --device sunspec@3 \
    --control "$T_TMP/faults"
RARGS="--appendonly yes --appendfsync always"
start_redis "$PQ" $RARGS
QPID=$REDIS_PID
start_redis "$PT" $RARGS
TPID=$REDIS_PID
MOSQ_PERSIST=1 start_mosquitto "$PM" "max_queued_messages 0"
wait_port "$PS" 10 || { fail start "simulator"; exit 1; }

B="tcp://127.0.0.1:$PS"
write_conf "$T_TMP/c.json" "$(site_devices "$B" 200)" \
    "{\"backend\": \"redis\", \"url\": \"redis://127.0.0.1:$PQ/0\"}" \
    "[{\"name\": \"uplink\", \"type\": \"mqtt\", \"url\": \"mqtt://127.0.0.1:$PM\", \"qos\": 1, \"features\": true},
      {\"name\": \"cloud\", \"type\": \"redis\", \"url\": \"redis://127.0.0.1:$PT/0\", \"mode\": \"stream\",
       \"stream_maxlen\": 100000000}]"
# The local API, so the run can see that flags exist (and flags arrive on the MQTT uplink).
python3 -c "import json,sys; d=json.load(open(sys.argv[1])); d['http']={'listen':'127.0.0.1:$PH'}; json.dump(d, open(sys.argv[1],'w'))" "$T_TMP/c.json"
"$EDGEMON" check -c "$T_TMP/c.json" >/dev/null || { fail config "$("$EDGEMON" check -c "$T_TMP/c.json")"; exit 1; }

mosquitto_sub -h 127.0.0.1 -p "$PM" -c -i chaos-checker -q 1 -t 'monitoring/#' \
    >"$T_TMP/sub.txt" 2>/dev/null &
SUB=$!
track "$SUB"
sleep 0.5

AGENT=
restart_redis() { # PORT: same port, same directory (its AOF)
    local port=$1
    redis-server --port "$port" --bind 127.0.0.1 --dir "$T_TMP/redis-$port" --save "" \
        $RARGS --daemonize no --logfile "$T_TMP/redis-$port/log" &
    REDIS_PID=$!
    track "$REDIS_PID"
    wait_port "$port" 10
}
set_faults() { printf '%s\n' "$@" >"$T_TMP/faults.tmp" && mv "$T_TMP/faults.tmp" "$T_TMP/faults"; }
has_flags() { curl -fsS -m 1 "http://127.0.0.1:$PH/api/features" >/dev/null 2>&1; }
start_agent
wait_for 15 grep -q '"seq":5' "$T_TMP/sub.txt" || fail first-messages "nothing arrived"

rss_max=0
rss_sample() {
    local r
    r=$(awk '/^VmRSS/ { print $2 }' "/proc/$AGENT/status" 2>/dev/null)
    [ -n "$r" ] && [ "$r" -gt "$rss_max" ] && rss_max=$r
    return 0
}
# sleep_sampling S: sleep S seconds (may be fractional), sampling RSS every second.
sleep_sampling() {
    local left
    left=$(awk -v s="$1" 'BEGIN { printf "%d", s * 10 }')
    while [ "$left" -gt 0 ]; do
        rss_sample
        if [ "$left" -ge 10 ]; then sleep 1; left=$((left - 10)); else sleep "0.$left"; left=0; fi
    done
}
declare -A count
t_end=$(($(date +%s) + DUR))
events=0
while [ "$(date +%s)" -lt "$t_end" ]; do
    sleep_sampling $((2 + RANDOM % 7))
    actions=(mqtt target queue hang agent timeout except flags)
    a=${actions[RANDOM % ${#actions[@]}]}
    t_fault=$(date +%s%3N)
    case "$a" in
    mqtt)
        stop_pid "$MOSQ_PID"
        sleep_sampling $((1 + RANDOM % 8))
        MOSQ_PERSIST=1 start_mosquitto "$PM" "max_queued_messages 0"
        ;;
    target)
        kill -9 "$TPID" 2>/dev/null
        wait "$TPID" 2>/dev/null
        sleep_sampling $((1 + RANDOM % 6))
        restart_redis "$PT"
        TPID=$REDIS_PID
        ;;
    queue)
        kill -9 "$QPID" 2>/dev/null
        wait "$QPID" 2>/dev/null
        sleep_sampling $((1 + RANDOM % 6))
        restart_redis "$PQ"
        QPID=$REDIS_PID
        ;;
    hang)
        kill -STOP "$QPID"
        sleep_sampling $((1 + RANDOM % 4))
        kill -CONT "$QPID"
        ;;
    agent)
        kill -9 "$AGENT" 2>/dev/null
        wait "$AGENT" 2>/dev/null
        sleep_sampling "0.$((RANDOM % 10))$((RANDOM % 10))"
        start_agent
        ;;
    timeout)
        set_faults "silent:$((1 + RANDOM % 3))"
        sleep_sampling $((2 + RANDOM % 5))
        set_faults
        ;;
    except)
        set_faults "exception:$((1 + RANDOM % 3)):holding:0-65535:4" \
            "exception:$((1 + RANDOM % 3)):input:0-65535:4"
        sleep_sampling $((2 + RANDOM % 5))
        set_faults
        ;;
    flags)
        if ! has_flags; then
            a=flags-skipped
        elif [ $((RANDOM % 2)) -eq 0 ]; then
            mosquitto_pub -h 127.0.0.1 -p "$PM" -q 1 -t system.feature \
                -m '{"features": {"log.level": "info", "poll.interval_ms": 200}}' 2>/dev/null
        else
            mosquitto_pub -h 127.0.0.1 -p "$PM" -q 1 -t system.feature \
                -m '{"features": {"poll.interval_ms": "fast"' 2>/dev/null
        fi
        ;;
    esac
    count[$a]=$((${count[$a]:-0} + 1))
    events=$((events + 1))
    echo "$t_fault $a" >>"$T_TMP/events" # when it began (ms), to match a gap to a fault
done

# Calm: everything up, the backlog drains, then a clean stop.
set_faults
kill -0 "$MOSQ_PID" 2>/dev/null || MOSQ_PERSIST=1 start_mosquitto "$PM" "max_queued_messages 0"
kill -0 "$AGENT" 2>/dev/null || start_agent
pending_total() {
    "$EDGEMON" queue -c "$T_TMP/c.json" 2>/dev/null | grep -o '"pending":[0-9]*' |
        cut -d: -f2 | awk '{ s += $1 } END { print s + 0 }'
}
drained() { [ "$(pending_total)" -lt 5 ]; }
wait_for 120 drained
check backlog-drained drained
# After all that, flags still work: a broken message is refused, a valid one applied.
# system.feature is not retained, so a message sent before a just-restarted agent's
# SUBACK reaches nobody: send both again each round until they took effect.
flags_work() {
    grep -q "rejected a message from uplink system.feature: 'poll.interval_ms' must be" "$T_TMP/run.err" &&
        curl -fsS -m 1 "http://127.0.0.1:$PH/api/features" | grep -q '"poll.interval_ms":250'
}
send_flags() {
    mosquitto_pub -h 127.0.0.1 -p "$PM" -q 1 -t system.feature -m '{"features": {"poll.interval_ms": 7}}'
    mosquitto_pub -h 127.0.0.1 -p "$PM" -q 1 -t system.feature \
        -m '{"features": {"log.level": "info", "poll.interval_ms": 250}}'
    wait_for 1 flags_work
}
# About 15 rounds of one second each; a restarted agent subscribes within a few.
for _ in $(seq 15); do send_flags && break; done
check flags-after-chaos flags_work
sleep 2
rss_sample
stop_pid "$AGENT"
sleep 2 # the subscriber receives what is still on its way

SEQ_FIRST=1 seq_check "$T_TMP/sub.txt" >"$T_TMP/mqtt.check"
for k in monitoring.mppt monitoring.pms monitoring.inverter; do
    redis-cli -h 127.0.0.1 -p "$PT" XRANGE "$k" - + | grep '^{'
done >"$T_TMP/stream.txt"
SEQ_FIRST=1 seq_check "$T_TMP/stream.txt" >"$T_TMP/redis.check"
grep -v '^out of order' "$T_TMP/mqtt.check" | sed 's/^/  mqtt:  /'
grep -v '^out of order' "$T_TMP/redis.check" | sed 's/^/  redis: /'
# lost: missing seqs summed over devices, from the gap lines ("has U of W").
lost_of() { awk '/^gap:/ { s += $6 - $4 } END { print s + 0 }' "$1"; }
dup_of() { grep -o 'duplicates [0-9]*' "$1" | cut -d' ' -f2; }
ooo_of() { grep -o 'out of order [0-9]*' "$1" | cut -d' ' -f4; }
readings=$(grep -c . "$T_TMP/sub.txt")
mq_lost=$(lost_of "$T_TMP/mqtt.check") rd_lost=$(lost_of "$T_TMP/redis.check")
# Out of order is no fault: during a drain the live lane lets fresh readings overtake
# the backlog (README, "Delivery"); a missing seq is.
nogap() { ! grep -q '^gap\|^start' "$1"; }
check mqtt-no-seq-missing nogap "$T_TMP/mqtt.check"
check redis-no-seq-missing nogap "$T_TMP/redis.check"
check agent-rss-bounded test "$rss_max" -le "$RSS_LIMIT"
check readings-flowed test "$readings" -ge $((DUR * 5))
summary=""
for a in "${!count[@]}"; do summary="$summary $a=${count[$a]}"; done
echo "chaos: $DUR s, $events faults ($(echo "$summary" | tr ' ' '\n' | sort | tr '\n' ' ' | sed 's/^ //;s/ $//')), $readings MQTT readings, lost $mq_lost (mqtt) $rd_lost (redis), duplicates $(dup_of "$T_TMP/mqtt.check") (mqtt) $(dup_of "$T_TMP/redis.check") (redis), overtaken by the live lane $(ooo_of "$T_TMP/mqtt.check") (mqtt) $(ooo_of "$T_TMP/redis.check") (redis), agent max RSS $rss_max kB, seed $SEED"
if [ "$T_FAILED" -ne 0 ]; then
    echo "--- agent log (last 30 lines)"
    tail -n 30 "$T_TMP/run.err"
fi
echo "$npass passed, $nfail failed"
[ "$nfail" -eq 0 ]
