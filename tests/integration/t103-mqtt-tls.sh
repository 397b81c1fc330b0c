#!/bin/bash
# t103-mqtt-tls.sh - MQTT over TLS to a mosquitto TLS listener with certificates made
# here: verified delivery with the right CA and a client certificate; nothing is
# confirmed (and nothing lost) when the broker's certificate does not verify.
. "$(dirname "$0")/../lib.sh"

D=$T_TMP/pki
make_pki "$D" || { fail pki "$(tail -3 "$D/openssl.log")"; exit 1; }

PS=$(free_port) PT=$(free_port) PP=$(free_port)
start_sim --tcp "127.0.0.1:$PS" --device renogy-rover@1
# A TLS listener that requires a client certificate, and a plain one for the test's
# own subscriber.
start_mosquitto "$PT" "listener $PT 127.0.0.1" "cafile $D/ca.crt" "certfile $D/server.crt" \
    "keyfile $D/server.key" "require_certificate true" "listener $PP 127.0.0.1"
wait_port "$PS" 10 && wait_port "$PP" 10 || { fail start "servers"; exit 1; }
mosquitto_sub -h 127.0.0.1 -p "$PP" -q 1 -t 'monitoring/#' >"$T_TMP/sub.txt" 2>/dev/null &
track $!
sleep 0.3

conf() { # $1 file, $2 ca file
    write_conf "$1" "[{\"id\": \"m\", \"driver\": \"mppt\", \"profile\": \"renogy-rover\",
      \"bus\": \"tcp://127.0.0.1:$PS\", \"interval_ms\": 200}]" "{\"backend\": \"spool\"}" \
        "[{\"name\": \"tls\", \"type\": \"mqtt\", \"url\": \"mqtts://127.0.0.1:$PT\",
           \"ca_file\": \"$2\", \"cert_file\": \"$D/client.crt\", \"key_file\": \"$D/client.key\"}]"
}

# Wrong CA first: the broker cannot be verified, nothing is confirmed.
conf "$T_TMP/bad.json" "$D/other.crt"
"$EDGEMON" run -c "$T_TMP/bad.json" >/dev/null 2>"$T_TMP/bad.err" &
AGENT=$!
track "$AGENT"
sleep 3
kill "$AGENT"
wait "$AGENT"
check wrong-ca-nothing-delivered test ! -s "$T_TMP/sub.txt"
pending=$("$EDGEMON" queue -c "$T_TMP/bad.json" | grep -o '"pending":[0-9]*' | cut -d: -f2)
check wrong-ca-kept-in-queue test "${pending:-0}" -ge 10

# The right CA: verified, and the readings buffered during the failed attempt go too.
conf "$T_TMP/good.json" "$D/ca.crt"
"$EDGEMON" run -c "$T_TMP/good.json" >/dev/null 2>"$T_TMP/good.err" &
AGENT=$!
track "$AGENT"
wait_for 10 lines_at_least "$T_TMP/sub.txt" $((pending + 5))
# Only an mqtts:// link loads the TLS paho, and OpenSSL with it.
grep -q libpaho-mqtt3cs "/proc/$AGENT/maps"
check tls-loads-tls-paho test $? -eq 0
kill "$AGENT"
wait "$AGENT"
check tls-delivered test "$(grep -c . "$T_TMP/sub.txt")" -ge $((pending + 5))
SEQ_FIRST=1 seq_check "$T_TMP/sub.txt" >"$T_TMP/check.txt"
rc=$?
cat "$T_TMP/check.txt"
check tls-every-seq test "$rc" -eq 0
check tls-connected-logged grep -q "\[pub:mqtt:tls\] uplink up" "$T_TMP/good.err"

# A plain mqtt:// agent never maps OpenSSL (paho is loaded at run time, plain variant).
write_conf "$T_TMP/plain.json" "[{\"id\": \"m\", \"driver\": \"mppt\", \"profile\": \"renogy-rover\",
  \"bus\": \"tcp://127.0.0.1:$PS\", \"interval_ms\": 200}]" "{\"backend\": \"spool\"}" \
    "[{\"name\": \"plain\", \"type\": \"mqtt\", \"url\": \"mqtt://127.0.0.1:$PP\"}]"
sed -i "s|$T_TMP/state|$T_TMP/state-plain|" "$T_TMP/plain.json"
"$EDGEMON" run -c "$T_TMP/plain.json" >/dev/null 2>"$T_TMP/plain.err" &
AGENT=$!
track "$AGENT"
plain_up() { grep -q "uplink up" "$T_TMP/plain.err"; }
wait_for 10 plain_up
check plain-delivers plain_up
grep -q "libpaho-mqtt3c\.so" "/proc/$AGENT/maps"
check plain-loads-plain-paho test $? -eq 0
grep -Eq "libssl|libcrypto|libpaho-mqtt3cs" "/proc/$AGENT/maps"
check plain-maps-no-openssl test $? -ne 0
kill "$AGENT"
wait "$AGENT"
