#!/usr/bin/env bash
# API surface: idempotency, GET one, list with filters, route preview,
# healthz, metrics, unknown routes and methods.
. "$(dirname "$0")/lib.sh"
write_config
start_sink "$SMTP_PORT" || exit 1
start_daemon || exit 1
U="http://127.0.0.1:$HTTP_PORT"
MSG='{"client":"test-clinic","caller":{"name":"Ann","phone":"555-0100"},"text":"idem","fields":{"address":"x"}}'
H=(-H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json')

c1=$(curl -s -o "$T/r1" -w '%{http_code}' "${H[@]}" -H 'Idempotency-Key: call-42' --data-binary "$MSG" "$U/v1/messages")
c2=$(curl -s -o "$T/r2" -w '%{http_code}' "${H[@]}" -H 'Idempotency-Key: call-42' --data-binary "$MSG" "$U/v1/messages")
check_eq "first submit 201" 201 "$c1"
check_eq "repeat with the same Idempotency-Key answers 200" 200 "$c2"
check_eq "and returns the first message" "$(jq -r .id "$T/r1")" "$(jq -r .id "$T/r2")"
check_eq "only one message stored" 1 "$(db_count messages)"
id=$(jq -r .id "$T/r1")
check "it is sent once" wait_until 20 state_is "$id" sent
check_eq "one mail" 1 "$(mail_for "$id" | wc -l)"

api GET "/v1/messages/$id"
check_eq "GET /v1/messages/ID 200" 200 "$CODE"
check_eq "GET shows caller, text, field, operator" "Ann|idem|x|tester" "$(resp '"\(.caller.name)|\(.text)|\(.fields.address)|\(.operator)"')"
api GET /v1/messages/999999
check_eq "unknown message 404" 404 "$CODE"
api GET /v1/messages/abc
check_eq "non-numeric id 404" 404 "$CODE"

id2=$(post_message '{"client":"test-clinic","urgency":"urgent","caller":{"name":"Bo","phone":"555-0101"},"text":"second","fields":{"address":"y"}}')
wait_until 20 state_is "$id2" sent
api GET "/v1/messages?client=test-clinic&limit=10"
check_eq "list newest first" "$id2,$id" "$(resp '[.messages[].id] | map(tostring) | join(",")')"
api GET "/v1/messages?limit=1"
check_eq "limit=1" 1 "$(resp '.messages | length')"
api GET "/v1/messages?state=failed"
check_eq "state filter" 0 "$(resp '.messages | length')"
api GET "/v1/messages?since=2999-01-01T00:00:00Z"
check_eq "since filter" 0 "$(resp '.messages | length')"
api GET "/v1/messages?since=yesterday"
check_eq "bad since -> 400 naming it" "400 since" "$CODE $(resp .error.field)"
api GET "/v1/messages?limit=0"
check_eq "bad limit -> 400 naming it" "400 limit" "$CODE $(resp .error.field)"
api GET "/v1/messages?clinet=test-clinic"
check_eq "unknown list parameter -> 400 naming it" "400 unknown_field clinet" \
  "$CODE $(resp .error.code) $(resp .error.field)"
api GET "/v1/messages?limit=5&limit=6"
check_eq "repeated list parameter -> 400 naming it" "400 invalid limit" \
  "$CODE $(resp .error.code) $(resp .error.field)"
api GET "/v1/messages?client="
check_eq "an empty filter value filters nothing" 200 "$CODE"

api POST /v1/route/preview '{"client":"test-clinic","urgency":"emergency","at":"2026-12-01T15:00:00Z"}'
check_eq "preview 200" 200 "$CODE"
check_eq "preview of an emergency: doc and office by email" "doc:email,office:email" \
  "$(resp '[.deliveries[] | "\(.contact):\(.channel)"] | join(",")')"
api POST /v1/route/preview '{"client":"test-clinic","at":"noon"}'
check_eq "preview with a bad time -> 400 at" "400 at" "$CODE $(resp .error.field)"
check_eq "preview stores nothing" 2 "$(db_count messages)"

check_eq "healthz" ok "$(curl -s "$U/healthz" | jq -r .status)"
curl -s "$U/metrics" >"$T/metrics"
check "metrics: messages received counter" grep -qE '^pagegate_messages_received_total 2$' "$T/metrics"
check "metrics: email ok attempts" grep -qE '^pagegate_attempts_total\{channel="email",outcome="ok"\} 2$' "$T/metrics"
check "metrics: latency histogram" grep -qE '^pagegate_attempt_duration_seconds_bucket\{channel="email",le="\+Inf"\} 2$' "$T/metrics"
check "metrics: queue depth" grep -qE '^pagegate_queue_depth 0$' "$T/metrics"
api GET /v1/nothing
check_eq "unknown route 404" 404 "$CODE"
api DELETE /v1/messages
check_eq "wrong method 405" 405 "$CODE"

# The route table: a 405 names the methods of the rows that have the path,
# HEAD is served wherever GET is, and a path whose parameter is not of its
# type is unknown (404) whatever the method.
allow_of() {
  curl -s -o /dev/null -D - -X "$1" -H "Authorization: Bearer $TOKEN" "$U$2" |
    tr -d '\r' | sed -n 's/^Allow: //Ip'
}
check_eq "405 on /v1/messages: Allow: GET, HEAD, POST" "GET, HEAD, POST" "$(allow_of DELETE /v1/messages)"
check_eq "405 on /healthz: Allow: GET, HEAD" "GET, HEAD" "$(allow_of POST /healthz)"
check_eq "405 on /v1/route/preview: Allow: POST" "POST" "$(allow_of GET /v1/route/preview)"
check_eq "405 on /v1/messages/ID/ack: Allow: POST" "POST" "$(allow_of GET "/v1/messages/$id/ack")"
check_eq "405 on /v1/messages/ID: Allow: GET, HEAD" "GET, HEAD" "$(allow_of PUT "/v1/messages/$id")"
check_eq "HEAD /v1/messages/ID: 200 without a body" "200 0" \
  "$(curl -s -I -o /dev/null -w '%{http_code} %{size_download}' -H "Authorization: Bearer $TOKEN" "$U/v1/messages/$id")"
api GET /v1/messages/0
check_eq "message id 0 -> 404" 404 "$CODE"
api GET /v1/messages/1234567890123456789
check_eq "a 19-digit message id -> 404" 404 "$CODE"
api POST /v1/messages/abc/ack '{}'
check_eq "an action on a non-numeric id -> 404, not 405" 404 "$CODE"
api DELETE /v1/clients/Test-Clinic/oncall
check_eq "a client id with capitals -> 404, not 405" 404 "$CODE"
stop_daemon
