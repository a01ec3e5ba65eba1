#!/usr/bin/env bash
# Hold digests: three routine after-hours messages for one recipient and
# one for another wait, held, and at opening the sink receives exactly one
# digest mail listing the three (templates/digest.*) and one normal mail;
# every message is "sent", each delivery with its own attempt.  The
# client's hours open at a minute boundary 30 to 90 s away (UTC zone), so this
# takes up to ~100 s.
. "$(dirname "$0")/lib.sh"
write_config
open_next_minute || exit 1
cat >"$T/etc/clients/test-clinic.conf" <<CONF
id = "test-clinic";
name = "Test Clinic";
timezone = "UTC";
business_hours = ( { days = "Sun-Sat"; from = "$open_at"; to = "$close_at"; } );
contacts = (
  { id = "office"; name = "Office"; devices = ( { channel = "email"; to = "office@clinic.example"; } ); },
  { id = "doc"; name = "Doctor"; devices = ( { channel = "email"; to = "doc@clinic.example"; } ); }
);
rules = (
  { when = { hours = "business"; }; notify = "contact:office"; },
  { when = { hours = "after"; urgency = "urgent"; }; notify = "contact:doc"; hold = "business"; },
  { when = { hours = "after"; }; notify = "contact:office"; hold = "business"; }
);
CONF
start_sink "$SMTP_PORT" || exit 1
start_daemon || exit 1

post() {   # NAME TEXT [URGENCY]
  post_message "$(jq -n --arg n "$1" --arg t "$2" --arg u "${3:-routine}" \
    '{client:"test-clinic", urgency:$u, caller:{name:$n, phone:"555-0100"}, text:$t}')"
}
ids=()
for i in 1 2 3; do
  id=$(post "Caller $i" "after-hours note number $i for the office")
  check "routine message $i accepted and held" test -n "$id" -a "$(resp '.deliveries[0].state')" = held
  ids+=("$id")
done
doc=$(post "Caller 4" "urgent note for the doctor" urgent)
check "the urgent message for the doctor is held too" test -n "$doc" -a "$(resp '.deliveries[0].state')" = held
check_eq "nothing sent before opening" 0 "$(mail_count)"

all_sent() { for i in "${ids[@]}" "$doc"; do state_is "$i" sent || return 1; done; }
check "every message sent after the opening" wait_until 150 all_sent
check "not before the opening time" test "$(date -u +%s)" -ge "$open_epoch"

rcpt_files() { grep -l "^X-Rcpt-Args: <$1>" "$T"/mail/msg.* 2>/dev/null; }
check_eq "two mails in all" 2 "$(mail_count)"
check_eq "exactly one mail to the office" 1 "$(rcpt_files office@clinic.example | wc -l)"
check_eq "exactly one mail to the doctor" 1 "$(rcpt_files doc@clinic.example | wc -l)"
dig=$(parse_mail "$(rcpt_files office@clinic.example)")
body=$(jq -r .body <<<"$dig")
check_eq "the digest's subject (templates/digest.subject)" \
  "[Test Clinic] 3 messages taken while you were closed" "$(jq -r .subject <<<"$dig")"
check "the digest's first line counts the messages" \
  grep -q "^3 messages for Test Clinic taken while you were closed" <<<"$body"
for i in 1 2 3; do
  ref=$(msg_json "${ids[$((i - 1))]}" | jq -r .ack_ref)
  check "the digest lists message $i's text" grep -qF "after-hours note number $i for the office" <<<"$body"
  check "the digest lists message $i's caller" grep -qF "Caller: Caller $i 555-0100" <<<"$body"
  check "the digest lists message $i's reference" grep -qF "reference $ref" <<<"$body"
done
one=$(parse_mail "$(rcpt_files doc@clinic.example)")
check "the doctor's mail uses the normal template" grep -qF "urgent note for the doctor" <<<"$(jq -r .body <<<"$one")"
check "the doctor's mail is not a digest" bash -c '! grep -q "messages for" <<<"$1"' _ "$(jq -r .body <<<"$one")"

for i in "${ids[@]}"; do
  m=$(msg_json "$i")
  check_eq "message $i: one attempt, ok" "1 ok" \
    "$(jq -r '.deliveries[0].attempts | "\(length) \(.[0].outcome)"' <<<"$m")"
  check "message $i: its reply says it went in a digest of 3" \
    grep -q "(in a digest of 3, sent as delivery " <<<"$(jq -r '.deliveries[0].attempts[0].reply' <<<"$m")"
  check "message $i: the ledger says released, then sent" \
    test "$(jq -r '[.ledger[].type | select(. == "released" or . == "sent")] | join(",")' <<<"$m")" = released,sent
done
stop_daemon
