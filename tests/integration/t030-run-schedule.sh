#!/bin/bash
# t030-run-schedule.sh - buses are polled in parallel on fixed phases: a device that
# times out on one bus does not shift the poll times of a device on another bus;
# a dead device on a shared line is backed off; seq is continuous across a kill -9.
. "$(dirname "$0")/../lib.sh"

PA=$(free_port)
PB=$(free_port)
start_sim --tcp "127.0.0.1:$PA" --device epever-tracer@1
SIM_A=$SIM_PID
start_sim --tcp "127.0.0.1:$PB" --device renogy-rover@1 --device renogy-rover@2 --fault silent:1
wait_port "$PA" 10 && wait_port "$PB" 10 || { fail sims "simulators did not start"; exit 1; }

write_conf "$T_TMP/c.json" "[
  {\"id\": \"good\", \"driver\": \"mppt\", \"profile\": \"epever-tracer\", \"bus\": \"tcp://127.0.0.1:$PA\", \"interval_ms\": 200, \"timeout_ms\": 500},
  {\"id\": \"dead\", \"driver\": \"mppt\", \"profile\": \"renogy-rover\", \"bus\": \"tcp://127.0.0.1:$PB\", \"unit\": 1, \"interval_ms\": 200, \"timeout_ms\": 500},
  {\"id\": \"neighbour\", \"driver\": \"mppt\", \"profile\": \"renogy-rover\", \"bus\": \"tcp://127.0.0.1:$PB\", \"unit\": 2, \"interval_ms\": 200, \"timeout_ms\": 500}]"

"$EDGEMON" run -c "$T_TMP/c.json" --print >"$T_TMP/run.out" 2>"$T_TMP/run.err" &
AGENT=$!
track "$AGENT"
sleep 4
kill -9 "$AGENT"
wait "$AGENT" 2>/dev/null

# Poll start times (ts) of the healthy device on the other bus.
grep '"id":"good"' "$T_TMP/run.out" | grep -o '"ts":[0-9]*' | cut -d: -f2 >"$T_TMP/ts.txt"
n=$(wc -l <"$T_TMP/ts.txt")
check good-device-polled test "$n" -ge 15
awk 'NR > 1 { d = $1 - prev; if (d < 190 || d > 210) { print "delta " d; bad = 1 } }
     { prev = $1 } END { exit bad }' "$T_TMP/ts.txt" >"$T_TMP/deltas.txt"
check other-bus-on-schedule test ! -s "$T_TMP/deltas.txt"
[ -s "$T_TMP/deltas.txt" ] && head -5 "$T_TMP/deltas.txt"

# The dead device's bus: its neighbour still gets readings, the dead one none, and
# the failure is logged (not once per poll: repeats are suppressed).
nb=$(grep -c '"id":"neighbour"' "$T_TMP/run.out")
check neighbour-on-shared-bus-polled test "$nb" -ge 5
check dead-device-no-messages test "$(grep -c '"id":"dead"' "$T_TMP/run.out")" -eq 0
check dead-device-logged grep -q "device:mppt:dead\] poll failed" "$T_TMP/run.err"
check dead-device-log-suppressed test "$(grep -c 'dead\] poll failed' "$T_TMP/run.err")" -le 2

# seq: consecutive per device, and after kill -9 the next run continues the count.
grep '"id":"good"' "$T_TMP/run.out" | grep -o '"seq":[0-9]*' | cut -d: -f2 >"$T_TMP/seq1.txt"
check seq-consecutive awk 'NR > 1 && $1 != prev + 1 { exit 1 } { prev = $1 }' "$T_TMP/seq1.txt"
last=$(tail -1 "$T_TMP/seq1.txt")
"$EDGEMON" run -c "$T_TMP/c.json" --print >"$T_TMP/run2.out" 2>"$T_TMP/run2.err" &
AGENT=$!
track "$AGENT"
wait_for 5 grep -q '"id":"good"' "$T_TMP/run2.out"
kill "$AGENT"
wait "$AGENT"
check clean-stop-exit-0 test $? -eq 0
first=$(grep '"id":"good"' "$T_TMP/run2.out" | head -1 | grep -o '"seq":[0-9]*' | cut -d: -f2)
check seq-continues-after-kill-9 test "$first" = "$((last + 1))"
