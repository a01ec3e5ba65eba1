# Shared helpers for integration tests (sourced).  Each test script gets its
# own temporary directory, fresh ports, its own real peers and daemon, all
# children of the script, stopped by PID at exit.  Results are printed as
# "ok - what" / "not ok - what" lines that tests/run.sh counts.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${PG_BUILD:-$ROOT/build}
PY=/usr/bin/python3
T=$(mktemp -d /tmp/pgtest.XXXXXX)
chmod 755 "$T"
TOKEN=test-token
TOKEN_SHA=$(printf %s "$TOKEN" | sha256sum | cut -d' ' -f1)
DPID=; SINK_PID=
N_NOTOK=0

ok()    { echo "ok - $*"; }
notok() { echo "not ok - $*"; N_NOTOK=$((N_NOTOK + 1)); }
# check DESCRIPTION COMMAND... : ok when the command succeeds.
check() { local d=$1; shift; if "$@"; then ok "$d"; else notok "$d"; fi; }
# check_eq DESCRIPTION EXPECTED ACTUAL
check_eq() {
  if [ "$2" = "$3" ]; then ok "$1"; else notok "$1 (expected '$2', got '$3')"; fi
}

free_port() { $PY -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# wait_until SECONDS COMMAND... : polls the condition every 0.1 s, bounded.
. "$ROOT/tests/peers/wait.sh"

# ---- the store: SQLite in $T/var, or PostgreSQL ----
# PG_STORE=1 runs the test on a throwaway PostgreSQL cluster started in $T
# (tests/peers/postgres.sh); PG_STORE_DSN=URI (postgresql://...) on that
# server instead.  Either way the test's store is a schema of its own.
# db_sql SQL runs a query on the test's store, whichever it is.
STORE_DSN="sqlite:$T/var/pagegate.db"; PG_URI=
if [ -n "${PG_STORE:-}${PG_STORE_DSN:-}" ]; then
  . "$ROOT/tests/peers/postgres.sh"
  if [ -z "${PG_STORE_DSN:-}" ]; then postgres_start "$T" || exit 1; PG_URI=$PG_DSN
  else PG_URI=$PG_STORE_DSN; fi
  case $PG_URI in *\?*) PG_URI+="&" ;; *) PG_URI+="?" ;; esac
  PG_URI+="options=-csearch_path%3Dt_$$_$(basename "$T" | tr -cd 'a-zA-Z0-9' | tr 'A-Z' 'a-z')"
  STORE_DSN=$PG_URI
fi
db_sql() {
  if [ -n "$PG_URI" ]; then psql -X -q -At "$PG_URI" -c "$1"
  else sqlite3 "$T/var/pagegate.db" "$1"; fi
}
# db_setting_hex KEY: the store's setting KEY (settings.value) in hex,
# "" when there is none.  KEY is the test's own literal, never input.
db_setting_hex() {
  if [ -n "$PG_URI" ]; then db_sql "select encode(value, 'hex') from settings where key = '$1'"
  else db_sql "select hex(value) from settings where key = '$1'"; fi
}
# db_integrity: "ok" when the store's structure checks out (SQLite's
# integrity_check; PostgreSQL's amcheck over the store's btree indexes).
db_integrity() {
  if [ -n "$PG_URI" ]; then
    db_sql "CREATE EXTENSION IF NOT EXISTS amcheck SCHEMA public; SELECT count(public.bt_index_check(c.oid)::text)
      FROM pg_class c JOIN pg_am a ON a.oid = c.relam WHERE a.amname = 'btree'
      AND c.relnamespace = current_schema()::regnamespace" >/dev/null && echo ok
  else db_sql 'pragma integrity_check'; fi
}

# ---- SMTP peer: Postfix smtp-sink (shared/PEERS.md) ----
# start_sink PORT [smtp-sink options...]   e.g. -r DATA (450 on DATA)
start_sink() {
  local port=$1; shift
  mkdir -p -m 777 "$T/mail"
  /usr/sbin/smtp-sink -u nobody "$@" -d "$T/mail/msg." "127.0.0.1:$port" 1000 >>"$T/sink.log" 2>&1 &
  SINK_PID=$!
  wait_until 10 port_open "$port" || { notok "smtp-sink started on $port"; return 1; }
}
stop_sink() {
  [ -n "$SINK_PID" ] || return 0
  # (CONT too: a sink a test stalled with SIGSTOP ends only once it runs)
  kill "$SINK_PID" 2>/dev/null; kill -CONT "$SINK_PID" 2>/dev/null
  wait "$SINK_PID" 2>/dev/null; SINK_PID=
}
mail_count() { find "$T/mail" -maxdepth 1 -name 'msg.*' 2>/dev/null | wc -l; }
# mail_for MESSAGE_ID: the received files of that pagegate message.
mail_for() { grep -l "^X-Pagegate-Message: $1\r\?$" "$T"/mail/msg.* 2>/dev/null; }
# mail_complete FILE: true once the sink has closed FILE: smtp-sink -d
# keeps a message's file open until its mail transaction ends, so until
# then a reader may see it cut short.
mail_complete() {
  local f
  f=$(readlink -f "$1") || return 1
  ! find "/proc/$SINK_PID/fd" -lname "$f" 2>/dev/null | grep -q .
}
# parse_mail FILE: JSON of what a mail reader shows (decoded headers, body).
parse_mail() {
  $PY - "$1" <<'PYEOF'
import email, json, sys
from email import policy
raw = open(sys.argv[1], 'rb').read()
m = email.message_from_bytes(raw, policy=policy.default)
body = m.get_body(preferencelist=('plain',))
print(json.dumps({
  'rcpt': m['X-Rcpt-Args'], 'mail_from': m['X-Mail-Args'],
  'from': str(m['From']), 'to': str(m['To']), 'subject': str(m['Subject']),
  'to_name': m['To'].addresses[0].display_name if m['To'] else None,
  'to_addr': m['To'].addresses[0].addr_spec if m['To'] else None,
  'date': m['Date'] is not None, 'message_id': str(m['Message-ID']),
  'content_type': m.get_content_type(), 'charset': m.get_content_charset(),
  'cte': str(m['Content-Transfer-Encoding']),
  'pg_message': str(m['X-Pagegate-Message']),
  'headers': [k.lower() for k in m.keys()],
  'body': body.get_content() if body is not None else None,
}, ensure_ascii=False))
PYEOF
}

# backlog_in_sessions: $N routine messages for client test-clinic queued
# behind smtp-sink -w 1 (each DATA answered after 1 s), the daemon restarted
# so that the scheduler finds the whole backlog at once and each worker
# takes a full batch for one session (while messages arrive one by one a
# worker may take a smaller one); returns once a few mails arrived, the
# sessions under way.  mails_in counts the mails whose text has arrived
# (smtp-sink creates a file at MAIL FROM and writes the text after its
# answer to DATA, that is, once the client sent it).
mails_in() { grep -l -a '^X-Pagegate-Message:' "$T"/mail/msg.* 2>/dev/null | wc -l; }
backlog_in_sessions() {
  start_sink "$SMTP_PORT" -w 1 || return 1
  start_daemon || return 1
  PAGEGATE_TOKEN=$TOKEN "$BUILD/bench/intake_load" -u "http://127.0.0.1:$HTTP_PORT" \
    -c 4 -n "$N" -C test-clinic >"$T/load.out" 2>&1
  check_eq "$N routine messages accepted" "0" "$(sed -n 's/^intake_errors //p' "$T/load.out")"
  kill -TERM "$DPID"; wait "$DPID"; DPID=
  start_daemon || return 1
  local r0; r0=$(mails_in)
  some_arrived() { [ "$(mails_in)" -ge $((r0 + 2)) ]; }
  check "the backlog is being sent" wait_until 30 some_arrived
}

# ---- configuration and daemon ----
HTTP_PORT=$(free_port); SMTP_PORT=$(free_port)
MAX_MB=${MAX_MB:-0}; RETRY_BASE=${RETRY_BASE:-1s}; RETRY_CAP=${RETRY_CAP:-2s}; GIVE_UP=${GIVE_UP:-1h}

# write_config: $T/etc/pagegate.conf and one always-open client
# "test-clinic" (overridable by writing $T/etc/clients/*.conf afterwards).
write_config() {
  mkdir -p "$T/etc/clients" "$T/var"
  cat >"$T/etc/pagegate.conf" <<CONF
listen = "127.0.0.1";
port = $HTTP_PORT;
store = { dsn = "$STORE_DSN"; max_mb = $MAX_MB; };
templates = "$ROOT/templates";
clients = "$T/etc/clients";
max_body = 16384;
workers = 4;
operators = ( { name = "tester"; token_sha256 = "$TOKEN_SHA"; } );
smtp = ( { name = "sink"; host = "127.0.0.1"; port = $SMTP_PORT; starttls = "off";
           from = "pagegate@test.example"; from_name = "Answering Service";
           timeout = 10; batch = 20; } );
retry = { email = { base = "$RETRY_BASE"; cap = "$RETRY_CAP"; give_up = "$GIVE_UP"; }; };
CONF
  cat >"$T/etc/clients/test-clinic.conf" <<'CONF'
id = "test-clinic";
name = "Test Clinic";
dnis = [ "8005550100" ];
timezone = "America/Chicago";
business_hours = ( { days = "Sun-Sat"; from = "00:00"; to = "24:00"; } );
fields = ( { id = "address"; label = "Service address"; required = true; } );
contacts = (
  { id = "office"; name = "Front Office";
    devices = ( { channel = "email"; to = "office@clinic.example"; } ); },
  { id = "doc"; name = "Dr. Zoë Ångström";
    devices = ( { channel = "email"; to = "doc@clinic.example"; } ); }
);
rules = (
  { when = { urgency = "emergency"; }; notify = [ "contact:doc", "contact:office" ]; },
  { notify = "contact:office"; channels = [ "email" ]; }
);
CONF
}

# open_next_minute: sets open_at / close_at (UTC "HH:MM", the first minute
# boundary at least 30 s away, so that a loaded machine still posts its
# messages before it, and three minutes later) and open_epoch, for a
# client that opens while the test runs.  Keeps clear of midnight first
# (bounded) so "from" < "to" on the same day.
not_near_midnight() { [ "$(date -u +%H%M)" -lt 2354 ]; }
open_next_minute() {
  wait_until 460 not_near_midnight || return 1
  local now; now=$(date -u +%s)
  open_epoch=$(( (now + 30) / 60 * 60 + 60 ))
  open_at=$(date -u -d "@$open_epoch" +%H:%M)
  close_at=$(date -u -d "@$((open_epoch + 180))" +%H:%M)
}

start_daemon() {
  "$BUILD/pagegated" -c "$T/etc/pagegate.conf" >>"$T/daemon.log" 2>&1 &
  DPID=$!
  wait_until 30 curl -sf -o /dev/null "http://127.0.0.1:$HTTP_PORT/healthz" ||
    { notok "daemon started"; tail -20 "$T/daemon.log"; return 1; }
}
# sanitizer_clean: no AddressSanitizer/UBSan/LeakSanitizer report in the log.
sanitizer_clean() { ! grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$T/daemon.log"; }
# stop_daemon: SIGTERM, expect a clean exit 0 and no sanitizer report.
stop_daemon() {
  [ -n "$DPID" ] || return 0
  kill -TERM "$DPID" 2>/dev/null; wait "$DPID"; local rc=$?; DPID=
  check_eq "daemon exits 0 on SIGTERM" 0 "$rc"
  check "no sanitizer report in the daemon log" sanitizer_clean
}
kill9_daemon() { kill -9 "$DPID" 2>/dev/null; wait "$DPID" 2>/dev/null; DPID=; }

# api METHOD PATH [BODY] : sets CODE, response body in $T/resp.
api() {
  local args=(-s -o "$T/resp" -w '%{http_code}' -X "$1" -H "Authorization: Bearer $TOKEN")
  [ $# -ge 3 ] && args+=(-H 'Content-Type: application/json' --data-binary "$3")
  CODE=$(curl "${args[@]}" "http://127.0.0.1:$HTTP_PORT$2")
}
resp() { jq -r "$1" "$T/resp"; }
# post_message JSON : prints the new id (empty on failure).
post_message() { api POST /v1/messages "$1"; [ "$CODE" = 201 ] && resp .id; }
msg_json() { curl -s -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$HTTP_PORT/v1/messages/$1"; }
msg_state() { msg_json "$1" | jq -r .state; }
state_is() { [ "$(msg_state "$1")" = "$2" ]; }
db_count() { db_sql "select count(*) from $1"; }

cleanup() {
  [ -n "$DPID" ] && { kill -9 "$DPID" 2>/dev/null; wait "$DPID" 2>/dev/null; }
  stop_sink
  [ -z "${PG_PID:-}" ] || postgres_stop
  if [ "$N_NOTOK" -gt 0 ] || [ -n "${KEEP:-}" ]; then
    echo "# daemon log (tail) from $T:"; tail -40 "$T/daemon.log" 2>/dev/null | sed 's/^/# /'
  fi
  [ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT
