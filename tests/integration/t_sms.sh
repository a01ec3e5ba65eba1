#!/usr/bin/env bash
# SMS through a real Kannel (bearerbox + smsbox) and its fake SMSC: the
# text that reaches the SMSC (ASCII, UCS-2 with emoji, several concatenated
# segments, truncation), delivery reports, a reply from the phone that
# acknowledges the message, bad credentials (403) and Kannel down at
# first.  Twilio's signed inbound webhook and forged callbacks are refused
# or accepted by the real daemon.  The client has its own sms.txt with the
# signed acknowledgement link ({{ack_url}}: the layout of the default before
# issue 13), so the link path is tested too; t_sms_lang tests the default.
. "$(dirname "$0")/lib.sh"
. "$ROOT/tests/peers/kannel.sh"

INTOK=inbound-$RANDOM$RANDOM$RANDOM-token
TW_TOKEN=twilio-auth-$RANDOM$RANDOM
NUM=+15555550111
kannel_config "http://127.0.0.1:$HTTP_PORT/cb/sms/kannel/inbound?token=$INTOK&from=%p&to=%P&text=%a&coding=%c&charset=%C"

write_config
sed -i "s/^retry = { email = /retry = { sms = { base = \"1s\"; cap = \"2s\"; give_up = \"1h\"; }; email = /" \
  "$T/etc/pagegate.conf"
cat >>"$T/etc/pagegate.conf" <<CONF
sms = (
  { name = "kannel"; kind = "kannel"; url = "$K_SENDSMS_URL";
    username = "$K_USER"; password = "$K_PASS"; from = "5550000";
    dlr_mask = 31; rate = 20; timeout = 5; connect_timeout = 2;
    inbound_token = "$INTOK"; },
  { name = "kannel-badpw"; kind = "kannel"; url = "$K_SENDSMS_URL";
    username = "$K_USER"; password = "not-the-password"; from = "5550000"; },
  { name = "twilio"; kind = "twilio"; account_sid = "AC00000000000000000000000000000000";
    auth_token = "$TW_TOKEN"; from = "+15550000"; url = "http://127.0.0.1:9"; }
);
CONF
cat >"$T/etc/clients/test-clinic.conf" <<CONF
id = "test-clinic";
name = "Test Clinic";
dnis = [ "8005550100" ];
timezone = "America/Chicago";
business_hours = ( { days = "Sun-Sat"; from = "00:00"; to = "24:00"; } );
contacts = (
  { id = "office"; name = "On call";
    devices = ( { channel = "sms"; to = "$NUM"; gateway = "kannel"; max_segments = 3; } ); },
  { id = "bad"; name = "Wrong password";
    devices = ( { channel = "sms"; to = "+15555550122"; gateway = "kannel-badpw"; } ); }
);
rules = (
  { when = { urgency = "emergency"; }; notify = "contact:bad"; },
  { notify = "contact:office"; }
);
templates = { sms_txt = "{{client.name}}: {{caller.name}} {{caller.phone}}. Reply ACK {{message.ack_ref}} or open {{ack_url}}\n{{text}}\n"; };
CONF

cleanup_sms() { kannel_stop; cleanup; }
trap cleanup_sms EXIT
kannel_start || exit 1
start_daemon || exit 1

# The last SMS received for $NUM whose text contains $2 (JSON).
sms_with() { received "$1" | jq -c --arg n "$NUM" --arg s "$2" 'select(.to == $n and (.text | contains($s)))' | tail -1; }
has_sms() { test -n "$(sms_with "$1" "$2")"; }
# The signed acknowledgement link in an SMS text (JSON from sms_with).
link_in() { jq -r .text <<<"$1" | grep -oE 'http://[^ ]+/a/[A-Za-z0-9_-]+' | head -1; }
dstate() { msg_json "$1" | jq -r '.deliveries[0].state'; }
dstate_is() { [ "$(dstate "$1")" = "$2" ]; }
acked() { [ "$(msg_json "$1" | jq -r .acknowledged)" = true ]; }
first_outcome_is() { [ "$(msg_json "$1" | jq -r '.deliveries[0].attempts[0].outcome')" = "$2" ]; }
post() {   # CALLER_NAME PHONE TEXT [URGENCY]
  post_message "$(jq -n --arg n "$1" --arg p "$2" --arg t "$3" --arg u "${4:-routine}" \
    '{client:"test-clinic", urgency:$u, caller:{name:$n, phone:$p}, text:$t}')"
}

# ---- ASCII: the text at the SMSC, the delivery report ----
TEXT1='Furnace out at 12 Elm St; kids home. Call back after 6pm.'
id1=$(post "Ann Lee" "555-0142" "$TEXT1")
check "ASCII message accepted" test -n "$id1"
ref1=$(msg_json "$id1" | jq -r .ack_ref)
check "message has a 6-digit ack reference" grep -qE '^[0-9]{6}$' <<<"$ref1"
check "the fake SMSC receives it" wait_until 20 has_sms gsm "Reply ACK $ref1"
s1=$(sms_with gsm "Reply ACK $ref1")
link1=$(link_in "$s1")
check "the SMS carries the message's signed link" grep -qE "^http://127.0.0.1:$HTTP_PORT/a/[A-Za-z0-9_-]{20,40}\$" <<<"$link1"
check_eq "exact text at the SMSC (the client's template)" \
  "Test Clinic: Ann Lee 555-0142. Reply ACK $ref1 or open $link1
$TEXT1" "$(jq -r .text <<<"$s1")"
check_eq "from the configured sender, two segments" "5550000 2" "$(jq -r '"\(.from) \(.segments)"' <<<"$s1")"
check "the delivery report marks it delivered" wait_until 20 dstate_is "$id1" delivered
m1=$(msg_json "$id1")
check_eq "attempt ok with Kannel's reply" "ok 202 0: Accepted for delivery" \
  "$(jq -r '.deliveries[0].attempts[0] | "\(.outcome) \(.reply)"' <<<"$m1")"
check "ledger records Kannel's report" \
  test "$(jq -r '[.ledger[] | select(.type == "delivered") | .detail] | .[0]' <<<"$m1")" = \
  "kannel report 1: delivered to phone (smsc FAKE)"

# ---- non-Latin text: UCS-2, one segment and several ----
TEXT2='Ωμέγα 🔥 ok'
id2=$(post "Zoë" "555-0143" "$TEXT2")
ref2=$(msg_json "$id2" | jq -r .ack_ref)
check "Greek + emoji message reaches the SMSC" wait_until 20 has_sms ucs2 "Reply ACK $ref2"
s2=$(sms_with ucs2 "Reply ACK $ref2")
check_eq "decoded UCS-2 text, emoji intact, two segments" "2 Test Clinic: Zoë 555-0143. Reply ACK $ref2 or open $(link_in "$s2")
$TEXT2" "$(jq -r '"\(.segments) \(.text)"' <<<"$s2")"
check "Greek message delivered" wait_until 20 dstate_is "$id2" delivered

TEXT3='Пожар на кухне, дети дома. Перезвоните как можно скорее! 🔥'
id3=$(post "Иван Петров" "+7 495 555-0100" "$TEXT3")
ref3=$(msg_json "$id3" | jq -r .ack_ref)
check "long Cyrillic message reaches the SMSC" wait_until 20 has_sms ucs2 "Reply ACK $ref3"
s3=$(sms_with ucs2 "Reply ACK $ref3")
check_eq "Cyrillic text reassembled from 3 UCS-2 segments" "3 Test Clinic: Иван Петров +7 495 555-0100. Reply ACK $ref3 or open $(link_in "$s3")
$TEXT3" "$(jq -r '"\(.segments) \(.text)"' <<<"$s3")"

# ---- long ASCII text: cut to max_segments = 3 (3 x 153 septets) ----
LONG="Long: $(printf '0123456789%.0s' {1..60})"
id4=$(post "Bo" "555-0144" "$LONG")
ref4=$(msg_json "$id4" | jq -r .ack_ref)
check "long text reaches the SMSC" wait_until 20 has_sms gsm "Reply ACK $ref4"
s4=$(sms_with gsm "Reply ACK $ref4")
link4=$(link_in "$s4")
full="Test Clinic: Bo 555-0144. Reply ACK $ref4 or open $link4
$LONG"
check_eq "3 segments, cut after 456 characters with \"...\"" "3 ${full:0:456}..." \
  "$(jq -r '"\(.segments) \(.text)"' <<<"$s4")"
seglens=$(kannel_got | grep -F " udh " | awk '{print $6}' | while read -r d; do $PY -c \
  'import sys,urllib.parse as u;print(len(u.unquote_to_bytes(sys.argv[1].replace("+", " "))))' "$d"; done | tail -3 | tr '\n' ' ')
check_eq "each segment carries 153 characters" "153 153 153 " "$seglens"

# ---- a reply from the phone acknowledges the message ----
check "fake SMSC sends the reply \"ACK $ref1\"" kannel_inject "$NUM 5550000 text ACK $ref1"
check "the reply acknowledges message 1" wait_until 20 acked "$id1"
m1=$(msg_json "$id1")
check "acked_by names the phone" grep -qF "$NUM" <<<"$(jq -r .acked_by <<<"$m1")"
check_eq "ledger has one acknowledged event" 1 \
  "$(jq '[.ledger[] | select(.type == "acknowledged")] | length' <<<"$m1")"
check_eq "message 2 is not acknowledged by it" false "$(msg_json "$id2" | jq -r .acknowledged)"

# ---- the link in an SMS acknowledges too (via "sms link") ----
code=$(curl -s -o /dev/null -w '%{http_code}' "$link4")
check_eq "GET of the SMS's link: 200, and it acknowledges nothing" "200 false" "$code $(msg_json "$id4" | jq -r .acknowledged)"
code=$(curl -s -o "$T/linkpage" -w '%{http_code}' -X POST --data '' "$link4")
check_eq "POST of the SMS's link: 200" 200 "$code"
check_eq "message 4 acknowledged by the contact via sms link" "true On call via sms link" \
  "$(msg_json "$id4" | jq -r '"\(.acknowledged) \(.acked_by)"')"

# ---- Twilio's signed inbound webhook (same core path) ----
twilio_post() {   # BODY SIGNATURE -> status code
  curl -s -o "$T/tw" -w '%{http_code}' -H "X-Twilio-Signature: $2" \
    -H 'Content-Type: application/x-www-form-urlencoded' --data-binary "$1" \
    "http://127.0.0.1:$HTTP_PORT/cb/sms/twilio/inbound"
}
tw_body="MessageSid=SM1&AccountSid=AC00000000000000000000000000000000&From=%2B15555550111&To=%2B15550000&Body=ack+$ref2"
tw_sig=$($PY -c '
import base64, hashlib, hmac, sys, urllib.parse as u
url, body, key = sys.argv[1:4]
f = sorted(u.parse_qsl(body, keep_blank_values=True), key=lambda kv: kv[0])
s = url + "".join(k + v for k, v in f)
print(base64.b64encode(hmac.new(key.encode(), s.encode(), hashlib.sha1).digest()).decode())
' "http://127.0.0.1:$HTTP_PORT/cb/sms/twilio/inbound" "$tw_body" "$TW_TOKEN")
check_eq "unsigned Twilio webhook is refused" 403 "$(twilio_post "$tw_body" "AAAAAAAAAAAAAAAAAAAAAAAAAAA=")"
check_eq "message 2 still unacknowledged" false "$(msg_json "$id2" | jq -r .acknowledged)"
check_eq "signed Twilio webhook accepted" 200 "$(twilio_post "$tw_body" "$tw_sig")"
check "it answers empty TwiML" grep -q '<Response></Response>' "$T/tw"
check "signed \"ack $ref2\" acknowledges message 2" wait_until 10 acked "$id2"

# ---- forged callbacks change nothing ----
did3=$(msg_json "$id3" | jq -r '.deliveries[0].id')
st3=$(dstate "$id3")
code=$(curl -s -o /dev/null -w '%{http_code}' \
  "http://127.0.0.1:$HTTP_PORT/cb/sms/dlr/$did3/00000000000000000000000000000000?type=16")
check_eq "delivery report with a forged token: 403" 403 "$code"
check_eq "delivery state unchanged" "$st3" "$(dstate "$id3")"
code=$(curl -s -o /dev/null -w '%{http_code}' \
  "http://127.0.0.1:$HTTP_PORT/cb/sms/kannel/inbound?token=wrong-token-123456&from=%2B15555550111&text=ack+$ref3")
check_eq "inbound with a wrong token: 403" 403 "$code"
check_eq "message 3 not acknowledged" false "$(msg_json "$id3" | jq -r .acknowledged)"

# ---- bad credentials: Kannel answers 403 -> failed with the reason ----
id5=$(post "Cy" "555-0145" "wrong password test" emergency)
check "message via the bad-password provider fails" wait_until 20 dstate_is "$id5" failed
check_eq "one attempt, perm, with Kannel's 403" "1 perm 403 Authorization failed for sendsms" \
  "$(msg_json "$id5" | jq -r '.deliveries[0].attempts | "\(length) \(.[0].outcome) \(.[0].reply)"')"

# ---- a burst: sent concurrently within the provider's rate (20/s) ----
ids=()
for i in 1 2 3 4 5 6 7 8; do ids+=("$(post "Burst $i" "555-01$i$i" "burst message $i")"); done
all_delivered() { local x; for x in "${ids[@]}"; do dstate_is "$x" delivered || return 1; done; }
check "8 messages posted at once are all delivered" wait_until 20 all_delivered
burst_count() { received gsm | jq -r '.text' | grep -cE '^burst message [1-8]$'; }
burst_all() { [ "$(burst_count)" -ge 8 ]; }
wait_until 10 burst_all   # fakesmsc prints just after the report
check_eq "the SMSC received each of them once" 8 "$(burst_count)"

# ---- Kannel down when the message is accepted: retried, then delivered ----
kannel_stop
id6=$(post "Dee" "555-0146" "sent while Kannel is down")
ref6=$(msg_json "$id6" | jq -r .ack_ref)
check "first attempt fails temporarily" wait_until 20 first_outcome_is "$id6" temp
check "the reply says why" grep -qi "connect" <<<"$(msg_json "$id6" | jq -r '.deliveries[0].attempts[0].reply')"
check "the delivery is not given up" test "$(dstate "$id6")" != failed
kannel_start || exit 1
check "delivered after Kannel starts" wait_until 30 dstate_is "$id6" delivered
check "the SMSC received it" wait_until 10 has_sms gsm "Reply ACK $ref6"
check "more than one attempt was made" \
  test "$(msg_json "$id6" | jq '.deliveries[0].attempts | length')" -ge 2

stop_daemon
kannel_stop
