#!/bin/sh
# run.sh - run every unit test binary and integration script, sum their results.
# Copyright (c) 2026 edgemon authors. SPDX-License-Identifier: MIT
#
# Each test prints "PASS name" or "FAIL name" lines. A binary or script that exits
# non-zero without reporting a failure (a crash, a sanitizer abort) counts as one
# failure. The last line is "N passed, N failed".
#   --unit-only      skip integration scripts
#   VALGRIND=1       run unit binaries under valgrind (errors fail the test)
#   ONLY=pattern     run only tests whose file name matches the shell pattern
#                    (several: separated by |)
#   VALGRIND_AGENT=1 (make valgrind-agent) integration tests run the agent and
#                    its commands under valgrind (tests/vg-edgemon); any report
#                    fails the test
#   SAN_LOGS=1       (make asan) ASan reports of every process a test starts,
#                    daemons included, go to files; any report fails the test, and
#                    undefined behaviour stops the process
set -u
cd "$(dirname "$0")/.." || exit 2
B=${B:-build}
unit_only=0
[ "${1:-}" = "--unit-only" ] && unit_only=1
pass=0
fail=0
failed_names=""
log=$(mktemp)
san=$(mktemp -d)
trap 'rm -f "$log"; rm -rf "$san"' EXIT
if [ "${SAN_LOGS:-0}" = 1 ]; then
    # A daemon's stderr goes to a file the test deletes: collect ASan's reports
    # (leaks at exit included) here. UBSan ignores log_path when linked with ASan,
    # so undefined behaviour stops the process instead, which the test then sees.
    export ASAN_OPTIONS="log_path=$san/asan${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
    export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
fi
if [ "${VALGRIND_AGENT:-0}" = 1 ]; then
    export VG_LOGS="$san" EM_REAL="${EDGEMON:-$PWD/edgemon}" EDGEMON="$PWD/tests/vg-edgemon"
fi

run_one() {
    name=$1
    shift
    # ONLY may list patterns separated by '|' (a case pattern from a variable does not).
    wanted=0 rest="${ONLY:-*}|"
    while [ -n "$rest" ]; do
        pat=${rest%%|*}
        rest=${rest#*|}
        case "$name" in $pat) wanted=1 ;; esac
    done
    [ "$wanted" = 1 ] || return
    echo "== $name"
    "$@" >"$log" 2>&1
    rc=$?
    cat "$log"
    p=$(grep -c '^PASS ' "$log")
    f=$(grep -c '^FAIL ' "$log")
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        echo "FAIL $name: exited with status $rc"
        f=1
    fi
    if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
        echo "FAIL $name: reported no result"
        f=1
    fi
    for r in "$san"/*; do
        [ -f "$r" ] || continue
        if [ ! -s "$r" ]; then
            rm -f "$r" # valgrind -q: an empty log is a clean run
            continue
        fi
        head -40 "$r"
        echo "FAIL $name: sanitizer report $(basename "$r")"
        f=$((f + 1))
        rm -f "$r"
    done
    pass=$((pass + p))
    fail=$((fail + f))
    [ "$f" -gt 0 ] && failed_names="$failed_names $name"
}

for t in "$B"/tests/test_*; do
    [ -x "$t" ] || continue
    if [ "${VALGRIND:-0}" = 1 ]; then
        run_one "$(basename "$t")" valgrind -q --error-exitcode=99 --leak-check=full \
            --errors-for-leak-kinds=definite "$t"
    else
        run_one "$(basename "$t")" "$t"
    fi
done

if [ "$unit_only" -eq 0 ]; then
    for t in tests/integration/t[0-9]*.sh; do
        [ -f "$t" ] || continue
        run_one "$(basename "$t")" bash "$t"
    done
fi

[ -n "$failed_names" ] && echo "failed:$failed_names"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
