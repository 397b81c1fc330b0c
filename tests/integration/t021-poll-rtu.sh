#!/bin/bash
# t021-poll-rtu.sh - the same devices on one RS-485 line (a socat pty pair):
# `edgemon poll` over RTU returns the simulator's values for every profile.
. "$(dirname "$0")/../lib.sh"

pty_pair || { fail pty-pair "socat did not create the pty pair"; exit 1; }
start_sim --rtu "$PTY_A" --baud 19200 --device epever-tracer@1 --device renogy-rover@2 \
    --device seplos-v3@3 --device sunspec@4 --device sunspec-battery@5
wait_for 5 grep -q listening "$T_TMP/sim.log" || { fail sim-start "$(cat "$T_TMP/sim.log")"; exit 1; }

B="rtu:$PTY_B?baud=19200&parity=N&data=8&stop=1"
five_devices_conf "$T_TMP/c.json" "$B"

poll_expected "$T_TMP/c.json" poll-rtu mppt-1:epever-tracer mppt-2:renogy-rover bms-1:seplos-v3 \
    inv-1:sunspec bat-1:sunspec-battery

# A unit nobody answers on the line: a clean one-line failure, no hang.
write_conf "$T_TMP/c2.json" "[{\"id\": \"ghost\", \"driver\": \"mppt\", \"profile\": \"epever-tracer\",
  \"bus\": \"$B\", \"unit\": 9, \"timeout_ms\": 300}]"
start=$(date +%s%N)
"$EDGEMON" poll -c "$T_TMP/c2.json" ghost >"$T_TMP/ghost.out" 2>&1
rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
check rtu-silent-unit-exit-1 test "$rc" -eq 1
check rtu-silent-unit-one-line test "$(wc -l <"$T_TMP/ghost.out")" -eq 1
check rtu-silent-unit-says-timeout grep -q "timed out" "$T_TMP/ghost.out"
check rtu-silent-unit-bounded test "$ms" -lt 3000
