#!/bin/bash
# t150-http-api.sh - the local HTTP API (CONTRACT section 6): status with the routing
# map, latest, history, /metrics parsed by prometheus_client with counters moving as
# readings flow, clear 4xx for unknown paths, wrong methods, oversized requests and a
# missing or wrong token; a non-loopback listen without a token file is a config
# error; libmicrohttpd is mapped only when http.listen is set; the `site` dataset
# reaches a publisher that lists it.
. "$(dirname "$0")/../lib.sh"
PY=/usr/bin/python3

PS=$(free_port) PM=$(free_port) PH=$(free_port) PD=$(free_port)
start_sim --tcp "127.0.0.1:$PS" --device epever-tracer@1 --device seplos-v3@2
start_mosquitto "$PM"
wait_port "$PS" 10 && wait_port "$PM" 10 || { fail start "simulator or broker"; exit 1; }
B="tcp://127.0.0.1:$PS"
DEVS="[
  {\"id\": \"mppt-1\", \"driver\": \"mppt\", \"profile\": \"epever-tracer\", \"bus\": \"$B\", \"unit\": 1, \"interval_ms\": 250},
  {\"id\": \"bms-1\", \"driver\": \"pms\", \"profile\": \"seplos-v3\", \"bus\": \"$B\", \"unit\": 2, \"interval_ms\": 250}]"
# "dead" points at a port nobody listens on: down, its queue grows.
PUBS="[{\"name\": \"uplink\", \"type\": \"mqtt\", \"url\": \"mqtt://127.0.0.1:$PM\", \"datasets\": [\"pms\", \"mppt\", \"site\"]},
       {\"name\": \"dead\", \"type\": \"mqtt\", \"url\": \"mqtt://127.0.0.1:$PD\", \"datasets\": [\"pms\"]}]"

# set_http FILE JSON: the config's "http" section.
set_http() {
    "$PY" -c "import json,sys; d=json.load(open(sys.argv[1])); d['http']=json.loads(sys.argv[2]); json.dump(d, open(sys.argv[1],'w'))" "$1" "$2"
}

# ---- configuration: a non-loopback listen needs a token file
write_conf "$T_TMP/open.json" "$DEVS"
set_http "$T_TMP/open.json" "{\"listen\": \"0.0.0.0:$PH\"}"
"$EDGEMON" check -c "$T_TMP/open.json" >"$T_TMP/open.out" 2>&1
check open-listen-refused test $? -eq 1
check open-listen-names-token-file grep -q "http.token_file: required when http.listen is not a loopback" "$T_TMP/open.out"

# ---- loopback, no token
write_conf "$T_TMP/c.json" "$DEVS" "{\"backend\": \"spool\"}" "$PUBS"
set_http "$T_TMP/c.json" "{\"listen\": \"127.0.0.1:$PH\"}"
check config-valid "$EDGEMON" check -c "$T_TMP/c.json"
mosquitto_sub -h 127.0.0.1 -p "$PM" -q 1 -v -t 'monitoring/site/#' >"$T_TMP/site.txt" 2>/dev/null &
track $!
"$EDGEMON" run -c "$T_TMP/c.json" 2>"$T_TMP/run.err" &
AGENT=$!
track "$AGENT"
wait_port "$PH" 10 || { fail http-listening "$(cat "$T_TMP/run.err")"; exit 1; }
check libmicrohttpd-mapped grep -q libmicrohttpd "/proc/$AGENT/maps"

url() { echo "http://127.0.0.1:$PH$1"; }
get() { curl -s -o "$T_TMP/body" -w '%{http_code}' "$@"; }
# jq-less JSON checks: PY expression over the document `d`.
jcheck() { "$PY" -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if ($2) else 1)" "$1"; }

sleep 2.5
check status-200 test "$(get "$(url /api/status)")" = 200
cp "$T_TMP/body" "$T_TMP/status.json"
check status-agent jcheck "$T_TMP/status.json" "d['agent']=='gw-test' and d['uptime_s']>=0"
check status-devices-up jcheck "$T_TMP/status.json" \
    "[x['up'] for x in d['devices']]==[True,True] and d['devices'][0]['last_error'] is None"
check status-publishers jcheck "$T_TMP/status.json" \
    "{p['name']:p['up'] for p in d['publishers']}=={'uplink':True,'dead':False}"
check status-dead-pending jcheck "$T_TMP/status.json" "[p for p in d['publishers'] if p['name']=='dead'][0]['pending']>0"
check status-routing jcheck "$T_TMP/status.json" \
    "{r['dataset']:[(p['name'],p['state']) for p in r['publishers']] for r in d['routing']}=={'pms':[('uplink','up'),('dead','down')],'mppt':[('uplink','up')],'inverter':[],'site':[('uplink','up')]}"

check latest-200 test "$(get "$(url /api/latest)")" = 200
check latest-both-devices jcheck "$T_TMP/body" \
    "d['devices']['mppt-1']['dataset']=='mppt' and d['devices']['bms-1']['values']['soc_pct']>0"
check history-200 test "$(get "$(url /api/history)")" = 200
check history-has-points jcheck "$T_TMP/body" "len(d['points'])>=1 and len(d['points'][0])==4"
check features-200 test "$(get "$(url /api/features)")" = 200

# ---- bad input: clear 4xx, JSON, and the agent lives on
check unknown-path-404 test "$(get "$(url /api/nope)")" = 404
check unknown-path-json jcheck "$T_TMP/body" "d['status']==404"
check post-405 test "$(get -X POST --data-binary @/etc/hostname "$(url /api/status)")" = 405
check delete-405 test "$(get -X DELETE "$(url /metrics)")" = 405
long=$(head -c 20000 /dev/zero | tr '\0' a)
code=$(get "$(url "/api/status?x=$long")")
check oversized-url-4xx test "${code:0:1}" = 4
code=$(get -H "X-Big: $long" "$(url /api/status)")
check oversized-header-4xx test "${code:0:1}" = 4
check snapshot-bad-timeout-400 test "$(get "$(url '/api/snapshot?timeout_ms=abc')")" = 400
check alive-after-bad-input test "$(get "$(url /api/status)")" = 200

# ---- /metrics through prometheus_client, twice: the counters move
cat >"$T_TMP/prom.py" <<'EOF'
import sys, json
from prometheus_client.parser import text_string_to_metric_families
out = {}
for fam in text_string_to_metric_families(open(sys.argv[1]).read()):
    for s in fam.samples:
        key = s.name + "".join("|%s=%s" % kv for kv in sorted(s.labels.items()))
        out[key] = s.value
json.dump(out, sys.stdout)
EOF
get "$(url /metrics)" >/dev/null && cp "$T_TMP/body" "$T_TMP/m1.txt"
"$PY" "$T_TMP/prom.py" "$T_TMP/m1.txt" >"$T_TMP/m1.json"
check metrics-parse test $? -eq 0
sleep 2.5
get "$(url /metrics)" >/dev/null && cp "$T_TMP/body" "$T_TMP/m2.txt"
"$PY" "$T_TMP/prom.py" "$T_TMP/m2.txt" >"$T_TMP/m2.json"
mcheck() { "$PY" -c "import json,sys; a=json.load(open(sys.argv[1])); b=json.load(open(sys.argv[2])); sys.exit(0 if ($1) else 1)" "$T_TMP/m1.json" "$T_TMP/m2.json"; }
check metrics-required-names mcheck "all(any(k.startswith(n) for k in b) for n in ['edgemon_polls_total|','edgemon_device_up|','edgemon_queue_pending|','edgemon_published_total|','edgemon_dropped_total|','edgemon_publisher_up|','edgemon_poll_duration_seconds_bucket|','edgemon_queue_oldest_age_seconds|'])"
check metrics-polls-move mcheck "b['edgemon_polls_total|device=mppt-1|result=ok']>a['edgemon_polls_total|device=mppt-1|result=ok']>0"
check metrics-published-move mcheck "b['edgemon_published_total|publisher=uplink']>a['edgemon_published_total|publisher=uplink']>0"
check metrics-device-up mcheck "b['edgemon_device_up|device=bms-1']==1"
check metrics-publisher-up mcheck "b['edgemon_publisher_up|publisher=uplink']==1 and b['edgemon_publisher_up|publisher=dead']==0"
check metrics-pending-grows mcheck "b['edgemon_queue_pending|publisher=dead']>a['edgemon_queue_pending|publisher=dead']>0"
check metrics-oldest-age mcheck "b['edgemon_queue_oldest_age_seconds|publisher=dead']>=1"
check metrics-latency-histogram mcheck "b['edgemon_poll_duration_seconds_count|bus=$B']>a['edgemon_poll_duration_seconds_count|bus=$B']"
check metrics-dropped mcheck "'edgemon_dropped_total|publisher=dead|reason=dead_letter' in b"

# ---- the site dataset went to the publisher that lists it
check site-published grep -q '^monitoring/site/gw-test {"schema":"edgemon/1","dataset":"site"' "$T_TMP/site.txt"
head -1 "$T_TMP/site.txt" | cut -d' ' -f2- >"$T_TMP/site1.json"
check site-values jcheck "$T_TMP/site1.json" \
    "d['values']['devices_total']==2 and d['values']['pv_power_w']>0 and 'battery_soc_pct' in d['values'] and d['seq']>=1"
stop_pid "$AGENT"

# ---- a non-loopback listen with a token: 401 without or with a wrong one
echo "s3cret-token" >"$T_TMP/token" && chmod 600 "$T_TMP/token"
set_http "$T_TMP/c.json" "{\"listen\": \"0.0.0.0:$PH\", \"token_file\": \"$T_TMP/token\"}"
check token-config-valid "$EDGEMON" check -c "$T_TMP/c.json"
"$EDGEMON" run -c "$T_TMP/c.json" 2>"$T_TMP/run2.err" &
AGENT=$!
track "$AGENT"
wait_port "$PH" 10 || { fail http-token-listening "$(cat "$T_TMP/run2.err")"; exit 1; }
check no-token-401 test "$(get "$(url /api/status)")" = 401
check wrong-token-401 test "$(get -H 'Authorization: Bearer s3cret-tokem' "$(url /metrics)")" = 401
check right-token-200 test "$(get -H 'Authorization: Bearer s3cret-token' "$(url /api/status)")" = 200
check page-without-token-200 test "$(get --compressed "$(url /)")" = 200
stop_pid "$AGENT"

# ---- no http section: no server, and libmicrohttpd is never loaded
write_conf "$T_TMP/off.json" "$DEVS"
"$EDGEMON" run -c "$T_TMP/off.json" 2>"$T_TMP/run3.err" &
AGENT=$!
track "$AGENT"
sleep 1
check http-off-not-mapped test -z "$(grep libmicrohttpd "/proc/$AGENT/maps")"
check http-off-not-listening test "$(get "$(url /api/status)")" = 000
stop_pid "$AGENT"
exit $T_FAILED
