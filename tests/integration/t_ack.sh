#!/usr/bin/env bash
# Acknowledgements through the API and the CLI: every message carries a
# 6-digit ack reference; an operator can acknowledge on the caller's
# behalf; a second acknowledgement changes nothing; the ledger records
# who.  Callback routes exist only for channels that take callbacks.
. "$(dirname "$0")/lib.sh"
write_config
start_sink "$SMTP_PORT" || exit 1
start_daemon || exit 1
id=$(post_message '{"client":"test-clinic","caller":{"name":"Ann","phone":"555-0100"},"text":"please call back","fields":{"address":"x"}}')
check "201 carries a 6-digit ack reference" test "$(resp '.ack_ref | test("^[0-9]{6}$")')" = true
check_eq "and acknowledged false" false "$(resp .acknowledged)"
ref=$(resp .ack_ref)
check "the message is sent" wait_until 20 state_is "$id" sent

api POST "/v1/messages/$id/ack" '{"by":"Dr. Okafor by phone"}'
check_eq "POST /v1/messages/ID/ack answers 200" 200 "$CODE"
check_eq "acknowledged, not before" "true false" "$(resp '"\(.acknowledged) \(.already)"')"
check_eq "acked_by names the person and the operator" "Dr. Okafor by phone (operator tester) via api" "$(resp .acked_by)"
m=$(msg_json "$id")
check_eq "GET shows it acknowledged" true "$(jq -r .acknowledged <<<"$m")"
check_eq "one acknowledged event in the ledger, via api" 1 \
  "$(jq '[.ledger[] | select(.type == "acknowledged" and (.detail | test("via api")))] | length' <<<"$m")"
api POST "/v1/messages/$id/ack" ''
check_eq "a second ack answers 200 with already = true" "200 true" "$CODE $(resp .already)"
check_eq "and writes no second event" 1 \
  "$(msg_json "$id" | jq '[.ledger[] | select(.type == "acknowledged")] | length')"
api POST /v1/messages/999999/ack ''
check_eq "ack of an unknown message -> 404" 404 "$CODE"
api POST "/v1/messages/$id/ack" '{"by":"a\r\nb"}'
check_eq "ack with a control character in by -> 400 by" "400 by" "$CODE $(resp .error.field)"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$HTTP_PORT/v1/messages/$id/ack")
check_eq "ack without a token -> 401" 401 "$code"

id2=$(post_message '{"client":"test-clinic","caller":{"name":"Bo","phone":"555-0101"},"text":"second","fields":{"address":"x"}}')
out=$(PAGEGATE_URL="http://127.0.0.1:$HTTP_PORT" PAGEGATE_TOKEN=$TOKEN "$BUILD/pagegate" ack --by "Raj" "$id2")
check "pagegate ack prints the acknowledgement" grep -q "message $id2 acknowledged at .* by Raj (operator tester) via api" <<<"$out"
check "pagegate show prints who acknowledged" bash -c "PAGEGATE_URL=http://127.0.0.1:$HTTP_PORT PAGEGATE_TOKEN=$TOKEN '$BUILD/pagegate' show $id2 | grep -q 'acked .* by Raj (operator tester) via api'"

code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HTTP_PORT/cb/email/x")
check_eq "no callbacks for email -> 404" 404 "$code"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HTTP_PORT/cb/nothing/x")
check_eq "unknown callback channel -> 404" 404 "$code"
stop_daemon
