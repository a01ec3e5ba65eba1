#!/usr/bin/env bash
# A message posted through the API arrives at a real SMTP server (Postfix
# smtp-sink) with the right envelope, headers and body, non-ASCII included,
# and its ledger records the attempt with the server's reply.
. "$(dirname "$0")/lib.sh"
write_config
start_sink "$SMTP_PORT" || exit 1
start_daemon || exit 1

TEXT='Furnace out — Müller family, 3 kids. Küche kalt. 🔥 Call back after 6pm.'
id=$(post_message "$(jq -n --arg t "$TEXT" '{client:"test-clinic", caller:{name:"Jürgen Müller", phone:"+1 (555) 555-0142", company:"Müller & Söhne"}, text:$t, fields:{address:"12 Elm St, Apt 3"}}')")
check "POST /v1/messages answers 201 with an id" test -n "$id"
check_eq "201 body lists one delivery to office by email" "office email office@clinic.example queued" \
  "$(resp '.deliveries[0] | "\(.contact) \(.channel) \(.to) \(.state)"')"
check "message reaches state sent" wait_until 20 state_is "$id" sent

f=$(mail_for "$id")
check_eq "exactly one mail for the message" 1 "$(echo "$f" | grep -c .)"
j=$(parse_mail "$(echo "$f" | head -1)")
check_eq "envelope recipient" "<office@clinic.example>" "$(jq -r .rcpt <<<"$j")"
check_eq "envelope sender" "<pagegate@test.example>" "$(jq -r .mail_from <<<"$j")"
check_eq "From header" "Answering Service <pagegate@test.example>" "$(jq -r .from <<<"$j")"
check_eq "To header" "Front Office <office@clinic.example>" "$(jq -r .to <<<"$j")"
check "Subject decodes to UTF-8 and names the caller" grep -q "Jürgen Müller" <<<"$(jq -r .subject <<<"$j")"
check_eq "text/plain; charset utf-8" "text/plain utf-8" "$(jq -r '"\(.content_type) \(.charset)"' <<<"$j")"
check "Date and Message-ID present" test "$(jq -r '.date and (.message_id | test("^<.+@.+>$"))' <<<"$j")" = true
body=$(jq -r .body <<<"$j")
check "body carries the exact message text" grep -qF "$TEXT" <<<"$body"
check "body carries caller phone and company" bash -c 'grep -qF "+1 (555) 555-0142" <<<"$1" && grep -qF "Müller & Söhne" <<<"$1"' _ "$body"
check "body carries the client field" grep -qF "12 Elm St, Apt 3" <<<"$body"
check_eq "every header name appears once (no duplicates from the library)" "" \
  "$(jq -r '.headers | group_by(.) | map(select(length > 1) | .[0]) | join(",")' <<<"$j")"

m=$(msg_json "$id")
check_eq "one attempt, outcome ok, with the server's 250 reply" "ok 250" \
  "$(jq -r '.deliveries[0].attempts | "\(.[0].outcome) \(.[0].reply[0:3])" + (if length == 1 then "" else " extra" end)' <<<"$m")"
check "ledger has received, routed, attempt_started, attempt_finished, sent in order" \
  test "$(jq -r '[.ledger[].type | select(. == "received" or . == "routed" or . == "attempt_started" or . == "attempt_finished" or . == "sent")] | join(",")' <<<"$m")" = "received,routed,attempt_started,attempt_finished,sent"

# Emergency: doctor and office, both by email; the display name is encoded.
id2=$(post_message '{"client":"test-clinic","urgency":"emergency","caller":{"name":"Ann Lee","phone":"555-0100"},"text":"Post-op patient bleeding","fields":{"address":"1 Main"}}')
check "emergency reaches state sent" wait_until 20 state_is "$id2" sent
check_eq "emergency went to two recipients" 2 "$(mail_for "$id2" | wc -l)"
tos=$(for f in $(mail_for "$id2"); do parse_mail "$f" | jq -r '"\(.to_name) <\(.to_addr)>"'; done | sort | tr '\n' '|')
check_eq "recipients with decoded display names" "Dr. Zoë Ångström <doc@clinic.example>|Front Office <office@clinic.example>|" "$tos"

# DNIS routing: the number the caller dialled selects the client.
id3=$(post_message '{"dnis":"8005550100","caller":{"name":"Bo","phone":"555-0101"},"text":"via dnis","fields":{"address":"x"}}')
check "message by dnis is accepted and sent" wait_until 20 state_is "$id3" sent

# CR/LF in a client field or the text can never become a header.
id4=$(post_message "$(jq -n '{client:"test-clinic", caller:{name:"Eve", phone:"555-0102"}, text:"line one\r\nBcc: victim@evil.example\r\n\r\nbody", fields:{address:"a\nBcc: victim2@evil.example"}}')")
check "message with CR/LF inside text and fields is accepted" test -n "$id4"
check "it is sent" wait_until 20 state_is "$id4" sent
f4=$(mail_for "$id4")
check "no Bcc header was created" bash -c '! sed "/^\r\?$/q" "$1" | grep -qi "^bcc:"' _ "$f4"
check_eq "only the intended recipient" "<office@clinic.example>" "$(parse_mail "$f4" | jq -r .rcpt)"

stop_daemon
