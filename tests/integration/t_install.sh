#!/usr/bin/env bash
# `make install` like a Debian daemon (issue 14): DESTDIR/PREFIX=/usr puts
# the programs, templates, README, example configuration, the systemd unit
# and its sysusers.d file in place; the live configuration is written only
# when absent and is safe (no demo token: the daemon refuses to start
# without an operator); the console is compiled in (no files).  The unit
# passes `systemd-analyze verify` on the installed tree, and where systemd
# is PID 1 it runs under systemd-run.  The installed daemon, started by
# hand with a NOTIFY_SOCKET of our own, says READY=1 only once /healthz
# answers, pings WATCHDOG=1 when WATCHDOG_USEC is set, RELOADING=1/READY=1
# on SIGHUP and STOPPING=1 on SIGTERM.  --version on both programs.
. "$(dirname "$0")/lib.sh"
R=$T/root
NPID=
stop_listener() { [ -n "$NPID" ] && { kill "$NPID" 2>/dev/null; wait "$NPID" 2>/dev/null; NPID=; }; }
trap 'stop_listener; cleanup' EXIT

make --no-print-directory -C "$ROOT" install DESTDIR="$R" PREFIX=/usr BUILD="$BUILD" >"$T/install.log" 2>&1; rc=$?
check_eq "make install DESTDIR=... PREFIX=/usr succeeds" 0 "$rc"
[ "$rc" = 0 ] || { tail -20 "$T/install.log"; exit 1; }
mode() { stat -c %a "$1" 2>/dev/null; }
check_eq "the daemon in /usr/sbin, 755" 755 "$(mode "$R/usr/sbin/pagegated")"
check_eq "the CLI in /usr/bin, 755" 755 "$(mode "$R/usr/bin/pagegate")"
check "every template in /usr/share/pagegate/templates" diff -r "$ROOT/templates" "$R/usr/share/pagegate/templates"
check "the README in /usr/share/doc/pagegate" cmp -s "$ROOT/README.md" "$R/usr/share/doc/pagegate/README.md"
check "the example clients in /usr/share/pagegate/examples" diff -r "$ROOT/etc/clients" "$R/usr/share/pagegate/examples/clients"
check "the example configuration beside them" test -s "$R/usr/share/pagegate/examples/pagegate.conf"
check_eq "the live configuration in /etc/pagegate, 640" 640 "$(mode "$R/etc/pagegate/pagegate.conf")"
check_eq "/etc/pagegate and its clients directory, 750" "750 750" "$(mode "$R/etc/pagegate") $(mode "$R/etc/pagegate/clients")"
check_eq "the sysusers.d file makes the pagegate user" 'u pagegate - "pagegate paging gateway" /var/lib/pagegate' \
  "$(grep -v '^#' "$R/usr/lib/sysusers.d/pagegate.conf")"
check_eq "no console files installed (it is compiled in)" "" "$(cd "$R" && find . -path '*console*')"
U=$R/usr/lib/systemd/system/pagegated.service
check "the unit is installed" test -s "$U"
check_eq "its ExecStart is the installed daemon on /etc/pagegate" \
  "ExecStart=/usr/sbin/pagegated -c /etc/pagegate/pagegate.conf" "$(grep '^ExecStart=' "$U")"
check_eq "no placeholder is left in it" "" "$(grep -n '@[A-Z]*@' "$U")"
for d in Type=notify WatchdogSec=30s User=pagegate StateDirectory=pagegate ProtectSystem=strict \
         ProtectHome=yes PrivateTmp=yes NoNewPrivileges=yes ProtectKernelTunables=yes \
         ProtectKernelModules=yes 'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6' \
         SystemCallFilter=@system-service CapabilityBoundingSet=; do
  check "the unit sets $d" grep -qx "$d" "$U"
done

# The unit, checked by systemd on the installed tree.  The tree is not a
# whole system: ExecReload's /bin/kill comes from the host (procps, on
# every Debian system), and the targets the unit is ordered after are not
# there (--recursive-errors=no judges this unit alone).
mkdir -p "$R/bin" && cp /bin/kill "$R/bin/kill"
systemd-analyze verify --recursive-errors=no --man=no --root="$R" pagegated.service >"$T/verify.log" 2>&1; rc=$?
check_eq "systemd-analyze verify accepts the installed unit" 0 "$rc"
check_eq "without a warning" "" "$(cat "$T/verify.log")"
cp "$U" "$T/unit.good"; echo 'ProtectSystem=bogus' >>"$U"
systemd-analyze verify --recursive-errors=no --man=no --root="$R" pagegated.service >/dev/null 2>&1
check "(and verify does refuse a bad unit)" test $? -ne 0
cp "$T/unit.good" "$U"
score=$(systemd-analyze security --offline=yes --root="$R" pagegated.service 2>/dev/null |
        sed -n 's/.*Overall exposure level for pagegated.service: \([0-9.]*\).*/\1/p')
echo "# systemd-analyze security: exposure ${score:-?}"
check "its sandbox scores an exposure below 2.0 (systemd-analyze security)" \
  $PY -c "import sys; sys.exit(0 if 0 < float(sys.argv[1] or 99) < 2.0 else 1)" "${score:-99}"

# Installing again keeps the operator's configuration, refreshes the examples.
echo '# edited by the operator' >>"$R/etc/pagegate/pagegate.conf"
make --no-print-directory -C "$ROOT" install DESTDIR="$R" PREFIX=/usr BUILD="$BUILD" >>"$T/install.log" 2>&1
check "a second install keeps the live configuration" grep -qx '# edited by the operator' "$R/etc/pagegate/pagegate.conf"
check "and rewrites the example" bash -c "! grep -q 'edited by the operator' '$R/usr/share/pagegate/examples/pagegate.conf'"

# The installed configuration, pointed at this test's tree and port.
conf() {
  sed -e "s|/usr/share/pagegate|$R/usr/share/pagegate|" -e "s|sqlite:/var/lib/pagegate/|sqlite:$T/var/|" \
      -e "s|^port .*|port = $HTTP_PORT;|" -e "s|^public_url .*|public_url = \"http://127.0.0.1:$HTTP_PORT\";|" \
      -e "s|^clients .*|clients = \"$R/etc/pagegate/clients\";|" "$R/etc/pagegate/pagegate.conf"
}
mkdir -p "$T/var"; conf >"$T/pagegate.conf"
"$R/usr/bin/pagegate" check "$T/pagegate.conf" 2>"$T/check.err"; rc=$?
check_eq "the installed configuration does not run as installed" 1 "$rc"
check "because it has no operator (no demo token is installed)" grep -q ':.*no operators' "$T/check.err"
check "and no demo token" bash -c "! grep -q 7c43ef5a '$R/etc/pagegate/pagegate.conf'"
sed -i "s|^operators = (|operators = ( { name = \"ops\"; token_sha256 = \"$TOKEN_SHA\"; }|" "$T/pagegate.conf"
check "with an operator it is valid (installed pagegated -n)" bash -c "\"\$1\" -n -c \"\$2\" >/dev/null" _ "$R/usr/sbin/pagegated" "$T/pagegate.conf"

V=$("$R/usr/sbin/pagegated" --version); VC=$("$R/usr/bin/pagegate" --version)
check "pagegated --version prints its version" grep -qE '^pagegated [0-9]+\.[0-9]+\.[0-9]+' <<<"$V"
check_eq "pagegate --version the same" "${V#pagegated }" "$(cut -d' ' -f2 <<<"$VC")"

# The service manager's side: a datagram socket that records what it is
# told and, on the first READY=1, asks /healthz at once.
$PY - "$T/notify.sock" "$T/notify.log" "http://127.0.0.1:$HTTP_PORT/healthz" <<'PYEOF' &
import socket, sys, urllib.request
path, log, url = sys.argv[1:4]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
out = open(log, 'a', buffering=1)
ready = False
while True:
    msg = s.recv(4096).decode()
    out.write(msg.replace('\n', ' ') + '\n')
    if 'READY=1' in msg.split('\n') and not ready:
        ready = True
        try:
            code = urllib.request.urlopen(url, timeout=5).status
        except Exception as e:
            code = 'error: %s' % e
        out.write('healthz at READY=1: %s\n' % code)
PYEOF
NPID=$!
wait_until 10 test -S "$T/notify.sock" || notok "the notify socket is bound"
cp "$R"/usr/share/pagegate/examples/clients/*.conf "$R/etc/pagegate/clients/"   # the operator's clients
NOTIFY_SOCKET=$T/notify.sock WATCHDOG_USEC=600000 "$R/usr/sbin/pagegated" -c "$T/pagegate.conf" >>"$T/daemon.log" 2>&1 &
DPID=$!
ready_seen() { grep -q '^READY=1' "$T/notify.log" 2>/dev/null; }
check "READY=1 arrives" wait_until 30 ready_seen
# (the manager's side writes its /healthz answer after READY=1's line)
healthz_asked() { grep -q '^healthz at READY=1' "$T/notify.log" 2>/dev/null; }
wait_until 10 healthz_asked
check_eq "and /healthz already answered when it did" "healthz at READY=1: 200" "$(grep -m1 '^healthz at READY=1' "$T/notify.log")"
check "with a STATUS naming what it serves" grep -q "^READY=1 STATUS=serving 2 clients on 127.0.0.1 port $HTTP_PORT" "$T/notify.log"
pings() { grep -c '^WATCHDOG=1' "$T/notify.log"; }
three_pings() { [ "$(pings)" -ge 3 ]; }
check "WATCHDOG=1 pings arrive (WATCHDOG_USEC=600000: one every 200 ms)" wait_until 20 three_pings
check "the log says how often" grep -q "watchdog: a ping every 200 ms" "$T/daemon.log"
kill -HUP "$DPID"
reloaded() { grep -q '^READY=1 STATUS=serving 2 clients$' "$T/notify.log"; }
check "SIGHUP: RELOADING=1, then READY=1 again" wait_until 20 reloaded
check "(RELOADING=1 came first)" bash -c "grep -n '' '$T/notify.log' | grep -m1 -E 'RELOADING=1|STATUS=serving 2 clients\$' | grep -q RELOADING"
# A backup while it runs (README "Operations"): VACUUM INTO copies one
# consistent snapshot of the WAL database.
id=$(post_message '{"client":"acme-hvac","caller":{"name":"Ann","phone":"555-0100"},"text":"backed up","fields":{"address":"1 Elm"}}')
check "the installed daemon takes a message for an example client" test -n "$id"
sqlite3 "$T/var/pagegate.db" "VACUUM INTO '$T/backup.db'"
check_eq "a backup taken while it runs passes the integrity check" ok "$(sqlite3 "$T/backup.db" 'PRAGMA integrity_check')"
check_eq "and holds the message" "backed up" "$(sqlite3 "$T/backup.db" "select text from messages where id = ${id:-0}")"
kill -TERM "$DPID"; wait "$DPID"; rc=$?; DPID=
check_eq "SIGTERM: exit 0" 0 "$rc"
stopping() { grep -q '^STOPPING=1' "$T/notify.log"; }
check "STOPPING=1 was sent" wait_until 5 stopping
check "the installed daemon named its version when ready" grep -q "pagegated ${V#pagegated } ready" "$T/daemon.log"
check "no sanitizer report in the daemon log" sanitizer_clean
stop_listener

# Where systemd runs the machine, the installed daemon starts under it.
if [ "$(ps -p 1 -o comm= 2>/dev/null)" = systemd ] && command -v systemd-run >/dev/null; then
  unit=pagegate-t-install-$$
  systemd-run --quiet --unit="$unit" --property=Type=notify --property=WatchdogSec=30s \
    "$R/usr/sbin/pagegated" -c "$T/pagegate.conf"; rc=$?
  check_eq "systemd-run starts it as a notify service (returns once READY=1)" 0 "$rc"
  check "and it answers /healthz" curl -sf -o /dev/null "http://127.0.0.1:$HTTP_PORT/healthz"
  systemctl stop "$unit"
else
  echo "# PID 1 is not systemd: the unit is checked with systemd-analyze verify only"
fi
