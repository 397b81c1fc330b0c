#!/bin/bash
# t107-spool-torn-record.sh - power loss in the spool: a record with a flipped byte
# and a tail torn mid-record are found by their checksums when the agent starts
# again, skipped with a log line, and everything around them is delivered; the
# agent neither crashes nor stalls on them.
. "$(dirname "$0")/../lib.sh"

PS=$(free_port) PM=$(free_port)
start_sim --tcp "127.0.0.1:$PS" --device epever-tracer@1
wait_port "$PS" 10 || { fail start "simulator"; exit 1; }
B="tcp://127.0.0.1:$PS"
write_conf "$T_TMP/c.json" "[
  {\"id\": \"mppt-1\", \"driver\": \"mppt\", \"profile\": \"epever-tracer\", \"bus\": \"$B\", \"unit\": 1, \"interval_ms\": 100}]" \
    "{\"backend\": \"spool\"}" \
    "[{\"name\": \"uplink\", \"type\": \"mqtt\", \"url\": \"mqtt://127.0.0.1:$PM\"}]"
# The broker is not there yet: every reading stays in the spool.
start_agent /dev/null
wait_for 20 test -n "$(ls "$T_TMP"/state/spool/*.seg 2>/dev/null)"
sleep 3
kill -9 "$AGENT"
wait "$AGENT" 2>/dev/null
SEG=$(ls "$T_TMP"/state/spool/*.seg | head -1)
SIZE=$(stat -c %s "$SEG")
check spooled-enough test "$SIZE" -gt 4000
# A flipped byte in the middle of the segment, and the last record torn.
python3 - "$SEG" "$SIZE" <<'EOF_PY'
import sys
path, size = sys.argv[1], int(sys.argv[2])
with open(path, "r+b") as f:
    f.seek(size // 2)
    b = f.read(1)
    f.seek(size // 2)
    f.write(bytes([b[0] ^ 0x5a]))
    f.truncate(size - 10)
EOF_PY

start_mosquitto "$PM"
mosquitto_sub -h 127.0.0.1 -p "$PM" -q 1 -t 'monitoring/#' >"$T_TMP/sub.txt" 2>/dev/null &
track $!
sleep 0.3
start_agent /dev/null
wait_for 20 grep -q "spool: skipped" "$T_TMP/run.err"
check damage-logged grep -q "spool: skipped [1-9][0-9]* corrupt record(s) (bad checksum) and cut [1-9][0-9]* torn byte(s)" "$T_TMP/run.err"
# Everything before the damage, around it and after it arrives; the agent keeps going.
SPOOLED=$(( SIZE / 400 ))
wait_for 30 lines_at_least "$T_TMP/sub.txt" $((SPOOLED + 20))
check delivered-around-damage lines_at_least "$T_TMP/sub.txt" $((SPOOLED + 20))
check agent-alive kill -0 "$AGENT"
check first-seq-delivered grep -q '"seq":1,' "$T_TMP/sub.txt"
# Exactly the damaged readings are missing: the seq gap is small.
awk -F'"seq":' '{ split($2, a, ","); print a[1] }' "$T_TMP/sub.txt" | sort -n | uniq >"$T_TMP/seqs"
LAST=$(tail -1 "$T_TMP/seqs")
GOT=$(grep -c . "$T_TMP/seqs")
echo "seqs: $GOT distinct of 1..$LAST"
check at-most-two-lost test $((LAST - GOT)) -le 2
check something-lost test $((LAST - GOT)) -ge 1
grep "spool: skipped" "$T_TMP/run.err" | head -2
kill "$AGENT"
wait "$AGENT"
check clean-stop-exit-0 test $? -eq 0
check no-crash-report test -z "$(grep -i -e 'sanitizer' -e 'assert' "$T_TMP/run.err")"
