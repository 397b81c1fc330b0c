#!/bin/bash
# ports.sh - loopback port helpers, sourced by tests/lib.sh and tests/cross/test.sh.
# Copyright (c) 2026 edgemon authors. SPDX-License-Identifier: MIT

# port_busy PORT: something accepts on 127.0.0.1:PORT.
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# A TCP port nobody listens on now, below the kernel's ephemeral range: a port
# from that range may become the local end of an outgoing connection (a client of
# another server in the test) and then cannot be bound by the server we start.
free_port() {
    local p lo=20000 hi=32767 eph
    if read -r eph _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null &&
        [ "$eph" -gt $((lo + 1000)) ]; then
        hi=$((eph - 1))
    fi
    while :; do
        p=$((lo + (RANDOM * 32768 + RANDOM) % (hi - lo + 1)))
        port_busy "$p" || { echo "$p"; return; }
    done
}
