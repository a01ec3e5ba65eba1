#!/usr/bin/env bash
# The CLI against the real daemon and smtp-sink: send prints only the id,
# show/list/preview print what the API holds, errors name the field with
# the HTTP status, exit codes 0/1/2/3, check and hash-token offline.
. "$(dirname "$0")/lib.sh"
write_config
start_sink "$SMTP_PORT" || exit 1
start_daemon || exit 1
PG="$BUILD/pagegate"
export PAGEGATE_CONFIG="$T/etc" PAGEGATE_TOKEN="$TOKEN"   # URL from listen/port

id=$("$PG" send --client test-clinic --caller-name 'Zoë Ångström' --caller-phone 555-0100 \
	--urgency emergency --field address='12 Main St' No heat since 6am 2>"$T/err"); rc=$?
check_eq "send exits 0" 0 "$rc"
check "send prints only a number on stdout" grep -qx '[0-9][0-9]*' <<<"$id"
check "send summarises the deliveries on stderr" grep -q "message $id pending: doc email queued, office email queued" "$T/err"
check "both mails are sent" wait_until 20 state_is "$id" sent
check_eq "text joined from words" "No heat since 6am" "$(msg_json "$id" | jq -r .text)"

"$PG" show "$id" >"$T/show"
check "show: header" grep -q "^Message $id  test-clinic  message/emergency" "$T/show"
check "show: caller in UTF-8" grep -q "caller    Zoë Ångström, 555-0100" "$T/show"
check "show: field" grep -q "field     address: 12 Main St" "$T/show"
check "show: an attempt with the peer's reply" grep -qE "attempt 1  .*  ok .* ms  250 " "$T/show"
check_eq "show: the ledger starts received, routed" "received,routed" \
  "$(awk '/^Ledger/ { l = 1; next } l && n < 2 { print $2; n++ }' "$T/show" | paste -sd,)"
check_eq "show --json is the API's JSON" "$id" "$("$PG" show --json "$id" | jq -r .id)"

printf 'line one\nline two\n' | "$PG" send --dnis 8005550100 --caller-name Bo --caller-phone 555-0101 --field address=x - >"$T/id2" 2>/dev/null
id2=$(cat "$T/id2")
check_eq "send - reads TEXT from stdin" "line one
line two" "$(msg_json "$id2" | jq -r .text)"
check_eq "list: newest first" "$id2 $id" "$("$PG" list --client test-clinic | awk 'NR > 1 { print $1 }' | paste -sd' ')"
check_eq "list --limit 1 --json" 1 "$("$PG" list --limit 1 --json | jq '.messages | length')"

"$PG" preview --client test-clinic --urgency emergency --at 2026-12-01T15:00:00Z >"$T/prev"; rc=$?
check_eq "preview exits 0" 0 "$rc"
check "preview lists each delivery" grep -q "doc (Dr. Zoë Ångström)  email  doc@clinic.example  now" "$T/prev"

"$PG" send --client test-clinic --caller-name Al --caller-phone 555-0102 hi 2>"$T/err"; rc=$?
check_eq "a missing required field exits 1" 1 "$rc"
check "and names it with the status" grep -q '^pagegate: 400 fields.address: ' "$T/err"
"$PG" send --client nobody --caller-name Al --caller-phone 555-0102 --field address=x hi 2>"$T/err"; rc=$?
check "unknown client: 404 client" grep -q '^pagegate: 404 client: ' "$T/err"
"$PG" send --client test-clinic --caller-name Al hi 2>/dev/null; rc=$?
check_eq "usage error exits 2" 2 "$rc"
PAGEGATE_TOKEN=wrong "$PG" list 2>"$T/err"; rc=$?
check "wrong token: 401, exit 1" test "$rc" = 1 -a -n "$(grep '^pagegate: 401' "$T/err")"
"$PG" --url "http://127.0.0.1:$(free_port)" list 2>"$T/err"; rc=$?
check_eq "nothing listening: exit 3" 3 "$rc"
check "and the message names the URL" grep -q 'cannot connect to http://127.0.0.1:' "$T/err"
printf '%s\n' "$TOKEN" >"$T/tok"
env -u PAGEGATE_TOKEN "$PG" --token-file "$T/tok" show "$id" >"$T/show2"; rc=$?
check_eq "--token-file works" 0 "$rc"
check_eq "no stored duplicates" 2 "$(db_count messages)"

check_eq "hash-token" "$TOKEN_SHA" "$("$PG" hash-token "$TOKEN")"
check_eq "hash-token - (stdin)" "$TOKEN_SHA" "$(printf '%s\n' "$TOKEN" | "$PG" hash-token -)"
check_eq "check: ok" "ok: 1 clients" "$("$PG" check "$T/etc")"
sed -i 's/contact:office/contact:ofice/' "$T/etc/clients/test-clinic.conf"
"$PG" check "$T/etc/pagegate.conf" 2>"$T/err"; rc=$?
check_eq "check of a bad file exits 1" 1 "$rc"
check "with file:line" grep -qE 'test-clinic.conf:[0-9]+: .*ofice' "$T/err"

# The usage texts and dispatch, all from one command table.
"$PG" help >"$T/help"; rc=$?
check_eq "help exits 0" 0 "$rc"
missing=
for c in send show ack cancel escalate oncall mailbox list preview check render hash-token help; do
  grep -q "^  $c  " "$T/help" || missing="$missing $c"
done
check_eq "help lists every command" "" "$missing"
check_eq "help COMMAND is COMMAND --help" "$("$PG" send --help)" "$("$PG" help send)"
check "COMMAND --help starts with its usage line" grep -q '^usage: pagegate list ' <<<"$("$PG" list --help)"
"$PG" frobnicate 2>"$T/err"; rc=$?
check_eq "an unknown command exits 2" 2 "$rc"
check "and is named" grep -q "^pagegate: unknown command 'frobnicate'" "$T/err"
"$PG" show 2>"$T/err"; rc=$?
check_eq "show without an id exits 2" 2 "$rc"
check "with the usage line of show" grep -q '^usage: pagegate show \[--json\] ID  (--help for more)$' "$T/err"
"$PG" ack --bogus 1 2>"$T/err"; rc=$?
check_eq "an unknown option exits 2" 2 "$rc"
check "and prints the command's usage" grep -q '^usage: pagegate ack ' "$T/err"
stop_daemon
exit $((N_NOTOK > 0))
