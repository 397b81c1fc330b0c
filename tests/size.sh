#!/bin/sh
# size.sh - stripped sizes of edgemon and edgemon-sim, default and MINIMAL=yes builds.
# Copyright (c) 2026 edgemon authors. SPDX-License-Identifier: MIT
#
# Run by `make size`. Builds what is missing: the default build at the top of the tree
# (B=build, -O2 -g: measured, not checked), the firmware build (SMALL=yes, every
# publisher, as the OpenWrt package builds it) in build-small/ and the minimal one
# (MINIMAL=yes SMALL=yes: no HTTP server, no KubeMQ/HTTP/Kafka/NATS) in build-min/, so
# the host binaries are never replaced. Copies are stripped (the files on disk keep
# their symbols) and measured. FAILs when a stripped firmware or minimal agent is
# larger than SIZE_LIMIT bytes (default 204800 = 200 KB).
#   STRIP=...   strip program (default strip; use the cross one with a cross CC)
#   SIZE=...    size program (default size)
# Command-line variables of the calling make (CC, CFLAGS, PKG_CONFIG, ...) reach the
# sub-makes through MAKEFLAGS.
set -u
cd "$(dirname "$0")/.." || exit 2

LIMIT=${SIZE_LIMIT:-204800}
STRIP=${STRIP:-strip}
SIZE=${SIZE:-size}
npass=0
nfail=0
ok() { echo "PASS size: $1"; npass=$((npass + 1)); }
ko() { echo "FAIL size: $1${2:+: $2}"; nfail=$((nfail + 1)); }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/edgemon-size.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

if ! make --no-print-directory B=build edgemon edgemon-sim >"$tmp/build.log" 2>&1; then
    tail -n 30 "$tmp/build.log"
    ko "default build" "make failed"
fi
if ! make --no-print-directory B=build-small SMALL=yes build-small/edgemon build-small/edgemon-sim \
    >"$tmp/build-small.log" 2>&1; then
    tail -n 30 "$tmp/build-small.log"
    ko "firmware build (SMALL=yes, B=build-small)" "make failed"
fi
if ! make --no-print-directory B=build-min MINIMAL=yes SMALL=yes build-min/edgemon \
    build-min/edgemon-sim >"$tmp/build-min.log" 2>&1; then
    tail -n 30 "$tmp/build-min.log"
    ko "minimal build (MINIMAL=yes SMALL=yes, B=build-min)" "make failed"
fi

# report VARIANT FILE: print one line and, for the agent, check the limit.
report() {
    variant=$1
    f=$2
    name=$(basename "$f")
    if [ ! -f "$f" ]; then
        ko "$variant $name" "$f not built"
        return
    fi
    if ! "$STRIP" -o "$tmp/$name" "$f" 2>"$tmp/strip.err"; then
        ko "$variant $name" "$STRIP failed: $(head -n 1 "$tmp/strip.err")"
        return
    fi
    bytes=$(wc -c <"$tmp/$name")
    text=$("$SIZE" "$f" 2>/dev/null | awk 'NR == 2 { print "text " $1 ", data " $2 ", bss " $3 }')
    printf '%-8s %-12s %8d bytes stripped (%d KiB)  %s\n' "$variant" "$name" "$bytes" \
        $(((bytes + 1023) / 1024)) "$text"
    if [ "$name" = edgemon ] && [ "$variant" != default ]; then
        if [ "$bytes" -le "$LIMIT" ]; then
            ok "$variant edgemon $bytes <= $LIMIT bytes"
        else
            ko "$variant edgemon $bytes <= $LIMIT bytes" "over the flash budget"
        fi
    fi
}

report default edgemon
report default edgemon-sim
report firmware build-small/edgemon
report firmware build-small/edgemon-sim
report minimal build-min/edgemon
report minimal build-min/edgemon-sim
if [ -f edgemon ]; then
    echo "NEEDED (default edgemon): $(readelf -d edgemon 2>/dev/null |
        sed -n 's/.*Shared library: \[\(.*\)\]/\1/p' | tr '\n' ' ')"
fi
echo "$npass passed, $nfail failed"
[ "$nfail" -eq 0 ]
