#!/bin/bash
# t122-http-publisher.sh - the http publisher against tests/fakes/http_sink.py, with
# the simulator and the spool queue. batch 1: every message is POSTed as it is to
# /ingest/{dataset} with Content-Type application/json and the bearer token; two
# 500s are retried (the same message comes again and is then confirmed); a 429
# with Retry-After: 2 holds the next attempt back at least 2 s; a 400 for one
# chosen message dead-letters it and nothing else. Then gzip with batch 5 over a
# backlog: gzip-encoded JSON arrays of up to 5 messages of one dataset, which
# decode to the same messages; every seq arrives.
. "$(dirname "$0")/../lib.sh"
CHECK=$T_ROOT/tests/fakes/check.py

PS=$(free_port) PH=$(free_port)
start_sim --tcp "127.0.0.1:$PS" --device epever-tracer@1 --device seplos-v3@2
python3 "$T_ROOT/tests/fakes/http_sink.py" "$PH" 2>"$T_TMP/sink.err" &
track $!
wait_port "$PS" 10 || { fail start "simulator"; exit 1; }
wait_port "$PH" 10 || { fail start "http sink"; exit 1; }
H="http://127.0.0.1:$PH"
B="tcp://127.0.0.1:$PS"
printf 'sink-token\n' >"$T_TMP/token" && chmod 600 "$T_TMP/token"
DEVS="[
  {\"id\": \"mppt-1\", \"driver\": \"mppt\", \"profile\": \"epever-tracer\", \"bus\": \"$B\", \"unit\": 1, \"interval_ms\": 200},
  {\"id\": \"bms-1\", \"driver\": \"pms\", \"profile\": \"seplos-v3\", \"bus\": \"$B\", \"unit\": 2, \"interval_ms\": 200}]"
write_conf "$T_TMP/c.json" "$DEVS" "{\"backend\": \"spool\"}" \
    "[{\"name\": \"web\", \"type\": \"http\", \"url\": \"$H/ingest/{dataset}?agent={agent}\",
       \"token_file\": \"$T_TMP/token\", \"timeout_ms\": 2000}]"
check config-valid "$EDGEMON" check -c "$T_TMP/c.json"

delivered() { python3 "$CHECK" sink-bodies "$H" | grep -c .; }
delivered_at_least() { [ "$(delivered)" -ge "$1" ]; }
script() { python3 "$CHECK" post "$H/_sink/script" "$1" >/dev/null; }
queue_field() { "$EDGEMON" queue -c "$1" | grep -o "\"$2\":[0-9]*" | head -1 | cut -d: -f2; }
caught_up() { [ "$(queue_field "$1" pending)" -lt 10 ] 2>/dev/null; }
max_seq() {
    python3 "$CHECK" sink-bodies "$H" | grep '"id":"mppt-1"' | grep -o '"seq":[0-9]*' |
        cut -d: -f2 | sort -n | tail -1
}
# A python check over the sink's log (the posts as a list in `posts`).
sink_py() {
    python3 - "$H" "$@" <<'EOF_PY'
import json, sys, urllib.request
posts = json.load(urllib.request.urlopen(sys.argv[1] + "/_sink/log"))["posts"]
exec(sys.argv[2])
EOF_PY
}

"$EDGEMON" run -c "$T_TMP/c.json" >/dev/null 2>"$T_TMP/run.err" &
AGENT=$!
track "$AGENT"
wait_for 10 delivered_at_least 10
check messages-arrive delivered_at_least 10
check paths-per-dataset sink_py '
paths = {p["path"] for p in posts}
ok = paths == {"/ingest/mppt?agent=gw-test", "/ingest/pms?agent=gw-test"}
ok = ok and all(json.loads(p["body"])["dataset"] in p["path"] for p in posts)
sys.exit(0 if ok else 1)'
check one-message-per-post sink_py '
sys.exit(0 if all(isinstance(json.loads(p["body"]), dict) and not p["gzip"] for p in posts) else 1)'
check content-type-json sink_py '
sys.exit(0 if all(p["headers"].get("Content-Type") == "application/json" for p in posts) else 1)'
check bearer-token sink_py '
sys.exit(0 if all(p["headers"].get("Authorization") == "Bearer sink-token" for p in posts) else 1)'

# Two 500s: the message of the first comes again and is confirmed.
script '{"replies": [{"status": 500}, {"status": 500}]}'
sleep 3
check 500-retried sink_py '
bad = [p["body"] for p in posts if p["status"] == 500]
good = {p["body"] for p in posts if p["status"] == 200}
sys.exit(0 if len(bad) == 2 and all(b in good for b in bad) else 1)'
check 500-logged grep -q "\[pub:http:web\] server answered HTTP 500; retrying in" "$T_TMP/run.err"

# 429 with Retry-After: 2: the refused message comes again 2 s later at the
# earliest, and nothing else is attempted meanwhile (but what was already in
# flight beside it: both devices are polled at the same instant).
script '{"replies": [{"status": 429, "retry_after": 2}]}'
sleep 5
GAP='
r = [p for p in posts if p["status"] == 429][0]
again = [p["t"] - r["t"] for p in posts if p["t"] > r["t"] and p["body"] == r["body"]]
between = [p["t"] - r["t"] for p in posts if 0.3 < p["t"] - r["t"] < 1.95]
print("429: the message came again after %.2f s; %d other attempts in between" %
      (again[0] if again else -1, len(between)))
ok = again and again[0] >= 1.95 and not between'
sink_py "$GAP" | tee "$T_TMP/gap.txt"
check 429-retry-after-honoured sink_py "$GAP
sys.exit(0 if ok else 1)"
check 429-logged grep -q "\[pub:http:web\] server answered HTTP 429; retrying in 2000 ms" "$T_TMP/run.err"

# 400 for one chosen message: dead-lettered, the rest goes on.
target=$(($(max_seq) + 6))
script "{\"match\": \"\\\"id\\\":\\\"mppt-1\\\",\\\"agent\\\":\\\"gw-test\\\",\\\"site\\\":\\\"site-test\\\",\\\"seq\\\":$target,\", \"status\": 400}"
past_target() { [ "$(max_seq)" -ge $((target + 3)) ]; }
wait_for 20 past_target
script '{"match": null}'
sleep 1.5
check 400-dead-lettered test "$(queue_field "$T_TMP/c.json" dead_letter)" -eq 1
check 400-logged grep -q "\[pub:http:web\] refused with HTTP 400, dead-lettered" "$T_TMP/run.err"
check 400-sent-once sink_py "
sys.exit(0 if sum(p['status'] == 400 for p in posts) == 1 else 1)"
wait_for 20 caught_up "$T_TMP/c.json"
kill "$AGENT"
wait "$AGENT"
check clean-stop-exit-0 test $? -eq 0
python3 "$CHECK" sink-bodies "$H" | python3 "$CHECK" gaps 1 "mppt-1:$target" >"$T_TMP/gaps.txt"
check every-seq-once test $? -eq 0
cat "$T_TMP/gaps.txt"

# ---- gzip, batch 5, over a backlog (the sink answers 503 for a while) ----
python3 "$CHECK" post "$H/_sink/clear" '{}' >/dev/null
sed -e "s|$T_TMP/state|$T_TMP/state2|" \
    -e "s|\"token_file\": \"$T_TMP/token\",|\"gzip\": true, \"batch\": 5,|" \
    "$T_TMP/c.json" >"$T_TMP/gz.json"
check gzip-config-valid "$EDGEMON" check -c "$T_TMP/gz.json"
script '{"replies": [{"status": 503}, {"status": 503}, {"status": 503}, {"status": 503}, {"status": 503}]}'
"$EDGEMON" run -c "$T_TMP/gz.json" >/dev/null 2>"$T_TMP/run2.err" &
AGENT=$!
track "$AGENT"
sleep 8
wait_for 20 caught_up "$T_TMP/gz.json"
kill "$AGENT"
wait "$AGENT"
check gzip-clean-stop test $? -eq 0
check gzip-encoded sink_py '
sys.exit(0 if posts and all(p["gzip"] and p["headers"].get("Content-Encoding") == "gzip" for p in posts) else 1)'
check gzip-arrays-of-one-dataset sink_py '
ok = True
for p in posts:
    v = json.loads(p["body"])
    ok = ok and isinstance(v, list) and 1 <= len(v) <= 5
    ok = ok and all(m["dataset"] in p["path"] for m in v)
sys.exit(0 if ok else 1)'
sink_py '
n = [len(json.loads(p["body"])) for p in posts]
print("%d posts, array sizes %s" % (len(n), sorted(set(n))))
print("bytes on the wire %d for %d of JSON" % (sum(p["raw_len"] for p in posts), sum(len(p["body"]) for p in posts)))'
check batches-of-5 sink_py '
sys.exit(0 if any(len(json.loads(p["body"])) == 5 for p in posts) else 1)'
check gzip-smaller sink_py '
sys.exit(0 if sum(p["raw_len"] for p in posts) < sum(len(p["body"]) for p in posts) / 2 else 1)'
python3 "$CHECK" sink-bodies "$H" | python3 "$CHECK" gaps 1 >"$T_TMP/gaps.txt"
check gzip-every-seq test $? -eq 0
cat "$T_TMP/gaps.txt"
