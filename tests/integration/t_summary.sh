#!/usr/bin/env bash
# Periodic summaries (client `summary`): a client summarised every 10 s
# mails its office one summary listing the messages taken in that period;
# after a kill -9 across a due time, the restarted daemon sends one
# summary that covers exactly what the last one did not (no message twice,
# none skipped).  A client with empty = false sends nothing for a quiet
# period; one with empty = true sends a summary of 0 messages.
. "$(dirname "$0")/lib.sh"
write_config
client() {   # ID EMPTY
  cat >"$T/etc/clients/$1.conf" <<CONF
id = "$1";
name = "Clinic $1";
timezone = "UTC";
business_hours = ( { days = "Sun-Sat"; from = "00:00"; to = "24:00"; } );
contacts = (
  { id = "office"; name = "Office"; devices = ( { channel = "email"; to = "office@$1.example"; } ); },
  { id = "doc"; name = "Doctor"; devices = ( { channel = "email"; to = "doc@$1.example"; } ); }
);
rules = ( { notify = "contact:doc"; } );
summary = { every = "10s"; empty = $2; notify = "contact:office"; };
CONF
}
rm -f "$T/etc/clients/test-clinic.conf"
client busy false
client quiet false
client loud true
start_sink "$SMTP_PORT" || exit 1
start_daemon || exit 1

post() {   # CLIENT TEXT
  post_message "$(jq -n --arg c "$1" --arg t "$2" '{client:$c, caller:{name:"Caller", phone:"555-0100"}, text:$t}')"
}
summaries() {  # CLIENT: the received summary files for its office, oldest first
  grep -l "^X-Rcpt-Args: <office@$1.example>" "$T"/mail/msg.* 2>/dev/null | xargs -r ls -tr
}
n_summaries() { summaries "$1" | wc -l; }
at_least() { [ "$(n_summaries "$1")" -ge "$2" ]; }

a=$(post busy "first message of the period")
b=$(post busy "second message of the period")
check "two messages accepted" test -n "$a" -a -n "$b"
check "the first summary arrives within one period" wait_until 25 at_least busy 1
s1=$(parse_mail "$(summaries busy | head -1)")
body1=$(jq -r .body <<<"$s1")
check "its subject names the client and counts 2" \
  grep -q '^\[Clinic busy\] summary: 2 messages from ' <<<"$(jq -r .subject <<<"$s1")"
check "its body counts 2" grep -q '^Messages taken for Clinic busy from .*: 2\.$' <<<"$body1"
for id in "$a" "$b"; do
  ref=$(msg_json "$id" | jq -r .ack_ref)
  check "it lists message $id's reference" grep -qF "reference $ref" <<<"$body1"
done
check "it lists the first text" grep -qF "first message of the period" <<<"$body1"
check "it lists the second text" grep -qF "second message of the period" <<<"$body1"
check "the first is listed before the second" \
  test "$(grep -n 'first message' <<<"$body1" | cut -d: -f1)" -lt "$(grep -n 'second message' <<<"$body1" | cut -d: -f1)"
check "the messages themselves went to the doctor as usual" \
  test -n "$(mail_for "$a")" -a -n "$(mail_for "$b")"

# A message after the first summary, then a crash across the next due time.
c=$(post busy "third message, before the crash")
check "third message accepted" test -n "$c"
kill9_daemon
# down across two of its due times (each 10 s after the last summary's
# mark): the catch-up must cover both in one summary
last=$((16#$(db_setting_hex mark:summary:busy)))
two_due_times_past() { [ $((${EPOCHREALTIME/./} / 1000)) -ge $((last + 2 * 10000)) ]; }
check "the daemon stays down across two due times" wait_until 30 two_due_times_past
before=$(n_summaries busy)
start_daemon || exit 1
check "after the restart, the missed summary arrives" wait_until 25 at_least busy $((before + 1))
f2=$(summaries busy | sed -n "$((before + 1))p")
check "the sink has it whole" wait_until 10 mail_complete "$f2"
s2=$(parse_mail "$f2")
body2=$(jq -r .body <<<"$s2")
check "it counts 1" grep -q '^Messages taken for Clinic busy from .*: 1\.$' <<<"$body2"
check "it lists the third message" grep -qF "third message, before the crash" <<<"$body2"
check "it does not repeat the first period's messages" \
  bash -c '! grep -qE "(first|second) message of the period" <<<"$1"' _ "$body2"
check_eq "down for more than a period: one catch-up summary, not one per period" \
  $((before + 1)) "$(n_summaries busy)"
period() { sed -n "s/^Messages taken for Clinic busy from \(.*\) to \(.*\): [0-9]*\.$/\\$1/p" <<<"$2"; }
check "the summaries state their periods" test -n "$(period 2 "$body1")" -a -n "$(period 1 "$body2")"
check_eq "its period starts where the last one ended" "$(period 2 "$body1")" "$(period 1 "$body2")"

# Quiet clients: nothing for empty = false, a zero summary for empty = true.
check "the empty = true client mails a summary of its quiet period" wait_until 25 at_least loud 1
z=$(parse_mail "$(summaries loud | head -1)")
check "that summary counts 0" grep -q '^Messages taken for Clinic loud from .*: 0\.$' <<<"$(jq -r .body <<<"$z")"
check_eq "the empty = false client sent nothing for its quiet periods" 0 "$(n_summaries quiet)"
check "the log says why" grep -q 'summary of quiet: no messages, none sent' "$T/daemon.log"
stop_daemon
