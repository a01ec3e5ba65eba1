# wait_until SECONDS COMMAND... : succeeds as soon as COMMAND succeeds,
# polling every ${WAIT_POLL:-0.1} s; fails once SECONDS have passed first.
# The one bounded wait of the test and peer scripts (sourced).
wait_until() {
  local deadline=$((SECONDS + $1)); shift
  until "$@"; do
    if [ $SECONDS -ge $deadline ]; then return 1; fi
    sleep "${WAIT_POLL:-0.1}"
  done
}
