#!/bin/sh
# hiredis1.sh - build and run the Redis code's unit tests against hiredis 1.x.
# Copyright (c) 2026 edgemon authors. SPDX-License-Identifier: MIT
#
# Debian bookworm ships hiredis 0.14.1, OpenWrt ships 1.x; the queue (agent/queue/
# rqueue*) and the Redis publisher use only the API the two share. This proves it:
# Debian's own hiredis 1.2.0 source (the trixie package's orig tarball, checked
# against the SHA-256 of Debian's Sources index) is built as a static library into
# $HIREDIS1_DIR (default /var/tmp/edgemon-hiredis1), then the agent's library and
# the Redis unit tests are built against it in build-hiredis1/ and run. Run by
# `make hiredis1-test` and by .ci/run. Ends with "N passed, N failed".
set -u
cd "$(dirname "$0")/.." || exit 2
VER=1.2.0
SHA=82ad632d31ee05da13b537c124f819eb88e18851d9cb0c30ae0552084811588c
URL=${HIREDIS1_URL:-http://deb.debian.org/debian/pool/main/h/hiredis/hiredis_$VER.orig.tar.gz}
DIR=${HIREDIS1_DIR:-/var/tmp/edgemon-hiredis1}
PREFIX=$DIR/prefix
B=build-hiredis1
npass=0
nfail=0
ok() { echo "PASS hiredis1: $1"; npass=$((npass + 1)); }
ko() { echo "FAIL hiredis1: $1${2:+: $2}"; nfail=$((nfail + 1)); }
finish() { echo "$npass passed, $nfail failed"; [ "$nfail" -eq 0 ]; exit $?; }

if [ ! -f "$PREFIX/lib/libhiredis.a" ]; then
    mkdir -p "$DIR"
    tarball=$DIR/hiredis_$VER.orig.tar.gz
    if [ ! -f "$tarball" ] && ! curl -fsS -m 120 -o "$tarball.part" "$URL"; then
        ko "download $URL"
        finish
    fi
    [ -f "$tarball.part" ] && mv "$tarball.part" "$tarball"
    if [ "$(sha256sum "$tarball" | cut -d' ' -f1)" != "$SHA" ]; then
        rm -f "$tarball"
        ko "checksum of hiredis_$VER.orig.tar.gz"
        finish
    fi
    rm -rf "$DIR/src" && mkdir -p "$DIR/src"
    tar -xzf "$tarball" -C "$DIR/src" --strip-components=1 || { ko "unpack"; finish; }
    # Static only: the tests must not pick up the system's 0.14 shared library.
    # LIBRARY_PATH is hiredis's install subdirectory, and also a compiler variable
    # some machines set: name it.
    hm="PREFIX=$PREFIX LIBRARY_PATH=lib USE_SSL=0"
    # shellcheck disable=SC2086
    if ! make -C "$DIR/src" -j2 $hm static >"$DIR/build.log" 2>&1 ||
        ! make -C "$DIR/src" $hm install >>"$DIR/build.log" 2>&1 ||
        [ ! -f "$PREFIX/lib/libhiredis.a" ]; then
        tail -n 20 "$DIR/build.log"
        ko "build hiredis $VER"
        finish
    fi
    rm -f "$PREFIX"/lib/libhiredis.so*
fi
ok "hiredis $VER built in $PREFIX"

export PKG_CONFIG_PATH=$PREFIX/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
have=$(pkg-config --modversion hiredis 2>/dev/null)
if [ "$have" = "$VER" ]; then ok "pkg-config finds hiredis $have"; else ko "pkg-config hiredis" "got '$have'"; finish; fi

# The headers the build resolves with the Makefile's own pkg-config set must be 1.x.
# shellcheck disable=SC2046
if printf '#include <hiredis/hiredis.h>\n_Static_assert(HIREDIS_MAJOR == 1, "0.x headers");\n' |
    ${CC:-cc} $(pkg-config --cflags libmodbus hiredis libcjson) -fsyntax-only -x c - 2>/dev/null; then
    ok "<hiredis/hiredis.h> resolves to the 1.x headers"
else
    ko "<hiredis/hiredis.h> resolves to the 1.x headers"
    finish
fi

units="$B/tests/test_rqueue $B/tests/test_pub_redis"
if ! make --no-print-directory -j2 B="$B" WERROR="${WERROR:-}" $units >"$DIR/edgemon-build.log" 2>&1; then
    tail -n 30 "$DIR/edgemon-build.log"
    ko "edgemon's Redis code builds against hiredis $VER"
    finish
fi
ok "edgemon's Redis code builds against hiredis $VER"
for t in $units; do
    # The version the binary really carries, not the one we hope for.
    if readelf -d "$t" | grep -q 'libhiredis'; then
        ko "$(basename "$t") is statically linked to hiredis $VER" "links a shared libhiredis"
        continue
    fi
    echo "== $(basename "$t") (hiredis $VER)"
    out=$("$t" 2>&1)
    rc=$?
    echo "$out" | grep -E '^(PASS|FAIL)' | sed 's/^/  /'
    p=$(echo "$out" | grep -c '^PASS')
    f=$(echo "$out" | grep -c '^FAIL')
    if [ "$rc" -eq 0 ] && [ "$f" -eq 0 ] && [ "$p" -gt 0 ]; then
        ok "$(basename "$t"): $p checks"
    else
        ko "$(basename "$t")" "$f failed, exit $rc"
    fi
done
finish
