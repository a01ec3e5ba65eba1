#!/usr/bin/env bash
# The voice mailbox and a wrong PIN: two messages wait in Dr. Lee's
# check-in mailbox; a caller from a number pagegate does not know keys a
# PIN that is not the client's and #: pagegate says so and hangs up; no
# message was read, both still wait, nothing is acknowledged.  Then the
# right PIN and a hang-up after two of three messages: those two are
# retrieved, the third still waits.  (Every message heard: t_voice_mailbox.)
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

# call CALLER KEYS: a call into the mailbox from number CALLER
call() {
  mkdir -p "$T/$1"
  "$BUILD/peers/voice_party" --call "sip:mailbox@127.0.0.1:$MB" --from "sip:$1@caller.test" \
    --dir "$T/$1" --keys "$2" --timeout 120 -v >"$T/$1/log" 2>&1
}
call +15550009998 '9999#'
check_eq "a wrong PIN: pagegate hangs up" 'call=1 result=answered keys="9 9 9 9 #" hangup=them' \
  "$(cat "$T/+15550009998/status" 2>/dev/null)"
api GET "/v1/clients/lee/mailbox?peek=true"
check_eq "and both messages still wait" 2 "$(resp '.messages | length')"

check "no message was read: nothing retrieved, nothing acknowledged" \
  test "$(msg_json "$id1" | jq -r '"\(.deliveries[0].state) \(.acknowledged)"')" = "waiting false"
check "the daemon logged the wrong PIN" grep -q 'voice mailbox: a wrong PIN from +15550009998' "$T/daemon.log"

# The right PIN, then a hang-up: what was heard is retrieved, one message
# at a time; what was not heard still waits.  A third message waits too:
# the caller hears message 1, presses 3, hears message 2 and hangs up.
M3='{"client":"lee","caller":{"name":"Ruth Kim","phone":"555 0103"},"text":"Question about the bill."}'
id3=$(post_message "$M3")
check "a third message accepted" test -n "$id3"
call +15550009997 '4321#,3,h'
check_eq "the caller keyed the PIN, 3, and hung up" 'call=1 result=answered keys="4 3 2 1 # 3" hangup=us' \
  "$(cat "$T/+15550009997/status" 2>/dev/null)"
check_eq "messages 1 and 2 were heard and are retrieved, message 3 still waits" \
  "delivered delivered waiting" \
  "$(for id in "$id1" "$id2" "$id3"; do msg_json "$id" | jq -r '.deliveries[0].state'; done | paste -sd' ')"
check "message 2's ledger says retrieved by phone" \
  jq -e '[.ledger[] | select(.type == "delivered") | .detail] | any(test("retrieved from the mailbox by Lee Family Practice by phone \\+15550009997"))' <<<"$(msg_json "$id2")"
api GET "/v1/clients/lee/mailbox?peek=true"
check_eq "the mailbox API shows message 3 alone" "$id3" "$(resp '[.messages[].id] | join(" ")')"
check "the daemon logged a partial retrieval" grep -q 'voice mailbox: call from +15550009997 ended after [0-9]* s: some messages read and retrieved' "$T/daemon.log"
stop_daemon
