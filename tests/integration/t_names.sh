#!/usr/bin/env bash
# Names and text that would display as something else (issue 14): a
# caller name with a right-to-left override, a phone number with a
# zero-width space, a company with an isolate, text with an override are
# refused with 400 naming the field, and nothing is stored; a Persian name
# with the zero-width non-joiner it needs, and text with RLM and an emoji
# joined by ZWJ, are taken and reach the mail exactly.  A contact name
# with an override in a client file is a configuration error at its line.
. "$(dirname "$0")/lib.sh"
write_config
start_sink "$SMTP_PORT" || exit 1
start_daemon || exit 1

# body NAME PHONE TEXT [COMPANY]: a message as JSON (jq escapes it)
body() {
  jq -cn --arg n "$1" --arg p "$2" --arg t "$3" --arg c "${4:-Acme}" \
    '{client:"test-clinic", caller:{name:$n, phone:$p, company:$c}, text:$t, fields:{address:"1 Elm"}}'
}
RLO=$'\u202e'; ZWSP=$'\u200b'; LRI=$'\u2066'; PDI=$'\u2069'; ZWNJ=$'\u200c'; ZWJ=$'\u200d'; RLM=$'\u200f'
refused() {   # WHAT FIELD JSON
  api POST /v1/messages "$3"
  check_eq "$1: 400 naming $2" "400 invalid $2" "$CODE $(resp .error.code) $(resp .error.field)"
}
refused "a caller name with a right-to-left override" caller.name "$(body "Bob${RLO}ecila" 555-0100 hi)"
check "the error names the character" grep -q 'U+202E after 3 characters' "$T/resp"
refused "a phone number with a zero-width space" caller.phone "$(body Ann "555${ZWSP}0100" hi)"
refused "a company with an isolate" caller.company "$(body Ann 555-0100 hi "Acme${LRI}Inc${PDI}")"
refused "text with an override" text "$(body Ann 555-0100 "call back ${RLO}0010-555")"
check_eq "nothing of them is stored" 0 "$(db_count messages)"

NAME="علی${ZWNJ}اکبر"
TEXT="مرحبا${RLM} 12 — 👨${ZWJ}🔧 fixed"
id=$(post_message "$(body "$NAME" 555-0100 "$TEXT")")
check "a Persian name with its ZWNJ and text with RLM and ZWJ are taken" test -n "$id"
check "and delivered" wait_until 20 state_is "$id" sent
# mail_has FILE STRING...: the plain body of the mail holds every STRING
mail_has() {
  $PY - "$@" <<'PYEOF'
import email, sys
from email import policy
m = email.message_from_bytes(open(sys.argv[1], 'rb').read(), policy=policy.default)
b = m.get_body(preferencelist=('plain',)).get_content()
sys.exit(0 if all(s in b for s in sys.argv[2:]) else 1)
PYEOF
}
f=$(mail_for "$id" | head -1)
check "the mail carries the name and text exactly" mail_has "${f:-/dev/null}" "$NAME" "$TEXT"
api GET "/v1/messages/$id"
check_eq "and the API shows what was sent" "$NAME|$TEXT" "$(resp '"\(.caller.name)|\(.text)"')"
stop_daemon

# A client file: a contact's name with an override, at its line.
sed -i "s/name = \"Front Office\";/name = \"Front ${RLO}eciffO\";/" "$T/etc/clients/test-clinic.conf"
line=$(grep -n "eciffO" "$T/etc/clients/test-clinic.conf" | cut -d: -f1)
"$BUILD/pagegate" check "$T/etc/pagegate.conf" 2>"$T/err"; rc=$?
check_eq "pagegate check fails on a contact name with an override" 1 "$rc"
check "at the file:line of the name, naming the character" \
  grep -q "^$T/etc/clients/test-clinic.conf:$line: bad name.*U+202E" "$T/err"
