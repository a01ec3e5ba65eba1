#!/usr/bin/env bash
# tests/bench/bench.sh - `make bench`, the storm bench (issue 15): each of
# pagegate's figures beside a ceiling measured in the same run, on the same
# machine and file system, and the goal; one table at the end.
#
#  intake      64 HTTP clients POST /v1/messages (emails flowing meanwhile)
#              against the rows one message writes in the daemon's own
#              schema (message, delivery, two ledger events), inserted raw
#              in transactions of 64 messages (sqlite_ceiling -s), their
#              ack references spread over the index as the daemon's are
#  HTTP part   GET /healthz with the same concurrency and count
#  email       K messages through pagegated into Postfix smtp-sink,
#              against `smtp-source -s 5 -m K` into the same sink
#  MQTT        K pages (QoS 1) through pagegated into mosquitto, against
#              `mosquitto_pub -q 1 -l` with the same payload into the same
#              broker, both counted by one mosquitto_sub; every delivery
#              must end `sent` with the broker's PUBACK in its attempt
#  SMS         K messages through pagegated to Kannel (fake SMSC), against
#              the same sendsms requests sent straight to the same Kannel
#              by curl with as many requests in flight as pagegated's
#              workers; counted by what the fake SMSC received
#  storm       a second daemon whose relay (smtp-sink -w 1) answers each
#              DATA after 1 s:
#    emergency   submit -> the sink holds it (by X-Pagegate-Message), with
#                BACKLOG routine deliveries queued, against the same on an
#                empty queue
#    memory      peak RSS (VmHWM) with the backlog queued less the idle
#                daemon's, per queued delivery
#    restart     start with the backlog pending -> /healthz answers,
#                against the sqlite3 shell reading those deliveries
#  fax         render/encode and a simulated T.30 call (fax_bench)
#  PostgreSQL  bench_pg.sh's rows (intake vs pgbench, 3 nodes vs 1)
#
# A bench is not a test: slowness fails nothing, but any error does (a
# non-2xx answer, a failed delivery, a lost or duplicated mail, page or
# SMS, a bounded wait that runs out, a daemon exiting badly).  Every
# process it starts is its child, stopped by PID and waited for.
#
# Environment: BUILD (build), BENCH_INTAKE (messages, 10000),
# BENCH_CONCURRENCY (64), BENCH_EMAIL (2000), BENCH_MQTT (5000),
# BENCH_SMS (1000), BENCH_BACKLOG (100000), BENCH_SQLITE_SECONDS (3),
# BENCH_PARTS (the parts to run, default "intake email mqtt sms storm fax
# pg"; intake is always run: the other daemon parts follow it), BENCH_KEEP
# (1: keep the temporary directory, its logs and databases).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
PY=/usr/bin/python3
N_INTAKE=${BENCH_INTAKE:-10000}
CONC=${BENCH_CONCURRENCY:-64}
K_EMAIL=${BENCH_EMAIL:-2000}
K_MQTT=${BENCH_MQTT:-5000}
K_SMS=${BENCH_SMS:-1000}
BACKLOG=${BENCH_BACKLOG:-100000}
SQLITE_SECONDS=${BENCH_SQLITE_SECONDS:-3}
PARTS=" ${BENCH_PARTS:-intake email mqtt sms storm fax pg} "
part() { [[ $PARTS == *" $1 "* ]]; }
EMAIL_CONC=16          # HTTP clients submitting the delivery phases' messages
WORKERS=4              # pagegated's workers (the SMS ceiling's requests in flight)

for f in "$BUILD/pagegated" "$BUILD/pagegate" "$BUILD/bench/intake_load" \
	 "$BUILD/bench/sqlite_ceiling" /usr/sbin/smtp-sink /usr/sbin/smtp-source "$PY" \
	 /usr/bin/sqlite3 /usr/bin/jq /usr/sbin/mosquitto /usr/bin/mosquitto_sub \
	 /usr/bin/mosquitto_pub /usr/sbin/bearerbox /usr/sbin/smsbox; do
	[ -x "$f" ] || { echo "bench: $f is missing (make all tools; make deps)" >&2; exit 1; }
done

T=$(mktemp -d /tmp/pagegate-bench.XXXXXX)
chmod 755 "$T"                      # smtp-sink writes as nobody
SINK_PID=; DPID=; SUB_PID=; SLOW_PID=; SPID=
cleanup() {
	local rc=$?
	for pid in $SPID $DPID $SUB_PID $SINK_PID $SLOW_PID; do kill "$pid" 2>/dev/null || true; done
	for pid in $SPID $DPID $SUB_PID $SINK_PID $SLOW_PID; do wait "$pid" 2>/dev/null || true; done
	kannel_stop >/dev/null 2>&1 || true
	mosquitto_stop >/dev/null 2>&1 || true
	if [ "$rc" -ne 0 ]; then
		for log in "$T/daemon.log" "$T/storm/daemon.log"; do
			[ -s "$log" ] || continue
			echo "bench: $log (tail):" >&2
			tail -20 "$log" >&2
		done
	fi
	if [ -n "${BENCH_KEEP:-}" ]; then echo "bench: kept $T" >&2; else rm -rf "$T"; fi
	exit "$rc"
}
trap cleanup EXIT

die() { echo "bench: $*" >&2; exit 1; }
notok() { echo "bench: $*" >&2; }          # for kannel.sh
now_ms() { local t=${EPOCHREALTIME/./}; echo $((10#$t / 1000)); }
free_port() { $PY -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
. "$ROOT/tests/peers/wait.sh"
. "$ROOT/tests/peers/mosquitto.sh"
. "$ROOT/tests/peers/kannel.sh"
# True when COMMAND succeeds or the daemon watched ($WPID) has died.
done_or_dead() { "$@" || { [ -n "$WPID" ] && ! kill -0 "$WPID" 2>/dev/null; }; }
# wait_for SECONDS WHAT COMMAND... : polls COMMAND every 10 ms (the runs are
# timed by it) until it succeeds; fails naming WHAT when the deadline
# passes or the daemon watched ($WPID: the one running) died.
WPID=
wait_for() {
	local secs=$1 what=$2; shift 2
	WAIT_POLL=0.01 wait_until "$secs" done_or_dead "$@" || die "timed out waiting for $what"
	[ -z "$WPID" ] || kill -0 "$WPID" 2>/dev/null || die "pagegated exited while waiting for $what"
}
files_in() { find "$1" -maxdepth 1 -name 'msg.*' | wc -l; }
mail_count() { files_in "$T/mail"; }
mail_at_least() { [ "$(mail_count)" -ge "$1" ]; }
# ratio A B: A/B with enough digits for small ratios
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a != "" && b > 0) printf "%.3g", a / b; else print "n/a" }'; }
rate() { awk -v k="$1" -v ms="$2" 'BEGIN { printf "%.1f", (ms > 0 ? k * 1000 / ms : 0) }'; }
get() { awk -v k="$1" '$1 == k { print $2 }' "$2"; }
metric() { awk -v k="$1" '$1 == k { print $2 }' "$T/metrics"; }
vm_kb() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$2/status"; }
healthy() { curl -sf -o /dev/null "http://127.0.0.1:$1/healthz"; }
# distinct_header DIR NAME: how many distinct values of header NAME the
# mails in DIR carry, and how many mails carry it ("DISTINCT TOTAL").
distinct_header() {
	find "$1" -maxdepth 1 -name 'msg.*' -print0 |
		xargs -0 -r awk -v h="$2: " 'index($0, h) == 1 { print } /^$/ { nextfile }' |
		awk '{ n++; if (!seen[$0]++) d++ } END { print d + 0, n + 0 }'
}
# stop_daemon PID WHAT: SIGTERM, wait; fails unless it exits 0; sets
# STOPPED_MS (not a command substitution: only this shell can wait).
stop_daemon() {
	local t0 rc=0
	t0=$(now_ms)
	kill -TERM "$1"
	wait "$1" || rc=$?
	[ "$rc" -eq 0 ] || die "$2 exited with status $rc on SIGTERM"
	STOPPED_MS=$(( $(now_ms) - t0 ))
}

# ---- peers and configuration ----
HTTP_PORT=$(free_port); SMTP_PORT=$(free_port); MQTT_PORT=$(free_port)
mkdir -m 777 "$T/mail"
mkdir -p "$T/etc/clients" "$T/var"
/usr/sbin/smtp-sink -u nobody -d "$T/mail/msg." "127.0.0.1:$SMTP_PORT" 1000 >"$T/sink.log" 2>&1 &
SINK_PID=$!
wait_for 10 "smtp-sink on port $SMTP_PORT" port_open "$SMTP_PORT"

TOKEN=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')
TOKEN_SHA=$(printf '%s\n' "$TOKEN" | "$BUILD/pagegate" hash-token -)
SECTIONS=
if part mqtt; then
	echo "bench: mosquitto on port $MQTT_PORT ..." >&2
	mosquitto_start "$MQTT_PORT" "$T/mqtt" || die "mosquitto did not start"
	# the subscriber's queue holds a whole burst (1000 by default: the
	# rest of mosquitto_pub's burst would be dropped, not counted)
	echo "max_queued_messages 1000000" >>"$T/mqtt/mosquitto.conf"
	mosquitto_restart || die "mosquitto did not restart"
	SECTIONS+="mqtt = { host = \"127.0.0.1\"; port = $MQTT_PORT; tls = false;
         client_id = \"pagegate-bench\"; protocol = \"v5\"; qos = 1; timeout = \"10s\"; };
"
fi
if part sms; then
	echo "bench: Kannel (bearerbox, smsbox, fake SMSC) ..." >&2
	kannel_config "http://127.0.0.1:$HTTP_PORT/cb/sms/kannel/inbound?token=unused&from=%p&to=%P&text=%a"
	kannel_start || die "Kannel did not start"
	# no delivery reports: the ceiling's requests ask for none either
	SECTIONS+="sms = ( { name = \"kannel\"; kind = \"kannel\"; url = \"$K_SENDSMS_URL\";
          username = \"$K_USER\"; password = \"$K_PASS\"; from = \"5550000\";
          dlr_mask = 0; rate = 0; timeout = 20; } );
"
fi
cat >"$T/etc/pagegate.conf" <<CONF
listen = "127.0.0.1";
port = $HTTP_PORT;
public_url = "http://127.0.0.1:$HTTP_PORT";
store = { dsn = "sqlite:$T/var/pagegate.db"; max_mb = 0; };
templates = "$ROOT/templates";
clients = "clients";
max_body = 65536;
workers = $WORKERS;
max_per_address = 512;   # every client is 127.0.0.1
operators = ( { name = "bench"; token_sha256 = "$TOKEN_SHA"; } );
smtp = ( { name = "sink"; host = "127.0.0.1"; port = $SMTP_PORT; starttls = "off";
           from = "pagegate@bench.example"; from_name = "Answering Service";
           timeout = 30; batch = 20; } );
retry = { email = { base = "1s"; cap = "5s"; give_up = "1h"; };
          mqtt = { base = "1s"; cap = "5s"; give_up = "1h"; };
          sms = { base = "1s"; cap = "5s"; give_up = "1h"; }; };
$SECTIONS
CONF
# client_conf ID CONTACT DEVICE: an always-open client paging one device
client_conf() {
	cat <<CONF
id = "$1";
name = "Bench Heating & Cooling";
timezone = "UTC";
business_hours = ( { days = "Sun-Sat"; from = "00:00"; to = "24:00"; } );
contacts = ( { id = "$2"; name = "Front office"; devices = ( $3 ); } );
rules = ( { notify = "contact:$2"; } );
CONF
}
client_conf bench office '{ channel = "email"; to = "office@bench.example"; }' \
	>"$T/etc/clients/bench.conf"
! part mqtt || client_conf mq app '{ channel = "mqtt"; topic = "bench/{client}/{contact}"; }' \
	>"$T/etc/clients/mq.conf"
! part sms || client_conf sms phone '{ channel = "sms"; to = "+15555550111"; gateway = "kannel"; }' \
	>"$T/etc/clients/sms.conf"
"$BUILD/pagegate" check "$T/etc" >/dev/null || die "generated configuration rejected"

# ---- the daemon ----
"$BUILD/pagegated" -c "$T/etc/pagegate.conf" >"$T/daemon.log" 2>&1 &
DPID=$!; WPID=$DPID
wait_for 30 "pagegated /healthz" healthy "$HTTP_PORT"
export PAGEGATE_TOKEN=$TOKEN PAGEGATE_URL="http://127.0.0.1:$HTTP_PORT"
DB=$T/var/pagegate.db
db() { sqlite3 -cmd '.timeout 5000' "$DB" "$1"; }
# post JSON: submits one message, prints its id (201 or the bench fails)
post() {
	local out
	out=$(curl -s -w '\n%{http_code}' -H "Authorization: Bearer $PAGEGATE_TOKEN" \
		-H 'Content-Type: application/json' -d "$2" "http://127.0.0.1:$1/v1/messages") ||
		die "POST /v1/messages failed"
	[ "$(tail -1 <<<"$out")" = 201 ] || die "POST /v1/messages answered: $out"
	head -n -1 <<<"$out" | jq -r .id
}

# ---- intake ceiling: the daemon's schema, its rows per message, raw ----
db "SELECT sql || ';' FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%'
    ORDER BY rowid" >"$T/schema.sql"
echo "bench: SQLite ceiling, a message's rows, in $T/var (${SQLITE_SECONDS}s per mode) ..." >&2
"$BUILD/bench/sqlite_ceiling" -d "$T/var" -t "$SQLITE_SECONDS" -b 64 -s "$T/schema.sql" \
	>"$T/sqlite.out" || die "sqlite_ceiling failed"
SQ_MSG1=$(get sqlite_msg_single_msgs_per_s "$T/sqlite.out")
SQ_MSG64=$(get sqlite_msg_batch_msgs_per_s "$T/sqlite.out")
[ -n "$SQ_MSG1" ] && [ -n "$SQ_MSG64" ] || die "sqlite_ceiling printed no figures"

# ---- intake with 64 concurrent clients (emails flow meanwhile) ----
echo "bench: intake, $N_INTAKE messages from $CONC clients ..." >&2
t0=$(now_ms)
"$BUILD/bench/intake_load" -u "$PAGEGATE_URL" -c "$CONC" -n "$N_INTAKE" >"$T/intake.out" ||
	die "intake_load reported errors"
INTAKE=$(get intake_msgs_per_s "$T/intake.out")
wait_for 300 "the intake's $N_INTAKE mails" mail_at_least "$N_INTAKE"
DRAIN_MS=$(( $(now_ms) - t0 ))

# ---- the HTTP part: GET /healthz, same concurrency, as many requests ----
echo "bench: GET /healthz, $N_INTAKE requests from $CONC clients ..." >&2
"$BUILD/bench/intake_load" -u "$PAGEGATE_URL" -c "$CONC" -n "$N_INTAKE" -g /healthz \
	>"$T/get.out" || die "GET /healthz load reported errors"
GETS=$(get get_msgs_per_s "$T/get.out")

# ---- email through the daemon vs smtp-source, into the same sink ----
EMAIL_RATE=; SOURCE_RATE=
if part email; then
	echo "bench: email, $K_EMAIL messages through pagegated ..." >&2
	base=$(mail_count)
	t0=$(now_ms)
	"$BUILD/bench/intake_load" -u "$PAGEGATE_URL" -c "$EMAIL_CONC" -n "$K_EMAIL" >"$T/email.out" ||
		die "intake_load (email phase) reported errors"
	wait_for 300 "$K_EMAIL mails from pagegated" mail_at_least $((base + K_EMAIL))
	EMAIL_RATE=$(rate "$K_EMAIL" $(( $(now_ms) - t0 )))
fi
# the daemon's mails: each delivery exactly once
read -r MAIL_DISTINCT MAIL_N < <(distinct_header "$T/mail" X-Pagegate-Delivery)
SENT_MAILS=$N_INTAKE; ! part email || SENT_MAILS=$((N_INTAKE + K_EMAIL))
[ "$MAIL_N" -eq "$SENT_MAILS" ] && [ "$MAIL_DISTINCT" -eq "$SENT_MAILS" ] ||
	die "the sink holds $MAIL_N mails from pagegated for $MAIL_DISTINCT deliveries, expected $SENT_MAILS"
if part email; then
	# same payload size as the daemon's mails, for a fair comparison
	SIZE=$(find "$T/mail" -maxdepth 1 -name 'msg.*' -printf '%s\n' |
		awk 'NR <= 100 { s += $1; n++ } END { print n ? int(s / n) : 1000 }')
	echo "bench: email, $K_EMAIL messages by smtp-source -s 5 ($SIZE bytes each) ..." >&2
	base=$(mail_count)
	t0=$(now_ms)
	/usr/sbin/smtp-source -s 5 -m "$K_EMAIL" -l "$SIZE" -f bench@source.example \
		-t office@bench.example "127.0.0.1:$SMTP_PORT" >"$T/source.log" 2>&1 ||
		die "smtp-source failed: $(tail -1 "$T/source.log")"
	wait_for 60 "$K_EMAIL mails from smtp-source" mail_at_least $((base + K_EMAIL))
	SOURCE_RATE=$(rate "$K_EMAIL" $(( $(now_ms) - t0 )))
	[ "$(mail_count)" -eq $((SENT_MAILS + K_EMAIL)) ] ||
		die "the sink holds $(mail_count) mails, expected $((SENT_MAILS + K_EMAIL))"
fi

# ---- MQTT QoS 1: pagegated vs mosquitto_pub, one subscriber counting ----
MQTT_RATE=; MQPUB_RATE=; MQTT_SENT_MS=
if part mqtt; then
	mosquitto_sub -h 127.0.0.1 -p "$MQTT_PORT" -q 1 -t 'bench/#' -F '%t|%x' \
		>"$T/sub.out" 2>"$T/sub.err" &
	SUB_PID=$!
	sub_lines() { wc -l <"$T/sub.out"; }
	sub_at_least() { [ "$(sub_lines)" -ge "$1" ]; }
	probe_seen() {
		mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -q 1 -t bench/probe -m x &&
			grep -q '^bench/probe|' "$T/sub.out"
	}
	wait_for 10 "mosquitto_sub subscribed" probe_seen
	mq_state() {   # count of the mq client's deliveries in state $1
		db "SELECT count(*) FROM deliveries d JOIN messages m ON m.id = d.message_id
		    WHERE m.client_id = 'mq' AND d.state = '$1'"
	}
	mq_sent_at_least() { [ "$(mq_state sent)" -ge "$1" ]; }
	# one page first: its payload is the ceiling's
	base=$(sub_lines)
	post "$HTTP_PORT" '{"client":"mq","urgency":"routine","caller":{"name":"Bench Caller 1","phone":"+15555550001"},"text":"Bench message 1: no heat in the building since this morning, please call back."}' >/dev/null
	wait_for 30 "the first page at the subscriber" sub_at_least $((base + 1))
	PAYLOAD=$(grep '^bench/mq/app|' "$T/sub.out" | head -1 | cut -d'|' -f2 |
		$PY -c 'import sys; sys.stdout.write(bytes.fromhex(sys.stdin.read().strip()).decode().replace("\n", " "))')
	[ -n "$PAYLOAD" ] || die "the first page's payload is empty"
	echo "bench: MQTT, $K_MQTT pages through pagegated (QoS 1, ${#PAYLOAD} bytes) ..." >&2
	base=$(sub_lines)
	t0=$(now_ms)
	"$BUILD/bench/intake_load" -u "$PAGEGATE_URL" -c "$EMAIL_CONC" -n "$K_MQTT" -C mq \
		>"$T/mqtt.out" || die "intake_load (MQTT phase) reported errors"
	wait_for 300 "$K_MQTT pages at the subscriber" sub_at_least $((base + K_MQTT))
	MQTT_RATE=$(rate "$K_MQTT" $(( $(now_ms) - t0 )))
	wait_for 60 "every page's PUBACK recorded" mq_sent_at_least $((K_MQTT + 1))
	MQTT_SENT_MS=$(( $(now_ms) - t0 ))
	echo "bench: MQTT, $K_MQTT pages by mosquitto_pub -q 1 -l ..." >&2
	for _ in $(seq "$K_MQTT"); do printf '%s\n' "$PAYLOAD"; done >"$T/payloads"
	base=$(sub_lines)
	t0=$(now_ms)
	mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -q 1 -t bench/mq/pub -l <"$T/payloads" ||
		die "mosquitto_pub failed"
	wait_for 60 "$K_MQTT pages from mosquitto_pub" sub_at_least $((base + K_MQTT))
	MQPUB_RATE=$(rate "$K_MQTT" $(( $(now_ms) - t0 )))
	kill "$SUB_PID"; wait "$SUB_PID" 2>/dev/null || true; SUB_PID=
	# every page once; every delivery sent, its attempt the broker's PUBACK
	read -r got distinct < <(grep '^bench/mq/app|' "$T/sub.out" | cut -d'|' -f2 |
		$PY -c 'import sys, json
ids = [json.loads(bytes.fromhex(l.strip()))["delivery"] for l in sys.stdin]
print(len(ids), len(set(ids)))')
	[ "$got" -eq $((K_MQTT + 1)) ] && [ "$distinct" -eq $((K_MQTT + 1)) ] ||
		die "the subscriber got $got pages from pagegated for $distinct deliveries, expected $((K_MQTT + 1))"
	[ "$(grep -c '^bench/mq/pub|' "$T/sub.out")" -eq "$K_MQTT" ] ||
		die "the subscriber got $(grep -c '^bench/mq/pub|' "$T/sub.out") pages from mosquitto_pub, expected $K_MQTT"
	pubacks=$(db "SELECT count(DISTINCT d.id) FROM deliveries d JOIN messages m ON m.id = d.message_id
		JOIN attempts a ON a.delivery_id = d.id WHERE m.client_id = 'mq' AND d.state = 'sent'
		AND a.outcome = 'ok' AND a.reply LIKE 'PUBACK from %'")
	[ "$pubacks" -eq $((K_MQTT + 1)) ] ||
		die "$pubacks of $((K_MQTT + 1)) MQTT deliveries are sent with a PUBACK recorded"
fi

# ---- SMS: pagegated vs sendsms requests straight to the same Kannel ----
SMS_RATE=; KANNEL_RATE=
if part sms; then
	got_lines() { grep -c 'Got message' "$K_DIR/fakesmsc.out" || true; }
	got_at_least() { [ "$(got_lines)" -ge "$1" ]; }
	sms_sent() {
		db "SELECT count(*) FROM deliveries d JOIN messages m ON m.id = d.message_id
		    WHERE m.client_id = 'sms' AND d.state = 'sent'"
	}
	sms_sent_at_least() { [ "$(sms_sent)" -ge "$1" ]; }
	# one message first: its text is the ceiling's, its segments the unit
	base=$(got_lines)
	post "$HTTP_PORT" '{"client":"sms","urgency":"routine","caller":{"name":"Bench Caller 1","phone":"+15555550001"},"text":"Bench message P: no heat in the building since this morning, please call back."}' >/dev/null
	wait_for 30 "the first SMS sent" sms_sent_at_least 1
	wait_for 30 "the first SMS at the fake SMSC" got_at_least $((base + 1))
	first_whole() { [ "$(received gsm | tail -1 | jq -r .complete)" = true ]; }
	wait_for 10 "every segment of the first SMS at the fake SMSC" first_whole
	SEGS=$(received gsm | tail -1 | jq -r .segments)
	[ "$SEGS" -ge 1 ] || die "the fake SMSC got nothing for the first SMS"
	SMS_TEXT=$(received gsm | tail -1 | jq -r .text)
	[ -n "$SMS_TEXT" ] || die "the first SMS's text is empty"
	echo "bench: SMS, $K_SMS messages through pagegated ($SEGS segment(s) each) ..." >&2
	base=$(got_lines)
	t0=$(now_ms)
	"$BUILD/bench/intake_load" -u "$PAGEGATE_URL" -c "$EMAIL_CONC" -n "$K_SMS" -C sms \
		>"$T/sms.out" || die "intake_load (SMS phase) reported errors"
	wait_for 300 "$K_SMS SMS at the fake SMSC" got_at_least $((base + K_SMS * SEGS))
	SMS_RATE=$(rate "$K_SMS" $(( $(now_ms) - t0 )))
	wait_for 60 "every SMS delivery sent" sms_sent_at_least $((K_SMS + 1))
	[ "$(got_lines)" -eq $((base + K_SMS * SEGS)) ] ||
		die "the fake SMSC got $(( $(got_lines) - base )) segments, expected $((K_SMS * SEGS))"
	# each message's text starts with its own number (intake_load's, or P
	# for the first): count them in the first segments
	read -r n distinct < <(kannel_got | grep -oE ' Bench\+message\+[0-9P]+%3A' |
		awk '{ n++; if (!seen[$0]++) d++ } END { print n + 0, d + 0 }')
	[ "$n" -eq $((K_SMS + 1)) ] && [ "$distinct" -eq $((K_SMS + 1)) ] ||
		die "the fake SMSC holds $n SMS for $distinct distinct messages, expected $((K_SMS + 1))"
	echo "bench: SMS, $K_SMS sendsms requests by curl, $WORKERS in flight ..." >&2
	q="username=$K_USER&password=$K_PASS&from=5550000&to=%2B15555550111&coding=0&text=$(jq -rn --arg t "$SMS_TEXT" '$t|@uri')"
	for _ in $(seq "$K_SMS"); do printf 'url = "%s?%s"\noutput = "/dev/null"\n' "$K_SENDSMS_URL" "$q"; done \
		>"$T/sendsms.cfg"
	base=$(got_lines)
	t0=$(now_ms)
	curl -s --no-progress-meter --parallel --parallel-max "$WORKERS" -K "$T/sendsms.cfg" \
		-w '%{http_code}\n' >"$T/sendsms.codes" 2>"$T/sendsms.err" ||
		die "curl (sendsms) failed: $(tail -1 "$T/sendsms.err")"
	wait_for 120 "$K_SMS SMS from curl" got_at_least $((base + K_SMS * SEGS))
	KANNEL_RATE=$(rate "$K_SMS" $(( $(now_ms) - t0 )))
	[ "$(grep -c '^202$' "$T/sendsms.codes")" -eq "$K_SMS" ] ||
		die "Kannel answered $(sort "$T/sendsms.codes" | uniq -c | tr '\n' ' ') to the ceiling's requests"
fi

# ---- checks: nothing failed, nothing lost, nothing doubled ----
curl -sf -o "$T/metrics" "$PAGEGATE_URL/metrics" || die "GET /metrics failed"
RSS_MAIN=$(vm_kb VmHWM "$DPID")
for ch in email mqtt sms; do
	f=$(metric "pagegate_deliveries_final_total{channel=\"$ch\",result=\"failed\"}")
	[ "${f:-0}" -eq 0 ] || die "$f $ch deliveries failed"
done
SENT=$(metric 'pagegate_deliveries_final_total{channel="email",result="sent"}')
TEMP=$(metric 'pagegate_attempts_total{channel="email",outcome="temp"}')
[ "${SENT:-0}" -eq "$SENT_MAILS" ] ||
	die "metrics count ${SENT:-none} sent email deliveries, expected $SENT_MAILS"
stop_daemon "$DPID" pagegated; STOP_MAIN_MS=$STOPPED_MS
DPID=; WPID=
kannel_stop || true             # SIGKILL: its wait's status is not 0
mosquitto_stop || true

# ---- the storm: a relay that answers each DATA after 1 s ----
E_EMPTY=; E_STORM=; E_RECORDED=; HWM_IDLE=; HWM_FULL=; SEED_RATE=; STOP_MS=
SQLITE_READ_MS=; READY_MS=; PENDING=; HWM_RESTART=
if part storm; then
	S=$T/storm
	SLOW_PORT=$(free_port); STORM_PORT=$(free_port)
	mkdir -p "$S/etc/clients" "$S/var"; mkdir -m 777 "$S/mail"
	/usr/sbin/smtp-sink -u nobody -w 1 -d "$S/mail/msg." "127.0.0.1:$SLOW_PORT" 1000 \
		>"$S/sink.log" 2>&1 &
	SLOW_PID=$!
	wait_for 10 "the slow smtp-sink" port_open "$SLOW_PORT"
	cat >"$S/etc/pagegate.conf" <<CONF
listen = "127.0.0.1";
port = $STORM_PORT;
public_url = "http://127.0.0.1:$STORM_PORT";
store = { dsn = "sqlite:$S/var/pagegate.db"; max_mb = 0; };
templates = "$ROOT/templates";
clients = "clients";
workers = $WORKERS;
max_per_address = 512;
operators = ( { name = "bench"; token_sha256 = "$TOKEN_SHA"; } );
smtp = ( { name = "slow"; host = "127.0.0.1"; port = $SLOW_PORT; starttls = "off";
           from = "pagegate@bench.example"; timeout = 30; batch = 20; } );
retry = { email = { base = "1s"; cap = "5s"; give_up = "1h"; }; };
CONF
	client_conf storm office '{ channel = "email"; to = "office@storm.example"; }' \
		>"$S/etc/clients/storm.conf"
	"$BUILD/pagegate" check "$S/etc" >/dev/null || die "the storm configuration is rejected"
	start_storm() {
		"$BUILD/pagegated" -c "$S/etc/pagegate.conf" >>"$S/daemon.log" 2>&1 &
		SPID=$!; WPID=$SPID
	}
	in_sink() { grep -rqlx "X-Pagegate-Message: $1" "$S/mail"; }
	recorded_sent() {
		[ "$(sqlite3 -cmd '.timeout 5000' "$S/var/pagegate.db" \
			"SELECT count(*) FROM deliveries WHERE message_id = $1 AND state = 'sent'")" -ge 1 ]
	}
	EMERGENCY='{"client":"storm","urgency":"emergency","caller":{"name":"Storm Caller","phone":"+15555550999"},"text":"Gas smell in the boiler room, tenants evacuating."}'
	# emergency: submits one; E_ID, E_T0 and E_MS: ms from its submission
	# to the sink holding it
	emergency() {
		E_T0=$(now_ms)
		E_ID=$(post "$STORM_PORT" "$EMERGENCY")
		wait_for 120 "the emergency $E_ID at the sink" in_sink "$E_ID"
		E_MS=$(( $(now_ms) - E_T0 ))
	}
	start_storm
	wait_for 30 "the storm daemon's /healthz" healthy "$STORM_PORT"
	HWM_IDLE=$(vm_kb VmHWM "$SPID")
	echo "bench: storm, an emergency on an empty queue ..." >&2
	emergency; E_EMPTY=$E_MS
	echo "bench: storm, $BACKLOG routine messages queued from $CONC clients ..." >&2
	"$BUILD/bench/intake_load" -u "http://127.0.0.1:$STORM_PORT" -c "$CONC" -n "$BACKLOG" \
		-C storm >"$S/seed.out" || die "intake_load (backlog) reported errors"
	SEED_RATE=$(get intake_msgs_per_s "$S/seed.out")
	SEED_P99=$(get intake_p99_ms "$S/seed.out")
	HWM_FULL=$(vm_kb VmHWM "$SPID")
	echo "bench: storm, an emergency behind the backlog ..." >&2
	emergency; E_STORM=$E_MS
	wait_for 120 "the emergency recorded sent" recorded_sent "$E_ID"
	E_RECORDED=$(( $(now_ms) - E_T0 ))
	HWM_FULL=$(( $(vm_kb VmHWM "$SPID") > HWM_FULL ? $(vm_kb VmHWM "$SPID") : HWM_FULL ))
	echo "bench: storm, SIGTERM with the backlog (open sessions finish) ..." >&2
	stop_daemon "$SPID" "the storm daemon"; STOP_MS=$STOPPED_MS; SPID=; WPID=
	PEND_SQL="SELECT * FROM deliveries WHERE state IN ('queued','held','sending')"
	PENDING=$(sqlite3 "$S/var/pagegate.db" "SELECT count(*) FROM ($PEND_SQL)")
	echo "bench: storm, $PENDING pending: sqlite3 reads them, pagegated restarts ..." >&2
	t0=$(now_ms)
	sqlite3 "$S/var/pagegate.db" "$PEND_SQL" >/dev/null || die "sqlite3 could not read the backlog"
	SQLITE_READ_MS=$(( $(now_ms) - t0 ))
	t0=$(now_ms)
	start_storm
	wait_for 60 "the restarted daemon's /healthz" healthy "$STORM_PORT"
	READY_MS=$(( $(now_ms) - t0 ))
	HWM_RESTART=$(vm_kb VmHWM "$SPID")
	stop_daemon "$SPID" "the restarted storm daemon"; STOP2_MS=$STOPPED_MS; SPID=; WPID=
	kill "$SLOW_PID"; wait "$SLOW_PID" 2>/dev/null || true; SLOW_PID=
	# nothing lost (sent or still pending), nothing doubled, nothing failed
	read -r s_sent s_pend s_other < <(sqlite3 "$S/var/pagegate.db" "SELECT
		sum(state = 'sent'), sum(state IN ('queued','held','sending')),
		sum(state NOT IN ('sent','queued','held','sending')) FROM deliveries" | tr '|' ' ')
	[ "$s_other" -eq 0 ] || die "$s_other storm deliveries ended neither sent nor pending"
	[ $((s_sent + s_pend)) -eq $((BACKLOG + 2)) ] ||
		die "the storm store holds $((s_sent + s_pend)) deliveries, expected $((BACKLOG + 2))"
	read -r d n < <(distinct_header "$S/mail" X-Pagegate-Delivery)
	[ "$d" -eq "$n" ] || die "the slow sink got $n mails for $d deliveries (duplicates)"
	[ "$n" -eq "$s_sent" ] || die "the slow sink got $n mails, the store records $s_sent sent"
	STORM_SENT=$s_sent
fi

# ---- the fax channel (issue 3) and the PostgreSQL store (issue 16) ----
# (a failure there still prints the table above it, then fails the bench)
FAILED=
if part fax; then
	echo "bench: fax render/encode and a simulated T.30 call ..." >&2
	"$BUILD/bench/fax_bench" 2 >"$T/fax.out" || FAILED+=" fax"
fi
if part pg; then
	BUILD=$BUILD BENCH_PG_OUT="$T/pg.out" "$ROOT/tests/bench/bench_pg.sh" || FAILED+=" PostgreSQL"
fi

# ---- the table ----
# meets VALUE OP GOAL: "yes" / "no" / "-" (nothing to compare)
meets() {
	awk -v v="$1" -v op="$2" -v g="$3" 'BEGIN {
		if (v == "" || v == "n/a") { print "-"; exit }
		if (op == ">=") print (v + 0 >= g + 0 ? "yes" : "no"); else print (v + 0 <= g + 0 ? "yes" : "no") }'
}
row() { printf '%-44s %12s %12s %8s %10s %5s\n' "$@"; }
na() { [ -n "$1" ] && echo "$1" || echo "-"; }
kib_per() {  # KB_FULL KB_IDLE N: KiB per item
	awk -v a="$1" -v b="$2" -v n="$3" 'BEGIN { if (a != "" && b != "" && n > 0) printf "%.3f", (a - b) / n; }'
}
echo
echo "pagegate storm bench, $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) CPUs," \
	"store on $(df -P "$T" | awk 'NR==2 { print $1 }')"
row "row" "pagegate" "ceiling" "ratio" "goal" "met"
r=$(ratio "$INTAKE" "$SQ_MSG64")
row "intake, $CONC clients, msgs/s" "$INTAKE" "$SQ_MSG64" "$r" ">= 0.5x" "$(meets "$r" '>=' 0.5)"
p99=$(get intake_p99_ms "$T/intake.out")
row "  intake latency p99, ms (p50 $(get intake_p50_ms "$T/intake.out"))" "$p99" "" "" "<= 10 ms" "$(meets "$p99" '<=' 10)"
row "  (raw rows, 1 message per commit, msgs/s)" "" "$SQ_MSG1" "$(ratio "$INTAKE" "$SQ_MSG1")" "" ""
row "intake, HTTP part: GET /healthz, req/s" "$INTAKE" "$GETS" "$(ratio "$INTAKE" "$GETS")" "report" ""
row "  GET /healthz latency p50 / p99, ms" "$(get get_p50_ms "$T/get.out") / $(get get_p99_ms "$T/get.out")" "" "" "" ""
row "  intake + email of the first $N_INTAKE, msgs/s" "$(rate "$N_INTAKE" "$DRAIN_MS")" "" "" "" ""
if part email; then
	r=$(ratio "$EMAIL_RATE" "$SOURCE_RATE")
	row "email into smtp-sink, msgs/s (smtp-source)" "$EMAIL_RATE" "$SOURCE_RATE" "$r" ">= 0.8x" "$(meets "$r" '>=' 0.8)"
fi
if part mqtt; then
	r=$(ratio "$MQTT_RATE" "$MQPUB_RATE")
	row "MQTT QoS 1, pages/s (mosquitto_pub -q 1 -l)" "$MQTT_RATE" "$MQPUB_RATE" "$r" ">= 0.5x" "$(meets "$r" '>=' 0.5)"
	row "  every PUBACK recorded (all sent), after s" "$(awk -v m="$MQTT_SENT_MS" 'BEGIN { printf "%.2f", m / 1000 }')" "" "" "all" "yes"
	# the pages' submission alone: the rate above cannot pass it
	row "  submitted by $EMAIL_CONC clients meanwhile, msgs/s" "$(get intake_msgs_per_s "$T/mqtt.out")" "" "" "" ""
fi
if part sms; then
	r=$(ratio "$SMS_RATE" "$KANNEL_RATE")
	row "SMS via Kannel, msgs/s (sendsms by curl)" "$SMS_RATE" "$KANNEL_RATE" "$r" ">= 0.8x" "$(meets "$r" '>=' 0.8)"
fi
if part storm; then
	r=$(ratio "$E_STORM" "$E_EMPTY")
	row "emergency first page, ms ($BACKLOG queued)" "$E_STORM" "$E_EMPTY" "$r" "<= 1.5x" "$(meets "$r" '<=' 1.5)"
	row "  emergency recorded sent, ms after submit" "$E_RECORDED" "" "" "" ""
	per=$(kib_per "$HWM_FULL" "$HWM_IDLE" "$BACKLOG")
	row "memory, KiB per queued delivery" "$per" "" "" "<= 1 KiB" "$(meets "$per" '<=' 1)"
	row "  VmHWM idle / with $BACKLOG queued, MiB" "$((HWM_IDLE / 1024)) / $((HWM_FULL / 1024))" "" "" "" ""
	r=$(ratio "$READY_MS" "$SQLITE_READ_MS")
	row "restart, $PENDING pending, ms (sqlite3 read)" "$READY_MS" "$SQLITE_READ_MS" "$r" "<= 3x" "$(meets "$r" '<=' 3)"
	row "  VmHWM after the restart, MiB" "$((HWM_RESTART / 1024))" "" "" "" ""
	row "  backlog intake, msgs/s / p99 ms" "$SEED_RATE / $SEED_P99" "" "" "" ""
	row "  SIGTERM with the backlog, ms (then after restart)" "$STOP_MS / $STOP2_MS" "" "" "report" ""
fi
row "SIGTERM of the main daemon, ms" "$STOP_MAIN_MS" "" "" "" ""
row "main daemon peak RSS (VmHWM), MiB" "$((RSS_MAIN / 1024))" "" "" "" ""
if part fax; then
	# "fax render+encode mh :   361.1 pages/s per core; libtiff ... 708.5 pages/s (ratio 0.51)"
	while read -r name a b; do
		row "fax render+encode $name, pages/s (libtiff)" "$a" "$b" "$(ratio "$a" "$b")" "" ""
	done < <(sed -n 's/^fax render+encode \([a-z]*\) *: *\([0-9.]*\) pages.* alone *\([0-9.]*\) pages.*/\1 \2 \3/p' "$T/fax.out")
	x=$(sed -n 's/^fax T.30 3-page call, G.711.*: \([0-9.]*\)x faster.*/\1/p' "$T/fax.out")
	row "fax T.30 3-page call, x faster than real time" "$x" "" "" "" ""
fi
if part pg; then
	row "PostgreSQL intake, $CONC clients, msgs/s (pgbench)" "$(get pg_intake "$T/pg.out")" \
		"$(get pg_ceiling "$T/pg.out")" "$(ratio "$(get pg_intake "$T/pg.out")" "$(get pg_ceiling "$T/pg.out")")" "" ""
	row "  vs pagegated on SQLite, msgs/s" "" "$(get pg_sqlite_intake "$T/pg.out")" \
		"$(ratio "$(get pg_intake "$T/pg.out")" "$(get pg_sqlite_intake "$T/pg.out")")" "" ""
	row "  PostgreSQL intake p50 / p99, ms" "$(get pg_p50 "$T/pg.out") / $(get pg_p99 "$T/pg.out")" "" "" "" ""
	row "delivery, 3 nodes, msgs/s (1 node; ideal 3x)" "$(get pg_nodes3 "$T/pg.out")" \
		"$(get pg_nodes1 "$T/pg.out")" "$(ratio "$(get pg_nodes3 "$T/pg.out")" "$(get pg_nodes1 "$T/pg.out")")" "" ""
fi
NOTE="$N_INTAKE intake"; ! part email || NOTE+=" + $K_EMAIL email"
! part mqtt || NOTE+=" + $((K_MQTT + 1)) MQTT"; ! part sms || NOTE+=" + $((K_SMS + 1)) SMS"
echo "($NOTE messages through pagegated, ${TEMP:-0} temporary SMTP failures, 0 failed;" \
	"every mail, page and SMS received exactly once$(! part storm ||
	echo "; storm: $STORM_SENT of $((BACKLOG + 2)) sent, the rest pending, 0 lost or doubled"))"
[ -z "$FAILED" ] || die "failed:$FAILED (see above)"
