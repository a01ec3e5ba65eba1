#!/usr/bin/env bash
# Content levels end to end on a real SMTP sink: one contact with a full
# email device and a content = "notify" email device (standing in for a
# pager gateway).  The notify mail carries the callback number (the
# daemon's default) and the ack reference and none of the text, the
# caller or the fields; the full mail carries everything.  The preview
# and the CLI show each device's level; a bad level is a file:line error.
. "$(dirname "$0")/lib.sh"
write_config
CALLBACK=+18005550100
echo "callback = \"$CALLBACK\";" >>"$T/etc/pagegate.conf"
cat >"$T/etc/clients/test-clinic.conf" <<'CONF'
id = "test-clinic";
name = "Test Clinic";
timezone = "America/Chicago";
business_hours = ( { days = "Sun-Sat"; from = "00:00"; to = "24:00"; } );
fields = ( { id = "address"; label = "Service address"; required = true; } );
contacts = (
  { id = "office"; name = "Front Office";
    devices = ( { channel = "email"; to = "office@clinic.example"; },
                { channel = "email"; to = "pager-gw@clinic.example"; content = "notify"; } ); }
);
rules = ( { notify = "contact:office"; } );
CONF
check "the configuration with content levels is valid" "$BUILD/pagegated" -n -c "$T/etc/pagegate.conf"
start_sink "$SMTP_PORT" || exit 1
start_daemon || exit 1

api POST /v1/route/preview '{"client":"test-clinic"}'
check_eq "preview: 200" 200 "$CODE"
check_eq "preview shows each device's content level" "office@clinic.example full,pager-gw@clinic.example notify" \
  "$(resp '[.deliveries[] | "\(.to) \(.content)"] | join(",")')"
out=$(PAGEGATE_URL="http://127.0.0.1:$HTTP_PORT" PAGEGATE_TOKEN=$TOKEN "$BUILD/pagegate" preview --client test-clinic 2>&1)
check "pagegate preview says content notify" grep -q "pager-gw@clinic.example.*content notify" <<<"$out"

SECRET='Post-op pain after knee surgery, oxycodone not helping (SECRET-7731)'
id=$(post_message "$(jq -n --arg t "$SECRET" '{client:"test-clinic",
  caller:{name:"Maria Lopez", phone:"+1 555 555 0142", company:"Lopez Family"},
  text:$t, fields:{address:"14 Oak St Apt 9"}}')")
check "message accepted" test -n "$id"
ref=$(resp .ack_ref)
[ -n "$ref" ] && [ "$ref" != null ] || ref=$(msg_json "$id" | jq -r .ack_ref)
check "both deliveries sent" wait_until 30 state_is "$id" sent
files=$(mail_for "$id")
check_eq "two mails for the message" 2 "$(wc -l <<<"$files")"
notify_file=; full_file=
for f in $files; do
  case $(parse_mail "$f" | jq -r .to_addr) in
    pager-gw@clinic.example) notify_file=$f ;;
    office@clinic.example) full_file=$f ;;
  esac
done
check "a mail reached the notify device" test -n "$notify_file"
check "a mail reached the full device" test -n "$full_file"
n=$(parse_mail "$notify_file"); full=$(parse_mail "$full_file")
nbody=$(jq -r .body <<<"$n"); nsubj=$(jq -r .subject <<<"$n")
check_eq "notify body: the default notify.txt" "Message waiting for Test Clinic.
Call $CALLBACK and give reference $ref." "$(printf %s "$nbody" | sed -e 's/\r$//' -e '/^$/d')"
check_eq "notify subject: the default notify.subject" \
  "[Test Clinic] message waiting - call $CALLBACK, reference $ref" "$nsubj"
for secret in SECRET-7731 oxycodone Maria Lopez "555 555 0142" 5555550142 "14 Oak" "Service address"; do
  check "the notify mail (decoded) does not contain '$secret'" \
    bash -c '! grep -qiF -- "$1" <<<"$2"' _ "$secret" "$nsubj$nbody"
  check "the notify mail (raw) does not contain '$secret'" bash -c '! grep -qiF -- "$1" "$2"' _ "$secret" "$notify_file"
done
fbody=$(jq -r .body <<<"$full")
check "the full mail contains the text" grep -qF "$SECRET" <<<"$fbody"
check "the full mail contains the caller" grep -qF "Maria Lopez" <<<"$fbody"
check "the full mail contains the field" grep -qF "Service address: 14 Oak St Apt 9" <<<"$fbody"
check "the full mail's subject names the caller" grep -qF "Maria Lopez" <<<"$(jq -r .subject <<<"$full")"
stop_daemon

# ---- bad levels and callback numbers: file:line ----
cat >"$T/etc/clients/test-clinic.conf" <<'CONF'
id = "test-clinic";
name = "Test Clinic";
timezone = "America/Chicago";
callback = "call the office";
content = { pagr = "notify"; sms = "brief"; };
contacts = ( { id = "office"; name = "Front Office";
  devices = ( { channel = "email"; to = "office@clinic.example"; content = "secret"; } ); } );
rules = ( { notify = "contact:office"; } );
CONF
"$BUILD/pagegate" check "$T/etc/pagegate.conf" >"$T/err" 2>&1; rc=$?
check "pagegate check rejects bad content settings" test "$rc" -ne 0
check "bad callback at its line" grep -q 'test-clinic.conf:4: bad callback "call the office"' "$T/err"
check "unknown channel in content at its line" grep -q 'test-clinic.conf:5: unknown channel "pagr" in content' "$T/err"
check "bad level for sms at its line" grep -q 'test-clinic.conf:5: bad content "brief" for sms' "$T/err"
check "bad device level at its line" grep -q 'test-clinic.conf:7: bad content "secret"' "$T/err"
