#!/usr/bin/env bash
# Peer faults: 450 on DATA is retried and delivered once the fault is
# lifted; a 5xx is a permanent failure with the reply in the ledger; a
# message accepted while the SMTP server is down is delivered when it
# comes back.  Retries use a 1 s base, 2 s cap (write_config).
. "$(dirname "$0")/lib.sh"
write_config
MSG='{"client":"test-clinic","caller":{"name":"Ann","phone":"555-0100"},"text":"fault test","fields":{"address":"x"}}'

# 1. SMTP server answers DATA with 450 (temporary).
start_sink "$SMTP_PORT" -r DATA || exit 1
start_daemon || exit 1
id=$(post_message "$MSG")
has_temp() { msg_json "$id" | jq -e '[.deliveries[0].attempts[] | select(.outcome == "temp")] | length >= 2' >/dev/null; }
check "450 on DATA: attempts are retried (2 temp attempts)" wait_until 20 has_temp
check_eq "still pending while the fault lasts" pending "$(msg_state "$id")"
has_450() { msg_json "$id" | jq -e '[.deliveries[0].attempts[].reply | select(test("^45"))] | length >= 1' >/dev/null; }
has_retry_event() { msg_json "$id" | jq -e '[.ledger[] | select(.type == "retry_scheduled")] | length >= 1' >/dev/null; }
check "the ledger holds the server's 450 reply" has_450
check "a retry_scheduled event is in the ledger" has_retry_event
check_eq "no mail was stored by the sink during the fault" 0 "$(mail_count)"
stop_sink
start_sink "$SMTP_PORT" || exit 1
check "fault lifted: delivered (state sent)" wait_until 30 state_is "$id" sent
check_eq "exactly one mail arrived" 1 "$(mail_for "$id" | wc -l)"

# 2. SMTP server rejects RCPT with 5xx: failed at once, no retry.
stop_sink
start_sink "$SMTP_PORT" -f RCPT || exit 1
id2=$(post_message "$MSG")
check "5xx on RCPT: message fails" wait_until 20 state_is "$id2" failed
m=$(msg_json "$id2")
check_eq "exactly one attempt, outcome perm" "1 perm" "$(jq -r '.deliveries[0].attempts | "\(length) \(.[0].outcome)"' <<<"$m")"
check "the ledger's failed event carries the 5xx reply" test "$(jq -r '[.ledger[] | select(.type == "failed") | .detail | test("5[0-9][0-9]")] | any' <<<"$m")" = true
check_eq "delivery state failed" failed "$(jq -r '.deliveries[0].state' <<<"$m")"

# 3. SMTP server down when the message is accepted.
stop_sink
id3=$(post_message "$MSG")
check "accepted (201) while the SMTP server is down" test -n "$id3"
refused() { msg_json "$id3" | jq -e '[.deliveries[0].attempts[] | select(.outcome == "temp")] | length >= 1' >/dev/null; }
check "connection refused counts as a temporary failure" wait_until 20 refused
start_sink "$SMTP_PORT" || exit 1
check "delivered after the server comes back" wait_until 30 state_is "$id3" sent
check_eq "one mail for it" 1 "$(mail_for "$id3" | wc -l)"
stop_daemon
