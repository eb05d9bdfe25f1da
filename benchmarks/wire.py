"""The load generator's side of the wire: a lean asyncio Protocol over our framing.

Frames are built with the protocol package (``encode_frame`` / ``encode_message``) and read with
the header declaration's own ``struct`` formats and offsets (``protocol.framing.HEADER``): no second
layout. During a measurement the connection does not decode payloads: it walks the headers,
matches replies to requests by request id and counts broadcasts by sequence number. A run of
same-size broadcasts with consecutive sequence numbers is counted in one step (first and last
frame checked), so a subscriber can keep up with millions of deliveries per second.
"""
from __future__ import annotations

import asyncio
import itertools
import struct
import time

from protocol.framing import HEADER, FrameDecoder, encode_frame
from protocol.kinds import Kind
from protocol.messages import session as ms
from protocol.registry import decode_message, encode_message

now_ns = time.monotonic_ns  # CLOCK_MONOTONIC: the same clock in every process of the machine

_OFF = HEADER.offsets()
_FMT = {f.name: struct.Struct(">" + f.fmt) for f in HEADER.fields if f.kind == "int"}
HS = HEADER.size
O_KIND, O_RID, O_SEQ, O_SS = _OFF["kind"], _OFF["request_id"], _OFF["sequence"], \
    _OFF["session_status"]
_len = _FMT["length"].unpack_from
_rid = _FMT["request_id"].unpack_from
_seq = _FMT["sequence"].unpack_from
_ss = _FMT["session_status"].unpack_from
_stream = _FMT["stream"].unpack_from
O_STREAM = _OFF["stream"]
_rid_pack = _FMT["request_id"].pack
_seq_pack = _FMT["sequence"].pack

BROADCAST = int(Kind.BROADCAST)
REPLY = int(Kind.REPLY)
REJECT = int(Kind.REJECT)
HEARTBEAT = int(Kind.HEARTBEAT)
LOGOUT = int(Kind.LOGOUT)

_setup_ids = itertools.count(1 << 40)  # request ids of set-up requests, far from measured ones


class Template:
    """A pre-encoded request frame; ``frame(rid, seq)`` patches the request id (and sequence)."""

    def __init__(self, kind: int, payload: bytes):
        f = encode_frame(kind, payload, 0)
        self.head = f[:O_RID]
        self.mid = f[O_RID + 8:O_SEQ]
        self.tail = f[O_SEQ + 4:]
        self.size = len(f)

    def frame(self, rid: int, seq: int = 0) -> bytes:
        return self.head + _rid_pack(rid) + self.mid + _seq_pack(seq) + self.tail


class Cycle:
    """Several templates used in turn: request id ``rid`` uses template ``(rid - 1) % n``."""

    def __init__(self, templates: list[Template]):
        self.templates = templates
        self.n = len(templates)

    def frame(self, rid: int, seq: int = 0) -> bytes:
        return self.templates[(rid - 1) % self.n].frame(rid, seq)


class Conn(asyncio.Protocol):
    """One connection of the load generator.

    ``on_reply(rid, kind, t)`` and ``on_bcast(first_seq, last_seq, count, t)`` are set by the
    scenario for the measurement; ``after_chunk(t)`` runs once per received chunk (to top up a
    pipeline with one write). Replies to set-up requests resolve ``request()`` futures."""

    def __init__(self, name: str = "", bcast_kind: int = BROADCAST):
        self.name = name
        self.transport = None
        self.buf = b""
        self.bsize = 0
        self.bkind = bcast_kind
        self.waiters: dict[int, asyncio.Future] = {}
        self.on_reply = None
        self.on_bcast = None
        self.on_bcast_frame = None
        self.after_chunk = None
        self.lost = None
        self.logout: tuple | None = None
        self.login_reply = None
        self.login_status = 0
        self.last_seq = 0
        self.broadcasts = 0
        # per-scenario state
        self.inflight = 0
        self.backlog = None

    def connection_made(self, transport) -> None:
        self.transport = transport
        self.lost = asyncio.get_running_loop().create_future()

    def connection_lost(self, exc) -> None:
        if self.lost is not None and not self.lost.done():
            self.lost.set_result(exc)
        for f in self.waiters.values():
            if not f.done():
                f.set_exception(ConnectionError(f"{self.name}: connection lost ({exc or 'closed'})"))
        self.waiters.clear()

    def data_received(self, data: bytes) -> None:
        t = now_ns()
        buf = self.buf + data if self.buf else data
        n = len(buf)
        pos = 0
        size = self.bsize
        bkind = self.bkind
        while n - pos >= HS:
            length = _len(buf, pos)[0]
            if n - pos < length:
                break
            kind = buf[pos + O_KIND]
            if kind == bkind:
                seq = _seq(buf, pos + O_SEQ)[0]
                if self.on_bcast_frame is not None:  # frame by frame, with the stream (several streams)
                    self.broadcasts += 1
                    self.on_bcast_frame(_stream(buf, pos + O_STREAM)[0], seq, t)
                    pos += length
                    continue
                if length == size:
                    k = (n - pos) // size
                    if k > 1:
                        lp = pos + (k - 1) * size
                        if _len(buf, lp)[0] == size and buf[lp + O_KIND] == kind:
                            lseq = _seq(buf, lp + O_SEQ)[0]
                            if lseq - seq == k - 1:
                                self._bcast(seq, lseq, k, t)
                                pos = lp + size
                                continue
                elif not size:
                    self.bsize = size = length
                self._bcast(seq, seq, 1, t)
            else:
                self._frame(kind, buf, pos, length, t)
            pos += length
        self.buf = buf[pos:] if pos < n else b""
        if self.after_chunk is not None:
            self.after_chunk(t)

    def _bcast(self, first: int, last: int, k: int, t: int) -> None:
        self.broadcasts += k
        self.last_seq = last
        if self.on_bcast is not None:
            self.on_bcast(first, last, k, t)

    def _frame(self, kind: int, buf, pos: int, length: int, t: int) -> None:
        rid = _rid(buf, pos + O_RID)[0]
        if kind == HEARTBEAT:
            return
        if kind == LOGOUT:
            self.logout = (_ss(buf, pos + O_SS)[0], bytes(buf[pos:pos + length]))
        w = self.waiters.pop(rid, None)
        if w is not None:
            if not w.done():
                w.set_result(bytes(buf[pos:pos + length]))
            return
        if self.on_reply is not None:
            self.on_reply(rid, kind, t)

    # ------------------------------------------------------------ set-up requests (decoded)
    async def request(self, kind: int, msg, timeout: float = 30.0):
        """Send a request; return (header frame, decoded message or None)."""
        rid = next(_setup_ids)
        fut = asyncio.get_running_loop().create_future()
        self.waiters[rid] = fut
        self.transport.write(encode_frame(kind, encode_message(msg), rid))
        raw = await asyncio.wait_for(fut, timeout)
        fr = FrameDecoder(1 << 30).feed(raw)[0]
        try:
            body = decode_message(fr.payload)
        except Exception:  # noqa: BLE001 - a ceiling server may answer with the request itself
            body = None
        return fr, body

    def write(self, data: bytes) -> None:
        self.transport.write(data)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


class LoginFailed(Exception):
    pass


async def login(host: str, port: int, user: str, password: str, role: str, *, resume=(), bcast_kind=BROADCAST) -> Conn:
    """Connect and log in (``role`` goes in the application id; the ceiling servers read it)."""
    loop = asyncio.get_running_loop()
    _, conn = await loop.create_connection(lambda: Conn(user, bcast_kind), host, port)
    req = ms.LoginRequest(user=user, password=password, application_id=f"hkpost-bench/{role}",
                          resume=list(resume))
    fr, body = await conn.request(int(Kind.LOGIN), req)
    if fr.kind == REJECT:
        text = getattr(body, "text", "")
        raise LoginFailed(f"login {user}: session status {fr.session_status} {text}")
    conn.login_status = fr.session_status
    if isinstance(body, ms.LoginReply):
        conn.login_reply = body
    return conn


def stream_last(conn: Conn, stream: int) -> int:
    """Last sequence of a stream from the login reply (0 when the server did not say)."""
    lr = conn.login_reply
    if lr is None:
        return 0
    for p in lr.streams:
        if p.stream == stream:
            return p.last_sequence
    return 0


def business_date(conn: Conn) -> int:
    lr = conn.login_reply
    return int(lr.business_date) if lr is not None and lr.business_date.isdigit() else 0
