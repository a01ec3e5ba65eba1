#!/usr/bin/env bash
# The PostgreSQL store backend against a real PostgreSQL 15 started here
# (tests/peers/postgres.sh): the store backends' conformance suite
# (test_store_backend, test_store_backend_rows - the same binaries that
# run against SQLite as unit tests - and test_store_claims, the operations
# for several nodes that SQLite has not), each test in a schema of its own;
# and three daemons started at once on one empty store (one of them naming
# it with libpq's key-value string): the schema is created exactly once,
# one daemon runs, the others are refused (one writer per store for now);
# once it stops another takes the store.
PG_STORE=1 . "$(dirname "$0")/lib.sh"

# ---- the conformance suite ----
# cmocka's "[       OK ] name" / "[  FAILED  ] name" lines become ok / not ok.
conformance() {
  local bin=$BUILD/tests/$1 out=$T/$1.out
  [ -x "$bin" ] || { notok "$1 is built"; return; }
  PAGEGATE_TEST_DSNS="$PG_DSN&options=-csearch_path%3D%s" timeout 120 "$bin" >"$out" 2>&1
  local rc=$?
  sed -n 's/^\[       OK \] \(.*\)/ok - postgresql: \1/p' "$out"
  sed -n 's/^\[  FAILED  \] \(test_.*\)/not ok - postgresql: \1/p' "$out" | sort -u |
    while read -r l; do echo "$l"; done
  N_NOTOK=$((N_NOTOK + $(grep -c '^\[  FAILED  \] test_' "$out")))
  check_eq "$1 exits 0 against postgresql" 0 "$rc"
  [ "$rc" = 0 ] || tail -30 "$out" | sed 's/^/# /'
}
conformance test_store_backend
conformance test_store_backend_rows
conformance test_store_claims

# ---- three nodes starting at once on an empty store ----
# Until nodes claim their deliveries and timers from the store (issue 16,
# not yet built), one pagegated writes to a store at a time: the others
# must be refused, not double-send.  Whoever wins, the schema is created
# exactly once.
write_config
PIDS=(); PORTS=()
for n in 1 2 3; do
  p=$(free_port); PORTS+=("$p")
  sed "s/^port = .*/port = $p;/" "$T/etc/pagegate.conf" >"$T/etc/node$n.conf"
done
# node 3 names the same store with libpq's key-value string
kv="postgresql:host=$PG_SOCK user=postgres dbname=postgres options=-csearch_path=${STORE_DSN##*%3D}"
sed -i "s|dsn = \"[^\"]*\"|dsn = \"$kv\"|" "$T/etc/node3.conf"
for n in 0 1 2; do
  "$BUILD/pagegated" -c "$T/etc/node$((n + 1)).conf" >>"$T/node$((n + 1)).log" 2>&1 &
  PIDS+=($!)
done
up() { curl -sf -o /dev/null "http://127.0.0.1:$1/healthz"; }
n_up() { local k=0 p; for p in "${PORTS[@]}"; do up "$p" && k=$((k + 1)); done; echo $k; }
n_exited() { local k=0 p; for p in "${PIDS[@]}"; do kill -0 "$p" 2>/dev/null || k=$((k + 1)); done; echo $k; }
settled() { [ "$(n_up)" = 1 ] && [ "$(n_exited)" = 2 ]; }
check "three daemons started at once on one store: one runs, two exit" wait_until 30 settled
check_eq "the schema was created once: one schema_version row per version (born at 3, migrated to 4)" "3,4" \
  "$(db_sql "select string_agg(version::text, ',') from schema_version")"
check_eq "exactly one node created the tables" 1 "$(cat "$T"/node*.log | grep -c 'store created at schema version')"
check_eq "the two refused say why" 2 "$(cat "$T"/node*.log | grep -c 'another pagegated is writing to this postgresql store')"
live=-1
for i in 0 1 2; do
  if kill -0 "${PIDS[$i]}" 2>/dev/null; then live=$i; else wait "${PIDS[$i]}"; check "refused node $((i + 1)) exits non-zero" test $? -ne 0; fi
done
HTTP_PORT=${PORTS[$live]}
id=$(post_message '{"client":"test-clinic","caller":{"name":"Ann","phone":"555-0100"},"text":"via the first node","fields":{"address":"x"}}')
check "a message accepted by the running node" test -n "$id"
kill -TERM "${PIDS[$live]}"; wait "${PIDS[$live]}"
check_eq "it exits 0 on SIGTERM" 0 "$?"
# once it is gone, another node (the key-value dsn) takes the store
if [ "$live" = 2 ]; then nx=0; else nx=2; fi
"$BUILD/pagegated" -c "$T/etc/node$((nx + 1)).conf" >>"$T/node$((nx + 1)).log" 2>&1 &
DPID=$!; HTTP_PORT=${PORTS[$nx]}
check "another node starts on the store once the first is gone" wait_until 30 up "$HTTP_PORT"
check_eq "and reads the message back" "via the first node" "$(msg_json "$id" | jq -r .text)"
kill -TERM "$DPID"; wait "$DPID"
check_eq "it exits 0 on SIGTERM" 0 "$?"
DPID=
check "no sanitizer report in the nodes' logs" \
  bash -c "! grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' $T/node*.log"
exit 0
