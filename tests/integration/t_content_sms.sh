#!/usr/bin/env bash
# Content levels by SMS through a real Kannel and its fake SMSC: the
# client's channel default sms = "summary" sends the text cut at a word
# with "…", which goes as "..." so that the SMS stays GSM-7 (and no
# fields); a device at content = "notify" sends only the
# callback number and the ack reference.  What the SMSC received is
# decoded here (GSM text, UCS-2, concatenated UDH segments).
. "$(dirname "$0")/lib.sh"
. "$ROOT/tests/peers/kannel.sh"

SUMNUM=+15555550111; NOTNUM=+15555550122; CALLBACK=+18005550100
kannel_config "http://127.0.0.1:$HTTP_PORT/cb/sms/kannel/inbound?token=x&from=%p&to=%P&text=%a"
write_config
cat >>"$T/etc/pagegate.conf" <<CONF
sms = ( { name = "kannel"; kind = "kannel"; url = "$K_SENDSMS_URL";
          username = "$K_USER"; password = "$K_PASS"; from = "5550000";
          dlr_mask = 0; rate = 0; timeout = 5; connect_timeout = 2; } );
CONF
cat >"$T/etc/clients/test-clinic.conf" <<CONF
id = "test-clinic";
name = "Test Clinic";
timezone = "America/Chicago";
callback = "$CALLBACK";
business_hours = ( { days = "Sun-Sat"; from = "00:00"; to = "24:00"; } );
fields = ( { id = "address"; label = "Service address"; } );
content = { sms = "summary"; };
contacts = (
  { id = "tech"; name = "Tech";
    devices = ( { channel = "sms"; to = "$SUMNUM"; max_segments = 5; },
                { channel = "sms"; to = "$NOTNUM"; content = "notify"; } ); }
);
rules = ( { notify = "contact:tech"; } );
templates = { sms_txt = "{{client.name}}: {{caller.name}} {{caller.phone}}. Ref {{message.ack_ref}}\n{{text}}\n{{fields}}"; };
CONF

cleanup_sms() { kannel_stop; cleanup; }
trap cleanup_sms EXIT
kannel_start || exit 1
start_sink "$SMTP_PORT" || exit 1
start_daemon || exit 1

sms_to() { received | jq -r --arg n "$1" 'select(.to == $n) | .text'; }
has_sms_to() { test -n "$(sms_to "$1")"; }

TEXT='Furnace out at 12 Elm St and the kids are home alone with their grandmother tonight, please call back SECRET-5521'
id=$(post_message "$(jq -n --arg t "$TEXT" '{client:"test-clinic",
  caller:{name:"Ann Lee", phone:"555-0142"}, text:$t, fields:{address:"14 Oak St"}}')")
check "message accepted" test -n "$id"
ref=$(msg_json "$id" | jq -r .ack_ref)
check "the summary SMS reaches the SMSC" wait_until 20 has_sms_to "$SUMNUM"
check "the notify SMS reaches the SMSC" wait_until 20 has_sms_to "$NOTNUM"
check_eq "summary: the text cut at a word with an ellipsis (\"...\" in GSM-7), no fields" \
  "Test Clinic: Ann Lee 555-0142. Ref $ref
Furnace out at 12 Elm St and the kids are home alone with their grandmother..." \
  "$(sms_to "$SUMNUM")"
check_eq "summary: one GSM-7 SMS (the \"…\" would make it 2 in UCS-2)" 1 \
  "$(kannel_got | grep -c "^5550000 $SUMNUM text ")"
check "the summary SMS has no fields" bash -c '! grep -q "14 Oak" <<<"$1"' _ "$(sms_to "$SUMNUM")"
check_eq "notify: the callback number and the reference only" \
  "Message waiting for Test Clinic.
Call $CALLBACK and give reference $ref." "$(sms_to "$NOTNUM" | sed '/^$/d')"
check "both deliveries sent" wait_until 20 state_is "$id" sent
check "nothing of the text past the cut was sent" bash -c '! grep -q SECRET-5521 "$1"' _ "$K_DIR/fakesmsc.out"
stop_daemon
