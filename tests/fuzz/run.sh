#!/usr/bin/env bash
# `make fuzz`: runs every libFuzzer harness built in FUZZ_BUILD/fuzzer/ for
# FUZZ_SECONDS each (default 60), as many at once as there are processors
# (FUZZ_JOBS to choose).  Each starts from its committed seed corpus
# (tests/fuzz/corpus/NAME), with its dictionary when there is one
# (tests/fuzz/dict/NAME.dict), and keeps what it finds new in a scratch
# corpus (FUZZ_BUILD/fuzz-out/NAME/corpus), which is reused by the next run;
# crash, leak, timeout and out-of-memory inputs land in
# FUZZ_BUILD/fuzz-out/NAME/.  Prints one line per harness (runs, coverage,
# crashes) and every crash's report; exits non-zero when any harness found
# one.  A crash file is then committed to tests/fuzz/crashes/NAME/, where
# `make test` replays it for ever.
#   tests/fuzz/run.sh FUZZ_BUILD [NAME...]
set -uo pipefail
cd "$(dirname "$0")/../.."
B=${1:?usage: tests/fuzz/run.sh FUZZ_BUILD [NAME...]}
shift
SECS=${FUZZ_SECONDS:-60}
JOBS=${FUZZ_JOBS:-$(nproc)}
OUT=$B/fuzz-out
mkdir -p "$OUT"
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# leaks of the libraries pagegate cannot free (the file says which)
export LSAN_OPTIONS="suppressions=$PWD/tests/fuzz/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"

names=()
if [ $# -gt 0 ]; then
  names=("$@")
else
  for f in "$B"/fuzzer/fuzz_*; do [ -x "$f" ] && names+=("$(basename "$f")"); done
fi
if [ ${#names[@]} -eq 0 ]; then
  echo "no fuzz harness in $B/fuzzer" >&2
  exit 1
fi

# One harness: NAME -> OUT/NAME/{log,corpus,crash-*...}
run_one='
  n=$1; h=${n#fuzz_}; o=$OUT/$n
  rm -f "$o"/crash-* "$o"/leak-* "$o"/timeout-* "$o"/oom-* "$o"/log
  mkdir -p "$o/corpus"
  dict=(); [ -f "tests/fuzz/dict/$h.dict" ] && dict=(-dict="tests/fuzz/dict/$h.dict")
  "$B/fuzzer/$n" -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 "${dict[@]}" \
    -print_final_stats=1 -artifact_prefix="$o/" "$o/corpus" "tests/fuzz/corpus/$h" \
    >"$o/log" 2>&1
  echo $? >"$o/rc"'
export B OUT SECS
printf '%s\n' "${names[@]}" | xargs -P "$JOBS" -I{} nice -n 10 bash -c "$run_one" _ {}

status=0
for n in "${names[@]}"; do
  o=$OUT/$n
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$o/log" | tail -1)
  cov=$(grep -Eo 'cov: [0-9]+ ft: [0-9]+' "$o/log" | tail -1)
  found=$(ls "$o" | grep -E '^(crash|leak|timeout|oom)-' || true)
  rc=$(cat "$o/rc" 2>/dev/null || echo 1)
  if [ -n "$found" ] || [ "$rc" -ne 0 ]; then
    status=1
    echo "---- $n: FOUND (exit $rc) after ${runs:-?} runs:"
    for f in $found; do echo "  $o/$f"; done
    grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error|.*invariant failed)' "$o/log" | head -10
    echo "  log: $o/log; keep each input in tests/fuzz/crashes/${n#fuzz_}/"
  else
    echo "$n: ${runs:-?} runs in ${SECS}s, ${cov:-cov: ?}, $(ls "$o/corpus" | wc -l) new inputs kept, no crash"
  fi
done
exit $status
