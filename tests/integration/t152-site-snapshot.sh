#!/bin/bash
# t152-site-snapshot.sh - the site dataset (CONTRACT section 3) and GET /api/snapshot:
# every device polled now (two devices on one bus, one on another), answered with
# the site message holding each fresh device message; when one device stops
# answering (simulator fault) the answer still comes within the deadline, partial,
# that device listed missing and the others correct; the periodic site message turns
# partial too and lists it.
. "$(dirname "$0")/../lib.sh"
PY=/usr/bin/python3

PA=$(free_port) PB=$(free_port) PH=$(free_port) PD=$(free_port)
start_sim --tcp "127.0.0.1:$PA" --device seplos-v3@1 --device epever-tracer@2
start_sim --tcp "127.0.0.1:$PB" --device sunspec@3 --control "$T_TMP/faults"
wait_port "$PA" 10 && wait_port "$PB" 10 || { fail start "simulators"; exit 1; }
write_conf "$T_TMP/c.json" "[
  {\"id\": \"bms-1\", \"driver\": \"pms\", \"profile\": \"seplos-v3\", \"bus\": \"tcp://127.0.0.1:$PA\", \"unit\": 1, \"interval_ms\": 1000},
  {\"id\": \"mppt-1\", \"driver\": \"mppt\", \"profile\": \"epever-tracer\", \"bus\": \"tcp://127.0.0.1:$PA\", \"unit\": 2, \"interval_ms\": 1000},
  {\"id\": \"inv-1\", \"driver\": \"inverter\", \"profile\": \"sunspec\", \"bus\": \"tcp://127.0.0.1:$PB\", \"unit\": 3, \"interval_ms\": 1000, \"timeout_ms\": 4000}]" \
    "{\"backend\": \"spool\"}" \
    "[{\"name\": \"cloud\", \"type\": \"mqtt\", \"url\": \"mqtt://127.0.0.1:$PD\", \"datasets\": [\"site\"]}]"
"$PY" -c "import json,sys; d=json.load(open(sys.argv[1])); d['http']={'listen':'127.0.0.1:$PH'}; json.dump(d, open(sys.argv[1],'w'))" "$T_TMP/c.json"
"$EDGEMON" run -c "$T_TMP/c.json" --print >"$T_TMP/run.out" 2>"$T_TMP/run.err" &
track $!
wait_port "$PH" 10 || { fail http-listening "$(cat "$T_TMP/run.err")"; exit 1; }
sleep 2

# snapshot TIMEOUT_MS OUT: the answer in OUT, the elapsed ms in $ELAPSED.
snapshot() {
    local t0 t1
    t0=$(date +%s%3N)
    CODE=$(curl -s -o "$2" -w '%{http_code}' --max-time 20 "http://127.0.0.1:$PH/api/snapshot?timeout_ms=$1")
    t1=$(date +%s%3N)
    ELAPSED=$((t1 - t0))
}
jcheck() { "$PY" -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if ($2) else 1)" "$1"; }
# device_msg SNAPSHOT ID OUT: that device's message inside the snapshot.
device_msg() { "$PY" -c "import json,sys; json.dump(json.load(open(sys.argv[1]))['devices'][sys.argv[2]], open(sys.argv[3],'w'))" "$@"; }

# ---- all answering
before=$(date +%s%3N)
snapshot 3000 "$T_TMP/s1.json"
check snapshot-200 test "$CODE" = 200
check snapshot-site-message jcheck "$T_TMP/s1.json" \
    "d['schema']=='edgemon/1' and d['dataset']=='site' and d['agent']=='gw-test' and d['site']=='site-test'"
check snapshot-complete jcheck "$T_TMP/s1.json" \
    "d['quality']=='ok' and d['missing']==[] and sorted(d['devices'])==['bms-1','inv-1','mppt-1'] and d['values']['devices_ok']==3 and d['values']['devices_total']==3"
check snapshot-fresh jcheck "$T_TMP/s1.json" "all(m['ts']>=$before for m in d['devices'].values())"
check snapshot-values jcheck "$T_TMP/s1.json" \
    "d['values']['battery_soc_pct']==d['devices']['bms-1']['values']['soc_pct'] and d['values']['ac_power_w']==round(d['devices']['inv-1']['values']['ac_power_w'],1) and d['values']['pv_power_w']==round(d['devices']['mppt-1']['values']['pv_power_w'],1)"
device_msg "$T_TMP/s1.json" inv-1 "$T_TMP/inv.json"
check snapshot-inverter-correct "$JSONCMP" "$EXPECTED/sunspec.json" "$T_TMP/inv.json"

# ---- the inverter stops answering: within the deadline, partial, listed missing
printf 'silent:3\n' >"$T_TMP/faults.tmp" && mv "$T_TMP/faults.tmp" "$T_TMP/faults"
wait_for 5 grep -q "control $T_TMP/faults: 1 fault" "$T_TMP/sim.log" || fail fault-loaded
sleep 1.5
snapshot 1500 "$T_TMP/s2.json"
check partial-snapshot-200 test "$CODE" = 200
# The deadline plus a generous margin for a loaded machine; never the 4 s device timeout.
check partial-within-deadline test "$ELAPSED" -lt 3500
check partial-not-early test "$ELAPSED" -ge 1400
echo "snapshot with a silent device: ${ELAPSED} ms (deadline 1500)"
check partial-quality jcheck "$T_TMP/s2.json" \
    "d['quality']=='partial' and d['missing']==['inv-1'] and sorted(d['devices'])==['bms-1','mppt-1']"
check partial-counts jcheck "$T_TMP/s2.json" \
    "d['values']['devices_ok']==2 and d['values']['devices_total']==3 and 'ac_power_w' not in d['values']"
device_msg "$T_TMP/s2.json" bms-1 "$T_TMP/bms.json"
device_msg "$T_TMP/s2.json" mppt-1 "$T_TMP/mppt.json"
check partial-others-correct "$JSONCMP" "$EXPECTED/seplos-v3.json" "$T_TMP/bms.json"
check partial-others-correct-mppt "$JSONCMP" "$EXPECTED/epever-tracer.json" "$T_TMP/mppt.json"
check bad-timeout-400 test "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PH/api/snapshot?timeout_ms=0")" = 400

# ---- the periodic site message: complete first, then partial listing the inverter
grep '"dataset":"site"' "$T_TMP/run.out" >"$T_TMP/site.txt"
check site-messages test "$(wc -l <"$T_TMP/site.txt")" -ge 3
head -1 "$T_TMP/site.txt" >"$T_TMP/site-first.json"
check site-first-ok jcheck "$T_TMP/site-first.json" "d['id']=='gw-test' and d['values']['devices_total']==3"
wait_for 15 grep -q '"dataset":"site".*"quality":"partial".*"missing":\["inv-1"\]' "$T_TMP/run.out"
check site-partial-lists-missing test $? -eq 0
grep '"dataset":"site"' "$T_TMP/run.out" | grep -o '"seq":[0-9]*' | cut -d: -f2 >"$T_TMP/site-seq.txt"
check site-seq-consecutive awk 'NR > 1 && $1 != prev + 1 { exit 1 } { prev = $1 }' "$T_TMP/site-seq.txt"
exit $T_FAILED
