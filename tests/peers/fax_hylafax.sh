# A private HylaFAX server for the fax tests: faxq and hfaxd (client-server
# protocol only) on a spool of their own under $T, so runs never share
# HylaFAX's global spool or its faxq.  Sourced after lib.sh; the servers
# are children of the test script, stopped by PID and waited for.
#
#   fax_hylafax_start PORT     copy the spool skeleton to $T/hylafax, start
#                              faxq -q and hfaxd -q -i PORT, wait for PORT
#   fax_hylafax_stop           stop both by PID
#   FAX_HYLA_SPOOL             the spool ($T/hylafax)
#
# hfaxd chroots into the spool and runs as uucp, so this needs root and
# the Debian packages hylafax-server and hylafax-client (tests/peers/deps.sh).
FAX_HYLA_SPOOL=; FAX_HYLA_FAXQ=; FAX_HYLA_HFAXD=

fax_hylafax_start() {
  local port=$1 d
  [ -x /usr/sbin/hfaxd ] && [ -x /usr/sbin/faxq ] ||
    { echo "# hylafax-server is not installed: run make deps" >&2; return 1; }
  [ "$(id -u)" -eq 0 ] || { echo "# the HylaFAX test needs root (uucp's spool)" >&2; return 1; }
  FAX_HYLA_SPOOL=$T/hylafax
  for d in archive bin client config dev docq doneq etc info log pollq recvq sendq status tmp; do
    mkdir -p "$FAX_HYLA_SPOOL/$d"
  done
  cp -a /var/spool/hylafax/bin/. "$FAX_HYLA_SPOOL/bin/"
  cp -a /var/spool/hylafax/config/. "$FAX_HYLA_SPOOL/config/" 2>/dev/null
  cp -a /etc/hylafax/. "$FAX_HYLA_SPOOL/etc/"
  # clients from loopback may log in without a password (hosts.hfaxd)
  printf '127.0.0.1\nlocalhost\n' >"$FAX_HYLA_SPOOL/etc/hosts.hfaxd"
  chown -R uucp:uucp "$FAX_HYLA_SPOOL"
  chmod 600 "$FAX_HYLA_SPOOL/etc/hosts.hfaxd"
  chmod 1777 "$FAX_HYLA_SPOOL/tmp"
  /usr/sbin/faxq -q "$FAX_HYLA_SPOOL" -D >>"$T/faxq.log" 2>&1 &
  FAX_HYLA_FAXQ=$!
  /usr/sbin/hfaxd -q "$FAX_HYLA_SPOOL" -d -l 127.0.0.1 -i "$port" >>"$T/hfaxd.log" 2>&1 &
  FAX_HYLA_HFAXD=$!
  wait_until 20 port_open "$port" || { echo "# hfaxd did not open port $port" >&2; return 1; }
}

fax_hylafax_stop() {
  local p
  for p in $FAX_HYLA_HFAXD $FAX_HYLA_FAXQ; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  FAX_HYLA_HFAXD=; FAX_HYLA_FAXQ=
}
