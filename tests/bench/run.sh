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
    case "$b" in */bench_poll) continue ;; esac
    [ -x "$b" ] || continue
    echo "== $(basename "$b")"
    "$b"
done
