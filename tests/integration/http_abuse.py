"""Hostile HTTP clients for t_http_abuse.sh (run with /usr/bin/python3).

  http_abuse.py halfopen PORT N SRC OUT DONE
      opens N connections from address SRC, each sending the start of a
      request head and never its end; after all are opened, writes to OUT
      how many the server closed (once none closed for a second) and how
      many it still holds; keeps the rest open until the file
      DONE exists (at most 60 s).
  http_abuse.py trickle PORT SRC WHAT SECONDS
      WHAT=head: sends a request head one byte every 0.5 s; WHAT=body: a
      whole head of a POST, then its body one byte every 0.5 s.  Prints
      "cut after S s" when the server closes first, "held" when SECONDS
      pass with the connection still open.
  http_abuse.py raw PORT OUT
      sends stdin as it is (a whole request) and writes the answer's body
      to OUT; prints the status code and the Content-Type ("none" when
      the connection closed without an answer, "timeout" after 5 s).
"""
import os
import select
import socket
import sys
import time

PARTIAL = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: "


def closed(s):
    """True when the server closed s (readable with EOF or an error)."""
    r, _, _ = select.select([s], [], [], 0)
    if not r:
        return False
    try:
        return s.recv(4096) == b""
    except OSError:
        return True


def halfopen(port, n, src, out, done):
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.bind((src, 0))
        try:
            s.connect(("127.0.0.1", port))
            s.sendall(PARTIAL)
        except OSError:
            pass
        socks.append(s)
    # the server closes the connections past its limit at once; on a busy
    # machine that may take a moment: count until nothing changed for 1 s
    shut, last, end = set(), time.time(), time.time() + 15
    while time.time() < end and time.time() - last < 1:
        time.sleep(0.2)
        for i, s in enumerate(socks):
            if i not in shut and closed(s):
                shut.add(i)
                last = time.time()
    gone = len(shut)
    with open(out + ".tmp", "w") as f:
        f.write("%d %d\n" % (gone, n - gone))
    os.rename(out + ".tmp", out)
    end = time.time() + 60
    while not os.path.exists(done) and time.time() < end:
        time.sleep(0.1)
    for s in socks:
        s.close()


def trickle(port, src, what, seconds):
    s = socket.socket()
    s.bind((src, 0))
    s.connect(("127.0.0.1", port))
    if what == "head":
        data = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 10000
    else:
        body = b'{"text":"' + b"a" * 10000 + b'"}'
        s.sendall(b"POST /v1/messages HTTP/1.1\r\nHost: x\r\n"
                  b"Authorization: Bearer test-token\r\n"
                  b"Content-Type: application/json\r\n"
                  b"Content-Length: %d\r\n\r\n" % len(body))
        data = body[:-1]
    t0 = time.time()
    i = 0
    while time.time() - t0 < seconds:
        if closed(s):
            print("cut after %.1f s" % (time.time() - t0))
            return
        try:
            s.sendall(data[i:i + 1])
        except OSError:
            print("cut after %.1f s" % (time.time() - t0))
            return
        i += 1
        time.sleep(0.5)
    print("held")


def raw(port, out):
    req = sys.stdin.buffer.read()
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    got = b""
    try:
        s.sendall(req)
        while True:
            d = s.recv(65536)
            if not d:
                break
            got += d
    except socket.timeout:
        if not got:
            print("timeout")
            return
    except OSError:
        pass
    head, _, body = got.partition(b"\r\n\r\n")
    with open(out, "wb") as f:
        f.write(body)
    if not head.startswith(b"HTTP/1."):
        print("none")
        return
    ctype = "none"
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-type":
            ctype = v.strip().decode("latin-1")
    print(head.split(b" ")[1].decode(), ctype)


if __name__ == "__main__":
    if sys.argv[1] == "raw":
        raw(int(sys.argv[2]), sys.argv[3])
    elif sys.argv[1] == "halfopen":
        halfopen(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6])
    else:
        trickle(int(sys.argv[2]), sys.argv[3], sys.argv[4], float(sys.argv[5]))
