#!/usr/bin/env bash
# What the nodes of one PostgreSQL store hear of each other (LISTEN/NOTIFY)
# and what /healthz says of the database, against a real PostgreSQL 15
# and Postfix smtp-sink:
#   1. a console event stream (curl -N, no browser) open on node B hears a
#      message submitted on node A and its acknowledgement made on node C,
#      each once (B's own writes are not heard twice);
#   2. /healthz: 200 {"status":"ok"} while the database answers; after the
#      server is stopped, 503 {"status":"degraded","store":"unreachable"};
#      200 again once it is back, and the stream on B hears what A writes
#      after the restart (the nodes listen again by themselves).
PG_STORE=1 . "$(dirname "$0")/lib.sh"
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
SPID=
NODES_CLEANUP='[ -n "$SPID" ] && { kill "$SPID"; wait "$SPID"; } 2>/dev/null'
start_sink "$SMTP_PORT" || exit 1
start_nodes 3 || exit 1
ok "three nodes started"

# ---- 1. a stream on B hears A and C ----
curl -s -N -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:${PORTS[1]}/v1/events" >"$T/stream" 2>&1 &
SPID=$!
has() { grep -q -- "$1" "$T/stream"; }
check "the stream on node B opens" wait_until 10 has '^retry: '
HTTP_PORT=${PORTS[0]}
MSG='{"client":"test-clinic","caller":{"name":"Events","phone":"555-0100"},"text":"heard elsewhere"}'
id=$(post_message "$MSG")
check "a message accepted by node A" test -n "$id"
check "node B's stream hears it received" wait_until 10 has "^data: {\"id\":$id,\"change\":\"received\"}"
check "and hears its delivery attempted (by whichever node)" \
  wait_until 20 has "^data: {\"id\":$id,\"change\":\"attempt_started\"}"
HTTP_PORT=${PORTS[2]}
api POST "/v1/messages/$id/ack" '{"by":"Dr. Elsewhere"}'
check_eq "acknowledged on node C: 200" 200 "$CODE"
check "node B's stream hears the acknowledgement" \
  wait_until 10 has "^data: {\"id\":$id,\"change\":\"acknowledged\"}"
HTTP_PORT=${PORTS[1]}
id2=$(post_message "${MSG/elsewhere/here}")
check "a message accepted by node B itself" test -n "$id2"
check "its stream hears it" wait_until 10 has "^data: {\"id\":$id2,\"change\":\"received\"}"
# its attempt is committed after its intake: a second copy of "received",
# notified with the intake's batch, would be in before the attempt's news
check "and hears its delivery attempted" \
  wait_until 20 has "^data: {\"id\":$id2,\"change\":\"attempt_started\"}"
check_eq "once only (its own notification is not heard again)" 1 \
  "$(grep -c "^data: {\"id\":$id2,\"change\":\"received\"}" "$T/stream")"
check_eq "A's message was heard received once" 1 \
  "$(grep -c "^data: {\"id\":$id,\"change\":\"received\"}" "$T/stream")"

# ---- 2. /healthz and the database going away ----
health() { curl -s -o "$T/health" -w '%{http_code}' "http://127.0.0.1:$1/healthz"; }
check_eq "/healthz on node A: 200" 200 "$(health "${PORTS[0]}")"
check_eq "saying the store is ok" "ok ok" "$(jq -r '"\(.status) \(.store)"' "$T/health")"
postgres_stop
degraded() { [ "$(health "$1")" = 503 ]; }
check "database stopped: /healthz on node A answers 503" wait_until 10 degraded "${PORTS[0]}"
check_eq "with status degraded, store unreachable" "degraded unreachable" \
  "$(jq -r '"\(.status) \(.store)"' "$T/health")"
check "and on node B too" wait_until 10 degraded "${PORTS[1]}"
postgres_launch || exit 1
healthy() { [ "$(health "$1")" = 200 ]; }
check "database back: /healthz on node A answers 200 again" wait_until 20 healthy "${PORTS[0]}"
check "and on node B" wait_until 20 healthy "${PORTS[1]}"
HTTP_PORT=${PORTS[0]}
accepted() { id3=$(post_message "${MSG/elsewhere/after the restart}"); [ -n "$id3" ]; }
check "node A takes messages again" wait_until 20 accepted
check "node B's stream hears it: the nodes listen again by themselves" \
  wait_until 20 has "^data: {\"id\":$id3,\"change\":\"received\"}"
kill "$SPID"; wait "$SPID" 2>/dev/null; SPID=
for k in 0 1 2; do
  stop_node "$k"; check_eq "node $((k + 1)) exits 0 on SIGTERM" 0 "$?"
done
check "no sanitizer report in the nodes' logs" \
  bash -c "! grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' $T/node*.log"
