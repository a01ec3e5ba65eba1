#!/usr/bin/env bash
# Holds: a routine after-hours message with hold = "business" waits, held,
# across a kill -9 and restart, and goes out when the client opens; an
# emergency at the same instant is not held.  The client's hours are set to
# open at a minute boundary 30 to 90 s away (UTC zone), so this takes up to ~100 s.
. "$(dirname "$0")/lib.sh"
write_config
open_next_minute || exit 1
cat >"$T/etc/clients/test-clinic.conf" <<CONF
id = "test-clinic";
name = "Test Clinic";
timezone = "UTC";
business_hours = ( { days = "Sun-Sat"; from = "$open_at"; to = "$close_at"; } );
contacts = ( { id = "office"; name = "Office"; devices = ( { channel = "email"; to = "office@clinic.example"; } ); } );
rules = (
  { when = { hours = "business"; }; notify = "contact:office"; },
  { when = { hours = "after"; }; notify = "contact:office"; hold = "business"; }
);
CONF
start_sink "$SMTP_PORT" || exit 1
start_daemon || exit 1
id=$(post_message '{"client":"test-clinic","caller":{"name":"Night","phone":"555-0100"},"text":"routine after hours"}')
check "routine after-hours message accepted" test -n "$id"
check_eq "its delivery is held" held "$(resp '.deliveries[0].state')"
hu=$(resp '.deliveries[0].hold_until')
check_eq "held until the opening instant" "$(date -u -d "@$open_epoch" +%Y-%m-%dT%H:%M:%S)" "${hu:0:19}"
check_eq "message state held" held "$(msg_state "$id")"
check "the ledger says held" bash -c "curl -s -H 'Authorization: Bearer $TOKEN' http://127.0.0.1:$HTTP_PORT/v1/messages/$id | jq -e '[.ledger[].type] | index(\"held\")' >/dev/null"
id2=$(post_message '{"client":"test-clinic","urgency":"emergency","caller":{"name":"Night","phone":"555-0100"},"text":"emergency after hours"}')
check "an emergency after hours is sent at once" wait_until 20 state_is "$id2" sent
check_eq "nothing of the held message was sent" "" "$(mail_for "$id")"

kill9_daemon
start_daemon || exit 1
check_eq "still held after kill -9 and restart" held "$(msg_state "$id")"
check "released and sent when the client opens" wait_until 150 state_is "$id" sent
check "not before the opening time" test "$(date -u +%s)" -ge "$open_epoch"
check "the ledger says released" bash -c "curl -s -H 'Authorization: Bearer $TOKEN' http://127.0.0.1:$HTTP_PORT/v1/messages/$id | jq -e '[.ledger[].type] | index(\"released\")' >/dev/null"
check_eq "one mail" 1 "$(mail_for "$id" | wc -l)"
stop_daemon
