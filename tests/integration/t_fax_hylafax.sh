#!/usr/bin/env bash
# Fax through HylaFAX (hfaxd's client-server protocol, a private spool):
# the job appears in the server's queue for the right number with our
# TIFF attached (pages, width, and the text read back by OCR); the ledger
# has the job id; when the job ends (here: killed, as an administrator
# would) the poller reports it as a failed delivery with HylaFAX's words.
# A server that is down is a temporary failure, retried, then failed.
# pagegate-test: serial   (faxq gives up on a modem-less job after ~60 s: the checks
#                           of the queued job must not be slowed by other tests)
. "$(dirname "$0")/lib.sh"
. "$ROOT/tests/peers/fax_hylafax.sh"
trap 'fax_hylafax_stop; cleanup' EXIT

HYLA_PORT=$(free_port); DOWN_PORT=$(free_port)
write_config
sed -i 's|^retry = { email = \(.*\); };$|retry = { email = \1; fax = { base = "1s"; cap = "2s"; give_up = "8s"; }; };|' "$T/etc/pagegate.conf"
cat >>"$T/etc/pagegate.conf" <<CONF
fax = (
  { name = "office-hylafax"; kind = "hylafax"; host = "127.0.0.1"; port = $HYLA_PORT;
    user = "pagegate"; timeout = "10s"; poll = "5s"; max_dials = 4; max_tries = 2; },
  { name = "down"; kind = "hylafax"; host = "127.0.0.1"; port = $DOWN_PORT; user = "pagegate";
    timeout = "2s"; }
);
CONF
for c in office:office-hylafax down:down; do
  cat >"$T/etc/clients/h-${c%%:*}.conf" <<CONF
id = "h-${c%%:*}";
name = "Hyla ${c%%:*}";
timezone = "America/Chicago";
business_hours = ( { days = "Sun-Sat"; from = "00:00"; to = "24:00"; } );
contacts = ( { id = "fax"; name = "Office fax";
  devices = ( { channel = "fax"; to = "+15555550100"; gateway = "${c#*:}"; } ); } );
rules = ( { notify = "contact:fax"; } );
CONF
done
fax_hylafax_start "$HYLA_PORT" || { notok "HylaFAX started"; exit 1; }
export TMPDIR=$T
start_daemon || exit 1

TEXT=$(for i in $(seq -w 1 70); do echo "Line $i: the boiler at 4 Oak Lane needs a technician"; done)
id=$(post_message "$(jq -n --arg t "$TEXT" '{client:"h-office", caller:{name:"Cy Young", phone:"+1 555 555 0177"}, text:$t}')")
check "message accepted" test -n "$id"
dstate() { msg_json "$1" | jq -r '.deliveries[0].state'; }
dstate_is() { [ "$(dstate "$1")" = "$2" ]; }
check "the delivery is sent (queued by HylaFAX)" wait_until 30 dstate_is "$id" sent
reply=$(msg_json "$id" | jq -r '.deliveries[0].attempts[0].reply')
job=$(sed -n 's/^HylaFAX job \([0-9]*\) queued on office-hylafax: 2 pages (200 Job \1 submitted\.)$/\1/p' <<<"$reply")
check "the ledger names the HylaFAX job and its 2 pages ($reply)" test -n "$job"

q=$FAX_HYLA_SPOOL/sendq/q$job
check "the job is in hfaxd's send queue" test -f "$q"
check_eq "for the device's number" "number:+15555550100" "$(grep '^number:' "$q")"
check_eq "with the job's limits" "maxdials:4|maxtries:2" "$(grep -E '^max(dials|tries):' "$q" | paste -sd'|')"
doc=$(sed -n 's/^tiff:0::\(docq\/doc[0-9]*\.tif\.'"$job"'\)$/\1/p' "$q")
check "with our TIFF attached (tiff:0::docq/...)" test -n "$doc" -a -f "$FAX_HYLA_SPOOL/$doc"
mkdir -p "$T/pages"
"$BUILD/peers/fax_pages" "$FAX_HYLA_SPOOL/$doc" "$T/pages" >"$T/pages/info"
check_eq "the document is a 2-page fax, 1728 wide, fine" \
  "pages=2|page=1 width=1728 height=2156 yres=196|page=2 width=1728 height=2156 yres=196" \
  "$(paste -sd'|' "$T/pages/info")"
for p in 1 2; do OMP_THREAD_LIMIT=1 tesseract "$T/pages/page-$p.pgm" - --psm 6 2>/dev/null; done >"$T/ocr.txt"
check_eq "OCR of the queued document reads all 70 lines" 70 \
  "$(for i in $(seq -w 1 70); do grep -qF "Line $i: the boiler at 4 Oak Lane needs a technician" "$T/ocr.txt" && echo "$i"; done | wc -l)"
check "faxstat lists the job for the number" \
  bash -c "faxstat -h 127.0.0.1:$HYLA_PORT -s 2>/dev/null | grep -qE '^$job +[0-9]+ +[A-Z] +[a-z]+ +\+15555550100'"

# an administrator kills the job: the poller reports the delivery failed
/usr/bin/python3 - "$HYLA_PORT" "$job" >"$T/jkill.log" 2>&1 <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
f = s.makefile("rwb")
def reply():
    line = f.readline().decode()
    while line[3:4] == "-":
        line = f.readline().decode()
    print(line.rstrip())
    return line
def cmd(c):
    f.write((c + "\r\n").encode()); f.flush(); return reply()
reply(); cmd("USER pagegate"); cmd("JOB " + sys.argv[2])
ok = cmd("JKILL").startswith("200")
cmd("QUIT")
sys.exit(0 if ok else 1)
PY
check "the job is killed on the server (JKILL)" test $? -eq 0
check "the delivery becomes failed from the job's state" wait_until 30 dstate_is "$id" failed ||
  { sed 's/^/# jkill: /' "$T/jkill.log"; grep -a 'HylaFAX job' "$T/daemon.log" | tail -5 | sed 's/^/# /'; }
check "the ledger has HylaFAX's words" test "$(msg_json "$id" | jq -r --arg j "$job" \
  '[.ledger[] | select(.type == "failed" and .detail == "HylaFAX job \($j) FAILED: Job aborted by request")] | length')" = 1

# a server that does not answer: temporary, retried, failed after give-up
id2=$(post_message '{"client":"h-down","caller":{"name":"Di","phone":"555-0102"},"text":"server down test"}')
check "down server: failed after the give-up time" wait_until 30 dstate_is "$id2" failed
r=$(msg_json "$id2" | jq -r '.deliveries[0].attempts[] | "\(.outcome) \(.reply)"')
check "down server: every attempt temp, connection refused" \
  test "$(grep -c . <<<"$r")" -ge 2 -a "$(grep -vcE '^temp (gave up after [0-9]+ attempts: )?HylaFAX down: connect to 127.0.0.1:'"$DOWN_PORT"': Connection refused$' <<<"$r")" = 0
check "no fax file is left in the spool" bash -c "! ls '$T'/pagegate-fax.*/* 2>/dev/null | grep -q ."
stop_daemon
