#!/usr/bin/env bash
# Several pagegated nodes on one PostgreSQL store (node = "..."), each
# claiming deliveries from the store under a lease (node_lease = 5s here;
# with 2s a machine loaded under the sanitizers once let a live node's
# lease run out in phase 1),
# against a real PostgreSQL 15 and Postfix smtp-sink:
#   1. three nodes, messages submitted round-robin to all three: every
#      delivery reaches the sink exactly once, and every node sent some;
#   2. SIGSTOP of a node while its send is stalled by the peer, past its
#      lease: another node takes the delivery over and sends it; after
#      SIGCONT the stopped node's late outcome is refused and recorded as a
#      possible duplicate (ledger event and log line);
#   3. kill -9 of a node while its send is stalled: another node delivers
#      it - at least once, at most once more than what the dead node had in
#      flight.
PG_STORE=1 . "$(dirname "$0")/lib.sh"
N=${PG_NODES_MESSAGES:-3000}
write_config
cat >"$T/etc/clients/test-clinic.conf" <<'CONF'
id = "test-clinic";
name = "Test Clinic";
timezone = "UTC";
contacts = ( { id = "office"; name = "Front Office";
               devices = ( { channel = "email"; to = "office@clinic.example"; } ); } );
rules = ( { notify = "contact:office"; } );
CONF
. "$(dirname "$0")/nodes.sh"
nodes_config 3
all_sent() { [ "$(db_sql "select count(*) from deliveries where state != 'sent'")" = 0 ]; }

# ---- 1. three nodes, round-robin ----
start_sink "$SMTP_PORT" || exit 1
for k in 0 1 2; do start_node $k || exit 1; done
for k in 0 1 2; do
  PAGEGATE_TOKEN=$TOKEN "$BUILD/bench/intake_load" -u "http://127.0.0.1:${PORTS[$k]}" \
    -c 4 -n $((N / 3)) -C test-clinic >"$T/load$k.out" 2>&1 &
  LP[$k]=$!
done
for k in 0 1 2; do wait "${LP[$k]}"; done
check_eq "$N messages accepted by the three nodes" "0 0 0" \
  "$(for k in 0 1 2; do sed -n 's/^intake_errors //p' "$T/load$k.out"; done | tr '\n' ' ' | sed 's/ $//')"
check_eq "$N deliveries stored" "$N" "$(db_sql "select count(*) from deliveries")"
check "all are sent" wait_until 90 all_sent
check_eq "the sink received $N mails" "$N" "$(mail_count)"
dups=$(grep -h '^X-Pagegate-Message:' "$T"/mail/msg.* | sort | uniq -d | wc -l)
check_eq "no message reached the sink twice" 0 "$dups"
check_eq "every message reached the sink" "$N" \
  "$(grep -h '^X-Pagegate-Message:' "$T"/mail/msg.* | sort -u | wc -l)"
for k in 0 1 2; do
  c=$(grep -c 'outcome=ok' "$T/node$((k + 1)).log")
  echo "# node $((k + 1)) sent $c"
  check "node $((k + 1)) sent some of them" test "$c" -gt 0
done
check_eq "no possible duplicate in the ledger" 0 \
  "$(db_sql "select count(*) from events where type = 'possible_duplicate'")"
for k in 1 2; do stop_node $k; check_eq "node $((k + 1)) exits 0 on SIGTERM" 0 "$?"; done

# ---- 2. SIGSTOP past the lease ----
stop_sink
start_sink "$SMTP_PORT" -w 6 || exit 1        # each DATA answered after 6 s
HTTP_PORT=${PORTS[0]}
MSG='{"client":"test-clinic","caller":{"name":"Stop","phone":"555-0100"},"text":"stopped node"}'
id=$(post_message "$MSG")
check "a message accepted by node 1 (alone)" test -n "$id"
sending() { [ "$(db_sql "select state from deliveries where message_id = $1")" = sending ]; }
check "node 1 is sending it (the peer stalls)" wait_until 20 sending "$id"
kill -STOP "${NPIDS[0]}"
start_node 1 || exit 1
HTTP_PORT=${PORTS[1]}                          # node 1 answers nothing now
check "node 2 takes it over once node 1's lease ran out, and sends it" \
  wait_until 30 state_is "$id" sent
kill -CONT "${NPIDS[0]}"
dup() { [ "$(db_sql "select count(*) from events e join deliveries d on d.id = e.delivery_id where d.message_id = $id and e.type = 'possible_duplicate'")" = 1 ]; }
check "node 1's late outcome is refused: a possible_duplicate event" wait_until 20 dup
check "and a log line of node 1 says so" grep -q 'possible duplicate' "$T/node1.log"
check_eq "the delivery stays sent, attempted twice" "sent 2" \
  "$(db_sql "select state || ' ' || attempts from deliveries where message_id = $id")"
two() { [ "$(mail_for "$id" | wc -l)" = 2 ]; }
check "the sink got it twice: the one duplicate that was in flight" wait_until 20 two

# ---- 3. kill -9 while sending ----
stop_node 1
HTTP_PORT=${PORTS[0]}
id=$(post_message "${MSG/stopped/killed}")
check "a message accepted by node 1 (alone again)" test -n "$id"
check "node 1 is sending it" wait_until 20 sending "$id"
kill -9 "${NPIDS[0]}"; wait "${NPIDS[0]}" 2>/dev/null; NPIDS[0]=
start_node 2 || exit 1
HTTP_PORT=${PORTS[2]}
check "node 3 delivers what the dead node had in flight" wait_until 30 state_is "$id" sent
n=$(mail_for "$id" | wc -l)
echo "# the killed node's message reached the sink $n time(s)"
check "at least once, at most twice (one was in flight)" test "$n" -ge 1 -a "$n" -le 2
stop_node 2; check_eq "node 3 exits 0 on SIGTERM" 0 "$?"
check "no sanitizer report in the nodes' logs" \
  bash -c "! grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' $T/node*.log"
