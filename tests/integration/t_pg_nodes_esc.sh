#!/usr/bin/env bash
# Escalation with several nodes on one PostgreSQL store: three nodes race
# over the timers of 500 escalations with 1 s waits (each node claims the
# due ones from the store, FOR UPDATE SKIP LOCKED, and fires their steps
# in the same transaction); every step fires exactly once and every
# message is flagged unacknowledged exactly once.  Then
# acknowledgements, through another node than the one that took the
# message, race the steps: no step fires after an acknowledgement.  One
# node coordinates (runs the summaries).
PG_STORE=1 . "$(dirname "$0")/lib.sh"
M=${PG_NODES_ESCALATIONS:-500}
write_config
cat >"$T/etc/clients/test-clinic.conf" <<'CONF'
id = "test-clinic";
name = "Test Clinic";
timezone = "UTC";
contacts = (
  { id = "office"; name = "Front Office";
    devices = ( { channel = "email"; to = "office@clinic.example"; } ); },
  { id = "doc"; name = "Doctor";
    devices = ( { channel = "email"; to = "doc@clinic.example"; } ); } );
escalation = (
  { id = "fast"; repeat = 1;
    steps = ( { notify = "contact:office"; wait = "1s"; },
              { notify = "contact:doc"; wait = "1s"; } ); } );
rules = ( { when = { kind = "dispatch"; }; escalate = "fast"; },
          { notify = "contact:office"; } );
CONF
. "$(dirname "$0")/nodes.sh"
nodes_config 3
start_sink "$SMTP_PORT" || exit 1
start_nodes 3 || exit 1
ok "three nodes started"
coord() { [ "$(cat "$T"/node*.log | grep -c "this node is now the store's coordinator")" -ge 1 ]; }
wait_until 10 coord
check_eq "exactly one node coordinates (sends the summaries)" 1 \
  "$(cat "$T"/node*.log | grep -c "this node is now the store's coordinator")"

MSG='{"client":"test-clinic","kind":"dispatch","caller":{"name":"Race","phone":"555-0100"},"text":"no heat"}'
ids=()
for i in $(seq 1 "$M"); do
  HTTP_PORT=${PORTS[$((i % 3))]}
  ids+=("$(post_message "$MSG")")
done
check_eq "$M escalating messages accepted round-robin" "$M" "$(printf '%s\n' "${ids[@]}" | grep -c '^[0-9]')"
verdicts() { [ "$(db_sql "select count(*) from events where type = 'unacknowledged'")" -ge "$M" ]; }
check "every escalation ran its course" wait_until 60 verdicts
all_sent() { [ "$(db_sql "select count(*) from deliveries where state != 'sent'")" = 0 ]; }
check "every delivery is sent" wait_until 60 all_sent
# (checked once every delivery is sent: a late duplicate step would have
# queued a delivery that the wait above saw)
check_eq "step 2 fired exactly once for every message" 0 \
  "$(db_sql "select count(*) from messages m where (select count(*) from events e
     where e.message_id = m.id and e.type = 'escalated') != 1")"
check_eq "each flagged unacknowledged exactly once" 0 \
  "$(db_sql "select count(*) from messages m where (select count(*) from events e
     where e.message_id = m.id and e.type = 'unacknowledged') != 1")"
check_eq "the sink got each step's mail once: $((2 * M)) mails" "$((2 * M))" "$(mail_count)"
steps=$(for k in 1 2 3; do grep -c 'escalation of message .*: step' "$T/node$k.log"; done | tr '\n' ' ')
echo "# steps fired per node: $steps"
check "more than one node fired steps" test "$(for k in 1 2 3; do grep -q 'escalation of message .*: step' "$T/node$k.log" && echo y; done | wc -l)" -ge 2

# Acknowledgements racing the steps, through the next node.
K=30
acks=()
for i in $(seq 1 "$K"); do
  HTTP_PORT=${PORTS[$((i % 3))]}
  acks+=("$(post_message "$MSG")")
done
list=$(IFS=,; echo "${acks[*]}")
# the acks start once the first of these has fired step 2: the rest are due
# about now, so acknowledgements and steps race
first_step() { [ "$(db_sql "select count(*) from events where message_id in ($list) and type = 'escalated'")" -ge 1 ]; }
wait_until 10 first_step
for i in $(seq 1 "$K"); do
  HTTP_PORT=${PORTS[$(((i + 1) % 3))]}
  api POST "/v1/messages/${acks[$((i - 1))]}/ack" '{"by":"Dr. Race"}'
done
# every racing message's next step time is over a second past (a node polls
# at least every second): a step that would fire after its ack has had
# its chance
past_due() { [ "$(db_sql "select count(*) from messages where id in ($list) and esc_next_ms >
  (extract(epoch from clock_timestamp()) * 1000)::bigint - 1500")" = 0 ]; }
check "every racing message's step time has passed" wait_until 20 past_due
check_eq "every racing message is acknowledged" "$K" \
  "$(db_sql "select count(*) from messages where id in ($list) and acked_ms is not null")"
check_eq "no step fired after its acknowledgement" 0 \
  "$(db_sql "select count(*) from events s join events a on a.message_id = s.message_id
     and a.type = 'acknowledged' where s.message_id in ($list)
     and s.type in ('escalated', 'unacknowledged') and s.id > a.id")"
echo "# steps fired before the acknowledgement: $(db_sql "select count(*) from events where message_id in ($list) and type = 'escalated'") of $K"
for k in 0 1 2; do
  stop_node "$k"; check_eq "node $((k + 1)) exits 0 on SIGTERM" 0 "$?"
done
check "no sanitizer report in the nodes' logs" \
  bash -c "! grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' $T/node*.log"
