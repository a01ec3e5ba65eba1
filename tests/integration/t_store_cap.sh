#!/usr/bin/env bash
# The store cap keeps room for what was promised: store.max_mb = 1 and a
# stalled SMTP server (smtp-sink stopped with SIGSTOP): intake fills the
# store while deliveries are in flight, then answers 503 store_full; once
# the server runs again, every message answered 201 reaches it exactly
# once and is recorded as sent - their attempts and outcomes are written
# in the reserve above the cap - and the log says "cap" once.  (A full
# disk: t_store_disk.sh.)
. "$(dirname "$0")/lib.sh"

text=$(head -c 6000 /dev/zero | tr '\0' 'x')
msg() { printf '{"client":"test-clinic","caller":{"name":"Cap %s","phone":"555-0100"},"text":"%s","fields":{"address":"x"}}' "$1" "$text"; }
metric() { curl -s "http://127.0.0.1:$HTTP_PORT/metrics" | sed -n "s/^$1 //p"; }
# fill TAG: posts messages until one is refused; ids in ids[], the
# refusal's status in got.
fill() {
  ids=(); got=
  for i in $(seq 1 400); do
    api POST /v1/messages "$(msg "$1$i")"
    if [ "$CODE" = 201 ]; then ids+=("$(resp .id)"); continue; fi
    got=$CODE; break
  done
}
all_sent() { for i in "${ids[@]}"; do state_is "$i" sent || return 1; done; }
# each_mailed_once: every accepted message reached the SMTP server once,
# with its caller's name in the body, and the server got nothing else.
each_mailed_once() {
  local i n
  for i in "${ids[@]}"; do
    n=$(mail_for "$i" | wc -l)
    [ "$n" = 1 ] || { echo "# message $i: $n mails" >&2; return 1; }
  done
  [ "$(mail_count)" = "${#ids[@]}" ]
}
sql() { sqlite3 "$DB" "$1"; }

MAX_MB=1
write_config
DB=$T/var/pagegate.db
start_sink "$SMTP_PORT" || exit 1
start_daemon || exit 1
kill -STOP "$SINK_PID"              # the SMTP server stalls from here
fill cap
check_eq "at the cap, intake answers 503" 503 "$got"
check_eq "with our JSON error store_full" store_full "$(resp .error.code)"
check "some messages were taken before the cap" test "${#ids[@]}" -ge 20
hdrs=$(curl -s -D - -o /dev/null -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
  --data-binary "$(msg again)" "http://127.0.0.1:$HTTP_PORT/v1/messages")
check "the 503 carries Retry-After" grep -qi '^Retry-After: [0-9]' <<<"$hdrs"
size_at_cap=$(sql "select page_count * page_size from pragma_page_count(), pragma_page_size()")
inflight=$(sql "select count(*) from deliveries where state = 'sending'")
check "deliveries were in flight at the cap ($inflight sending)" test "$inflight" -ge 1
check_eq "/metrics: pagegate_store_full 1" 1 "$(metric pagegate_store_full)"
check "/metrics counts the refused messages" test "$(metric pagegate_store_refused_total)" -ge 2
kill -CONT "$SINK_PID"              # the SMTP server runs again
check "every message answered 201 is delivered (${#ids[@]})" wait_until 90 all_sent
check "the SMTP server got each exactly once, and nothing else" each_mailed_once
check_eq "the store records each delivery sent" "${#ids[@]}" \
  "$(sql "select count(*) from deliveries where state = 'sent'")"
check_eq "with one finished ok attempt each" "${#ids[@]}" \
  "$(sql "select count(distinct delivery_id) from attempts where outcome = 'ok'")"
check_eq "and no attempt left open" 0 "$(sql "select count(*) from attempts where outcome is null")"
size=$(sql "select page_count * page_size from pragma_page_count(), pragma_page_size()")
check "the store was at its cap when intake refused ($size_at_cap bytes)" test "$size_at_cap" -ge 1048576
check "the deliveries' rows went into the reserve above it ($size bytes)" test "$size" -gt "$size_at_cap"
api POST /v1/messages "$(msg later)"
check_eq "intake still answers 503 at the cap" 503 "$CODE"
check_eq "the log says once that the cap was reached" 1 "$(grep -c 'store: reached its cap' "$T/daemon.log")"
check_eq "no write of an accepted message was refused" 0 "$(grep -c 'no room to write' "$T/daemon.log")"
check_eq "no per-write store-full lines" 0 "$(grep -ci 'store full' "$T/daemon.log")"
check_eq "/metrics: no write about accepted messages refused" 0 "$(metric pagegate_store_full_writes_total)"
stop_daemon
stop_sink
check "the database passes integrity_check" test "$(sql 'pragma integrity_check')" = ok
