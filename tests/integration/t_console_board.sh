#!/usr/bin/env bash
# The console's Board and Message screens in a real browser: Debian's
# Chromium driven by playwright-core (tests/console/board.test.mjs)
# against the real pagegated, a real SMTP sink and a second sink that
# refuses every recipient for good (550 at RCPT).  An emergency dispatched
# from the console escalates against the sink and shows on the board with
# its step, who was paged and when the next step fires; the operator
# acknowledges it from the board on someone's behalf, no later step
# reaches the sink and the ledger names the operator.  A delivery refused
# for good shows on the board with the far end's reply; resent to another
# contact's email it reaches the sink as a new delivery of the same
# message.  Live updates wait behind "N new — show" while rows are
# selected.  Bulk acknowledge of three, a note on two, a check-in
# contact's messages read out and marked delivered, the alarm of a
# message nobody acknowledged (sound, notification, in every open
# console) silenced and recorded.  Screenshots of the board and the
# message screen (1366x768) are saved as $PG_BUILD/screenshots/board-*.png.
. "$(dirname "$0")/lib.sh"
NODE_DIR=$ROOT/tests/console
SHOTS=$BUILD/screenshots
if [ ! -d "$NODE_DIR/node_modules/playwright-core" ] || [ ! -x /usr/bin/chromium ]; then
  notok "playwright-core and chromium are installed (make deps: tests/peers/deps.sh)"
  exit 1
fi

write_config
# a second relay that refuses every recipient for good (550 at RCPT)
REFUSER_PORT=$(free_port)
REFUSAL='550 5.1.1 <billing@clinic.example>: Recipient address rejected: User unknown'
sed -i "s|timeout = 10; batch = 20; } );|timeout = 10; batch = 20; },\n         { name = \"refuser\"; host = \"127.0.0.1\"; port = $REFUSER_PORT; starttls = \"off\";\n           from = \"pagegate@test.example\"; timeout = 10; } );|" "$T/etc/pagegate.conf"
# Escalation: step 1 now, step 2 after STEP1_S, step 3 STEP2_S later: the
# test acknowledges between steps 2 and 3 and waits past step 3's time.
STEP1_S=6; STEP2_S=15
cat >"$T/etc/clients/test-clinic.conf" <<CONF
id = "test-clinic";
name = "Test Clinic";
dnis = [ "8005550100" ];
timezone = "America/Chicago";
business_hours = ( { days = "Sun-Sat"; from = "00:00"; to = "24:00"; } );
fields = ( { id = "address"; label = "Service address"; } );
contacts = (
  { id = "office"; name = "Front Office"; devices = ( { channel = "email"; to = "office@clinic.example"; } ); },
  { id = "doc"; name = "Dr. Zoë Ångström"; devices = ( { channel = "email"; to = "doc@clinic.example"; } ); },
  { id = "nurse"; name = "Nurse Kim Lee"; devices = ( { channel = "email"; to = "nurse@clinic.example"; } ); },
  { id = "billing"; name = "Billing desk";
    devices = ( { channel = "email"; to = "billing@clinic.example"; gateway = "refuser"; } ); },
  { id = "drlee"; name = "Dr. Lee"; checkin = true; }
);
escalation = ( { id = "page-doc"; steps = ( { notify = "contact:doc"; wait = "${STEP1_S}s"; },
                                             { notify = "contact:nurse"; wait = "${STEP2_S}s"; },
                                             { notify = "contact:office"; wait = "30s"; } ); } );
rules = (
  { when = { kind = "dispatch"; }; escalate = "page-doc"; },
  { when = { urgency = "urgent"; }; notify = "contact:billing"; },
  { when = { urgency = "emergency"; }; notify = "contact:office"; },
  { notify = "contact:drlee"; }
);
CONF
# a client whose escalation runs out at once: its dispatches sound the alarm
cat >"$T/etc/clients/lakeside.conf" <<'CONF'
id = "lakeside";
name = "Lakeside Family Clinic";
dnis = [ "6125550100" ];
timezone = "America/New_York";
contacts = ( { id = "desk"; name = "Front desk"; devices = ( { channel = "email"; to = "desk@lakeside.example"; } ); } );
escalation = ( { id = "quick"; steps = ( { notify = "contact:desk"; wait = "1s"; } ); } );
rules = ( { when = { kind = "dispatch"; }; escalate = "quick"; }, { notify = "contact:desk"; } );
CONF
check "the test configuration is valid" "$BUILD/pagegated" -n -c "$T/etc/pagegate.conf"
REFUSER_PID=
stop_refuser() { [ -z "$REFUSER_PID" ] || { kill "$REFUSER_PID" 2>/dev/null; wait "$REFUSER_PID" 2>/dev/null; REFUSER_PID=; }; }
trap 'stop_refuser; cleanup' EXIT
start_sink "$REFUSER_PORT" -f RCPT -B "$REFUSAL" || exit 1
REFUSER_PID=$SINK_PID
start_sink "$SMTP_PORT" || exit 1
start_daemon || exit 1

mkdir -p "$SHOTS"
rm -f "$SHOTS"/board-*.png
jq -n --arg url "http://127.0.0.1:$HTTP_PORT" --arg token "$TOKEN" --arg shots "$SHOTS" --arg mail "$T/mail" \
  --arg refusal "$REFUSAL" --argjson step1 "$STEP1_S" --argjson step2 "$STEP2_S" '{
    url: $url, operator: "tester", token: $token, bearer: $token, shots: $shots, mail: $mail,
    refusal: $refusal, step1_s: $step1, step2_s: $step2,
    client: { id: "test-clinic", name: "Test Clinic" },
    alarm_client: { id: "lakeside", name: "Lakeside Family Clinic" } }' >"$T/board.json"

# The browser test prints its own "ok - " / "not ok - " lines.
(cd "$NODE_DIR" && timeout 400 node board.test.mjs "$T/board.json") >"$T/node.out" 2>"$T/node.err"
rc=$?
cat "$T/node.out"
N_NOTOK=$((N_NOTOK + $(grep -c '^not ok - ' "$T/node.out")))
check "the browser test ran to its end" grep -q '^# browser checks done' "$T/node.out"
[ "$rc" -eq 0 ] || { echo "# node exited $rc; its stderr:"; sed 's/^/# /' "$T/node.err" | tail -20; }

# ---- screenshots ----
png_size() { $PY -c 'import struct,sys; d=open(sys.argv[1],"rb").read(24); print("%dx%d" % struct.unpack(">II", d[16:24]))' "$1"; }
shots=$(find "$SHOTS" -maxdepth 1 -name 'board-*.png' 2>/dev/null | sort)
check "screenshots of the board and the message screen under $SHOTS" \
  test -n "$(grep board-.*-board <<<"$shots")" -a -n "$(grep board-.*-message <<<"$shots")"
bad=""
for s in $shots; do [ "$(png_size "$s")" = 1366x768 ] || bad+="$(basename "$s") "; done
check_eq "every screenshot is 1366x768" "" "$bad"
echo "# screenshots: $(tr '\n' ' ' <<<"$shots")"

stop_daemon
