#!/usr/bin/env bash
# Voice calls end to end, on real UDP sockets on loopback: the daemon
# phones four people (tests/peers/voice_party: sofia-sip + spandsp in
# their own processes), each through its own trunk of the shared "sip"
# list.  What each one recorded is compared sample for sample with what
# `pagegate render --channel voice` writes for the same message (speech
# is deterministic, G.711 a fixed quantiser; only the position in the
# recording depends on packet timing):
#  - jane presses 1 at the greeting and 1 at the menu (telephone-events):
#    she heard the greeting, the message, the menu and "acknowledged",
#    nothing else; the delivery is delivered and the message acknowledged
#    by her, with the call's keys and SIP details in the ledger;
#  - raj does the same with in-band tones (spandsp's DTMF detector);
#  - sam hangs up at the greeting: the delivery stays sent, nothing
#    acknowledged, and he heard only the greeting;
#  - kim presses nothing: the greeting three times and nothing after it,
#    then pagegate hangs up; the delivery is sent, not delivered.
# pagegate-test: serial   (G.711 audio in real time: run alone, not beside other tests)
. "$(dirname "$0")/lib.sh"
PIDS=()
voice_cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; }
trap 'voice_cleanup; cleanup' EXIT

write_config
sed -i 's/^workers = 4;/workers = 6;/' "$T/etc/pagegate.conf"
declare -A PORT
{
  echo "sip = ("
  sep=""
  for who in jane raj sam kim; do
    PORT[$who]=$(free_port)
    printf '%s  { name = "%s"; proxy = "sip:127.0.0.1:%s"; from = "sip:pagegate@pagegate.test"; local_ip = "127.0.0.1"; ring = "20s"; watchdog = "120s"; }' \
      "$sep" "t-$who" "${PORT[$who]}"
    sep=$',\n'
  done
  echo; echo ");"
} >>"$T/etc/pagegate.conf"
cat >"$T/etc/clients/acme.conf" <<'CONF'
id = "acme";
name = "Acme";
timezone = "America/Chicago";
business_hours = ( { days = "Sun-Sat"; from = "00:00"; to = "24:00"; } );
language = "en";
contacts = (
  { id = "jane"; name = "Jane Ortiz";
    devices = ( { channel = "voice"; to = "+15555550111"; gateway = "t-jane"; } ); },
  { id = "raj"; name = "Raj Patel";
    devices = ( { channel = "voice"; to = "+15555550112"; gateway = "t-raj"; } ); },
  { id = "sam"; name = "Sam Lee";
    devices = ( { channel = "voice"; to = "+15555550113"; gateway = "t-sam"; } ); },
  { id = "kim"; name = "Kim Young";
    devices = ( { channel = "voice"; to = "+15555550114"; gateway = "t-kim"; } ); }
);
rules = ( { notify = [ "contact:jane", "contact:raj", "contact:sam", "contact:kim" ]; } );
CONF

# party WHO KEYS [ARGS]: a person answering on WHO's trunk
party() {
  local who=$1 keys=$2; shift 2
  mkdir -p "$T/$who"
  "$BUILD/peers/voice_party" --port "${PORT[$who]}" --dir "$T/$who" --keys "$keys" \
    --timeout 150 -v "$@" >"$T/$who/log" 2>&1 &
  PIDS+=($!)
}
party jane 1,1
party raj 1,1 --dtmf inband
party sam h
party kim -
start_daemon || exit 1

MSG='{"client":"acme","urgency":"urgent","caller":{"name":"John Smith","phone":"+1 555 555 0142"},"text":"The furnace is out and the house is cold."}'
id=$(post_message "$MSG")
check "POST /v1/messages answers 201" test -n "$id"
check_eq "four voice deliveries" "voice voice voice voice" "$(resp '[.deliveries[].channel] | join(" ")')"

# what each part sounds like, rendered for each person (the greeting names them)
printf '%s' "$MSG" >"$T/msg.json"
for who in jane raj sam kim; do
  for part in greeting message menu acked passed; do
    "$BUILD/pagegate" render -c "$T/etc/pagegate.conf" --channel voice --message "$T/msg.json" \
      --contact "$who" --set part=$part -o "$T/$who.$part.wav" 2>>"$T/render.log"
  done
done
check "pagegate render wrote every part for every person" \
  test "$(ls "$T"/*.wav 2>/dev/null | wc -l)" = 20

check "all four calls ended" wait_until 140 bash -c \
  "for w in jane raj sam kim; do [ -s '$T/'\$w/status ] || exit 1; done"
dstate() { msg_json "$id" | jq -r --arg to "$1" '.deliveries[] | select(.to == $to) | .state'; }
dreply() { msg_json "$id" | jq -r --arg to "$1" '.deliveries[] | select(.to == $to) | .attempts[-1].reply'; }
check "the message is acknowledged" wait_until 20 bash -c \
  "curl -s -H 'Authorization: Bearer $TOKEN' http://127.0.0.1:$HTTP_PORT/v1/messages/$id | jq -e '.acknowledged' >/dev/null"
check "no delivery is still sending" wait_until 20 bash -c \
  "! curl -s -H 'Authorization: Bearer $TOKEN' http://127.0.0.1:$HTTP_PORT/v1/messages/$id | jq -e '.deliveries[] | select(.state == \"sending\" or .state == \"queued\")' >/dev/null"

# match WHO PARTS...: what WHO recorded, with the parts it must contain
match() { local who=$1; shift; local a=(); for p in "$@"; do a+=("$T/$who.$p.wav"); done
  "$BUILD/peers/voice_match" --ulaw "$T/$who/call-1.raw" "${a[@]}"; }
count_of() { grep -F "$T/$1.$2.wav count=" | sed 's/.* count=\([0-9]*\) .*/\1/'; }

# ---- jane: 1 at the greeting, 1 at the menu, telephone-events ----
check_eq "jane: answered, pressed 1 1, pagegate hung up" 'call=1 result=answered keys="1 1" hangup=them' \
  "$(cat "$T/jane/status")"
m=$(match jane greeting message menu acked)
check_eq "jane heard the greeting, the message, the menu and 'acknowledged' once each, exactly as rendered" \
  "1 1 1 1" "$(for p in greeting message menu acked; do count_of jane $p <<<"$m"; done | paste -sd' ')"
check_eq "jane heard nothing else" "0" "$(sed -n 's/^uncovered=\([0-9]*\) .*/\1/p' <<<"$m")"
check_eq "jane's delivery is delivered (the message was read to her)" delivered "$(dstate +15555550111)"
r=$(dreply +15555550111)
check "jane's attempt: answered, keys 1 1, acknowledged, over G.711" \
  grep -qE '^answered after [0-9.]+ s, keys 1 1, [0-9]+ s: acknowledged, via SIP G.711 PCMU$' <<<"$r"
j=$(msg_json "$id")
check "acknowledged by phone through the voice channel, by jane or raj (whose 1 came first)" \
  jq -e '.acked_by | test("^(Jane Ortiz by phone \\+15555550111|Raj Patel by phone \\+15555550112) via voice$")' <<<"$j"
did=$(jq '.deliveries[] | select(.to == "+15555550111") | .id' <<<"$j")
ledger_of() { jq -r --argjson d "$1" '.ledger[] | select(.delivery == $d) | "\(.type): \(.detail)"' <<<"$j"; }
check_eq "jane's ledger: call set up, answered, key 1, read to her, key 1, the call's end" \
  "attempt_started: attempt 1: voice to +15555550111 via t-jane|receipt: answered after N s|receipt: key 1 (telephone-event)|delivered: the message is read to Jane Ortiz by phone +15555550111|receipt: key 1 (telephone-event)|attempt_finished: ok: answered after N s, keys 1 1, N s: acknowledged, via SIP G.711 PCMU" \
  "$(ledger_of "$did" | sed -E 's/[0-9]+(\.[0-9])? s/N s/g' | paste -sd'|')"

# ---- raj: the same with in-band tones ----
check_eq "raj: answered, pressed 1 1 as tones" 'call=1 result=answered keys="1 1" hangup=them' \
  "$(cat "$T/raj/status")"
check "raj's tones were heard as keys: delivered, acknowledged at the menu" \
  grep -qE '^answered after [0-9.]+ s, keys 1 1, [0-9]+ s: acknowledged' <<<"$(dreply +15555550112)"
check_eq "the ledger names raj's keys as in-band tones" 2 \
  "$(jq -r '.ledger[].detail // empty' <<<"$j" | grep -c 'key 1 (in-band tone)')"
check_eq "raj's delivery is delivered" delivered "$(dstate +15555550112)"

# ---- sam: hangs up at the greeting ----
check_eq "sam hung up without a key" 'call=1 result=answered keys="" hangup=us' "$(cat "$T/sam/status")"
m=$(match sam greeting message)
check_eq "sam heard the greeting and not the message" "1 0" \
  "$(for p in greeting message; do count_of sam $p <<<"$m"; done | paste -sd' ')"
check_eq "sam's delivery is sent, not delivered" sent "$(dstate +15555550113)"
check "sam's attempt: answered, no key, not heard" \
  grep -qE '^answered after [0-9.]+ s, no key, [0-9]+ s: not heard \(no key at the greeting\)' <<<"$(dreply +15555550113)"

# ---- kim: presses nothing ----
check_eq "kim pressed nothing and pagegate hung up" 'call=1 result=answered keys="" hangup=them' \
  "$(cat "$T/kim/status")"
m=$(match kim greeting)
check_eq "kim heard the greeting three times and nothing after it" "3 0" \
  "$(count_of kim greeting <<<"$m") $(sed -n 's/^uncovered=\([0-9]*\) .*/\1/p' <<<"$m")"
check_eq "kim's delivery is sent, not delivered" sent "$(dstate +15555550114)"

check "each delivery took one call" \
  test "$(jq '[.deliveries[].attempts | length] | add' <<<"$j")" = 4
stop_daemon
