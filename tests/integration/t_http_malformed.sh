#!/usr/bin/env bash
# Malformed requests at the HTTP level, sent byte for byte over a raw
# socket: each gets our JSON 4xx naming what is wrong (never
# libmicrohttpd's HTML, a 500, or silence until a timeout), nothing is
# stored, and the daemon keeps serving.  Chunk extensions (long or
# short), any transfer coding (a chunked body is not taken: 411), a NUL
# or another control character in the target, raw or %-encoded, and an
# acknowledgement link with "%00junk" after a valid token.
. "$(dirname "$0")/lib.sh"
write_config
start_sink "$SMTP_PORT" || exit 1
start_daemon || exit 1
AB=$ROOT/tests/integration/http_abuse.py
good='{"client":"test-clinic","caller":{"name":"Ann","phone":"555-0100"},"text":"hi","fields":{"address":"x"}}'

# A message whose mail carries an acknowledgement link.
id=$(post_message "$good")
check "a message accepted" test -n "$id"
check "its mail is sent" wait_until 20 state_is "$id" sent
link=$(parse_mail "$(mail_for "$id" | head -1)" | jq -r .body | grep -oE 'https?://[^ ]+/a/[A-Za-z0-9_-]+' | head -1)
check "with a link" test -n "$link"
tokpath=/a/${link##*/a/}
n0=$(db_count messages)

# expect WANT FIELD DESCRIPTION : sends stdin as the request
expect() {
  local want=$1 field=$2 desc=$3 got code ctype f
  got=$($PY "$AB" raw "$HTTP_PORT" "$T/resp")
  read -r code ctype <<<"$got"
  f=$(jq -r '.error.field // "NONE"' "$T/resp" 2>/dev/null || echo NOTJSON)
  if [ "$code" = "$want" ] && [ "$ctype" = "application/json; charset=utf-8" ] &&
     [ "$f" = "$field" ] && jq -e '.error.code and (.error.message | length > 0)' "$T/resp" >/dev/null 2>&1; then
    ok "$desc -> $code ($f)"
  else
    notok "$desc: expected $want/$field, got '$got'/$f: $(head -c 200 "$T/resp")"
  fi
  check_eq "after it, /healthz answers" 200 "$(curl -s -m 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HTTP_PORT/healthz")"
}
H=$'Host: x\r\nAuthorization: Bearer test-token\r\nContent-Type: application/json\r\n'
body=$good
ext=$(head -c 100000 /dev/zero | tr '\0' 'a')

printf 'POST /v1/messages HTTP/1.1\r\n%sTransfer-Encoding: chunked\r\n\r\n%x;%s\r\n%s\r\n0\r\n\r\n' \
  "$H" "${#body}" "$ext" "$body" | expect 411 Transfer-Encoding "a chunk extension of 100,000 bytes"
printf 'POST /v1/messages HTTP/1.1\r\n%sTransfer-Encoding: chunked\r\n\r\n%x;name=value\r\n%s\r\n0\r\n\r\n' \
  "$H" "${#body}" "$body" | expect 411 Transfer-Encoding "a short chunk extension"
printf 'POST /v1/messages HTTP/1.1\r\n%sTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n' \
  "$H" "${#body}" "$body" | expect 411 Transfer-Encoding "a chunked body (no extension)"
printf 'POST /v1/messages HTTP/1.1\r\n%sTransfer-Encoding: gzip, chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n' \
  "$H" "${#body}" "$body" | expect 400 Transfer-Encoding "Transfer-Encoding: gzip, chunked (answered, not left to time out)"
printf 'POST /v1/messages HTTP/1.1\r\n%sTransfer-Encoding: identity\r\nContent-Length: %d\r\n\r\n%s' \
  "$H" "${#body}" "$body" | expect 400 Transfer-Encoding "Transfer-Encoding: identity with a Content-Length"
printf 'GET /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n' \
  | expect 411 Transfer-Encoding "a GET with a chunked body"
printf 'POST /v1/messages\0/x HTTP/1.1\r\n%sContent-Length: %d\r\n\r\n%s' "$H" "${#body}" "$body" \
  | expect 400 path "a raw NUL in the path"
printf 'GET /healthz\0 HTTP/1.1\r\nHost: x\r\n\r\n' | expect 400 path "a raw NUL at the end of the path"
printf 'GET /heal\001thz HTTP/1.1\r\nHost: x\r\n\r\n' | expect 400 path "a raw control byte in the path"
printf 'POST /v1/messages%%00 HTTP/1.1\r\n%sContent-Length: %d\r\n\r\n%s' "$H" "${#body}" "$body" \
  | expect 400 path "%00 at the end of the path"
printf 'GET /v1/messages/%s%%0a HTTP/1.1\r\n%s\r\n' "$id" "$H" | expect 400 path "%0a in the path"
printf 'GET /v1/messages?client=test-clinic%%00x HTTP/1.1\r\n%s\r\n' "$H" | expect 400 query "%00 in the query"
printf 'GET /v1/messages?client=test%%7f HTTP/1.1\r\n%s\r\n' "$H" | expect 400 query "%7f in the query"

# The acknowledgement link: %00 and junk after a valid token is refused,
# not cut off; the link itself still works afterwards.
printf 'POST %s%%00junk HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 0\r\n\r\n' \
  "$tokpath" | expect 400 path "an ack link with %00junk after the token"
printf 'POST %s\0junk HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 0\r\n\r\n' \
  "$tokpath" | expect 400 path "an ack link with a raw NUL and junk after the token"
printf 'GET %s%%00 HTTP/1.1\r\nHost: x\r\n\r\n' "$tokpath" | expect 400 path "GET of an ack link ending in %00"
check_eq "nothing acknowledged the message" false "$(msg_json "$id" | jq -r .acknowledged)"
check_eq "nothing stored by any malformed request" "$n0" "$(db_count messages)"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/x-www-form-urlencoded' \
  --data '' "http://127.0.0.1:$HTTP_PORT$tokpath")
check_eq "the link as sent still acknowledges" 200 "$code"
check_eq "acknowledged now" true "$(msg_json "$id" | jq -r .acknowledged)"

# Well-formed requests over the same raw socket, as controls.
printf 'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' | $PY "$AB" raw "$HTTP_PORT" "$T/resp" >"$T/got"
check_eq "a plain GET over the raw socket: 200" "200 application/json; charset=utf-8" "$(cat "$T/got")"
printf 'POST /v1/messages HTTP/1.1\r\n%sConnection: close\r\nContent-Length: %d\r\n\r\n%s' "$H" "${#body}" "$body" \
  | $PY "$AB" raw "$HTTP_PORT" "$T/resp" >"$T/got"
check_eq "a POST with a Content-Length: 201" "201 application/json; charset=utf-8" "$(cat "$T/got")"
check_eq "and it alone was stored" $((n0 + 1)) "$(db_count messages)"
stop_daemon
