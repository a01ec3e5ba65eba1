#!/usr/bin/env bash
# PostgreSQL crashes under load: `pg_ctl stop -m immediate` (SIGQUIT to the
# postmaster: no checkpoint, recovery replays the WAL at the next start)
# while 8 clients submit, then a restart.  Every message answered 201 is
# in the store afterwards and reaches the SMTP peer; the same daemon
# process reconnects by itself and takes messages again.
PG_STORE=1 . "$(dirname "$0")/lib.sh"
write_config
start_sink "$SMTP_PORT" || exit 1
start_daemon || exit 1
MSG='{"client":"test-clinic","caller":{"name":"Crash","phone":"555-0100"},"text":"must survive","fields":{"address":"x"}}'

mkdir -p "$T/burst"
BURST_PIDS=()
for w in 1 2 3 4 5 6 7 8; do
  ( for i in $(seq 1 40); do
      code=$(curl -s -m 20 -o "$T/burst/$w.$i" -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" \
        -H 'Content-Type: application/json' --data-binary "$MSG" "http://127.0.0.1:$HTTP_PORT/v1/messages")
      [ "$code" = 201 ] && jq -r .id "$T/burst/$w.$i" >>"$T/burst/ids.$w"
      echo "$code" >>"$T/burst/codes.$w"
    done ) &
  BURST_PIDS+=($!)
done
answered() { [ "$(cat "$T"/burst/ids.* 2>/dev/null | wc -l)" -ge "$1" ]; }
wait_until 30 answered 60
postgres_stop immediate
check "postgres is down (stopped -m immediate)" bash -c "! $PG_BIN/pg_isready -q -h $PG_SOCK"
codes_down() { [ "$(cat "$T"/burst/codes.* | grep -vc '^201$')" -ge 3 ]; }
wait_until 10 codes_down
postgres_launch || { notok "postgres restarts after the crash"; exit 1; }
ok "postgres restarts after the crash"
for p in "${BURST_PIDS[@]}"; do wait "$p"; done

acked=$(cat "$T"/burst/ids.* | sort -n | uniq)
n=$(echo "$acked" | grep -c .)
refused=$(cat "$T"/burst/codes.* | grep -vc '^201$')
echo "# $n answered 201, $refused refused while the database was down"
check "at least 60 answers of 201" test "$n" -ge 60
check "some submissions were refused while the database was down, not accepted" test "$refused" -ge 1
check_eq "each refused with 503 (store unavailable)" "" \
  "$(cat "$T"/burst/codes.* | grep -v '^201$' | grep -v '^503$' | sort -u | tr '\n' ' ')"
check "the daemon is still the same process" kill -0 "$DPID"
stored=$(db_sql "select id from messages order by id")
missing=$(comm -23 <(echo "$acked" | sort) <(echo "$stored" | sort))
check_eq "every id answered 201 is in the store after the crash" "" "$missing"
check "the store's indexes check out after recovery" test "$(db_integrity)" = ok
id=$(post_message "$MSG")
check "the daemon reconnected by itself: a new message is accepted" test -n "$id"
# A COMMIT whose answer was lost with the connection is asked about
# (txid_status) before the caller is answered: no message is stored that
# was answered 503, and every delivery of a stored message ends sent.
ids_sql=$(echo $acked $id | tr ' ' ',')
check_eq "no message is stored that was answered 503" "" \
  "$(db_sql "select id from messages where id not in ($ids_sql)" | tr '\n' ' ')"
all_sent() { [ "$(db_sql "select count(*) from deliveries where state != 'sent'")" = 0 ]; }
check "every delivery of every stored message is sent" wait_until 60 all_sent
all_sent ||
  db_sql "select d.id, d.message_id, d.state, d.attempts, m.state from deliveries d join messages m on m.id = d.message_id where d.state != 'sent'" | sed 's/^/# not sent: /'
lost=$(for i in $acked $id; do [ -n "$(mail_for "$i")" ] || echo "$i"; done | head -5)
check_eq "every message answered 201 arrived at the SMTP server" "" "$lost"
stop_daemon
