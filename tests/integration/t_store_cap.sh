#!/usr/bin/env bash
# The store cap keeps room for what was promised.  1. store.max_mb = 1
# and a stalled SMTP server (smtp-sink stopped with SIGSTOP): intake fills
# the store while deliveries are in flight, then answers 503 store_full;
# once the server runs again, every message answered 201 reaches it
# exactly once and is recorded as sent - their attempts and outcomes are
# written in the reserve above the cap - and the log says "cap" once.
# 2. The same on a full disk (a real 3 MiB tmpfs): outcomes of mail that
# went out while the disk was full are kept and recorded once there is
# room, never sent again; nothing else is sent before its attempt can be
# recorded; the log says "no room" once, not per write.
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

# ---- 1. the configured cap ----
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

# ---- 2. a full disk ----
mv "$T/mail" "$T/mail-cap"
mv "$T/daemon.log" "$T/daemon-cap.log"
mkdir -p "$T/disk"
mount -t tmpfs -o size=3m tmpfs "$T/disk" || { notok "mount a 3 MiB tmpfs for the store"; exit 1; }
# The daemon holds the store open: stopped before the tmpfs goes.
trap '[ -n "$DPID" ] && { kill -9 "$DPID"; wait "$DPID"; DPID=; }; umount "$T/disk"; cleanup' EXIT
sed -i "s|dsn = \"sqlite:[^\"]*\"|dsn = \"sqlite:$T/disk/pagegate.db\"|; s/max_mb = 1;/max_mb = 0;/" "$T/etc/pagegate.conf"
DB=$T/disk/pagegate.db
start_sink "$SMTP_PORT" || exit 1
start_daemon || exit 1
kill -STOP "$SINK_PID"
dd if=/dev/zero of="$T/disk/filler" bs=64k count=30 status=none 2>/dev/null
fill disk
check_eq "on a full disk, intake answers 503" 503 "$got"
check_eq "with our JSON error store_full" store_full "$(resp .error.code)"
check "some messages were taken before the disk filled" test "${#ids[@]}" -ge 1
flying=$(sql "select message_id from deliveries where state = 'sending'")
check "deliveries were in flight when the disk filled" test -n "$flying"
kill -CONT "$SINK_PID"              # their mail goes out while the disk is full
mailed() { for i in $flying; do mail_for "$i" >/dev/null || return 1; done; }
check "the stalled mail reaches the SMTP server while the disk is full" wait_until 30 mailed
refused_writes() { [ "$(metric pagegate_store_full_writes_total)" -ge 1 ]; }
check "its outcomes are refused by the full disk (metric)" wait_until 30 refused_writes
check_eq "/metrics: pagegate_store_no_room 1" 1 "$(metric pagegate_store_no_room)"
check_eq "nothing new is sent while the disk is full" "$(wc -w <<<"$flying")" "$(mail_count)"
rm -f "$T/disk/filler"
check "once there is room, every accepted message is recorded sent" wait_until 60 all_sent
check "each reached the SMTP server exactly once (no resend)" each_mailed_once
room_again() { grep -q 'store: has room again' "$T/daemon.log"; }
check "the log says when there is room again (10 s after the last refusal)" wait_until 30 room_again
check_eq "/metrics: pagegate_store_no_room 0" 0 "$(metric pagegate_store_no_room)"
check_eq "the log says once that there was no room" 1 "$(grep -c 'no room to write' "$T/daemon.log")"
check_eq "no per-write store-full lines" 0 "$(grep -ci 'failed (store full)' "$T/daemon.log")"
api POST /v1/messages "$(msg after)"
check_eq "intake answers 201 again" 201 "$CODE"
stop_daemon
check "the database passes integrity_check" test "$(sql 'pragma integrity_check')" = ok
