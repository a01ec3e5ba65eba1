#!/usr/bin/env bash
# A full disk keeps room for what was promised, as the store cap does
# (t_store_cap.sh).  The store lives on a real tmpfs; the SMTP server
# (smtp-sink) is stalled with SIGSTOP while intake fills the disk, so that
# deliveries are in flight when it fills.
# 1. 48 MiB: the store set 16 MB aside on it at start (PATH-spare); when
#    the disk fills it gives them back: intake answers 503 store_full, every
#    message answered 201 is still delivered exactly once and recorded
#    sent while the disk stays full; once there is room, the 16 MB are set
#    aside again and intake takes messages again.  The log says each once.
# 2. 3 MiB, too small to set anything aside: outcomes of mail that went
#    out while the disk was full are kept in memory and recorded once
#    there is room, never sent again; nothing else is sent before its
#    attempt can be recorded; the log says "no room" once, not per write.
# 3. The same, but the daemon is stopped while the disk is still full:
#    the log names each outcome it could not record; the store still says
#    "sending", so the next start sends those again (at least once: the
#    one case where a recipient gets a message twice) and delivers the
#    rest.
. "$(dirname "$0")/lib.sh"

text=$(head -c 6000 /dev/zero | tr '\0' 'x')
msg() { printf '{"client":"test-clinic","caller":{"name":"Disk %s","phone":"555-0100"},"text":"%s","fields":{"address":"x"}}' "$1" "$text"; }
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
# and the server got nothing else.
each_mailed_once() {
  local i n
  for i in "${ids[@]}"; do
    n=$(mail_for "$i" | wc -l)
    [ "$n" = 1 ] || { echo "# message $i: $n mails" >&2; return 1; }
  done
  [ "$(mail_count)" = "${#ids[@]}" ]
}
sql() { sqlite3 "$DB" "$1"; }
# attempts_recorded: each message the SMTP server got has an attempt in
# the store (a delivery is sent only once its attempt is recorded).
attempts_recorded() {
  local m
  for m in $(sed -n 's/^X-Pagegate-Message: \([0-9]*\).*/\1/p' "$T"/mail/msg.* 2>/dev/null); do
    [ "$(sql "select count(*) from attempts a join deliveries d on d.id = a.delivery_id where d.message_id = $m")" -ge 1 ] ||
      { echo "# message $m was mailed without a recorded attempt" >&2; return 1; }
  done
}
logged() { grep -c "$1" "$T/daemon.log"; }
in_log() { grep -q "$1" "$T/daemon.log"; }
# The daemon holds the store open: stopped before the tmpfs goes.
unmount_all() {
  [ -n "$DPID" ] && { kill -9 "$DPID"; wait "$DPID"; DPID=; }
  umount "$T/disk1" 2>/dev/null; umount "$T/disk2" 2>/dev/null
  umount "$T/disk3" 2>/dev/null
}
trap 'unmount_all; cleanup' EXIT
write_config
# use_disk N SIZE: a fresh tmpfs of SIZE for the store, a fresh mail dir
# and daemon log.
use_disk() {
  mkdir -p "$T/disk$1"
  mount -t tmpfs -o "size=$2" tmpfs "$T/disk$1" || { notok "mount a $2 tmpfs for the store"; exit 1; }
  sed -i "s|dsn = \"sqlite:[^\"]*\"|dsn = \"sqlite:$T/disk$1/pagegate.db\"|" "$T/etc/pagegate.conf"
  DB=$T/disk$1/pagegate.db
  [ -d "$T/mail" ] && mv "$T/mail" "$T/mail-before-$1"
  [ -f "$T/daemon.log" ] && mv "$T/daemon.log" "$T/daemon-before-$1.log"
}

# ---- 1. room set aside on the disk ----
use_disk 1 48m
start_sink "$SMTP_PORT" || exit 1
start_daemon || exit 1
check_eq "16 MB are set aside beside the store" 16777216 "$(stat -c %s "$DB-spare" 2>/dev/null)"
kill -STOP "$SINK_PID"              # the SMTP server stalls from here
avail=$(df --output=avail -B1 "$T/disk1" | tail -1)
fallocate -l $((avail - 1048576)) "$T/disk1/filler"
fill a
check_eq "on a full disk, intake answers 503" 503 "$got"
check_eq "with our JSON error store_full" store_full "$(resp .error.code)"
check "some messages were taken before the disk filled" test "${#ids[@]}" -ge 5
check "deliveries were in flight when the disk filled" \
  test "$(sql "select count(*) from deliveries where state = 'sending'")" -ge 1
check "the room set aside was given back" test ! -e "$DB-spare"
check_eq "the log says so once" 1 "$(logged 'no room to write: the disk is full; gave back the 16 MB')"
api POST /v1/messages "$(msg b)"
check_eq "new messages stay refused while the disk is full" 503 "$CODE"
check_eq "/metrics: pagegate_store_full 1" 1 "$(metric pagegate_store_full)"
kill -CONT "$SINK_PID"              # the SMTP server runs again
check "every message answered 201 is delivered, the disk still full (${#ids[@]})" wait_until 60 all_sent
check "the SMTP server got each exactly once, and nothing else" each_mailed_once
check_eq "no attempt left open" 0 "$(sql "select count(*) from attempts where outcome is null")"
check "the filler is still there: the room given back took them" test -e "$T/disk1/filler"
rm -f "$T/disk1/filler"
set_aside() { in_log 'the disk has room again'; }
check "with room on the disk, the 16 MB are set aside again" wait_until 30 set_aside
check_eq "beside the store" 16777216 "$(stat -c %s "$DB-spare" 2>/dev/null)"
api POST /v1/messages "$(msg c)"
check_eq "intake answers 201 again" 201 "$CODE"
check_eq "/metrics: pagegate_store_full 0" 0 "$(metric pagegate_store_full)"
check_eq "one line that the disk was full" 1 "$(logged 'no room to write')"
check_eq "one line that it has room again" 1 "$(logged 'the disk has room again')"
check_eq "no per-write store-full lines" 0 "$(logged -i 'failed (store full)')"
stop_daemon
stop_sink
check "the database passes integrity_check" test "$(sql 'pragma integrity_check')" = ok

# ---- 2. too small to set anything aside ----
use_disk 2 3m
start_sink "$SMTP_PORT" || exit 1
start_daemon || exit 1
check "the log says no room could be set aside" in_log 'cannot set 16 MB aside on the disk'
kill -STOP "$SINK_PID"
dd if=/dev/zero of="$T/disk2/filler" bs=64k count=30 status=none 2>/dev/null
fill d
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
check "nothing was sent whose attempt is not recorded" attempts_recorded
rm -f "$T/disk2/filler"
check "once there is room, every accepted message is recorded sent" wait_until 60 all_sent
check "each reached the SMTP server exactly once (no resend)" each_mailed_once
room_again() { in_log 'store: writes succeed again: has room again'; }
check "the log says when there is room again (10 s after the last refusal)" wait_until 30 room_again
check_eq "/metrics: pagegate_store_no_room 0" 0 "$(metric pagegate_store_no_room)"
check_eq "one line that there was no room" 1 "$(logged 'no room to write')"
check_eq "no per-write store-full lines" 0 "$(logged -i 'failed (store full)')"
api POST /v1/messages "$(msg after)"
check_eq "intake answers 201 again" 201 "$CODE"
stop_daemon
check "the database passes integrity_check" test "$(sql 'pragma integrity_check')" = ok
stop_sink

# ---- 3. stopped before there is room ----
use_disk 3 3m
start_sink "$SMTP_PORT" || exit 1
start_daemon || exit 1
kill -STOP "$SINK_PID"
dd if=/dev/zero of="$T/disk3/filler" bs=64k count=30 status=none 2>/dev/null
fill e
check_eq "on a full disk, intake answers 503" 503 "$got"
flying=$(sql "select message_id from deliveries where state = 'sending'")
check "deliveries were in flight when the disk filled" test -n "$flying"
kill -CONT "$SINK_PID"
check "their mail reaches the SMTP server while the disk is full" wait_until 30 mailed
check "their outcomes are refused by the full disk (metric)" wait_until 30 refused_writes
stop_daemon
lost=$(sed -n 's/.*ERROR delivery \([0-9]*\): its outcome .* could not be recorded before the stop.*/\1/p' "$T/daemon.log")
check "at the stop, the log names the outcomes it could not record" test -n "$lost"
check_eq "exactly the deliveries the store still says are sending" \
  "$(sql "select group_concat(id, ' ') from (select id from deliveries where state = 'sending' order by id)")" \
  "$(tr '\n' ' ' <<<"$lost" | xargs -n1 | sort -n | xargs)"
check "nothing was sent whose attempt is not recorded" attempts_recorded
rm -f "$T/disk3/filler"
start_daemon || exit 1
check "after the restart every accepted message is recorded sent" wait_until 60 all_sent
lost_mids=$(for d in $lost; do sql "select message_id from deliveries where id = $d"; done)
twice() { for i in $lost_mids; do [ "$(mail_for "$i" | wc -l)" = 2 ] || return 1; done; }
check "those whose outcome was lost went out again (twice in all)" twice
once_rest() {
  local i
  for i in "${ids[@]}"; do
    grep -qxF "$i" <<<"$lost_mids" && continue
    [ "$(mail_for "$i" | wc -l)" = 1 ] || { echo "# message $i: $(mail_for "$i" | wc -l) mails" >&2; return 1; }
  done
}
check "every other message went out once" once_rest
stop_daemon
