#!/usr/bin/env bash
# Escalation until acknowledged, end to end with short waits, against
# Postfix smtp-sink (email) and a real Kannel with its fake SMSC (SMS):
#   - nobody answers: step 1 (on call) -> step 2 (the backup) -> step 3
#     (office), each after its wait, then the message is flagged
#     unacknowledged (message JSON, list filter, metric);
#   - an operator's ack after step 1 stops it: no step 2 ever;
#   - an SMS reply "ACK <ref>" from the phone stops it;
#   - kill -9 between steps: after the restart step 2 still fires on time;
#   - cancel stops it; re-trigger from step 2 sends step 2 again at once;
#   - preview shows every step with its time and who it reaches then.
. "$(dirname "$0")/lib.sh"
. "$ROOT/tests/peers/kannel.sh"

INTOK=inbound-$RANDOM$RANDOM$RANDOM-token
NUM=+15555550111
kannel_config "http://127.0.0.1:$HTTP_PORT/cb/sms/kannel/inbound?token=$INTOK&from=%p&to=%P&text=%a&coding=%c&charset=%C"
write_config
cat >>"$T/etc/pagegate.conf" <<CONF
sms = ( { name = "kannel"; kind = "kannel"; url = "$K_SENDSMS_URL";
          username = "$K_USER"; password = "$K_PASS"; from = "5550000";
          dlr_mask = 31; timeout = 5; inbound_token = "$INTOK"; } );
CONF
# Jane and Raj rotate weekly; who is primary depends on the week, so the
# test asks the API and expects step 1 there and step 2 at the other.
cat >"$T/etc/clients/test-clinic.conf" <<CONF
id = "test-clinic";
name = "Test Clinic";
timezone = "America/Chicago";
business_hours = ( { days = "Sun-Sat"; from = "00:00"; to = "24:00"; } );
contacts = (
  { id = "office"; name = "Front Office";
    devices = ( { channel = "email"; to = "office@clinic.example"; } ); },
  { id = "jane"; name = "Jane Ortiz";
    devices = ( { channel = "email"; to = "jane@clinic.example"; },
                { channel = "sms"; to = "$NUM"; gateway = "kannel"; } ); },
  { id = "raj"; name = "Raj Patel";
    devices = ( { channel = "email"; to = "raj@clinic.example"; } ); }
);
oncall = ( { id = "techs"; members = [ "jane", "raj" ]; rotation = "weekly";
             handoff = "Mon 08:00"; start = "2026-01-05"; } );
escalation = (
  { id = "dispatch"; repeat = 1;
    steps = ( { notify = "oncall:techs";   channels = [ "email" ]; wait = "4s"; },
              { notify = "oncall:techs+1"; channels = [ "email" ]; wait = "4s"; },
              { notify = "contact:office"; wait = "4s"; } ); },
  { id = "phone"; repeat = 1;
    steps = ( { notify = "contact:jane"; channels = [ "sms" ]; wait = "12s"; },
              { notify = "contact:raj"; wait = "4s"; } ); }
);
rules = (
  { when = { kind = "dispatch"; }; escalate = "dispatch"; },
  { when = { urgency = "emergency"; }; escalate = "phone"; },
  { notify = "contact:office"; }
);
CONF
cleanup_esc() { kannel_stop; cleanup; }
trap cleanup_esc EXIT
start_sink "$SMTP_PORT" || exit 1
kannel_start || exit 1
check "the client file with escalation policies is valid" \
  "$BUILD/pagegate" check "$T/etc/pagegate.conf"
start_daemon || exit 1

api GET /v1/clients/test-clinic/oncall
primary=$(resp '.rotations[0].on_duty.id')
backup=$([ "$primary" = jane ] && echo raj || echo jane)
check "someone is on call" test -n "$primary" -a "$primary" != null

# mails_to MID ADDRESS: how many mails of message MID went to ADDRESS.
mails_to() {
  local n=0 f
  for f in $(mail_for "$1"); do grep -qi "^X-Rcpt-Args: <$2>" "$f" && n=$((n + 1)); done
  echo $n
}
got_mail() { [ "$(mails_to "$1" "$2")" -ge 1 ]; }
# ledger_at MID TYPE: epoch ms of the first event TYPE.
ledger_at() {
  msg_json "$1" | jq -r --arg t "$2" '[.ledger[] | select(.type == $t)][0].at // empty' |
    xargs -r -I{} date -d {} +%s%3N
}
ledger_n() { msg_json "$1" | jq --arg t "$2" '[.ledger[] | select(.type == $t)] | length'; }
# esc_due MID: epoch ms of the message's next escalation event (a step, or
# the unacknowledged verdict), read before it is stopped.
esc_due() {
  msg_json "$1" | jq -r '.escalation | .next_step_at // .unacknowledged_at' |
    xargs -I{} date -d {} +%s%3N
}
# past MS: the wall clock has reached MS (to wait, bounded, until a step
# that must not fire would have fired).
past() { [ "$(date +%s%3N)" -ge "$1" ]; }
GRACE=1500   # the escalator fires within this of a due time (t_escalation m4)
DISPATCH='{"client":"test-clinic","kind":"dispatch","urgency":"emergency","caller":{"name":"Ann Caller","phone":"555-0100"},"text":"No heat, 2 small children"}'

# ---- preview ----
api POST /v1/route/preview '{"client":"test-clinic","kind":"dispatch","urgency":"emergency"}'
check_eq "preview: policy" dispatch "$(resp .escalation.policy)"
check_eq "preview: three steps" 3 "$(resp '.escalation.steps | length')"
check_eq "preview: step 2 reaches the backup" "$backup" "$(resp '.escalation.steps[1].deliveries[0].contact')"
t0=$(date -d "$(resp .at)" +%s); t2=$(date -d "$(resp '.escalation.steps[1].at')" +%s)
tu=$(date -d "$(resp .escalation.unacknowledged_at)" +%s)
check_eq "preview: step 2 four seconds after step 1" 4 $((t2 - t0))
check_eq "preview: unacknowledged after 12 s" 12 $((tu - t0))
check "pagegate preview prints the steps" bash -c \
  "'$BUILD/pagegate' --url http://127.0.0.1:$HTTP_PORT --token $TOKEN preview --client test-clinic --dispatch | grep -q 'step 2 at'"

# ---- nobody answers ----
m1=$(post_message "$DISPATCH")
check "dispatch accepted" test -n "$m1"
check_eq "step 1 is in the submit answer" 1 "$(resp '[.deliveries[] | select(.escalation_step == 1)] | length')"
r1=$(msg_json "$m1" | jq -r .received | xargs -I{} date -d {} +%s%3N)
check "step 1 mail reaches the on-call tech" wait_until 15 got_mail "$m1" "$primary@clinic.example"
check "step 2 mail reaches the backup" wait_until 15 got_mail "$m1" "$backup@clinic.example"
e2=$(ledger_at "$m1" escalated)
check "step 2 did not fire before its 4 s wait" test $((e2 - r1)) -ge 4000
check "step 3 mail reaches the office" wait_until 15 got_mail "$m1" office@clinic.example
unacked() { [ "$(msg_json "$1" | jq -r .unacknowledged)" = true ]; }
check "then the message is flagged unacknowledged" wait_until 15 unacked "$m1"
check_eq "escalation state exhausted" exhausted "$(msg_json "$m1" | jq -r .escalation.state)"
api GET "/v1/messages?unacknowledged=true"
check_eq "the unacknowledged filter lists it" "$m1" "$(resp '.messages[0].id')"
check_eq "and nothing else" 1 "$(resp '.messages | length')"
check "metric pagegate_messages_unacknowledged 1" bash -c \
  "curl -s http://127.0.0.1:$HTTP_PORT/metrics | grep -qx 'pagegate_messages_unacknowledged 1'"
api GET "/v1/messages?unacknowledged=maybe"
check_eq "a bad filter value is a 400 naming the field" "400 unacknowledged" "$CODE $(resp .error.field)"
api POST "/v1/messages/$m1/ack" '{"by":"Raj, on the phone"}'
check_eq "an operator acknowledges it late" 200 "$CODE"
check_eq "which clears the flag" false "$(msg_json "$m1" | jq -r .unacknowledged)"

# ---- an operator's ack stops it ----
m2=$(post_message "$DISPATCH")
check "m2: step 1 sent" wait_until 15 got_mail "$m2" "$primary@clinic.example"
due2=$(esc_due "$m2")
api POST "/v1/messages/$m2/ack"
check_eq "m2 acknowledged by the operator" 200 "$CODE"
check "m2: step 2's due time passes" wait_until 20 past $((due2 + GRACE))
check_eq "m2: no step 2 after the ack" 0 "$(mails_to "$m2" "$backup@clinic.example")"
check_eq "m2: no escalated event" 0 "$(ledger_n "$m2" escalated)"
check_eq "m2: escalation acked" acked "$(msg_json "$m2" | jq -r .escalation.state)"

# ---- the signed link in the step-1 mail stops it ----
m6=$(post_message "$DISPATCH")
check "m6: step 1 sent" wait_until 15 got_mail "$m6" "$primary@clinic.example"
due6=$(esc_due "$m6")
link=$(parse_mail "$(mail_for "$m6" | head -1)" | jq -r .body | grep -o 'http://[^ ]*/a/[A-Za-z0-9_-]*' | head -1)
check "m6: the mail carries a signed link" test -n "$link"
check_eq "m6: GET shows the confirmation page" 200 "$(curl -s -o /dev/null -w '%{http_code}' "$link")"
check_eq "m6: and does not acknowledge" false "$(msg_json "$m6" | jq -r .acknowledged)"
check_eq "m6: POST acknowledges" 200 "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$link")"
check_eq "m6: escalation acked" acked "$(msg_json "$m6" | jq -r .escalation.state)"
check "m6: step 2's due time passes" wait_until 20 past $((due6 + GRACE))
check_eq "m6: no step 2 after the link ack" 0 "$(mails_to "$m6" "$backup@clinic.example")"
check "m6: the ledger says via email link" bash -c \
  "curl -s -H 'Authorization: Bearer $TOKEN' http://127.0.0.1:$HTTP_PORT/v1/messages/$m6 | jq -e '.ledger[] | select(.type == \"acknowledged\") | .detail | test(\"email link\")' >/dev/null"

# ---- an SMS reply stops it ----
m3=$(post_message '{"client":"test-clinic","urgency":"emergency","caller":{"name":"Post-op","phone":"555-0199"},"text":"Bleeding after surgery"}')
ref3=$(resp .ack_ref)
sms_sent() { kannel_got | grep -q "Bleeding"; }
check "m3: step 1 SMS reaches the phone (fake SMSC)" wait_until 20 sms_sent
check "m3: the phone replies ACK $ref3" kannel_inject "$NUM 5550000 text ACK $ref3"
acked() { [ "$(msg_json "$1" | jq -r .acknowledged)" = true ]; }
check "m3: acknowledged via sms" wait_until 15 acked "$m3"
check "m3: the ledger says by whom and how" bash -c \
  "curl -s -H 'Authorization: Bearer $TOKEN' http://127.0.0.1:$HTTP_PORT/v1/messages/$m3 | jq -e '.ledger[] | select(.type == \"acknowledged\") | .detail | test(\"via sms\")' >/dev/null"
r3=$(msg_json "$m3" | jq -r .received | xargs -I{} date -d {} +%s%3N)
check "m3: step 2's due time (12 s) passes" wait_until 30 past $((r3 + 12000 + GRACE))
check_eq "m3: Raj never mailed (step 2 would have been at 12 s)" 0 "$(mails_to "$m3" raj@clinic.example)"
check_eq "m3: escalation acked" acked "$(msg_json "$m3" | jq -r .escalation.state)"

# ---- kill -9 between steps ----
m4=$(post_message "$DISPATCH")
r4=$(msg_json "$m4" | jq -r .received | xargs -I{} date -d {} +%s%3N)
check "m4: step 1 sent" wait_until 15 got_mail "$m4" "$primary@clinic.example"
kill9_daemon
start_daemon || exit 1
check "m4: step 2 fires after the restart" wait_until 15 got_mail "$m4" "$backup@clinic.example"
e4=$(ledger_at "$m4" escalated)
check "m4: on time: 4 s after step 1, not early" test $((e4 - r4)) -ge 4000
check "m4: on time: within 2 s of its due time" test $((e4 - r4)) -lt 6000

# ---- cancel, then re-trigger from step 2 ----
check "m4: step 3 reaches the office" wait_until 15 got_mail "$m4" office@clinic.example
due4=$(esc_due "$m4")
api POST "/v1/messages/$m4/cancel" '{"reason":"caller called back"}'
check_eq "m4 cancelled" "200 cancelled" "$CODE $(resp .escalation.state)"
check "m4: the verdict's due time passes" wait_until 20 past $((due4 + GRACE))
check_eq "m4: not flagged after the cancel" false "$(msg_json "$m4" | jq -r .unacknowledged)"
before=$(mails_to "$m4" "$backup@clinic.example")
api POST "/v1/messages/$m4/escalate" '{"from_step":2}'
check_eq "m4 re-triggered from step 2" "200 active" "$CODE $(resp .escalation.state)"
more_mail() { [ "$(mails_to "$1" "$2")" -gt "$3" ]; }
check "m4: step 2 goes out again at once" wait_until 10 more_mail "$m4" "$backup@clinic.example" "$before"
api POST "/v1/messages/$m4/escalate" '{"from_step":9}'
check_eq "a step out of range is a 400 naming from_step" "400 from_step" "$CODE $(resp .error.field)"
m5=$(post_message '{"client":"test-clinic","caller":{"name":"Routine","phone":"555-0101"},"text":"Call me back"}')
api POST "/v1/messages/$m5/escalate"
check_eq "re-triggering a message without a policy is a 409" "409 no_escalation" "$CODE $(resp .error.code)"
check "pagegate cancel works from the CLI" bash -c \
  "'$BUILD/pagegate' --url http://127.0.0.1:$HTTP_PORT --token $TOKEN cancel --reason done $m4 | grep -q 'escalate  policy dispatch, cancelled'"
stop_daemon
