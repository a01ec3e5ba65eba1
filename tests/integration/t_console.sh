#!/usr/bin/env bash
# The operator console in a real browser: Debian's Chromium driven by
# playwright-core (tests/console/console.test.mjs) against the real
# pagegated and a real SMTP sink.  Sign in; a POST /v1/calls (curl, bearer
# token) pops the client in the open console; a whole message typed with
# the keyboard only (Greek and Vietnamese), and the mail the sink received
# carries exactly what was typed; a missing required field blocks sending,
# says which and takes the cursor there; a double press and a retried
# request store one message; the API's errors sit next to their field; a
# stale session or a POST without the CSRF token is refused.  A screenshot
# of each screen (1366x768) is saved under $PG_BUILD/screenshots/, and the
# keystrokes a complete message costs beyond its text are printed as
# "# keystrokes beyond the text: N".
. "$(dirname "$0")/lib.sh"
NODE_DIR=$ROOT/tests/console
SHOTS=$BUILD/screenshots
if [ ! -d "$NODE_DIR/node_modules/playwright-core" ] || [ ! -x /usr/bin/chromium ]; then
  notok "playwright-core and chromium are installed (make deps: tests/peers/deps.sh)"
  exit 1
fi

write_config
EMERGENCY_CONTACT='Dr. Zoë Ångström'
GREETING='Thank you for calling Test Clinic, this is the answering service. Who am I speaking with?'
cat >"$T/etc/clients/test-clinic.conf" <<CONF
id = "test-clinic";
name = "Test Clinic";
dnis = [ "8005550100" ];
timezone = "America/Chicago";
greeting = "$GREETING";
instructions = "Chest pain or trouble breathing: tell the caller to hang up and dial 911.";
business_hours = ( { days = "Sun-Sat"; from = "00:00"; to = "24:00"; } );
fields = ( { id = "address"; label = "Service address"; required = true; },
           { id = "unit"; label = "Unit / equipment"; } );
contacts = (
  { id = "office"; name = "Front Office";
    devices = ( { channel = "email"; to = "office@clinic.example"; } ); },
  { id = "doc"; name = "$EMERGENCY_CONTACT";
    devices = ( { channel = "email"; to = "doc@clinic.example"; } ); },
  { id = "nurse"; name = "Nurse Kim Lee";
    devices = ( { channel = "email"; to = "nurse@clinic.example"; } ); }
);
oncall = ( { id = "nurses"; members = [ "nurse", "doc" ]; rotation = "weekly";
             handoff = "Mon 08:00"; start = "2026-01-05"; } );
escalation = ( { id = "page-doc"; steps = ( { notify = "contact:doc"; wait = "5m"; },
                                             { notify = "contact:office"; wait = "5m"; } ); } );
rules = (
  { when = { kind = "dispatch"; }; escalate = "page-doc"; },
  { when = { urgency = "emergency"; }; notify = [ "contact:doc", "contact:office" ]; },
  { notify = "contact:office"; channels = [ "email" ]; }
);
CONF
cat >"$T/etc/clients/other.conf" <<'CONF'
id = "lakeside";
name = "Lakeside Family Clinic";
dnis = [ "6125550100" ];
timezone = "America/New_York";
contacts = ( { id = "desk"; name = "Front desk"; devices = ( { channel = "email"; to = "desk@lakeside.example"; } ); } );
rules = ( { notify = "contact:desk"; } );
CONF
check "the test configuration is valid" "$BUILD/pagegated" -n -c "$T/etc/pagegate.conf"
start_sink "$SMTP_PORT" || exit 1
start_daemon || exit 1

mkdir -p "$SHOTS"
rm -f "$SHOTS"/[0-9][0-9]-*.png     # this test's own; t_console_board's are board-*.png
jq -n --arg url "http://127.0.0.1:$HTTP_PORT" --arg token "$TOKEN" --arg shots "$SHOTS" --arg out "$T/typed.json" \
  --arg greeting "$GREETING" --arg emergency "$EMERGENCY_CONTACT" '{
    url: $url, operator: "tester", token: $token, bearer: $token, shots: $shots, out: $out,
    client: { id: "test-clinic", name: "Test Clinic", dnis: "8005550100", greeting: $greeting,
              field: { id: "address", label: "Service address" }, emergency_contact: $emergency },
    unknown_dnis: "8005559999" }' >"$T/console.json"

# The browser test prints its own "ok - " / "not ok - " lines.
(cd "$NODE_DIR" && timeout 300 node console.test.mjs "$T/console.json") >"$T/node.out" 2>"$T/node.err"
rc=$?
cat "$T/node.out"
N_NOTOK=$((N_NOTOK + $(grep -c '^not ok - ' "$T/node.out")))
check "the browser test ran to its end" grep -q '^# browser checks done' "$T/node.out"
[ "$rc" -eq 0 ] || { echo "# node exited $rc; its stderr:"; sed 's/^/# /' "$T/node.err" | tail -20; }
grep -q '^# keystrokes beyond the text: [0-9]*$' "$T/node.out" ||
  notok "the keystroke count was printed"

# ---- the mail carries exactly what was typed ----
n=$(jq '.messages | length' "$T/typed.json" 2>/dev/null || echo 0)
check "the browser test names the message it typed" test "$n" -ge 1
for i in $(seq 0 $((n - 1))); do
  m() { jq -r ".messages[$i].$1" "$T/typed.json"; }
  id=$(m id)
  has_mail() { [ -n "$(mail_for "$id")" ]; }
  check "message $id reached the sink" wait_until 30 has_mail
  f=$(mail_for "$id" | head -1)
  [ -n "$f" ] || continue
  parse_mail "$f" >"$T/mail.json"
  body=$(jq -r .body "$T/mail.json" | tr -d '\r')
  line() { grep -qxF -- "$1" <<<"$body"; }
  check "the mail's Caller line is the typed name (Vietnamese)" line "Caller:  $(m name)"
  check "the mail's Phone line is the number read back" line "Phone:   $(m phone)"
  check "the mail's Company line is the typed company (Greek)" line "Company: $(m company)"
  check "the mail's $(m field_label) line is what was typed (Greek)" line "$(m field_label): $(m field)"
  check "the mail's text is exactly the typed message (Greek and Vietnamese)" line "$(m text)"
  check "the mail carries the reference read to the caller" grep -qF "reference $(m ref)" <<<"$body"
  check_eq "the mail's subject names the typed caller" \
    "[Test Clinic] urgent message from $(m name) $(m phone)" "$(jq -r .subject "$T/mail.json")"
done

# ---- screenshots ----
png_size() { $PY -c 'import struct,sys; d=open(sys.argv[1],"rb").read(24); print("%dx%d" % struct.unpack(">II", d[16:24]))' "$1"; }
shots=$(find "$SHOTS" -maxdepth 1 -name '[0-9][0-9]-*.png' 2>/dev/null | sort)
check "a screenshot of each screen under $SHOTS (at least 11)" test "$(wc -l <<<"$shots")" -ge 11
bad=""
for s in $shots; do [ "$(png_size "$s")" = 1366x768 ] || bad+="$(basename "$s") "; done
check_eq "every screenshot is 1366x768" "" "$bad"
echo "# screenshots: $(tr '\n' ' ' <<<"$shots")"

stop_daemon
