#!/bin/bash
# t022-poll-faults.sh - device faults: exceptions on a range give `partial` with the
# rest correct, silent and refused devices fail in one line, SunSpec discovery falls
# back across base addresses and reads the float models.
. "$(dirname "$0")/../lib.sh"

poll_json() { "$EDGEMON" poll -c "$1" "$2" --json >"$T_TMP/out.json" 2>"$T_TMP/err.txt"; }
get() { "$JSONCMP" --get "$1" "$T_TMP/out.json"; }

# 1. EPEver answering "illegal data address" for battery voltage (0x3104) and for
# the whole statistics block: the merged requests are split, the bad points
# found, and the rest still published as partial.
P=$(free_port)
start_sim --tcp "127.0.0.1:$P" --device epever-tracer@1 \
    --fault exception:1:input:0x3104-0x3104 --fault exception:1:input:0x3300-0x331E
wait_port "$P" 10
write_conf "$T_TMP/a.json" "[{\"id\": \"m\", \"driver\": \"mppt\", \"profile\": \"epever-tracer\",
  \"bus\": \"tcp://127.0.0.1:$P\"}]"
if poll_json "$T_TMP/a.json" m; then
    check partial-quality test "$(get quality)" = partial
    check partial-bad-point-absent sh -c "! '$JSONCMP' --get battery_voltage_v '$T_TMP/out.json'"
    check partial-bad-block-absent sh -c "! '$JSONCMP' --get energy_total_kwh '$T_TMP/out.json'"
    check partial-rest-correct "$JSONCMP" --ignore battery_voltage_v,energy_today_kwh,energy_total_kwh,battery_current_a \
        "$EXPECTED/epever-tracer.json" "$T_TMP/out.json"
else
    fail partial-poll "$(cat "$T_TMP/err.txt")"
fi
stop_pid "$SIM_PID"

# 2. Every register refused: the device is an error, not an empty reading.
P=$(free_port)
start_sim --tcp "127.0.0.1:$P" --device epever-tracer@1 --fault exception:1:input:0x0000-0xFFFF
wait_port "$P" 10
write_conf "$T_TMP/b.json" "[{\"id\": \"m\", \"driver\": \"mppt\", \"profile\": \"epever-tracer\",
  \"bus\": \"tcp://127.0.0.1:$P\"}]"
poll_json "$T_TMP/b.json" m
check all-exceptions-exit-1 test $? -eq 1
check all-exceptions-reason grep -q "exception" "$T_TMP/err.txt"
stop_pid "$SIM_PID"

# 3. A silent unit over TCP times out within its timeout_ms; a slow one inside
# its timeout is fine.
P=$(free_port)
start_sim --tcp "127.0.0.1:$P" --device seplos-v3@1 --device seplos-v3@2 --fault silent:1 \
    --fault slow:2:150
wait_port "$P" 10
write_conf "$T_TMP/c.json" "[
  {\"id\": \"dead\", \"driver\": \"pms\", \"profile\": \"seplos-v3\", \"bus\": \"tcp://127.0.0.1:$P\", \"unit\": 1, \"timeout_ms\": 300},
  {\"id\": \"slow\", \"driver\": \"pms\", \"profile\": \"seplos-v3\", \"bus\": \"tcp://127.0.0.1:$P\", \"unit\": 2, \"timeout_ms\": 1000}]"
start=$(date +%s%N)
poll_json "$T_TMP/c.json" dead
rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
check silent-exit-1 test "$rc" -eq 1
check silent-one-line test "$(wc -l <"$T_TMP/err.txt")" -eq 1
check silent-names-device grep -q "device 'dead'" "$T_TMP/err.txt"
check silent-within-timeout test "$ms" -lt 2000
if poll_json "$T_TMP/c.json" slow; then
    check slow-within-timeout "$JSONCMP" "$EXPECTED/seplos-v3.json" "$T_TMP/out.json"
else
    fail slow-within-timeout "$(cat "$T_TMP/err.txt")"
fi
stop_pid "$SIM_PID"

# 4. Nothing listening; and a device id the config does not have.
P=$(free_port)
write_conf "$T_TMP/d.json" "[{\"id\": \"m\", \"driver\": \"mppt\", \"profile\": \"renogy-rover\",
  \"bus\": \"tcp://127.0.0.1:$P\"}]"
poll_json "$T_TMP/d.json" m
check refused-exit-1 test $? -eq 1
check refused-reason grep -q "cannot connect" "$T_TMP/err.txt"
poll_json "$T_TMP/d.json" nosuch
check unknown-device-exit-1 test $? -eq 1
check unknown-device-reason grep -q "no device 'nosuch'" "$T_TMP/err.txt"

# 5. SunSpec discovery: "SunS" at 0 and at 50000 (40000 answers an exception),
# and the float model 113 decodes to the same engineering values.
for base in 0 50000; do
    P=$(free_port)
    start_sim --tcp "127.0.0.1:$P" --device sunspec@1 --sunspec-base "$base"
    wait_port "$P" 10
    write_conf "$T_TMP/s.json" "[{\"id\": \"inv\", \"driver\": \"inverter\", \"profile\": \"sunspec\",
      \"bus\": \"tcp://127.0.0.1:$P\"}]"
    if poll_json "$T_TMP/s.json" inv; then
        check "sunspec-base-$base" "$JSONCMP" "$EXPECTED/sunspec.json" "$T_TMP/out.json"
    else
        fail "sunspec-base-$base" "$(cat "$T_TMP/err.txt")"
    fi
    stop_pid "$SIM_PID"
done
P=$(free_port)
start_sim --tcp "127.0.0.1:$P" --device sunspec@1 --sunspec-inverter-model 113
wait_port "$P" 10
write_conf "$T_TMP/f.json" "[{\"id\": \"inv\", \"driver\": \"inverter\", \"profile\": \"sunspec\",
  \"bus\": \"tcp://127.0.0.1:$P\"}]"
if poll_json "$T_TMP/f.json" inv; then
    check sunspec-float-113-ac-power test "$(get ac_power_w)" = \
        "$(grep -o '"ac_power_w": *[0-9.]*' "$EXPECTED/sunspec.json" | grep -o '[0-9.]*$')"
    check sunspec-float-113-state test "$(get state)" = mppt
else
    fail sunspec-float-113 "$(cat "$T_TMP/err.txt")"
fi
stop_pid "$SIM_PID"

# 6. A device without SunSpec at all: discovery fails with a clear reason.
P=$(free_port)
start_sim --tcp "127.0.0.1:$P" --device seplos-v3@1
wait_port "$P" 10
write_conf "$T_TMP/n.json" "[{\"id\": \"inv\", \"driver\": \"inverter\", \"profile\": \"sunspec\",
  \"bus\": \"tcp://127.0.0.1:$P\"}]"
poll_json "$T_TMP/n.json" inv
check no-sunspec-exit-1 test $? -eq 1
if grep -q "SunSpec" "$T_TMP/err.txt"; then pass no-sunspec-reason; else
    fail no-sunspec-reason "$(head -c 300 "$T_TMP/err.txt")"; fi
