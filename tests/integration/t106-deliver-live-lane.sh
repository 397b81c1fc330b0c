#!/bin/bash
# t106-deliver-live-lane.sh - a large backlog drains in order while fresh readings
# still reach the broker within ~2 s of being polled (the live lane), none lost and
# none sent twice.
. "$(dirname "$0")/../lib.sh"
BACKLOG=${T106_BACKLOG:-150000}

PS=$(free_port) PR=$(free_port) PM=$(free_port)
start_sim --tcp "127.0.0.1:$PS" --device epever-tracer@1 --device seplos-v3@2
start_redis "$PR"
start_mosquitto "$PM" "max_queued_messages 0"
wait_port "$PS" 10 || { fail start "simulator"; exit 1; }
B="tcp://127.0.0.1:$PS"
Q="{\"backend\": \"redis\", \"url\": \"redis://127.0.0.1:$PR/0\", \"max_messages\": 10000000}"
P="[{\"name\": \"uplink\", \"type\": \"mqtt\", \"url\": \"mqtt://127.0.0.1:$PM\"}]"
write_conf "$T_TMP/c.json" "[
  {\"id\": \"mppt-1\", \"driver\": \"mppt\", \"profile\": \"epever-tracer\", \"bus\": \"$B\", \"unit\": 1, \"interval_ms\": 200},
  {\"id\": \"bms-1\", \"driver\": \"pms\", \"profile\": \"seplos-v3\", \"bus\": \"$B\", \"unit\": 2, \"interval_ms\": 200}]" "$Q" "$P"

# A day-sized backlog of another device's readings, already queued.
"$FILL" "$T_TMP/c.json" "$BACKLOG" >"$T_TMP/fill.log" 2>&1 || { fail fill "$(cat "$T_TMP/fill.log")"; exit 1; }

# %U: arrival time, to compare with each reading's ts.
mosquitto_sub -h 127.0.0.1 -p "$PM" -q 1 -t 'monitoring/#' -F '%U %p' >"$T_TMP/sub.txt" 2>/dev/null &
track $!
sleep 0.3
"$EDGEMON" run -c "$T_TMP/c.json" >/dev/null 2>"$T_TMP/run.err" &
AGENT=$!
track "$AGENT"
pending() { "$EDGEMON" queue -c "$T_TMP/c.json" | grep -o '"pending":[0-9]*' | cut -d: -f2; }
sleep 2
pending_below() { [ "$(pending)" -lt "$1" ]; }
wait_for 120 pending_below 100
sleep 2
"$EDGEMON" queue -c "$T_TMP/c.json" | grep -o '"retries":[0-9]*,"drain_rate"' | sed 's/,"drain_rate"//'
kill "$AGENT"
wait "$AGENT"

old=$(grep -c '"id":"mppt-1-old"' "$T_TMP/sub.txt")
check backlog-all-delivered test "$old" -eq "$BACKLOG"
# When did the backlog finish? The lane only matters if that took a while.
first=$(head -1 "$T_TMP/sub.txt" | cut -d' ' -f1)
done_at=$(grep '"id":"mppt-1-old"' "$T_TMP/sub.txt" | tail -1 | cut -d' ' -f1)
drain_ms=$(awk -v a="$first" -v b="$done_at" 'BEGIN { printf "%d", (b - a) * 1000 }')
echo "backlog of $BACKLOG drained in $drain_ms ms"
check drain-long-enough-to-matter test "$drain_ms" -ge 2500

# Fresh readings polled during the drain: arrival - ts within 2 s.
awk -v from="$first" -v until="$done_at" '
    /"id":"(mppt-1|bms-1)"/ {
        arr = $1 * 1000; ts = $0; sub(/.*"ts":/, "", ts); sub(/,.*/, "", ts)
        if (ts / 1000 < from + 1 || ts / 1000 > until) next
        n++; lag = arr - ts; if (lag > max) max = lag
    }
    END { printf "%d fresh readings during the drain, worst lag %d ms\n", n, max
          exit !(n >= 10 && max <= 2000) }' "$T_TMP/sub.txt" >"$T_TMP/lag.txt"
rc=$?
cat "$T_TMP/lag.txt"
check fresh-within-2s test "$rc" -eq 0

# No reading of the live devices lost, none sent twice; each lane in order.
grep -E '"id":"(mppt-1|bms-1)"' "$T_TMP/sub.txt" | cut -d' ' -f2- >"$T_TMP/live.txt"
SEQ_FIRST=1 seq_check "$T_TMP/live.txt" >"$T_TMP/check.txt"
cat "$T_TMP/check.txt"
check live-devices-no-gap sh -c "! grep -q '^gap\|^start' '$T_TMP/check.txt'"
# A fresh copy still unconfirmed when the backlog reaches its reading goes out
# twice: at most a live window's worth.
dup=$(grep -o 'duplicates [0-9]*' "$T_TMP/check.txt" | cut -d' ' -f2)
check live-devices-few-duplicates test "${dup:-99}" -le 8
grep '"id":"mppt-1-old"' "$T_TMP/sub.txt" | cut -d' ' -f2- >"$T_TMP/old.txt"
SEQ_FIRST=1 seq_check "$T_TMP/old.txt" >/dev/null
check backlog-in-order test $? -eq 0
