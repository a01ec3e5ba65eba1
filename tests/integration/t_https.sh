#!/usr/bin/env bash
# HTTPS: with tls_cert and tls_key the API, the console (with HSTS), its
# event stream, acknowledgement links and callbacks are served over TLS
# (libmicrohttpd on GnuTLS) with a certificate from a test CA made here
# with openssl, checked by curl against that CA; links and the session
# cookie say https / Secure; a plain HTTP request to the port gets no
# HTTP answer; configuration mistakes name file:line.
. "$(dirname "$0")/lib.sh"
write_config
P="$T/pki"; mkdir -p "$P"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=pagegate test CA" \
  -keyout "$P/ca.key" -out "$P/ca.pem" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout "$P/server.key" \
  -out "$P/server.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$P/ext"
openssl x509 -req -in "$P/server.csr" -CA "$P/ca.pem" -CAkey "$P/ca.key" -CAcreateserial \
  -days 2 -extfile "$P/ext" -out "$P/server.pem" 2>/dev/null
check "the test CA issued a server certificate" bash -c "openssl verify -CAfile '$P/ca.pem' '$P/server.pem' >/dev/null"

# ---- configuration mistakes, with file:line ----
conf_err() {   # DESCRIPTION EXPECTED-TEXT LINES...
  local desc=$1 want=$2; shift 2
  cp "$T/etc/pagegate.conf" "$T/etc/bad.conf"
  printf '%s\n' "$@" >>"$T/etc/bad.conf"
  "$BUILD/pagegate" check "$T/etc/bad.conf" >"$T/err" 2>&1; local rc=$?
  if [ "$rc" -ne 0 ] && grep -q -- "$want" "$T/err"; then ok "$desc"
  else notok "$desc: rc $rc: $(head -c 300 "$T/err")"; fi
}
n=$(( $(wc -l <"$T/etc/pagegate.conf") + 1 ))
conf_err "tls_cert without tls_key names the line" "bad.conf:$n: .*tls_cert and tls_key go together" \
  "tls_cert = \"$P/server.pem\";"
conf_err "a tls_key that cannot be read names the line" "bad.conf:$((n + 1)):.*tls_key" \
  "tls_cert = \"$P/server.pem\";" "tls_key = \"$P/nothere.key\";"
conf_err "an http:// public_url with TLS names the line" "bad.conf:$((n + 2)): bad public_url" \
  "tls_cert = \"$P/server.pem\";" "tls_key = \"$P/server.key\";" \
  "public_url = \"http://127.0.0.1:$HTTP_PORT\";"
openssl req -newkey rsa:2048 -nodes -subj "/CN=other" -keyout "$P/other.key" -out /dev/null 2>/dev/null
conf_err "a tls_key that is not the certificate's names the line" \
  "bad.conf:$((n + 1)): bad tls_key: expected the private key of tls_cert's certificate" \
  "tls_cert = \"$P/server.pem\";" "tls_key = \"$P/other.key\";"
conf_err "a tls_cert that is not a certificate names the line" \
  "bad.conf:$n: bad tls_cert: expected a PEM certificate" \
  "tls_cert = \"$P/server.key\";" "tls_key = \"$P/server.key\";"
rm -f "$T/etc/bad.conf"

cat >>"$T/etc/pagegate.conf" <<CONF
tls_cert = "$P/server.pem";
tls_key = "$P/server.key";
head_timeout = "3s";
CONF
start_sink "$SMTP_PORT" || exit 1
"$BUILD/pagegated" -c "$T/etc/pagegate.conf" >>"$T/daemon.log" 2>&1 &
DPID=$!
S="https://127.0.0.1:$HTTP_PORT"
C=(--cacert "$P/ca.pem")
wait_until 30 curl -sf "${C[@]}" -o /dev/null "$S/healthz" ||
  { notok "daemon started with TLS"; tail -20 "$T/daemon.log"; exit 1; }
ok "the daemon answers https:// with a certificate the test CA verifies"
check "it says the port is TLS only" grep -q "port $HTTP_PORT (TLS only)" "$T/daemon.log"
check "and that it is ready at https://" grep -q "ready: https://127.0.0.1:$HTTP_PORT/" "$T/daemon.log"

# ---- plain HTTP is refused ----
code=$(curl -s -m 5 -o "$T/plain" -w '%{http_code}' "http://127.0.0.1:$HTTP_PORT/healthz"); rc=$?
check_eq "a plain HTTP request gets no HTTP answer" 000 "$code"
check "curl reports the failure (exit $rc)" test "$rc" -ne 0
check "and nothing was served to it" test ! -s "$T/plain"
check_eq "a client that does not trust the CA is refused" 000 \
  "$(curl -s -m 5 -o /dev/null -w '%{http_code}' "$S/healthz")"

# ---- the API ----
good='{"client":"test-clinic","caller":{"name":"Ann","phone":"555-0100"},"text":"over TLS","fields":{"address":"x"}}'
code=$(curl -s "${C[@]}" -o "$T/resp" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
  -H 'Content-Type: application/json' --data-binary "$good" "$S/v1/messages")
check_eq "POST /v1/messages over TLS: 201" 201 "$code"
id=$(jq -r .id "$T/resp")
check_eq "GET it back over TLS" "over TLS" \
  "$(curl -s "${C[@]}" -H "Authorization: Bearer $TOKEN" "$S/v1/messages/$id" | jq -r .text)"
check "its mail is sent" wait_until 20 bash -c "curl -s --cacert '$P/ca.pem' -H 'Authorization: Bearer $TOKEN' '$S/v1/messages/$id' | jq -e '.state == \"sent\"' >/dev/null"

# ---- the head's checks and deadline hold over TLS too ----
code=$(curl -s "${C[@]}" -o "$T/resp" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
  -H 'Content-Type: application/json' -H 'Transfer-Encoding: chunked' --data-binary "$good" "$S/v1/messages")
check_eq "a chunked body over TLS: our 411" "411 length_required" "$code $(jq -r .error.code "$T/resp")"
code=$(curl -s "${C[@]}" -o "$T/resp" -w '%{http_code}' --path-as-is "$S/v1/messages/$id%00x" \
  -H "Authorization: Bearer $TOKEN")
check_eq "%00 in the path over TLS: our 400" "400 path" "$code $(jq -r .error.field "$T/resp")"
r=$($PY - "$HTTP_PORT" "$P/ca.pem" <<'PYEOF'
import socket, ssl, sys, time
ctx = ssl.create_default_context(cafile=sys.argv[2])
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[1]))),
                    server_hostname="127.0.0.1")
s.settimeout(0.5)
t0 = time.time()
for c in b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 100:
    try:
        s.sendall(bytes([c]))
        if s.recv(1) == b"":
            break
    except socket.timeout:
        continue
    except OSError:
        break
    if time.time() - t0 > 20:
        print("held"); sys.exit()
print("cut after %.1f s" % (time.time() - t0))
PYEOF
)
echo "# a head trickled over TLS: $r"
check "a head trickled over TLS is cut (head_timeout 3 s), not held for 20 s" grep -q '^cut after' <<<"$r"
check_eq "none of it stored anything" 1 "$(db_count messages)"

# ---- the acknowledgement link says https ----
link=$(parse_mail "$(mail_for "$id" | head -1)" | jq -r .body | grep -oE 'https?://[^ ]+/a/[A-Za-z0-9_-]+' | head -1)
check_eq "the link in the mail is https://127.0.0.1:PORT/a/..." "$S/a/" "${link%/a/*}/a/"
code=$(curl -s "${C[@]}" -o /dev/null -w '%{http_code}' -X POST \
  -H 'Content-Type: application/x-www-form-urlencoded' --data '' "$link")
check_eq "following it over TLS acknowledges" "200 true" \
  "$code $(curl -s "${C[@]}" -H "Authorization: Bearer $TOKEN" "$S/v1/messages/$id" | jq -r .acknowledged)"

# ---- the console ----
code=$(curl -s "${C[@]}" -D "$T/hdr" -o "$T/page" -w '%{http_code}' "$S/")
check_eq "the console's page over TLS: 200" 200 "$code"
check "with Strict-Transport-Security" grep -qi '^Strict-Transport-Security: max-age=31536000' "$T/hdr"
curl -s "${C[@]}" -D "$T/hdr" -o /dev/null "$S/console/app.js"
check "its files too" grep -qi '^Strict-Transport-Security: max-age=' "$T/hdr"
code=$(curl -s "${C[@]}" -D "$T/hdr" -c "$T/jar" -o "$T/resp" -w '%{http_code}' \
  -H 'Content-Type: application/json' \
  --data-binary "$(jq -nc --arg t "$TOKEN" '{operator:"tester",token:$t}')" "$S/v1/session")
check_eq "signing in over TLS: 200" 200 "$code"
check "the session cookie is Secure" grep -qi '^Set-Cookie: pg_session=.*; Secure' "$T/hdr"
CSRF=$(jq -r .csrf "$T/resp")
code=$(curl -s "${C[@]}" -b "$T/jar" -o "$T/resp" -w '%{http_code}' -H 'Content-Type: application/json' \
  -H "X-CSRF-Token: $CSRF" --data-binary "$good" "$S/v1/messages")
check_eq "the console submits a message over TLS: 201" 201 "$code"
curl -s "${C[@]}" -m 6 -b "$T/jar" -o "$T/events" "$S/v1/events"; rc=$?
check "the event stream runs over TLS" grep -q '^retry: ' "$T/events"
check_eq "and outlives head_timeout (3 s): still open when curl gives up at 6 s (exit 28)" 28 "$rc"

# ---- callbacks reach their driver over TLS ----
code=$(curl -s "${C[@]}" -o "$T/resp" -w '%{http_code}' -X POST --data 'x=1' "$S/cb/sms")
check "a callback path is answered by its driver over TLS (HTTP $code, not a TLS failure)" \
  test "$code" != 000

check_eq "two messages stored" 2 "$(db_count messages)"
stop_daemon
