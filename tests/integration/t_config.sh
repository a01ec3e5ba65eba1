#!/usr/bin/env bash
# Configuration: `pagegated -n` and `pagegate check` report file:line
# errors; SIGHUP installs a valid new configuration and rejects an invalid
# one, keeping the old.
. "$(dirname "$0")/lib.sh"
write_config

check "the repository's etc/pagegate.conf is valid (pagegated -n)" "$BUILD/pagegated" -n -c "$ROOT/etc/pagegate.conf"
check "pagegate check accepts the repository's etc/" "$BUILD/pagegate" check "$ROOT/etc"
check "the test configuration is valid" "$BUILD/pagegated" -n -c "$T/etc/pagegate.conf"

cp "$T/etc/clients/test-clinic.conf" "$T/good.conf"
# A rule that names a contact that does not exist, on line 14.
sed -i 's/notify = "contact:office"; channels/notify = "contact:ofice"; channels/' "$T/etc/clients/test-clinic.conf"
line=$(grep -n 'contact:ofice' "$T/etc/clients/test-clinic.conf" | cut -d: -f1)
"$BUILD/pagegated" -n -c "$T/etc/pagegate.conf" 2>"$T/err"; rc=$?
check "pagegated -n exits non-zero on an unknown contact" test "$rc" -ne 0
check "the error names file:line and the contact" grep -q "test-clinic.conf:$line:.*ofice" "$T/err"
"$BUILD/pagegate" check "$T/etc/pagegate.conf" 2>"$T/err2"; rc=$?
check "pagegate check exits 1" test "$rc" -eq 1
check "pagegate check prints the same file:line" grep -q "test-clinic.conf:$line:.*ofice" "$T/err2"
printf 'port = "eighty";\n' >"$T/bad.conf"
"$BUILD/pagegated" -n -c "$T/bad.conf" 2>"$T/err3"
check "a wrong type is reported with its line" grep -q "bad.conf:1:" "$T/err3"
printf 'listen = "127.0.0.1";\nport = = 80;\n' >"$T/syntax.conf"
"$BUILD/pagegated" -n -c "$T/syntax.conf" 2>"$T/err4"
check "a syntax error is reported with its line" grep -q "syntax.conf:2:" "$T/err4"
cp "$T/good.conf" "$T/etc/clients/test-clinic.conf"

start_sink "$SMTP_PORT" || exit 1
start_daemon || exit 1
NEW='{"client":"new-client","caller":{"name":"A","phone":"555-0100"},"text":"hello new"}'
api POST /v1/messages "$NEW"
check_eq "unknown client before reload -> 404" 404 "$CODE"
cat >"$T/etc/clients/new-client.conf" <<'CONF'
id = "new-client";
name = "New Client";
timezone = "Europe/Berlin";
contacts = ( { id = "boss"; name = "Boss"; devices = ( { channel = "email"; to = "boss@new.example"; } ); } );
rules = ( { notify = "contact:boss"; } );
CONF
kill -HUP "$DPID"
accepted_new() { api POST /v1/messages "$NEW"; [ "$CODE" = 201 ]; }
check "after SIGHUP the new client is accepted" wait_until 10 accepted_new
id=$(resp .id)
check "and its message is delivered" wait_until 20 state_is "$id" sent

# A broken file: the reload is rejected, the running config stays.
printf 'id = "broken";\nname = "Broken";\ntimezone = "Mars/Olympus";\n' >"$T/etc/clients/broken.conf"
kill -HUP "$DPID"
rejected() { grep -q "reload rejected" "$T/daemon.log"; }
check "an invalid reload is rejected and logged" wait_until 10 rejected
check "the log names the bad line" grep -q "broken.conf:3:.*Mars/Olympus" "$T/daemon.log"
api POST /v1/messages "$NEW"
check_eq "the running configuration still serves the new client" 201 "$CODE"
check "the daemon is still alive" kill -0 "$DPID"
stop_daemon
