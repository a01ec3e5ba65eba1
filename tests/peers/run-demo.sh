#!/usr/bin/env bash
# `make run`: starts a local SMTP sink (Postfix smtp-sink, port 2526, each
# received mail written as a file under var/mail/) and pagegated on
# etc/pagegate.conf in the foreground, and prints the operator console's
# URL with the demo operator's credentials.  Ctrl-C stops both.
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
CONF=${PAGEGATE_CONFIG:-etc/pagegate.conf}
SMTP_PORT=$(sed -n 's/^ *port *= *\([0-9]*\); *# `make run`.*/\1/p' "$CONF" | head -1)
SMTP_PORT=${SMTP_PORT:-2526}
API_PORT=$(sed -n 's/^port *= *\([0-9]*\);.*/\1/p' "$CONF" | head -1)
API="http://127.0.0.1:${API_PORT:-8025}"

mkdir -p var/mail; chmod 777 var/mail
if (exec 3<>"/dev/tcp/127.0.0.1/$SMTP_PORT") 2>/dev/null; then
  echo "make run: port $SMTP_PORT is already in use; is another 'make run' going?" >&2
  exit 1
fi
runas=(); [ "$(id -u)" -eq 0 ] && runas=(-u nobody)
/usr/sbin/smtp-sink "${runas[@]}" -d "$ROOT/var/mail/msg." "127.0.0.1:$SMTP_PORT" 100 &
SINK=$!
build/pagegated -c "$CONF" &
DAEMON=$!
stop() { kill "$DAEMON" "$SINK" 2>/dev/null; wait "$DAEMON" "$SINK" 2>/dev/null; }
trap stop EXIT
trap 'exit 0' INT TERM

. tests/peers/wait.sh
up() { curl -sf -o /dev/null "$API/healthz"; }
up_or_gone() { up || ! kill -0 "$DAEMON" 2>/dev/null; }
wait_until 20 up_or_gone
kill -0 "$DAEMON" 2>/dev/null || { echo "make run: pagegated did not start (see above)" >&2; exit 1; }
up || { echo "make run: pagegated did not answer on $API" >&2; exit 1; }

cat <<MSG

  pagegate is running.

    Operator console:  $API/
      sign in as operator  demo  with token  demo-token
      (a softphone can pop a call with $API/?dnis=8005550142&ani=5555550100)

    API:        $API   (token: demo-token, operator "demo")
    Mail sink:  127.0.0.1:$SMTP_PORT -> every delivered email is a file in $ROOT/var/mail/
    Store:      $ROOT/var/pagegate.db (SQLite)
    Clients:    $ROOT/etc/clients/  (acme-hvac, lakeside-clinic)

  Offer a call to the console, as a phone system would (the console pops
  Acme Heating & Cooling with the caller's number filled in):

    curl -s -H 'Authorization: Bearer demo-token' -H 'Content-Type: application/json' \\
      -d '{"dnis":"8005550142","ani":"+1 555 555 0100","operator":"demo"}' $API/v1/calls

  Enter a message with curl:

    curl -s -H 'Authorization: Bearer demo-token' -H 'Content-Type: application/json' \\
      -d '{"client":"acme-hvac","urgency":"urgent","caller":{"name":"Maria Lopez","phone":"+1 555 555 0142"},
           "text":"No heat, two small children at home.","fields":{"address":"14 Oak St"}}' \\
      $API/v1/messages

  or with the CLI (in another terminal):

    export PAGEGATE_URL=$API PAGEGATE_TOKEN=demo-token
    build/pagegate send --client acme-hvac --urgency urgent --caller-name 'Maria Lopez' \\
      --caller-phone '+1 555 555 0142' --field address='14 Oak St' No heat, two small children at home.
    build/pagegate show 1        # the message, its deliveries and its ledger
    build/pagegate list
    ls var/mail/                 # what the SMTP server received

  Routine messages outside a client's business hours are held until it
  opens (see the rules in etc/clients/acme-hvac.conf).  Ctrl-C stops.

MSG
wait "$DAEMON"
