#!/usr/bin/env bash
# The board and the operator's actions, with curl and the CLI against a
# real daemon and SMTP sinks (one that refuses a recipient for good):
# GET /v1/board's views, search and rows (escalation step, who was paged,
# next step time, failed deliveries with the far end's reply, held until,
# attention and overdue); resend to another contact reaching the sink as
# a new delivery of the same message; notes; silencing the alarm of a
# message nobody acknowledged; bulk acknowledge and bulk note; pagegate
# resend and pagegate note.
. "$(dirname "$0")/lib.sh"
write_config
# a second relay that refuses every recipient for good (5xx at RCPT)
REFUSER_PORT=$(free_port)
sed -i "s|timeout = 10; batch = 20; } );|timeout = 10; batch = 20; },\n         { name = \"refuser\"; host = \"127.0.0.1\"; port = $REFUSER_PORT; starttls = \"off\";\n           from = \"pagegate@test.example\"; timeout = 10; } );|" "$T/etc/pagegate.conf"
cat >"$T/etc/clients/acme.conf" <<'CONF'
id = "acme-hvac";
name = "Acme Heating & Cooling";
dnis = [ "8005550142" ];
timezone = "America/Chicago";
business_hours = ( { days = "Sun-Sat"; from = "00:00"; to = "24:00"; } );
contacts = (
  { id = "jane"; name = "Jane Ortiz"; devices = ( { channel = "email"; to = "jane@acme.example"; } ); },
  { id = "raj"; name = "Raj Patel"; devices = ( { channel = "email"; to = "raj@acme.example"; } ); },
  { id = "gone"; name = "Old Office"; devices = ( { channel = "email"; to = "nobody@acme.example";
                                                      gateway = "refuser"; } ); }
);
escalation = ( { id = "fast"; repeat = 1;
  steps = ( { notify = "contact:jane"; wait = "3s"; },
            { notify = "contact:raj"; wait = "3s"; } ); } );
rules = (
  { when = { kind = "dispatch"; }; escalate = "fast"; },
  { when = { urgency = "urgent"; }; notify = "contact:gone"; },
  { notify = "contact:jane"; }
);
CONF
cat >"$T/etc/clients/lakeside.conf" <<'CONF'
id = "lakeside";
name = "Lakeside Family Clinic";
timezone = "UTC";
contacts = ( { id = "desk"; name = "Front desk"; devices = ( { channel = "email"; to = "desk@lakeside.example"; } ); } );
rules = ( { notify = "contact:desk"; } );
CONF
start_sink "$REFUSER_PORT" -f RCPT || exit 1
REFUSER_PID=$SINK_PID
trap 'kill "$REFUSER_PID" 2>/dev/null; cleanup' EXIT
start_sink "$SMTP_PORT" || exit 1
start_daemon || exit 1
URL="http://127.0.0.1:$HTTP_PORT"
board() { curl -s -H "Authorization: Bearer $TOKEN" "$URL/v1/board$1"; }
msg() { jq -nc --arg t "$1" --arg u "$2" --arg k "$3" --arg n "$4" \
  '{client:"acme-hvac",kind:$k,urgency:$u,caller:{name:$n,phone:"+1 555 555 0142"},text:$t}'; }
rows() { board "$1" | jq -r '[.messages[].id] | join(",")'; }

dsp=$(post_message "$(msg "No heat at all, baby at home" emergency dispatch "Maria Lopez")")
u=$(post_message "$(msg "Thermostat blank" urgent message "Ann Lee")")
r=$(post_message "$(msg "Please call about a quote" routine message "Bo Nguyen")")
check "three messages" test -n "$dsp" -a -n "$u" -a -n "$r"

# (not "d": check's own local variable would hide it inside a check)
# the refused delivery fails for good; the dispatch escalates
failed_now() { [ "$(msg_json "$u" | jq -r '.deliveries[0].state')" = failed ]; }
check "the delivery to the refused address fails" wait_until 20 failed_now
check_eq "the board (needs): the dispatch first, then the failed one; the routine one is not there" \
  "$dsp,$u" "$(rows '')"
row=$(board '' | jq -c ".messages[] | select(.id == $dsp)")
check_eq "the dispatch's row: step 1 of 2, Jane paged, a next step time" "1 2 Jane Ortiz true" \
  "$(jq -r '"\(.escalation.step) \(.escalation.steps) \(.escalation.paged | join(",")) \(.escalation.next_step_at | test("^20"))"' <<<"$row")"
check_eq "with client, caller and times" "Acme Heating & Cooling Maria Lopez true true" \
  "$(jq -r '"\(.client_name) \(.caller.name) \(.received | test("^20")) \(.last_event_at | test("^20"))"' <<<"$row")"
row=$(board '' | jq -c ".messages[] | select(.id == $u)")
check_eq "the failed row names the contact and the far end's reply" "gone 5" \
  "$(jq -r '"\(.failed[0].contact) \(.failed[0].reply[0:1])"' <<<"$row")"
check_eq "and is overdue (a failed delivery)" true "$(jq -r .overdue <<<"$row")"
check_eq "view=failed" "$u" "$(rows '?view=failed')"
check_eq "view=escalating" "$dsp" "$(rows '?view=escalating')"
check_eq "view=all, newest first" "$r,$u,$dsp" "$(rows '?view=all&client=acme-hvac')"
check_eq "search by caller name, any case" "$r" "$(rows '?view=all&q=nguy')"
check_eq "search by phone digits" "$r,$u,$dsp" "$(rows '?view=all&q=555-0142')"
check_eq "search by client" "$r,$u,$dsp" "$(rows '?view=all&q=acme')"
check_eq "search finds nothing" "" "$(rows '?view=all&q=zzz')"
lk=$(post_message '{"client":"lakeside","caller":{"name":"Ørjan Ålesund","phone":"+47 22 33 44 55"},"text":"Prescription refill"}')
check "a message for another client" test -n "$lk"
check_eq "search by the client's name, not its id" "$lk" "$(rows '?view=all&q=family')"
check_eq "search by a caller's name in another case (not ASCII)" "$lk" "$(rows '?view=all&q=%C3%B8rjan')"
check_eq "and in capitals" "$lk" "$(rows '?view=all&q=%C3%98RJAN')"
check_eq "search by the client's name with a part of the id too" "$r,$u,$dsp" "$(rows '?view=all&q=heating')"
api GET /v1/clients/acme-hvac
check_eq "the client's contacts, for a resend: ids" "jane,raj,gone" "$(resp '[.contacts[].id] | join(",")')"
check_eq "with names and devices" "Raj Patel email raj@acme.example false" \
  "$(resp '.contacts[1] | "\(.name) \(.devices[0].channel) \(.devices[0].to) \(.checkin)"')"
check_eq "by id" "$u" "$(rows "?view=all&id=$u")"
check_eq "a date range that ends before them: none" "" "$(rows '?view=all&until=2020-01-01T00:00:00Z')"
check_eq "limit 1 says there is more" "1 true" "$(board '?view=all&limit=1' | jq -r '"\(.messages | length) \(.more)"')"
check_eq "a bad view: 400 naming it" "400 view" \
  "$(curl -s -o "$T/resp" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$URL/v1/board?view=soon") $(resp .error.field)"
check_eq "an unknown parameter: 400" 400 \
  "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$URL/v1/board?colour=red")"

# the escalation runs out: the dispatch wants attention
exhausted() { [ "$(msg_json "$dsp" | jq -r .escalation.state)" = exhausted ]; }
check "the escalation runs out unanswered" wait_until 20 exhausted
row=$(board '' | jq -c ".messages[] | select(.id == $dsp)")
check_eq "its row wants attention, is overdue and first" "true true $dsp" \
  "$(jq -r '"\(.attention) \(.overdue)"' <<<"$row") $(rows '' | cut -d, -f1)"
check_eq "and so does the message itself" "true null" "$(msg_json "$dsp" | jq -r '"\(.attention) \(.silenced_by)"')"
api POST "/v1/messages/$r/silence" '{}'
check_eq "silencing a message that wants no attention: 409" 409 "$CODE"
api POST "/v1/messages/$dsp/silence" '{}'
check_eq "silencing the alarm: 200" "200 tester" "$CODE $(resp .silenced_by)"
row=$(board '' | jq -c ".messages[] | select(.id == $dsp)")
check_eq "the row wants no attention now, and says who silenced it" "false tester" \
  "$(jq -r '"\(.attention) \(.silenced_by)"' <<<"$row")"
check_eq "the message too" "false tester" "$(msg_json "$dsp" | jq -r '"\(.attention) \(.silenced_by)"')"
check "the ledger has it" bash -c "msg_json() { curl -s -H 'Authorization: Bearer $TOKEN' '$URL/v1/messages/'\$1; }; msg_json $dsp | jq -e '.ledger[] | select(.type == \"silenced\" and .detail == \"alarm silenced by tester\")' >/dev/null"

# resend the failed one to another contact
api POST "/v1/messages/$u/resend" '{"contact":"raj","channel":"email"}'
check_eq "resend: 201" 201 "$CODE"
rd=$(resp '.deliveries[0].id')
check_eq "a new delivery of the same message, to Raj" "$u raj raj@acme.example" "$(resp '"\(.id) \(.deliveries[0].contact) \(.deliveries[0].to)"')"
reached() { [ -n "$(mail_for "$u")" ]; }
check "the resent mail reaches the sink" wait_until 20 reached
check_eq "addressed to Raj" raj@acme.example "$(parse_mail "$(mail_for "$u" | head -1)" | jq -r .to_addr)"
check "the ledger names who resent it, to whom" bash -c \
  "curl -s -H 'Authorization: Bearer $TOKEN' '$URL/v1/messages/$u' | jq -e '.ledger[] | select(.type == \"resent\" and .detail == \"by tester to raj by email\")' >/dev/null"
check_eq "and the message has both deliveries" 2 "$(msg_json "$u" | jq '.deliveries | length')"
check_eq "resent, its failure needs nobody: the board keeps only the dispatch" "$dsp" "$(rows '')"
row=$(board '?view=failed' | jq -c ".messages[] | select(.id == $u)")
check_eq "the failed view still shows the failure, resent since, not overdue" "true false" \
  "$(jq -r '"\(.failed[0].resent) \(.overdue)"' <<<"$row")"
api POST "/v1/messages/$u/resend" '{"contact":"nobody","channel":"email"}'
check_eq "resend to an unknown contact: 400 naming it" "400 contact" "$CODE $(resp .error.field)"
api POST "/v1/messages/$u/resend" '{"contact":"raj","channel":"sms"}'
check_eq "to a channel the contact has no device on: 400" "400 channel" "$CODE $(resp .error.field)"
api POST "/v1/messages/999999/resend" '{"contact":"raj","channel":"email"}'
check_eq "of an unknown message: 404" 404 "$CODE"

# an operator's cancel takes a message off the board; escalating again
# brings it back
d2=$(post_message "$(msg "Boiler pressure low" urgent dispatch "Cy Young")")
check "another dispatch, escalating" test -n "$d2"
on_board() { rows '' | tr , '\n' | grep -qx "$d2"; }
off_board() { ! on_board; }
check "it needs a human" on_board
api POST "/v1/messages/$d2/cancel" '{"reason":"caller fixed it"}'
check_eq "cancelled" 200 "$CODE"
check "then it does not" off_board
api POST "/v1/messages/$d2/escalate" '{"from_step":1}'
check_eq "escalated again" 200 "$CODE"
check "then it does again" on_board
api POST "/v1/messages/$d2/cancel" '{"reason":"sorted"}'
check "and cancelled again, it does not" off_board

# acknowledging from a console is recorded as such
curl -s -o "$T/resp" -c "$T/jar" -H 'Content-Type: application/json' \
  --data-binary "{\"operator\":\"tester\",\"token\":\"$TOKEN\"}" "$URL/v1/session" >/dev/null
csrf=$(resp .csrf)
curl -s -o "$T/resp" -b "$T/jar" -H 'Content-Type: application/json' -H "X-CSRF-Token: $csrf" \
  --data-binary '{"by":"Nurse Kim"}' "$URL/v1/messages/$lk/ack" >/dev/null
check_eq "an acknowledgement from the console says so" "Nurse Kim (operator tester) via console" \
  "$(msg_json "$lk" | jq -r .acked_by)"

# notes, one and many; bulk acknowledge
api POST "/v1/messages/$r/notes" '{"text":"Called back, left a voicemail"}'
check_eq "a note: 201" "201 tester" "$CODE $(resp .note.by)"
check_eq "in the ledger with the operator" "tester: Called back, left a voicemail" \
  "$(msg_json "$r" | jq -r '.ledger[] | select(.type == "note") | .detail')"
api POST "/v1/messages/$r/notes" '{"text":""}'
check_eq "an empty note: 400 naming text" "400 text" "$CODE $(resp .error.field)"
api POST /v1/messages/bulk "{\"action\":\"ack\",\"ids\":[$dsp,$u,$r],\"by\":\"Dr Smith\"}"
check_eq "bulk acknowledge of three: all ok" "200 true,true,true" "$CODE $(resp '[.results[].ok] | map(tostring) | join(",")')"
check_eq "each acknowledged by whom" "Dr Smith (operator tester) via api" "$(msg_json "$u" | jq -r .acked_by)"
api POST /v1/messages/bulk "{\"action\":\"note\",\"ids\":[$dsp,999999],\"text\":\"Reviewed at shift change\"}"
check_eq "a bulk note: one ok, one unknown" "true false not_found" "$(resp '"\(.results[0].ok) \(.results[1].ok) \(.results[1].error.code)"')"
api POST /v1/messages/bulk '{"action":"delete","ids":[1]}'
check_eq "an unknown bulk action: 400" "400 action" "$CODE $(resp .error.field)"
check_eq "nothing acknowledged needs a human now" "" "$(rows '')"

# the CLI
export PAGEGATE_URL=$URL PAGEGATE_TOKEN=$TOKEN
out=$("$BUILD/pagegate" note "$r" Spoke to the caller 2>&1)
check "pagegate note" grep -q "message $r: note by tester" <<<"$out"
check_eq "it is in the ledger" "tester: Spoke to the caller" \
  "$(msg_json "$r" | jq -r '[.ledger[] | select(.type == "note")][-1].detail')"
out=$("$BUILD/pagegate" resend --contact raj --channel email "$r" 2>&1)
check "pagegate resend" grep -q "message $r: delivery [0-9]* to raj by email raj@acme.example" <<<"$out"
"$BUILD/pagegate" resend --contact raj "$r" >/dev/null 2>&1
check_eq "pagegate resend without --channel: usage, exit 2" 2 $?
stop_daemon
kill "$REFUSER_PID" 2>/dev/null; wait "$REFUSER_PID" 2>/dev/null || :
