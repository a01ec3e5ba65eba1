#!/usr/bin/env bash
# Malformed requests at the HTTP level, sent byte for byte over a raw
# socket: each gets our JSON 4xx naming what is wrong (never
# libmicrohttpd's HTML, a 500, or silence until a timeout), nothing is
# stored, and the daemon keeps serving.  Chunk extensions (long or
# short), any transfer coding (a chunked body is not taken: 411), a NUL
# or another control character in the target, raw or %-encoded, and an
# acknowledgement link with "%00junk" after a valid token; and the head
# as a whole (plain HTTP, before libmicrohttpd reads it): over 8 KiB or
# 100 fields (431), a request line that is not METHOD SP TARGET SP
# HTTP/1.x (400; 505 for another major version), empty lines or binary
# junk, a NUL, a CR or another control byte in a header's value, a blank
# before a colon, line folding.
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

# The head as a whole, checked before libmicrohttpd reads it (plain
# HTTP): its size, the request line's shape, and each field line.
big=$(head -c 9000 /dev/zero | tr '\0' 'a')
printf 'GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: %s\r\n\r\n' "$big" \
  | expect 431 head "a head of 9,000 bytes (over our 8 KiB, under libmicrohttpd's buffer)"
huge=$(head -c 100000 /dev/zero | tr '\0' 'a')
printf 'POST /v1/messages HTTP/1.1\r\n%sX-Big: %s\r\nContent-Length: %d\r\n\r\n%s' "$H" "$huge" "${#body}" "$body" \
  | expect 431 head "a head of 100,000 bytes (libmicrohttpd's own 431 HTML before)"
{ printf 'GET /healthz HTTP/1.1\r\nHost: x\r\n'; for i in $(seq 1 101); do printf 'X-%d: y\r\n' "$i"; done; printf '\r\n'; } \
  | expect 431 head "101 header fields"
printf 'GARBAGE\r\n\r\n' | expect 400 request-line "a request line of one word (closed silently before)"
printf 'GET\r\n\r\n' | expect 400 request-line "a method alone"
printf 'GET /healthz\r\nHost: x\r\n\r\n' | expect 400 request-line "no HTTP version (HTTP/0.9)"
printf 'GET  /healthz HTTP/1.1\r\nHost: x\r\n\r\n' | expect 400 request-line "two spaces after the method"
printf 'GET /healthz HTTP/1.1 \r\nHost: x\r\n\r\n' | expect 400 request-line "a blank after the version"
printf 'GET /healthz HTTP/1.x\r\nHost: x\r\n\r\n' | expect 400 request-line "a version that is no version"
printf 'G(T /healthz HTTP/1.1\r\nHost: x\r\n\r\n' | expect 400 request-line "a method that is no token"
printf 'GET /healthz HTTP/2.0\r\nHost: x\r\n\r\n' | expect 505 request-line "HTTP/2.0 in an HTTP/1 request line"
{ for i in $(seq 1 2000); do printf '\r\n'; done; } | expect 400 request-line "a stream of empty lines"
printf '\026\003\001\002\000\001\000\001\374\003\003\000\000\000\001' \
  | expect 400 request-line "binary junk (a TLS ClientHello's start on the plain port)"
printf '\377\376\375\374\373\372\r\n\r\n' | expect 400 request-line "bytes over 0x7f as a method"
printf 'GET /healthz HTTP/1.1\r\nHost: x\r\nX-Note: a\0b\r\n\r\n' | expect 400 X-Note "a NUL in a header's value (cut there before)"
printf 'POST /v1/messages HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer test-token\0junk\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s' \
  "${#body}" "$body" | expect 400 Authorization "a NUL and junk after a valid bearer token"
printf 'GET /healthz HTTP/1.1\r\nHost: x\r\nX-Note: a\rb\r\n\r\n' | expect 400 X-Note "a CR alone in a header's value"
printf 'GET /healthz HTTP/1.1\r\nHost: x\r\nX-Note: a\001b\r\n\r\n' | expect 400 X-Note "a control byte in a header's value"
printf 'GET /healthz HTTP/1.1\r\nHost : x\r\n\r\n' | expect 400 Host "a blank before the colon"
printf 'GET /healthz HTTP/1.1\r\nHost: x\r\nX-Note: a\r\n b\r\n\r\n' | expect 400 head "obsolete line folding"
printf 'GET /healthz HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n' | expect 400 NoColon "a field line without a colon"
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
printf '\r\nGET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' | $PY "$AB" raw "$HTTP_PORT" "$T/resp" >"$T/got"
check_eq "one empty line before the request line is ignored (RFC 9112 2.2): 200" "200 application/json; charset=utf-8" "$(cat "$T/got")"
printf 'GET /healthz HTTP/1.1\nHost: x\nConnection: close\n\n' | $PY "$AB" raw "$HTTP_PORT" "$T/resp" >"$T/got"
check_eq "lines ended by a bare LF: 200" "200 application/json; charset=utf-8" "$(cat "$T/got")"
near=$(head -c 7000 /dev/zero | tr '\0' 'a')
printf 'GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: %s\r\nConnection: close\r\n\r\n' "$near" | $PY "$AB" raw "$HTTP_PORT" "$T/resp" >"$T/got"
check_eq "a head of 7,000 bytes: 200" "200 application/json; charset=utf-8" "$(cat "$T/got")"
{ printf 'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n'; for i in $(seq 1 98); do printf 'X-%d: y\r\n' "$i"; done; printf '\r\n'; } \
  | $PY "$AB" raw "$HTTP_PORT" "$T/resp" >"$T/got"
check_eq "100 header fields: 200" "200 application/json; charset=utf-8" "$(cat "$T/got")"
# the gate's largest head - 100 fields in 8,192 bytes - fits libmicrohttpd's buffer
/usr/bin/python3 -c '
import sys
h = b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
pad = (8192 - len(h) - 40 - 97 * len(b"X-00: \r\n")) // 97
for i in range(97):
    h += b"X-%02d: %s\r\n" % (i, b"v" * pad)
h += b"X-Pad: " + b"p" * (8192 - len(h) - 11) + b"\r\n\r\n"
assert len(h) == 8192 and h.count(b"\r\n") == 102, len(h)
sys.stdout.buffer.write(h)' | $PY "$AB" raw "$HTTP_PORT" "$T/resp" >"$T/got"
check_eq "100 fields in 8,192 bytes: 200" "200 application/json; charset=utf-8" "$(cat "$T/got")"
curl -s "http://127.0.0.1:$HTTP_PORT/metrics" >"$T/metrics"
check "the refused heads are counted" grep -qE '^pagegate_http_malformed_total [1-9]' "$T/metrics"
check_eq "and it alone was stored" $((n0 + 1)) "$(db_count messages)"
stop_daemon
