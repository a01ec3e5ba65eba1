#!/usr/bin/env bash
# `make test`: build and run the whole suite, then build with
# AddressSanitizer + UndefinedBehaviorSanitizer and run it all again.
# Ends with one line "N passed, N failed"; exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
MAKE=${MAKE:-make}
J=-j$(nproc)

SAN="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all"
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

total_p=0; total_f=0; status=0
run_suite() {   # BUILD LABEL MAKEARGS...
  local b=$1 label=$2; shift 2
  if ! $MAKE --no-print-directory $J BUILD="$b" "$@" all unit tools; then
    echo "$label: build failed"
    total_f=$((total_f + 1)); status=1; return
  fi
  tests/run.sh "$b" "$label" || status=1
  read -r p f <"$b/test-results/counts"
  total_p=$((total_p + p)); total_f=$((total_f + f))
}

run_suite build "plain"
run_suite build-asan "asan+ubsan" CFLAGS="$SAN" LDFLAGS="-fsanitize=address,undefined"

echo "$total_p passed, $total_f failed"
exit $status
