#!/usr/bin/env bash
# Full disk: the database lives on a real 3 MiB tmpfs.  Once the disk is
# full, intake answers 503 with a JSON error; nothing already stored is
# damaged; after space is freed, intake works again and the earlier
# messages are delivered.  Also the configured size cap (store.max_mb).
. "$(dirname "$0")/lib.sh"
write_config
mkdir -p "$T/var"
mount -t tmpfs -o size=3m tmpfs "$T/var" || { notok "mount a 3 MiB tmpfs for the store"; exit 1; }
umount_var() { umount "$T/var" 2>/dev/null; }
trap 'cleanup; umount_var' EXIT
start_daemon || exit 1

text=$(head -c 6000 /dev/zero | tr '\0' 'x')
msg() { printf '{"client":"test-clinic","caller":{"name":"Filler %s","phone":"555-0100"},"text":"%s","fields":{"address":"x"}}' "$1" "$text"; }
ids=()
# Fill most of the disk with a plain file, then messages until 503.
dd if=/dev/zero of="$T/var/filler" bs=64k count=28 status=none 2>/dev/null
got503=
for i in $(seq 1 400); do
  api POST /v1/messages "$(msg "$i")"
  if [ "$CODE" = 201 ]; then ids+=("$(resp .id)"); continue; fi
  got503=$CODE; break
done
check_eq "a full disk makes intake answer 503" 503 "$got503"
check_eq "with a JSON error code" store_full "$(resp .error.code)"
check "some messages were accepted before the disk filled" test "${#ids[@]}" -ge 1
api POST /v1/messages "$(msg again)"
check_eq "still 503 while the disk is full" 503 "$CODE"
check "GET of an earlier message still works while full" bash -c "curl -sf -H 'Authorization: Bearer $TOKEN' http://127.0.0.1:$HTTP_PORT/v1/messages/${ids[0]} | jq -e '.caller.name == \"Filler 1\"' >/dev/null"

rm -f "$T/var/filler"
api POST /v1/messages "$(msg after)"
check_eq "after space is freed, intake answers 201 again" 201 "$CODE"
start_sink "$SMTP_PORT" || exit 1
all_sent() { for i in "${ids[@]}"; do state_is "$i" sent || return 1; done; }
check "every message accepted before the disk filled is delivered" wait_until 60 all_sent
stop_daemon
check "the database passes integrity_check" test "$(sqlite3 "$T/var/pagegate.db" 'pragma integrity_check')" = ok
check_eq "stored messages = accepted ones (+1 after the space came back)" "$(( ${#ids[@]} + 1 ))" "$(db_count messages)"

# The configured cap behaves the same way.
sed -i 's/max_mb = 0;/max_mb = 1;/' "$T/etc/pagegate.conf"
rm -f "$T/var/pagegate.db"*
start_daemon || exit 1
n=0; code=201
while [ "$code" = 201 ] && [ $n -lt 400 ]; do api POST /v1/messages "$(msg cap$n)"; code=$CODE; n=$((n + 1)); done
check_eq "store.max_mb = 1: intake answers 503 past the cap" 503 "$code"
check "after fewer than 400 messages" test $n -lt 400
stop_daemon
