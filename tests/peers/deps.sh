#!/usr/bin/env bash
# Installs every Debian package pagegate needs to build and test, when it is
# missing.  As root it runs apt-get non-interactively; otherwise it prints the
# exact command and fails.  Then the console's browser test gets its npm
# package (playwright-core) with `npm ci` from the committed lockfile in
# tests/console, when node_modules is missing or older than the lockfile.
# Idempotent: does nothing when all are present.
set -euo pipefail
cd "$(dirname "$0")/../.."

PKGS=(
  # build
  gcc make pkg-config
  libsqlite3-dev libesmtp-dev libmicrohttpd-dev libjansson-dev libconfig-dev
  libical-dev libcurl4-openssl-dev libssl-dev libcmocka-dev tzdata
  libmosquitto-dev libxml2-dev libspandsp-dev libtiff-dev libfreetype-dev
  fonts-dejavu-core libsofia-sip-ua-dev libicu-dev
  # sd_notify (readiness, watchdog) and systemd-analyze for t_install
  libsystemd-dev systemd
  # the PostgreSQL store backend (libpq) and the server its tests start
  libpq-dev postgresql-15
  # a node whose clock is off, for t_pg_nodes_shared (LD_PRELOAD)
  libfaketime
  # the fax's fallback fonts (fontconfig, whose fc-cache indexes them):
  # Chinese/Japanese/Korean, emoji
  libfontconfig-dev fontconfig fonts-noto-cjk fonts-symbola
  # test peers and tools (shared/PEERS.md); postfix provides smtp-sink and
  # smtp-source, python3 parses received mail the way a mail reader would
  # (postfix and hylafax-server in one command, so no other MTA is pulled in)
  postfix python3 python3-aiosmtpd curl jq sqlite3 ca-certificates openssl
  mosquitto mosquitto-clients kannel kannel-extras hylafax-server hylafax-client
  libnet-snpp-perl tesseract-ocr tesseract-ocr-eng sip-tester
  # what a voice call said: pocketsphinx transcribes the English speech,
  # espeak-ng's own program speaks the expected Greek (t_voice*)
  pocketsphinx pocketsphinx-en-us espeak-ng sox
  # OCR of the fax in every language (t_fax_lang)
  tesseract-ocr-ell tesseract-ocr-chi-sim tesseract-ocr-lit tesseract-ocr-vie
  tesseract-ocr-heb tesseract-ocr-ara
  # `make fuzz` (tests/fuzz/): clang and its libFuzzer and sanitizer
  # runtimes (only recommended by clang, so named here)
  clang libclang-rt-14-dev
  # the operator console's browser test (tests/console): Debian's Chromium,
  # driven by playwright-core (npm)
  chromium
  # speech for voice calls: espeak-ng (every language), flite (English),
  # libsamplerate (to the call's 8 kHz)
  libespeak-ng-dev flite1-dev libsamplerate0-dev
)

missing=()
for p in "${PKGS[@]}"; do
  st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [ "$st" = installed ] || missing+=("$p")
done
# Node.js and npm: whichever package provides them (Debian's nodejs and
# npm, or a repackaged Node.js that brings its own npm) will do.
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)

if [ ${#missing[@]} -gt 0 ]; then
  cmd=(apt-get install -y -q -o DPkg::Lock::Timeout=600 --no-install-recommends "${missing[@]}")
  if [ "$(id -u)" -ne 0 ]; then
    echo "pagegate: missing Debian packages: ${missing[*]}" >&2
    echo "run as root:  apt-get update && DEBIAN_FRONTEND=noninteractive ${cmd[*]}" >&2
    exit 1
  fi
  echo "pagegate: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  "${cmd[@]}" >/dev/null
fi

# npm's own record of what it installed, node_modules/.package-lock.json,
# is newer than the lockfile after a good `npm ci`.
lock=tests/console/package-lock.json
if [ ! -f tests/console/node_modules/.package-lock.json ] ||
   [ "$lock" -nt tests/console/node_modules/.package-lock.json ]; then
  echo "pagegate: npm ci in tests/console (playwright-core, from $lock)" >&2
  (cd tests/console && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  touch tests/console/node_modules/.package-lock.json
fi
