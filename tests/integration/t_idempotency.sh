#!/usr/bin/env bash
# Idempotency-Key bound to its request: the same key with the same body
# (whatever its key order or white space) answers the first message (200);
# the same key with another body - here an emergency - is refused with 422
# naming Idempotency-Key and the first message's id, and nothing of it is
# stored, so it cannot be dropped unseen; sent again with a new key it is
# taken and delivered.  A key stored before schema version 4 (no request
# hash) still answers the first message.  The CLI reports the conflict.
. "$(dirname "$0")/lib.sh"
write_config
start_sink "$SMTP_PORT" || exit 1
start_daemon || exit 1
U="http://127.0.0.1:$HTTP_PORT"
H=(-H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json')
# post KEY BODY: sets CODE, answer in $T/resp
post() { CODE=$(curl -s -o "$T/resp" -w '%{http_code}' "${H[@]}" -H "Idempotency-Key: $1" --data-binary "$2" "$U/v1/messages"); }

A='{"client":"test-clinic","caller":{"name":"Ann","phone":"555-0100"},"text":"leaking tap","fields":{"address":"1 Elm"}}'
A2='{ "text": "leaking tap", "fields": {"address": "1 Elm"},
      "caller": {"phone": "555-0100", "name": "Ann"}, "client": "test-clinic" }'
B='{"client":"test-clinic","urgency":"emergency","caller":{"name":"Ann","phone":"555-0100"},"text":"GAS SMELL, evacuating","fields":{"address":"1 Elm"}}'

post call-77 "$A"
check_eq "first submit 201" 201 "$CODE"
id=$(resp .id)
post call-77 "$A2"
check_eq "the same body (other key order, white space) again: 200" 200 "$CODE"
check_eq "answered with the first message" "$id" "$(resp .id)"

post call-77 "$B"
check_eq "the key reused for a different body (an emergency): 422" 422 "$CODE"
check_eq "our JSON error names Idempotency-Key" "idempotency_conflict Idempotency-Key" \
  "$(resp '"\(.error.code) \(.error.field)"')"
check "the error says which message the key was used for" grep -q "different message (id $id)" "$T/resp"
check_eq "nothing of it is stored" "1 0" \
  "$(db_sql "select count(*), count(*) filter (where text like 'GAS%') from messages" | tr '|' ' ')"
check "the refusal is in the log" grep -q "reused Idempotency-Key of message $id" "$T/daemon.log"

post call-78 "$B"
check_eq "sent again with a new key: 201" 201 "$CODE"
em=$(resp .id)
check "the emergency is delivered" wait_until 20 state_is "$em" sent
check_eq "to both its contacts" 2 "$(mail_for "$em" | wc -l)"
post call-78 "$B"
check_eq "and its own key repeats it (200)" "200 $em" "$CODE $(resp .id)"

# The CLI says so too, and exits 1.
PG=$BUILD/pagegate
export PAGEGATE_CONFIG="$T/etc" PAGEGATE_TOKEN="$TOKEN"
"$PG" send --client test-clinic --caller-name Bo --caller-phone 555-0101 --field address=x \
  --idempotency-key cli-1 first words >/dev/null 2>&1
"$PG" send --client test-clinic --caller-name Bo --caller-phone 555-0101 --field address=x \
  --idempotency-key cli-1 other words 2>"$T/err"; rc=$?
check_eq "pagegate send with the key reused for other words exits 1" 1 "$rc"
check "and prints the 422 naming Idempotency-Key" grep -q '^pagegate: 422 Idempotency-Key: .*different message' "$T/err"

# A key stored before the request hash existed (schema version 3 rows have
# NULL): any body with it answers the first message, as before.
stop_daemon
db_sql "update messages set idem_hash = NULL where id = $id"
check_eq "the store is at schema version 4" 4 "$(db_sql 'select max(version) from schema_version')"
start_daemon || exit 1
post call-77 "$B"
check_eq "an old key without a hash answers the first message (200)" "200 $id" "$CODE $(resp .id)"
check_eq "still three messages" 3 "$(db_count messages)"
stop_daemon
