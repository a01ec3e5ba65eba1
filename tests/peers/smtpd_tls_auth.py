#!/usr/bin/python3
"""smtpd_tls_auth.py - a real SMTP server for pagegate's email TLS and AUTH
tests, on Debian's python3-aiosmtpd (run it with /usr/bin/python3).

  smtpd_tls_auth.py --port P --dir D [--cert C --key K] [--user U --password W]
                    [--auth-required] [--plain-auth] [--max-seconds S]

- With --cert/--key it offers STARTTLS (the certificate chain and its key,
  PEM); without, it offers no TLS at all.
- With --user/--password it offers AUTH PLAIN and LOGIN and accepts exactly
  that pair; anything else is answered 535 5.7.8.  Each attempt is logged
  to D/auth.log as "CONN MECHANISM ok|fail".  As real servers do, AUTH
  is only offered and accepted after STARTTLS (538 before), unless
  --plain-auth allows it over the plaintext connection.  --auth-required
  refuses MAIL from an unauthenticated session (530 5.7.0).  Without
  --user no AUTH is offered.
- Every accepted message is written to D/msg.NNNN.eml (the message as
  received) and then D/msg.NNNN.json, renamed into place last, so a JSON
  file always describes a complete message:
    {"conn": 3, "tls": true, "tls_version": "TLSv1.2", "cipher": "...",
     "user": "alice" | null, "mail_from": "...", "rcpt_to": ["..."]}
  "conn" numbers the TCP connections from 1, in the order they were
  accepted: messages with the same number came over one SMTP session
  (pagegate's reachability probe is a connection without messages).
- Prints "ready" on stdout once it listens.  Bounded: 30 s idle timeout per
  connection, 1 MiB per message, 1000 messages, 500 connections, and it
  exits by itself after --max-seconds (default 600).  Exits 0 on SIGTERM.
"""
import argparse
import asyncio
import hmac
import itertools
import json
import os
import signal
import ssl
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

IDLE_TIMEOUT_S = 30
DATA_LIMIT = 1 << 20
MAX_MESSAGES = 1000
MAX_CONNECTIONS = 500


class Server(SMTP):
    """aiosmtpd's SMTP protocol, numbered by TCP connection."""

    def __init__(self, conn_no, *args, **kwargs):
        self.conn_no = conn_no
        super().__init__(*args, **kwargs)


class Recorder:
    """Stores each message and a JSON side file about its session."""

    def __init__(self, outdir, offer_auth):
        self.outdir = outdir
        self.offer_auth = offer_auth
        self.count = 0

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        if not self.offer_auth:
            responses = [r for r in responses if not r[4:].upper().startswith("AUTH")]
        return responses

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if server.conn_no > MAX_CONNECTIONS:
            return "421 4.7.0 Too many connections for this test server"
        if self.count >= MAX_MESSAGES:
            return "452 4.3.4 Too many messages stored"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 Ok"

    async def handle_DATA(self, server, session, envelope):
        if self.count >= MAX_MESSAGES:
            return "452 4.3.4 Too many messages stored"
        self.count += 1
        base = os.path.join(self.outdir, "msg.%04d" % self.count)
        data = envelope.original_content or envelope.content
        if isinstance(data, str):
            data = data.encode("utf-8", "surrogateescape")
        with open(base + ".eml", "wb") as f:
            f.write(data)
        info = session.ssl or {}
        cipher = info.get("cipher")
        sslobj = info.get("ssl_object")
        user = None
        if session.authenticated and isinstance(session.auth_data, LoginPassword):
            user = session.auth_data.login.decode("utf-8", "replace")
        side = {
            "conn": server.conn_no,
            "tls": session.ssl is not None,
            "tls_version": sslobj.version() if sslobj is not None else None,
            "cipher": cipher[0] if cipher else None,
            "user": user,
            "mail_from": envelope.mail_from,
            "rcpt_to": list(envelope.rcpt_tos),
        }
        with open(base + ".json.tmp", "w") as f:
            json.dump(side, f)
        os.rename(base + ".json.tmp", base + ".json")
        return "250 2.0.0 Ok: queued as %04d" % self.count


def make_authenticator(user, password, outdir):
    want_user = user.encode()
    want_pass = password.encode()
    attempts = itertools.count(1)

    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword)
              and hmac.compare_digest(auth_data.login, want_user)
              and hmac.compare_digest(auth_data.password, want_pass))
        if next(attempts) <= MAX_MESSAGES:
            with open(os.path.join(outdir, "auth.log"), "a") as f:
                f.write("%d %s %s\n" % (server.conn_no, mechanism, "ok" if ok else "fail"))
        if ok:
            return AuthResult(success=True, auth_data=auth_data)
        return AuthResult(success=False, handled=False)
    return authenticate


async def serve(args):
    loop = asyncio.get_running_loop()
    tls = None
    if args.cert:
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(args.cert, args.key)
    offer_auth = args.user is not None
    handler = Recorder(args.dir, offer_auth)
    numbers = itertools.count(1)
    kwargs = dict(
        hostname="smtpd-test.localdomain",
        data_size_limit=DATA_LIMIT,
        timeout=IDLE_TIMEOUT_S,
        tls_context=tls,
        auth_require_tls=not args.plain_auth,
        auth_required=args.auth_required,
    )
    if offer_auth:
        kwargs["authenticator"] = make_authenticator(args.user, args.password, args.dir)
    else:
        kwargs["auth_exclude_mechanism"] = ["LOGIN", "PLAIN"]

    def factory():
        return Server(next(numbers), handler, loop=loop, **kwargs)

    server = await loop.create_server(factory, host=args.host, port=args.port)
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    print("ready", flush=True)
    try:
        await asyncio.wait_for(stop.wait(), timeout=args.max_seconds)
    except asyncio.TimeoutError:
        print("max-seconds reached, exiting", file=sys.stderr, flush=True)
    server.close()
    try:
        await asyncio.wait_for(server.wait_closed(), timeout=5)
    except asyncio.TimeoutError:
        pass


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--dir", required=True, help="where messages are written")
    p.add_argument("--cert", help="PEM certificate chain: offer STARTTLS")
    p.add_argument("--key", help="PEM private key of --cert")
    p.add_argument("--user")
    p.add_argument("--password")
    p.add_argument("--auth-required", action="store_true")
    p.add_argument("--plain-auth", action="store_true",
                   help="offer AUTH without TLS too")
    p.add_argument("--max-seconds", type=float, default=600)
    args = p.parse_args()
    if bool(args.cert) != bool(args.key):
        p.error("--cert and --key go together")
    if (args.user is None) != (args.password is None):
        p.error("--user and --password go together")
    if not os.path.isdir(args.dir):
        p.error("--dir must be an existing directory")
    asyncio.run(serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
