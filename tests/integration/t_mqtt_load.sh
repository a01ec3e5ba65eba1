#!/usr/bin/env bash
# The mqtt channel under load, against a real mosquitto broker (persistent,
# so that what it acknowledged survives its restart):
#   1. 500 pages submitted at once reach an MQTT 5 subscriber exactly
#      once each; every delivery ends sent after one attempt whose reply is
#      the broker's PUBACK for it (the store's delivery id is the one in
#      the page).
#   2. While 1000 more pages go out, the broker is frozen (SIGSTOP), then
#      stopped by PID (SIGTERM) with pages waiting for their PUBACKs, and
#      started again: every page ends sent
#      with a PUBACK recorded as the outcome of its last attempt, and
#      reaches the subscriber at least once (QoS 1 is at-least-once: the
#      duplicates are counted, printed and bounded by the pages in flight).
. "$(dirname "$0")/lib.sh"
. "$ROOT/tests/peers/mosquitto.sh"

N=500; N2=1000
MQTT_PORT=$(free_port)
SUB_PID=
stop_sub() {
  [ -n "$SUB_PID" ] || return 0
  kill "$SUB_PID" 2>/dev/null; wait "$SUB_PID" 2>/dev/null; SUB_PID=
}
finish() {
  [ -z "$MQTT_PID" ] || kill -CONT "$MQTT_PID" 2>/dev/null
  stop_sub; mosquitto_stop; cleanup
}
trap finish EXIT

# An app's subscriber: MQTT 5, persistent session (it reconnects by itself
# after the broker's restart and gets what was queued for it), QoS 1, one
# line per message: topic|qos|payload in hex.
start_sub() {
  mosquitto_sub -h 127.0.0.1 -p "$MQTT_PORT" -V mqttv5 -c -x 3600 -i pg-load-app -q 1 \
    -t 'pages/storm/#' -F '%t|%q|%x' >>"$T/sub.out" 2>>"$T/sub.err" &
  SUB_PID=$!
}
sub_ready() {
  mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -q 1 -t pages/storm/probe -m "$1" &&
    grep -q "^pages/storm/probe|1|$(printf %s "$1" | xxd -p)\$" "$T/sub.out"
}
# received: "DELIVERY_ID COUNT" per delivery the subscriber got (pages on
# pages/storm/office, decoded), sorted by id.
received() {
  $PY - "$T/sub.out" <<'PYEOF' | sort -n
import collections, json, sys
c = collections.Counter()
for line in open(sys.argv[1], encoding='ascii', errors='replace'):
    f = line.rstrip('\n').split('|')
    if len(f) == 3 and f[0] == 'pages/storm/office' and f[1] == '1':
        c[json.loads(bytes.fromhex(f[2]))['delivery']] += 1
for d, n in c.items():
    print(d, n)
PYEOF
}
n_received() { received | wc -l; }
received_at_least() { [ "$(n_received)" -ge "$1" ]; }
n_state() { db_sql "select count(*) from deliveries where channel = 'mqtt' and state = '$1'"; }
all_sent() { [ "$(n_state sent)" -eq "$1" ]; }
# submit N: N routine messages from 16 concurrent operators
submit() {
  PAGEGATE_TOKEN=$TOKEN "$BUILD/bench/intake_load" -u "http://127.0.0.1:$HTTP_PORT" \
    -c 16 -n "$1" -C storm >"$T/load.out" 2>&1
  sed -n 's/^intake_errors //p' "$T/load.out"
}
# The outcome of each mqtt delivery's last attempt: "ID OUTCOME REPLY".
last_attempts() {
  db_sql "select d.id || ' ' || a.outcome || ' ' || a.reply from deliveries d
          join attempts a on a.id = (select max(id) from attempts where delivery_id = d.id)
          where d.channel = 'mqtt' order by d.id"
}

# the app's queue on the broker is not cut at mosquitto's default 1000
mosquitto_start "$MQTT_PORT" "$T/mqtt" persist || exit 1
echo "max_queued_messages 0" >>"$T/mqtt/mosquitto.conf"
mosquitto_restart || exit 1
write_config
sed -i 's/^retry = { email = \(.*\) };$/retry = { email = \1 mqtt = \1 };/' "$T/etc/pagegate.conf"
cat >>"$T/etc/pagegate.conf" <<CONF
max_per_address = 512;   # every operator here is 127.0.0.1
mqtt = { host = "127.0.0.1"; port = $MQTT_PORT; tls = false; client_id = "pagegate-load";
         keepalive = 5; protocol = "v5"; qos = 1; timeout = "5s"; };
CONF
cat >"$T/etc/clients/storm.conf" <<'CONF'
id = "storm";
name = "Storm Heating & Cooling";
dnis = [ "8005550199" ];
timezone = "UTC";
business_hours = ( { days = "Sun-Sat"; from = "00:00"; to = "24:00"; } );
contacts = ( { id = "office"; name = "Front office";
               devices = ( { channel = "mqtt"; topic = "pages/{client}/{contact}"; } ); } );
rules = ( { notify = "contact:office"; } );
CONF
start_sub
check "the subscriber is subscribed" wait_until 10 sub_ready first
start_daemon || exit 1
check "pagegate connects to the broker" wait_until 10 grep -q "mqtt: connected to 127.0.0.1:$MQTT_PORT" "$T/daemon.log"

# ---- 1. 500 pages at once: each received exactly once, each sent on its PUBACK ----
check_eq "$N messages accepted" 0 "$(submit $N)"
check "every delivery ends sent" wait_until 60 all_sent $N
check "the subscriber received $N distinct pages" wait_until 20 received_at_least $N
r=$(received)
check_eq "each exactly once" "" "$(awk '$2 != 1' <<<"$r")"
check_eq "the pages received are the store's deliveries" \
  "$(db_sql "select id from deliveries where channel = 'mqtt' order by id")" "$(cut -d' ' -f1 <<<"$r")"
check_eq "one attempt per delivery" "$N" "$(db_count attempts)"
check_eq "every attempt ok with the broker's PUBACK for its page" "" \
  "$(last_attempts | grep -Ev "^[0-9]+ ok PUBACK from 127\.0\.0\.1:$MQTT_PORT for pages/storm/office \(mid [0-9]+[,)]")"
check_eq "one sent event per delivery" "$N" "$(db_sql "select count(*) from events where type = 'sent'")"

# ---- 2. the broker stops while pages wait for their PUBACKs ----
# 1000 more go out at full speed; after the first 50 have arrived the
# broker is frozen (what was published meanwhile waits for its PUBACK),
# then stopped by PID: it may answer some of what it has read before it
# exits, the rest gets no PUBACK.
PAGEGATE_TOKEN=$TOKEN "$BUILD/bench/intake_load" -u "http://127.0.0.1:$HTTP_PORT" \
  -c 16 -n $N2 -C storm >"$T/load2.out" 2>&1 &
LOAD_PID=$!
sub_lines_at_least() { [ "$(wc -l <"$T/sub.out")" -ge "$1" ]; }
WAIT_POLL=0.01 wait_until 60 sub_lines_at_least $((N + 1 + 50))
kill -STOP "$MQTT_PID"
wait "$LOAD_PID"
check_eq "$N2 more messages accepted" 0 "$(sed -n 's/^intake_errors //p' "$T/load2.out")"
in_flight() { [ "$(n_state sending)" -gt 0 ]; }
check "pages are published and wait for their PUBACKs when the broker stops" wait_until 20 in_flight
echo "# at the stop: $(n_state sending) sending, $(n_state queued) queued, $(n_state sent) sent"
kill -TERM "$MQTT_PID"; kill -CONT "$MQTT_PID"
wait "$MQTT_PID"; MQTT_PID=
check "pagegate notices the broker is gone" wait_until 10 grep -q "mqtt broker 127.0.0.1:$MQTT_PORT: connection lost" "$T/daemon.log"
mosquitto_restart || exit 1
check "every delivery of both rounds ends sent" wait_until 60 all_sent $((N + N2))
check "the subscriber received every page at least once" wait_until 30 received_at_least $((N + N2))
r=$(received)
check_eq "the pages received are the store's deliveries" \
  "$(db_sql "select id from deliveries where channel = 'mqtt' order by id")" "$(cut -d' ' -f1 <<<"$r")"
dups=$(awk '$2 > 1 { d += $2 - 1 } END { print d + 0 }' <<<"$r")
temp=$(db_sql "select count(*) from attempts where outcome = 'temp'")
echo "# after the restart: $dups duplicate copies received (QoS 1); $temp attempts were temporary failures"
check "duplicates at most one per page of the second round" test "$dups" -le "$N2"
check_eq "every delivery's last attempt is ok with a PUBACK" "" \
  "$(last_attempts | grep -Ev "^[0-9]+ ok PUBACK from 127\.0\.0\.1:$MQTT_PORT for pages/storm/office \(mid [0-9]+[,)]")"
check_eq "no attempt is left running" 0 "$(db_sql "select count(*) from attempts where outcome is null")"
check_eq "every temporary failure says why" "" \
  "$(db_sql "select reply from attempts where outcome = 'temp'" | grep -Ev '^(connection to 127\.0\.0\.1:[0-9]+ lost before the PUBACK|broker not connected .*|no PUBACK from .*)$' | sort -u)"
check_eq "sent events: one per delivery" "$((N + N2))" "$(db_sql "select count(*) from events where type = 'sent'")"
stop_daemon
