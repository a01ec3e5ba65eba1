#!/usr/bin/env bash
# Callbacks on any node: two nodes on one PostgreSQL store behind one
# public address.  Node 1 alone sends SMS (node_channels) through a real
# Kannel; every node's public_url is node 2's, as a load balancer in front
# of both would make it, so Kannel's delivery reports and the phone's
# reply (Kannel's get-url) all reach node 2, which did not send anything.
# Node 2 records the report against node 1's attempt and the reply
# acknowledges the message; node 1 answers for both.
PG_STORE=1 . "$(dirname "$0")/lib.sh"
. "$ROOT/tests/peers/kannel.sh"
INTOK=inbound-$RANDOM$RANDOM$RANDOM-token
NUM=+15555550111
write_config
. "$(dirname "$0")/nodes.sh"
nodes_config 2
PUBLIC="http://127.0.0.1:${PORTS[1]}"
kannel_config "$PUBLIC/cb/sms/kannel/inbound?token=$INTOK&from=%p&to=%P&text=%a&coding=%c&charset=%C"
for n in 1 2; do
  cat >>"$T/etc/node$n.conf" <<CONF
public_url = "$PUBLIC";
sms = ( { name = "kannel"; kind = "kannel"; url = "$K_SENDSMS_URL";
          username = "$K_USER"; password = "$K_PASS"; from = "5550000";
          dlr_mask = 31; rate = 20; timeout = 5; connect_timeout = 2;
          inbound_token = "$INTOK"; } );
CONF
done
echo 'node_channels = [ "email", "sms" ];' >>"$T/etc/node1.conf"
echo 'node_channels = [ "email" ];' >>"$T/etc/node2.conf"
cat >"$T/etc/clients/test-clinic.conf" <<CONF
id = "test-clinic";
name = "Test Clinic";
timezone = "UTC";
contacts = ( { id = "office"; name = "On call";
               devices = ( { channel = "sms"; to = "$NUM"; gateway = "kannel"; } ); } );
rules = ( { notify = "contact:office"; } );
templates = { sms_txt = "{{client.name}}: {{caller.name}}. Reply ACK {{message.ack_ref}}\n{{text}}\n"; };
CONF
NODES_CLEANUP=kannel_stop
kannel_start || exit 1
start_nodes 2 || exit 1
ok "two nodes started"

dstate_is() { [ "$(HTTP_PORT=${PORTS[0]} msg_json "$1" | jq -r '.deliveries[0].state')" = "$2" ]; }
acked() { [ "$(HTTP_PORT=${PORTS[0]} msg_json "$1" | jq -r .acknowledged)" = true ]; }

ids=(); refs=()
for i in 1 2 3; do
  HTTP_PORT=${PORTS[$((i % 2))]}
  id=$(post_message "{\"client\":\"test-clinic\",\"caller\":{\"name\":\"Caller $i\",\"phone\":\"555-0100\"},\"text\":\"pipe burst $i\"}")
  check "message $i taken (node $((i % 2 + 1)))" test -n "$id"
  ids+=("$id"); refs+=("$(resp .ack_ref)")
done
for i in 0 1 2; do
  check "message $((i + 1)) delivered: Kannel's report, made to node 2, recorded" \
    wait_until 30 dstate_is "${ids[$i]}" delivered
done
check_eq "node 1 sent every SMS (node 2 does not serve sms)" "3 0" \
  "$(grep -c 'attempt mid=.*channel=sms' "$T/node1.log") $(grep -c 'attempt mid=.*channel=sms' "$T/node2.log")"
dlr_urls() { sed -n 's/.*SMSC\[FAKE\]: DLR = \(http[^ ]*\).*/\1/p' "$K_DIR/bearerbox.out"; }
check_eq "node 1 gave Kannel node 2's address for all three reports" "3 3" \
  "$(dlr_urls | wc -l) $(dlr_urls | grep -c "^$PUBLIC/cb/sms/dlr/")"
m=$(HTTP_PORT=${PORTS[0]} msg_json "${ids[0]}")
check "the ledger records Kannel's report" \
  test "$(jq -r '[.ledger[] | select(.type == "delivered") | .detail] | .[0]' <<<"$m")" = \
  "kannel report 1: delivered to phone (smsc FAKE)"

check "the phone replies \"ACK ${refs[1]}\" (through Kannel to node 2)" \
  kannel_inject "$NUM 5550000 text ACK ${refs[1]}"
check "the reply acknowledges message 2" wait_until 20 acked "${ids[1]}"
check "acked_by names the phone" grep -qF "$NUM" <<<"$(HTTP_PORT=${PORTS[0]} msg_json "${ids[1]}" | jq -r .acked_by)"
check_eq "the others are not acknowledged" "false false" \
  "$(for i in 0 2; do HTTP_PORT=${PORTS[0]} msg_json "${ids[$i]}" | jq -r .acknowledged; done | tr '\n' ' ' | sed 's/ $//')"
for k in 0 1; do stop_node "$k"; check_eq "node $((k + 1)) exits 0 on SIGTERM" 0 "$?"; done
check "no sanitizer report in the nodes' logs" bash -c \
  "! grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' $T/node*.log"
