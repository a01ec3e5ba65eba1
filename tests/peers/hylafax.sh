# HylaFAX as an SNPP paging gateway on loopback (shared/PEERS.md), for the
# pager integration tests.  Sourced by a test script after lib.sh; the
# servers are children of that script, stopped by PID and waited for.
#
#   hylafax_start SNPP_PORT HYLA_PORT OWNER
#                                       set up the spool (idempotent), start
#                                       faxq and hfaxd, wait for SNPP; OWNER
#                                       is the SNPP login the test pages as
#   hylafax_stop                        stop both by PID, remove the jobs
#                                       this run created
#   hylafax_job_field JOBID FIELD       a field of sendq/q<JOBID> ("page")
#   hylafax_job_text JOBID              the page text HylaFAX queued
#
# HylaFAX's spool (/var/spool/hylafax) is global and faxq runs once per
# spool: the functions hold an exclusive lock on the spool for the whole
# run, so two test runs at once wait for each other (up to 2 minutes)
# instead of sharing faxq.  Jobs left by earlier runs are never touched;
# every check names the job id the daemon recorded, and the jobs this run
# created (ids from the queue's next sequence number at start, owned by OWNER)
# are removed at hylafax_stop, whether they succeeded or not.  Needs root (the spool belongs to
# uucp) and the Debian packages hylafax-server and hylafax-client
# (tests/peers/deps.sh).
HYLA_SPOOL=/var/spool/hylafax
HYLA_FAXQ_PID=; HYLA_HFAXD_PID=; HYLA_LOCK_FD=; HYLA_SEQ0=; HYLA_OWNER=

hylafax_setup() {
  [ -x /usr/sbin/hfaxd ] && [ -x /usr/sbin/faxq ] ||
    { echo "# hylafax-server is not installed: run make deps" >&2; return 1; }
  [ "$(id -u)" -eq 0 ] || { echo "# HylaFAX tests need root (the spool is uucp's)" >&2; return 1; }
  exec {HYLA_LOCK_FD}>"$HYLA_SPOOL/tmp/.pagegate-test.lock"
  flock -w 120 "$HYLA_LOCK_FD" || { echo "# HylaFAX spool busy (another test run)" >&2; return 1; }
  # PEERS.md: the server configuration, SNPP access from loopback, and
  # every pager id mapped to a provider number
  cp -a /etc/hylafax/. "$HYLA_SPOOL/etc/"
  printf '127.0.0.1\nlocalhost\n' >"$HYLA_SPOOL/etc/hosts.hfaxd"
  chown uucp:uucp "$HYLA_SPOOL/etc/hosts.hfaxd"
  chmod 600 "$HYLA_SPOOL/etc/hosts.hfaxd"
  printf '.*\t5551234\n' >"$HYLA_SPOOL/etc/pagermap"
}

hylafax_start() {
  local snpp=$1 hyla=$2
  HYLA_OWNER=$3
  hylafax_setup || return 1
  HYLA_SEQ0=$(cat "$HYLA_SPOOL/sendq/seqf" 2>/dev/null || echo 0)
  [[ $HYLA_SEQ0 =~ ^[0-9]+$ ]] || HYLA_SEQ0=0
  /usr/sbin/faxq -D >>"$T/faxq.log" 2>&1 &
  HYLA_FAXQ_PID=$!
  # -s: SNPP port, -i: HylaFAX protocol port (both fresh: hfaxd retries a
  # port in TIME_WAIT for seconds)
  /usr/sbin/hfaxd -d -s "$snpp" -l 127.0.0.1 -i "$hyla" >>"$T/hfaxd.log" 2>&1 &
  HYLA_HFAXD_PID=$!
  wait_until 20 port_open "$snpp" || { echo "# hfaxd did not open SNPP port $snpp" >&2; return 1; }
}

hylafax_stop() {
  local p f j
  for p in $HYLA_HFAXD_PID $HYLA_FAXQ_PID; do
    kill "$p" 2>/dev/null; wait "$p" 2>/dev/null
  done
  HYLA_HFAXD_PID=; HYLA_FAXQ_PID=
  if [ -n "$HYLA_SEQ0" ] && [ -n "$HYLA_OWNER" ]; then
    for f in "$HYLA_SPOOL"/sendq/q* "$HYLA_SPOOL"/doneq/q*; do
      j=${f##*/q}
      [[ $j =~ ^[0-9]+$ ]] && [ "$j" -ge "$HYLA_SEQ0" ] || continue
      grep -qx "owner:$HYLA_OWNER" "$f" || continue
      rm -f "$f" "$HYLA_SPOOL"/docq/doc*.page."$j"
    done
  fi
  HYLA_SEQ0=
  if [ -n "$HYLA_LOCK_FD" ]; then exec {HYLA_LOCK_FD}>&-; HYLA_LOCK_FD=; fi
}

# The queue file of a job: in sendq while queued, doneq once finished.
hylafax_qfile() {
  local f
  for f in "$HYLA_SPOOL/sendq/q$1" "$HYLA_SPOOL/doneq/q$1"; do
    [ -f "$f" ] && { echo "$f"; return 0; }
  done
  return 1
}

# hylafax_job_field JOBID FIELD: the value of "FIELD:..." in the queue file.
hylafax_job_field() {
  local f; f=$(hylafax_qfile "$1") || return 1
  sed -n "s/^$2://p" "$f" | head -1
}

# hylafax_job_text JOBID: the text of the job's page document
# (data:0::docq/docN.page.JOBID in the queue file).
hylafax_job_text() {
  local d; d=$(hylafax_job_field "$1" data) || return 1
  d=${d##*::}
  [[ $d == docq/* ]] || return 1
  cat "$HYLA_SPOOL/$d"
}
