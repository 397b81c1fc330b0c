#!/bin/bash
# test.sh - cross-build edgemon for a Debian architecture and test it under qemu-user.
# Copyright (c) 2026 edgemon authors. SPDX-License-Identifier: MIT
#
# Usage: tests/cross/test.sh arm64|mipsel      (or: make cross-test ARCH=arm64)
#
# 1. installs/checks the toolchain (tests/cross/deps.sh),
# 2. builds the agent, the simulator and every unit test into build-ARCH/ with the
#    cross compiler (make B=build-ARCH CC=... PKG_CONFIG=...),
# 3. runs every build-ARCH/tests/test_* under qemu-ARCH-static,
# 4. starts the cross-built simulator under qemu and runs one
#    `edgemon poll -c CONF mppt-1 --json` against it, also under qemu.
# Output: PASS/FAIL lines, sizes, and the closing line "N passed, N failed".
#
# Environment: CROSS_SYSROOT (mipsel sysroot, default /var/tmp/edgemon-cross/sysroot-mipsel),
# CROSS_NO_DEPS=1 (do not run deps.sh), WERROR=yes (passed to make), JOBS (make -j).
#
# What this proves and what not: the Makefile cross-compiles with only CC/PKG_CONFIG
# overrides, no host header leaks in, and the code runs on a 64-bit (arm64) and a
# 32-bit little-endian MIPS target (alignment and 32-bit long/time_t issues surface
# there). The binaries are glibc builds; OpenWrt's musl binaries come from the OpenWrt
# SDK (see openwrt/README.md).
set -uo pipefail

arch=${1:-}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT" || exit 2

case "$arch" in
arm64)
    TRIPLET=aarch64-linux-gnu
    CROSS_CC="$TRIPLET-gcc"
    CROSS_PKG_CONFIG="$TRIPLET-pkg-config"
    QEMU=qemu-aarch64-static
    # Multiarch: the arm64 libc and libraries live in /lib and /usr/lib/aarch64-linux-gnu.
    export QEMU_LD_PREFIX=/
    ELF_MACHINE=AArch64
    ;;
mipsel)
    TRIPLET=mipsel-linux-gnu
    SYSROOT=${CROSS_SYSROOT:-/var/tmp/edgemon-cross/sysroot-mipsel}
    CROSS_CC="$TRIPLET-gcc --sysroot=$SYSROOT"
    CROSS_PKG_CONFIG=pkg-config
    # pkg-config answers from the unpacked sysroot and prefixes -I/-L with it.
    export PKG_CONFIG_SYSROOT_DIR="$SYSROOT"
    export PKG_CONFIG_LIBDIR="$SYSROOT/usr/lib/$TRIPLET/pkgconfig:$SYSROOT/usr/share/pkgconfig"
    QEMU=qemu-mipsel-static
    export QEMU_LD_PREFIX="$SYSROOT"
    ELF_MACHINE=MIPS
    ;;
*)
    echo "usage: $0 arm64|mipsel" >&2
    exit 2
    ;;
esac

BDIR=build-$arch
npass=0
nfail=0
ok() { echo "PASS $arch: $1"; npass=$((npass + 1)); }
ko() { echo "FAIL $arch: $1${2:+: $2}"; nfail=$((nfail + 1)); }
finish() {
    echo "$npass passed, $nfail failed"
    [ "$nfail" -eq 0 ]
    exit
}

# Temp dir and process cleanup (processes are stopped by PID).
TMP=$(mktemp -d "${TMPDIR:-/tmp}/edgemon-cross.XXXXXX")
SIM_PID=""
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
    if [ -n "$SIM_PID" ]; then
        kill "$SIM_PID" 2>/dev/null
        for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
            kill -0 "$SIM_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$SIM_PID" 2>/dev/null
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT

t0=$(date +%s)
if [ "${CROSS_NO_DEPS:-0}" != 1 ]; then
    if ! bash tests/cross/deps.sh "$arch" >"$TMP/deps.log" 2>&1; then
        cat "$TMP/deps.log"
        ko "toolchain" "tests/cross/deps.sh $arch did not complete"
        finish
    fi
fi
t1=$(date +%s)
for tool in ${CROSS_CC%% *} "$TRIPLET-strip" "$TRIPLET-ar" "$QEMU" ${CROSS_PKG_CONFIG}; do
    command -v "$tool" >/dev/null || { ko "toolchain" "$tool not found"; finish; }
done
ok "toolchain ready ($((t1 - t0)) s)"

# Targets: both programs in $(B) (see cross.mk) and every unit test.
units=""
for s in tests/unit/test_*.c; do
    [ -f "$s" ] || continue
    units="$units $BDIR/tests/$(basename "$s" .c)"
done
mkargs=(B="$BDIR" CC="$CROSS_CC" PKG_CONFIG="$CROSS_PKG_CONFIG" AR="$TRIPLET-ar"
    STRIP="$TRIPLET-strip")
[ -n "${WERROR:-}" ] && mkargs+=(WERROR="$WERROR")
echo "== make ${mkargs[*]}"
# -k: build everything that compiles, so one broken file still lets the rest be tested.
# shellcheck disable=SC2086
make --no-print-directory -k -j"${JOBS:-$(nproc 2>/dev/null || echo 2)}" "${mkargs[@]}" \
    "$BDIR/edgemon" "$BDIR/edgemon-sim" $units >"$TMP/build.log" 2>&1
mrc=$?
t2=$(date +%s)
if [ "$mrc" -eq 0 ]; then
    ok "cross build ($((t2 - t1)) s)"
else
    tail -n 40 "$TMP/build.log"
    ko "cross build" "make exited $mrc (log above)"
fi

# The programs must be foreign ELF files for the target machine.
for prog in edgemon edgemon-sim; do
    f=$BDIR/$prog
    if [ ! -x "$f" ]; then
        ko "$prog built" "$f missing"
        continue
    fi
    m=$(readelf -h "$f" 2>/dev/null | sed -n 's/^ *Machine: *//p')
    case "$m" in
    *"$ELF_MACHINE"*) ok "$prog is a $m ELF" ;;
    *) ko "$prog is a $ELF_MACHINE ELF" "machine '$m'" ;;
    esac
    # Stripped size (information, not a check; `make size` enforces the limit).
    "$TRIPLET-strip" -o "$TMP/$prog.stripped" "$f" 2>/dev/null &&
        echo "size $arch: $prog stripped $(wc -c <"$TMP/$prog.stripped") bytes"
done

# Unit tests under qemu. Same accounting as tests/run.sh: every PASS/FAIL line counts,
# a non-zero exit without a FAIL line (crash) counts as one failure.
# Emulation is 3-10x slower: tests with wall-clock deadlines may scale them by
# EM_TEST_TIME_SCALE (set here, not by the native run).
export EM_UNDER_QEMU=1
# Tests that start a copy of themselves as a child must go through qemu too
# (no binfmt_misc here).
export EM_QEMU=$QEMU
export EM_TEST_TIME_SCALE=${EM_TEST_TIME_SCALE:-4}
for s in tests/unit/test_*.c; do
    [ -f "$s" ] || continue
    name=$(basename "$s" .c)
    t=$BDIR/tests/$name
    if [ ! -x "$t" ]; then
        ko "$name" "not built"
        continue
    fi
    echo "== $name (qemu)"
    timeout 300 "$QEMU" "$t" >"$TMP/unit.log" 2>&1
    rc=$?
    sed -e "s/^\(PASS\|FAIL\) /\1 $arch: $name: /" \
        -e "s/^\([0-9]* passed, [0-9]* failed\)$/    ($name: \1)/" "$TMP/unit.log"
    p=$(grep -c '^PASS ' "$TMP/unit.log")
    f=$(grep -c '^FAIL ' "$TMP/unit.log")
    npass=$((npass + p))
    nfail=$((nfail + f))
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        ko "$name" "exited with status $rc"
    elif [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
        ko "$name" "reported no result"
    fi
done
t3=$(date +%s)
echo "time $arch: unit tests under qemu $((t3 - t2)) s"

# One poll of the cross-built simulator by the cross-built agent, both under qemu.
. "$ROOT/tests/ports.sh"
if [ -x "$BDIR/edgemon" ] && [ -x "$BDIR/edgemon-sim" ]; then
    port=$(free_port)
    mkdir -p "$TMP/state"
    cat >"$TMP/edgemon.json" <<EOF
{
  "agent": { "id": "cross-$arch", "site": "ci", "state_dir": "$TMP/state" },
  "devices": [
    { "id": "mppt-1", "driver": "mppt", "profile": "epever-tracer",
      "bus": "tcp://127.0.0.1:$port", "unit": 1, "timeout_ms": 3000 }
  ],
  "queue": { "backend": "spool" }
}
EOF
    "$QEMU" "$BDIR/edgemon-sim" --tcp "127.0.0.1:$port" --device epever-tracer@1 \
        >"$TMP/sim.log" 2>&1 &
    SIM_PID=$!
    up=0
    for _ in $(seq 200); do
        port_busy "$port" && { up=1; break; }
        kill -0 "$SIM_PID" 2>/dev/null || break
        sleep 0.05
    done
    if [ "$up" -eq 1 ]; then
        ok "edgemon-sim listens on 127.0.0.1:$port"
        timeout 60 "$QEMU" "$BDIR/edgemon" poll -c "$TMP/edgemon.json" mppt-1 --json \
            >"$TMP/poll.out" 2>"$TMP/poll.err"
        rc=$?
        # The host-built jsoncmp checks the values against the simulator's own.
        # (A host build: without the cross pkg-config settings and make flags.)
        if [ "$rc" -eq 0 ] && env -u PKG_CONFIG_SYSROOT_DIR -u PKG_CONFIG_LIBDIR MAKEFLAGS= \
            MAKELEVEL= make --no-print-directory build/tools/jsoncmp >/dev/null 2>&1 &&
            build/tools/jsoncmp tests/sim/expected/epever-tracer.json "$TMP/poll.out"; then
            ok "edgemon poll --json under qemu: the simulator's epever-tracer values"
        else
            echo "--- poll stdout"; head -c 2000 "$TMP/poll.out"; echo
            echo "--- poll stderr"; head -c 2000 "$TMP/poll.err"; echo
            ko "edgemon poll --json under qemu" "exit $rc or not a CONTRACT §3 message"
        fi
    else
        echo "--- sim log"; head -c 2000 "$TMP/sim.log"; echo
        ko "edgemon-sim listens on 127.0.0.1:$port"
    fi
else
    ko "edgemon poll --json under qemu" "programs not built"
fi
t4=$(date +%s)
echo "time $arch: total $((t4 - t0)) s (deps $((t1 - t0)) s, build $((t2 - t1)) s," \
    "qemu $((t4 - t2)) s)"
finish
