#!/usr/bin/env bash
# Email over STARTTLS (off / opportunistic / required), certificate checks
# against tls_ca, SMTP AUTH, and one SMTP session per batch, against real
# servers: aiosmtpd (tests/peers/smtpd_tls_auth.py) with throwaway CAs made
# by openssl here, and Postfix smtp-sink as a server without STARTTLS.
# One daemon serves every case: one gateway and one client per case.
. "$(dirname "$0")/lib.sh"
PEER="$ROOT/tests/peers/smtpd_tls_auth.py"
PEER_PIDS=()
stop_peers() {
  local p
  for p in "${PEER_PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  PEER_PIDS=()
}
trap 'stop_peers; cleanup' EXIT

# ---- throwaway CAs and server certificates ----
C=$T/certs; mkdir -p "$C"
ossl() { openssl "$@" 2>>"$C/openssl.log"; }
mkca() {   # mkca NAME
  ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -subj "/CN=pagegate test $1" -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" -keyout "$C/$1.key" -out "$C/$1.pem"
}
mkcert() { # mkcert NAME CA SAN
  ossl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=$1" \
    -keyout "$C/$1.key" -out "$C/$1.csr" &&
  printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' "$3" >"$C/$1.ext" &&
  ossl x509 -req -in "$C/$1.csr" -CA "$C/$2.pem" -CAkey "$C/$2.key" -CAcreateserial \
    -days 2 -extfile "$C/$1.ext" -out "$C/$1.pem"
}
mkca ca1 && mkca ca2 &&
  mkcert good ca1 "DNS:localhost,IP:127.0.0.1" &&      # trusted, right names
  mkcert other ca2 "DNS:localhost,IP:127.0.0.1" &&     # right names, other CA
  mkcert wrongname ca1 "DNS:mail.other.example"        # trusted, wrong name
check "openssl made two CAs and three server certificates" test -s "$C/wrongname.pem"
check "the good certificate verifies against ca1 only" bash -c \
  'openssl verify -CAfile "$1/ca1.pem" "$1/good.pem" >/dev/null && ! openssl verify -CAfile "$1/ca1.pem" "$1/other.pem" >/dev/null 2>&1' _ "$C"

# ---- servers ----
start_peer() {   # start_peer NAME PORT ARGS...
  local name=$1 port=$2; shift 2
  mkdir -p "$T/$name"
  "$PY" "$PEER" --port "$port" --dir "$T/$name" --max-seconds 240 "$@" \
    >"$T/$name.out" 2>"$T/$name.err" &
  PEER_PIDS+=($!)
  wait_until 15 grep -qsx ready "$T/$name.out" ||
    { notok "smtpd $name listening on $port"; cat "$T/$name.err"; return 1; }
}
P_GOOD=$(free_port); P_OTHER=$(free_port); P_NAME=$(free_port)
P_PLAIN=$(free_port); P_BATCH=$(free_port)
start_peer good "$P_GOOD" --cert "$C/good.pem" --key "$C/good.key" \
  --user alice --password 's3cret pass' --auth-required || exit 1
start_peer other "$P_OTHER" --cert "$C/other.pem" --key "$C/other.key" || exit 1
start_peer wrongname "$P_NAME" --cert "$C/wrongname.pem" --key "$C/wrongname.key" || exit 1
start_peer plain "$P_PLAIN" --user alice --password 's3cret pass' --plain-auth || exit 1
start_sink "$SMTP_PORT" || exit 1     # no STARTTLS

# ---- configuration: gateway NAME per case, client c-NAME -> NAME@tls.example ----
write_config
sed -i '/^smtp = (/,/} );$/d' "$T/etc/pagegate.conf"
GWS=(); GWLINES=()
gw() {   # gw NAME HOST PORT STARTTLS [key = value; ...]
  GWS+=("$1")
  GWLINES+=("  { name = \"$1\"; host = \"$2\"; port = $3; starttls = \"$4\"; from = \"pagegate@test.example\"; timeout = 10; ${5:-} }")
}
AUTH='user = "alice"; password = "s3cret pass";'
CA1="tls_ca = \"$C/ca1.pem\";"
gw sink 127.0.0.1 "$SMTP_PORT" off            # the default, for test-clinic
gw req 127.0.0.1 "$P_GOOD" required "$CA1 $AUTH"
gw reqdns localhost "$P_GOOD" required "$CA1 $AUTH"
gw badca 127.0.0.1 "$P_OTHER" required "$CA1"
gw badname 127.0.0.1 "$P_NAME" required "$CA1"
gw nostls 127.0.0.1 "$SMTP_PORT" required "$CA1"
gw opp 127.0.0.1 "$P_OTHER" opportunistic "$CA1"
gw badpw 127.0.0.1 "$P_GOOD" required "$CA1 user = \"alice\"; password = \"wrong\";"
gw off 127.0.0.1 "$P_OTHER" off ""
gw oppplain 127.0.0.1 "$P_PLAIN" opportunistic "$AUTH"
gw offauth 127.0.0.1 "$P_PLAIN" off "$AUTH"
gw b20 127.0.0.1 "$P_BATCH" required "$CA1 $AUTH batch = 20;"
gw b1 127.0.0.1 "$P_BATCH" required "$CA1 $AUTH batch = 1;"
{ echo 'smtp = ('; (IFS=$'\n'; printf '%s\n' "${GWLINES[*]}" | sed '$!s/$/,/'); echo ');'; } >>"$T/etc/pagegate.conf"
for g in "${GWS[@]}"; do
  cat >"$T/etc/clients/c-$g.conf" <<CONF
id = "c-$g";
name = "Client $g";
timezone = "America/Chicago";
contacts = ( { id = "x"; name = "Recipient $g";
  devices = ( { channel = "email"; to = "$g@tls.example"; gateway = "$g"; } ); } );
rules = ( { notify = "contact:x"; } );
CONF
done
start_daemon || exit 1

post() { post_message "{\"client\":\"c-$1\",\"caller\":{\"name\":\"Ann\",\"phone\":\"555-0100\"},\"text\":\"tls test $1 ${2:-}\"}"; }
# side DIR RCPT: the JSON side files of the messages for RCPT, one per line.
side() { local f; for f in "$T/$1"/msg.*.json; do [ -e "$f" ] && jq -c --arg r "$2" 'select(any(.rcpt_to[]; . == $r)) + {file: input_filename}' "$f"; done; }
attempts() { msg_json "$1" | jq -c '.deliveries[0].attempts'; }
n_temp_ge() { [ "$(attempts "$1" | jq '[.[] | select(.outcome == "temp")] | length')" -ge "$2" ]; }
reply0() { attempts "$1" | jq -r '.[0].reply'; }

declare -A ID
for g in req reqdns badca badname nostls opp badpw off oppplain offauth; do
  ID[$g]=$(post "$g"); [ -n "${ID[$g]}" ] || notok "message for $g accepted"
done

# required + tls_ca + AUTH: delivered over verified TLS, authenticated.
check "required+AUTH: message sent" wait_until 20 state_is "${ID[req]}" sent
s=$(side good req@tls.example)
check_eq "required+AUTH: server got it once, over TLS, as alice" '1 true alice' \
  "$(jq -rs '"\(length) \(.[0].tls) \(.[0].user)"' <<<"$s")"
f=$(jq -r .file <<<"$s")
check "required+AUTH: the stored message is pagegate's" grep -q "^X-Pagegate-Message: ${ID[req]}" "${f%.json}.eml"
check "required+AUTH: ledger reply says verified TLS, authenticated" \
  bash -c '[[ "$1" =~ ^250\ .*\(TLS,\ verified,\ authenticated\)$ ]]' _ "$(reply0 "${ID[req]}")"
check "required by DNS name (localhost): sent, verified" wait_until 20 state_is "${ID[reqdns]}" sent
check "required by DNS name: reply says TLS, verified" grep -q "(TLS, verified, authenticated)" <<<"$(reply0 "${ID[reqdns]}")"

# required, certificate from another CA / for another name / no STARTTLS.
check "required, other CA: retried (2 temp attempts)" wait_until 20 n_temp_ge "${ID[badca]}" 2
check "required, other CA: reply names the certificate problem" \
  grep -q "certificate of 127.0.0.1 failed verification: unable to get local issuer certificate" <<<"$(reply0 "${ID[badca]}")"
check "required, wrong name: retried (2 temp attempts)" wait_until 20 n_temp_ge "${ID[badname]}" 2
check "required, wrong name: reply says the address does not match" \
  grep -q "failed verification: IP address mismatch" <<<"$(reply0 "${ID[badname]}")"
check "required, no STARTTLS (smtp-sink): retried (2 temp attempts)" wait_until 20 n_temp_ge "${ID[nostls]}" 2
check_eq "required, no STARTTLS: clear reply" "STARTTLS is required but the server does not offer it" \
  "$(reply0 "${ID[nostls]}")"
check_eq "nothing delivered to other-CA, wrong-name or no-STARTTLS servers" "0 0 0" \
  "$(side other badca@tls.example | wc -l) $(side wrongname badname@tls.example | wc -l) $(grep -l 'nostls@' "$T"/mail/msg.* 2>/dev/null | wc -l)"
check_eq "those messages are still pending" "pending pending pending" \
  "$(msg_state "${ID[badca]}") $(msg_state "${ID[badname]}") $(msg_state "${ID[nostls]}")"

# opportunistic against an untrusted certificate: encrypted, not verified.
check "opportunistic, untrusted certificate: sent" wait_until 20 state_is "${ID[opp]}" sent
check_eq "opportunistic: the server got it over TLS" true "$(side other opp@tls.example | jq -r .tls)"
check "opportunistic: ledger says not verified and why" grep -q \
  "(TLS, not verified: unable to get local issuer certificate)" <<<"$(reply0 "${ID[opp]}")"

# wrong password: failed at once with the server's 535.
check "wrong password: message failed" wait_until 20 state_is "${ID[badpw]}" failed
a=$(attempts "${ID[badpw]}")
check_eq "wrong password: exactly one attempt, perm" "1 perm" "$(jq -r '"\(length) \(.[0].outcome)"' <<<"$a")"
check "wrong password: the ledger has the 535 reply" \
  bash -c '[[ "$1" == "535 5.7.8 Authentication credentials invalid"* ]]' _ "$(jq -r '.[0].reply' <<<"$a")"
check_eq "wrong password: nothing delivered" 0 "$(side good badpw@tls.example | wc -l)"
check_eq "wrong password: the server saw one AUTH try, not one per mechanism" 1 \
  "$(grep -c ' fail$' "$T/good/auth.log")"

# off: never STARTTLS, even when offered.
check "starttls off: sent" wait_until 20 state_is "${ID[off]}" sent
check_eq "starttls off: server got it without TLS" false "$(side other off@tls.example | jq -r .tls)"
check "starttls off: ledger says no TLS" grep -q "(no TLS)$" <<<"$(reply0 "${ID[off]}")"

# A password never goes in clear unless starttls = "off" says so.
check "opportunistic, no STARTTLS: sent" wait_until 20 state_is "${ID[oppplain]}" sent
check_eq "opportunistic, no STARTTLS: not authenticated, no TLS" "null false" \
  "$(side plain oppplain@tls.example | jq -r '"\(.user) \(.tls)"')"
check "opportunistic, no STARTTLS: ledger says AUTH withheld" \
  grep -q "(no TLS, AUTH withheld without TLS)" <<<"$(reply0 "${ID[oppplain]}")"
check "off + AUTH: sent" wait_until 20 state_is "${ID[offauth]}" sent
check_eq "off + AUTH: authenticated in clear, as configured" "alice false" \
  "$(side plain offauth@tls.example | jq -r '"\(.user) \(.tls)"')"

# ---- one SMTP session per batch ----
# 10 messages each for b20 (batch = 20) and b1 (batch = 1) wait while their
# server is down; the daemon is stopped, the server started, and the
# restarted daemon finds all 20 due at once.
BIDS=()
for i in $(seq 1 10); do for g in b20 b1; do BIDS+=("$g:$(post "$g" "$i")"); done; done
all_refused() {
  local e; for e in "${BIDS[@]}"; do n_temp_ge "${e#*:}" 1 || return 1; done
}
check "20 batch messages accepted" test "$(printf '%s\n' "${BIDS[@]}" | grep -c ':[0-9]')" = 20
check "each failed once while the server was down" wait_until 20 all_refused
stop_daemon
start_peer batch "$P_BATCH" --cert "$C/good.pem" --key "$C/good.key" \
  --user alice --password 's3cret pass' --auth-required || exit 1
all_due() {
  [ "$(sqlite3 "$T/var/pagegate.db" "select count(*) from deliveries where gateway in ('b20','b1') and next_try_ms > $(date +%s%3N)")" = 0 ]
}
check "all 20 are due before the daemon restarts" wait_until 10 all_due
start_daemon || exit 1
all_sent() {
  local e; for e in "${BIDS[@]}"; do state_is "${e#*:}" sent || return 1; done
}
check "all 20 batch messages sent after the restart" wait_until 30 all_sent
sent_first_try() {   # every attempt before the sent one was a refused connection
  local e; for e in "${BIDS[@]}"; do attempts "${e#*:}" | jq -r '
    "\(map(select(.outcome == "temp" and (.reply | startswith("connect to ") | not))) | length) \(map(select(.outcome == "ok")) | length) \(.[-1].outcome)"'
  done | sort | uniq -c | awk '{print $1, $2, $3, $4}'
}
check_eq "each batch message: refused while down, then sent at the first try (no stalled session)" \
  "20 0 1 ok" "$(sent_first_try)"
conns() { side batch "$1@tls.example" | jq -r .conn | sort -u | wc -l; }
check_eq "batch = 20: 10 messages arrived" 10 "$(side batch b20@tls.example | wc -l)"
n20=$(conns b20)
check "batch = 20: they came over at most 2 SMTP sessions (got $n20)" test "$n20" -le 2
check_eq "batch = 20: every one over TLS as alice" "true alice" \
  "$(side batch b20@tls.example | jq -rs 'map("\(.tls) \(.user)") | unique | join(",")')"
check_eq "batch = 1: 10 messages over 10 SMTP sessions" "10 10" \
  "$(side batch b1@tls.example | wc -l) $(conns b1)"
echo "# batch sessions: b20 $n20 connection(s), b1 $(conns b1)"

stop_daemon
