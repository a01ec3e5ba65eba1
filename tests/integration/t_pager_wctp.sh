#!/usr/bin/env bash
# Pages over WCTP 1.3 to a carrier peer written from the specification
# (tests/peers/wctp_carrier.c; no WCTP server is packaged): the carrier
# validates every operation against the WCTP 1.3 DTD and records what it
# accepted.  A page arrives as one wctp-SubmitRequest with messageID = the
# delivery id and the device's PIN; message tracking (wctp-PollForMessages)
# turns the carrier's DELIVERED status into a receipt and the pager's
# reply "ok" into the message's acknowledgement; a 403 fails the page, a
# 604 is retried.  With push = true the page carries sendResponsesToID
# (public_url/cb/pager/wctp/<did>/<token>): a wctp-MessageReply POSTed
# there acknowledges the message; a wrong token is refused.
. "$(dirname "$0")/lib.sh"

WCTP_PORT=$(free_port)
CARRIER_PID=
stop_carrier() {
  [ -n "$CARRIER_PID" ] || return 0
  kill "$CARRIER_PID" 2>/dev/null; wait "$CARRIER_PID"; local rc=$?; CARRIER_PID=
  return $rc
}
trap 'stop_carrier; cleanup' EXIT

write_config
sed -i 's|^retry = { email = {\(.*\)}; };|retry = { email = {\1}; pager = { base = "1s"; cap = "2s"; give_up = "1h"; }; };|' \
  "$T/etc/pagegate.conf"
grep -q 'pager = { base' "$T/etc/pagegate.conf" || { notok "retry policy for pager set"; exit 1; }
cat >>"$T/etc/pagegate.conf" <<CONF
public_url = "http://127.0.0.1:$HTTP_PORT/";
pager = (
  { name = "carrier-wctp"; kind = "wctp"; url = "http://127.0.0.1:$WCTP_PORT/wctp";
    sender_id = "acme"; security_code = "s3cr3t"; poll = 1; timeout = 5; },
  { name = "carrier-push"; kind = "wctp"; url = "http://127.0.0.1:$WCTP_PORT/wctp";
    sender_id = "acme"; security_code = "s3cr3t"; poll = 0; push = true; }
);
CONF
cat >"$T/etc/clients/wctp-clinic.conf" <<'CONF'
id = "wctp-clinic";
name = "Harbor Clinic";
dnis = [ "8005550188" ];
timezone = "America/New_York";
business_hours = ( { days = "Sun-Sat"; from = "00:00"; to = "24:00"; } );
contacts = (
  { id = "oncall"; name = "Dr. On Call";
    devices = ( { channel = "pager"; gateway = "carrier-wctp"; pin = "4412"; } ); },
  { id = "gone"; name = "Former Doctor";
    devices = ( { channel = "pager"; gateway = "carrier-wctp"; pin = "0000000"; } ); },
  { id = "busy"; name = "Dr. Busy";
    devices = ( { channel = "pager"; pin = "6666666"; } ); },
  { id = "push"; name = "Dispatch Crew";
    devices = ( { channel = "pager"; gateway = "carrier-push"; pin = "5551212"; } ); }
);
rules = (
  { when = { kind = "dispatch"; }; notify = "contact:push"; },
  { when = { urgency = "emergency"; }; notify = "contact:oncall"; },
  { when = { urgency = "urgent"; }; notify = "contact:gone"; },
  { notify = "contact:busy"; }
);
CONF

mkdir -p "$T/wctp"
"$BUILD/peers/wctp_carrier" "$WCTP_PORT" "$T/wctp" acme s3cr3t >>"$T/wctp.log" 2>&1 &
CARRIER_PID=$!
wait_until 15 port_open "$WCTP_PORT" || { notok "WCTP carrier listening"; exit 1; }
start_daemon || exit 1

dfield() { msg_json "$1" | jq -r ".deliveries[0] | $2"; }
dstate_is() { [ "$(dfield "$1" .state)" = "$2" ]; }
# sent, or already delivered (the poll may report delivery at once)
out_is() { case $(dfield "$1" .state) in sent|delivered) return 0;; esac; return 1; }
attempts_ge() { [ "$(dfield "$1" '.attempts | length')" -ge "$2" ] 2>/dev/null; }
acked() { [ "$(msg_json "$1" | jq -r .acknowledged)" = true ]; }
submits_for() { awk -F'\t' -v r="$1" '$2 == r' "$T/wctp/submits" 2>/dev/null; }

# ---- an emergency page: submitted, delivered, acknowledged by reply ----
id=$(post_message '{"client":"wctp-clinic","urgency":"emergency","caller":{"name":"Zoë Park","phone":"555-0199"},"text":"Post-op patient bleeding, room 4"}')
check "emergency page accepted" test -n "$id"
check "the page is sent" wait_until 20 out_is "$id"
did=$(dfield "$id" .id)
ack=$(msg_json "$id" | jq -r .ack_ref)
check_eq "attempt ok with the carrier's confirmation" "ok WCTP 200 Message queued" \
  "$(dfield "$id" '.attempts[0] | "\(.outcome) \(.reply)"')"
sub=$(submits_for 4412)
check_eq "one wctp-SubmitRequest for PIN 4412" 1 "$(grep -c . <<<"$sub")"
IFS=$'\t' read -r mid rcpt prio text resp_to <<<"$sub"
check_eq "messageID is the delivery id" "$did" "$mid"
check_eq "emergency goes with deliveryPriority HIGH" HIGH "$prio"
check_eq "the page text, UTF-8 kept" \
  "emergency Harbor Clinic - ACK $ack\nZoë Park 555-0199\nPost-op patient bleeding, room 4" "$text"
check_eq "polling gateway: no sendResponsesToID" "-" "$resp_to"
check "carrier's DELIVERED status recorded as a receipt" wait_until 20 dstate_is "$id" delivered
check "the status message was acknowledged to the carrier (wctp-MessageReceived)" \
  wait_until 10 test -s "$T/wctp/acks"
printf '4412\tok\n' >"$T/wctp/reply"
check "the pager's reply \"ok\" acknowledges the message" wait_until 20 acked "$id"
check "the ledger records the acknowledgement" \
  bash -c "curl -s -H 'Authorization: Bearer $TOKEN' http://127.0.0.1:$HTTP_PORT/v1/messages/$id | jq -e '[.ledger[].type] | index(\"acknowledged\")' >/dev/null"

# ---- an unknown recipient: 403 fails the page ----
id=$(post_message '{"client":"wctp-clinic","urgency":"urgent","caller":{"name":"Al","phone":"555-0100"},"text":"call the front desk"}')
check "403: the page fails" wait_until 20 dstate_is "$id" failed
check_eq "403: one permanent attempt with the carrier's reply" \
  "1 perm WCTP 403 Invalid recipientID" \
  "$(dfield "$id" '"\(.attempts | length) \(.attempts[0].outcome) \(.attempts[0].reply)"')"

# ---- a carrier system error: 604 is retried ----
id=$(post_message '{"client":"wctp-clinic","caller":{"name":"Al","phone":"555-0100"},"text":"routine"}')
check "604: retried" wait_until 20 attempts_ge "$id" 2
check_eq "604: attempts are temporary with the carrier's reply" \
  "temp WCTP 604 Internal Server Error" "$(dfield "$id" '.attempts[0] | "\(.outcome) \(.reply)"')"

# ---- push: the carrier POSTs the reply to sendResponsesToID ----
id=$(post_message '{"client":"wctp-clinic","kind":"dispatch","caller":{"name":"Dispatch","phone":"555-0111"},"text":"Truck 4 to Elm St"}')
check "dispatch page sent through the push gateway" wait_until 20 out_is "$id"
did=$(dfield "$id" .id)
IFS=$'\t' read -r mid rcpt prio text resp_to <<<"$(submits_for 5551212)"
check_eq "sendResponsesToID is our callback for this delivery" \
  "http://127.0.0.1:$HTTP_PORT/cb/pager/wctp/$did/" "${resp_to%/*}/"
REPLY_XML='<?xml version="1.0" encoding="UTF-8"?>
<wctp-Operation wctpVersion="wctp-dtd-v1r3"><wctp-MessageReply>
<wctp-ResponseHeader responseToMessageID="'$did'"><wctp-Originator senderID="5551212"/>
<wctp-MessageControl messageID="r-1"/><wctp-Recipient recipientID="acme"/></wctp-ResponseHeader>
<wctp-Payload><wctp-Alphanumeric>ack</wctp-Alphanumeric></wctp-Payload></wctp-MessageReply></wctp-Operation>'
code=$(curl -s -o "$T/push.out" -w '%{http_code}' -H 'Content-Type: text/xml' --data-binary "$REPLY_XML" \
  "${resp_to%/*}/0123456789abcdef0123456789abcdef")
check_eq "a wrong callback token is refused" 403 "$code"
check "and acknowledges nothing" test "$(msg_json "$id" | jq -r .acknowledged)" = false
code=$(curl -s -o "$T/push.out" -w '%{http_code}' -H 'Content-Type: text/xml' --data-binary "$REPLY_XML" "$resp_to")
check_eq "the pushed reply is accepted" 200 "$code"
check "answered with wctp-Confirmation / wctp-Success 200" grep -q '<wctp-Success successCode="200"' "$T/push.out"
check "the pushed reply acknowledges the message" wait_until 10 acked "$id"

check "every request the carrier got was valid against the WCTP 1.3 DTD" \
  test ! -s "$T/wctp/invalid"
stop_daemon
check "carrier exits cleanly" stop_carrier
