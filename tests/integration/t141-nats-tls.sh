#!/bin/bash
# t141-nats-tls.sh - the NATS publisher over TLS to a real nats-server -js that requires
# a client certificate, with certificates made here: a server that does not verify
# against ca_file gets nothing and the readings wait in the queue; with the right CA
# they are all delivered, from seq 1, each once; without a client certificate the
# server refuses the link.
. "$(dirname "$0")/../lib.sh"
NATS_READ=$T_ROOT/${B:-build}/tools/nats_read
[ -x "$NATS_READ" ] || { fail nats-read "missing $NATS_READ (WITH_NATS=no?)"; exit 1; }
command -v nats-server >/dev/null || { fail nats-server "not installed (tests/deps.sh)"; exit 1; }

D=$T_TMP/pki
make_pki "$D" || { fail pki "$(tail -3 "$D/openssl.log")"; exit 1; }
PS=$(free_port) PN=$(free_port)
URL="tls://127.0.0.1:$PN"
cat >"$T_TMP/nats.conf" <<CONF
listen: 127.0.0.1:$PN
jetstream { store_dir: "$T_TMP/js" }
tls {
  cert_file: "$D/server.crt"
  key_file: "$D/server.key"
  ca_file: "$D/ca.crt"
  verify: true
}
CONF
nats-server -c "$T_TMP/nats.conf" >"$T_TMP/nats.log" 2>&1 &
track $!
start_sim --tcp "127.0.0.1:$PS" --device epever-tracer@1
wait_port "$PN" 10 && wait_port "$PS" 10 || { fail start "nats-server or simulator"; exit 1; }
export NATS_READ_CA=$D/ca.crt NATS_READ_CERT=$D/client.crt NATS_READ_KEY=$D/client.key
stream() { "$NATS_READ" "$URL" monitoring 2>/dev/null; }
stored() { stream | grep -c .; }

conf() { # FILE CA [CLIENT_CERT_MEMBERS]
    write_conf "$1" "[{\"id\": \"mppt-1\", \"driver\": \"mppt\", \"profile\": \"epever-tracer\",
      \"bus\": \"tcp://127.0.0.1:$PS\", \"unit\": 1, \"interval_ms\": 200}]" "{\"backend\": \"spool\"}" \
        "[{\"name\": \"n\", \"type\": \"nats\", \"url\": \"$URL\", \"ca_file\": \"$2\"${3:+, $3}}]"
}
client="\"cert_file\": \"$D/client.crt\", \"key_file\": \"$D/client.key\""
run_for() { # CONF SECONDS ERR
    "$EDGEMON" run -c "$1" >/dev/null 2>"$3" &
    AGENT=$!
    track "$AGENT"
    sleep "$2"
    kill "$AGENT"
    wait "$AGENT"
}

# The wrong CA: the server's certificate does not verify, nothing is stored.
conf "$T_TMP/bad.json" "$D/other.crt" "$client"
check config-valid "$EDGEMON" check -c "$T_TMP/bad.json"
run_for "$T_TMP/bad.json" 3 "$T_TMP/bad.err"
check wrong-ca-nothing-stored test "$(stored)" -eq 0
check wrong-ca-logged grep -q "\[pub:nats:n\] not connected yet" "$T_TMP/bad.err"
pending=$("$EDGEMON" queue -c "$T_TMP/bad.json" | grep -o '"pending":[0-9]*' | cut -d: -f2)
check wrong-ca-kept-in-queue test "${pending:-0}" -ge 10

# No client certificate: the server (verify: true) refuses the link.
conf "$T_TMP/anon.json" "$D/ca.crt"
sed -i "s|$T_TMP/state|$T_TMP/state-anon|" "$T_TMP/anon.json"
run_for "$T_TMP/anon.json" 3 "$T_TMP/anon.err"
check no-client-cert-nothing-stored test "$(stored)" -eq 0
check no-client-cert-logged grep -q "\[pub:nats:n\] not connected yet" "$T_TMP/anon.err"

# The right CA and the client certificate: verified; the readings kept during the
# failed attempt go first, then the fresh ones, every seq once.
conf "$T_TMP/good.json" "$D/ca.crt" "$client"
"$EDGEMON" run -c "$T_TMP/good.json" >/dev/null 2>"$T_TMP/good.err" &
AGENT=$!
track "$AGENT"
enough() { [ "$(stored)" -ge $((pending + 10)) ]; }
wait_for 20 enough
check tls-delivered enough
check tls-connected-logged grep -q "\[pub:nats:n\] uplink up" "$T_TMP/good.err"
kill "$AGENT"
wait "$AGENT"
check clean-stop-exit-0 test $? -eq 0
stream >"$T_TMP/stream.txt"
cut -f3 "$T_TMP/stream.txt" >"$T_TMP/values.txt"
SEQ_FIRST=1 seq_check "$T_TMP/values.txt" >"$T_TMP/check.txt"
rc=$?
cat "$T_TMP/check.txt"
check tls-every-seq-from-1 test "$rc" -eq 0
check tls-each-id-once test "$(cut -f2 "$T_TMP/stream.txt" | sort | uniq -d | wc -l)" -eq 0
