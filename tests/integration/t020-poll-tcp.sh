#!/bin/bash
# t020-poll-tcp.sh - `edgemon poll` of every built-in profile over Modbus/TCP returns
# exactly the simulator's values (tests/sim/expected/*.json).
. "$(dirname "$0")/../lib.sh"

P=$(free_port)
start_sim --tcp "127.0.0.1:$P" --device epever-tracer@1 --device renogy-rover@2 \
    --device seplos-v3@3 --device sunspec@4 --device sunspec-battery@5
wait_port "$P" 10 || { fail sim-start "simulator did not listen on $P"; exit 1; }

B="tcp://127.0.0.1:$P"
five_devices_conf "$T_TMP/c.json" "$B"

poll_expected "$T_TMP/c.json" poll-tcp mppt-1:epever-tracer mppt-2:renogy-rover bms-1:seplos-v3 \
    inv-1:sunspec bat-1:sunspec-battery

# The message envelope of CONTRACT section 3.
m=$T_TMP/inv-1.json
check envelope-schema test "$("$JSONCMP" --get schema "$m")" = "edgemon/1"
check envelope-agent test "$("$JSONCMP" --get agent "$m")" = "gw-test"
check envelope-site test "$("$JSONCMP" --get site "$m")" = "site-test"
check envelope-quality test "$("$JSONCMP" --get quality "$m")" = "ok"
ts=$("$JSONCMP" --get ts "$m")
now=$(($(date +%s) * 1000))
check envelope-ts-is-wall-clock-ms test "$ts" -gt $((now - 60000)) -a "$ts" -le $((now + 1000))
check envelope-boot-hex grep -Eq '"boot":"[0-9a-f]{16}"' "$m"

# The table for people: key, value, unit.
"$EDGEMON" poll -c "$T_TMP/c.json" mppt-1 >"$T_TMP/table.txt" 2>&1
check table-has-units grep -Eq '^  pv_voltage_v +[0-9.]+ +V$' "$T_TMP/table.txt"
check table-has-quality grep -q 'quality ok' "$T_TMP/table.txt"
