# nodes.sh - several pagegated nodes on the test's PostgreSQL store, for
# the t_pg_nodes* scripts (sourced after lib.sh and write_config).
#   nodes_config N     $T/etc/nodeK.conf, K = 1..N: the test's configuration
#                      on a port of its own (PORTS[K-1]), named "nK", with a
#                      5 s lease
#   start_nodes N      starts nodes 1..N at once, then waits until each
#                      answers /healthz (a "not ok" and status 1 if one
#                      does not)
#   start_node K [VAR=VALUE...]
#                      starts node K+1 (K 0-based, as NPIDS[K]) with that
#                      environment added, its log $T/nodeK+1.log, and waits
#                      for its /healthz
#   stop_node K        SIGTERM to node K+1, waited; its exit status
#   cleanup_nodes      kill -9 (after CONT) every node still running
# The EXIT trap runs NODES_CLEANUP (a command, if set: the script's own
# peers), cleanup_nodes, then lib.sh's cleanup.
PORTS=(); NPIDS=(); NODES_CLEANUP=
up() { curl -sf -o /dev/null "http://127.0.0.1:$1/healthz"; }
nodes_config() {
  local n p
  for n in $(seq 1 "$1"); do
    p=$(free_port); PORTS+=("$p")
    sed -e "s/^port = .*/port = $p;/" "$T/etc/pagegate.conf" >"$T/etc/node$n.conf"
    printf 'node = "n%s";\nnode_lease = "5s";\n' "$n" >>"$T/etc/node$n.conf"
  done
}
launch_node() {   # K [VAR=VALUE...]: starts it, does not wait
  local k=$1; shift
  env "$@" "$BUILD/pagegated" -c "$T/etc/node$((k + 1)).conf" >>"$T/node$((k + 1)).log" 2>&1 &
  NPIDS[$k]=$!
}
start_node() {
  launch_node "$@"
  wait_until 30 up "${PORTS[$1]}" || { notok "node $(($1 + 1)) started"; return 1; }
}
start_nodes() {
  local k
  for k in $(seq 0 $(($1 - 1))); do launch_node "$k"; done
  for k in $(seq 0 $(($1 - 1))); do
    wait_until 30 up "${PORTS[$k]}" || { notok "node $((k + 1)) started"; return 1; }
  done
}
stop_node() { kill -TERM "${NPIDS[$1]}" 2>/dev/null; wait "${NPIDS[$1]}"; local rc=$?; NPIDS[$1]=; return $rc; }
cleanup_nodes() {
  local p
  for p in "${NPIDS[@]}"; do [ -n "$p" ] && { kill -CONT "$p"; kill -9 "$p"; wait "$p"; } 2>/dev/null; done
}
trap '[ -z "$NODES_CLEANUP" ] || eval "$NODES_CLEANUP"; cleanup_nodes; cleanup' EXIT
