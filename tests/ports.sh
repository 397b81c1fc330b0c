#!/bin/bash
# ports.sh - loopback port helpers, sourced by tests/lib.sh and tests/cross/test.sh.
# Copyright (c) 2026 edgemon authors. SPDX-License-Identifier: MIT

# port_busy PORT: something accepts on 127.0.0.1:PORT.
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# A TCP port nobody listens on now.
free_port() {
    local p
    while :; do
        p=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
        port_busy "$p" || { echo "$p"; return; }
    done
}
