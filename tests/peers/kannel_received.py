#!/usr/bin/python3
"""What Kannel's fake SMSC received (tests/peers/kannel.sh, kannel_got on
stdin), one JSON line per SMS a phone would show:
  {from, to, coding, segments, complete, pairs_ok, zwsp, text}
Concatenated segments ("udh" lines) are joined by their reference; a
line break inside a "text" SMS continues it.  Payloads are URL-encoded
with "+" for a space.  coding: "ucs2" for "ucs-2" lines and for udh
payloads with zero bytes or invalid UTF-8 (Kannel shows GSM-7 as UTF-8),
unless argv[1] says "ucs2" or "gsm" for the udh payloads.  pairs_ok: no
UCS-2 segment ends inside a surrogate pair.  U+200B (what pagegate puts
where an emoji would straddle Kannel's segments, invisible on phones) is
counted in zwsp and left out of text."""
import json, re, sys, urllib.parse as u

hint = sys.argv[1] if len(sys.argv) > 1 else "auto"
head = re.compile(r"^(\S+) (\+?\d+) (text|data|ucs-2|udh) (.*)$", re.S)
dec = lambda s: u.unquote_to_bytes(s.replace("+", " "))
msgs, byref = [], {}
for line in sys.stdin.read().split("\n"):
    m = head.match(line)
    if not m:
        if msgs and msgs[-1]["kind"] == "text" and line:
            msgs[-1]["parts"][1] += b"\n" + line.encode()
        continue
    frm, to, kind, rest = m.groups()
    if kind == "udh":
        udh, _, payload = rest.split(" ", 2)
        udh = dec(udh)
        msg = byref.get((to, udh[3]))
        if msg is None:
            msg = byref[(to, udh[3])] = {"from": frm, "to": to, "kind": "udh",
                                         "parts": {}, "total": udh[4]}
            msgs.append(msg)
        msg["parts"][udh[5]] = dec(payload)
        continue
    raw = rest.encode() if kind == "text" else dec(rest)
    msgs.append({"from": frm, "to": to, "kind": kind, "parts": {1: raw}, "total": 1})


def ucs2(raw, kind):
    if kind in ("text", "data"):
        return False
    if kind == "ucs-2":
        return True
    if hint != "auto":
        return hint == "ucs2"
    if b"\x00" in raw:
        return True
    try:
        raw.decode("utf-8")
        return False
    except UnicodeDecodeError:
        return True


for m in msgs:
    parts = [m["parts"][k] for k in sorted(m["parts"])]
    raw = b"".join(parts)
    wide = ucs2(raw, m["kind"])
    ok = all(len(p) % 2 == 0 and not 0xD8 <= p[-2] <= 0xDB and not 0xDC <= p[0] <= 0xDF
             for p in parts) if wide else True
    text = raw.decode("utf-16-be" if wide else "utf-8", "replace")
    print(json.dumps({"from": m["from"], "to": m["to"], "coding": "ucs2" if wide else "gsm7",
                      "segments": len(parts), "complete": len(parts) == m["total"],
                      "pairs_ok": ok, "zwsp": text.count("\u200b"),
                      "text": text.replace("\u200b", "")}, ensure_ascii=False))
