#!/usr/bin/env bash
# The connection dies under a COMMIT (a database crash, a network fault):
# the server may have made the transaction durable though its answer never
# came.  The daemon asks the server what became of it (txid_status) before
# it answers: committed - 201 and the message is delivered; rolled back -
# 503 and nothing is stored; the server unreachable meanwhile - the caller
# waits while other writes are refused at once, and gets the true answer
# once the server is back.  A relay in front of the server's socket
# (tests/peers/pg_cut.py) cuts the writer's connection at its COMMIT.
PG_STORE=1 . "$(dirname "$0")/lib.sh"
CUT=$T/cut
mkdir -p "$CUT"
$PY "$ROOT/tests/peers/pg_cut.py" "$CUT" "$PG_SOCK/.s.PGSQL.5432" 2>>"$T/cut.err" &
CUT_PID=$!
trap 'kill $CUT_PID 2>/dev/null; wait $CUT_PID 2>/dev/null; cleanup' EXIT
wait_until 10 test -S "$CUT/.s.PGSQL.5432" || { notok "the relay listens"; exit 1; }
STORE_DSN=${STORE_DSN/host=$PG_SOCK/host=$CUT}
write_config
start_sink "$SMTP_PORT" || exit 1
start_daemon || exit 1
msg() { echo "{\"client\":\"test-clinic\",\"caller\":{\"name\":\"$1\",\"phone\":\"555-0100\"},\"text\":\"$1\",\"fields\":{\"address\":\"x\"}}"; }
stored() { db_sql "select count(*) from messages where caller_name = '$1'"; }
cuts() { grep -c "$1" "$CUT/cut.log" 2>/dev/null; }
cuts_are() { [ "$(cuts "$1")" = "$2" ]; }
logged() { grep -q "$1" "$T/daemon.log"; }

# the daemon idle: the next COMMIT on the writer's connection is the message's
sent_all() { [ "$(db_sql "select count(*) from deliveries where state not in ('sent')")" = 0 ]; }

# A: the server commits, its answer is lost
touch "$CUT/cut-after"
api POST /v1/messages "$(msg Alpha)"
check_eq "the relay cut the writer's connection after the COMMIT reached the server" 1 "$(cuts 'cut after')"
check_eq "committed though its answer was lost: 201" 201 "$CODE"
a=$(resp .id)
check_eq "the message is stored once" 1 "$(stored Alpha)"
check "the daemon learned it committed (txid_status)" logged "whose COMMIT lost its answer, committed"
delivered() { [ -n "$(mail_for "$1")" ]; }
check "and it is delivered to the SMTP server" wait_until 20 delivered "$a"

# B: the COMMIT never reaches the server
wait_until 20 sent_all
touch "$CUT/cut-before"
api POST /v1/messages "$(msg Bravo)"
check_eq "the relay cut the writer's connection before the COMMIT" 1 "$(cuts 'cut before')"
check_eq "rolled back: 503" 503 "$CODE"
check_eq "it is answered as the store being unavailable" store_unavailable "$(resp .error.code)"
check_eq "and nothing of it is stored" 0 "$(stored Bravo)"
check "the daemon learned it was rolled back" logged "whose COMMIT lost its answer, was rolled back"

# C: committed, answer lost, then the server unreachable for a while
asks() { grep -c "cannot reconnect" "$T/daemon.log"; }
asked0=$(asks)
touch "$CUT/hold" "$CUT/cut-after"
curl -s -m 60 -o "$T/charlie" -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" \
  -H 'Content-Type: application/json' --data-binary "$(msg Charlie)" \
  "http://127.0.0.1:$HTTP_PORT/v1/messages" >"$T/charlie.code" &
CURL_PID=$!
check "the relay cut the writer's connection after the COMMIT" wait_until 20 cuts_are 'cut after' 2
asked_again() { [ "$(asks)" -ge $((asked0 + 3)) ]; }
check "the daemon keeps asking the unreachable server" wait_until 20 asked_again
check "the caller of the COMMIT in doubt is still waiting" kill -0 "$CURL_PID"
api POST /v1/messages "$(msg Delta)"
check_eq "meanwhile another message is refused at once: 503" 503 "$CODE"
rm -f "$CUT/hold"
wait "$CURL_PID"
check_eq "once the server answers again the waiting caller gets 201" 201 "$(cat "$T/charlie.code")"
check_eq "that message is stored once" 1 "$(stored Charlie)"
check_eq "the one refused meanwhile is not stored" 0 "$(stored Delta)"
c=$(jq -r .id "$T/charlie")
check "and the waiting caller's message is delivered" wait_until 20 delivered "$c"
id=$(post_message "$(msg Echo)")
check "the daemon takes messages again" test -n "$id"
check "every delivery ends sent" wait_until 20 sent_all
stop_daemon
