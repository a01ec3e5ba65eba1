#!/usr/bin/env bash
# protocol = "auto" against a broker that only speaks MQTT 3.1.1 (a test
# peer written from the 3.1.1 specification: mosquitto accepts every
# version): pagegate's MQTT 5 CONNECT is refused with "unacceptable
# protocol version", it falls back to 3.1.1, subscribes to the ack topic
# and publishes the page with QoS 1 and no MQTT 5 properties.
. "$(dirname "$0")/lib.sh"

BROKER_PORT=$(free_port)
BROKER_PID=
finish() {
  [ -n "$BROKER_PID" ] && { kill "$BROKER_PID" 2>/dev/null; wait "$BROKER_PID" 2>/dev/null; }
  cleanup
}
trap finish EXIT

$PY "$ROOT/tests/peers/mosquitto_v311_broker.py" "$BROKER_PORT" "$T/broker.log" 2>>"$T/broker.err" &
BROKER_PID=$!
check "the 3.1.1-only broker listens" wait_until 10 port_open "$BROKER_PORT"

write_config
sed -i 's/^retry = { email = \(.*\) };$/retry = { email = \1 mqtt = \1 };/' "$T/etc/pagegate.conf"
cat >>"$T/etc/pagegate.conf" <<CONF
mqtt = { port = $BROKER_PORT; client_id = "pagegate-auto"; protocol = "auto"; timeout = "5s"; };
CONF
cat >"$T/etc/clients/test-clinic.conf" <<'CONF'
id = "test-clinic";
name = "Test Clinic";
timezone = "UTC";
contacts = ( { id = "desk"; name = "Desk";
               devices = ( { channel = "mqtt"; topic = "pages/{client}/{contact}"; expiry = "5m"; } ); } );
rules = ( { notify = "contact:desk"; } );
CONF
start_daemon || exit 1

id=$(post_message '{"client":"test-clinic","caller":{"name":"Di","phone":"555-0103"},"text":"ümlaut \"quoted\""}')
check "POST /v1/messages answers 201" test -n "$id"
check "the page is sent" wait_until 15 state_is "$id" sent
events() { jq -c "select(.event == \"$1\")" "$T/broker.log"; }
check_eq "first an MQTT 5 CONNECT, refused" '{"event":"connect","level":5,"refused":true}' "$(events connect | head -1)"
check_eq "then MQTT 3.1.1 with pagegate's id, a persistent session, keepalive 30" \
  '4 pagegate-auto false 30' "$(events connect | sed -n 2p | jq -r '"\(.level) \(.client_id) \(.clean) \(.keepalive)"')"
check_eq "it subscribed to the ack topic with QoS 1" '["pages/+/+/ack"] [1]' \
  "$(events subscribe | head -1 | jq -c '.filters, .granted' | tr '\n' ' ' | sed 's/ $//')"
check_eq "one publish, QoS 1, not retained" "1 pages/test-clinic/desk 1 false" \
  "$(events publish | jq -s -r '"\(length) \(.[0].topic) \(.[0].qos) \(.[0].retain)"')"
check_eq "its payload is the page JSON" "$id test-clinic desk ümlaut \"quoted\"" \
  "$(events publish | head -1 | jq -r '.payload | fromjson | "\(.id) \(.client) \(.contact) \(.text)"')"
check "the ledger shows the PUBACK (no expiry under 3.1.1)" test "$(msg_json "$id" | jq -r \
  '.deliveries[0].attempts[-1].reply | test("^PUBACK from 127.0.0.1:'"$BROKER_PORT"' for pages/test-clinic/desk [(]mid [0-9]+[)]$")')" = true
check_eq "one attempt: the fall-back happened while the page waited for the connection" 1 \
  "$(msg_json "$id" | jq '.deliveries[0].attempts | length')"
check "the log says MQTT 3.1.1" grep -q "mqtt: connected to 127.0.0.1:$BROKER_PORT (MQTT 3.1.1)" "$T/daemon.log"
check_eq "nothing malformed reached the broker" "" "$(events malformed)"
stop_daemon
check_eq "pagegate said DISCONNECT when it stopped" 1 "$(events disconnect | wc -l)"
