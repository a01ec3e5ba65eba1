#!/usr/bin/env bash
# What one node starts, another finishes - three nodes on one PostgreSQL
# store:
# - held messages for one recipient, taken round-robin by two nodes, go
#   out at opening as one digest (a recipient's released deliveries are
#   claimed together, by one node);
# - an emergency taken by a node whose clock runs 5 minutes ahead
#   (libfaketime) escalates on the database's clock: its second step
#   fires after the step's wait, not 5 minutes late;
# - the signed acknowledgement link in a page sent by one node is opened
#   and followed on another: the message is acknowledged and its next
#   step never fires.
# The client opens at a minute boundary 30 to 90 s away (UTC zone).
PG_STORE=1 . "$(dirname "$0")/lib.sh"
write_config
open_next_minute || exit 1
cat >"$T/etc/clients/test-clinic.conf" <<CONF
id = "test-clinic";
name = "Test Clinic";
timezone = "UTC";
business_hours = ( { days = "Sun-Sat"; from = "$open_at"; to = "$close_at"; } );
contacts = (
  { id = "office"; name = "Office"; devices = ( { channel = "email"; to = "office@clinic.example"; } ); },
  { id = "oncall"; name = "On Call"; devices = ( { channel = "email"; to = "oncall@clinic.example"; } ); },
  { id = "doc"; name = "Doctor"; devices = ( { channel = "email"; to = "doc@clinic.example"; } ); }
);
escalation = (
  { id = "fast"; steps = ( { notify = "contact:oncall"; wait = "3s"; },
                           { notify = "contact:doc"; wait = "3s"; } ); },
  { id = "slow"; steps = ( { notify = "contact:oncall"; wait = "8s"; },
                           { notify = "contact:doc"; wait = "8s"; } ); }
);
rules = (
  { when = { kind = "dispatch"; urgency = "emergency"; }; escalate = "fast"; },
  { when = { kind = "dispatch"; }; escalate = "slow"; },
  { when = { hours = "after"; }; notify = "contact:office"; hold = "business"; },
  { notify = "contact:office"; }
);
CONF
. "$(dirname "$0")/nodes.sh"
nodes_config 3
start_sink "$SMTP_PORT" || exit 1
start_node 0 && start_node 1 || exit 1
# node 3: its clock 5 minutes ahead
start_node 2 LD_PRELOAD=/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1 \
  FAKETIME="+300s" FAKETIME_DONT_FAKE_MONOTONIC=1 \
  ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" || exit 1
ok "three nodes started"
node3_at=$(date -u -d "$(head -1 "$T/node3.log" | cut -d' ' -f1)" +%s)
check "node 3's clock runs about 5 minutes ahead (its log's first line)" \
  test $((node3_at - $(date -u +%s))) -ge 280 -a $((node3_at - $(date -u +%s))) -le 320

post() {   # PORT NAME TEXT [KIND URGENCY]
  HTTP_PORT=$1 post_message "$(jq -n --arg n "$2" --arg t "$3" --arg k "${4:-message}" \
    --arg u "${5:-routine}" '{client:"test-clinic", kind:$k, urgency:$u,
     caller:{name:$n, phone:"555-0100"}, text:$t}')"
}
rcpt_files() { grep -l "^X-Rcpt-Args: <$1>" "$T"/mail/msg.* 2>/dev/null; }
mail_to() { for f in $(rcpt_files "$2"); do grep -q "^X-Pagegate-Message: $1"$'\r'"\?$" "$f" && echo "$f"; done; }
has_mail_to() { [ -n "$(mail_to "$1" "$2")" ]; }

# ---- held: six messages, two nodes, one digest ----
held=()
for i in 1 2 3 4 5 6; do
  id=$(post "${PORTS[$((i % 2))]}" "Caller $i" "after-hours note number $i")
  check "routine message $i held (node $(( i % 2 + 1 )))" test -n "$id" -a "$(resp '.deliveries[0].state')" = held
  held+=("$id")
done

# ---- the database's clock: an emergency taken on node 3 ----
e=$(post "${PORTS[2]}" "Skewed" "no heat, node 3" dispatch emergency)
check "an emergency is taken on node 3" test -n "$e"
taken=$(date -u +%s)
check "its first step reaches the on-call" wait_until 20 has_mail_to "$e" oncall@clinic.example
check "its second step fires on the database's clock, not 5 minutes late" \
  wait_until 30 has_mail_to "$e" doc@clinic.example
check "and not before the step's wait of 3 s" test $(( $(date -u +%s) - taken )) -ge 3

# ---- a link from one node, followed on another ----
s=$(post "${PORTS[0]}" "Linked" "burst pipe, node 1" dispatch)
check "a dispatch is taken on node 1" test -n "$s"
check "its page reaches the on-call" wait_until 20 has_mail_to "$s" oncall@clinic.example
link=$(parse_mail "$(mail_to "$s" oncall@clinic.example | head -1)" | jq -r .body |
  grep -oE 'https?://[^ ]+/a/[A-Za-z0-9_-]+' | head -1)
# the link is the public_url of the node that sent the page; another opens it
lport=${link%/a/*}; lport=${lport##*:}
check "the page carries a node's link" grep -qw "$lport" <<<"${PORTS[*]}"
for p in "${PORTS[@]}"; do [ "$p" != "$lport" ] && oport=$p; done
other="http://127.0.0.1:$oport/a/${link##*/a/}"
check_eq "another node opens it (200)" 200 "$(curl -s -o "$T/page" -w '%{http_code}' "$other")"
check_eq "and takes the acknowledgement (200)" 200 "$(curl -s -o "$T/page" -w '%{http_code}' -X POST \
  -H 'Content-Type: application/x-www-form-urlencoded' --data '' "$other")"
s_taken=$(date -u +%s)
check_eq "the message is acknowledged (seen on node 3)" true \
  "$(HTTP_PORT=${PORTS[2]} msg_json "$s" | jq -r .acknowledged)"
check "by its on-call, by link" grep -q "On Call" <<<"$(HTTP_PORT=${PORTS[2]} msg_json "$s" | jq -r .acked_by)"

# ---- the opening: one digest ----
all_sent() { for i in "${held[@]}"; do HTTP_PORT=${PORTS[2]} state_is "$i" sent || return 1; done; }
check "every held message is sent after the opening" wait_until 150 all_sent
check "not before the opening time" test "$(date -u +%s)" -ge "$open_epoch"
check_eq "exactly one mail to the office: the digest" 1 "$(rcpt_files office@clinic.example | wc -l)"
body=$(parse_mail "$(rcpt_files office@clinic.example)" | jq -r .body)
check "it counts six messages" grep -q "^6 messages for Test Clinic taken while you were closed" <<<"$body"
for i in 1 2 3 4 5 6; do
  check "it lists message $i" grep -qF "after-hours note number $i" <<<"$body"
done
past() { [ "$(date -u +%s)" -ge "$1" ]; }
wait_until 30 past $((s_taken + 18))    # past its second step's time (8 + 8 s)
check_eq "no step to the doctor after the acknowledgement on the other node" "" \
  "$(mail_to "$s" doc@clinic.example)"
check_eq "its escalation is ended, not fired" 0 \
  "$(db_sql "select count(*) from events where message_id = $s and type = 'escalated'")"
for k in 0 1 2; do
  stop_node "$k"; check_eq "node $((k + 1)) exits 0 on SIGTERM" 0 "$?"
done
check "no sanitizer report in the nodes' logs" bash -c \
  "! grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' $T/node*.log"
