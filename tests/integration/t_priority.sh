#!/usr/bin/env bash
# Priorities: an emergency submitted behind 10,000 queued routine
# deliveries goes out first.  The SMTP peer (Postfix smtp-sink) answers
# each DATA after 1 s, so with 2 workers and 5 messages per session the
# routine queue drains at about 2 mails a second: in arrival order the
# emergency would wait well over an hour.  It must reach the sink within
# seconds, while nearly all of the routine backlog is still queued.
. "$(dirname "$0")/lib.sh"
N=10000
write_config
sed -i -e 's/^workers = 4;/workers = 2;/' -e 's/batch = 20;/batch = 5;/' "$T/etc/pagegate.conf"
cat >"$T/etc/clients/test-clinic.conf" <<'CONF'
id = "test-clinic";
name = "Test Clinic";
timezone = "America/Chicago";
contacts = (
  { id = "office"; name = "Front Office"; devices = ( { channel = "email"; to = "office@clinic.example"; } ); },
  { id = "doc"; name = "On-call doctor"; devices = ( { channel = "email"; to = "doc@clinic.example"; } ); }
);
rules = (
  { when = { urgency = "emergency"; }; notify = "contact:doc"; },
  { notify = "contact:office"; }
);
CONF
start_sink "$SMTP_PORT" -w 1 || exit 1
start_daemon || exit 1

PAGEGATE_TOKEN=$TOKEN "$BUILD/bench/intake_load" -u "http://127.0.0.1:$HTTP_PORT" \
  -c 8 -n "$N" -C test-clinic >"$T/load.out" 2>&1
check_eq "$N routine messages accepted" "0" "$(sed -n 's/^intake_errors //p' "$T/load.out")"
queued() { db_sql "select count(*) from deliveries where state in ('queued','sending')"; }
q0=$(queued)
check "at least 9,500 routine deliveries are waiting" test "$q0" -ge 9500

m0=$(mail_count)     # (what went out while the backlog was submitted)
t0=$(date +%s%3N)
id=$(post_message '{"client":"test-clinic","kind":"dispatch","urgency":"emergency","caller":{"name":"Post-op patient","phone":"555-0100"},"text":"Bleeding after surgery"}')
check "the emergency is accepted" test -n "$id"
doc_mail() { mail_for "$id" | xargs -r grep -l '^X-Rcpt-Args: <doc@clinic.example>' | grep -q .; }
check "the emergency reaches the doctor within 20 s" wait_until 20 doc_mail
t1=$(date +%s%3N)
echo "# emergency delivered $((t1 - t0)) ms after submission"
sent_routine=$(( $(mail_count) - m0 - $(mail_for "$id" | wc -l) ))
echo "# routine mails received meanwhile: $sent_routine of the $q0 waiting ($m0 before it was submitted)"
check "it went ahead of the backlog: fewer than 50 routine mails between its submission and its arrival" \
  test "$sent_routine" -lt 50
check "and all but 200 of the routine deliveries waiting then are still waiting behind it" \
  test "$(queued)" -ge $((q0 - 200))
stop_daemon
