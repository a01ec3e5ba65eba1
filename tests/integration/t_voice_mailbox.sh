#!/usr/bin/env bash
# The voice mailbox: a doctor who checks in by phone.  Two messages wait
# in Dr. Lee's check-in mailbox; a caller (tests/peers/voice_party placing
# the call with sofia-sip, keys as telephone-events) phones pagegate's
# own SIP address from a number pagegate does not know, enters the
# client's PIN and #, hears "You have 2 messages", the first message
# (sample for sample what `pagegate render` writes for it), presses 1 to
# acknowledge it, hears the second, presses 3 for the next, hears "no
# more messages" and pagegate hangs up.  Both messages are then marked
# retrieved exactly as the mailbox API retrieves them, the first one is
# acknowledged by the caller, the second is not.  (A wrong PIN:
# t_voice_mailbox_pin.)
# pagegate-test: serial   (G.711 audio in real time: run alone, not beside other tests)
. "$(dirname "$0")/lib.sh"
PIDS=()
voice_cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; }
trap 'voice_cleanup; cleanup' EXIT

MB=$(free_port)
write_config
cat >>"$T/etc/pagegate.conf" <<CONF
voice = { listen = "127.0.0.1:$MB"; };
CONF
cat >"$T/etc/clients/lee.conf" <<'CONF'
id = "lee";
name = "Lee Family Practice";
timezone = "America/Chicago";
business_hours = ( { days = "Sun-Sat"; from = "00:00"; to = "24:00"; } );
pin = "4321";
contacts = ( { id = "drlee"; name = "Dr. Lee"; checkin = true; } );
rules = ( { notify = "contact:drlee"; } );
CONF
start_daemon || exit 1
check "the daemon answers calls on its mailbox address" grep -q "sip mailbox: answering calls on sip:127.0.0.1:$MB" "$T/daemon.log"

M1='{"client":"lee","caller":{"name":"Ann Boyd","phone":"555 0101"},"text":"Please call about the lab results."}'
M2='{"client":"lee","caller":{"name":"Tom Reyes","phone":"555 0102"},"text":"Refill for the blood pressure pills."}'
id1=$(post_message "$M1"); id2=$(post_message "$M2")
check "two messages accepted" test -n "$id1" -a -n "$id2"
api GET "/v1/clients/lee/mailbox?peek=true"
check_eq "two messages wait in the mailbox" 2 "$(resp '.messages | length')"
printf '%s' "$M1" >"$T/m1.json"; printf '%s' "$M2" >"$T/m2.json"
for i in 1 2; do
  "$BUILD/pagegate" render -c "$T/etc/pagegate.conf" --channel voice --message "$T/m$i.json" \
    --contact drlee --set part=message -o "$T/m$i.wav" 2>>"$T/render.log"
done

# call CALLER KEYS: a call into the mailbox from number CALLER
call() {
  mkdir -p "$T/$1"
  "$BUILD/peers/voice_party" --call "sip:mailbox@127.0.0.1:$MB" --from "sip:$1@caller.test" \
    --dir "$T/$1" --keys "$2" --timeout 120 -v >"$T/$1/log" 2>&1
}
call +15550009999 '4321#,1,3'
check_eq "the caller keyed the PIN, 1 and 3, and pagegate hung up" \
  'call=1 result=answered keys="4 3 2 1 # 1 3" hangup=them' "$(cat "$T/+15550009999/status" 2>/dev/null)"
m=$("$BUILD/peers/voice_match" --ulaw "$T/+15550009999/call-1.raw" "$T/m1.wav" "$T/m2.wav")
check_eq "the caller heard each message once, exactly as rendered" "1 1" \
  "$(sed -n 's/.* count=\([0-9]*\) .*/\1/p' <<<"$m" | paste -sd' ')"
api GET "/v1/clients/lee/mailbox?peek=true"
check_eq "the mailbox is empty now" 0 "$(resp '.messages | length')"
for id in "$id1" "$id2"; do
  j=$(msg_json "$id")
  check_eq "message $id: its mailbox delivery is delivered" delivered "$(jq -r '.deliveries[0].state' <<<"$j")"
  check "message $id: the ledger says retrieved from the mailbox by the caller by phone" \
    jq -e '[.ledger[] | select(.type == "delivered") | .detail] | any(test("retrieved from the mailbox by Lee Family Practice by phone \\+15550009999"))' <<<"$j"
done
check_eq "the first message is acknowledged by the caller, the second is not" \
  "true Lee Family Practice by phone +15550009999 via voice|false" \
  "$(msg_json "$id1" | jq -r '"\(.acknowledged) \(.acked_by)"')|$(msg_json "$id2" | jq -r .acknowledged)"
check "the daemon logged the call" grep -q 'voice mailbox: call from +15550009999 ended after [0-9]* s: every message read and retrieved' "$T/daemon.log"
stop_daemon
