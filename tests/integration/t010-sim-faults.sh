#!/bin/bash
# t010-sim-faults.sh - the simulator itself: documented registers, holes, unknown units,
# every fault over TCP and RTU, --control reloads, --vary, pidfile and a clean stop.
# Copyright (c) 2026 edgemon authors. SPDX-License-Identifier: MIT
#
# Uses the simulator's own client (edgemon-sim --probe), so it tests the simulator
# without the agent: when this fails, the agent tests' failures are not the agent's.
. "$(dirname "$0")/../lib.sh"

if [ ! -x "$EDGEMON_SIM" ]; then
    fail sim-built "no executable $EDGEMON_SIM (run make)"
    exit 1
fi

probe() { "$EDGEMON_SIM" --probe "$@" 2>&1; }

# expect NAME WANT PROBE-ARGS...: PASS when the probe prints exactly WANT (the lines
# of --repeat joined by spaces).
expect() {
    local name=$1 want=$2 got
    shift 2
    got=$(probe "$@" | paste -sd ' ')
    if [ "$got" = "$want" ]; then
        pass "$name"
    else
        fail "$name" "got '$got', want '$want'"
    fi
}

# The simulator logs one "control FILE: N fault(s)" line per (re)load of FILE.
reloads() { grep -c "control $1:" "$T_TMP/sim.log"; }
reloaded_since() { [ "$(reloads "$1")" -gt "$2" ]; }
# set_control FILE TEXT: replace FILE atomically and wait until the simulator re-read it.
set_control() {
    local before
    before=$(reloads "$1")
    printf '%s\n' "$2" >"$1.tmp" && mv "$1.tmp" "$1"
    wait_for 5 reloaded_since "$1" "$before" || fail "control-reload" "$1 not re-read"
}
# clear_control FILE: a missing control file means no runtime faults.
clear_control() {
    local before
    before=$(reloads "$1")
    rm -f "$1"
    wait_for 5 reloaded_since "$1" "$before" || fail "control-reload" "$1 not re-read"
}
listening_count() { grep -c '^listening$' "$T_TMP/sim.log"; }
listening_at_least() { [ "$(listening_count)" -ge "$1" ]; }
ms_now() { echo $(($(date +%s%N) / 1000000)); }

# --- command line ---------------------------------------------------------------------
"$EDGEMON_SIM" --help >"$T_TMP/help.txt" 2>&1
check help-exit-0 test $? -eq 0
check help-lists-faults grep -q 'disconnect:N' "$T_TMP/help.txt"
"$EDGEMON_SIM" --tcp 127.0.0.1:1 --device epever-tracer --fault bogus:1 2>/dev/null
check bad-fault-exit-2 test $? -eq 2
"$EDGEMON_SIM" --tcp 127.0.0.1:1 --device no-such-model 2>/dev/null
check bad-model-exit-2 test $? -eq 2

# --- TCP: registers -------------------------------------------------------------------
P=$(free_port)
CTL=$T_TMP/tcp.ctl
start_sim --tcp "127.0.0.1:$P" --device epever-tracer@1 --device renogy-rover@2 \
    --device seplos-v3@3 --device sunspec@4 --device sunspec-battery@5 \
    --fault exception:3:discrete:0x1270-0x127F:4 --control "$CTL" --pidfile "$T_TMP/sim.pid"
if ! wait_port "$P" 10; then
    fail tcp-start "simulator did not listen on $P: $(tail -3 "$T_TMP/sim.log" 2>/dev/null)"
    exit 1
fi
wait_for 5 listening_at_least 1
check tcp-listening-printed listening_at_least 1
check tcp-pidfile test "$(cat "$T_TMP/sim.pid" 2>/dev/null)" = "$SIM_PID"
T="--tcp 127.0.0.1:$P"

# EPEver: input registers, 32-bit values low word first (CDAB), s16 temperature.
expect tcp-epever-pv "7248 1035 9481 1" $T --unit 1 --space input --addr 0x3100 --count 4
expect tcp-epever-battery-temp-s16 "65286" $T --unit 1 --space input --addr 0x3110
expect tcp-epever-charging-boost "9" $T --unit 1 --space input --addr 0x3201
expect tcp-epever-total-energy-cdab "51918 35" $T --unit 1 --space input --addr 0x3312 --count 2
expect tcp-epever-net-current-s32 "2454 0" $T --unit 1 --space input --addr 0x331B --count 2
expect tcp-epever-hole-3113 "exception 2" $T --unit 1 --space input --addr 0x3113
expect tcp-epever-hole-3009 "exception 2" $T --unit 1 --space input --addr 0x3009 --count 5
expect tcp-epever-range-into-hole "exception 2" $T --unit 1 --space input --addr 0x3111 --count 3
expect tcp-epever-holding "1 200" $T --unit 1 --space holding --addr 0x9000 --count 2
expect tcp-epever-holding-end "exception 2" $T --unit 1 --space holding --addr 0x9070 --count 2
expect tcp-epever-discrete "0 0 0 0 0 0 0 0 0 0 0 0 0" $T --unit 1 --space discrete \
    --addr 0x2000 --count 13
expect tcp-epever-no-coils "exception 2" $T --unit 1 --space coil --addr 0
# Renogy: holding only; sign-magnitude temperatures 0x1985; totals high word first.
expect tcp-renogy-live "85 266 1234 6533" $T --unit 2 --addr 0x0100 --count 4
expect tcp-renogy-state "32770" $T --unit 2 --addr 0x0120
expect tcp-renogy-total-abcd "18 54919" $T --unit 2 --addr 0x011C --count 2
expect tcp-renogy-battery "200 6168 2" $T --unit 2 --addr 0xE002 --count 3
expect tcp-renogy-no-input "exception 2" $T --unit 2 --space input --addr 0x0100
# Seplos: s16 current, cells, state bits.
expect tcp-seplos-pack "5312 64302 21450 28000" $T --unit 3 --space input --addr 0x1000 --count 4
expect tcp-seplos-cells "3320 3318 3335" $T --unit 3 --space input --addr 0x1100 --count 3
expect tcp-seplos-state-bit "1" $T --unit 3 --space discrete --addr 0x1240
# SunSpec: SunS at 40000 only, model chain 1 -> 103 -> 160 -> end, VAr not implemented.
expect tcp-sunspec-header "21365 28243 1 66" $T --unit 4 --addr 40000 --count 4
expect tcp-sunspec-103 "103 50" $T --unit 4 --addr 40070 --count 2
expect tcp-sunspec-var-sentinel "32768" $T --unit 4 --addr 40090
expect tcp-sunspec-160 "160 48" $T --unit 4 --addr 40122 --count 2
expect tcp-sunspec-end "65535 0" $T --unit 4 --addr 40172 --count 2
expect tcp-sunspec-base-0-empty "exception 2" $T --unit 4 --addr 0 --count 3
expect tcp-sunspec-base-50000-empty "exception 2" $T --unit 4 --addr 50000 --count 3
expect tcp-battery-802 "802 62" $T --unit 5 --addr 40070 --count 2
expect tcp-battery-end "65535 0" $T --unit 5 --addr 40134 --count 2
expect tcp-unknown-unit "exception 11" $T --unit 9 --addr 40000

# --- TCP: faults ----------------------------------------------------------------------
expect tcp-cli-exception "exception 4" $T --unit 3 --space discrete --addr 0x1270

set_control "$CTL" "exception:1:input:0x3100-0x3101:6"
expect tcp-ctl-exception "exception 6" $T --unit 1 --space input --addr 0x3101
expect tcp-ctl-exception-touching "exception 6" $T --unit 1 --space input --addr 0x30FF --count 2
expect tcp-ctl-exception-outside "9481 1" $T --unit 1 --space input --addr 0x3102 --count 2
expect tcp-cli-fault-stays "exception 4" $T --unit 3 --space discrete --addr 0x1270

set_control "$CTL" "exception:2:holding:0x0101"
expect tcp-ctl-exception-default-2 "exception 2" $T --unit 2 --addr 0x0100 --count 4
expect tcp-ctl-replaced "7248" $T --unit 1 --space input --addr 0x3100

set_control "$CTL" "# bad lines are skipped
bogus:1
silent:2"
check tcp-ctl-bad-line-logged grep -q "bad fault 'bogus:1'" "$T_TMP/sim.log"
expect tcp-silent "timeout" $T --unit 2 --addr 0x0100 --timeout-ms 300
expect tcp-silent-other-unit "5312" $T --unit 3 --space input --addr 0x1000

set_control "$CTL" "slow:3:500"
expect tcp-slow-times-out "timeout" $T --unit 3 --space input --addr 0x1000 --timeout-ms 200
# While unit 3's answer is held back, other units and clients are served at once.
t0=$(ms_now)
probe $T --unit 3 --space input --addr 0x1000 --timeout-ms 3000 >"$T_TMP/slow.out" &
slow_pid=$!
sleep 0.1
expect tcp-slow-others-not-blocked "7248" $T --unit 1 --space input --addr 0x3100 --timeout-ms 300
wait "$slow_pid"
t1=$(ms_now)
check tcp-slow-answers test "$(cat "$T_TMP/slow.out")" = "5312"
check tcp-slow-delay test $((t1 - t0)) -ge 500

set_control "$CTL" "drop:1:3"
expect tcp-drop-every-3rd "7248 7248 timeout 7248 7248 timeout" \
    $T --unit 1 --space input --addr 0x3100 --timeout-ms 300 --repeat 6
expect tcp-drop-other-unit "85" $T --unit 2 --addr 0x0100

set_control "$CTL" "disconnect:2"
expect tcp-disconnect-every-2nd "7248 7248 closed 7248 7248 closed 7248" \
    $T --unit 1 --space input --addr 0x3100 --repeat 7

clear_control "$CTL"
expect tcp-ctl-cleared "7248 7248 7248" $T --unit 1 --space input --addr 0x3100 --repeat 3
expect tcp-ctl-cleared-cli-stays "exception 4" $T --unit 3 --space discrete --addr 0x1270

kill -TERM "$SIM_PID"
wait "$SIM_PID"
check tcp-sigterm-exit-0 test $? -eq 0
check tcp-pidfile-removed test ! -e "$T_TMP/sim.pid"

# --- --vary ---------------------------------------------------------------------------
P=$(free_port)
start_sim --tcp "127.0.0.1:$P" --device epever-tracer@1 --vary
wait_port "$P" 10
v1=$(probe --tcp "127.0.0.1:$P" --unit 1 --space input --addr 0x3100)
sleep 2.2
v2=$(probe --tcp "127.0.0.1:$P" --unit 1 --space input --addr 0x3100)
check vary-drifts test "$v1" != "$v2"
check vary-slightly test "$v2" -ge 7188 -a "$v2" -le 7308
stop_pid "$SIM_PID"

# --- RTU over a pty pair --------------------------------------------------------------
if ! command -v socat >/dev/null; then
    fail rtu-socat "socat not installed"
    exit 1
fi
if ! pty_pair; then
    fail rtu-pty "socat pty pair did not appear"
    exit 1
fi
n=$(listening_count)
CTL=$T_TMP/rtu.ctl
start_sim --rtu "$PTY_A" --baud 19200 --parity E --device seplos-v3@1 \
    --device renogy-rover@2 --device epever-tracer@3 --control "$CTL"
if ! wait_for 5 listening_at_least $((n + 1)); then
    fail rtu-start "simulator did not open $PTY_A"
    exit 1
fi
R="--rtu $PTY_B --baud 19200 --parity E"

expect rtu-seplos "5312 64302" $R --unit 1 --space input --addr 0x1000 --count 2
expect rtu-renogy "85 266 1234 6533" $R --unit 2 --addr 0x0100 --count 4
expect rtu-epever-cdab "51918 35" $R --unit 3 --space input --addr 0x3312 --count 2
expect rtu-epever-discrete "0 0 0" $R --unit 3 --space discrete --addr 0x2000 --count 3
expect rtu-hole "exception 2" $R --unit 3 --space input --addr 0x3113
expect rtu-unknown-unit-silent "timeout" $R --unit 9 --addr 0x0100 --timeout-ms 300

set_control "$CTL" "exception:2:holding:0x0100-0x0109:4"
expect rtu-exception "exception 4" $R --unit 2 --addr 0x0109
expect rtu-exception-outside "1" $R --unit 2 --addr 0x010A

set_control "$CTL" "silent:1"
expect rtu-silent "timeout" $R --unit 1 --space input --addr 0x1000 --timeout-ms 300
expect rtu-silent-other-unit "85" $R --unit 2 --addr 0x0100

set_control "$CTL" "drop:2:2"
expect rtu-drop-every-2nd "85 timeout 85 timeout" $R --unit 2 --addr 0x0100 \
    --timeout-ms 300 --repeat 4

# Slow last: its late answers may still be on the line afterwards.
set_control "$CTL" "slow:3:400"
t0=$(ms_now)
expect rtu-slow-answers "7248" $R --unit 3 --space input --addr 0x3100 --timeout-ms 2000
t1=$(ms_now)
check rtu-slow-delay test $((t1 - t0)) -ge 400
expect rtu-slow-times-out "timeout" $R --unit 3 --space input --addr 0x3100 --timeout-ms 150

kill -INT "$SIM_PID"
wait "$SIM_PID"
check rtu-sigint-exit-0 test $? -eq 0
exit "$T_FAILED"
