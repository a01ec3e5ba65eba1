#!/usr/bin/env bash
# Fax over SIP end to end, on real UDP sockets on loopback: the daemon
# renders a 3-page message and calls two fax machines (tests/peers/
# fax_receiver: sofia-sip + spandsp in their own processes).  The first
# takes T.38 and challenges the INVITE with digest authentication; the
# second refuses T.38 (488), so the call falls back to G.711 over RTP,
# at standard resolution.  What they received is checked page by page:
# count, size, and tesseract OCR of every line of the message text.
# pagegate-test: serial   (G.711 audio in real time: run alone, not beside other tests)
. "$(dirname "$0")/lib.sh"
RX_PIDS=()
fax_cleanup() { for p in "${RX_PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; }
trap 'fax_cleanup; cleanup' EXIT

# start_receiver NAME PORT ARGS... : a fax machine answering on PORT.
start_receiver() {
  local name=$1 port=$2; shift 2
  mkdir -p "$T/$name"
  "$BUILD/peers/fax_receiver" --port "$port" --dir "$T/$name" --timeout 170 -v "$@" \
    >"$T/$name/log" 2>&1 &
  RX_PIDS+=($!)
}
status_of() { cat "$T/$1/status" 2>/dev/null; }
has_status() { [ -s "$T/$1/status" ]; }

SIP_A=$(free_port); SIP_B=$(free_port)
write_config
sed -i 's|^retry = { email = \(.*\); };$|retry = { email = \1; fax = { base = "1s"; cap = "2s"; give_up = "1h"; }; };|' "$T/etc/pagegate.conf"
cat >>"$T/etc/pagegate.conf" <<CONF
sip = (
  { name = "trunk"; proxy = "sip:127.0.0.1:$SIP_A"; user = "gw"; password = "s3cret";
    from = "sip:fax@pagegate.test"; t38 = true; watchdog = "150s"; ring = "20s";
    local_ip = "127.0.0.1"; ident = "+1 555 555 0000"; },
  { name = "analog"; proxy = "sip:127.0.0.1:$SIP_B"; from = "sip:fax@pagegate.test";
    t38 = true; watchdog = "150s"; ident = "+1 555 555 0000"; }
);
CONF
cat >"$T/etc/clients/fax-clinic.conf" <<'CONF'
id = "fax-clinic";
name = "Fax Clinic";
dnis = [ "8005550199" ];
timezone = "America/Chicago";
business_hours = ( { days = "Sun-Sat"; from = "00:00"; to = "24:00"; } );
contacts = (
  { id = "front"; name = "Front Desk";
    devices = ( { channel = "fax"; to = "+15555550100"; gateway = "trunk"; } ); },
  { id = "lab"; name = "Lab";
    devices = ( { channel = "fax"; to = "+15555550101"; gateway = "analog"; resolution = "standard"; } ); }
);
rules = ( { notify = [ "contact:front", "contact:lab" ]; } );
CONF
start_receiver a "$SIP_A" --mode t38 --auth gw:s3cret --ident "+1 555 555 0100"
start_receiver b "$SIP_B" --mode g711 --ident "+1 555 555 0101"
export TMPDIR=$T       # the daemon's fax spool goes under $T
start_daemon || exit 1

TEXT=$(for i in $(seq -w 1 100); do echo "Line $i: the furnace at 12 Elm Street is out"; done)
id=$(post_message "$(jq -n --arg t "$TEXT" '{client:"fax-clinic", urgency:"urgent", caller:{name:"Ann Lee", phone:"+1 555 555 0142"}, text:$t}')")
check "POST /v1/messages answers 201" test -n "$id"
check_eq "two fax deliveries" "fax fax" "$(resp '[.deliveries[].channel] | join(" ")')"
check "both machines report the call" wait_until 160 bash -c "[ -s '$T/a/status' ] && [ -s '$T/b/status' ]"
check "the message reaches state sent" wait_until 20 state_is "$id" sent

# ---- what each machine says it received ----
check "T.38 machine: received 3 pages over T.38 from our station id" \
  grep -q '^call=1 result=received media=t38 code=0 pages=3 remote="+1 555 555 0000" status=200$' "$T/a/status"
check "G.711 machine: received 3 pages over G.711 PCMU" \
  grep -q '^call=1 result=received media=pcmu code=0 pages=3 remote="+1 555 555 0000" status=200$' "$T/b/status"
check "the T.38 machine challenged the INVITE and the digest was valid" \
  grep -q 'digest from gw: valid' "$T/a/log"
check "the G.711 machine refused the T.38 offer first (488)" grep -q 'no media we take: 488' "$T/b/log"

# ---- the received TIFFs: pages, size, and the text read back by OCR ----
ocr_lines() {   # ocr_lines DIR: every page's OCR, in page order
  local n; n=$(sed -n 's/^pages=//p' "$1/info")
  for p in $(seq 1 "$n"); do OMP_THREAD_LIMIT=1 tesseract "$1/page-$p.pgm" - --psm 6 2>/dev/null; done
}
for m in a:2156 b:1078; do
  name=${m%%:*}; h=${m#*:}
  mkdir -p "$T/$name/pages"
  "$BUILD/peers/fax_pages" "$T/$name/call-1.tif" "$T/$name/pages" >"$T/$name/pages/info"
  check_eq "$name: received TIFF has 3 pages 1728 wide, $h rows each" \
    "pages=3|page=1 width=1728 height=$h|page=2 width=1728 height=$h|page=3 width=1728 height=$h" \
    "$(sed 's/ yres=.*//' "$T/$name/pages/info" | paste -sd'|')"
  ocr_lines "$T/$name/pages" >"$T/$name/ocr.txt"
  if [ "$name" = b ]; then
    # at standard resolution DejaVu's 0 and O are a row apart: read a
    # letter O inside a line number as the digit it stands for
    sed -i -E ':a; s/(Line [0-9]*)O/\10/; ta' "$T/$name/ocr.txt"
  fi
  check_eq "$name: OCR reads back all 100 lines of the message" 100 \
    "$(for i in $(seq -w 1 100); do grep -qF "Line $i: the furnace at 12 Elm Street is out" "$T/$name/ocr.txt" && echo "$i"; done | wc -l)"
  check "$name: OCR reads the header line of page 3" grep -q "Fax Clinic | Message $id | Received .* Page 3 of 3" "$T/$name/ocr.txt"
  check "$name: OCR reads the caller's call-back number (spaces aside)" \
    bash -c "tr -d ' ' <'$T/$name/ocr.txt' | grep -qF 'Callback:+15555550142'"
done

# ---- the ledger ----
m=$(msg_json "$id")
ra=$(jq -r '.deliveries[] | select(.to == "+15555550100") | .attempts[0].reply' <<<"$m")
rb=$(jq -r '.deliveries[] | select(.to == "+15555550101") | .attempts[0].reply' <<<"$m")
check_eq "ledger (T.38): T.30 text, pages, bit rate, ECM, remote id, transport" \
  'OK: 3 of 3 pages, 14400 bit/s, ECM, remote "+1 555 555 0100", via SIP T.38' "$ra"
check_eq "ledger (G.711): the same over G.711" \
  'OK: 3 of 3 pages, 14400 bit/s, ECM, remote "+1 555 555 0101", via SIP G.711 PCMU' "$rb"
check_eq "each delivery took one attempt" "1 1" "$(jq -r '[.deliveries[].attempts | length] | join(" ")' <<<"$m")"
check "the spool holds no fax file after the calls" bash -c "! ls '$T'/pagegate-fax.*/* 2>/dev/null | grep -q ."
stop_daemon
check "the spool directory is removed at exit" bash -c "! ls -d '$T'/pagegate-fax.* 2>/dev/null | grep -q ."
