# A throwaway PostgreSQL 15 cluster for tests (shared/PEERS.md): Debian's
# server, run as the package's "postgres" user (initdb refuses root), on a
# Unix socket in the test's directory and no TCP port.  The postmaster is
# exec'ed through setpriv, so it is a child of the script, stopped by PID
# and waited for.
#
# Sourced by integration scripts (lib.sh's wait_until is needed):
#   postgres_start DIR      initdb into DIR/pg (once), start the server with
#                           its socket in DIR/pg, wait until it answers;
#                           sets PG_PID, PG_SOCK and PG_DSN, pagegate's
#                           store.dsn for database "postgres"
#   postgres_stop [MODE]    fast (SIGINT, the default) or immediate
#                           (SIGQUIT: what `pg_ctl stop -m immediate` sends,
#                           a crash that recovery replays), by PID, waited
#   postgres_restart        stop (fast), start again on the same directory
#   postgres_psql SQL...    psql -At against it as postgres
#
# Run as a program, it wraps a command:
#   tests/peers/postgres.sh DIR -- COMMAND [ARGS...]
# starts a cluster in DIR, runs COMMAND with PG_DSN exported, stops the
# cluster and exits with COMMAND's status.
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PG_PID=; PG_SOCK=; PG_DSN=; PG_DIR=

# setpriv rather than runuser: it execs, so $! of a simple command started
# with "${PG_AS[@]}" ... & is the postmaster itself.
PG_AS=()
[ "$(id -u)" -ne 0 ] || PG_AS=(setpriv --reuid=postgres --regid=postgres --init-groups --)

postgres_ready() { "$PG_BIN/pg_isready" -q -h "$PG_SOCK" -U postgres 2>/dev/null; }
postgres_up_or_gone() { postgres_ready || ! kill -0 "$PG_PID" 2>/dev/null; }

postgres_start() {
  PG_DIR=$1
  PG_SOCK=$PG_DIR/pg
  if [ ! -f "$PG_SOCK/PG_VERSION" ]; then
    mkdir -p "$PG_SOCK" || return 1
    [ "$(id -u)" -ne 0 ] || chown postgres: "$PG_SOCK" || return 1
    chmod 700 "$PG_SOCK"
    # -N: the cluster is thrown away; the server itself still fsyncs
    "${PG_AS[@]}" "$PG_BIN/initdb" -D "$PG_SOCK" -A trust -U postgres \
      -E UTF8 --no-locale -N >"$PG_DIR/initdb.log" 2>&1 ||
      { echo "# initdb failed:" >&2; tail -5 "$PG_DIR/initdb.log" >&2; return 1; }
  fi
  postgres_launch
}

postgres_launch() {
  "${PG_AS[@]}" "$PG_BIN/postgres" -D "$PG_SOCK" -k "$PG_SOCK" \
    -c listen_addresses='' -c max_connections=100 -c fsync=on \
    -c synchronous_commit=on >>"$PG_DIR/postgres.log" 2>&1 &
  PG_PID=$!
  wait_until 30 postgres_up_or_gone
  if ! postgres_ready; then
    echo "# postgres did not start in $PG_SOCK:" >&2
    tail -5 "$PG_DIR/postgres.log" | sed 's/^/#   /' >&2
    postgres_stop immediate
    return 1
  fi
  PG_DSN="postgresql:///postgres?host=$PG_SOCK&user=postgres"
}

postgres_stop() {
  [ -n "$PG_PID" ] || return 0
  if [ "${1:-fast}" = immediate ]; then kill -QUIT "$PG_PID" 2>/dev/null
  else kill -INT "$PG_PID" 2>/dev/null; fi
  wait "$PG_PID" 2>/dev/null
  PG_PID=
}

postgres_restart() { postgres_stop; postgres_launch; }

postgres_psql() { psql -X -q -At -h "$PG_SOCK" -U postgres -d postgres -c "$*"; }

# As a program: DIR -- COMMAND...
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -uo pipefail
  . "$(dirname "$0")/wait.sh"
  dir=${1:?usage: postgres.sh DIR -- COMMAND [ARGS...]}; shift
  [ "${1:-}" = -- ] && shift
  [ $# -gt 0 ] || { echo "usage: postgres.sh DIR -- COMMAND [ARGS...]" >&2; exit 2; }
  postgres_start "$dir" || exit 1
  export PG_DSN
  "$@"; rc=$?
  postgres_stop
  exit $rc
fi
