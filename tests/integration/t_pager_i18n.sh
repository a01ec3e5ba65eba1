#!/usr/bin/env bash
# Pages in Greek, Chinese, Lithuanian, Vietnamese and English, of about
# 100, 300 and 600 characters, through the real peers (shared/PEERS.md):
# HylaFAX's hfaxd with its default limit of 128 (counted in bytes on the
# wire, line breaks included), as UTF-8 and as 7-bit ASCII (ascii = true);
# the WCTP carrier peer; the TAP terminal peer.  Every page is accepted,
# and what the far end holds (the page document in HylaFAX's spool, the
# carrier's and the terminal's records) is exactly the expected cut, or
# the expected cut of ICU's transliteration, of what was typed
# (t_pager_i18n.py works it out apart from pagegate's code).
# Refusals for length are recovered: hfaxd refusing the middle page of a
# batch (a gateway whose limit pagegate was not told) takes it again in
# the same session, cut to the 128 its refusal names, and the next page
# of the batch still goes; the carrier's 411 and the terminal's 517 the
# same way.
#
# PG_BUILD=DIR runs another build (the code before a change) against the
# same peers (PG_PEERS, default this build's); the RESULT lines ("# result
# PATH LANG LEN STATE EXACT FAITHFUL QMARKS BYTES CHARS") are the
# before/after table.
. "$(dirname "$0")/lib.sh"
. "$ROOT/tests/peers/hylafax.sh"
PEERS=${PG_PEERS:-$BUILD/peers}
ORACLE="$PY $ROOT/tests/integration/t_pager_i18n.py"
export PAGEGATE_LOG=debug                 # the SNPP dialogue, to count sessions

SNPP_PORT=$(free_port); HYLA_PORT=$(free_port); WCTP_PORT=$(free_port); STALL_PORT=$(free_port)
TERM_PID=; CARRIER_PID=; STALL_PID=
stop_peers() {
  local p
  for p in $TERM_PID $CARRIER_PID $STALL_PID; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  TERM_PID=; CARRIER_PID=; STALL_PID=
}
trap 'stop_peers; hylafax_stop; cleanup' EXIT

mkdir -p "$T/tap" "$T/wctp" "$T/msgs"
"$PEERS/tap_terminal" "$T/tap" A1B2C3 "" 200 >>"$T/tap.log" 2>&1 &
TERM_PID=$!
"$PEERS/wctp_carrier" "$WCTP_PORT" "$T/wctp" acme s3cr3t 200 >>"$T/wctp.log" 2>&1 &
CARRIER_PID=$!
# an SNPP "gateway" that accepts and never answers: a page to it keeps the
# only delivery worker busy (3 s) while the batch's pages are queued
$PY - "$STALL_PORT" "$T/stall" >>"$T/stall.log" 2>&1 <<'EOF' &
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(8)
open(sys.argv[2] + ".ready", "w").close()
c, _ = s.accept()
open(sys.argv[2] + ".conn", "w").close()
time.sleep(600)
EOF
STALL_PID=$!
wait_until 10 test -f "$T/stall.ready" || { notok "stalling SNPP listener"; exit 1; }
wait_until 10 test -s "$T/tap/device" || { notok "TAP terminal started"; exit 1; }
wait_until 15 port_open "$WCTP_PORT" || { notok "WCTP carrier listening"; exit 1; }

write_config
# one worker: the three pages to hylafax-big, queued while it is busy,
# are taken as one batch
sed -i 's/^workers = 4;/workers = 1;/' "$T/etc/pagegate.conf"
grep -q '^workers = 1;' "$T/etc/pagegate.conf" || { notok "one delivery worker"; exit 1; }
cat >>"$T/etc/pagegate.conf" <<CONF
pager = (
  { name = "hylafax-u"; kind = "snpp"; host = "127.0.0.1"; port = $SNPP_PORT;
    login = "pagegate"; site = [ "JQUEUE YES" ]; max_length = 128; timeout = 10; },
  { name = "hylafax-a"; kind = "snpp"; host = "127.0.0.1"; port = $SNPP_PORT;
    login = "pagegate"; site = [ "JQUEUE YES" ]; max_length = 128; ascii = true; timeout = 10; },
  { name = "hylafax-big"; kind = "snpp"; host = "127.0.0.1"; port = $SNPP_PORT;
    login = "pagegate"; site = [ "JQUEUE YES" ]; timeout = 10; },
  { name = "carrier-wctp"; kind = "wctp"; url = "http://127.0.0.1:$WCTP_PORT/wctp";
    sender_id = "acme"; security_code = "s3cr3t"; poll = 0; timeout = 5; },
  { name = "tap-terminal"; kind = "tap"; device = "$(cat "$T/tap/device")"; password = "A1B2C3";
    speed = 9600; framing = "8N1"; timeout = 10; },
  { name = "stall"; kind = "snpp"; host = "127.0.0.1"; port = $STALL_PORT; timeout = 3; }
);
CONF
dev() { echo "{ id = \"$1\"; name = \"$1\"; devices = ( { channel = \"pager\"; gateway = \"$2\"; pin = \"$3\";${4:+ max_length = $4;} } ); },"; }
cat >"$T/etc/clients/i18n-clinic.conf" <<CONF
id = "i18n-clinic";
name = "Lakeside Clinic";
dnis = [ "8005550166" ];
timezone = "Europe/Athens";
business_hours = ( { days = "Sun-Sat"; from = "00:00"; to = "24:00"; } );
contacts = (
  $(dev su hylafax-u 4412)
  $(dev sa hylafax-a 4413)
  $(dev w carrier-wctp 5551212 160)
  $(dev t tap-terminal 4414 160)
  $(dev b1 hylafax-big 4421 40)
  $(dev b2 hylafax-big 4422 400)
  $(dev b3 hylafax-big 4423 40)
  $(dev wl carrier-wctp 5551213 400)
  $(dev blk stall 1)
  { id = "tl"; name = "tl"; devices = ( { channel = "pager"; gateway = "tap-terminal"; pin = "4415"; max_length = 400; } ); }
);
rules = (
  { when = { urgency = "urgent"; }; notify = "contact:blk"; },
  { when = { urgency = "emergency"; }; notify = [ "contact:b1", "contact:b2", "contact:b3", "contact:wl", "contact:tl" ]; },
  { notify = [ "contact:su", "contact:sa", "contact:w", "contact:t" ]; }
);
CONF

hylafax_start "$SNPP_PORT" "$HYLA_PORT" pagegate || { notok "HylaFAX faxq and hfaxd started"; exit 1; }
start_daemon || exit 1

$ORACLE messages "$T/msgs"
: >"$T/posted"
# the batch: queued while the worker waits on the stalling gateway
stall=$(post_message '{"client":"i18n-clinic","urgency":"urgent","caller":{"name":"Ann Lee","phone":"+1 555 555 0100"},"text":"stall"}')
check "the worker is busy with the stalling gateway" wait_until 10 test -f "$T/stall.conn"
id=$(post_message "$(cat "$T/msgs/batch.json")") && echo "$id batch" >>"$T/posted"
api POST "/v1/messages/$stall/cancel" '{"reason":"only there to keep the worker busy"}'
rm "$T/msgs/batch.json"
for f in "$T"/msgs/*.json; do
  id=$(post_message "$(cat "$f")")
  [ -n "$id" ] || { notok "message $(basename "$f") accepted"; continue; }
  echo "$id $(basename "$f" .json)" >>"$T/posted"
done
check_eq "16 messages accepted" 16 "$(wc -l <"$T/posted")"

# every delivery final (sent or failed), or still retrying after 90 s
settled() {
  local id
  while read -r id _; do
    msg_json "$id" | jq -e '[.deliveries[].state] | all(. == "sent" or . == "delivered" or . == "failed")' \
      >/dev/null || return 1
  done <"$T/posted"
}
wait_until 90 settled || echo "# not every delivery settled within 90 s"

# what each far end received, one JSON line per delivery
path_of() {
  case $1 in
    su) echo snpp-unicode;; sa) echo snpp-ascii;; w) echo wctp;; t) echo tap;;
    b1|b3) echo snpp-batch-short;; b2) echo snpp-batch-long;; wl) echo wctp-long;; tl) echo tap-long;;
  esac
}
: >"$T/arrived.jsonl"
while read -r id name; do
  [ "$name" = batch ] && name=el-600      # the batch message's text
  msg_json "$id" >"$T/m.json"
  ack=$(jq -r .ack_ref "$T/m.json")
  jq -c '.deliveries[]' "$T/m.json" | while read -r d; do
    contact=$(jq -r .contact <<<"$d"); did=$(jq -r .id <<<"$d")
    path=$(path_of "$contact")
    case $path in
      snpp*)
        job=$(jq -r '[.attempts[] | select(.outcome == "ok")][0].reply // ""' <<<"$d" |
              sed -n 's/.*jobid: \([0-9]*\)\..*/\1/p')
        if [ -n "$job" ]; then arrived=$(hylafax_job_text "$job"; echo x); arrived=${arrived%x}
                               arrived=${arrived%$'\n'}
        else arrived=; fi
        have=$([ -n "$job" ] && echo 1);;
      wctp*)
        line=$(awk -F'\t' -v i="$did" '$1 == i' "$T/wctp/submits" 2>/dev/null | tail -1)
        arrived=$(cut -f4 <<<"$line" | sed 's/\\n/\n/g'); have=${line:+1};;
      tap*)
        pin=$([ "$contact" = t ] && echo 4414 || echo 4415)
        line=$(awk -F'\t' -v p="$pin" -v a="ACK $ack " 'index($2, a) && $1 == p' "$T/tap/pages" 2>/dev/null | tail -1)
        arrived=$(cut -f2- <<<"$line"); have=${line:+1};;
    esac
    # a delivery that failed: what the far end said to each attempt
    [ "$(jq -r .state <<<"$d")" = failed ] &&
      jq -r --arg w "$path $name" '.attempts[] | "# \($w) attempt: \(.outcome) \(.reply)"' <<<"$d"
    jq -cn --arg path "$path" --arg lang "${name%-*}" --arg len "${name#*-}" \
      --arg state "$(jq -r .state <<<"$d")" --arg arrived "$arrived" --arg have "$have" \
      --slurpfile m "$T/m.json" \
      '{path: $path, lang: $lang, len: $len, state: $state,
        arrived: (if $have == "1" then $arrived else null end),
        urgency: $m[0].urgency, client: "Lakeside Clinic", ack_ref: $m[0].ack_ref,
        caller_name: $m[0].caller.name, caller_phone: $m[0].caller.phone,
        text: $m[0].text}' >>"$T/arrived.jsonl"
  done
done <"$T/posted"

$ORACLE judge "$T/arrived.jsonl" >"$T/results"
grep '^#' "$T/results"
sed -n 's/^RESULT /# result /p' "$T/results"
while read -r _ path lang len state exact faithful qmarks bytes chars; do
  check "$path $lang $len: accepted ($state)" test "$state" = sent
  check "$path $lang $len: the far end holds the expected cut ($bytes bytes, $chars characters)" \
    test "$exact" = exact
done < <(grep '^RESULT' "$T/results")
check_eq "a result for every delivery (15 x 4 + 5)" 65 "$(grep -c '^RESULT' "$T/results")"

# the refused page of the batch went again in the same session
did_b2=$(while read -r id name; do [ "$name" = batch ] && msg_json "$id"; done <"$T/posted" |
         jq -r '.deliveries[] | select(.contact == "b2") | .id')
check "hfaxd refused the long page of the batch, it went again cut shorter" \
  grep -q "snpp hylafax-big: delivery $did_b2 refused as too long" "$T/daemon.log"
check_eq "the batch of three took one SNPP session" 1 "$(grep -c 'snpp hylafax-big: QUIT' "$T/daemon.log")"
check "and no new session was needed" bash -c "! grep -q 'snpp hylafax-big: .*opening a new session' '$T/daemon.log'"
check_eq "the carrier refused one page with 411" 1 "$(grep -c 411 "$T/wctp/too_long" 2>/dev/null)"
check_eq "the terminal refused one page with 517" 1 "$(grep -c 517 "$T/tap/too_long" 2>/dev/null)"
check "no checksum or protocol errors at the terminal" test ! -s "$T/tap/errors"
check "no invalid WCTP operation" test ! -s "$T/wctp/invalid"

stop_daemon
stop_peers
hylafax_stop
