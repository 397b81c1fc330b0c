#!/bin/bash
# t001-cli.sh - the command line of CONTRACT section 1: outputs and exit statuses.
. "$(dirname "$0")/../lib.sh"

out=$("$EDGEMON" --version)
check version-format test "$(echo "$out" | grep -Ec '^edgemon [0-9]+\.[0-9]+\.[0-9]+$')" -eq 1
"$EDGEMON" --help >"$T_TMP/help.txt"
for sub in "run -c" "check -c" "poll -c" "broker config" "queue -c" "--version"; do
    check "help-mentions-${sub// /-}" grep -q -- "$sub" "$T_TMP/help.txt"
done
"$EDGEMON" frobnicate -c x >/dev/null 2>&1
check unknown-command-exit-2 test $? -eq 2
"$EDGEMON" check >/dev/null 2>&1
check missing-config-flag-exit-2 test $? -eq 2

# check: OK, one line per error with its JSON path, exit 1.
cp "$T_ROOT/conf/edgemon.example.json" "$T_TMP/ok.json"
sed -i "s|/var/lib/edgemon|$T_TMP/state|" "$T_TMP/ok.json"
check check-ok-text test "$("$EDGEMON" check -c "$T_TMP/ok.json")" = "configuration OK"
sed -e 's/"unit": 3/"unit": 300/' -e 's/"qos": 1/"qos": 7/' "$T_TMP/ok.json" >"$T_TMP/bad.json"
"$EDGEMON" check -c "$T_TMP/bad.json" >"$T_TMP/bad.out" 2>&1
check check-invalid-exit-1 test $? -eq 1
check check-names-device-path grep -q '^devices\[1\]\.unit: ' "$T_TMP/bad.out"
check check-names-publisher-path grep -q '^publishers\[0\]\.qos: ' "$T_TMP/bad.out"
check check-one-line-per-error test "$(wc -l <"$T_TMP/bad.out")" -eq 2
"$EDGEMON" check -c "$T_TMP/none.json" >"$T_TMP/none.out" 2>&1
check check-missing-file-exit-1 test $? -eq 1
check check-missing-file-says-why grep -q "cannot read" "$T_TMP/none.out"
sed -e 's/"type": "mqtt"/"type": "kubemq"/' -e 's|mqtt://127.0.0.1:1883|http://127.0.0.1:9090|' \
    -e 's/"qos": 1,//' "$T_TMP/ok.json" >"$T_TMP/kube.json"
"$EDGEMON" check -c "$T_TMP/kube.json" >"$T_TMP/kube.out" 2>&1
check check-kubemq-built-exit-0 test $? -eq 0
check check-kubemq-built-ok grep -qx "configuration OK" "$T_TMP/kube.out"

# broker config: installed next to the config, 0 / 1 invalid / 2 unknown kind.
printf '{"url": "mqtt://127.0.0.1:1883", "qos": 1}\n' >"$T_TMP/mqtt-ok.json"
printf '{"url": "mqtt://127.0.0.1:1883", "datasets": ["pms", "weather"]}\n' >"$T_TMP/mqtt-bad.json"
out=$("$EDGEMON" broker config mqtt "$T_TMP/mqtt-ok.json" -c "$T_TMP/ok.json")
check broker-config-ok test "$out" = "successfully configured broker mqtt"
check broker-config-installed test -s "$T_TMP/brokers.d/mqtt.json"
"$EDGEMON" broker config mqtt "$T_TMP/mqtt-bad.json" -c "$T_TMP/ok.json" >"$T_TMP/b.out" 2>&1
check broker-config-invalid-exit-1 test $? -eq 1
check broker-config-unknown-dataset-named grep -q "weather" "$T_TMP/b.out"
"$EDGEMON" broker config carrier-pigeon "$T_TMP/mqtt-ok.json" -c "$T_TMP/ok.json" >/dev/null 2>&1
check broker-config-unknown-kind-exit-2 test $? -eq 2
check check-ok-with-broker-file test "$("$EDGEMON" check -c "$T_TMP/ok.json")" = "configuration OK"

# queue: JSON with pending, oldest_age_s, dropped per publisher (spool backend: no server).
sed -e 's/"backend": "redis"/"backend": "spool"/' "$T_TMP/ok.json" >"$T_TMP/spool.json"
"$EDGEMON" queue -c "$T_TMP/spool.json" >"$T_TMP/q.json"
check queue-exit-0 test $? -eq 0
check queue-fields grep -q '"publishers":{"[a-z]*":{"pending":0,"oldest_age_s":0,"dropped":0,' "$T_TMP/q.json"
