#!/usr/bin/env bash
# The mqtt channel to a broker that wants TLS and a password, over MQTT
# 3.1.1, with the settings corrected by SIGHUP reloads: an unknown CA and
# then a wrong password keep the page queued with the reason in its
# ledger; the right settings deliver it (verified certificate for
# 127.0.0.1); the password never reaches the log.
. "$(dirname "$0")/lib.sh"
. "$ROOT/tests/peers/mosquitto.sh"

MQTT_PORT=$(free_port)
SUB_PID=
finish() {
  [ -n "$SUB_PID" ] && { kill "$SUB_PID" 2>/dev/null; wait "$SUB_PID" 2>/dev/null; }
  mosquitto_stop; cleanup
}
trap finish EXIT

mosquitto_start "$MQTT_PORT" "$T/mqtt" auth tls || exit 1
mosquitto_make_certs "$T/other-ca" || { notok "made a second CA"; exit 1; }
write_config
sed -i 's/^retry = { email = \(.*\) };$/retry = { email = \1 mqtt = \1 };/' "$T/etc/pagegate.conf"
cp "$T/etc/pagegate.conf" "$T/base.conf"
# broker_section CA PASSWORD: the daemon file with this mqtt section.
broker_section() {
  cp "$T/base.conf" "$T/etc/pagegate.conf"
  cat >>"$T/etc/pagegate.conf" <<CONF
mqtt = { host = "127.0.0.1"; port = $MQTT_PORT; tls = true; ca_file = "$1";
         username = "pagegate"; password = "$2"; client_id = "pagegate-tls";
         protocol = "v311"; timeout = "5s"; };
CONF
}
broker_section "$T/other-ca/ca.pem" "wrong-secret"
cat >"$T/etc/clients/test-clinic.conf" <<'CONF'
id = "test-clinic";
name = "Test Clinic";
timezone = "America/Chicago";
contacts = ( { id = "oncall"; name = "On call";
               devices = ( { channel = "mqtt"; topic = "clinic/{client}/pages"; expiry = "1h"; } ); } );
rules = ( { notify = "contact:oncall"; } );
CONF
# a client whose mqtt.json override forgets the quotes around the text
cat >"$T/etc/clients/bad-json.conf" <<'CONF'
id = "bad-json";
name = "Bad JSON";
timezone = "UTC";
contacts = ( { id = "x"; name = "X";
               devices = ( { channel = "mqtt"; topic = "clinic/{client}/{contact}"; } ); } );
rules = ( { notify = "contact:x"; } );
templates = { mqtt_json = "{ \"id\": {{message.id}}, \"text\": {{text}} }"; };
CONF

mosquitto_sub -h 127.0.0.1 -p "$MQTT_PORT" "${MQTT_CLIENT_OPTS[@]}" -V mqttv5 -q 1 \
  -t 'clinic/#' -F '%t|%E|%q|%x' >"$T/sub.out" 2>"$T/sub.err" &
SUB_PID=$!
probe() { mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" "${MQTT_CLIENT_OPTS[@]}" -t clinic/probe -m ready &&
  grep -q '^clinic/probe|' "$T/sub.out"; }
check "the subscriber is subscribed (TLS, password)" wait_until 10 probe

start_daemon || exit 1
bad=$(post_message '{"client":"bad-json","caller":{"name":"Cy","phone":"555-0102"},"text":"not JSON"}')
check "a page whose template renders bad JSON fails permanently" wait_until 10 state_is "$bad" failed
check_eq "... with the reason, and is never published" \
  'template mqtt.json did not render valid JSON (line 1, column 22: invalid token near '"'"'not'"'"'): not published' \
  "$(msg_json "$bad" | jq -r '.deliveries[0].attempts[-1].reply')"
id=$(post_message '{"client":"test-clinic","caller":{"name":"Bo","phone":"555-0101"},"text":"boiler pressure low"}')
check "POST /v1/messages answers 201" test -n "$id"
last_reply() { msg_json "$id" | jq -r '.deliveries[0].attempts[-1].reply // ""'; }
reply_has() { last_reply | grep -q "$1"; }
check "unknown CA: the attempt fails temporarily (TLS)" wait_until 15 reply_has "broker not connected (127.0.0.1:$MQTT_PORT): connection failed: A TLS error occurred"

broker_section "$T/mqtt/tls/ca.pem" "wrong-secret"
kill -HUP "$DPID"
check "wrong password: refused by the broker" wait_until 15 reply_has "connection refused: Connection Refused: not authorised"
check_eq "still not sent" "" "$(msg_json "$id" | jq -r 'select(.state == "sent") | .id')"

broker_section "$T/mqtt/tls/ca.pem" "mqtt-secret"
kill -HUP "$DPID"
check "right settings: the page is sent" wait_until 15 state_is "$id" sent
check "the broker's PUBACK is the reply (no expiry under 3.1.1)" \
  reply_has "^PUBACK from 127.0.0.1:$MQTT_PORT for clinic/test-clinic/pages (mid [0-9]*)$"
check "pagegate spoke MQTT 3.1.1" grep -q "mqtt: connected to 127.0.0.1:$MQTT_PORT (MQTT 3.1.1)" "$T/daemon.log"
got() { grep -q '^clinic/test-clinic/pages|' "$T/sub.out"; }
check "the subscriber received the page" wait_until 10 got
line=$(grep '^clinic/test-clinic/pages|' "$T/sub.out")
check_eq "nothing of the bad-json client reached the broker" "" "$(grep '^clinic/bad-json' "$T/sub.out")"
check_eq "no expiry property under MQTT 3.1.1; QoS 1" "|1" "$(cut -d'|' -f2,3 <<<"$line")"
page=$($PY -c 'import sys; print(bytes.fromhex(sys.argv[1]).decode())' "$(cut -d'|' -f4 <<<"$line")")
check_eq "the page names the message, client and contact" "$id test-clinic oncall" \
  "$(jq -r '"\(.id) \(.client) \(.contact)"' <<<"$page" 2>/dev/null)"
check "the broker saw pagegate-tls: MQTT 3.1.1, persistent session, keepalive 30, user pagegate" \
  grep -q "New client connected from 127.0.0.1:[0-9]* as pagegate-tls (p2, c0, k30, u'pagegate')" "$T/mqtt/mosquitto.log"
check "no password in the daemon log" bash -c '! grep -q -e mqtt-secret -e wrong-secret "$1"' _ "$T/daemon.log"
stop_daemon
