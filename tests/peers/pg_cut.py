#!/usr/bin/python3
"""pg_cut.py - a byte relay in front of a PostgreSQL server's Unix socket
that can cut the writer's connection under a COMMIT, the way a server
crash or a network fault does, so that a test can see what the daemon
makes of a COMMIT whose answer never came.

  pg_cut.py LISTEN_DIR SERVER_SOCKET

listens on LISTEN_DIR/.s.PGSQL.5432 (libpq's host=LISTEN_DIR) and relays
every connection to SERVER_SOCKET unchanged.  The writer's connection is
the one that has sent "pg_advisory_xact_lock" (pagegate's writer lock).
Its next COMMIT after a file appears in LISTEN_DIR is cut, once:

  LISTEN_DIR/cut-after   the COMMIT reaches the server, which commits
                         and answers; the answer is dropped and both
                         sides closed: committed, yet the client never
                         hears it
  LISTEN_DIR/cut-before  the COMMIT is dropped and both sides closed: the
                         server rolls the transaction back

The file is removed when used and LISTEN_DIR/cut.log gets a line.  While
LISTEN_DIR/hold exists every new connection is closed at once, before the
server hears of it: the server is unreachable.  The
relay does not parse the protocol beyond finding the statement text
"COMMIT" (a Parse or Query message carries it NUL-terminated).
"""
import os
import selectors
import socket
import sys

LISTEN_DIR, SERVER = sys.argv[1], sys.argv[2]
PATH = os.path.join(LISTEN_DIR, ".s.PGSQL.5432")


def note(text):
    with open(os.path.join(LISTEN_DIR, "cut.log"), "a") as f:
        f.write(text + "\n")


def armed():
    for mode in ("cut-after", "cut-before"):
        p = os.path.join(LISTEN_DIR, mode)
        if os.path.exists(p):
            return mode, p
    return None, None


class Pair:
    def __init__(self, client):
        self.client = client
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.connect(SERVER)
        self.writer = False
        self.tail = b""          # the end of what the client sent last
        self.cutting = False     # COMMIT forwarded; drop the answer


def main():
    if os.path.exists(PATH):
        os.unlink(PATH)
    ls = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    ls.bind(PATH)
    os.chmod(PATH, 0o777)
    ls.listen(64)
    sel = selectors.DefaultSelector()
    sel.register(ls, selectors.EVENT_READ, None)
    pairs = {}

    def close(p):
        for s in (p.client, p.server):
            pairs.pop(s.fileno(), None)
            try:
                sel.unregister(s)
            except (KeyError, ValueError):
                pass
            s.close()

    while True:
        for key, _ in sel.select():
            if key.data is None:
                c, _ = ls.accept()
                if os.path.exists(os.path.join(LISTEN_DIR, "hold")):
                    c.close()
                    continue
                try:
                    p = Pair(c)
                except OSError:
                    c.close()
                    continue
                for s in (p.client, p.server):
                    pairs[s.fileno()] = p
                    sel.register(s, selectors.EVENT_READ, p)
                continue
            p = key.data
            s = key.fileobj
            try:
                data = s.recv(65536)
            except OSError:
                data = b""
            if not data:
                close(p)
                continue
            if s is p.server:
                if p.cutting:       # the COMMIT's answer: dropped
                    note("cut after COMMIT: the answer was dropped")
                    close(p)
                    continue
                p.client.sendall(data)
                continue
            # (a marker split between two reads is found too, never one
            # of an earlier send)
            if b"pg_advisory_xact_lock" in p.tail[-20:] + data:
                p.writer = True
            mode, flag = armed() if p.writer else (None, None)
            commit = b"COMMIT\x00" in p.tail[-6:] + data
            p.tail = (p.tail + data)[-64:]
            if mode and commit:
                os.unlink(flag)
                if mode == "cut-before":
                    note("cut before COMMIT: it never reached the server")
                    close(p)
                    continue
                p.cutting = True
            p.server.sendall(data)


if __name__ == "__main__":
    main()
