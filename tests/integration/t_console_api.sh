#!/usr/bin/env bash
# The console's server side, with curl as the browser: the page's files
# (embedded, and from console.dir, with a strict CSP and no way out of the
# directory), signing in (cookie flags, a wrong token, throttling after
# repeated failures, each failure logged), the session standing for a
# bearer token (CSRF on every POST and DELETE, sign-out, idle expiry), the
# event stream (message changes, calls for one operator or everyone,
# resuming with Last-Event-ID, a reset for an id it cannot resume, the
# bound on streams, a signed-out console's stream ending), the screen pop's
# input checks, the client information the console shows, and a daemon
# that stops at once with streams open.
. "$(dirname "$0")/lib.sh"
write_config
OP2_SHA=$(printf %s "other-token" | sha256sum | cut -d' ' -f1)
mkdir -p "$T/www/img"
printf '<!doctype html><title>dev console</title>\n' >"$T/www/index.html"
printf 'export const x = 1;\n' >"$T/www/app.js"
printf '<svg xmlns="http://www.w3.org/2000/svg"/>\n' >"$T/www/img/logo.svg"
printf 'secret\n' >"$T/secret.txt"
printf 'not served\n' >"$T/www/notes.md"
sed -i "s|^operators = .*|operators = ( { name = \"tester\"; token_sha256 = \"$TOKEN_SHA\"; },\n              { name = \"ops2\"; token_sha256 = \"$OP2_SHA\"; } );\nconsole = { idle = \"4s\"; max_streams = 3; };|" "$T/etc/pagegate.conf"
cat >"$T/etc/clients/acme.conf" <<'CONF'
id = "acme-hvac";
name = "Acme Heating & Cooling";
dnis = [ "8005550142" ];
timezone = "America/Chicago";
greeting = "Acme Heating, answering service, how may I help?";
instructions = "Gas smell? Tell the caller to leave and call 911.";
holidays = [ "2030-12-25" ];
business_hours = ( { days = "Sun-Sat"; from = "00:00"; to = "24:00"; } );
fields = ( { id = "address"; label = "Service address"; required = true; },
           { id = "unit"; label = "Unit / equipment"; } );
contacts = (
  { id = "jane"; name = "Jane Ortiz"; devices = ( { channel = "email"; to = "jane@acme.example"; } ); },
  { id = "raj"; name = "Raj Patel"; devices = ( { channel = "email"; to = "raj@acme.example"; } ); }
);
oncall = ( { id = "techs"; members = [ "jane", "raj" ]; rotation = "weekly";
             handoff = "Mon 08:00"; start = "2026-01-05"; } );
rules = ( { notify = "oncall:techs"; } );
CONF
start_sink "$SMTP_PORT" || exit 1
start_daemon || exit 1
URL="http://127.0.0.1:$HTTP_PORT"
J='Content-Type: application/json'

# ---- the page's files, built in ----
code=$(curl -s -o "$T/index" -D "$T/h" -w '%{http_code}' "$URL/?dnis=8005550142&ani=5555550100")
if [ -f "$ROOT/src/console/www/index.html" ]; then
  check_eq "GET / answers the built-in console" 200 "$code"
  check "with exactly the bytes of src/console/www/index.html" cmp -s "$T/index" "$ROOT/src/console/www/index.html"
  check "and a Content-Security-Policy that allows no inline script" \
    grep -qi "^Content-Security-Policy: default-src 'self';.*script-src 'self';" "$T/h"
else
  check_eq "GET / without a built-in console: 404" 404 "$code"
fi

# ---- from console.dir (development) ----
sed -i "s|^console = { |console = { dir = \"$T/www\"; |" "$T/etc/pagegate.conf"
kill -HUP "$DPID"
served_from_dir() { curl -s "$URL/" | grep -q "dev console"; }
check "after SIGHUP, console.dir serves the page" wait_until 10 served_from_dir
code=$(curl -s -o "$T/js" -D "$T/h" -w '%{http_code}' "$URL/console/app.js")
check_eq "a module: 200" 200 "$code"
check "as JavaScript" grep -qi '^Content-Type: text/javascript' "$T/h"
check "not sniffed" grep -qi '^X-Content-Type-Options: nosniff' "$T/h"
check_eq "in a subfolder" 200 "$(curl -s -o /dev/null -w '%{http_code}' "$URL/console/img/logo.svg")"
for p in '../secret.txt' '..%2fsecret.txt' '.%2e/secret.txt' 'img/../app.js' '/etc/passwd' \
         'notes.md' 'img/' '.hidden.js' 'nothere.js'; do
  check_eq "/console/$p is not served" 404 "$(curl -s -o /dev/null -w '%{http_code}' --path-as-is "$URL/console/$p")"
done
check_eq "the console's files take no POST" 405 "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$URL/")"

# ---- signing in ----
signin() {   # NAME TOKEN [COOKIEJAR]
  curl -s -o "$T/resp" -D "$T/sh" -w '%{http_code}' -c "${3:-$T/jar}" -H "$J" \
    --data-binary "$(jq -nc --arg o "$1" --arg t "$2" '{operator:$o,token:$t}')" "$URL/v1/session"
}
check_eq "a wrong token: 401" 401 "$(signin tester wrong-token)"
check_eq "naming the field" token "$(resp .error.field)"
check "and no cookie" bash -c "! grep -qi '^Set-Cookie' '$T/sh'"
check "the failure is in the log with the operator and the address" \
  grep -q 'sign-in for operator "tester" from 127.0.0.1 failed (1 in a row)' "$T/daemon.log"
check_eq "another operator's token under this name: 401" 401 "$(signin tester other-token)"
check_eq "the right name and token: 200" 200 "$(signin tester "$TOKEN")"
check_eq "it names the operator" tester "$(resp .operator)"
CSRF=$(resp .csrf)
check "with a 64-hex CSRF token" grep -qE '^[0-9a-f]{64}$' <<<"$CSRF"
check_eq "and the idle limit" 4 "$(resp .idle_timeout_s)"
cookie=$(grep -i '^Set-Cookie:' "$T/sh" | tr -d '\r')
check "the cookie is HttpOnly" grep -q 'HttpOnly' <<<"$cookie"
check "and SameSite=Strict" grep -q 'SameSite=Strict' <<<"$cookie"
check "and not Secure over plain http" bash -c "! grep -q 'Secure' <<<\"\$1\"" _ "$cookie"
check "the token is not in the log" bash -c "! grep -q '$TOKEN' '$T/daemon.log'"

# ---- the session instead of a bearer token ----
sess() {   # METHOD PATH [BODY [CSRF]]
  local args=(-s -o "$T/resp" -w '%{http_code}' -b "$T/jar" -X "$1")
  [ $# -ge 3 ] && args+=(-H "$J" --data-binary "$3")
  [ $# -ge 4 ] && args+=(-H "X-CSRF-Token: $4")
  curl "${args[@]}" "$URL$2"
}
check_eq "GET /v1/session with the cookie" 200 "$(sess GET /v1/session)"
check_eq "gives the CSRF token back to a reloaded page" "$CSRF" "$(resp .csrf)"
check_eq "a bearer token has no CSRF token" null \
  "$(curl -s -H "Authorization: Bearer $TOKEN" "$URL/v1/session" | jq -r .csrf)"
check_eq "the cookie reads messages" 200 "$(sess GET /v1/messages)"
MSG='{"client":"acme-hvac","caller":{"name":"Ann","phone":"+1 555 555 0100"},"text":"no heat","fields":{"address":"1 Elm"}}'
check_eq "a POST without the CSRF header: 403" 403 "$(sess POST /v1/messages "$MSG")"
check_eq "naming the header" X-CSRF-Token "$(resp .error.field)"
check_eq "a wrong CSRF token: 403" 403 "$(sess POST /v1/messages "$MSG" "$(printf '0%.0s' {1..64})")"
check_eq "nothing was stored" 0 "$(db_count messages)"
check_eq "with the CSRF token: 201" 201 "$(sess POST /v1/messages "$MSG" "$CSRF")"
check_eq "stored by the operator who signed in" tester "$(resp .id | xargs -I{} curl -s -H "Authorization: Bearer $TOKEN" "$URL/v1/messages/{}" | jq -r .operator)"

# ---- the clients the console shows ----
check_eq "GET /v1/clients" 200 "$(sess GET /v1/clients)"
check_eq "lists them by name with their numbers" "Acme Heating & Cooling 8005550142|Test Clinic 8005550100" \
  "$(resp '[.clients[] | "\(.name) \(.dnis | join(","))"] | join("|")')"
check_eq "GET /v1/clients/acme-hvac" 200 "$(sess GET /v1/clients/acme-hvac)"
check_eq "its own greeting" "Acme Heating, answering service, how may I help?" "$(resp .greeting)"
check_eq "its instructions" "Gas smell? Tell the caller to leave and call 911." "$(resp .instructions)"
check_eq "its fields with labels and required marks" "address:Service address:true,unit:Unit / equipment:false" \
  "$(resp '[.fields[] | "\(.id):\(.label):\(.required)"] | join(",")')"
check_eq "open now (all day every day), no holiday today" "true false" "$(resp '"\(.open) \(.holiday)"')"
check "the local time carries the client's offset" grep -qE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}-0[56]:00$' <<<"$(resp .local_time)"
check_eq "who is on call now and next: the two techs, one each" "techs: jane raj" \
  "$(resp '[.oncall[] | "\(.rotation): \([.now.contact, .next.contact] | sort | join(" "))"] | join(",")')"
check_eq "with the end of the shift" true "$(resp '.oncall[0].until | test("^[0-9-]{10}T")')"
sess GET /v1/clients/test-clinic >/dev/null
check_eq "a client without a greeting gets the default" "Thank you for calling Test Clinic. How may I help you?" "$(resp .greeting)"
check_eq "an unknown client: 404" 404 "$(sess GET /v1/clients/nobody)"

# ---- the event stream ----
stream() {   # FILE [extra curl args] : a stream in the background, its pid in SPID
  local f=$1; shift
  curl -s -N -b "$T/jar" "$@" "$URL/v1/events" >"$f" 2>&1 &
  SPID=$!
}
has() { grep -q -- "$2" "$1"; }
stream "$T/s1"
S1=$SPID
check "the stream opens with a reconnect delay" wait_until 10 has "$T/s1" '^retry: '
id=$(post_message "$MSG")
check "a new message is heard" wait_until 10 has "$T/s1" "^data: {\"id\":$id,\"change\":\"received\"}"
check "with an id" grep -q '^id: [0-9]*-[0-9]*$' "$T/s1"
check "its delivery is heard as it is attempted" wait_until 20 has "$T/s1" "^data: {\"id\":$id,\"change\":\"attempt_started\"}"
first=$(grep -m1 '^id: ' "$T/s1" | cut -d' ' -f2 | tr -d '\r')

# a call for this operator, one for another, one for everyone
call() { curl -s -o "$T/resp" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" -H "$J" --data-binary "$1" "$URL/v1/calls"; }
check_eq "POST /v1/calls for tester: 202" 202 "$(call '{"dnis":"+1 800-555-0142","ani":"+1 555 555 0199","operator":"tester"}')"
check_eq "the number found the client" acme-hvac "$(resp .client)"
check_eq "one console heard it" 1 "$(resp .consoles)"
check "the console got the call" wait_until 10 has "$T/s1" '^event: call'
check "with the number, the caller and the client" \
  grep -q '^data: {"dnis":"+1 800-555-0142","ani":"+1 555 555 0199","client":"acme-hvac","operator":"tester","at":"' "$T/s1"
check_eq "a call for ops2 (no console open): 202" 202 "$(call '{"dnis":"8005550100","operator":"ops2"}')"
check_eq "reaches nobody" 0 "$(resp .consoles)"
check_eq "a call for everyone, on a number no client has" 202 "$(call '{"dnis":"5551234"}')"
check_eq "has no client" null "$(resp .client)"
check "and is heard too" wait_until 10 has "$T/s1" '"dnis":"5551234"'
check "ops2's call never reached tester's console" bash -c "! grep -q '\"operator\":\"ops2\"' '$T/s1'"
check_eq "a call without dnis: 400" 400 "$(call '{"ani":"5550100"}')"
check_eq "naming dnis" dnis "$(resp .error.field)"
check_eq "letters for a number: 400" 400 "$(call '{"dnis":"call me"}')"
check_eq "an operator nobody configured: 400" 400 "$(call '{"dnis":"8005550142","operator":"ghost"}')"
check_eq "naming operator" operator "$(resp .error.field)"
check_eq "an unknown member: 400" 400 "$(call '{"dnis":"8005550142","priority":1}')"

# resuming: a console that saw only the first event gets the rest again
stream "$T/s2" -H "Last-Event-ID: $first"
S2=$SPID
check "a reconnect with Last-Event-ID replays what it missed" wait_until 10 has "$T/s2" '"dnis":"5551234"'
check "but not what it had" bash -c "! grep -q '^id: $first\$' '$T/s2'"
check "and needs no reset" bash -c "! grep -q '^event: reset' '$T/s2'"
stream "$T/s3" -H "Last-Event-ID: 1-1"
S3=$SPID
check "an id of another run: reset, refetch" wait_until 10 has "$T/s3" '^event: reset'
check_eq "a fourth stream past max_streams = 3: 503" 503 \
  "$(curl -s -o "$T/resp" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$URL/v1/events")"
kill "$S2" "$S3" 2>/dev/null; wait "$S2" "$S3" 2>/dev/null

# ---- sign-out and idle expiry ----
check_eq "DELETE /v1/session without CSRF: 403" 403 "$(sess DELETE /v1/session)"
check_eq "with it: 204" 204 "$(curl -s -o /dev/null -D "$T/sh" -w '%{http_code}' -b "$T/jar" -X DELETE -H "X-CSRF-Token: $CSRF" "$URL/v1/session")"
check "the cookie is cleared" grep -qi '^Set-Cookie: pg_session=;.*Max-Age=0' "$T/sh"
check_eq "the old cookie is refused: 401" 401 "$(sess GET /v1/messages)"
stream_done() { ! kill -0 "$S1" 2>/dev/null; }
check "the signed-out console's stream ends (at its next heartbeat)" wait_until 25 stream_done
check_eq "signing in again works" 200 "$(signin tester "$TOKEN")"
check_eq "and reads" 200 "$(sess GET /v1/messages)"
t_used=$(date +%s%N)
quiet_for() { [ $(( ($(date +%s%N) - t_used) / 1000000 )) -ge "$1" ]; }
# a page that refreshes by itself (X-Pagegate-Background: 1) every second
# meanwhile does not keep the session alive; the same GETs without the
# header (the operator's own) do
bg_get() { curl -s -o /dev/null -w '%{http_code}' -b "$T/jar" -H 'X-Pagegate-Background: 1' "$URL/v1/board"; }
bg_codes=""
while ! quiet_for 5000; do bg_codes+=" $(bg_get)"; sleep 1; done
check "the page's own GETs were answered meanwhile" grep -q '^ 200' <<<"$bg_codes"
check_eq "after 4 s without a request of the operator's the session has ended" 401 "$(sess GET /v1/messages)"
check_eq "signing in again" 200 "$(signin tester "$TOKEN")"
t_used=$(date +%s%N)
while ! quiet_for 5000; do sess GET /v1/board >/dev/null; sleep 1; done
check_eq "the operator's own GETs every second keep it alive past 4 s" 200 "$(sess GET /v1/messages)"

# ---- a daemon with streams open stops at once ----
check_eq "signing in" 200 "$(signin tester "$TOKEN")"
stream "$T/s4"
S4=$SPID
check "a stream is open" wait_until 10 has "$T/s4" '^retry: '
t0=$(date +%s%N)
stop_daemon
check "the daemon stopped within 3 s with a stream open" test $(( ($(date +%s%N) - t0) / 1000000 )) -lt 3000
wait "$S4" 2>/dev/null
check "the stream ended" bash -c "! kill -0 $S4 2>/dev/null"

# ---- throttling (last: it locks this address out for a while) ----
start_daemon || exit 1
for i in 1 2 3 4 5; do signin ops2 "bad-$i" >/dev/null; done
check_eq "the sixth try after five failures: 429" 429 "$(signin ops2 other-token)"
check "with Retry-After" grep -qi '^Retry-After: [0-9]' "$T/sh"
check_eq "even with the right token (the answer says nothing)" throttled "$(resp .error.code)"
check "throttling is logged" grep -q 'sign-in for operator "ops2" from 127.0.0.1 refused: throttled' "$T/daemon.log"
check_eq "a bearer token still works meanwhile (machines are not throttled)" 200 \
  "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$URL/v1/messages")"
stop_daemon
