#!/bin/bash
# deps.sh - install what a Debian cross build and qemu test of edgemon needs.
# Copyright (c) 2026 edgemon authors. SPDX-License-Identifier: MIT
#
# Usage: tests/cross/deps.sh arm64|mipsel
#   arm64   multiarch: the cross gcc plus the -dev packages as :arm64 (apt-get).
#   mipsel  Debian's mipsel security index does not exist, so multiarch installs of
#           mipsel -dev packages cannot be resolved; the libraries are downloaded and
#           unpacked into a private sysroot ($CROSS_SYSROOT, default
#           /var/tmp/edgemon-cross/sysroot-mipsel) and only the cross gcc is installed.
# As root the packages are installed; otherwise the commands are printed and the
# script exits 1. Nothing is done when everything is already present.
set -euo pipefail

arch=${1:-}
# The uplink libraries are loaded at run time: only their headers are built against.
LIBS="libmodbus-dev libhiredis-dev libcjson-dev libcurl4-openssl-dev zlib1g-dev librdkafka-dev
libnats-dev libmicrohttpd-dev libpaho-mqtt-dev"

have_pkg() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

# run CMD...: execute as root, else print it and remember that something is missing.
need_print=0
run() {
    if [ "$(id -u)" -eq 0 ]; then
        echo "+ $*"
        "$@"
    else
        echo "  sudo $*"
        need_print=1
    fi
}

add_arch() {
    if ! dpkg --print-foreign-architectures | grep -qx "$1"; then
        run dpkg --add-architecture "$1"
        run apt-get update -qq
    fi
}

export DEBIAN_FRONTEND=noninteractive
APT_INSTALL="apt-get install -y -qq --no-install-recommends"

case "$arch" in
arm64)
    missing=""
    for p in gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user-static make pkgconf; do
        have_pkg "$p" || missing="$missing $p"
    done
    for p in $LIBS pkgconf; do
        have_pkg "$p:arm64" || missing="$missing $p:arm64"
    done
    [ -z "$missing" ] && { echo "cross-deps arm64: all present"; exit 0; }
    [ "$(id -u)" -eq 0 ] || echo "cross-deps arm64: missing packages; run:"
    add_arch arm64
    # The :arm64 libraries are Multi-Arch: same and must match the amd64 versions;
    # apt may upgrade a few amd64 libraries (libssl3, gnutls, krb5) to keep them equal.
    # shellcheck disable=SC2086
    run $APT_INSTALL $missing
    ;;
mipsel)
    SYSROOT=${CROSS_SYSROOT:-/var/tmp/edgemon-cross/sysroot-mipsel}
    missing=""
    for p in gcc-mipsel-linux-gnu qemu-user-static make pkgconf; do
        have_pkg "$p" || missing="$missing $p"
    done
    if [ -n "$missing" ]; then
        [ "$(id -u)" -eq 0 ] || echo "cross-deps mipsel: missing packages; run:"
        run apt-get update -qq
        # shellcheck disable=SC2086
        run $APT_INSTALL $missing
    fi
    if [ -f "$SYSROOT/.complete" ]; then
        echo "cross-deps mipsel: sysroot $SYSROOT present"
    else
        # apt needs the architecture only to resolve and download mipsel packages;
        # nothing is installed for it.
        add_arch mipsel
        if [ "$need_print" -eq 1 ]; then
            echo "  then run this script again as a normal user to unpack the sysroot"
            exit 1
        fi
        dl=$(mktemp -d "${TMPDIR:-/tmp}/edgemon-sysroot.XXXXXX")
        trap 'rm -rf "$dl"' EXIT
        chmod 0755 "$dl" # apt's _apt user downloads into it
        pkgs=""
        for p in $LIBS libc6-dev; do pkgs="$pkgs $p:mipsel"; done
        # shellcheck disable=SC2086
        apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts \
            --no-breaks --no-replaces --no-enhances --no-pre-depends $pkgs |
            grep -E '^[a-z0-9].*:mipsel$' | sort -u >"$dl/list"
        echo "cross-deps mipsel: downloading $(wc -l <"$dl/list") packages"
        # shellcheck disable=SC2046
        (cd "$dl" && apt-get download -qq $(cat list))
        rm -rf "$SYSROOT"
        mkdir -p "$SYSROOT"
        for d in "$dl"/*.deb; do dpkg-deb -x "$d" "$SYSROOT"; done
        touch "$SYSROOT/.complete"
        echo "cross-deps mipsel: sysroot ready in $SYSROOT ($(du -sh "$SYSROOT" | cut -f1))"
    fi
    ;;
*)
    echo "usage: $0 arm64|mipsel" >&2
    exit 2
    ;;
esac
[ "$need_print" -eq 0 ] || exit 1
exit 0
