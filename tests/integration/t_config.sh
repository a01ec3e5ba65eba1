#!/usr/bin/env bash
# Configuration: `pagegated -n` and `pagegate check` report file:line
# errors and warnings (a deprecated store.path loads), refuse integer
# literals libconfig would truncate; SIGHUP installs a valid new
# configuration and rejects an invalid one, keeping the old.  Every
# diagnostic has a line; checking is linear in a string's length and in the
# number of contacts and numbers (ratios of best-of-three runs, no timer).
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

# Warnings never fail a load; both programs print them with file:line.
"$BUILD/pagegate" check "$ROOT/etc" 2>"$T/err5" >/dev/null
check "the repository's etc/ loads without a warning" test ! -s "$T/err5"
sed 's|store = { dsn = "sqlite:\([^"]*\)";|store = {\n  path = "\1";|' "$T/etc/pagegate.conf" >"$T/etc/old.conf"
"$BUILD/pagegate" check "$T/etc/old.conf" 2>"$T/err6"; rc=$?
check_eq "store.path still loads (pagegate check exits 0)" 0 "$rc"
check "pagegate check prints the deprecation as file:line: warning:" \
  grep -qx "$T/etc/old.conf:4: warning: store.path is deprecated: write dsn = \"sqlite:$T/var/pagegate.db\"" "$T/err6"
"$BUILD/pagegated" -n -c "$T/etc/old.conf" 2>"$T/err7" >/dev/null; rc=$?
check_eq "store.path still loads (pagegated -n exits 0)" 0 "$rc"
check "pagegated prints the same warning" grep -q "old.conf:4: warning: store.path is deprecated" "$T/err7"
rm -f "$T/etc/old.conf"
# libconfig would read 4294967297 as 1: refused at its line, also in an
# @include'd file; with the L suffix it reaches the range check.
printf 'workers = 4;\n@include "big.conf"\n' >"$T/etc/top.conf"
printf '\nmax_body = 4294967297;\n' >"$T/etc/big.conf"
"$BUILD/pagegate" check "$T/etc/top.conf" 2>"$T/err8"; rc=$?
check_eq "a 33-bit number fails the check" 1 "$rc"
check "and is reported at its file:line" \
  grep -q "^$T/etc/big.conf:2: number 4294967297 does not fit in 32 bits" "$T/err8"
printf '\nmax_body = 4294967297L;\n' >"$T/etc/big.conf"
"$BUILD/pagegate" check "$T/etc/top.conf" 2>"$T/err9"
check "with L it meets the field's range" grep -q "big.conf:2: bad max_body: expected a whole number from 1024 to 16777216" "$T/err9"
rm -f "$T/etc/top.conf" "$T/etc/big.conf"

# Every diagnostic has a line (issue 14): a problem of a whole file is at
# line 1, a bad byte at its own line.
: >"$T/etc/clients/empty.conf"
"$BUILD/pagegate" check "$T/etc/pagegate.conf" 2>"$T/err10"; rc=$?
check_eq "an empty client file fails the check" 1 "$rc"
check "it reports file:1: missing \"id\"" grep -q "^$T/etc/clients/empty.conf:1: missing \"id\"" "$T/err10"
rm -f "$T/etc/clients/empty.conf"
printf 'id = "nul";\nname = "N\0ul";\n' >"$T/etc/clients/nul.conf"
"$BUILD/pagegate" check "$T/etc/pagegate.conf" 2>"$T/err11"
check "a NUL byte is refused at its line" grep -q "^$T/etc/clients/nul.conf:2: a NUL byte" "$T/err11"
rm -f "$T/etc/clients/nul.conf"
cp -r "$ROOT/templates" "$T/tpl"
printf 'Hello\nthere\n\xff{{text}}\n' >"$T/tpl/email.txt"
sed "s|^templates = .*|templates = \"$T/tpl\";|" "$T/etc/pagegate.conf" >"$T/etc/tpl.conf"
"$BUILD/pagegate" check "$T/etc/tpl.conf" 2>"$T/err12"
check "a template that is not UTF-8 is reported at the bad line" grep -q "^$T/tpl/email.txt:3: template is not valid UTF-8" "$T/err12"
sed "s|^clients = .*|clients = \"$T/nowhere\";|" "$T/etc/pagegate.conf" >"$T/etc/nocl.conf"
"$BUILD/pagegate" check "$T/etc/nocl.conf" 2>"$T/err13"
check "a missing clients directory is reported at the clients line" \
  grep -q "^$T/etc/nocl.conf:$(grep -n '^clients' "$T/etc/nocl.conf" | cut -d: -f1): cannot read clients directory" "$T/err13"
"$BUILD/pagegate" check "$T/nothere.conf" 2>"$T/err14"
check "a file that cannot be opened is reported at line 1" grep -q "^$T/nothere.conf:1: cannot open" "$T/err14"
# Every line these checks printed has file:line:
cat "$T"/err1[0-4] >"$T/all-errs"
check_eq "every diagnostic printed above has file:line" "" \
  "$(grep -v '^/[^:]*:[0-9][0-9]*: ' "$T/all-errs")"
rm -rf "$T/etc/tpl.conf" "$T/etc/nocl.conf" "$T/tpl"

# Checking is linear in a string's length: a client file with a 4 MB
# string against one with a 1 MB string (the best of three runs each);
# linear is a ratio of about 4, quadratic about 16 (issue 14: 6.7 s).
big_client() {   # MB: a valid client whose name and instructions are MB long
  $PY - "$1" "$T/big/clients/big.conf" <<'PYEOF'
import sys
mb, path = int(sys.argv[1]), sys.argv[2]
s = '\u00e9' * (mb * 512 * 1024)          # 2 bytes each in UTF-8
open(path, 'w', encoding='utf-8').write(f"""id = "big";
name = "Big {s[:40]}";
timezone = "UTC";
instructions = "{s}";
contacts = ( {{ id = "boss"; name = "Boss"; devices = ( {{ channel = "email"; to = "boss@big.example"; }} ); }} );
rules = ( {{ notify = "contact:boss"; }} );
""")
PYEOF
}
best_ns() {   # the fastest of three `pagegate check` runs, in ns
  local best=0 a b i
  for i in 1 2 3; do
    a=$(date +%s%N); "$BUILD/pagegate" check "$T/big/pagegate.conf" >/dev/null 2>&1 || return 1; b=$(date +%s%N)
    if [ "$best" -eq 0 ] || [ $((b - a)) -lt "$best" ]; then best=$((b - a)); fi
  done
  echo "$best"
}
mkdir -p "$T/big/clients"
sed "s|^clients = .*|clients = \"$T/big/clients\";|" "$T/etc/pagegate.conf" >"$T/big/pagegate.conf"
big_client 1; t1=$(best_ns)
check "a 1 MB string checks clean" test -n "$t1"
big_client 4; t4=$(best_ns)
check "a 4 MB string checks clean" test -n "$t4"
echo "# check: 1 MB string ${t1:-?} ns, 4 MB string ${t4:-?} ns"
check "4 MB checks in under 8 times the time of 1 MB (linear: ~4)" \
  test $(( ${t4:-0} < 8 * ${t1:-0} )) -eq 1
# ... and in the number of entries: 32000 contacts and numbers against 8000
# (a duplicate id or number is found through a hash, not by walking every
# entry before it: was 3 s for 32000 contacts, quadratic).
many_client() {   # N: a valid client with N contacts and N dnis
  $PY - "$1" "$T/big/clients/big.conf" <<'PYEOF'
import sys
n, path = int(sys.argv[1]), sys.argv[2]
cs = ',\n'.join('  { id = "c%d"; name = "Contact %d"; devices = ( { channel = "email"; to = "c%d@example.org"; } ); }' % (i, i, i) for i in range(n))
dn = ', '.join('"%d"' % (8000000000 + i) for i in range(n))
open(path, 'w').write('id = "big";\nname = "Big";\ndnis = [ %s ];\ntimezone = "UTC";\ncontacts = (\n%s\n);\nrules = ( { notify = "contact:c0"; } );\n' % (dn, cs))
PYEOF
}
many_client 8000; n1=$(best_ns)
check "8000 contacts and numbers check clean" test -n "$n1"
many_client 32000; n4=$(best_ns)
check "32000 contacts and numbers check clean" test -n "$n4"
echo "# check: 8000 entries ${n1:-?} ns, 32000 entries ${n4:-?} ns"
# Under 12x, not 8x: libconfig 1.5 itself grows a list by reallocating
# it in chunks (a small quadratic part of its own); under the sanitizers
# on a loaded machine 32000 against 8000 entries measured 8.9x.  Our old
# quadratic duplicate check made it 16x and more.
check "32000 entries check in under 12 times the time of 8000 (linear: ~4, quadratic: 16)" \
  test $(( ${n4:-0} < 12 * ${n1:-0} )) -eq 1
rm -rf "$T/big"

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
check "the store opened at store.dsn's path" test -s "$T/var/pagegate.db"
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
