# Kannel 1.4.5 (bearerbox + smsbox) with its fake SMSC, for integration
# tests (sourced after tests/integration/lib.sh; see shared/PEERS.md).
#
#   kannel_config GET_URL   write $T/kannel/kannel.conf on fresh ports
#   kannel_start            bearerbox, the fakesmsc client, smsbox; waits
#                           until the SMSC is online and sendsms answers
#   kannel_stop             stops all three by PID and reaps them
#   kannel_inject LINE      the fake SMSC sends "FROM TO text BODY" (an
#                           SMS from a phone); waits until bearerbox
#                           counts it received
#   kannel_got              what the fake SMSC received so far, one
#                           "FROM TO TYPE ..." line per SMS segment
#   received [ucs2|gsm]     the same as one JSON line per SMS a phone
#                           would show (kannel_received.py)
#
# fakesmsc runs in its interactive mode: its stdin is a FIFO that this
# shell holds open, so lines written to it are sent to bearerbox as
# mobile-originated SMS, while everything bearerbox delivers is printed
# as "Got message N: <FROM TO TYPE DATA>" (appended across restarts).  It
# reads one line per wakeup, so kannel_inject writes one line and waits
# until bearerbox's status page counts it before returning.
#
# Variables: K_ADMIN K_SMSBOX K_SENDSMS K_SMSC (ports), K_USER K_PASS,
# K_SENDSMS_URL, K_DIR, K_BB_PID K_FAKE_PID K_SB_PID.
K_BB_PID=; K_FAKE_PID=; K_SB_PID=; K_FD=

kannel_config() {
  local get_url=$1
  K_DIR=$T/kannel
  mkdir -p "$K_DIR"
  K_ADMIN=$(free_port); K_SMSBOX=$(free_port); K_SENDSMS=$(free_port); K_SMSC=$(free_port)
  K_ADMINPW=adm-$RANDOM$RANDOM
  K_USER=pagegate; K_PASS=kpw-$RANDOM$RANDOM
  K_SENDSMS_URL="http://127.0.0.1:$K_SENDSMS/cgi-bin/sendsms"
  cat >"$K_DIR/kannel.conf" <<CONF
group = core
admin-port = $K_ADMIN
admin-interface = 127.0.0.1
admin-password = $K_ADMINPW
status-password = $K_ADMINPW
admin-allow-ip = "127.0.0.1"
smsbox-port = $K_SMSBOX
smsbox-interface = 127.0.0.1
box-allow-ip = "127.0.0.1"
log-file = "$K_DIR/bearerbox.log"
log-level = 1
dlr-storage = internal

group = smsc
smsc = fake
smsc-id = FAKE
port = $K_SMSC
connect-allow-ip = 127.0.0.1

group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = $K_SMSBOX
sendsms-port = $K_SENDSMS
sendsms-interface = 127.0.0.1
global-sender = 5550000
mo-recode = true
log-file = "$K_DIR/smsbox.log"
log-level = 1

group = sendsms-user
username = $K_USER
password = $K_PASS
max-messages = 10
concatenation = true

group = sms-service
keyword = default
catch-all = true
max-messages = 0
get-url = "$get_url"
CONF
}

kannel_online() {
  curl -s --max-time 2 "http://127.0.0.1:$K_ADMIN/status.txt?password=$K_ADMINPW" 2>/dev/null |
    grep -q "FAKE:$K_SMSC (online" && port_open "$K_SENDSMS"
}

kannel_start() {
  /usr/sbin/bearerbox "$K_DIR/kannel.conf" >>"$K_DIR/bearerbox.out" 2>&1 &
  K_BB_PID=$!
  wait_until 10 port_open "$K_SMSC" || { notok "bearerbox listens on $K_SMSC"; return 1; }
  rm -f "$K_DIR/smsc.fifo"; mkfifo "$K_DIR/smsc.fifo"
  exec {K_FD}<>"$K_DIR/smsc.fifo"
  touch "$K_DIR/fakesmsc.out"
  /usr/lib/kannel/test/fakesmsc -H 127.0.0.1 -r "$K_SMSC" <"$K_DIR/smsc.fifo" \
    >>"$K_DIR/fakesmsc.out" 2>&1 &
  K_FAKE_PID=$!
  /usr/sbin/smsbox "$K_DIR/kannel.conf" >>"$K_DIR/smsbox.out" 2>&1 &
  K_SB_PID=$!
  wait_until 20 kannel_online || { notok "Kannel online (FAKE:$K_SMSC)"; return 1; }
}

kannel_stop() {
  local p
  for p in "$K_SB_PID" "$K_FAKE_PID" "$K_BB_PID"; do
    [ -n "$p" ] || continue
    kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null
  done
  K_BB_PID=; K_FAKE_PID=; K_SB_PID=
  if [ -n "$K_FD" ]; then exec {K_FD}>&-; K_FD=; fi
}

# SMS bearerbox has received from the fake SMSC (its status page).
kannel_rcvd() {
  curl -s --max-time 2 "http://127.0.0.1:$K_ADMIN/status.txt?password=$K_ADMINPW" |
    sed -n "s/.*FAKE:$K_SMSC (online.*rcvd: sms \([0-9]*\) .*/\1/p"
}
kannel_rcvd_above() { local n; n=$(kannel_rcvd); [ -n "$n" ] && [ "$n" -gt "$1" ]; }
kannel_inject() {
  local before; before=$(kannel_rcvd)
  [ -n "$before" ] || return 1
  printf '%s\n' "$1" >&"$K_FD"
  wait_until 10 kannel_rcvd_above "$before"
}
kannel_got() { sed -n 's/.*Got message [0-9]*: <\(.*\)>$/\1/p' "$K_DIR/fakesmsc.out"; }
# received [ucs2|gsm]: what the fake SMSC received, one JSON line per SMS
# a phone would show (tests/peers/kannel_received.py says which fields).
received() { kannel_got | $PY "$ROOT/tests/peers/kannel_received.py" "${1:-auto}"; }
