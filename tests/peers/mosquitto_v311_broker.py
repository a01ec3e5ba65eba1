#!/usr/bin/python3
"""A broker that speaks only MQTT 3.1.1 (OASIS standard, 29 October 2014),
for testing protocol = "auto": mosquitto 2.0 accepts every version, so the
"old broker" a fall-back is for has to be written from the specification.

    mosquitto_v311_broker.py PORT LOGFILE

Listens on 127.0.0.1:PORT.  Implements what a publishing client needs:
CONNECT/CONNACK (3.1, 3.2), PUBLISH/PUBACK at QoS 0 and 1 (3.3, 3.4),
SUBSCRIBE/SUBACK (3.8, 3.9; granted QoS at most 1), PINGREQ/PINGRESP
(3.12, 3.13) and DISCONNECT (3.14).  A CONNECT with a protocol level other
than 4 gets CONNACK return code 0x01 "unacceptable protocol version" and
the connection is closed (3.1.2.2); anything malformed closes it too.
Each event is appended to LOGFILE as one JSON line, e.g.
  {"event": "connect", "level": 4, "client_id": "pagegate", "clean": false, ...}
  {"event": "publish", "topic": "pages/a/b", "qos": 1, "dup": false,
   "retain": false, "payload": "..."}
Messages are not forwarded to subscribers: the log is the far end.
"""
import asyncio
import json
import sys

MAX_PACKET = 1 << 20


class Malformed(Exception):
    pass


def log(path, **event):
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(event, ensure_ascii=False) + "\n")


async def read_packet(reader):
    """One control packet: (type, flags, body bytes) (2.2)."""
    b1 = (await reader.readexactly(1))[0]
    length, mult = 0, 1
    for i in range(4):                       # remaining length, 2.2.3
        d = (await reader.readexactly(1))[0]
        length += (d & 0x7F) * mult
        mult *= 128
        if not d & 0x80:
            break
    else:
        raise Malformed("remaining length longer than 4 bytes")
    if length > MAX_PACKET:
        raise Malformed("packet too large")
    return b1 >> 4, b1 & 0x0F, await reader.readexactly(length)


class Body:
    def __init__(self, data):
        self.d, self.i = data, 0

    def u8(self):
        if self.i >= len(self.d):
            raise Malformed("short packet")
        self.i += 1
        return self.d[self.i - 1]

    def u16(self):
        return (self.u8() << 8) | self.u8()

    def string(self):                        # UTF-8 encoded string, 1.5.3
        n = self.u16()
        if self.i + n > len(self.d):
            raise Malformed("short string")
        s = self.d[self.i:self.i + n]
        self.i += n
        try:
            return s.decode("utf-8")
        except UnicodeDecodeError:
            raise Malformed("string is not UTF-8")

    def rest(self):
        r = self.d[self.i:]
        self.i = len(self.d)
        return r


async def session(reader, writer, logfile):
    try:
        ptype, _flags, body = await asyncio.wait_for(read_packet(reader), 10)
        if ptype != 1:
            raise Malformed("first packet is not CONNECT")
        b = Body(body)
        name, level = b.string(), b.u8()
        if name != "MQTT" or level != 4:
            log(logfile, event="connect", level=level, refused=True)
            writer.write(bytes([0x20, 2, 0, 0x01]))   # unacceptable protocol version
            await writer.drain()
            return
        cflags, keepalive = b.u8(), b.u16()
        client_id = b.string()
        if cflags & 0x04:                    # will topic and message
            b.string()
            b.string()
        user = b.string() if cflags & 0x80 else None
        log(logfile, event="connect", level=level, client_id=client_id,
            clean=bool(cflags & 0x02), keepalive=keepalive, user=user)
        writer.write(bytes([0x20, 2, 0, 0]))
        await writer.drain()
        while True:
            # 1.5 x keepalive without a packet closes the connection (3.1.2.10)
            timeout = keepalive * 1.5 if keepalive else None
            ptype, flags, body = await asyncio.wait_for(read_packet(reader), timeout)
            b = Body(body)
            if ptype == 3:                   # PUBLISH
                qos = (flags >> 1) & 3
                if qos > 1:
                    raise Malformed("QoS 2 is not supported here")
                topic = b.string()
                pid = b.u16() if qos else None
                payload = b.rest()
                log(logfile, event="publish", topic=topic, qos=qos, dup=bool(flags & 8),
                    retain=bool(flags & 1), payload=payload.decode("utf-8", "replace"))
                if qos == 1:
                    writer.write(bytes([0x40, 2, pid >> 8, pid & 0xFF]))
            elif ptype == 8 and flags == 2:  # SUBSCRIBE
                pid, granted, filters = b.u16(), [], []
                while b.i < len(b.d):
                    f, q = b.string(), b.u8()
                    if q & 0xFC:
                        raise Malformed("reserved subscription bits set")
                    filters.append(f)
                    granted.append(min(q, 1))
                log(logfile, event="subscribe", filters=filters, granted=granted)
                writer.write(bytes([0x90, 2 + len(granted), pid >> 8, pid & 0xFF] + granted))
            elif ptype == 12:                # PINGREQ
                writer.write(bytes([0xD0, 0]))
            elif ptype == 14:                # DISCONNECT
                log(logfile, event="disconnect")
                return
            else:
                raise Malformed("unexpected packet type %d" % ptype)
            await writer.drain()
    except (asyncio.IncompleteReadError, asyncio.TimeoutError, ConnectionError):
        pass
    except Malformed as e:
        log(logfile, event="malformed", why=str(e))
    finally:
        writer.close()


async def main():
    port, logfile = int(sys.argv[1]), sys.argv[2]
    server = await asyncio.start_server(
        lambda r, w: session(r, w, logfile), "127.0.0.1", port)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
