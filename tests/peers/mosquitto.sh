# The real MQTT broker for tests: Debian's mosquitto 2.0 on loopback
# (shared/PEERS.md).  Sourced by integration scripts, so that the broker
# is a child of the script, stopped by PID and waited for.
#
#   mosquitto_start PORT DIR [auth] [persist] [tls]
#                                    writes DIR/mosquitto.conf (anonymous, or
#                                    with "auth" a password file for user
#                                    "pagegate" / password "mqtt-secret";
#                                    with "persist" sessions and queued
#                                    messages survive a restart, in DIR/data;
#                                    with "tls" the listener speaks TLS with a
#                                    certificate for IP 127.0.0.1 from a CA
#                                    made for the run, DIR/tls/ca.pem),
#                                    starts the broker (log on stderr into
#                                    DIR/mosquitto.log) and waits until it
#                                    answers an MQTT request
#   mosquitto_stop                   SIGTERM by PID, wait for it
#   mosquitto_restart                stop, then start again on the same port
#                                    with the same configuration
#   mosquitto_ready PORT             true when the broker answers on PORT
#   MQTT_CLIENT_OPTS                 options mosquitto_sub/_pub need for it
#                                    (credentials, CA), as an array
#
# Sets MQTT_PID, MQTT_PORT, MQTT_DIR.  As root mosquitto drops to the
# "mosquitto" user, which cannot write files under a private directory:
# hence log_dest stderr, and DIR/data is handed to that user for "persist".
MOSQUITTO_BIN=${MOSQUITTO_BIN:-/usr/sbin/mosquitto}
MQTT_PID=; MQTT_PORT=; MQTT_DIR=; MQTT_AUTH=; MQTT_PERSIST=; MQTT_TLS=
MQTT_CLIENT_OPTS=()

mosquitto_ready() {
  # a real MQTT exchange, bounded: subscribe to $SYS uptime and get one message
  timeout 5 mosquitto_sub -h 127.0.0.1 -p "$1" "${MQTT_CLIENT_OPTS[@]}" \
    -t '$SYS/broker/version' -C 1 -W 2 >/dev/null 2>&1
}

mosquitto_start() {
  MQTT_PORT=$1; MQTT_DIR=$2; MQTT_AUTH=; MQTT_PERSIST=; MQTT_TLS=; MQTT_CLIENT_OPTS=()
  local opt
  for opt in "${@:3}"; do
    case $opt in
      auth) MQTT_AUTH=1; MQTT_CLIENT_OPTS+=(-u pagegate -P mqtt-secret) ;;
      persist) MQTT_PERSIST=1 ;;
      tls) MQTT_TLS=1; MQTT_CLIENT_OPTS+=(--cafile "$2/tls/ca.pem") ;;
      *) echo "mosquitto_start: unknown option $opt" >&2; return 1 ;;
    esac
  done
  mkdir -p "$MQTT_DIR"
  chmod 755 "$MQTT_DIR"
  if [ -n "$MQTT_TLS" ]; then
    mosquitto_make_certs "$MQTT_DIR/tls" || return 1
  fi
  if [ -n "$MQTT_PERSIST" ]; then
    mkdir -p "$MQTT_DIR/data"
    [ "$(id -u)" -ne 0 ] || chown mosquitto: "$MQTT_DIR/data" || return 1
  fi
  {
    echo "per_listener_settings false"
    if [ -n "$MQTT_PERSIST" ]; then
      echo "persistence true"
      echo "persistence_location $MQTT_DIR/data/"
    else
      echo "persistence false"
    fi
    echo "log_dest stderr"
    echo "log_type error"
    echo "log_type warning"
    echo "log_type notice"
    echo "log_type information"
    echo "sys_interval 1"
    if [ -n "$MQTT_AUTH" ]; then
      echo "allow_anonymous false"
      echo "password_file $MQTT_DIR/passwd"
    else
      echo "allow_anonymous true"
    fi
    echo "listener $MQTT_PORT 127.0.0.1"
    if [ -n "$MQTT_TLS" ]; then
      echo "cafile $MQTT_DIR/tls/ca.pem"
      echo "certfile $MQTT_DIR/tls/server.pem"
      echo "keyfile $MQTT_DIR/tls/server.key"
    fi
  } >"$MQTT_DIR/mosquitto.conf"
  if [ -n "$MQTT_AUTH" ]; then
    rm -f "$MQTT_DIR/passwd"
    mosquitto_passwd -c -b "$MQTT_DIR/passwd" pagegate mqtt-secret >/dev/null 2>&1 || return 1
    chmod 644 "$MQTT_DIR/passwd"
  fi
  mosquitto_launch
}

# mosquitto_make_certs DIR: a CA (DIR/ca.pem) and a server certificate for
# IP 127.0.0.1 signed by it (DIR/server.pem, DIR/server.key); P-256 keys.
mosquitto_make_certs() {
  local d=$1
  mkdir -p "$d" && chmod 755 "$d" || return 1
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$d/ca.key" -out "$d/ca.pem" -days 2 -subj "/CN=pagegate test CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign" \
    >/dev/null 2>&1 &&
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$d/server.key" -out "$d/server.csr" -subj "/CN=127.0.0.1" >/dev/null 2>&1 &&
  printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >"$d/ext.cnf" &&
  openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" \
    -CAcreateserial -out "$d/server.pem" -days 2 -extfile "$d/ext.cnf" >/dev/null 2>&1 &&
  chmod 644 "$d"/*
}

mosquitto_launch() {
  "$MOSQUITTO_BIN" -c "$MQTT_DIR/mosquitto.conf" >>"$MQTT_DIR/mosquitto.log" 2>&1 &
  MQTT_PID=$!
  # lib.sh's wait_until; a broker that died ends the wait at once
  wait_until 15 mosquitto_up_or_gone
  if ! mosquitto_ready "$MQTT_PORT"; then
    echo "# mosquitto did not start on $MQTT_PORT:" >&2
    tail -5 "$MQTT_DIR/mosquitto.log" | sed 's/^/#   /' >&2
    mosquitto_stop
    return 1
  fi
}

mosquitto_up_or_gone() { mosquitto_ready "$MQTT_PORT" || ! kill -0 "$MQTT_PID" 2>/dev/null; }

mosquitto_stop() {
  [ -n "$MQTT_PID" ] || return 0
  kill -TERM "$MQTT_PID" 2>/dev/null
  wait "$MQTT_PID" 2>/dev/null
  MQTT_PID=
}

mosquitto_restart() {
  mosquitto_stop
  mosquitto_launch
}
