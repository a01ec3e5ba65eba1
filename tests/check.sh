#!/usr/bin/env bash
# `make check T=NAME`: builds what the tests need and runs the one test
# named NAME - a unit binary (test_store) or an integration script
# (t_email) - with the same runner as `make test`.  SAN=1 builds and runs it
# under AddressSanitizer + UndefinedBehaviorSanitizer (in build-asan/).
set -uo pipefail
cd "$(dirname "$0")/.."
T=${1:-}
if [ -z "$T" ]; then
  echo "usage: make check T=NAME   (e.g. T=test_store or T=t_email; SAN=1 for ASan+UBSan)" >&2
  exit 2
fi
MAKE=${MAKE:-make}
if [ "${SAN:-0}" = 1 ]; then
  export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
  set -- BUILD=build-asan CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
         LDFLAGS="-fsanitize=address,undefined"
  b=build-asan
else
  set --
  b=build
fi
$MAKE --no-print-directory -j"$(nproc)" "$@" all unit tools || exit 1
PG_TEST_EXACT=1 exec tests/run.sh "$b" "check" "$T"
