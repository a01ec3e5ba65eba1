#!/usr/bin/env bash
# An emergency (and an urgent page) behind a routine backlog in open SMTP
# sessions.  The peer (Postfix smtp-sink -w 1) answers each DATA after 1 s;
# 2 workers each hold a batch of 20 routine mails for one session.  The
# emergency goes out on the worker kept for priority 0; the urgent page
# (priority 1) makes a routine session end between two messages and hand
# the rest of its batch back unstarted.  Asserted by ORDER (arrival at the
# sink, the store's recorded times), never by wall-clock thresholds:
# - each went ahead of the routine mails that had not reached the sink when
#   it was submitted, but for at most two per worker (the one each worker
#   had on the wire, and one started while it was being submitted); a
#   worker that had to finish its session first would let ~18 through;
# - outcomes are recorded per message as the relay answers: no two
#   attempts of one worker are ever open at once in the store (at most one
#   per worker thread, the reserve included), where recording at the end
#   of a session would show 20 open together;
# - the emergency is recorded sent while the routine mails waiting before it
#   are still unsent (but for two per worker, as above);
# - every message arrives exactly once, those handed back included.
. "$(dirname "$0")/lib.sh"
N=60; WORKERS=2
write_config
sed -i -e "s/^workers = 4;/workers = $WORKERS;/" "$T/etc/pagegate.conf"
cat >"$T/etc/clients/test-clinic.conf" <<'CONF'
id = "test-clinic";
name = "Test Clinic";
timezone = "America/Chicago";
contacts = (
  { id = "office"; name = "Front Office"; devices = ( { channel = "email"; to = "office@clinic.example"; } ); },
  { id = "oncall"; name = "On-call tech"; devices = ( { channel = "email"; to = "oncall@clinic.example"; } ); },
  { id = "doc"; name = "On-call doctor"; devices = ( { channel = "email"; to = "doc@clinic.example"; } ); }
);
rules = (
  { when = { urgency = "emergency"; }; notify = "contact:doc"; },
  { when = { urgency = "urgent"; }; notify = "contact:oncall"; },
  { notify = "contact:office"; }
);
CONF
backlog_in_sessions || exit 1    # both workers inside their sessions

# ids of the messages whose text reached the sink, and in which order:
# "mtime message-id" lines, oldest first (one process each, so that a
# snapshot is quick)
arrived_ids() { grep -a -h -m1 '^X-Pagegate-Message:' "$T"/mail/msg.* 2>/dev/null | tr -dc '0-9\n'; }
arrivals() {
  join -1 2 -2 1 <(stat -c '%.9Y %n' "$T"/mail/msg.* | sort -k2,2) \
    <(grep -a -m1 -H '^X-Pagegate-Message:' "$T"/mail/msg.* | tr -d '\r' |
      sed 's/:X-Pagegate-Message: */ /' | sort -k1,1) | awk '{ print $2, $3 }' | sort -n
}
# waiting FILE: the routine messages whose text has not reached the sink
db_sql "select message_id from deliveries where contact_id = 'office'" | sort >"$T/routine"
waiting() { comm -23 "$T/routine" <(arrived_ids | sort) >"$1"; }
waiting "$T/q_e"
E=$(post_message '{"client":"test-clinic","kind":"dispatch","urgency":"emergency","caller":{"name":"Post-op patient","phone":"555-0100"},"text":"Bleeding after surgery"}')
check "the emergency is accepted" test -n "$E"
waiting "$T/q_u"
U=$(post_message '{"client":"test-clinic","urgency":"urgent","caller":{"name":"Tenant","phone":"555-0101"},"text":"No heat, 4 degrees outside"}')
check "the urgent page is accepted" test -n "$U"
check "routine messages were waiting behind them" test "$(wc -l <"$T/q_u")" -ge 30
arrived() { [ -n "$(mail_for "$1")" ]; }
check "the emergency reaches the doctor" wait_until 30 arrived "$E"
check "the urgent page reaches the on-call tech" wait_until 30 arrived "$U"
check "the emergency went to the doctor's address" \
  grep -q '^X-Rcpt-Args: <doc@clinic.example>' $(mail_for "$E")

# before ID QUEUEDFILE: how many messages of QUEUEDFILE arrived before ID
before() { arrivals | awk -v id="$1" '$2 == id { exit } { print $2 }' | grep -cxFf "$2"; }
n_e=$(before "$E" "$T/q_e"); n_u=$(before "$U" "$T/q_u")
echo "# routine mails still waiting at submission that arrived first: emergency $n_e, urgent $n_u"
check "the emergency went ahead of the queued routine mails (at most 2 per worker before it, got $n_e)" \
  test "$n_e" -le $((2 * WORKERS))
check "the urgent page went ahead of the queued routine mails (at most 2 per worker before it, got $n_u)" \
  test "$n_u" -le $((2 * WORKERS))

# the store: the emergency recorded sent while routine mails queued before it are not
e_fin=$(db_sql "select a.finished_ms from attempts a join deliveries d on d.id = a.delivery_id where d.message_id = $E and a.outcome = 'ok'")
check_eq "the emergency's delivery is sent" sent "$(db_sql "select state from deliveries where message_id = $E")"
q_list=$(paste -sd, "$T/q_e")
unsent_then=$(db_sql "select count(*) from deliveries d where d.message_id in ($q_list)
  and not exists (select 1 from attempts a where a.delivery_id = d.id and a.outcome = 'ok' and a.finished_ms <= $e_fin)")
echo "# routine mails waiting before the emergency and not yet recorded sent when it was: $unsent_then of $(wc -l <"$T/q_e")"
check "when the emergency was recorded sent, routine mails waiting before it were still unsent" \
  test "$unsent_then" -ge $(( $(wc -l <"$T/q_e") - 2 * WORKERS ))

all_sent() { [ "$(db_sql "select count(*) from deliveries where state != 'sent'")" = 0 ]; }
check "the whole backlog drains" wait_until 60 all_sent
# most attempts open at once, from the store's recorded times: one per
# worker thread at most (the workers and the reserve)
open_max=$(db_sql "select max(c) from (select (select count(*) from attempts b
  where b.started_ms <= a.started_ms and b.finished_ms > a.started_ms) c from attempts a)")
echo "# most attempts open at once: $open_max"
check "each outcome is recorded before the worker starts its next message (at most $((WORKERS + 1)) open at once, got $open_max)" \
  test "$open_max" -le $((WORKERS + 1))
check_eq "every attempt succeeded at the first try" "$((N + 2))" "$(db_sql "select count(*) from attempts where outcome = 'ok'")"
check_eq "$((N + 2)) mails at the sink" "$((N + 2))" "$(mail_count)"
check_eq "each message exactly once" "$((N + 2))" "$(arrivals | awk '{ print $2 }' | sort -u | wc -l)"
stop_daemon
