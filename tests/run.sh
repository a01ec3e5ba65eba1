#!/usr/bin/env bash
# Runs every test against one build directory: the cmocka unit binaries in
# BUILD/tests/ and the integration scripts tests/integration/t_*.sh (in
# parallel; they start their own peers on fresh ports).  Prints each
# failure's output, then "LABEL: N passed, N failed".  Writes the two counts
# to BUILD/test-results/counts for tests/all.sh.
#   tests/run.sh BUILD [LABEL] [PATTERN]
# PATTERN picks the tests whose name contains it; with PG_TEST_EXACT=1
# (make check T=NAME) only the test named exactly NAME (test_store,
# t_email; ".sh" may be given) runs, and naming none is an error.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:?usage: tests/run.sh BUILD [LABEL] [PATTERN]}
LABEL=${2:-$BUILD}
PATTERN=${3:-}
BUILD=$(cd "$BUILD" && pwd)
RES=$BUILD/test-results
rm -rf "$RES"; mkdir -p "$RES"
export PG_BUILD=$BUILD
export PAGEGATE_TOP=$PWD
JOBS=${PG_TEST_JOBS:-4}

pass=0; fail=0; ran=0
PATTERN=${PATTERN%.sh}
# True when a test named $1 is to run.
wanted() {
  [ -z "$PATTERN" ] && return 0
  if [ "${PG_TEST_EXACT:-0}" = 1 ]; then [ "$1" = "$PATTERN" ]; else [[ $1 == *$PATTERN* ]]; fi
}

# Unit tests: cmocka prints "[  PASSED  ] N test(s)." and
# "[  FAILED  ] N test(s)"; a binary that dies without a summary counts as
# one failure.
for t in "$BUILD"/tests/test_*; do
  [ -x "$t" ] || continue
  name=$(basename "$t")
  wanted "$name" || continue
  ran=$((ran + 1))
  out=$RES/$name.out
  ( cd "$RES" && timeout 300 "$t" ) >"$out" 2>&1
  rc=$?
  p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$out" | tail -1)
  f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$out" | tail -1)
  p=${p:-0}; f=${f:-0}
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  pass=$((pass + p)); fail=$((fail + f))
  if [ "$f" -ne 0 ]; then
    echo "---- FAILED unit $name (exit $rc)"; tail -40 "$out"
  else
    echo "unit $name: $p passed"
  fi
done

# Fuzz harnesses (tests/fuzz/fuzz_NAME.c, linked with tests/fuzz/replay.c):
# each replays its committed seed corpus and every crash file ever found
# (tests/fuzz/corpus/NAME, tests/fuzz/crashes/NAME); one test each, failed
# by a crash, a sanitizer report or a missing corpus.
for t in "$BUILD"/fuzz/fuzz_*; do
  [ -x "$t" ] || continue
  name=$(basename "$t")
  wanted "$name" || continue
  ran=$((ran + 1))
  out=$RES/$name.out
  dirs=()
  for d in corpus crashes; do
    [ -d "tests/fuzz/$d/${name#fuzz_}" ] && dirs+=("$PWD/tests/fuzz/$d/${name#fuzz_}")
  done
  if [ -n "$(ls -A "tests/fuzz/corpus/${name#fuzz_}" 2>/dev/null)" ]; then
    ( cd "$RES" && LSAN_OPTIONS="suppressions=$PAGEGATE_TOP/tests/fuzz/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}" \
        timeout 300 "$t" "${dirs[@]}" ) >"$out" 2>&1
    rc=$?
  else
    echo "no seed corpus in tests/fuzz/corpus/${name#fuzz_}" >"$out"; rc=1
  fi
  if [ "$rc" -eq 0 ]; then
    pass=$((pass + 1)); echo "fuzz replay $name: $(tail -1 "$out")"
  else
    fail=$((fail + 1)); echo "---- FAILED fuzz replay $name (exit $rc)"; tail -40 "$out"
  fi
done

# Integration tests: each script prints "ok - what" / "not ok - what"
# lines; exiting non-zero without any "not ok" counts as one failure.
scripts=()
for s in tests/integration/t_*.sh; do
  [ -f "$s" ] || continue
  wanted "$(basename "$s" .sh)" || continue
  ran=$((ran + 1))
  scripts+=("$s")
done
if [ ${#scripts[@]} -gt 0 ]; then
  # Scripts marked "# pagegate-test: serial" (real-time media such as a
  # G.711 fax call) run alone first, on a machine no other test has
  # touched yet (nothing a parallel script leaves winding down can load
  # it), so load cannot break them.
  par=(); ser=()
  for s in "${scripts[@]}"; do
    if grep -q '^# pagegate-test: serial' "$s"; then ser+=("$s"); else par+=("$s"); fi
  done
  # (each script's exit status and its seconds in NAME.rc)
  run_one='n=$(basename "$1" .sh); t0=$SECONDS; timeout 600 bash "$1" >"$0/$n.out" 2>&1; echo "$? $((SECONDS - t0))" >"$0/$n.rc"'
  for s in "${ser[@]}"; do bash -c "$run_one" "$RES" "$s"; done
  # The t_pg_* scripts that run another test on PostgreSQL share one
  # throwaway cluster (each keeps a schema of its own): one initdb and one
  # server instead of one each.  It is this script's child, stopped by
  # PID; if it does not start, each starts its own as before.
  shared=0; PGS=
  for s in "${par[@]}"; do grep -q '^PG_STORE=1 PG_STORE_DSN=' "$s" && shared=$((shared + 1)); done
  if [ "$shared" -ge 2 ]; then
    PGS=$(mktemp -d /tmp/pgshared.XXXXXX); chmod 755 "$PGS"
    . tests/peers/wait.sh; . tests/peers/postgres.sh
    # (amcheck made once, before the tests' db_integrity could race to)
    postgres_start "$PGS" >>"$PGS/start.log" 2>&1 &&
      postgres_psql "CREATE EXTENSION IF NOT EXISTS amcheck SCHEMA public" >/dev/null &&
      export PG_SHARED_DSN=$PG_DSN
  fi
  [ ${#par[@]} -gt 0 ] && printf '%s\n' "${par[@]}" | xargs -P "$JOBS" -I{} bash -c "$run_one" "$RES" {}
  if [ -n "$PGS" ]; then
    [ -n "${PG_PID:-}" ] && postgres_stop
    rm -rf "$PGS"
  fi
  times=
  for s in "${scripts[@]}"; do
    n=$(basename "$s" .sh); out=$RES/$n.out
    read -r rc secs <"$RES/$n.rc" 2>/dev/null || { rc=1; secs=?; }
    [ "$secs" = "?" ] || times+="$secs $n"$'\n'
    p=$(grep -c '^ok - ' "$out"); f=$(grep -c '^not ok - ' "$out")
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
    pass=$((pass + p)); fail=$((fail + f))
    if [ "$f" -ne 0 ]; then
      echo "---- FAILED integration $n (exit $rc)"; grep -n '^not ok - ' "$out"; tail -60 "$out"
    else
      echo "integration $n: $p passed (${secs} s)"
    fi
  done
  # the slowest scripts: what bounds the suite's time
  printf '%s' "$times" | sort -rn | head -8 | awk '{ printf "%s%s %s s", (NR > 1 ? ", " : "slowest: "), $2, $1 } END { if (NR) print "" }'
fi

if [ "$ran" -eq 0 ] && [ -n "$PATTERN" ]; then
  echo "no test is named like '$PATTERN' (unit: tests/unit/test_*.c, integration: tests/integration/t_*.sh)"
  fail=$((fail + 1))
fi
echo "$pass $fail" >"$RES/counts"
echo "$LABEL: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
