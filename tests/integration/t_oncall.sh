#!/usr/bin/env bash
# On-call schedules through the daemon: who is on duty at an instant
# (across a DST change and during an override), routing of oncall:techs to
# that person by real email, the .ics export with its calendar key, and
# the CLI.  Expected people and instants were computed independently with
# Python's zoneinfo (weekly Mon 08:00 America/Chicago from 2026-01-05).
. "$(dirname "$0")/lib.sh"
write_config
cat >"$T/etc/clients/test-clinic.conf" <<'CONF'
id = "test-clinic";
name = "Test Clinic";
timezone = "America/Chicago";
business_hours = ( { days = "Sun-Sat"; from = "00:00"; to = "24:00"; } );
contacts = (
  { id = "office"; name = "Office"; devices = ( { channel = "email"; to = "office@clinic.example"; } ); },
  { id = "jane"; name = "Jane Ortiz"; devices = ( { channel = "email"; to = "jane@clinic.example"; } ); },
  { id = "raj"; name = "Raj Patel"; devices = ( { channel = "email"; to = "raj@clinic.example"; } ); }
);
oncall = ( { id = "techs"; members = [ "jane", "raj" ]; rotation = "weekly";
             handoff = "Mon 08:00"; start = "2026-01-05";
             overrides = ( { member = "raj"; from = "2026-12-24 08:00"; to = "2026-12-26 08:00"; } ); } );
rules = (
  { when = { urgency = "emergency"; }; notify = [ "oncall:techs", "oncall:techs+1" ]; },
  { when = { urgency = "urgent"; }; notify = "oncall:techs"; },
  { notify = "contact:office"; }
);
CONF
start_sink "$SMTP_PORT" || exit 1
start_daemon || exit 1

oncall_at() { api GET "/v1/clients/test-clinic/oncall?at=$1"; resp '.rotations[0] | "\(.on_duty.id) \(.backup.id) \(.shift_start[0:19]) \(.shift_end[0:19])"'; }
check_eq "2026-12-01: raj on duty, jane backup, shift Mon 08:00 CST" \
  "raj jane 2026-11-30T14:00:00 2026-12-07T14:00:00" "$(oncall_at 2026-12-01T15:00:00Z)"
check_eq "a minute before the handoff after DST ended: jane (summer start 13:00Z)" \
  "jane raj 2026-10-26T13:00:00 2026-11-02T14:00:00" "$(oncall_at 2026-11-02T13:59:00Z)"
check_eq "at the handoff, 08:00 CST = 14:00Z: raj" \
  "raj jane 2026-11-02T14:00:00 2026-11-09T14:00:00" "$(oncall_at 2026-11-02T14:00:00Z)"
check_eq "after DST began the handoff is 08:00 CDT = 13:00Z" \
  "raj jane 2026-03-09T13:00:00 2026-03-16T13:00:00" "$(oncall_at 2026-03-09T13:00:00Z)"
check_eq "24 Dec: raj covers jane's week (override), jane is the backup" \
  "raj jane 2026-12-24T14:00:00 2026-12-26T14:00:00" "$(oncall_at 2026-12-24T20:00:00Z)"
api GET "/v1/clients/test-clinic/oncall?at=soon"
check_eq "a bad at -> 400 at" "400 at" "$CODE $(resp .error.field)"
api GET "/v1/clients/nobody/oncall"
check_eq "unknown client -> 404" 404 "$CODE"

api POST /v1/route/preview '{"client":"test-clinic","urgency":"urgent","at":"2026-12-01T15:00:00Z"}'
check_eq "preview of an urgent message on 1 Dec goes to raj" "raj:email" "$(resp '[.deliveries[] | "\(.contact):\(.channel)"] | join(",")')"
api POST /v1/route/preview '{"client":"test-clinic","urgency":"emergency","at":"2026-12-24T20:00:00Z"}'
check_eq "an emergency on 24 Dec: raj (override) and jane (backup)" "raj:email,jane:email" "$(resp '[.deliveries[] | "\(.contact):\(.channel)"] | join(",")')"

# Now, for real: an urgent message goes to whoever is on duty now.
want=$($PY - <<'PYEOF'
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo
tz = ZoneInfo("America/Chicago"); start = datetime(2026, 1, 5, 8, 0, tzinfo=tz)
now = datetime.now(timezone.utc).astimezone(tz)
k = (now.date() - start.date()).days // 7
s = datetime.combine(start.date() + timedelta(days=7 * k), datetime.min.time().replace(hour=8)).replace(tzinfo=tz)
if now < s: k -= 1
d = now.date()
over = datetime(2026, 12, 24, 8, 0, tzinfo=tz) <= now < datetime(2026, 12, 26, 8, 0, tzinfo=tz)
print("raj" if over else ["jane", "raj"][k % 2])
PYEOF
)
id=$(post_message '{"client":"test-clinic","urgency":"urgent","caller":{"name":"Ann","phone":"555-0100"},"text":"no heat"}')
check "urgent message accepted" test -n "$id"
check_eq "routed to the person on duty now ($want)" "$want" "$(resp '.deliveries[0].contact')"
check "delivered" wait_until 20 state_is "$id" sent
check_eq "the mail went to $want" "<$want@clinic.example>" "$(parse_mail "$(mail_for "$id")" | jq -r .rcpt)"

# The calendar: with the key from the API, without a token.
api GET "/v1/clients/test-clinic/oncall"
url=$(resp '.rotations[0].ics_url')
check "the API gives a calendar URL with a key" grep -q "/v1/clients/test-clinic/oncall.ics?rotation=techs&key=[0-9a-f]\{32\}$" <<<"$url"
path=${url#*//*/}; path=/$path
code=$(curl -s -o "$T/cal.ics" -w '%{http_code}' "http://127.0.0.1:$HTTP_PORT$path")
check_eq "the calendar URL answers 200 without a token" 200 "$code"
check "it is a VCALENDAR with a VTIMEZONE" bash -c "grep -q '^BEGIN:VCALENDAR' '$T/cal.ics' && grep -q '^BEGIN:VTIMEZONE' '$T/cal.ics'"
check "it has weekly shifts for 14 weeks" test "$(grep -c '^BEGIN:VEVENT' "$T/cal.ics")" -ge 14
check "shifts start at 08:00 Chicago time" grep -q '^DTSTART;TZID=America/Chicago:[0-9]\{8\}T080000' "$T/cal.ics"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HTTP_PORT/v1/clients/test-clinic/oncall.ics?key=00000000000000000000000000000000")
check_eq "a wrong key -> 403" 403 "$code"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HTTP_PORT/v1/clients/test-clinic/oncall.ics")
check_eq "no key and no token -> 401" 401 "$code"

out=$(PAGEGATE_URL="http://127.0.0.1:$HTTP_PORT" PAGEGATE_TOKEN=$TOKEN "$BUILD/pagegate" oncall --at 2026-12-24T20:00:00Z test-clinic)
check "pagegate oncall prints who is on duty and the backup" grep -q "techs: Raj Patel (raj) from 2026-12-24T14:00:00.000Z to 2026-12-26T14:00:00.000Z, backup Jane Ortiz" <<<"$out"
stop_daemon
