#!/usr/bin/env bash
# tests/bench/bench_pg.sh - the PostgreSQL store's intake, in `make bench`
# (after bench.sh): a throwaway PostgreSQL 15 (tests/peers/postgres.sh) in
# the bench's temporary directory, then in the same run
#   1. intake: 64 concurrent HTTP clients POST /v1/messages to pagegated on
#      the PostgreSQL store (group commit, pipelined statements,
#      synchronous_commit = on), deliveries flowing to smtp-sink meanwhile
#   2. the same against pagegated on SQLite, same machine, same directory
#   3. the ceiling: pgbench with as many clients, each transaction the rows
#      one submission writes (a message, its delivery, two events), as
#      prepared statements, durable
#   4. delivery by 1 node, then by 3 nodes on one store (node = "..."),
#      into an smtp-sink that answers each DATA after 1 s, one message
#      per SMTP session (batch = 1: a worker's send is one DATA wait)
# and prints intake/ceiling, PostgreSQL/SQLite and 3 nodes/1 node as
# ratios.  A bench, not
# a test: slowness fails nothing, errors do.  Every process is its child,
# stopped by PID.  Environment: BUILD, BENCH_INTAKE (10000),
# BENCH_CONCURRENCY (64), BENCH_PG_SECONDS (5, the pgbench run),
# BENCH_PG_OUT (a file: the figures go there as "key value" lines for
# bench.sh's table, instead of this script's own table).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
PY=/usr/bin/python3
N_INTAKE=${BENCH_INTAKE:-10000}
CONC=${BENCH_CONCURRENCY:-64}
PG_SECONDS=${BENCH_PG_SECONDS:-5}
. "$ROOT/tests/peers/wait.sh"
. "$ROOT/tests/peers/postgres.sh"
for f in "$BUILD/pagegated" "$BUILD/pagegate" "$BUILD/bench/intake_load" \
	 "$PG_BIN/postgres" "$PG_BIN/pgbench" /usr/sbin/smtp-sink; do
	[ -x "$f" ] || { echo "bench_pg: $f is missing (make all tools; make deps)" >&2; exit 1; }
done

T=$(mktemp -d /tmp/pagegate-bench-pg.XXXXXX)
chmod 755 "$T"
SINK_PID=; DPID=; SINK2_PID=; NODE_PIDS=()
cleanup() {
	local rc=$?
	for pid in $DPID $SINK_PID $SINK2_PID "${NODE_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
	for pid in $DPID $SINK_PID $SINK2_PID "${NODE_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
	postgres_stop
	if [ "$rc" -ne 0 ] && [ -f "$T/daemon.log" ]; then
		echo "bench_pg: daemon log (tail):" >&2; tail -20 "$T/daemon.log" >&2
	fi
	rm -rf "$T"
	exit "$rc"
}
trap cleanup EXIT
die() { echo "bench_pg: $*" >&2; exit 1; }
free_port() { $PY -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
healthy() { curl -sf -o /dev/null "http://127.0.0.1:$HTTP_PORT/healthz"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3g", a / b; else print "n/a" }'; }
get() { awk -v k="$1" '$1 == k { print $2 }' "$2"; }

postgres_start "$T" || die "postgres did not start"
HTTP_PORT=$(free_port); SMTP_PORT=$(free_port)
mkdir -m 777 "$T/mail"
mkdir -p "$T/etc/clients" "$T/var"
/usr/sbin/smtp-sink -u nobody -d "$T/mail/msg." "127.0.0.1:$SMTP_PORT" 1000 >"$T/sink.log" 2>&1 &
SINK_PID=$!
wait_until 10 port_open "$SMTP_PORT" || die "smtp-sink did not start"
TOKEN=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')
TOKEN_SHA=$(printf '%s\n' "$TOKEN" | "$BUILD/pagegate" hash-token -)
cat >"$T/etc/clients/bench.conf" <<'CONF'
id = "bench";
name = "Bench Heating & Cooling";
timezone = "UTC";
contacts = ( { id = "office"; name = "Front office";
               devices = ( { channel = "email"; to = "office@bench.example"; } ); } );
rules = ( { notify = "contact:office"; channels = [ "email" ]; } );
CONF

# intake DSN: msgs/s of N_INTAKE submissions by CONC clients, in RATE.
# Not run in a command substitution: the daemon it starts must be this
# shell's child, so that cleanup stops it when the intake fails.
intake() {
	cat >"$T/etc/pagegate.conf" <<CONF
listen = "127.0.0.1";
port = $HTTP_PORT;
store = { dsn = "$1"; };
templates = "$ROOT/templates";
clients = "clients";
workers = 4;
max_per_address = 512;   # every client is 127.0.0.1 (the default 32 < 64 clients)
operators = ( { name = "bench"; token_sha256 = "$TOKEN_SHA"; } );
smtp = ( { name = "sink"; host = "127.0.0.1"; port = $SMTP_PORT; starttls = "off";
           from = "pagegate@bench.example"; timeout = 30; batch = 20; } );
CONF
	"$BUILD/pagegated" -c "$T/etc/pagegate.conf" >>"$T/daemon.log" 2>&1 &
	DPID=$!
	wait_until 30 healthy || die "pagegated did not start on $1"
	PAGEGATE_TOKEN=$TOKEN "$BUILD/bench/intake_load" -u "http://127.0.0.1:$HTTP_PORT" \
		-c "$CONC" -n "$N_INTAKE" -C bench >"$T/intake.out" || die "intake_load reported errors"
	kill -TERM "$DPID"; wait "$DPID" || die "pagegated exited with status $? on SIGTERM"
	DPID=
	RATE=$(get intake_msgs_per_s "$T/intake.out")
}
echo "bench_pg: intake on PostgreSQL, $N_INTAKE messages from $CONC clients ..." >&2
PG_URI="$PG_DSN&options=-csearch_path%3Dbench"
intake "$PG_URI"; PG_INTAKE=$RATE
P50=$(get intake_p50_ms "$T/intake.out"); P99=$(get intake_p99_ms "$T/intake.out")
echo "bench_pg: intake on SQLite, same run ..." >&2
intake "sqlite:$T/var/pagegate.db"; SQ_INTAKE=$RATE

# The ceiling: the rows of one submission per transaction, in the same
# tables (the schema pagegated created), by as many pgbench clients.
cat >"$T/submit.sql" <<'SQL'
BEGIN;
INSERT INTO bench.messages (client_id, kind, urgency, caller_name, caller_phone, text, fields, operator, received_ms, state, caller_fold) VALUES ('bench', 'message', 'routine', 'Ann Caller', '555-0100', 'No heat in the building', '{}', 'bench', 1795361640000, 'pending', 'ann caller') RETURNING id \gset
INSERT INTO bench.deliveries (message_id, contact_id, contact_name, channel, address, state, priority, created_ms, next_try_ms, expires_ms, updated_ms) VALUES (:id, 'office', 'Front office', 'email', 'office@bench.example', 'queued', 2, 1795361640000, 1795361640000, 1795365240000, 1795361640000);
INSERT INTO bench.events (message_id, at_ms, type, detail) VALUES (:id, 1795361640000, 'received', 'by bench');
INSERT INTO bench.events (message_id, at_ms, type, detail) VALUES (:id, 1795361640000, 'routed', 'rule 1, contact office');
END;
SQL
echo "bench_pg: pgbench ceiling, $CONC clients, ${PG_SECONDS}s ..." >&2
"$PG_BIN/pgbench" -n -h "$PG_SOCK" -U postgres -c "$CONC" -j 2 -T "$PG_SECONDS" -M prepared \
	-f "$T/submit.sql" postgres >"$T/pgbench.out" 2>&1 || { cat "$T/pgbench.out" >&2; die "pgbench failed"; }
CEIL=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$T/pgbench.out" | head -1 |
	awk '{ printf "%.1f", $1 }')
[ -n "$CEIL" ] || die "pgbench printed no tps"

# ---- delivery, 1 node vs 3 nodes, against an SMTP peer that answers
# each DATA after 1 s (smtp-sink -w counts whole seconds): I/O-bound, so
# three nodes should carry close to three times one ----
SMTP2=$(free_port)
mkdir -m 777 "$T/mail2"
/usr/sbin/smtp-sink -u nobody -w 1 -d "$T/mail2/msg." "127.0.0.1:$SMTP2" 1000 >"$T/sink2.log" 2>&1 &
SINK2_PID=$!
wait_until 10 port_open "$SMTP2" || die "the slow smtp-sink did not start"
NODE_PIDS=(); NODE_PORTS=()
node_conf() {   # node_conf K
	cat <<CONF
listen = "127.0.0.1";
port = ${NODE_PORTS[$1]};
node = "n$1";
store = { dsn = "$PG_DSN&options=-csearch_path%3Dbench_nodes"; };
templates = "$ROOT/templates";
clients = "clients";
workers = 8;
operators = ( { name = "bench"; token_sha256 = "$TOKEN_SHA"; } );
smtp = ( { name = "slow"; host = "127.0.0.1"; port = $SMTP2; starttls = "off";
           from = "pagegate@bench.example"; timeout = 30; batch = 1; } );
CONF
}
start_nodes() {  # start_nodes N
	for k in $(seq 0 $(($1 - 1))); do
		NODE_PORTS[$k]=$(free_port)
		node_conf "$k" >"$T/etc/node$k.conf"
		"$BUILD/pagegated" -c "$T/etc/node$k.conf" >>"$T/node$k.log" 2>&1 &
		NODE_PIDS[$k]=$!
		HTTP_PORT=${NODE_PORTS[$k]} wait_until 30 healthy || die "node $k did not start"
	done
}
stop_nodes() {
	for p in "${NODE_PIDS[@]}"; do kill -TERM "$p"; wait "$p" || die "a node exited with $?"; done
	NODE_PIDS=()
}
mails2() { [ "$(find "$T/mail2" -name 'msg.*' | wc -l)" -ge "$1" ]; }
# deliver K: ms to deliver K more messages submitted through node 0
deliver() {
	local have t0
	have=$(find "$T/mail2" -name 'msg.*' | wc -l)
	t0=$(date +%s%3N)
	PAGEGATE_TOKEN=$TOKEN "$BUILD/bench/intake_load" -u "http://127.0.0.1:${NODE_PORTS[0]}" \
		-c 8 -n "$1" -C bench >"$T/nodes.out" || die "intake_load (nodes) reported errors"
	wait_until 300 mails2 $((have + $1)) || die "the slow sink did not get $1 mails"
	echo $(( $(date +%s%3N) - t0 ))
}
K_NODES=${BENCH_NODES:-120}
echo "bench_pg: delivery of $K_NODES messages by 1 node, then by 3 (DATA answered after 1 s) ..." >&2
start_nodes 1; MS1=$(deliver "$K_NODES"); stop_nodes
start_nodes 3; MS3=$(deliver "$K_NODES"); stop_nodes
kill "$SINK2_PID"; wait "$SINK2_PID" 2>/dev/null || true
R1=$(awk -v k="$K_NODES" -v ms="$MS1" 'BEGIN { printf "%.1f", k * 1000 / ms }')
R3=$(awk -v k="$K_NODES" -v ms="$MS3" 'BEGIN { printf "%.1f", k * 1000 / ms }')

if [ -n "${BENCH_PG_OUT:-}" ]; then
	printf 'pg_intake %s\npg_ceiling %s\npg_sqlite_intake %s\npg_p50 %s\npg_p99 %s\npg_nodes1 %s\npg_nodes3 %s\n' \
		"$PG_INTAKE" "$CEIL" "$SQ_INTAKE" "$P50" "$P99" "$R1" "$R3" >"$BENCH_PG_OUT"
	exit 0
fi
row() { printf '  %-46s %12s %12s %10s\n' "$@"; }
echo
echo "pagegate bench (PostgreSQL store), $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) CPUs"
row "" "measured" "ceiling" "ratio"
row "intake on PostgreSQL, $CONC clients, msgs/s" "$PG_INTAKE" "" ""
row "  vs pgbench, same rows per txn, $CONC clients" "" "$CEIL" "$(ratio "$PG_INTAKE" "$CEIL")"
row "  vs pagegated on SQLite, same run, msgs/s" "" "$SQ_INTAKE" "$(ratio "$PG_INTAKE" "$SQ_INTAKE")"
row "  intake latency p50 / p99, ms" "$P50 / $P99" "" ""
row "delivery, 3 nodes (8 workers each), msgs/s" "$R3" "" ""
row "  vs 1 node, same peer (ideal ratio 3)" "" "$R1" "$(ratio "$R3" "$R1")"
