#!/usr/bin/env bash
# Pages through real SNPP peers (shared/PEERS.md):
# - HylaFAX's hfaxd: a page posted through the API lands in HylaFAX's send
#   queue as a pager job for the device's PIN, with the page text (ASCII,
#   cut to the device's max_length) in its document, under the job id the
#   ledger recorded from hfaxd's reply; an emergency for two contacts
#   makes two jobs; the gateway's max_length (hfaxd takes 128 characters)
#   caps devices that allow more.
# - Net::SNPP::Server (tests/peers/snpp_fault.pl): a 4xx to SEND is retried
#   and the page goes out once the server recovers; a 5xx fails the page
#   with the server's reply; a connection closed mid-dialogue is retried.
. "$(dirname "$0")/lib.sh"
. "$ROOT/tests/peers/hylafax.sh"

SNPP_PORT=$(free_port); HYLA_PORT=$(free_port); FAULT_PORT=$(free_port)
FAULT_PID=
stop_fault() {
  [ -n "$FAULT_PID" ] || return 0
  kill "$FAULT_PID" 2>/dev/null; wait "$FAULT_PID" 2>/dev/null; FAULT_PID=
}
trap 'stop_fault; hylafax_stop; cleanup' EXIT

write_config
# quick retries for the fault cases
sed -i 's|^retry = { email = {\(.*\)}; };|retry = { email = {\1}; pager = { base = "1s"; cap = "2s"; give_up = "1h"; }; };|' \
  "$T/etc/pagegate.conf"
grep -q 'pager = { base' "$T/etc/pagegate.conf" || { notok "retry policy for pager set"; exit 1; }
cat >>"$T/etc/pagegate.conf" <<CONF
pager = (
  { name = "hylafax"; kind = "snpp"; host = "127.0.0.1"; port = $SNPP_PORT;
    login = "pagegate"; site = [ "JQUEUE YES" ]; ascii = true; max_length = 128;
    timeout = 10; },
  { name = "faulty"; kind = "snpp"; host = "127.0.0.1"; port = $FAULT_PORT;
    login = "pagegate"; password = "secret"; timeout = 5; }
);
CONF
cat >"$T/etc/clients/pager-clinic.conf" <<'CONF'
id = "pager-clinic";
name = "Lakeside Clinic";
dnis = [ "8005550177" ];
timezone = "America/Chicago";
business_hours = ( { days = "Sun-Sat"; from = "00:00"; to = "24:00"; } );
contacts = (
  { id = "oncall"; name = "Dr. On Call";
    devices = ( { channel = "pager"; gateway = "hylafax"; pin = "4412"; max_length = 120; } ); },
  { id = "backup"; name = "Dr. Backup";
    devices = ( { channel = "pager"; gateway = "hylafax"; pin = "4413"; } ); },
  { id = "tech"; name = "Tech";
    devices = ( { channel = "pager"; gateway = "faulty"; pin = "7654321"; } ); }
);
rules = (
  { when = { urgency = "emergency"; }; notify = [ "contact:oncall", "contact:backup" ]; },
  { notify = "contact:tech"; }
);
CONF

hylafax_start "$SNPP_PORT" "$HYLA_PORT" pagegate || { notok "HylaFAX faxq and hfaxd started"; exit 1; }
echo ok >"$T/fault.mode"
: >"$T/fault.pages"
"$ROOT/tests/peers/snpp_fault.pl" "$FAULT_PORT" "$T/fault.mode" "$T/fault.pages" \
  >>"$T/fault.log" 2>&1 &
FAULT_PID=$!
wait_until 15 port_open "$FAULT_PORT" || { notok "snpp_fault.pl listening"; exit 1; }
start_daemon || exit 1

# delivery_field ID CONTACT JQ : a field of the message's delivery to CONTACT
dfield() { msg_json "$1" | jq -r --arg c "$2" ".deliveries[] | select(.contact == \$c) | $3"; }
dstate_is() { [ "$(dfield "$1" "$2" .state)" = "$3" ]; }
attempts_ge() { [ "$(dfield "$1" "$2" '.attempts | length')" -ge "$3" ] 2>/dev/null; }

# ---- HylaFAX: the page is in the send queue ----
TEXT='Furnace out — Küche kalt, 3 kids. Call back after 6pm, the side door is open, dog is friendly.'
id=$(post_message "$(jq -n --arg t "$TEXT" '{client:"pager-clinic", urgency:"emergency",
  caller:{name:"Jürgen Müller", phone:"+1 555 555 0142"}, text:$t}')")
check "emergency page accepted" test -n "$id"
check "both pager deliveries sent" wait_until 30 bash -c \
  "[ \"\$(curl -s -H 'Authorization: Bearer $TOKEN' http://127.0.0.1:$HTTP_PORT/v1/messages/$id | jq -r '[.deliveries[].state] | unique | join(\",\")')\" = sent ]"
ack=$(msg_json "$id" | jq -r .ack_ref)
reply=$(dfield "$id" oncall '.attempts[0].reply')
check "the ledger has hfaxd's SEND and PAGE replies" \
  grep -q '^250 Message successfully queued\. \[250 Pager ID accepted; provider: 5551234 pin: 4412 jobid: [0-9]*\.\]$' <<<"$reply"
job=$(sed -n 's/.*jobid: \([0-9]*\)\..*/\1/p' <<<"$reply")
job2=$(dfield "$id" backup '.attempts[0].reply' | sed -n 's/.*jobid: \([0-9]*\)\..*/\1/p')
check "two distinct HylaFAX jobs" test -n "$job" -a -n "$job2" -a "$job" != "$job2"
check_eq "job $job is a pager job" "pager" "$(hylafax_job_field "$job" jobtype)"
check_eq "job $job pages PIN 4412" "0::4412" "$(hylafax_job_field "$job" page)"
check_eq "job $job2 pages PIN 4413" "0::4413" "$(hylafax_job_field "$job2" page)"
check_eq "job owner is our SNPP login" "pagegate" "$(hylafax_job_field "$job" owner)"
doc=$(hylafax_job_text "$job")
printf '%s\n' "$doc" | sed 's/^/# doc: /'
first=$(printf '%s\n' "$doc" | head -1)
check_eq "first line: urgency, client, ack reference" "emergency Lakeside Clinic - ACK $ack" "$first"
check "caller transliterated to ASCII" grep -qF "Jurgen Muller +1 555 555 0142" <<<"$doc"
check "text transliterated" grep -qF "Furnace out - Kuche kalt, 3 kids." <<<"$doc"
check "page is 7-bit ASCII" bash -c '! LC_ALL=C grep -q "[^[:print:][:space:]]" <<<"$1"' _ "$doc"
chars=$(printf '%s' "$doc" | tr -d '\r' | wc -m)
check "cut to the device's max_length (120 characters, got $chars)" test "$chars" -le 121 -a "$chars" -ge 100
check "cut at a word boundary" bash -c '[[ $1 =~ [a-z,.]$ ]] && ! grep -q "dog is friendly" <<<"$1"' _ "$doc"
doc2=$(hylafax_job_text "$job2")
chars2=$(printf '%s' "$doc2" | tr -d '\r' | wc -m)
check "the backup's page is cut to the gateway's max_length (128, got $chars2)" \
  test "$chars2" -le 129 -a "$chars2" -gt "$chars"

# ---- faults against Net::SNPP::Server ----
MSG='{"client":"pager-clinic","caller":{"name":"Ann Lee","phone":"555-0100"},"text":"fault test"}'

echo temp >"$T/fault.mode"
id=$(post_message "$MSG")
check "4xx: retried (two attempts with 451)" wait_until 20 attempts_ge "$id" tech 2
check_eq "4xx: attempts were temporary with the server's reply" \
  "temp SEND refused: 451 Temporary failure, try again later" \
  "$(dfield "$id" tech '.attempts[0] | "\(.outcome) \(.reply)"')"
echo ok >"$T/fault.mode"
check "4xx: sent once the server recovers" wait_until 20 dstate_is "$id" tech sent
check_eq "the fault server received the page for PIN 7654321" 1 \
  "$(grep -c "^7654321	.*fault test" "$T/fault.pages")"

echo perm >"$T/fault.mode"
id=$(post_message "$MSG")
check "5xx: the page fails" wait_until 20 dstate_is "$id" tech failed
check_eq "5xx: one attempt, permanent, with the server's reply" \
  "1 perm SEND refused: 554 Error, message refused" \
  "$(dfield "$id" tech '"\(.attempts | length) \(.attempts[0].outcome) \(.attempts[0].reply)"')"

echo nak >"$T/fault.mode"
id=$(post_message "$MSG")
check "hfaxd's scheduler refusing the job (554 Failed to submit): retried" \
  wait_until 20 attempts_ge "$id" tech 2
check_eq "those attempts were temporary with the server's reply" \
  "temp SEND refused: 554 Failed to submit message 1199: Unspecified reason (scheduler NAK'd request)." \
  "$(dfield "$id" tech '.attempts[0] | "\(.outcome) \(.reply)"')"
echo ok >"$T/fault.mode"
check "and sent once the scheduler takes it" wait_until 20 dstate_is "$id" tech sent

echo drop >"$T/fault.mode"
id=$(post_message "$MSG")
check "closed mid-dialogue: retried" wait_until 20 attempts_ge "$id" tech 1
check "closed mid-dialogue: attempt is temporary, connection closed" wait_until 10 bash -c \
  "[ \"\$(curl -s -H 'Authorization: Bearer $TOKEN' http://127.0.0.1:$HTTP_PORT/v1/messages/$id | jq -r '.deliveries[0].attempts[0] | \"\(.outcome) \(.reply)\"')\" = 'temp message text: connection closed by the SNPP gateway' ]"
echo ok >"$T/fault.mode"
check "closed mid-dialogue: sent after the server recovers" wait_until 20 dstate_is "$id" tech sent
check_eq "the fault server received the three fault-test pages sent" 3 \
  "$(grep -c "^7654321	.*fault test" "$T/fault.pages")"

stop_daemon
stop_fault
hylafax_stop
