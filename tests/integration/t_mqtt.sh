#!/usr/bin/env bash
# The mqtt channel against a real mosquitto broker: a subscriber receives
# the page JSON (exact fields, non-ASCII and JSON-special text) with QoS 1
# and the MQTT 5 properties (message expiry, content type); the broker is
# stopped, a page posted meanwhile is retried and delivered once after the
# restart; acknowledgements published on the ack topic (JSON and plain
# text, also while pagegate was down) acknowledge their messages, wrong
# references and junk are ignored.
. "$(dirname "$0")/lib.sh"
. "$ROOT/tests/peers/mosquitto.sh"

MQTT_PORT=$(free_port)
SUB_PID=
stop_sub() {
  [ -n "$SUB_PID" ] || return 0
  kill "$SUB_PID" 2>/dev/null; wait "$SUB_PID" 2>/dev/null; SUB_PID=
}
finish() { stop_sub; mosquitto_stop; cleanup; }
trap finish EXIT

# The subscriber of an app: MQTT 5, persistent session (it gets what was
# queued while it was away), one line per message: topic|expiry|content
# type|payload format|qos|payload in hex.
start_sub() {
  mosquitto_sub -h 127.0.0.1 -p "$MQTT_PORT" -V mqttv5 -c -x 3600 -i pg-test-app -q 1 \
    -t 'pages/test-clinic/+' -F '%t|%E|%C|%F|%q|%x' >>"$T/sub.out" 2>>"$T/sub.err" &
  SUB_PID=$!
}
# payloads TOPIC: every payload received on TOPIC, decoded, one per line
# (JSON pages stay on one line: jq -c).
payloads() {
  $PY - "$T/sub.out" "$1" <<'PYEOF'
import sys
for line in open(sys.argv[1], encoding='utf-8', errors='replace'):
    f = line.rstrip('\n').split('|')
    if len(f) == 6 and f[0] == sys.argv[2]:
        print(bytes.fromhex(f[5]).decode('utf-8', 'replace').replace('\n', ' '))
PYEOF
}
# sub_ready TAG: the subscriber saw a probe published with that tag.
sub_ready() {
  mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -q 1 -t pages/test-clinic/probe -m "$1" &&
    [ -n "$(payloads pages/test-clinic/probe | grep -x "$1")" ]
}
# pages_for ID: the received pages (compact JSON, one per line) of message ID.
pages_for() { payloads pages/test-clinic/doc | jq -c "select(.id == $1)"; }
has_page() { [ -n "$(pages_for "$1")" ]; }
pub_ack() { mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -q 1 -t "$1" -m "$2"; }
acked() { [ "$(msg_json "$1" | jq -r .acknowledged)" = true ]; }
attempt_temp_disconnected() {
  msg_json "$1" | jq -e '[.deliveries[0].attempts[] | select(.outcome == "temp" and
    (.reply | startswith("broker not connected")))] | length > 0' >/dev/null
}

mosquitto_start "$MQTT_PORT" "$T/mqtt" persist || exit 1
write_config
# fast retries for mqtt; the broker section; a client paged over mqtt only
sed -i 's/^retry = { email = \(.*\) };$/retry = { email = \1 mqtt = \1 };/' "$T/etc/pagegate.conf"
cat >>"$T/etc/pagegate.conf" <<CONF
mqtt = { host = "127.0.0.1"; port = $MQTT_PORT; tls = false; client_id = "pagegate-test";
         keepalive = 5; protocol = "v5"; ack_topic = "pages/+/+/ack"; qos = 1; timeout = "5s"; };
CONF
cat >"$T/etc/clients/test-clinic.conf" <<'CONF'
id = "test-clinic";
name = "Test \"Clinic\"";
dnis = [ "8005550100" ];
timezone = "America/Chicago";
business_hours = ( { days = "Sun-Sat"; from = "00:00"; to = "24:00"; } );
contacts = (
  { id = "doc"; name = "Dr. Zoë Ångström";
    devices = ( { channel = "mqtt"; topic = "pages/{client}/{contact}"; expiry = "10m"; } ); }
);
rules = ( { notify = "contact:doc"; } );
CONF
start_sub
check "the subscriber is subscribed" wait_until 10 sub_ready first
start_daemon || exit 1
check "pagegate connects to the broker" wait_until 10 grep -q "mqtt: connected to 127.0.0.1:$MQTT_PORT (MQTT 5)" "$T/daemon.log"

# ---- 1. a page with every kind of awkward text ----
TEXT=$'Heizung aus — Zoë says "help!" \\ C:\\temp\ttab\nline 2 🔥 {{text}} </script>'
NAME='Jürgen "Jay" Müller'
body=$(jq -n --arg t "$TEXT" --arg n "$NAME" \
  '{client:"test-clinic", urgency:"emergency", caller:{name:$n, phone:"+1 (555) 555-0142", company:"Müller & Söhne"}, text:$t}')
id=$(post_message "$body")
check "POST /v1/messages answers 201 with an id" test -n "$id"
check "message reaches state sent" wait_until 15 state_is "$id" sent
ref=$(msg_json "$id" | jq -r .ack_ref)
check "the message has an ack reference" test -n "$ref"
check "the subscriber received it" wait_until 10 has_page "$id"
p=$(pages_for "$id")
check_eq "exactly one copy" 1 "$(grep -c . <<<"$p")"
check_eq "payload: ids, client, contact, kind, urgency" \
  "$id test-clinic Test \"Clinic\" doc Dr. Zoë Ångström message emergency" \
  "$(jq -r '"\(.id) \(.client) \(.client_name) \(.contact) \(.contact_name) \(.kind) \(.urgency)"' <<<"$p")"
check_eq "payload: caller name (quotes, umlauts)" "$NAME" "$(jq -r .caller.name <<<"$p")"
check_eq "payload: caller phone and company" "+1 (555) 555-0142|Müller & Söhne" \
  "$(jq -r '"\(.caller.phone)|\(.caller.company)"' <<<"$p")"
check_eq "payload: the exact text (quotes, backslashes, tab, newline, emoji)" "$TEXT" "$(jq -r .text <<<"$p")"
check_eq "payload: the ack reference" "$ref" "$(jq -r .ack_ref <<<"$p")"
check_eq "payload: the delivery id" "$(msg_json "$id" | jq -r '.deliveries[0].id')" "$(jq -r .delivery <<<"$p")"
check "payload: received is an RFC 3339 UTC time" \
  test "$(jq -r '.received | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z$")' <<<"$p")" = true
line=$(grep '^pages/test-clinic/doc|' "$T/sub.out" | head -1)
IFS='|' read -r _t exp ctype pfi qos _x <<<"$line"
check "MQTT 5 message expiry: the device's 10m (599..600 s left)" test "${exp:-0}" -ge 599 -a "${exp:-0}" -le 600
check_eq "content type, payload format indicator (UTF-8), QoS 1" "application/json 1 1" "$ctype $pfi $qos"
m=$(msg_json "$id")
check "one attempt, ok, with the broker's PUBACK" test "$(jq -r '.deliveries[0].attempts |
  length == 1 and (.[0].outcome == "ok") and (.[0].reply | test("^PUBACK from 127.0.0.1:'"$MQTT_PORT"' for pages/test-clinic/doc [(]mid [0-9]+, expiry 600 s[)]$"))' <<<"$m")" = true

# ---- 2. broker down: retried from the store, delivered once after restart ----
stop_sub
mosquitto_stop
check "pagegate notices the broker is gone" wait_until 10 grep -q "mqtt broker 127.0.0.1:$MQTT_PORT: connection lost" "$T/daemon.log"
id2=$(post_message '{"client":"test-clinic","caller":{"name":"Ann Lee","phone":"555-0100"},"text":"posted while the broker is down"}')
check "a page posted meanwhile is accepted" test -n "$id2"
check "its attempts fail temporarily: broker not connected" wait_until 15 attempt_temp_disconnected "$id2"
check "it is still pending in the store (queued, or sending a retry)" \
  grep -qxE 'queued|sending' <<<"$(msg_json "$id2" | jq -r '.deliveries[0].state')"
mosquitto_restart || exit 1
check "after the restart it is sent" wait_until 40 state_is "$id2" sent
start_sub
check "the app's queued copy arrives" wait_until 10 has_page "$id2"
check "the subscriber is back" wait_until 10 sub_ready second
check_eq "exactly one copy of the retried page" 1 "$(pages_for "$id2" | grep -c .)"
check_eq "still one copy of the first page" 1 "$(pages_for "$id" | grep -c .)"

# ---- 3. acknowledgements on the ack topic ----
ref2=$(msg_json "$id2" | jq -r .ack_ref)
wrong=999999; [ "$wrong" = "$ref" ] || [ "$wrong" = "$ref2" ] && wrong=999998
pub_ack pages/test-clinic/doc/ack "ack $wrong"
pub_ack pages/test-clinic/doc/ack 'hello there'
pub_ack pages/test-clinic/doc/ack "{\"ack\":\"$ref\",\"by\":\"Dr. Zoë\"}"
check "a JSON ack acknowledges the first message" wait_until 10 acked "$id"
m=$(msg_json "$id")
check_eq "acked_by names the \"by\" field" "Dr. Zoë via mqtt" "$(jq -r .acked_by <<<"$m")"
check_eq "one acknowledged event in the ledger" 1 "$(jq '[.ledger[] | select(.type == "acknowledged")] | length' <<<"$m")"
check "the wrong reference was logged and ignored" grep -q "names unknown reference $wrong: ignored" "$T/daemon.log"
check "the junk payload was logged and ignored" grep -q "ignored a malformed acknowledgement on pages/test-clinic/doc/ack" "$T/daemon.log"
check_eq "the second message is not acknowledged by either" false "$(msg_json "$id2" | jq -r .acknowledged)"

# an ack published while pagegate is down arrives through its persistent session
stop_daemon
pub_ack pages/test-clinic/doc/ack "ack $ref2"
start_daemon || exit 1
check "a plain-text ack sent while pagegate was down acknowledges the second message" wait_until 15 acked "$id2"
check_eq "who is the topic when the payload names nobody" "pages/test-clinic/doc/ack via mqtt" \
  "$(msg_json "$id2" | jq -r .acked_by)"
check_eq "still exactly one copy of each page" "1 1" "$(pages_for "$id" | grep -c .) $(pages_for "$id2" | grep -c .)"
stop_daemon
