#!/bin/bash
# t151-http-page.sh - GET / in headless Chromium: after its script ran, the DOM holds
# one card per device with its state and values, the uplinks, the routing map and a
# power chart (three SVG polylines with points from /api/history); the page loads
# nothing from elsewhere. SCREENSHOT=FILE also saves a screenshot there (PAGE_WAIT_S=N
# lets the history grow for N s first; default 7).
. "$(dirname "$0")/../lib.sh"

CHROME=$(command -v chromium || command -v chromium-browser || true)
[ -n "$CHROME" ] || { fail chromium "not installed (tests/deps.sh installs it)"; exit 1; }

PS=$(free_port) PH=$(free_port) PM=$(free_port) PD=$(free_port)
start_sim --tcp "127.0.0.1:$PS" --vary --device seplos-v3@1 --device epever-tracer@2 --device sunspec@3
start_mosquitto "$PM"
wait_port "$PS" 10 && wait_port "$PM" 10 || { fail start "simulator or broker"; exit 1; }
B="tcp://127.0.0.1:$PS"
write_conf "$T_TMP/c.json" "[
  {\"id\": \"bms-1\", \"driver\": \"pms\", \"profile\": \"seplos-v3\", \"bus\": \"$B\", \"unit\": 1},
  {\"id\": \"mppt-1\", \"driver\": \"mppt\", \"profile\": \"epever-tracer\", \"bus\": \"$B\", \"unit\": 2},
  {\"id\": \"inv-1\", \"driver\": \"inverter\", \"profile\": \"sunspec\", \"bus\": \"$B\", \"unit\": 3},
  {\"id\": \"gone-1\", \"driver\": \"mppt\", \"profile\": \"renogy-rover\", \"bus\": \"$B\", \"unit\": 9}]" \
    "{\"backend\": \"spool\"}" \
    "[{\"name\": \"uplink\", \"type\": \"mqtt\", \"url\": \"mqtt://127.0.0.1:$PM\", \"datasets\": [\"pms\", \"mppt\", \"inverter\", \"site\"]},
      {\"name\": \"cloud\", \"type\": \"mqtt\", \"url\": \"mqtt://127.0.0.1:$PD\", \"datasets\": [\"site\"]}]"
/usr/bin/python3 -c "import json,sys; d=json.load(open(sys.argv[1])); d['http']={'listen':'127.0.0.1:$PH'}; json.dump(d, open(sys.argv[1],'w'))" "$T_TMP/c.json"
"$EDGEMON" run -c "$T_TMP/c.json" 2>"$T_TMP/run.err" &
track $!
wait_port "$PH" 10 || { fail http-listening "$(cat "$T_TMP/run.err")"; exit 1; }
# Two history points at least (one every 5 s) so the chart has lines.
sleep "${PAGE_WAIT_S:-7}"

chrome() {
    # A private profile in the temp dir; no network but loopback is used.
    timeout 90 "$CHROME" --headless --no-sandbox --disable-gpu --no-first-run \
        --user-data-dir="$T_TMP/chrome" --virtual-time-budget=8000 "$@" \
        "http://127.0.0.1:$PH/" 2>>"$T_TMP/chrome.err"
}
chrome --dump-dom >"$T_TMP/dom.html"
check page-script-ran grep -q 'data-rendered="yes"' "$T_TMP/dom.html"
for id in bms-1 mppt-1 inv-1; do
    check "device-$id-up" grep -q "class=\"device\" data-id=\"$id\" data-state=\"up\"" "$T_TMP/dom.html"
done
check device-gone-down grep -q 'class="device" data-id="gone-1" data-state="down"' "$T_TMP/dom.html"
check device-values-shown grep -Eq 'data-key="soc_pct">[0-9]+(\.[0-9]+)?<' "$T_TMP/dom.html"
check routing-shown grep -q '<td>inverter</td><td>inv-1</td>' "$T_TMP/dom.html"
check uplink-up grep -q '<tr data-name="uplink"><td>uplink</td><td>mqtt</td><td><span class="st up">up</span>' "$T_TMP/dom.html"
check uplink-down grep -q '<tr data-name="cloud"><td>cloud</td><td>mqtt</td><td><span class="st down">down</span>' "$T_TMP/dom.html"
check chart-svg grep -q '<svg viewBox="0 0 [0-9]* 240" width="[0-9]*" height="240" id="powerchart">' "$T_TMP/dom.html"
for s in pv battery load; do
    n=$(grep -o "<polyline class=\"$s\"[^>]*data-points=\"[0-9]*\"" "$T_TMP/dom.html" | grep -o '[0-9]*"$' | tr -d '"')
    check "chart-$s-points" test "${n:-0}" -ge 2
done
check chart-points-drawn grep -q '<polyline class="pv" [^>]*points="[0-9.]*,[0-9.]* [0-9.]*,[0-9.]*' "$T_TMP/dom.html"
# Kept and sent gzipped: decoded it is page.html byte for byte; a client that does
# not take gzip is told how to ask (406), and q=0 counts as not taking it.
curl -s -D "$T_TMP/page.hdr" --compressed "http://127.0.0.1:$PH/" >"$T_TMP/page.html"
check page-sent-gzipped grep -qi '^content-encoding: gzip' "$T_TMP/page.hdr"
check page-decodes-to-source cmp -s "$T_TMP/page.html" "$(dirname "$0")/../../agent/ops/page.html"
code=$(curl -s -o "$T_TMP/plain.json" -w '%{http_code}' "http://127.0.0.1:$PH/")
check page-identity-406 test "$code" = 406
check page-identity-says-how grep -q 'curl --compressed' "$T_TMP/plain.json"
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Accept-Encoding: gzip;q=0, identity' "http://127.0.0.1:$PH/")
check page-gzip-q0-406 test "$code" = 406
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Accept-Encoding: deflate, gzip;q=0.5' "http://127.0.0.1:$PH/")
check page-gzip-q05-200 test "$code" = 200
# Self-contained: nothing but relative API paths and the SVG namespace.
check page-no-external-assets test -z "$(grep -Eo '(src|href)="[^"]*"|https?://[^ "'\'']*' "$T_TMP/page.html" | grep -v 'http://www.w3.org/2000/svg')"
if [ -n "${SCREENSHOT:-}" ]; then
    chrome --hide-scrollbars --window-size=1100,1000 --screenshot="$SCREENSHOT" >/dev/null
    check screenshot-saved test -s "$SCREENSHOT"
fi
exit $T_FAILED
