#!/bin/bash
# t900-packaging.sh - make install layout, OpenWrt feed, systemd unit, man page.
# Copyright (c) 2026 edgemon authors. SPDX-License-Identifier: MIT
#
# Checks:
#  1. `make install DESTDIR=tmp PREFIX=/usr` installs the binary, profiles, example
#     config, /etc/edgemon/edgemon.json (0640), the man page and the systemd unit;
#     DESTDIR is not baked into installed files; a second install keeps an edited
#     config; `make uninstall` (at the end) removes the binary.
#  2. The OpenWrt feed (openwrt/tests/check-feed.sh): both package Makefiles parse
#     with make -n against the stub rules.mk/package.mk (no SDK here), conventions,
#     shipped files, init script under sh -n and its procd behaviour with stubs.
#  3. The systemd unit: required hardening keys (always; a plain parse that can fail),
#     plus `systemd-analyze verify` (clean output required; man page looked up in the
#     DESTDIR) and `systemd-analyze security --offline` exposure <= 2.5 when
#     systemd-analyze exists.
#  4. The man page names every subcommand of CONTRACT section 1 and renders without
#     warnings (when man is installed).
set -u
. "$(dirname "$0")/../lib.sh"
cd "$T_ROOT" || exit 2
unset MAKEFLAGS MAKELEVEL MFLAGS

UNIT_SRC=conf/systemd/edgemon.service
MAN_SRC=conf/edgemon.1
D=$T_TMP/root

# --- 1. make install ----------------------------------------------------------------
if make --no-print-directory install DESTDIR="$D" PREFIX=/usr >"$T_TMP/install.log" 2>&1; then
    pass "make install DESTDIR=... PREFIX=/usr"
else
    tail -n 20 "$T_TMP/install.log"
    fail "make install DESTDIR=... PREFIX=/usr"
fi
check "installed /usr/bin/edgemon (executable)" test -x "$D/usr/bin/edgemon"
check "installed profiles in /usr/share/edgemon/profiles" \
    bash -c 'ls "$1"/usr/share/edgemon/profiles/*.json >/dev/null 2>&1' _ "$D"
check "installed /usr/share/edgemon/edgemon.example.json" \
    test -f "$D/usr/share/edgemon/edgemon.example.json"
check "installed /etc/edgemon/edgemon.json" test -f "$D/etc/edgemon/edgemon.json"
mode=$(stat -c %a "$D/etc/edgemon/edgemon.json" 2>/dev/null)
if [ "$mode" = 640 ] || [ "$mode" = 600 ]; then
    pass "config not world-readable (mode $mode)"
else
    fail "config not world-readable" "mode '$mode'"
fi
# Requested Makefile lines (see openwrt/README.md): man page and systemd unit.
check "installed /usr/share/man/man1/edgemon.1" test -f "$D/usr/share/man/man1/edgemon.1"
unit=$(find "$D" -name edgemon.service -path '*/systemd/system/*' 2>/dev/null | head -n 1)
if [ -n "$unit" ]; then
    pass "installed the systemd unit (${unit#"$D"})"
else
    fail "installed the systemd unit" "no */systemd/system/edgemon.service under DESTDIR"
fi
if grep -rlF "$D" "$D" >/dev/null 2>&1; then
    fail "DESTDIR not baked into installed files" "$(grep -rlF "$D" "$D" | head -n 3)"
else
    pass "DESTDIR not baked into installed files"
fi
echo '{ "edited": true }' >"$D/etc/edgemon/edgemon.json"
make --no-print-directory install DESTDIR="$D" PREFIX=/usr >>"$T_TMP/install.log" 2>&1
check "second make install keeps an edited /etc/edgemon/edgemon.json" \
    grep -q edited "$D/etc/edgemon/edgemon.json"

# --- 2. OpenWrt feed ----------------------------------------------------------------
bash openwrt/tests/check-feed.sh >"$T_TMP/feed.log" 2>&1
feed_rc=$?
grep -E '^(PASS|FAIL|note:)' "$T_TMP/feed.log"
if [ "$feed_rc" -ne 0 ] && ! grep -q '^FAIL' "$T_TMP/feed.log"; then
    cat "$T_TMP/feed.log"
    fail "openwrt/tests/check-feed.sh" "exit $feed_rc"
fi
check "procd init script passes sh -n" sh -n openwrt/edgemon/files/edgemon.init

# --- 3. systemd unit ----------------------------------------------------------------
# Required keys, parsed from the file (runs everywhere, fails on a missing key).
missing=""
for kv in "Type=exec" "ExecStart=/usr/bin/edgemon run -c /etc/edgemon/edgemon.json" \
    "ExecStartPre=/usr/bin/edgemon check -c /etc/edgemon/edgemon.json" \
    "Restart=on-failure" "DynamicUser=yes" "SupplementaryGroups=dialout" \
    "StateDirectory=edgemon" "ProtectSystem=strict" "ProtectHome=yes" "PrivateTmp=yes" \
    "NoNewPrivileges=yes" "DevicePolicy=closed" "DeviceAllow=char-ttyUSB rw" \
    "CapabilityBoundingSet=" "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6" \
    "SystemCallFilter=@system-service" "WantedBy=multi-user.target"; do
    grep -qxF -- "$kv" "$UNIT_SRC" || missing="$missing '$kv'"
done
for sect in "[Unit]" "[Service]" "[Install]"; do
    grep -qxF "$sect" "$UNIT_SRC" || missing="$missing '$sect'"
done
# Hides /dev/ttyUSB*; runs dialout out of the user namespace.
for bad in "PrivateDevices=yes" "PrivateUsers=yes"; do
    grep -qxF "$bad" "$UNIT_SRC" && missing="$missing (forbidden '$bad')"
done
if [ -z "$missing" ]; then
    pass "systemd unit has the required keys (parsed)"
else
    fail "systemd unit has the required keys (parsed)" "missing$missing"
fi
if command -v systemd-analyze >/dev/null; then
    # verify needs ExecStart binaries that exist: point them at a built binary.
    mkdir -p "$T_TMP/unit"
    sed "s|/usr/bin/edgemon|$T_ROOT/edgemon|g" "$UNIT_SRC" >"$T_TMP/unit/edgemon.service"
    manopt=--man=no
    if command -v man >/dev/null && [ -f "$D/usr/share/man/man1/edgemon.1" ]; then
        manopt=--man=yes
    fi
    out=$(MANPATH="$D/usr/share/man" systemd-analyze verify "$manopt" \
        "$T_TMP/unit/edgemon.service" 2>&1)
    rc=$?
    if [ "$rc" -eq 0 ] && [ -z "$out" ]; then
        pass "systemd-analyze verify edgemon.service ($manopt)"
    else
        fail "systemd-analyze verify edgemon.service ($manopt)" "rc $rc: $(echo "$out" | head -n 3)"
    fi
    if systemd-analyze security --offline=true --threshold=25 \
        "$T_TMP/unit/edgemon.service" >"$T_TMP/security.txt" 2>&1; then
        pass "systemd-analyze security: $(grep -o 'exposure level.*' "$T_TMP/security.txt")"
    else
        fail "systemd-analyze security exposure <= 2.5" \
            "$(grep -o 'exposure level.*' "$T_TMP/security.txt")"
    fi
else
    echo "note: systemd-analyze not installed; only the key parse above checked the unit"
fi

# --- 4. man page --------------------------------------------------------------------
missing=""
for sub in "edgemon run" "edgemon check" "edgemon poll" "edgemon broker config" \
    "edgemon queue" "edgemon \\-\\-version"; do
    # In the SYNOPSIS as ".B <words>".
    grep -qF ".B $sub" "$MAN_SRC" || missing="$missing '$sub'"
done
if [ -z "$missing" ]; then pass "man page covers every subcommand of CONTRACT section 1"
else fail "man page covers every subcommand" "missing$missing"; fi
if command -v man >/dev/null; then
    warn=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings=all -l "$MAN_SRC" 2>&1 >/dev/null)
    if [ -z "$warn" ]; then pass "man page renders without warnings"
    else fail "man page renders without warnings" "$(echo "$warn" | head -n 2)"; fi
fi

# --- 5. install documentation -------------------------------------------------------
for h in "## Installing on OpenWrt" "## Installing on Debian"; do
    if grep -qxF "$h" README.md 2>/dev/null ||
        grep -qxF "$h" openwrt/README-install.md 2>/dev/null; then
        pass "install docs: '$h'"
    else
        fail "install docs: '$h'"
    fi
done

# --- 6. uninstall (last: the checks above use the installed man page) ---------------
make --no-print-directory uninstall DESTDIR="$D" PREFIX=/usr >>"$T_TMP/install.log" 2>&1
check "make uninstall removes /usr/bin/edgemon" test ! -e "$D/usr/bin/edgemon"
exit "$T_FAILED"
