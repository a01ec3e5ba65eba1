#!/usr/bin/env bash
# Fax calls that do not go through at once, against real SIP peers on
# loopback:
# SIPp (a third-party SIP tester) for busy, never answered, and a far end
# that refuses T.38 (488), takes G.711 and then sends no media at all (a
# dead line only the watchdog ends); tests/peers/fax_receiver for a
# machine that is busy once and then takes the fax, and one that hangs
# up in the middle of every call.  Temporary failures are retried with
# the fax backoff and end as failed after the give-up time, each reason
# in the ledger.  And the signalling detours of a call that works: early
# media (183 with SDP before 200), 488 to T.38, G.711, then the far end's
# re-INVITE to T.38 switching the call over.
. "$(dirname "$0")/lib.sh"
PIDS=()
fax_cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; }
trap 'fax_cleanup; cleanup' EXIT

P_BUSYOK=$(free_port); P_BUSY=$(free_port); P_NOANS=$(free_port); P_HANGUP=$(free_port)
P_DEAD=$(free_port); MEDIA_DEAD=$(free_port); P_REINV=$(free_port); P_AUTH=$(free_port)
write_config
sed -i 's|^retry = { email = \(.*\); };$|retry = { email = \1; fax = { base = "1s"; cap = "2s"; give_up = "25s"; }; };|' "$T/etc/pagegate.conf"
gw() {  # gw NAME PORT WATCHDOG RING [MORE SETTINGS]
  echo "  { name = \"$1\"; proxy = \"sip:127.0.0.1:$2\"; from = \"sip:fax@pagegate.test\";"
  echo "    local_ip = \"127.0.0.1\"; watchdog = \"$3\"; ring = \"$4\"; ${5:-} },"
}
{
  echo "sip = ("      # the shared trunks (fax and voice name them alike)
  gw busyok "$P_BUSYOK" 60s 10s; gw busy "$P_BUSY" 60s 10s; gw noans "$P_NOANS" 60s 5s
  gw hangup "$P_HANGUP" 60s 10s; gw reinv "$P_REINV" 60s 10s
  gw badauth "$P_AUTH" 60s 10s 'user = "gw"; password = "wrong";'; gw dead "$P_DEAD" 30s 10s | sed '$ s/},$/}/'
  echo ");"
} >>"$T/etc/pagegate.conf"
for c in busyok busy noans hangup reinv badauth dead; do
  cat >"$T/etc/clients/f-$c.conf" <<CONF
id = "f-$c";
name = "Fault $c";
timezone = "America/Chicago";
business_hours = ( { days = "Sun-Sat"; from = "00:00"; to = "24:00"; } );
contacts = ( { id = "desk"; name = "Desk";
  devices = ( { channel = "fax"; to = "+15555550100"; gateway = "$c"; } ); } );
rules = ( { notify = "contact:desk"; } );
CONF
done

mkdir -p "$T/busyok" "$T/hangup" "$T/reinv" "$T/badauth" "$T/sipp"
"$BUILD/peers/fax_receiver" --port "$P_BUSYOK" --dir "$T/busyok" --busy 1 --calls 2 --timeout 100 -v \
  >"$T/busyok/log" 2>&1 & PIDS+=($!)
"$BUILD/peers/fax_receiver" --port "$P_HANGUP" --dir "$T/hangup" --hangup-after 8000 --hangup-calls 99 \
  --calls 99 --timeout 100 -v >"$T/hangup/log" 2>&1 & PIDS+=($!)
"$BUILD/peers/fax_receiver" --port "$P_AUTH" --dir "$T/badauth" --auth gw:right --timeout 100 -v \
  >"$T/badauth/log" 2>&1 & PIDS+=($!)
"$BUILD/peers/fax_receiver" --port "$P_REINV" --dir "$T/reinv" --mode g711-reinvite --early-media \
  --calls 1 --timeout 100 -v >"$T/reinv/log" 2>&1 & PIDS+=($!)
( cd "$T/sipp" && exec sipp -sf "$ROOT/tests/peers/fax_sipp_busy.xml" -i 127.0.0.1 -p "$P_BUSY" \
    -m 100 -nostdin -timeout 100 >busy.out 2>&1 ) & PIDS+=($!)
( cd "$T/sipp" && exec sipp -sf "$ROOT/tests/peers/fax_sipp_noanswer.xml" -i 127.0.0.1 -p "$P_NOANS" \
    -m 100 -nostdin -timeout 100 -trace_msg -message_file noans.msg >noans.out 2>&1 ) & PIDS+=($!)
( cd "$T/sipp" && exec sipp -sf "$ROOT/tests/peers/fax_sipp_fallback.xml" -i 127.0.0.1 -p "$P_DEAD" \
    -mi 127.0.0.1 -mp "$MEDIA_DEAD" -m 2 -nostdin -timeout 100 -trace_msg \
    -message_file dead.msg >dead.out 2>&1 ) & PIDS+=($!)
export TMPDIR=$T
start_daemon || exit 1

declare -A ID
for c in busyok busy noans hangup reinv badauth dead; do
  ID[$c]=$(post_message "{\"client\":\"f-$c\",\"caller\":{\"name\":\"Bo\",\"phone\":\"555-0101\"},\"text\":\"call back about the $c test\"}")
  check "message for f-$c accepted" test -n "${ID[$c]}"
done
dstate() { msg_json "$1" | jq -r '.deliveries[0].state'; }
dstate_is() { [ "$(dstate "$1")" = "$2" ]; }
replies() { msg_json "$1" | jq -r '.deliveries[0].attempts[] | "\(.outcome) \(.reply)"'; }
# all_temp REPLIES PATTERN: at least two attempts, each "temp PATTERN" (the
# last one says the scheduler gave up: "temp gave up after N attempts: ...")
all_temp() {
  local n; n=$(grep -c . <<<"$1")
  [ "$n" -ge 2 ] && [ "$(grep -cE "^temp (gave up after $n attempts: )?$2" <<<"$1")" = "$n" ] &&
    tail -1 <<<"$1" | grep -qE "^temp gave up after $n attempts: "
}

# busy once, then the fax goes through on the retry
check "busy, then sent on the second call" wait_until 60 dstate_is "${ID[busyok]}" sent
check_eq "attempts: busy (temporary), then OK" \
  "temp busy (SIP 486 Busy Here): 0 of 1 page|ok OK: 1 of 1 page, 14400 bit/s, ECM, remote \"+1 555 555 0199\", via SIP T.38" \
  "$(replies "${ID[busyok]}" | paste -sd'|')"
check_eq "the machine refused once and received once" \
  "call=1 result=refused|call=2 result=received" \
  "$(cut -d' ' -f1-2 "$T/busyok/status" | paste -sd'|')"

# always busy (SIPp): retried until the give-up time, then failed
check "always busy: failed after the give-up time" wait_until 60 dstate_is "${ID[busy]}" failed
r=$(replies "${ID[busy]}")
check "always busy: retried, each attempt temp 486 busy, then the scheduler gave up" \
  all_temp "$r" 'busy \(SIP 486 Busy Here\): 0 of 1 page$'

# never answered (SIPp rings): CANCEL after the ring time, retried, failed
check "no answer: failed after the give-up time" wait_until 60 dstate_is "${ID[noans]}" failed
r=$(replies "${ID[noans]}")
check "no answer: retried, every attempt temp 'no answer in 5 s', then gave up" \
  all_temp "$r" 'no answer in 5 s: 0 of 1 page$'
check "SIPp rang (180), took our CANCEL and ended the INVITE with 487" \
  bash -c "grep -q '^SIP/2.0 180 Ringing' '$T/sipp/noans.msg' && grep -q '^CANCEL sip:' '$T/sipp/noans.msg' &&
           grep -q '^SIP/2.0 487 Request Terminated' '$T/sipp/noans.msg'"

# hangs up during every call: temporary with T.30's words, then failed
check "hang-up mid-call: failed after the give-up time" wait_until 60 dstate_is "${ID[hangup]}" failed
r=$(replies "${ID[hangup]}")
check "hang-up mid-call: retried, every attempt temp 'far end hung up' with T.30's words" \
  all_temp "$r" 'far end hung up: The call dropped prematurely: 0 of 1 page, remote "\+1 555 555 0199", via SIP T.38$'

# early media, 488 to T.38, G.711, then the far end asks for T.38
check "early media + re-INVITE: sent" wait_until 60 dstate_is "${ID[reinv]}" sent
check_eq "the call ended on T.38 after starting on G.711" \
  'ok OK: 1 of 1 page, 14400 bit/s, ECM, remote "+1 555 555 0199", via SIP T.38' "$(replies "${ID[reinv]}")"
check "the machine answered 183 with SDP first, refused T.38, re-INVITEd to T.38" \
  bash -c "grep -q 'early media: 183 with SDP' '$T/reinv/log' && grep -q 'no media we take: 488' '$T/reinv/log' &&
           grep -q 're-INVITE to T.38' '$T/reinv/log' && grep -q 'switching to T.38' '$T/reinv/log'"
check "and received the page over T.38" grep -q '^call=1 result=received media=t38 code=0 pages=1 ' "$T/reinv/status"

# wrong credentials: refused for good, no retry
check "wrong password: failed at once" wait_until 30 dstate_is "${ID[badauth]}" failed
check_eq "one attempt, permanent, SIP 401" "perm refused: authentication failed (SIP 401 Unauthorized): 0 of 1 page" \
  "$(replies "${ID[badauth]}")"
check "the machine checked our digest and found it wrong" grep -q 'digest from gw: WRONG' "$T/badauth/log"

# 488 to T.38, G.711 answered on a dead line: the watchdog ends the call
check "dead line: failed (the watchdog's call outlived the give-up time)" \
  wait_until 70 dstate_is "${ID[dead]}" failed
check_eq "dead line: one attempt, ended by the watchdog, over G.711" \
  "temp gave up after 1 attempt: watchdog: no end of call after 30 s: 0 of 1 page, via SIP G.711 PCMU" \
  "$(replies "${ID[dead]}")"
check_eq "dead line: SIPp saw T.38 offered, 488, then G.711 offered, 200, and our BYE" \
  "INVITE|m=image|488|ACK|INVITE|m=audio 0 8|200|ACK|BYE|200" \
  "$(grep -E '^(INVITE|ACK|BYE) |^SIP/2.0 [0-9]+|^m=(image|audio) [0-9]+ (udptl|RTP/AVP 0 8)' "$T/sipp/dead.msg" |
     sed -E 's/^(INVITE|ACK|BYE) .*/\1/; s/^SIP\/2.0 ([0-9]+).*/\1/; s/^m=image.*/m=image/; s/^m=audio.*/m=audio 0 8/' | paste -sd'|')"
m=$(msg_json "${ID[dead]}")
check "the ledger says why the delivery failed" \
  test "$(jq -r '[.ledger[] | select(.type == "failed")] | length' <<<"$m")" -ge 1
stop_daemon
