#!/usr/bin/env bash
# tests/bench/bench.sh - `make bench`: pagegate's throughput as ratios to
# ceilings measured in the same run, on the same machine and file system.
#
#   1. raw SQLite durable inserts (WAL, synchronous = FULL, the store's
#      messages table) in the bench's temporary directory: one row per
#      transaction, and 64 rows per transaction        (sqlite_ceiling)
#   2. intake: 64 concurrent HTTP clients POST /v1/messages to pagegated,
#      which stores each message durably before answering 201 (intake_load)
#   3. email: K more messages through the daemon into Postfix smtp-sink,
#      timed until the sink holds K more files, against Postfix
#      `smtp-source -s 5 -m K` into the same sink
# and the daemon's peak RSS (VmHWM).  A bench is not a test: slowness does
# not fail it, but any error does (non-201 answers, a failed delivery, a
# missing or duplicate mail, a bounded wait that runs out).
#
# Every process it starts is its child, stopped by PID and waited for.
# Environment: BUILD (default build), BENCH_INTAKE (messages, 10000),
# BENCH_CONCURRENCY (64), BENCH_EMAIL (K, 2000), BENCH_SQLITE_SECONDS (3).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
PY=/usr/bin/python3
N_INTAKE=${BENCH_INTAKE:-10000}
CONC=${BENCH_CONCURRENCY:-64}
K_EMAIL=${BENCH_EMAIL:-2000}
SQLITE_SECONDS=${BENCH_SQLITE_SECONDS:-3}
EMAIL_CONC=16          # HTTP clients submitting the email phase's messages

for f in "$BUILD/pagegated" "$BUILD/pagegate" "$BUILD/bench/intake_load" \
	 "$BUILD/bench/sqlite_ceiling" /usr/sbin/smtp-sink /usr/sbin/smtp-source "$PY"; do
	[ -x "$f" ] || { echo "bench: $f is missing (make all tools; make deps)" >&2; exit 1; }
done

T=$(mktemp -d /tmp/pagegate-bench.XXXXXX)
chmod 755 "$T"                      # smtp-sink writes as nobody
SINK_PID=; DPID=
cleanup() {
	local rc=$?
	for pid in $DPID $SINK_PID; do kill "$pid" 2>/dev/null || true; done
	for pid in $DPID $SINK_PID; do wait "$pid" 2>/dev/null || true; done
	if [ "$rc" -ne 0 ] && [ -f "$T/daemon.log" ]; then
		echo "bench: daemon log (tail):" >&2
		tail -20 "$T/daemon.log" >&2
	fi
	rm -rf "$T"
	exit "$rc"
}
trap cleanup EXIT

die() { echo "bench: $*" >&2; exit 1; }
now_ms() { local t=${EPOCHREALTIME/./}; echo $((10#$t / 1000)); }
free_port() { $PY -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
. "$ROOT/tests/peers/wait.sh"
# True when COMMAND succeeds or the daemon (if any) has died: ends the wait.
done_or_dead() { "$@" || { [ -n "$DPID" ] && ! kill -0 "$DPID" 2>/dev/null; }; }
# wait_for SECONDS WHAT COMMAND... : polls COMMAND every 10 ms (the runs are
# timed by it) until it succeeds; fails naming WHAT when the deadline
# passes or the daemon died.
wait_for() {
	local secs=$1 what=$2; shift 2
	WAIT_POLL=0.01 wait_until "$secs" done_or_dead "$@" || die "timed out waiting for $what"
	[ -z "$DPID" ] || kill -0 "$DPID" 2>/dev/null || die "pagegated exited while waiting for $what"
}
mail_count() { find "$T/mail" -maxdepth 1 -name 'msg.*' | wc -l; }
mail_at_least() { [ "$(mail_count)" -ge "$1" ]; }
# ratio A B: A/B with enough digits for small ratios
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3g", a / b; else print "n/a" }'; }
get() { awk -v k="$1" '$1 == k { print $2 }' "$2"; }
metric() { awk -v k="$1" '$1 == k { print $2 }' "$T/metrics"; }

# ---- peers and configuration ----
HTTP_PORT=$(free_port); SMTP_PORT=$(free_port)
while [ "$SMTP_PORT" = "$HTTP_PORT" ]; do SMTP_PORT=$(free_port); done
mkdir -m 777 "$T/mail"
mkdir -p "$T/etc/clients" "$T/var"
/usr/sbin/smtp-sink -u nobody -d "$T/mail/msg." "127.0.0.1:$SMTP_PORT" 1000 >"$T/sink.log" 2>&1 &
SINK_PID=$!
wait_for 10 "smtp-sink on port $SMTP_PORT" port_open "$SMTP_PORT"

TOKEN=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')
TOKEN_SHA=$(printf '%s\n' "$TOKEN" | "$BUILD/pagegate" hash-token -)
cat >"$T/etc/pagegate.conf" <<CONF
listen = "127.0.0.1";
port = $HTTP_PORT;
public_url = "http://127.0.0.1:$HTTP_PORT";
store = { dsn = "sqlite:$T/var/pagegate.db"; max_mb = 0; };
templates = "$ROOT/templates";
clients = "clients";
max_body = 65536;
workers = 4;
max_per_address = 512;   # every client is 127.0.0.1
operators = ( { name = "bench"; token_sha256 = "$TOKEN_SHA"; } );
smtp = ( { name = "sink"; host = "127.0.0.1"; port = $SMTP_PORT; starttls = "off";
           from = "pagegate@bench.example"; from_name = "Answering Service";
           timeout = 30; batch = 20; } );
retry = { email = { base = "1s"; cap = "5s"; give_up = "1h"; }; };
CONF
cat >"$T/etc/clients/bench.conf" <<'CONF'
id = "bench";
name = "Bench Heating & Cooling";
dnis = [ "8005550000" ];
timezone = "UTC";
business_hours = ( { days = "Sun-Sat"; from = "00:00"; to = "24:00"; } );
contacts = ( { id = "office"; name = "Front office";
               devices = ( { channel = "email"; to = "office@bench.example"; } ); } );
rules = ( { notify = "contact:office"; channels = [ "email" ]; } );
CONF
"$BUILD/pagegate" check "$T/etc" >/dev/null || die "generated configuration rejected"

# ---- 1. SQLite ceilings, in the directory of the daemon's database ----
echo "bench: SQLite ceilings in $T/var (${SQLITE_SECONDS}s per mode) ..." >&2
"$BUILD/bench/sqlite_ceiling" -d "$T/var" -t "$SQLITE_SECONDS" -b 64 >"$T/sqlite.out" ||
	die "sqlite_ceiling failed"
SQ_SINGLE=$(get sqlite_single_rows_per_s "$T/sqlite.out")
SQ_BATCH=$(get sqlite_batch_rows_per_s "$T/sqlite.out")
[ -n "$SQ_SINGLE" ] && [ -n "$SQ_BATCH" ] || die "sqlite_ceiling printed no figures"

# ---- the daemon ----
"$BUILD/pagegated" -c "$T/etc/pagegate.conf" >"$T/daemon.log" 2>&1 &
DPID=$!
wait_for 30 "pagegated /healthz" curl -sf -o /dev/null "http://127.0.0.1:$HTTP_PORT/healthz"
export PAGEGATE_TOKEN=$TOKEN PAGEGATE_URL="http://127.0.0.1:$HTTP_PORT"

# ---- 2. intake with 64 concurrent clients (emails flow meanwhile) ----
echo "bench: intake, $N_INTAKE messages from $CONC clients ..." >&2
t0=$(now_ms)
"$BUILD/bench/intake_load" -u "$PAGEGATE_URL" -c "$CONC" -n "$N_INTAKE" >"$T/intake.out" ||
	die "intake_load reported errors"
INTAKE=$(get intake_msgs_per_s "$T/intake.out")
wait_for 120 "the intake's $N_INTAKE mails" mail_at_least "$N_INTAKE"
DRAIN_MS=$(( $(now_ms) - t0 ))

# ---- 3. email through the daemon vs smtp-source, into the same sink ----
echo "bench: email, $K_EMAIL messages through pagegated ..." >&2
base=$(mail_count)
t0=$(now_ms)
"$BUILD/bench/intake_load" -u "$PAGEGATE_URL" -c "$EMAIL_CONC" -n "$K_EMAIL" >"$T/email.out" ||
	die "intake_load (email phase) reported errors"
wait_for 120 "$K_EMAIL mails from pagegated" mail_at_least $((base + K_EMAIL))
EMAIL_MS=$(( $(now_ms) - t0 ))

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
SOURCE_MS=$(( $(now_ms) - t0 ))

# ---- checks: nothing failed, nothing lost, nothing doubled ----
curl -sf -o "$T/metrics" "$PAGEGATE_URL/metrics" || die "GET /metrics failed"
RSS=$(awk '$1 == "VmHWM:" { print $2 " " $3 }' "/proc/$DPID/status")
TOTAL=$((N_INTAKE + 2 * K_EMAIL))
[ "$(mail_count)" -eq "$TOTAL" ] || die "the sink holds $(mail_count) mails, expected $TOTAL"
SENT=$(metric 'pagegate_deliveries_final_total{channel="email",result="sent"}')
FAILED=$(metric 'pagegate_deliveries_final_total{channel="email",result="failed"}')
TEMP=$(metric 'pagegate_attempts_total{channel="email",outcome="temp"}')
[ "${FAILED:-0}" -eq 0 ] || die "$FAILED email deliveries failed"
[ "${SENT:-0}" -eq $((N_INTAKE + K_EMAIL)) ] ||
	die "metrics count ${SENT:-none} sent deliveries, expected $((N_INTAKE + K_EMAIL))"

kill -TERM "$DPID"
wait "$DPID" || die "pagegated exited with status $? on SIGTERM"
DPID=

# ---- report ----
EMAIL_RATE=$(awk -v k="$K_EMAIL" -v ms="$EMAIL_MS" 'BEGIN { printf "%.1f", k * 1000 / ms }')
SOURCE_RATE=$(awk -v k="$K_EMAIL" -v ms="$SOURCE_MS" 'BEGIN { printf "%.1f", k * 1000 / ms }')
DRAIN_RATE=$(awk -v k="$N_INTAKE" -v ms="$DRAIN_MS" 'BEGIN { printf "%.1f", k * 1000 / ms }')
row() { printf '  %-46s %12s %12s %10s\n' "$@"; }
echo
echo "pagegate bench, $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) CPUs, store on $(df -P "$T" | awk 'NR==2 { print $1 }')"
row "" "measured" "ceiling" "ratio"
row "intake, $CONC clients, msgs/s" "$INTAKE" "" ""
row "  vs SQLite 1 insert/commit, rows/s" "" "$SQ_SINGLE" "$(ratio "$INTAKE" "$SQ_SINGLE")"
row "  vs SQLite 64 inserts/commit, rows/s" "" "$SQ_BATCH" "$(ratio "$INTAKE" "$SQ_BATCH")"
row "  intake latency p50 / p99, ms" "$(get intake_p50_ms "$T/intake.out") / $(get intake_p99_ms "$T/intake.out")" "" ""
row "email via pagegated into smtp-sink, msgs/s" "$EMAIL_RATE" "" ""
row "  vs smtp-source -s 5 into the same sink" "" "$SOURCE_RATE" "$(ratio "$EMAIL_RATE" "$SOURCE_RATE")"
row "  intake + email of the first $N_INTAKE, msgs/s" "$DRAIN_RATE" "" ""
row "daemon peak RSS (VmHWM)" "$RSS" "" ""
echo "  ($N_INTAKE + $K_EMAIL messages through pagegated, $K_EMAIL by smtp-source;" \
	"$TOTAL mails received, ${TEMP:-0} temporary SMTP failures, 0 failed)"

# The fax channel: render + encode against libtiff alone, and the CPU of a
# simulated 3-page T.30 call against its real-time duration (issue 3).
echo
echo "bench: fax render/encode and a simulated T.30 call ..." >&2
"$BUILD/bench/fax_bench" 2 || die "fax bench failed"

# The PostgreSQL store: intake against pgbench's ceiling and SQLite (issue 16).
echo
BUILD=$BUILD "$ROOT/tests/bench/bench_pg.sh" || die "PostgreSQL bench failed"
