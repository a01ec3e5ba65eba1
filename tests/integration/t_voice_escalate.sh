#!/usr/bin/env bash
# Voice calls in escalation and retries, against called parties
# (tests/peers/voice_party) and SIPp for the lines that never answer:
#  - 3 at the menu passes the message on now: the escalation's next step
#    (an email to the office) goes out at once, not after its 10 minutes;
#  - 1 at the menu acknowledges and stops the escalation (no next step
#    is due);
#  - voice as an escalation step: an email nobody acknowledges, then,
#    after the step's wait, a phone call that is acknowledged by key;
#  - busy once, then answered: retried with the voice backoff;
#  - always busy (SIPp 486) and never answered (SIPp rings; pagegate
#    cancels after the trunk's ring time): retried until the give-up
#    time, each attempt with its SIP final response, then failed.
# pagegate-test: serial   (G.711 audio in real time: run alone, not beside other tests)
. "$(dirname "$0")/lib.sh"
PIDS=()
voice_cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; }
trap 'voice_cleanup; cleanup' EXIT

start_sink "$SMTP_PORT" || exit 1
write_config
sed -i 's/^workers = 4;/workers = 8;/' "$T/etc/pagegate.conf"
sed -i 's|^retry = { email = \(.*\); };$|retry = { email = \1; voice = { base = "1s"; cap = "2s"; give_up = "20s"; }; };|' \
  "$T/etc/pagegate.conf"
declare -A PORT
for n in pass ack step busyok busy noans; do PORT[$n]=$(free_port); done
{
  echo "sip = ("
  sep=""
  for n in pass ack step busyok busy noans; do
    printf '%s  { name = "%s"; proxy = "sip:127.0.0.1:%s"; from = "sip:pagegate@pagegate.test"; local_ip = "127.0.0.1"; ring = "5s"; watchdog = "120s"; }' \
      "$sep" "t-$n" "${PORT[$n]}"
    sep=$',\n'
  done
  echo; echo ");"
} >>"$T/etc/pagegate.conf"

# client NAME RULE STEPS: a client whose person "p" answers on trunk t-NAME
client() {
  cat >"$T/etc/clients/v-$1.conf" <<CONF
id = "v-$1";
name = "Voice $1";
timezone = "America/Chicago";
business_hours = ( { days = "Sun-Sat"; from = "00:00"; to = "24:00"; } );
contacts = (
  { id = "office"; name = "Office"; devices = ( { channel = "email"; to = "office@v-$1.example"; } ); },
  { id = "p"; name = "Pat Quinn"; devices = ( { channel = "voice"; to = "+15555550100"; gateway = "t-$1"; } ); }
);
escalation = ( { id = "esc"; steps = ( $3 ); } );
rules = ( $2 );
CONF
}
VOICE='{ notify = "contact:p"; channels = [ "voice" ]; wait = "10m"; }'
MAIL='{ notify = "contact:office"; channels = [ "email" ]; wait = "10m"; }'
client pass '{ escalate = "esc"; }' "$VOICE, $MAIL"
client ack '{ escalate = "esc"; }' "$VOICE, $MAIL"
client step '{ escalate = "esc"; }' '{ notify = "contact:office"; channels = [ "email" ]; wait = "2s"; }, '"$VOICE"
for n in busyok busy noans; do client $n '{ notify = "contact:p"; channels = [ "voice" ]; }' "$MAIL"; done

party() {   # party NAME KEYS [ARGS]
  local n=$1 keys=$2; shift 2
  mkdir -p "$T/$n"
  "$BUILD/peers/voice_party" --port "${PORT[$n]}" --dir "$T/$n" --keys "$keys" \
    --timeout 150 -v "$@" >"$T/$n/log" 2>&1 &
  PIDS+=($!)
}
party pass 1,3
party ack 1,1
party step 1,1
party busyok h --busy 1 --calls 2
mkdir -p "$T/sipp"
( cd "$T/sipp" && exec sipp -sf "$ROOT/tests/peers/fax_sipp_busy.xml" -i 127.0.0.1 -p "${PORT[busy]}" \
    -m 100 -nostdin -timeout 100 >busy.out 2>&1 ) & PIDS+=($!)
( cd "$T/sipp" && exec sipp -sf "$ROOT/tests/peers/fax_sipp_noanswer.xml" -i 127.0.0.1 -p "${PORT[noans]}" \
    -m 100 -nostdin -timeout 100 -trace_msg -message_file noans.msg >noans.out 2>&1 ) & PIDS+=($!)
start_daemon || exit 1

declare -A ID
for n in pass ack step busyok busy noans; do
  ID[$n]=$(post_message "{\"client\":\"v-$n\",\"urgency\":\"emergency\",\"caller\":{\"name\":\"Bo\",\"phone\":\"555 0101\"},\"text\":\"No heat.\"}")
  check "message for v-$n accepted" test -n "${ID[$n]}"
done
esc() { msg_json "$1" | jq -r "$2"; }
vstate() { msg_json "$1" | jq -r '[.deliveries[] | select(.channel == "voice")][0].state'; }
vstate_is() { [ "$(vstate "$1")" = "$2" ]; }
vreplies() { msg_json "$1" | jq -r '[.deliveries[] | select(.channel == "voice")][0].attempts[] | "\(.outcome) \(.reply)"'; }

# ---- 3 passes it on now ----
check "3: the office's email (the next step) arrives" wait_until 90 bash -c "grep -lq '^X-Pagegate-Message: ${ID[pass]}' '$T'/mail/msg.* 2>/dev/null"
check "the call ended" wait_until 60 bash -c "[ -s '$T/pass/status' ] && curl -s -H 'Authorization: Bearer $TOKEN' http://127.0.0.1:$HTTP_PORT/v1/messages/${ID[pass]} | jq -e '[.deliveries[] | select(.channel == \"voice\")][0].attempts[0].finished != null' >/dev/null"
check_eq "the party pressed 1 then 3" 'call=1 result=answered keys="1 3" hangup=them' "$(cat "$T/pass/status" 2>/dev/null)"
m=$(msg_json "${ID[pass]}")
check "the ledger says the escalation went on by Pat's key" \
  jq -e '[.ledger[] | select(.type == "escalation_restarted") | .detail] | any(test("Pat Quinn by phone"))' <<<"$m"
check_eq "both steps fired; not acknowledged" "2 false" "$(jq -r '"\(.escalation.steps_fired) \(.acknowledged)"' <<<"$m")"
check "the call's reply says it was passed on" \
  jq -e '[.deliveries[] | select(.channel == "voice")][0].attempts[0].reply | test("keys 1 3, [0-9]+ s: passed on")' <<<"$m"

# ---- 1 acknowledges and stops the escalation ----
check "1: acknowledged" wait_until 90 bash -c \
  "curl -s -H 'Authorization: Bearer $TOKEN' http://127.0.0.1:$HTTP_PORT/v1/messages/${ID[ack]} | jq -e .acknowledged >/dev/null"
m=$(msg_json "${ID[ack]}")
check_eq "the escalation stopped after its first step: nothing more is due" "1 null" \
  "$(jq -r '"\(.escalation.steps_fired) \(.escalation.next_step_at)"' <<<"$m")"
check "acknowledged by Pat by phone" jq -e '.acked_by | test("^Pat Quinn by phone \\+15555550100 via voice$")' <<<"$m"

# ---- voice as an escalation step after an unacknowledged email ----
check "step: the email went first" wait_until 30 bash -c "grep -lq '^X-Pagegate-Message: ${ID[step]}' '$T'/mail/msg.* 2>/dev/null"
check "step: then the phone call, acknowledged by key" wait_until 90 bash -c \
  "curl -s -H 'Authorization: Bearer $TOKEN' http://127.0.0.1:$HTTP_PORT/v1/messages/${ID[step]} | jq -e .acknowledged >/dev/null"
m=$(msg_json "${ID[step]}")
check_eq "the voice delivery is the escalation's step 2" 2 \
  "$(jq '[.deliveries[] | select(.channel == "voice")][0].escalation_step' <<<"$m")"

# ---- busy once, then answered ----
check "busy once: the second call is answered" wait_until 60 bash -c "[ \$(grep -c . '$T/busyok/status' 2>/dev/null) = 2 ]"
check "and the delivery is sent" wait_until 20 vstate_is "${ID[busyok]}" sent
check_eq "attempts: busy (temporary), then answered" "temp busy (SIP 486 Busy Here)|ok" \
  "$(vreplies "${ID[busyok]}" | sed -E 's/^ok answered after .*/ok/' | paste -sd'|')"

# ---- always busy, never answered ----
all_temp() {   # REPLIES PATTERN: >= 2 attempts, each temp PATTERN, the last "gave up"
  local n; n=$(grep -c . <<<"$1")
  [ "$n" -ge 2 ] && [ "$(grep -cE "^temp (gave up after $n attempts: )?$2" <<<"$1")" = "$n" ] &&
    tail -1 <<<"$1" | grep -qE "^temp gave up after $n attempts: "
}
check "always busy: failed after the give-up time" wait_until 60 vstate_is "${ID[busy]}" failed
check "always busy: every attempt temp 'busy (SIP 486 Busy Here)', then gave up" \
  all_temp "$(vreplies "${ID[busy]}")" 'busy \(SIP 486 Busy Here\)$'
check "no answer: failed after the give-up time" wait_until 60 vstate_is "${ID[noans]}" failed
check "no answer: every attempt temp 'no answer in 5 s', then gave up" \
  all_temp "$(vreplies "${ID[noans]}")" 'no answer in 5 s$'
check "SIPp rang (180) and took our CANCEL" \
  bash -c "grep -q '^SIP/2.0 180 Ringing' '$T/sipp/noans.msg' && grep -q '^CANCEL sip:' '$T/sipp/noans.msg'"
check "the INVITE offered G.711 and telephone-events" \
  bash -c "grep -q '^m=audio [0-9]* RTP/AVP 0 8 101' '$T/sipp/noans.msg' && grep -q 'a=rtpmap:101 telephone-event/8000' '$T/sipp/noans.msg'"
stop_daemon
