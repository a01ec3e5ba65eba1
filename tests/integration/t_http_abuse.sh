#!/usr/bin/env bash
# One address cannot lock everyone out: 600 half-open connections from
# 127.0.0.1 hold at most max_per_address of them, while an operator on
# another address (127.0.0.2) signs in to the console and submits a
# message, and /healthz answers.  A head or a body sent one byte at a
# time is cut at its deadline (libmicrohttpd's idle timeout alone would
# hold it for ever).
. "$(dirname "$0")/lib.sh"
write_config
cat >>"$T/etc/pagegate.conf" <<'CONF'
max_per_address = 16;
head_timeout = "10s";
body_timeout = "3s";
CONF
start_sink "$SMTP_PORT" || exit 1
start_daemon || exit 1
URL="http://127.0.0.1:$HTTP_PORT"
AB=$ROOT/tests/integration/http_abuse.py
J='Content-Type: application/json'
good='{"client":"test-clinic","caller":{"name":"Ann","phone":"555-0100"},"text":"under attack","fields":{"address":"x"}}'

# ---- 600 half-open connections from one address ----
$PY "$AB" halfopen "$HTTP_PORT" 600 127.0.0.1 "$T/attack" "$T/attack.done" &
APID=$!
wait_until 30 test -s "$T/attack" || notok "the attacker opened its connections"
read -r gone held <"$T/attack"
echo "# of 600 half-open connections the server closed $gone at once and holds $held"
check_eq "one address holds max_per_address (16) connections, no more" 16 "$held"
n=$(grep -cE 'http: (Server reached connection limit|refused a connection)' "$T/daemon.log")
echo "# the log has $n lines about refused connections"
check "the refusals do not flood the log (at most 10 lines a second)" test "$n" -le 40
check "the refusals are logged" test "$n" -ge 1
check "the daemon still runs" kill -0 "$DPID"

# Meanwhile, an operator on another address: sign in, then submit (each
# request with a 2 s limit).
t0=$(date +%s%N)
code=$(curl -s -m 2 --interface 127.0.0.2 -o "$T/resp" -c "$T/jar" -w '%{http_code}' -H "$J" \
  --data-binary "$(jq -nc --arg t "$TOKEN" '{operator:"tester",token:$t}')" "$URL/v1/session")
check_eq "under attack, a second client signs in to the console" 200 "$code"
CSRF=$(jq -r .csrf "$T/resp" 2>/dev/null)
code=$(curl -s -m 2 --interface 127.0.0.2 -o "$T/resp" -b "$T/jar" -w '%{http_code}' -H "$J" \
  -H "X-CSRF-Token: $CSRF" --data-binary "$good" "$URL/v1/messages")
t1=$(date +%s%N)
check_eq "and submits a message" 201 "$code"
echo "# sign-in and submit under attack took $(( (t1 - t0) / 1000000 )) ms"
check_eq "/healthz answers another address" 200 \
  "$(curl -s -m 2 --interface 127.0.0.3 -o /dev/null -w '%{http_code}' "$URL/healthz")"
check_eq "the event stream opens for the operator" 200 \
  "$(curl -s -m 2 --interface 127.0.0.2 -o /dev/null -b "$T/jar" -w '%{http_code}' "$URL/v1/events" || true)"
touch "$T/attack.done"
wait "$APID"
check_eq "the message was stored" 1 "$(db_count messages)"

# ---- deadlines that do not restart with each byte ----
r=$($PY "$AB" trickle "$HTTP_PORT" 127.0.0.4 head 25)
echo "# a head sent a byte every 0.5 s: $r"
check "a head trickled in is cut (head_timeout 10 s), not held for 25 s" \
  grep -q "^cut after" <<<"$r"
r=$($PY "$AB" trickle "$HTTP_PORT" 127.0.0.4 body 15)
echo "# a body sent a byte every 0.5 s: $r"
check "a body trickled in is cut (body_timeout 3 s), not held for 15 s" \
  grep -q "^cut after" <<<"$r"
check_eq "the trickled body stored nothing" 1 "$(db_count messages)"
curl -s "$URL/metrics" >"$T/metrics"
check "the cuts are counted (head)" grep -qE '^pagegate_http_cut_total\{part="head"\} [1-9]' "$T/metrics"
check "the cuts are counted (body)" grep -qE '^pagegate_http_cut_total\{part="body"\} [1-9]' "$T/metrics"
check "and logged" grep -q 'cut a connection whose body was not in after 3 s' "$T/daemon.log"

# A keep-alive connection: the next request's head has its own deadline
# from the end of the previous request, and is served in time.
check_eq "two requests on one connection are both served" "200200" \
  "$(curl -s -o /dev/null -w '%{http_code}' "$URL/healthz" -o /dev/null "$URL/healthz")"
stop_daemon
