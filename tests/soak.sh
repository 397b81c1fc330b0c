#!/bin/bash
# soak.sh - `make soak`: the demo site (simulated PMS, MPPT, inverter; real
# redis-server and mosquitto on loopback) polled every 100 ms for SOAK_S seconds
# (default 600), printing the agent's RSS, open fds and CPU time every sample,
# whether memory flattened, and how many writes the agent makes to its state_dir.
#   SOAK_S=N          run length in seconds (at least 30)
#   SOAK_SAMPLE_S=N   seconds between lines (default 10, less for short runs)
#   SOAK_INTERVAL_MS  poll interval of every device (default 100)
#   SOAK_STRACE_S=N   length of the write-counting window (default a third of the
#                     run, at most 120 s; 0: do not count)
#   SOAK_STRACE_OUT=F keep the raw strace output in F
#   EDGEMON=path      the agent to soak (default ./edgemon)
# How writes are counted: strace attaches to the running agent (all threads) for
# the window, tracing write/pwrite64/rename*/fsync/fdatasync/openat with -y (fd
# paths); the calls on paths under state_dir are counted and scaled to an hour.
# The window starts after 5 s of warm-up; CPU figures of samples taken while
# strace is attached are marked "strace" (tracing slows the agent), and the CPU
# share is reported for the untraced rest of the run.
# Not part of `make test`: it takes minutes and asserts nothing but its figures.
# Copyright (c) 2026 edgemon authors. SPDX-License-Identifier: MIT
cd "$(dirname "$0")/.." || exit 2
. tests/lib.sh

SOAK_S=${SOAK_S:-600}
IV=${SOAK_INTERVAL_MS:-100}
[ "$SOAK_S" -ge 30 ] 2>/dev/null || { echo "soak: SOAK_S must be >= 30"; exit 2; }
SAMPLE=${SOAK_SAMPLE_S:-$(( SOAK_S >= 120 ? 10 : SOAK_S / 12 ))}
[ "$SAMPLE" -ge 1 ] || SAMPLE=1
ST_S=${SOAK_STRACE_S:-$(( SOAK_S / 3 > 120 ? 120 : SOAK_S / 3 ))}
if [ "$ST_S" -gt 0 ] && ! command -v strace >/dev/null; then
    EXTRA_DEPS=strace sh tests/deps.sh || exit 1
fi
HZ=$(getconf CLK_TCK)

PS=$(free_port) PR=$(free_port) PM=$(free_port)
start_sim --tcp "127.0.0.1:$PS" --vary --device seplos-v3@1 --device epever-tracer@2 --device sunspec@3
start_redis "$PR" --appendonly yes
start_mosquitto "$PM"
wait_port "$PS" 10 && wait_port "$PR" 10 && wait_port "$PM" 10 ||
    { echo "soak: a service did not start; see $T_TMP"; exit 1; }
B="tcp://127.0.0.1:$PS"
write_conf "$T_TMP/edgemon.json" "[
  {\"id\": \"bms-1\", \"driver\": \"pms\", \"profile\": \"seplos-v3\", \"bus\": \"$B\", \"unit\": 1, \"interval_ms\": $IV},
  {\"id\": \"mppt-1\", \"driver\": \"mppt\", \"profile\": \"epever-tracer\", \"bus\": \"$B\", \"unit\": 2, \"interval_ms\": $IV},
  {\"id\": \"inv-1\", \"driver\": \"inverter\", \"profile\": \"sunspec\", \"bus\": \"$B\", \"unit\": 3, \"interval_ms\": $IV}]" \
    "{\"backend\": \"redis\", \"url\": \"redis://127.0.0.1:$PR/0\"}" \
    "[{\"name\": \"uplink\", \"type\": \"mqtt\", \"url\": \"mqtt://127.0.0.1:$PM\", \"qos\": 1}]"
STATE=$T_TMP/state
mosquitto_sub -h 127.0.0.1 -p "$PM" -q 1 -t 'monitoring/#' >"$T_TMP/received" 2>/dev/null &
track $!
"$EDGEMON" run -c "$T_TMP/edgemon.json" 2>"$T_TMP/agent.log" &
AGENT=$!
track "$AGENT"
trap 'echo; echo "soak: interrupted"; exit 130' INT TERM
sleep 1
kill -0 "$AGENT" 2>/dev/null || { echo "soak: the agent did not start:"; cat "$T_TMP/agent.log"; exit 1; }

echo "soak: $("$EDGEMON" --version), 3 devices every $IV ms for $SOAK_S s; sample every $SAMPLE s"
echo "soak: state_dir $STATE; writes counted for $ST_S s from t=5 s (strace)"
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$AGENT/status"; }
fds() { ls "/proc/$AGENT/fd" 2>/dev/null | wc -l; }
# utime + stime in clock ticks (fields 14 and 15; the name in field 2 has no spaces).
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$AGENT/stat"; }

ST_PID=""
t0=$(date +%s)
ST_END=$((5 + ST_S))
printf "%6s %8s %5s %9s %6s %9s\n" t_s rss_kb fds cpu_s cpu_pct received
samples=$T_TMP/samples
: >"$samples"
prev_ticks=$(cpu_ticks) prev_t=0
while :; do
    sleep "$SAMPLE"
    now=$(( $(date +%s) - t0 ))
    kill -0 "$AGENT" 2>/dev/null || { echo "soak: the agent died:"; tail -20 "$T_TMP/agent.log"; exit 1; }
    if [ "$ST_S" -gt 0 ] && [ -z "$ST_PID" ] && [ "$now" -ge 5 ] && [ "$now" -lt "$ST_END" ]; then
        strace -f -qq -y -e trace=write,pwrite64,pwritev,writev,rename,renameat,renameat2,fsync,fdatasync,openat \
            -o "$T_TMP/strace" -p "$AGENT" 2>/dev/null &
        ST_PID=$!
        ST_T0=$(date +%s.%N)
    fi
    traced=""
    case "$ST_PID" in [0-9]*) traced=strace ;; esac
    if [ -n "$traced" ] && [ "$now" -ge "$ST_END" ]; then
        kill "$ST_PID" 2>/dev/null; wait "$ST_PID" 2>/dev/null
        ST_T1=$(date +%s.%N)
        ST_PID=done
    fi
    ticks=$(cpu_ticks) rss=$(rss_kb) nfd=$(fds)
    cpu_pct=$(awk -v a="$prev_ticks" -v b="$ticks" -v dt=$((now - prev_t)) -v hz="$HZ" \
        'BEGIN { printf "%.1f", (dt > 0 ? (b - a) / hz / dt * 100 : 0) }')
    printf "%6d %8d %5d %9.2f %6s %9d %s\n" "$now" "$rss" "$nfd" \
        "$(awk -v t="$ticks" -v hz="$HZ" 'BEGIN { print t / hz }')" "$cpu_pct" \
        "$(wc -l <"$T_TMP/received")" "$traced"
    echo "$now $rss $nfd $ticks ${traced:-no}" >>"$samples"
    prev_ticks=$ticks prev_t=$now
    [ "$now" -ge "$SOAK_S" ] && break
done
if [ -n "$ST_PID" ] && [ "$ST_PID" != done ]; then
    kill "$ST_PID" 2>/dev/null; wait "$ST_PID" 2>/dev/null
    ST_T1=$(date +%s.%N)
fi

echo "soak: summary"
awk -v hz="$HZ" '
    { t[NR] = $1; rss[NR] = $2; fd[NR] = $3; tk[NR] = $4; tr[NR] = $5 }
    END {
        n = NR; k = int(n / 3); if (k < 1) k = 1
        for (i = 1; i <= k; i++) { a += rss[i]; fa += fd[i] }
        for (i = k + 1; i <= n - k; i++) { m += rss[i]; nm++ }
        mn = rss[n]
        for (i = n - k + 1; i <= n; i++) {
            b += rss[i]; fb += fd[i]
            if (rss[i] > mx) mx = rss[i]
            if (rss[i] < mn) mn = rss[i]
        }
        a /= k; b /= k; fa /= k; fb /= k; m = nm ? m / nm : b
        d = b - a
        # Tolerance: 64 kB or 1%. Growth confined to the first third is warm-up
        # (allocator arenas, client buffers reaching their working size).
        tol = a * 0.01 > 64 ? a * 0.01 : 64
        verdict = d <= tol ? "flattened" : \
            (b - m <= tol && mx - mn <= tol) ? "flattened after warm-up in the first third" : \
            "STILL GROWING"
        printf "  rss: first third %.0f kB, middle %.0f kB, last third %.0f kB (max %d kB); last vs first %+.0f kB, last vs middle %+.0f kB: %s\n", \
            a, m, b, mx, d, b - m, verdict
        printf "  fds: first third %.1f, last third %.1f: %s\n", fa, fb, fb <= fa ? "flat" : "GROWING"
        # CPU share over the untraced samples only.
        for (i = 2; i <= n; i++) if (tr[i] == "no" && tr[i - 1] == "no") { dt += t[i] - t[i - 1]; dc += tk[i] - tk[i - 1] }
        if (dt > 0) printf "  cpu: %.2f%% of one core over %d untraced s; %.2f s in total\n", dc / hz / dt * 100, dt, tk[n] / hz
        else printf "  cpu: %.2f s in total (every sample traced)\n", tk[n] / hz
    }' "$samples"
echo "  delivered: $(wc -l <"$T_TMP/received") messages at the broker"
if [ "$ST_S" -gt 0 ] && [ -s "$T_TMP/strace" ]; then
    win=$(awk -v a="$ST_T0" -v b="$ST_T1" 'BEGIN { printf "%.1f", b - a }')
    # Lines look like: PID pwrite64(7</tmp/.../state/seq/bms-1>, "...", 128, 0) = 128
    # or PID rename("/tmp/.../state/x.tmp", "/tmp/.../state/x") = 0.
    grep -F "$STATE" "$T_TMP/strace" | grep -v -e 'resumed>' -e '= -1' |
        awk -v st="$STATE/" -v win="$win" '
        {
            call = $2; sub(/\(.*/, "", call)
            path = substr($0, index($0, st) + length(st)); sub(/[">].*/, "", path)
            gsub(/[0-9a-f]{16}\.seg/, "*.seg", path)
            if (call == "openat" && $0 !~ /O_WRONLY|O_RDWR|O_CREAT/) next
            n[call " " path]++; tot++
            if (call != "openat") w++
        }
        END {
            printf "  state_dir system calls in %s s of tracing (per hour):\n", win
            for (k in n) printf "    %-40s %8d  (%d/h)\n", k, n[k], n[k] * 3600 / win
            printf "  writes to state_dir (write/pwrite/rename/fsync, not openat): %d in %s s = %d per hour\n", \
                w, win, w * 3600 / win
        }'
    grep -F "$STATE" "$T_TMP/strace" | grep -q . || echo "  writes to state_dir: none in the window"
    [ -n "${SOAK_STRACE_OUT:-}" ] && cp "$T_TMP/strace" "$SOAK_STRACE_OUT"
fi
"$EDGEMON" queue -c "$T_TMP/edgemon.json" | tr -d '\n'; echo
