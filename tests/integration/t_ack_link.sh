#!/usr/bin/env bash
# Signed acknowledgement links, end to end through a real SMTP server
# (Postfix smtp-sink): the link in the mail, checked independently
# (decoded and its HMAC recomputed with the store's secret); GET shows a
# confirmation page and acknowledges nothing; POST acknowledges for the
# delivery's contact via "email link", once; tampered, forged, unknown and
# oversized tokens answer 404 and change nothing; with ack_link_ttl = "2s"
# an expired link answers 410 and changes nothing; a link made before a
# restart still works after it; ack_link_ttl errors name file:line.
. "$(dirname "$0")/lib.sh"
write_config
# Markup in the client's name must come out escaped.
sed -i 's/^name = "Test Clinic";/name = "Test Clinic \& <b>Sons<\/b>";/' "$T/etc/clients/test-clinic.conf"

# ---- ack_link_ttl: bounds, reported with file:line ----
for bad in '"0s"' '"91d"' '"soon"' '-5'; do
  cp "$T/etc/pagegate.conf" "$T/etc/bad.conf"
  echo "ack_link_ttl = $bad;" >>"$T/etc/bad.conf"
  line=$(wc -l <"$T/etc/bad.conf")
  "$BUILD/pagegate" check "$T/etc/bad.conf" >"$T/err" 2>&1; rc=$?
  check "ack_link_ttl = $bad is refused" test "$rc" -ne 0
  check "ack_link_ttl = $bad: the error names bad.conf:$line" \
    grep -q "bad.conf:$line: bad ack_link_ttl: expected a duration from 1s to 90d" "$T/err"
done
cp "$T/etc/pagegate.conf" "$T/etc/good.conf"
echo 'ack_link_ttl = "90d";' >>"$T/etc/good.conf"
check "ack_link_ttl = \"90d\" is accepted" "$BUILD/pagegated" -n -c "$T/etc/good.conf"
rm -f "$T/etc/bad.conf" "$T/etc/good.conf"

start_sink "$SMTP_PORT" || exit 1
start_daemon || exit 1
BASE="http://127.0.0.1:$HTTP_PORT"
CSP="default-src 'none'; form-action 'self'"

# tok TOKEN -> "mid did expires mac_ok" decoded independently, the MAC
# recomputed with the secret read from the store.
tok() {
  $PY - "$(db_setting_hex secret)" "$1" <<'PYEOF'
import base64, hashlib, hmac, sys
secret, tok = bytes.fromhex(sys.argv[1]), sys.argv[2]
raw = base64.urlsafe_b64decode(tok + "=" * (-len(tok) % 4))
p, mac = raw[:-12], raw[-12:]
vals, v, shift = [], 0, 0
for b in p:
    v |= (b & 0x7f) << shift; shift += 7
    if not b & 0x80:
        vals.append(v); v, shift = 0, 0
good = hmac.new(secret, b"pagegate ack link 1\0" + p, hashlib.sha256).digest()[:12] == mac
print(*vals, "ok" if good else "bad")
PYEOF
}
# mint MID DID EXPIRES -> a token signed with the store's secret.
mint() {
  $PY - "$(db_setting_hex secret)" "$@" <<'PYEOF'
import base64, hashlib, hmac, sys
secret, vals = bytes.fromhex(sys.argv[1]), [int(x) for x in sys.argv[2:5]]
p = b""
for v in vals:
    while True:
        b, v = v & 0x7f, v >> 7
        p += bytes([b | (0x80 if v else 0)])
        if not v: break
mac = hmac.new(secret, b"pagegate ack link 1\0" + p, hashlib.sha256).digest()[:12]
print(base64.urlsafe_b64encode(p + mac).rstrip(b"=").decode())
PYEOF
}
# get URL [curl options] -> status; page in $T/page, headers in $T/hdr.
get() { local u=$1; shift; curl -s -D "$T/hdr" -o "$T/page" -w '%{http_code}' "$@" "$u"; }
post_link() { get "$1" -X POST -H 'Content-Type: application/x-www-form-urlencoded' --data ''; }
hdr() { grep -i "^$1:" "$T/hdr" | head -1 | cut -d' ' -f2- | tr -d '\r'; }
acked() { msg_json "$1" | jq -r .acknowledged; }
n_acks() { msg_json "$1" | jq '[.ledger[] | select(.type == "acknowledged")] | length'; }
# link_of ID: the link in the mail of that message.
link_of() {
  local f; f=$(mail_for "$1" | head -1)
  [ -n "$f" ] && parse_mail "$f" | jq -r .body | grep -oE 'https?://[^ ]+/a/[A-Za-z0-9_-]+' | head -1
}
submit() {   # NAME PHONE TEXT
  post_message "$(jq -n --arg n "$1" --arg p "$2" --arg t "$3" \
    '{client:"test-clinic", caller:{name:$n, phone:$p}, text:$t, fields:{address:"12 Secret Lane"}}')"
}

# ---- the link in the mail ----
TEXT='Patient asks about test results - confidential'
id=$(submit "Ann Caller" "555-0199" "$TEXT")
check "message accepted" test -n "$id"
check "the mail is sent" wait_until 20 state_is "$id" sent
m=$(msg_json "$id")
ref=$(jq -r .ack_ref <<<"$m"); did=$(jq -r '.deliveries[0].id' <<<"$m")
body=$(parse_mail "$(mail_for "$id" | head -1)" | jq -r .body)
link=$(link_of "$id")
check_eq "the link is public_url (default http://LISTEN:PORT) + /a/" "$BASE/a/" "${link%/a/*}/a/"
t=${link##*/a/}
check "the token is short enough for an SMS (<= 40 characters)" test "${#t}" -le 40 -a "${#t}" -ge 20
check "the mail says \"Acknowledge: LINK\"" grep -qxF "Acknowledge: $link" <<<"$body"
check "and gives the reference for the answering service" grep -qF "with reference $ref)" <<<"$body"
read -r tmid tdid texp tmac <<<"$(tok "$t")"
check_eq "the token names the message and its delivery; its HMAC verifies" "$id $did ok" "$tmid $tdid $tmac"
sent_s=$(( $(date -u -d "$(jq -r '.deliveries[0].attempts[0].started' <<<"$m")" +%s) ))
check "it expires 72 h (the default ack_link_ttl) after it was sent" \
  test "$texp" -ge $((sent_s + 259200 - 1)) -a "$texp" -le $((sent_s + 259200 + 2))

# ---- GET: a confirmation page, no acknowledgement ----
check_eq "GET /a/TOKEN answers 200" 200 "$(get "$link")"
check_eq "HTML" "text/html; charset=utf-8" "$(hdr Content-Type)"
check_eq "Cache-Control: no-store" "no-store" "$(hdr Cache-Control)"
check_eq "Referrer-Policy: no-referrer" "no-referrer" "$(hdr Referrer-Policy)"
check_eq "X-Robots-Tag: noindex" "noindex" "$(hdr X-Robots-Tag)"
check_eq "Content-Security-Policy" "$CSP" "$(hdr Content-Security-Policy)"
page=$(cat "$T/page")
check "the page names the client, escaped" grep -qF "Test Clinic &amp; &lt;b&gt;Sons&lt;/b&gt;" <<<"$page"
check "no unescaped markup from the client's name" bash -c '! grep -qF "<b>Sons" "$1"' _ "$T/page"
check "the page gives the ack reference, kind and urgency" grep -qF "Routine message, reference $ref" <<<"$page"
local_rx=$($PY -c '
import sys, datetime, zoneinfo
t = datetime.datetime.fromisoformat(sys.argv[1].replace("Z", "+00:00")).astimezone(zoneinfo.ZoneInfo("America/Chicago"))
o = int(t.utcoffset().total_seconds()) // 60
print(t.strftime("%Y-%m-%d %H:%M") + " (%s%02d:%02d) America/Chicago" % ("-" if o < 0 else "+", abs(o) // 60, abs(o) % 60))
' "$(jq -r .received <<<"$m")")
check "the received time is in the client's zone ($local_rx)" grep -qF "$local_rx" <<<"$page"
check "the page says who it was sent to, and how" grep -qF "Front Office by email" <<<"$page"
check "one form that POSTs to the same link" \
  grep -qF "<form method=\"post\" action=\"$t\"><button type=\"submit\">Acknowledge</button></form>" <<<"$page"
check "no message text, caller, phone, field or address on the page" bash -c \
  '! grep -qE "confidential|Ann Caller|555-0199|12 Secret Lane|office@clinic" "$1"' _ "$T/page"
check_eq "HEAD answers 200" 200 "$(get "$link" -I)"
check_eq "GET and HEAD acknowledge nothing" "false 0" "$(acked "$id") $(n_acks "$id")"

# ---- tampered and forged tokens: 404, nothing acknowledged ----
i=$(( ${#t} / 2 )); c=${t:$i:1}; [ "$c" = A ] && r=B || r=A
bad="${t:0:$i}$r${t:$((i + 1))}"
check_eq "POST with one character changed -> 404" 404 "$(post_link "$BASE/a/$bad")"
check_eq "404 is an HTML page" "text/html; charset=utf-8" "$(hdr Content-Type)"
check "saying the link is not valid" grep -qF "This acknowledgement link is not valid" "$T/page"
check_eq "GET with one character changed -> 404" 404 "$(get "$BASE/a/$bad")"
check_eq "with its last character changed -> 404" 404 \
  "$(post_link "$BASE/a/${t:0:-1}$([ "${t: -1}" = A ] && echo B || echo A)")"
check_eq "truncated -> 404" 404 "$(post_link "$BASE/a/${t:0:-2}")"
check_eq "a callback-style hex token -> 404" 404 "$(post_link "$BASE/a/00112233445566778899aabbccddeeff")"
check_eq "an over-long token -> 404" 404 "$(post_link "$BASE/a/$(printf 'A%.0s' {1..65})")"
check_eq "a 2000-character path -> 404" 404 "$(get "$BASE/a/$(printf 'A%.0s' {1..2000})")"
check_eq "/a/ alone -> 404" 404 "$(get "$BASE/a/")"
check_eq "signed, but for a message that does not exist -> 404" 404 \
  "$(post_link "$BASE/a/$(mint 999999 999999 $(( $(date +%s) + 3600 )))")"
check "saying so" grep -qF "names a message that no longer exists" "$T/page"
check_eq "signed, but the delivery belongs to another message -> 404" 404 \
  "$(post_link "$BASE/a/$(mint $((id + 1000)) "$did" $(( $(date +%s) + 3600 )))")"
check_eq "PUT -> 405" 405 "$(get "$link" -X PUT)"
check_eq "none of them acknowledged anything" "false 0" "$(acked "$id") $(n_acks "$id")"

# ---- POST: acknowledged for the delivery's contact, via "email link" ----
check_eq "POST /a/TOKEN answers 200" 200 "$(post_link "$link")"
check_eq "with the same security headers" "no-store|no-referrer|noindex|$CSP" \
  "$(hdr Cache-Control)|$(hdr Referrer-Policy)|$(hdr X-Robots-Tag)|$(hdr Content-Security-Policy)"
check "the page thanks them" grep -qF "<h1>Acknowledged — thank you</h1>" "$T/page"
check "and says by whom" grep -qF "Acknowledged by Front Office via email link at " "$T/page"
m=$(msg_json "$id")
check_eq "the message is acknowledged by the contact via email link" "true Front Office via email link" \
  "$(jq -r '"\(.acknowledged) \(.acked_by)"' <<<"$m")"
check_eq "one acknowledged event naming the contact, the channel and the delivery" \
  "by Front Office via email link (delivery $did)" \
  "$(jq -r '[.ledger[] | select(.type == "acknowledged")] | map(.detail) | join("|")' <<<"$m")"
check_eq "a second POST answers 200" 200 "$(post_link "$link")"
check "saying it was already acknowledged, by whom" bash -c \
  'grep -qF "<h1>Already acknowledged</h1>" "$1" && grep -qF "Acknowledged by Front Office via email link" "$1"' _ "$T/page"
check_eq "and writes no second event" 1 "$(n_acks "$id")"
check_eq "GET afterwards: 200, already acknowledged, no form" "200 0" \
  "$(get "$link") $(grep -c '<form' "$T/page")"
check "with who and when" grep -qF "Acknowledged by Front Office via email link at " "$T/page"

id2=$(submit "Bo Caller" "555-0198" "second")
check "second message sent" wait_until 20 state_is "$id2" sent
link2=$(link_of "$id2")
check "its link is another one" test -n "$link2" -a "$link2" != "$link"

# ---- links survive a restart; ack_link_ttl = "2s" ----
stop_daemon
echo 'ack_link_ttl = "2s";' >>"$T/etc/pagegate.conf"
start_daemon || exit 1
check_eq "a link made before the restart still opens (200)" 200 "$(get "$link2")"
check "with the form" grep -qF '<form method="post"' "$T/page"
check_eq "and still nothing acknowledged" false "$(acked "$id2")"

id3=$(submit "Cy Caller" "555-0197" "third")
check "third message sent" wait_until 20 state_is "$id3" sent
m3=$(msg_json "$id3"); ref3=$(jq -r .ack_ref <<<"$m3")
link3=$(link_of "$id3"); t3=${link3##*/a/}
read -r _ _ exp3 mac3 <<<"$(tok "$t3")"
sent3=$(date -u -d "$(jq -r '.deliveries[0].attempts[0].started' <<<"$m3")" +%s)
check "with ack_link_ttl = \"2s\" the link expires 2 s after sending" \
  test "$mac3" = ok -a "$exp3" -ge $((sent3 + 1)) -a "$exp3" -le $((sent3 + 3))
past() { [ "$(date +%s)" -ge "$1" ]; }
check "the expiry passes" wait_until 10 past "$exp3"
check_eq "GET of the expired link -> 410" 410 "$(get "$link3")"
check_eq "an HTML page, with the security headers" "text/html; charset=utf-8|no-store|$CSP" \
  "$(hdr Content-Type)|$(hdr Cache-Control)|$(hdr Content-Security-Policy)"
check "telling them to reply with the reference or call" bash -c \
  'grep -qF "This link has expired" "$1" && grep -qF "reply <strong>ACK $2</strong> to the page" "$1" && grep -qF "call the answering service" "$1"' _ "$T/page" "$ref3"
check_eq "POST of the expired link -> 410" 410 "$(post_link "$link3")"
check_eq "and nothing is acknowledged" "false 0" "$(acked "$id3") $(n_acks "$id3")"
check_eq "an expired token with one character changed is just invalid (404)" 404 \
  "$(post_link "$BASE/a/${t3:0:5}$([ "${t3:5:1}" = A ] && echo B || echo A)${t3:6}")"

# The operator acknowledges message 2 through the API; its link then shows that.
api POST "/v1/messages/$id2/ack" '{"by":"Dr. Okafor"}'
check_eq "operator ack of message 2" 200 "$CODE"
check_eq "POST of its link afterwards: 200, already acknowledged" 200 "$(post_link "$link2")"
check "naming the operator's acknowledgement" grep -qF "Acknowledged by Dr. Okafor (operator tester) via api" "$T/page"
check_eq "one acknowledged event for message 2" 1 "$(n_acks "$id2")"
stop_daemon
