#!/usr/bin/env bash
# Hostile input: every bad request gets a 4xx with a JSON error naming the
# field, and nothing is stored; the daemon keeps serving.
. "$(dirname "$0")/lib.sh"
write_config
start_sink "$SMTP_PORT" || exit 1
start_daemon || exit 1
U="http://127.0.0.1:$HTTP_PORT/v1/messages"
good='{"client":"test-clinic","caller":{"name":"Ann","phone":"555-0100"},"text":"hi","fields":{"address":"x"}}'

# expect CODE FIELD DESCRIPTION BODY [curl args...]
expect() {
  local want=$1 field=$2 desc=$3 body=$4; shift 4
  local code ct="Content-Type: ${CT-application/json}"
  [ -z "${CT-x}" ] && ct="Content-Type:"   # CT= : send no Content-Type at all
  code=$(curl -s -o "$T/resp" -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" \
    -H "$ct" "$@" --data-binary "$body" "$U")
  local got_field; got_field=$(jq -r '.error.field // "NONE"' "$T/resp" 2>/dev/null || echo NOTJSON)
  if [ "$code" = "$want" ] && { [ "$field" = "*" ] || [ "$got_field" = "$field" ]; } &&
     jq -e '.error.message | length > 0' "$T/resp" >/dev/null 2>&1; then
    ok "$desc -> $want ($got_field)"
  else
    notok "$desc: expected $want/$field, got $code/$got_field: $(head -c 300 "$T/resp")"
  fi
}
expect 400 "" "malformed JSON" '{"client":"test-clinic",'
expect 400 "" "JSON that is not an object" '["test-clinic"]'
expect 400 client "neither client nor dnis" '{"caller":{"name":"A","phone":"555-0100"},"text":"x"}'
expect 400 client "client is a number" '{"client":7,"caller":{"name":"A","phone":"555-0100"},"text":"x","fields":{"address":"x"}}'
expect 404 client "unknown client" '{"client":"nobody","caller":{"name":"A","phone":"555-0100"},"text":"x"}'
expect 404 dnis "unknown dnis" '{"dnis":"9999999999","caller":{"name":"A","phone":"555-0100"},"text":"x"}'
expect 400 kind "bad kind" '{"client":"test-clinic","kind":"fax","caller":{"name":"A","phone":"555-0100"},"text":"x","fields":{"address":"x"}}'
expect 400 urgency "bad urgency" '{"client":"test-clinic","urgency":"HIGH","caller":{"name":"A","phone":"555-0100"},"text":"x","fields":{"address":"x"}}'
expect 400 caller "caller missing" '{"client":"test-clinic","text":"x","fields":{"address":"x"}}'
expect 400 caller.name "caller name missing" '{"client":"test-clinic","caller":{"phone":"555-0100"},"text":"x","fields":{"address":"x"}}'
expect 400 caller.name "CR/LF in caller name" '{"client":"test-clinic","caller":{"name":"Ann\r\nBcc: x@evil.example","phone":"555-0100"},"text":"x","fields":{"address":"x"}}'
expect 400 caller.phone "letters in phone" '{"client":"test-clinic","caller":{"name":"A","phone":"call me"},"text":"x","fields":{"address":"x"}}'
expect 400 text "text missing" '{"client":"test-clinic","caller":{"name":"A","phone":"555-0100"},"fields":{"address":"x"}}'
expect 400 text "text blank" '{"client":"test-clinic","caller":{"name":"A","phone":"555-0100"},"text":"   ","fields":{"address":"x"}}'
expect 400 text "text is an array" '{"client":"test-clinic","caller":{"name":"A","phone":"555-0100"},"text":["x"],"fields":{"address":"x"}}'
expect 400 fields.address "required client field missing" '{"client":"test-clinic","caller":{"name":"A","phone":"555-0100"},"text":"x"}'
expect 400 fields.colour "undeclared client field" '{"client":"test-clinic","caller":{"name":"A","phone":"555-0100"},"text":"x","fields":{"address":"x","colour":"red"}}'
expect 400 colour "unknown top-level key" '{"client":"test-clinic","colour":"red","caller":{"name":"A","phone":"555-0100"},"text":"x","fields":{"address":"x"}}'
printf '{"client":"test-clinic","caller":{"name":"A","phone":"555-0100"},"text":"bad \xff\xfe bytes","fields":{"address":"x"}}' >"$T/badutf8"
expect 400 "*" "invalid UTF-8 in text" "@$T/badutf8"
long=$(head -c 11000 /dev/zero | tr '\0' 'a')
expect 400 text "text over 10000 bytes" "{\"client\":\"test-clinic\",\"caller\":{\"name\":\"A\",\"phone\":\"555-0100\"},\"text\":\"$long\",\"fields\":{\"address\":\"x\"}}"
big=$(head -c 20000 /dev/zero | tr '\0' 'a')
expect 413 "" "body over max_body (16 KiB)" "{\"text\":\"$big\"}"
CT=text/plain expect 415 Content-Type "not JSON content type" "$good"
CT= expect 415 Content-Type "no content type" "$good"
expect 400 Idempotency-Key "control character in Idempotency-Key" "$good" -H $'Idempotency-Key: a\tb'
deep=$(printf '[%.0s' $(seq 1 5000))
expect 400 "" "5000-deep nesting" "$deep"

# Authentication.
code=$(curl -s -o "$T/resp" -w '%{http_code}' -X POST -H 'Content-Type: application/json' --data-binary "$good" "$U")
check_eq "no token -> 401" 401 "$code"
code=$(curl -s -o "$T/resp" -w '%{http_code}' -X POST -H 'Authorization: Bearer not-the-token-7731' -H 'Content-Type: application/json' --data-binary "$good" "$U")
check_eq "wrong token -> 401" 401 "$code"
check "401 body is a JSON error" jq -e .error.code "$T/resp"
check "the token never appears in the log" bash -c "! grep -q -e '$TOKEN' -e not-the-token-7731 '$T/daemon.log'"

# The operator actions take JSON or nothing, checked before the message
# is looked up; the preview takes JSON.
B="http://127.0.0.1:$HTTP_PORT/v1"
code=$(curl -s -o "$T/resp" -w '%{http_code}' -X POST -H 'Content-Type: application/json' --data-binary '{}' "$B/messages/1/ack")
check_eq "an action without a token -> 401 Authorization" "401 Authorization" "$code $(jq -r .error.field "$T/resp")"
code=$(curl -s -o "$T/resp" -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" -H 'Content-Type: text/plain' --data-binary 'x' "$B/messages/1/cancel")
check_eq "an action with a text body -> 415 Content-Type" "415 Content-Type" "$code $(jq -r .error.field "$T/resp")"
code=$(curl -s -o "$T/resp" -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' --data-binary "{\"reason\":\"$big\"}" "$B/messages/1/cancel")
check_eq "an action body over max_body -> 413" "413 too_large" "$code $(jq -r .error.code "$T/resp")"
code=$(curl -s -o "$T/resp" -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" -H 'Content-Type: text/plain' --data-binary '{"client":"test-clinic"}' "$B/route/preview")
check_eq "a preview with a text body -> 415 Content-Type" "415 Content-Type" "$code $(jq -r .error.field "$T/resp")"

check_eq "nothing was stored by any bad request" 0 "$(db_count messages)"
id=$(post_message "$good")
check "a good message is still accepted afterwards" test -n "$id"
check_eq "exactly one message stored" 1 "$(db_count messages)"
stop_daemon
