#!/usr/bin/env bash
# The PostgreSQL store backend against a real PostgreSQL 15 started here
# (tests/peers/postgres.sh): the store backends' conformance suite
# (test_store_backend, test_store_backend_rows - the same binaries that
# run against SQLite as unit tests), each test in a schema of its own; and
# three daemons started at once on one empty store (one of them naming it
# with libpq's key-value string), which must create its schema exactly
# once and all come up.
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

# ---- three nodes starting at once on an empty store ----
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
all_up() { for p in "${PORTS[@]}"; do curl -sf -o /dev/null "http://127.0.0.1:$p/healthz" || return 1; done; }
check "three daemons started at once on one empty store all answer /healthz" wait_until 30 all_up
check_eq "the schema was created once: one schema_version row" "3" \
  "$(db_sql "select string_agg(version::text, ',') from schema_version")"
check_eq "exactly one node created the tables" 1 "$(cat "$T"/node*.log | grep -c 'store created at schema version')"
# A message through one node is read back through another.
HTTP_PORT=${PORTS[0]}
id=$(post_message '{"client":"test-clinic","caller":{"name":"Ann","phone":"555-0100"},"text":"via node 1","fields":{"address":"x"}}')
check "a message accepted by node 1" test -n "$id"
HTTP_PORT=${PORTS[2]}
check_eq "node 3 (key-value dsn) reads it back" "via node 1" "$(msg_json "$id" | jq -r .text)"
for i in 0 1 2; do
  kill -TERM "${PIDS[$i]}"; wait "${PIDS[$i]}"
  check_eq "node $((i + 1)) exits 0 on SIGTERM" 0 "$?"
done
check "no sanitizer report in the nodes' logs" \
  bash -c "! grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' $T/node*.log"
exit 0
