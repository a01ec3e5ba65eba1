#!/usr/bin/env bash
# Pages over TAP/IXO to a paging terminal emulated on a pseudo-terminal
# (tests/peers/tap_terminal.c, from the published protocol; no TAP
# terminal is packaged): the daemon opens the pty like a serial line, logs
# on with the password, and the terminal receives the page for the PIN,
# checksums verified, as one line of 7-bit ASCII cut to max_length; a
# page the terminal rejects (RS) fails for good.  (framing 8N1: a pty
# takes 7E1 once, then refuses it on the next open.)
. "$(dirname "$0")/lib.sh"

TERM_PID=
stop_terminal() {
  [ -n "$TERM_PID" ] || return 0
  kill "$TERM_PID" 2>/dev/null; wait "$TERM_PID"; local rc=$?; TERM_PID=
  return $rc
}
trap 'stop_terminal; cleanup' EXIT

mkdir -p "$T/tap"
"$BUILD/peers/tap_terminal" "$T/tap" A1B2C3 9999 >>"$T/tap.log" 2>&1 &
TERM_PID=$!
wait_until 10 test -s "$T/tap/device" || { notok "TAP terminal started"; exit 1; }
DEVICE=$(cat "$T/tap/device")

write_config
cat >>"$T/etc/pagegate.conf" <<CONF
pager = (
  { name = "tap-terminal"; kind = "tap"; device = "$DEVICE"; password = "A1B2C3";
    speed = 9600; framing = "8N1"; timeout = 10; }
);
CONF
cat >"$T/etc/clients/tap-clinic.conf" <<'CONF'
id = "tap-clinic";
name = "Hillside Vet";
dnis = [ "8005550199" ];
timezone = "Europe/Berlin";
business_hours = ( { days = "Sun-Sat"; from = "00:00"; to = "24:00"; } );
contacts = (
  { id = "vet"; name = "Dr. Vet";
    devices = ( { channel = "pager"; gateway = "tap-terminal"; pin = "4412"; max_length = 80; } ); },
  { id = "old"; name = "Old Pager";
    devices = ( { channel = "pager"; gateway = "tap-terminal"; pin = "9999"; } ); }
);
rules = (
  { when = { urgency = "emergency"; }; notify = "contact:vet"; },
  { notify = "contact:old"; }
);
CONF
start_daemon || exit 1

dstate_is() { [ "$(msg_json "$1" | jq -r '.deliveries[0].state')" = "$2" ]; }

id=$(post_message '{"client":"tap-clinic","urgency":"emergency","caller":{"name":"Jörg Weiß","phone":"+49 30 5550142"},"text":"Hund hat Schokolade gefressen – kommt in 20 Minuten vorbei, bitte zurückrufen"}')
check "emergency page accepted" test -n "$id"
check "the page is sent" wait_until 20 dstate_is "$id" sent
ack=$(msg_json "$id" | jq -r .ack_ref)
check_eq "attempt ok with the terminal's message" "ok TAP accepted: 211 Page(s) Sent Successfully" \
  "$(msg_json "$id" | jq -r '.deliveries[0].attempts[0] | "\(.outcome) \(.reply)"')"
check_eq "the terminal received one page" 1 "$(grep -c . "$T/tap/pages")"
IFS=$'\t' read -r pin text <"$T/tap/pages"
echo "# page: $text"
check_eq "for PIN 4412" 4412 "$pin"
check "one line, starting with urgency, client and ack reference" \
  grep -q "^emergency Hillside Vet - ACK $ack / Jorg Weiss +49 30 5550142 / Hund hat" <<<"$text"
check "7-bit ASCII" bash -c '! LC_ALL=C grep -q "[^ -~]" <<<"$1"' _ "$text"
check "cut to max_length 80 (got ${#text})" test "${#text}" -le 80 -a "${#text}" -ge 64
check "no checksum or protocol errors at the terminal" test ! -s "$T/tap/errors"

id=$(post_message '{"client":"tap-clinic","caller":{"name":"Al","phone":"555"},"text":"routine"}')
check "a page the terminal rejects (RS) fails" wait_until 20 dstate_is "$id" failed
check_eq "with the terminal's message, after one attempt" \
  "1 perm TAP page rejected: 501 Invalid pager ID" \
  "$(msg_json "$id" | jq -r '.deliveries[0] | "\(.attempts | length) \(.attempts[0].outcome) \(.attempts[0].reply)"')"

stop_daemon
check "terminal exits cleanly" stop_terminal
