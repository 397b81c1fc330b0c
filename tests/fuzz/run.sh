#!/bin/sh
# run.sh - run every libFuzzer harness in build-fuzz/ for FUZZ_S seconds each.
# Copyright (c) 2026 edgemon authors. SPDX-License-Identifier: MIT
#
# The seeds in tests/fuzz/corpus_<name>/ are read, never written: new inputs go to
# build-fuzz/corpus_<name>/, crashes to build-fuzz/artifacts/. Each harness runs
# in a scratch directory (inputs may name files). Prints one line per harness
# (executions, corpus size, result) and exits 1 when any harness found a crash.
#   FUZZ_S=N      seconds per harness (default 60)
#   FUZZ_ONLY=pat run only the harnesses whose name matches the shell pattern
set -u
cd "$(dirname "$0")/../.." || exit 2
ROOT=$(pwd)
FZ=$ROOT/build-fuzz
S=${FUZZ_S:-60}
mkdir -p "$FZ/artifacts"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
rc=0
summary=""
for bin in "$FZ"/fuzz_*; do
    [ -x "$bin" ] || continue
    name=$(basename "$bin")
    case "$name" in ${FUZZ_ONLY:-*}) ;; *) continue ;; esac
    short=${name#fuzz_}
    seeds=$ROOT/tests/fuzz/corpus_$short
    work=$FZ/corpus_$short
    mkdir -p "$work"
    [ -d "$seeds" ] || seeds=""
    log=$FZ/$name.log
    echo "fuzz: $name for $S s (seeds ${seeds:-none})"
    # -detect_leaks stays on (the default under ASan): a leak is a finding too.
    (cd "$scratch" && "$bin" -max_total_time="$S" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$FZ/artifacts/$name-" \
        "$work" ${seeds:+"$seeds"}) >"$log" 2>&1
    r=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
    units=$(ls "$work" | wc -l)
    if [ "$r" -ne 0 ]; then
        res="FOUND (exit $r): see $log and $FZ/artifacts/"
        grep -m3 -e 'ERROR:' -e 'SUMMARY:' -e 'runtime error' "$log"
        rc=1
    else
        res=ok
    fi
    summary="$summary
  $(printf '%-16s %10s execs  %-9s %6s corpus  %s' "$name" "${execs:-?}" "${cov:-cov: ?}" "$units" "$res")"
done
echo "fuzz: summary ($S s each)$summary"
exit $rc
