#!/usr/bin/env bash
# The check-in mailbox: a contact with checkin = true gets nothing pushed;
# its messages wait (surviving kill -9) until GET /v1/clients/{id}/mailbox
# retrieves them, which marks them delivered in the ledger; peek=true only
# lists them; the CLI prints them.  Another contact of the same rule gets
# its mail from smtp-sink as usual.
. "$(dirname "$0")/lib.sh"
write_config
cat >"$T/etc/clients/test-clinic.conf" <<'CONF'
id = "test-clinic";
name = "Test Clinic";
timezone = "America/Chicago";
business_hours = ( { days = "Sun-Sat"; from = "00:00"; to = "24:00"; } );
fields = ( { id = "address"; label = "Service address"; required = false; } );
contacts = (
  { id = "office"; name = "Front Office";
    devices = ( { channel = "email"; to = "office@clinic.example"; } ); },
  { id = "doc"; name = "Dr. Zoë Ångström"; checkin = true;
    devices = ( { channel = "email"; to = "doc@clinic.example"; } ); },
  { id = "nurse"; name = "Night Nurse"; checkin = true; }
);
rules = ( { notify = [ "contact:doc", "contact:office" ]; channels = [ "email" ]; } );
CONF
start_sink "$SMTP_PORT" || exit 1
start_daemon || exit 1
URL="http://127.0.0.1:$HTTP_PORT"
cli() { PAGEGATE_URL=$URL PAGEGATE_TOKEN=$TOKEN "$BUILD/pagegate" "$@"; }
mailbox_json() { curl -s -H "Authorization: Bearer $TOKEN" "$URL/v1/clients/test-clinic/mailbox$1"; }

# The preview shows the mailbox like any other delivery.
api POST /v1/route/preview '{"client":"test-clinic"}'
check_eq "preview: doc by mailbox" "doc mailbox doc" \
  "$(jq -r '.deliveries[] | select(.contact=="doc") | "\(.contact) \(.channel) \(.to)"' "$T/resp")"
check_eq "preview: office by email" "email" \
  "$(jq -r '.deliveries[] | select(.contact=="office") | .channel' "$T/resp")"
check "CLI preview shows the mailbox item" grep -q "doc (Dr. Zoë Ångström)  mailbox  doc  kept for check-in" \
  <<<"$(cli preview --client test-clinic)"

id1=$(post_message '{"client":"test-clinic","caller":{"name":"Maria Lopez","phone":"+1 555 555 0142","company":"Lopez Bakery"},"text":"Refill request for lisinopril.","fields":{"address":"14 Oak St"}}')
check "first message accepted" test -n "$id1"
check_eq "the doc's delivery is waiting in the mailbox" "mailbox waiting doc" \
  "$(jq -r '.deliveries[] | select(.contact=="doc") | "\(.channel) \(.state) \(.to)"' "$T/resp")"
id2=$(post_message '{"client":"test-clinic","caller":{"name":"Tom Reed","phone":"555-0199"},"text":"Lab results question, call back after 9."}')
check "second message accepted" test -n "$id2"

check "the office gets the first message by mail" wait_until 20 test -n "$(mail_for "$id1")"
check "the office gets the second message by mail" wait_until 20 test -n "$(mail_for "$id2")"
check "message 1 is waiting (email sent, mailbox open)" wait_until 20 state_is "$id1" waiting
check "message 2 is waiting" wait_until 20 state_is "$id2" waiting
check_eq "nothing was mailed to the checkin contact" "" \
  "$(grep -l 'doc@clinic.example' "$T"/mail/msg.* 2>/dev/null)"
check_eq "two mails in all, both to the office" 2 \
  "$(grep -l '^To:.*office@clinic.example' "$T"/mail/msg.* | wc -l)"
check_eq "no attempt was ever made on the mailbox delivery" 0 \
  "$(db_sql "select count(*) from attempts a join deliveries d on d.id = a.delivery_id where d.channel = 'mailbox'")"
curl -s "$URL/metrics" >"$T/metrics"
check "metrics: 2 messages waiting in mailboxes" grep -qx 'pagegate_mailbox_waiting 2' "$T/metrics"

# The waiting state survives a crash.
kill9_daemon
start_daemon || exit 1
check_eq "still waiting after kill -9 and restart" waiting "$(msg_state "$id1")"

mailbox_json "?peek=true" >"$T/peek"
check_eq "peek lists 2" 2 "$(jq '.messages | length' "$T/peek")"
check_eq "peek says not retrieved" false "$(jq '.retrieved' "$T/peek")"
check_eq "peek oldest first" "$id1 $id2" "$(jq -r '[.messages[].id] | join(" ")' "$T/peek")"
check_eq "peek leaves them waiting" waiting "$(msg_state "$id1")"
check_eq "HEAD only peeks" 200 "$(curl -s -o /dev/null -w '%{http_code}' -I -H "Authorization: Bearer $TOKEN" "$URL/v1/clients/test-clinic/mailbox")"
check_eq "still 2 waiting after the HEAD" 2 "$(mailbox_json "?peek=true" | jq '.messages | length')"

api GET "/v1/clients/test-clinic/mailbox?contact=nurse"
check_eq "the nurse's mailbox is empty" "200 0" "$CODE $(resp '.messages | length')"

api GET "/v1/clients/test-clinic/mailbox?by=Dr.%20Angstrom%20by%20phone"
check_eq "GET answers 200" 200 "$CODE"
cp "$T/resp" "$T/take"
check_eq "GET lists 2" 2 "$(jq '.messages | length' "$T/take")"
check_eq "GET says retrieved" true "$(jq '.retrieved' "$T/take")"
check_eq "with their texts" "Refill request for lisinopril.|Lab results question, call back after 9." \
  "$(jq -r '[.messages[].text] | join("|")' "$T/take")"
check_eq "with caller, phone, company, field" "Maria Lopez|+1 555 555 0142|Lopez Bakery|14 Oak St" \
  "$(jq -r '.messages[0] | "\(.caller.name)|\(.caller.phone)|\(.caller.company)|\(.fields.address)"' "$T/take")"
check_eq "with the ack reference" "$(msg_json "$id1" | jq -r .ack_ref)" "$(jq -r '.messages[0].ack_ref' "$T/take")"
check_eq "for the doc" "doc|Dr. Zoë Ångström" "$(jq -r '.messages[0] | "\(.contact)|\(.contact_name)"' "$T/take")"
check_eq "message state: sent (email sent, mailbox delivered)" sent "$(jq -r '.messages[0].state' "$T/take")"
msg_json "$id1" >"$T/m1"
check_eq "the mailbox delivery is delivered" delivered \
  "$(jq -r '.deliveries[] | select(.channel=="mailbox") | .state' "$T/m1")"
check_eq "the ledger: delivered, retrieved by whom" \
  "retrieved from the mailbox by Dr. Angstrom by phone (operator tester)" \
  "$(jq -r '.ledger[] | select(.type=="delivered") | .detail' "$T/m1")"
check_eq "a second GET lists 0" 0 "$(mailbox_json "" | jq '.messages | length')"
check_eq "the store agrees: nothing waiting" 0 \
  "$(db_sql "select count(*) from deliveries where state = 'waiting'")"
curl -s "$URL/metrics" >"$T/metrics"
check "metrics: nothing waiting any more" grep -qx 'pagegate_mailbox_waiting 0' "$T/metrics"

# The CLI: peek, then retrieve, printing each message readably.
id3=$(post_message '{"client":"test-clinic","urgency":"urgent","caller":{"name":"Ann Bell","phone":"555-0123"},"text":"Fever 39.5 since noon.\nAsks for a call.","fields":{"address":"3 Elm Rd"}}')
check "third message accepted" test -n "$id3"
ref3=$(resp .ack_ref)
out=$(cli mailbox --peek test-clinic)
check "CLI --peek lists the message as left in the mailbox" grep -q "1 message waiting (peek" <<<"$out"
check_eq "CLI --peek leaves it waiting" 1 "$(mailbox_json "?peek=true" | jq '.messages | length')"
out=$(cli mailbox test-clinic --contact doc --by "Dr. A")
check "CLI says retrieved" grep -q "Mailbox of test-clinic for doc: 1 message retrieved" <<<"$out"
check "CLI prints the caller" grep -q "caller    Ann Bell" <<<"$out"
check "CLI prints the phone" grep -q "phone     555-0123" <<<"$out"
check "CLI prints the text on two lines" bash -c 'grep -q "text      Fever 39.5 since noon." <<<"$1" && grep -q "^            Asks for a call.$" <<<"$1"' _ "$out"
check "CLI prints the field" grep -q "field     address: 3 Elm Rd" <<<"$out"
check "CLI prints the ack ref" grep -q "ack ref   $ref3" <<<"$out"
check "CLI prints the contact and urgency" grep -q "#$id3 .* for doc (Dr. Zoë Ångström)  message/urgent" <<<"$out"
check_eq "CLI retrieval marked it delivered" "retrieved from the mailbox by Dr. A (operator tester)" \
  "$(msg_json "$id3" | jq -r '.ledger[] | select(.type=="delivered") | .detail')"
out=$(cli mailbox test-clinic)
check "CLI on an empty mailbox" grep -q "0 messages waiting" <<<"$out"

# Errors.
api GET /v1/clients/no-such-client/mailbox
check_eq "unknown client -> 404 naming client" "404 client" "$CODE $(resp .error.field)"
api GET "/v1/clients/test-clinic/mailbox?contact=nobody"
check_eq "unknown contact -> 404 naming contact" "404 contact" "$CODE $(resp .error.field)"
api GET "/v1/clients/test-clinic/mailbox?peek=maybe"
check_eq "bad peek -> 400 naming peek" "400 peek" "$CODE $(resp .error.field)"
api GET "/v1/clients/test-clinic/mailbox?take=1"
check_eq "unknown parameter -> 400 naming it" "400 take" "$CODE $(resp .error.field)"
api GET "/v1/clients/test-clinic/mailbox?peek=true&peek=false"
check_eq "repeated parameter -> 400 naming it" "400 invalid peek" \
  "$CODE $(resp .error.code) $(resp .error.field)"
check_eq "no token -> 401" 401 "$(curl -s -o /dev/null -w '%{http_code}' "$URL/v1/clients/test-clinic/mailbox")"
check_eq "POST -> 405" 405 "$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" "$URL/v1/clients/test-clinic/mailbox")"
cli mailbox no-such-client >/dev/null 2>&1
check_eq "CLI on an unknown client exits 1" 1 "$?"
stop_daemon
exit 0
