#!/usr/bin/env bash
# SIGTERM in the middle of a routine backlog in open SMTP sessions (Postfix
# smtp-sink -w 1 answers each DATA after 1 s; 2 workers, batches of 20).
# The stop must not wait for the sessions: each worker finishes only the
# message on the wire, records it, says QUIT, and the daemon exits 0.
# Asserted by order and counts, not by time:
# - about one mail per worker arrives between the SIGTERM and the exit:
#   the one on the wire (the bound allows two, for one that landed while
#   the count was taken); finishing the open sessions would let ~30 through;
# - nothing is left half-done: no attempt open, no delivery "sending", and
#   every mail the sink holds is recorded sent;
# - after a restart every message arrives exactly once.  The design
#   finishes the message on the wire instead of abandoning it, so there is
#   no "interrupted" attempt to resend: no duplicate is allowed.
. "$(dirname "$0")/lib.sh"
N=40; WORKERS=2
write_config
sed -i -e "s/^workers = 4;/workers = $WORKERS;/" "$T/etc/pagegate.conf"
cat >"$T/etc/clients/test-clinic.conf" <<'CONF'
id = "test-clinic";
name = "Test Clinic";
timezone = "America/Chicago";
contacts = ( { id = "office"; name = "Front Office";
               devices = ( { channel = "email"; to = "office@clinic.example"; } ); } );
rules = ( { notify = "contact:office"; } );
CONF
backlog_in_sessions || exit 1

a0=$(mails_in)
kill -TERM "$DPID"; wait "$DPID"; rc=$?; DPID=
a1=$(mails_in)
check_eq "the daemon exits 0 on SIGTERM during the backlog" 0 "$rc"
check "no sanitizer report in the daemon log" sanitizer_clean
echo "# mails at the sink: $a0 at the SIGTERM, $a1 at the exit"
check "only the messages on the wire were finished: at most $((2 * WORKERS)) more mails after the SIGTERM (got $((a1 - a0)))" \
  test $((a1 - a0)) -le $((2 * WORKERS))
check "the backlog was not drained before the exit" test "$a1" -lt "$N"
check_eq "no attempt left open in the store" 0 "$(db_sql "select count(*) from attempts where outcome is null")"
check_eq "no delivery left sending" 0 "$(db_sql "select count(*) from deliveries where state = 'sending'")"
check_eq "every mail at the sink is recorded sent" "$a1" "$(db_sql "select count(*) from deliveries where state = 'sent'")"
check_eq "the others are still queued, never attempted" "$((N - a1))" \
  "$(db_sql "select count(*) from deliveries where state = 'queued' and attempts = 0")"

start_daemon || exit 1
all_sent() { [ "$(db_sql "select count(*) from deliveries where state != 'sent'")" = 0 ]; }
check "after the restart the rest is sent" wait_until 60 all_sent
ids() { for f in "$T"/mail/msg.*; do grep -a -m1 '^X-Pagegate-Message:' "$f" | tr -dc 0-9; echo; done; }
check_eq "$N mails at the sink" "$N" "$(mail_count)"
check_eq "each message exactly once" "$N" "$(ids | sort -u | grep -c .)"
check_eq "no attempt was interrupted by the stop" 0 \
  "$(db_sql "select count(*) from attempts where reply like '%interrupted%'")"
stop_daemon
