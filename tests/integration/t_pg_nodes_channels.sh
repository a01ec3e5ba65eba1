#!/usr/bin/env bash
# Nodes limited to the channels they send (node_channels), on one
# PostgreSQL store, against Postfix smtp-sink and a real mosquitto broker:
#   1. node n1 sends email only, node n2 mqtt only; messages paging both
#      an email and an mqtt contact, submitted to both nodes: every mail
#      reaches the sink and every page the subscriber, once, each attempt
#      made by the node of its channel (the ledger's attempt_started names
#      the node);
#   2. first-delivery latency of email for messages taken by n2 (which
#      does not send email): n1 hears of them through NOTIFY, or without
#      it (PAGEGATE_NO_LISTEN=1) at its next poll.  Printed, not asserted.
#   3. node_channels on a node without a name, or naming an unknown
#      channel: refused with file:line.
PG_STORE=1 . "$(dirname "$0")/lib.sh"
. "$ROOT/tests/peers/mosquitto.sh"
N=${PG_CHANNELS_MESSAGES:-20}
K=${PG_LATENCY_MESSAGES:-10}
MQTT_PORT=$(free_port)
SUB_PID=
cleanup_peers() {
  [ -n "$SUB_PID" ] && { kill "$SUB_PID"; wait "$SUB_PID"; } 2>/dev/null
  mosquitto_stop
}
trap 'cleanup_peers; cleanup' EXIT
mosquitto_start "$MQTT_PORT" "$T/mqtt" || exit 1
mosquitto_sub -h 127.0.0.1 -p "$MQTT_PORT" -V mqttv5 -q 1 -t 'pages/#' -F '%t|%p' \
  >>"$T/sub.out" 2>>"$T/sub.err" &
SUB_PID=$!
sub_ready() {
  mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -q 1 -t pages/probe -m "$1" &&
    grep -qx "pages/probe|$1" "$T/sub.out"
}
check "the subscriber is subscribed" wait_until 10 sub_ready first
write_config
cat >"$T/etc/clients/test-clinic.conf" <<'CONF'
id = "test-clinic";
name = "Test Clinic";
timezone = "UTC";
contacts = (
  { id = "office"; name = "Front Office";
    devices = ( { channel = "email"; to = "office@clinic.example"; } ); },
  { id = "doc"; name = "Doctor";
    devices = ( { channel = "mqtt"; topic = "pages/{client}/{contact}"; } ); } );
rules = ( { notify = [ "contact:office", "contact:doc" ]; } );
CONF
. "$(dirname "$0")/nodes.sh"
NODES_CLEANUP=cleanup_peers
nodes_config 2
chans=('[ "email" ]' '[ "mqtt" ]')
for n in 1 2; do
  cat >>"$T/etc/node$n.conf" <<CONF
node_channels = ${chans[$((n - 1))]};
mqtt = { host = "127.0.0.1"; port = $MQTT_PORT; tls = false; client_id = "pagegate-n$n";
         keepalive = 5; protocol = "v5"; qos = 1; timeout = "5s";
         ack_topic = "pages/+/+/ack"; };
CONF
done
stop_nodes() { local rc=0; stop_node 0 || rc=$?; stop_node 1 || rc=$?; return $rc; }
start_sink "$SMTP_PORT" || exit 1
start_nodes 2 || exit 1
ok "two nodes started"
check "n1 says it sends email only" grep -q 'node "n1" sends email only' "$T/node1.log"
check "n2 says it sends mqtt only" grep -q 'node "n2" sends mqtt only' "$T/node2.log"

# ---- 1. each channel by its node ----
MSG='{"client":"test-clinic","caller":{"name":"Split","phone":"555-0100"},"text":"two channels"}'
ids=()
for i in $(seq 1 "$N"); do
  HTTP_PORT=${PORTS[$((i % 2))]}
  ids+=("$(post_message "$MSG")")
done
check_eq "$N messages accepted by the two nodes" "$N" "$(printf '%s\n' "${ids[@]}" | grep -c '^[0-9]')"
all_sent() { [ "$(db_sql "select count(*) from deliveries where state != 'sent'")" = 0 ]; }
check "every delivery is sent" wait_until 60 all_sent
check_eq "the sink received $N mails" "$N" "$(mail_count)"
check_eq "each message's mail once" "$N" "$(grep -h '^X-Pagegate-Message:' "$T"/mail/msg.* | sort -u | wc -l)"
pages=$(grep -c '^pages/test-clinic/doc|' "$T/sub.out")
check_eq "the subscriber received $N pages" "$N" "$pages"
check_eq "every email attempt was made by n1" "$N 0" \
  "$(db_sql "select count(*) filter (where e.detail like '%(node n1)'), count(*) filter (where e.detail not like '%(node n1)')
     from events e join deliveries d on d.id = e.delivery_id where e.type = 'attempt_started' and d.channel = 'email'" | tr '|' ' ')"
check_eq "every mqtt attempt by n2" "$N 0" \
  "$(db_sql "select count(*) filter (where e.detail like '%(node n2)'), count(*) filter (where e.detail not like '%(node n2)')
     from events e join deliveries d on d.id = e.delivery_id where e.type = 'attempt_started' and d.channel = 'mqtt'" | tr '|' ' ')"
check "n1's log has no mqtt outcome" bash -c "! grep -q 'channel=mqtt.*outcome=\|mqtt.*outcome=' '$T/node1.log'"
# /metrics on each node counts what that node did
metric() { curl -s "http://127.0.0.1:${PORTS[$1]}/metrics" | sed -n "s/^$2 //p"; }
check_eq "n1's /metrics: its $N email attempts, no mqtt" "$N " \
  "$(metric 0 'pagegate_attempts_total{channel="email",outcome="ok"}') $(metric 0 'pagegate_attempts_total{channel="mqtt",outcome="ok"}' | grep -v '^0$')"
check_eq "n2's /metrics: its $N mqtt attempts" "$N" \
  "$(metric 1 'pagegate_attempts_total{channel="mqtt",outcome="ok"}')"
check_eq "the messages each node took: $((N / 2)) and $((N / 2))" "$((N / 2)) $((N / 2))" \
  "$(metric 0 pagegate_messages_received_total) $(metric 1 pagegate_messages_received_total)"

# an acknowledgement published by the device: both nodes listen on the ack
# topic; the message (taken by n1, paged by n2) is acknowledged once
a=${ids[1]}; ref=$(HTTP_PORT=${PORTS[0]} msg_json "$a" | jq -r .ack_ref)
mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -q 1 -t pages/test-clinic/doc/ack -m "{\"ack\":\"$ref\",\"by\":\"Dr. Node\"}"
acked_n1() { [ "$(HTTP_PORT=${PORTS[0]} msg_json "$a" | jq -r .acknowledged)" = true ]; }
check "an MQTT ack of a page n2 sent acknowledges the message (seen on n1)" wait_until 15 acked_n1
check_eq "by the ack's sender, via mqtt" "Dr. Node via mqtt" "$(HTTP_PORT=${PORTS[0]} msg_json "$a" | jq -r .acked_by)"
check_eq "one acknowledged event, though both nodes heard it" 1 \
  "$(db_sql "select count(*) from events where message_id = $a and type = 'acknowledged'")"
check_eq "the other messages are not acknowledged" 0 \
  "$(db_sql "select count(*) from messages where acked_ms is not null and id != $a")"

# ---- 2. first-delivery latency of what the other node took ----
latency() {   # LABEL: K messages to n2, one at a time; mean and max ms to n1's email attempt
  local lat=() id
  HTTP_PORT=${PORTS[1]}
  for i in $(seq 1 "$K"); do
    id=$(post_message "${MSG/two channels/latency $1 $i}")
    wait_until 10 state_is "$id" sent
    lat+=("$(db_sql "select min(s.at_ms) - min(r.at_ms) from events s join deliveries d on d.id = s.delivery_id
       join events r on r.message_id = s.message_id and r.type = 'received'
       where s.message_id = $id and s.type = 'attempt_started' and d.channel = 'email'")")
  done
  printf '%s\n' "${lat[@]}" | awk -v l="$1" '{s += $1; if ($1 > m) m = $1} END {
    printf "# first email attempt after intake on the other node, %s: mean %d ms, max %d ms (%d messages)\n", l, s / NR, m, NR }'
}
latency "with NOTIFY"
check "stopped cleanly" stop_nodes
PAGEGATE_NO_LISTEN=1 start_nodes 2 || exit 1
latency "polling only (PAGEGATE_NO_LISTEN=1)"
check "stopped cleanly again" stop_nodes
check_eq "no possible duplicate" 0 "$(db_sql "select count(*) from events where type = 'possible_duplicate'")"

# ---- 3. configuration errors ----
sed -e '/^node = /d' "$T/etc/node1.conf" >"$T/etc/bad1.conf"
out=$("$BUILD/pagegated" -n -c "$T/etc/bad1.conf" 2>&1)
check "node_channels without node: refused with file:line" \
  grep -qE "bad1.conf:[0-9]+: .*node_channels needs a node name" <<<"$out"
sed -e 's/^node_channels = .*/node_channels = [ "email", "pigeon" ];/' "$T/etc/node1.conf" >"$T/etc/bad2.conf"
out=$("$BUILD/pagegated" -n -c "$T/etc/bad2.conf" 2>&1)
check "an unknown channel: refused with file:line, naming it" \
  grep -qE 'bad2.conf:[0-9]+: .*"pigeon"' <<<"$out"
check "no sanitizer report in the nodes' logs" \
  bash -c "! grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' $T/node*.log"
