"""Ceiling servers: what the same framing costs without the gateway around it.

``python -m benchmarks.ceiling --mode codec|bytes --port 0 --port-file F``

Both are one uvloop ``asyncio.Protocol`` per connection, with one write per received chunk per
connection (the gateway's coalescing), and no sessions, no core, no journal, no log lines.
A connection's role is the application id of its login ("hkpost-bench/<role>"):

* ``codec``: frames are cut with our ``FrameDecoder``; every request payload is decoded with our
  codec and one message is encoded per request: the answer (UQ12 -> UA12), or for an operator
  message (EC3) the one broadcast (BI27) sent to every subscriber and kept in a log, whose frames
  are replayed on a recovery query (UQ20) or at a subscription after a login with resume points.
* ``bytes``: after the login frame nothing is parsed: an ``echo`` connection gets its bytes back;
  a ``pub`` connection's bytes are copied to every ``sub`` connection, kept in a log and echoed;
  a ``replay`` connection gets the whole log, then its request echoed.

``--busy-poll-us N`` polls the loop for N microseconds after each read, as the gateway does with
its ``busy_poll_us`` setting (the runner passes the benchmark gateway's value, so both sides of a
ratio wait for the network the same way).
"""
from __future__ import annotations

import argparse
import asyncio
import signal

from gateway.busypoll import BusyPoll
from protocol.framing import HEADER_SIZE, FrameDecoder, encode_frame
from protocol.kinds import Flag, Kind
from protocol.messages import session as ms
from protocol.messages import system as msys
from protocol.registry import decode_message, encode_message, field_offset
from protocol.streams import Stream

_APP_OFF = HEADER_SIZE + field_offset(ms.LoginRequest, "application_id")
_APP_LEN = ms.LoginRequest.__record__.field_types["application_id"].length
_BDATE = 20261123


def _role(frame: bytes) -> str:
    app = frame[_APP_OFF:_APP_OFF + _APP_LEN].rstrip(b" ").decode("ascii", "replace")
    return app.rsplit("/", 1)[-1] if "/" in app else "echo"


class Shared:
    def __init__(self):
        self.subs: list = []
        self.log: list[bytes] = []
        self.dirty: set = set()
        self.poller: BusyPoll | None = None

    def flush(self) -> None:
        d = self.dirty
        while d:
            c = d.pop()
            out = c.out
            if out and c.transport is not None and not c.transport.is_closing():
                c.transport.write(b"".join(out) if len(out) > 1 else out[0])
            out.clear()


class BytesConn(asyncio.Protocol):
    def __init__(self, shared: Shared):
        self.sh = shared
        self.transport = None
        self.role = None
        self.pre = b""

    def connection_made(self, transport) -> None:
        self.transport = transport

    def connection_lost(self, exc) -> None:
        if self in self.sh.subs:
            self.sh.subs.remove(self)

    def data_received(self, data: bytes) -> None:
        if self.sh.poller is not None:
            self.sh.poller.touch()
        if self.role is None:
            data = self.pre + data
            if len(data) < 4 or len(data) < int.from_bytes(data[:4], "big"):
                self.pre = data
                return
            n = int.from_bytes(data[:4], "big")
            self.role = _role(data[:n])
            self.transport.write(data[:n])  # the login "answer": the login frame itself
            if self.role == "sub":
                self.sh.subs.append(self)
            data = data[n:]
            if not data:
                return
        role = self.role
        if role == "pub":
            for s in self.sh.subs:
                s.transport.write(data)
            self.sh.log.append(data)
            self.transport.write(data)
        elif role == "replay":
            self.transport.write(b"".join(self.sh.log) + data)
        else:
            self.transport.write(data)


class CodecConn(asyncio.Protocol):
    def __init__(self, shared: Shared):
        self.sh = shared
        self.transport = None
        self.decoder = FrameDecoder(1 << 20)
        self.out: list[bytes] = []
        self.resume = None

    def connection_made(self, transport) -> None:
        self.transport = transport

    def connection_lost(self, exc) -> None:
        if self in self.sh.subs:
            self.sh.subs.remove(self)

    def data_received(self, data: bytes) -> None:
        sh = self.sh
        if sh.poller is not None:
            sh.poller.touch()
        out = self.out
        for fr in self.decoder.feed(data):
            kind = fr.kind
            if kind == Kind.HEARTBEAT:
                continue
            msg = decode_message(fr.payload)
            rid = fr.request_id
            code = msg.CODE
            if code == "EC3":
                seq = len(sh.log) + 1
                b = encode_frame(Kind.BROADCAST, encode_message(msys.ClearingMessageBroadcast(
                    number=seq, business_time="090000", lines=msg.lines)), 0, stream=Stream.GENERAL,
                    sequence=seq, business_date=_BDATE)
                sh.log.append(b)
                for s in sh.subs:
                    s.out.append(b)
                    sh.dirty.add(s)
                out.append(encode_frame(Kind.REPLY, _ACK, rid, segment=1, flags=Flag.LAST_SEGMENT))
            elif code == "UQ12":
                out.append(encode_frame(Kind.REPLY, encode_message(ms.BusinessDateAnswer(
                    system_version="ceiling", business_date="20261123", business_time="090000",
                    previous_business_date="20261120", next_business_date="20261124", timezone="Asia/Hong_Kong",
                    utc_offset=28800)), rid, segment=1, flags=Flag.LAST_SEGMENT))
            elif code == "UQ20":
                first, last = max(1, msg.first_sequence), msg.last_sequence or len(sh.log)
                part = sh.log[first - 1:last]
                out.extend(part)
                out.append(encode_frame(Kind.REPLY, encode_message(ms.RecoveryAnswer(
                    stream=msg.stream, business_date=_BDATE, first_sequence=first, last_sequence=last,
                    count=len(part), latest_sequence=len(sh.log))), rid, segment=1, flags=Flag.LAST_SEGMENT))
            elif code == "UL1":
                self.resume = {p.stream: p.last_sequence for p in msg.resume}
                out.append(encode_frame(Kind.REPLY, _ACK, rid, segment=1, flags=Flag.LAST_SEGMENT))
            elif code == "UB1":
                items = []
                replay: list[bytes] = []
                for it in msg.items:
                    last = len(sh.log)
                    first = last + 1
                    if self.resume and it.stream in self.resume:
                        first = self.resume.pop(it.stream) + 1
                        replay = sh.log[first - 1:]
                    items.append(ms.SubscriptionStatusItem(handle=1, status=0, stream=it.stream, first_sequence=first,
                                                           last_sequence=last))
                if self not in sh.subs:
                    sh.subs.append(self)
                out.append(encode_frame(Kind.REPLY, encode_message(ms.SubscribeReply(items=items)), rid, segment=1,
                                        flags=Flag.LAST_SEGMENT))
                out.extend(replay)
            elif code == "UO1":
                self.transport.close()
                return
            else:
                out.append(encode_frame(Kind.REPLY, _ACK, rid, segment=1, flags=Flag.LAST_SEGMENT))
        if out:
            sh.dirty.add(self)
        sh.flush()


_ACK = encode_message(ms.Ack(text="ok"))


async def serve(mode: str, host: str, port: int, port_file: str | None, busy_poll_us: int = 0) -> None:
    loop = asyncio.get_running_loop()
    sh = Shared()
    if busy_poll_us:
        sh.poller = BusyPoll(loop, busy_poll_us / 1e6)
    cls = CodecConn if mode == "codec" else BytesConn
    server = await loop.create_server(lambda: cls(sh), host, port, reuse_address=True, backlog=1024)
    if port_file:
        with open(port_file, "w") as f:
            f.write(str(server.sockets[0].getsockname()[1]))
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    server.close()


def main(argv=None) -> None:
    p = argparse.ArgumentParser(prog="python -m benchmarks.ceiling")
    p.add_argument("--mode", choices=["codec", "bytes"], required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file")
    p.add_argument("--busy-poll-us", type=int, default=0)
    a = p.parse_args(argv)
    try:
        import uvloop
        uvloop.install()
    except ImportError:  # pragma: no cover
        pass
    asyncio.run(serve(a.mode, a.host, a.port, a.port_file, a.busy_poll_us))


if __name__ == "__main__":
    main()
