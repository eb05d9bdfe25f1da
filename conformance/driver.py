"""The raw driver: one TCP connection to the implementation under test, frames in and out.

It uses only ``protocol/`` (framing, registry, message declarations): it sees exactly the bytes
the server sends. Every frame received is kept with its raw bytes for reports; frames not yet
matched by an expectation wait in ``pending``. Broadcasts (not the RECOVERY answers) are also
recorded per stream in arrival order, for the no-gap/no-duplicate checks. Heartbeats (UH1) are
sent automatically once logged in, unless the case turns them off.
"""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

from protocol.codec import DecodeError
from protocol.framing import HEADER_SIZE, Frame, FrameDecoder, FramingError, encode_frame, kind_name
from protocol.kinds import Flag, Kind
from protocol.registry import decode_message
from protocol.session import ClientSession, HeartbeatClock, ThrottleWindow, heartbeat_frame
from protocol.values import to_dict

READ_SIZE = 1 << 16
CLIENT_MAX_FRAME = 1 << 24  # the client accepts large frames: the server's limits are under test, not ours
# well-behaved requests stay within this share of the announced throttle (a margin for timing jitter)
PACING_SHARE = 0.8


@dataclass
class Received:
    frame: Frame
    raw: bytes
    at: float
    message: Any = None
    error: str = ""
    segments: int = 1          # a query answer joined from this many REPLY segments

    @property
    def kind(self) -> int:
        return self.frame.kind

    @property
    def code(self) -> str:
        return self.frame.code

    def header(self) -> dict:
        f = self.frame
        return {"length": len(self.raw), "kind": kind_name(f.kind), "flags": f.flags, "request_id": f.request_id,
                "session_status": f.session_status, "business_status": f.business_status,
                "field_offset": f.field_offset, "segment": f.segment, "stream": f.stream, "sequence": f.sequence,
                "business_date": f.business_date}

    def as_vars(self) -> dict:
        """The frame as variables: message fields at the top, ``header``, ``code``, ``kind``, ``hex``."""
        d: dict = {}
        if self.message is not None:
            d.update(to_dict(self.message))
        h = self.header()
        d["header"] = h
        for k in ("kind", "request_id", "session_status", "business_status", "field_offset", "flags", "segment",
                  "stream", "sequence"):
            d.setdefault(k, h[k])
        d.setdefault("message", self.code)
        d.setdefault("hex", self.raw.hex())
        d.setdefault("segments", self.segments)
        return d

    def summary(self) -> str:
        f = self.frame
        parts = [kind_name(f.kind), self.code or "-", f"rid={f.request_id}"]
        if f.session_status or f.kind == Kind.REJECT:
            parts.append(f"session_status={f.session_status}")
        if f.business_status:
            parts.append(f"business_status={f.business_status}")
        if f.field_offset:
            parts.append(f"field_offset={f.field_offset}")
        if f.kind == Kind.BROADCAST:
            parts.append(f"stream={f.stream} seq={f.sequence} date={f.business_date}")
        if f.flags:
            parts.append(f"flags=0x{f.flags:04x}")
        if self.segments > 1:
            parts.append(f"({self.segments} segments)")
        if self.message is not None:
            d = to_dict(self.message)
            short = {k: v for k, v in d.items() if not isinstance(v, list)}
            txt = " ".join(f"{k}={v!r}" for k, v in list(short.items())[:6])
            if txt:
                parts.append(txt)
        elif self.error:
            parts.append(f"(does not decode: {self.error})")
        text = " ".join(parts)
        return text if len(text) <= 500 else text[:500] + "..."


class Connection:
    def __init__(self, name: str, host: str, port: int, ssl=None):
        self.name = name
        self.host, self.port = host, port
        self.ssl = ssl
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.decoder = FrameDecoder(CLIENT_MAX_FRAME)
        self.pending: list[Received] = []
        self.received: list[Received] = []
        self.seen: dict[int, list[tuple[int, int]]] = {}  # stream -> [(business_date, sequence)] in arrival order
        self.closed = False
        self.close_reason = ""
        self.protocol_error = ""
        self.changed = asyncio.Event()
        self._ids = 0
        self.last_request_id = 0
        self.last_sent = 0.0
        self.last_received = 0.0
        self.login: dict | None = None
        self.user = ""
        self.password = ""
        self.heartbeats = True
        self.subscriptions: list[dict] = []
        self._reader_task: asyncio.Task | None = None
        self._hb_task: asyncio.Task | None = None
        self.bytes_sent = 0
        self.window: ThrottleWindow | None = None  # from the login, for pace()

    # ------------------------------------------------------------ lifecycle
    async def open(self, timeout: float) -> None:
        self.reader, self.writer = await asyncio.wait_for(
            asyncio.open_connection(self.host, self.port, ssl=self.ssl), timeout)
        self.last_sent = self.last_received = time.monotonic()
        self._reader_task = asyncio.create_task(self._read_loop())

    @property
    def is_open(self) -> bool:
        return self.writer is not None and not self.closed

    async def _read_loop(self) -> None:
        try:
            while True:
                data = await self.reader.read(READ_SIZE)
                if not data:
                    self._mark_closed("closed by the peer")
                    return
                self.last_received = time.monotonic()
                try:
                    frames = self.decoder.feed(data)
                except FramingError as e:
                    self.protocol_error = f"the server sent bytes that cannot be framed: {e} ({e.raw.hex()})"
                    self._mark_closed(self.protocol_error)
                    return
                now = time.monotonic()
                for fr in frames:
                    self._add(fr, now)
                self.changed.set()
        except (ConnectionError, OSError) as e:
            self._mark_closed(f"connection error: {e}")
        except asyncio.CancelledError:
            raise

    def _add(self, fr: Frame, now: float) -> None:
        raw = encode_frame(fr.kind, fr.payload, fr.request_id, flags=fr.flags, session_status=fr.session_status,
                           business_status=fr.business_status, field_offset=fr.field_offset, segment=fr.segment,
                           stream=fr.stream, sequence=fr.sequence, business_date=fr.business_date)
        r = Received(fr, raw, now)
        if len(fr.payload) >= 4:
            try:
                r.message = decode_message(fr.payload)
            except DecodeError as e:
                r.error = str(e)
        else:
            r.error = "payload shorter than the message type"
        self.received.append(r)
        if fr.kind == Kind.HEARTBEAT:
            return  # liveness only; never matched unless a case asks for one (see heartbeats_received)
        if fr.kind == Kind.BROADCAST and not fr.flags & Flag.RECOVERY:
            self.seen.setdefault(fr.stream, []).append((fr.business_date, fr.sequence))
        self.pending.append(r)

    def _mark_closed(self, reason: str) -> None:
        if not self.closed:
            self.closed = True
            self.close_reason = reason
        self.changed.set()

    async def close(self, abort: bool = True) -> None:
        for t in (self._hb_task, self._reader_task):
            if t is not None and not t.done():
                t.cancel()
        if self.writer is not None:
            try:
                if abort and self.writer.transport is not None:
                    self.writer.transport.abort()
                else:
                    self.writer.close()
            except Exception:  # noqa: BLE001 - closing a broken socket
                pass
        self._mark_closed(self.close_reason or "closed by the runner")

    # ------------------------------------------------------------ output
    def next_request_id(self) -> int:
        self._ids += 1
        return self._ids

    def use_request_id(self, rid: int) -> None:
        self.last_request_id = rid
        self._ids = max(self._ids, rid)

    async def write(self, data: bytes) -> None:
        if self.writer is None:
            raise ConnectionError(f"connection {self.name} is not open")
        if self.closed and self.close_reason != "":
            # writing to a closed connection is allowed (the server may be slow to notice) but pointless
            pass
        self.writer.write(data)
        self.bytes_sent += len(data)
        self.last_sent = time.monotonic()
        try:
            await self.writer.drain()
        except (ConnectionError, OSError) as e:
            self._mark_closed(f"connection error while writing: {e}")

    async def pace(self) -> None:
        """Stay under the throttle announced at login (well-behaved requests only)."""
        limit = int((self.login or {}).get("throttle_per_second", 0) or 0)
        if not limit:
            return
        if self.window is None or self.window.limit != limit:
            self.window = ThrottleWindow(limit)
        wait = self.window.delay(time.monotonic(), PACING_SHARE)
        if wait:
            await asyncio.sleep(wait)

    def start_heartbeats(self) -> None:
        if self._hb_task is None and self.login:
            self._hb_task = asyncio.create_task(self._heartbeat_loop())

    async def _heartbeat_loop(self) -> None:
        login = self.login or {}
        interval = max(0.02, login.get("heartbeat_interval_ms", 10000) / 1000.0)
        # the client's rule of protocol.session (a heartbeat after half the interval of send-silence);
        # the server's silence is judged by the cases, not here
        clock = HeartbeatClock(interval, int(login.get("idle_heartbeats", 3) or 3), time.monotonic(),
                               ClientSession.HEARTBEAT_SHARE)
        try:
            while not self.closed:
                await asyncio.sleep(interval / 4)
                clock.last_sent = self.last_sent
                if self.heartbeats and not self.closed and clock.heartbeat_due(time.monotonic()):
                    await self.write(heartbeat_frame())
        except (ConnectionError, OSError):
            pass

    def heartbeats_received(self) -> list[Received]:
        return [r for r in self.received if r.kind == Kind.HEARTBEAT]

    # ------------------------------------------------------------ waiting
    async def wait_change(self, deadline: float) -> bool:
        """Wait for a new frame or the close; False at the deadline."""
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        self.changed.clear()
        try:
            await asyncio.wait_for(self.changed.wait(), left)
            return True
        except asyncio.TimeoutError:
            return False

    def resume_points(self) -> list[dict]:
        out = []
        for stream, seen in sorted(self.seen.items()):
            if seen:
                d, s = max(seen)
                out.append({"stream": stream, "business_date": d, "last_sequence": s})
        return out


def header_bytes(length: int, kind: int, request_id: int, version: int = 1, flags: int = 0, **kw) -> bytes:
    """A header with any values (including invalid ones) for raw steps."""
    from protocol.framing import HEADER
    vals = dict(length=length, version=version, kind=kind, flags=flags, request_id=request_id, session_status=0,
                business_status=0, field_offset=0, segment=0, stream=0, sequence=0, business_date=0)
    vals.update(kw)
    order = ["length", "version", "kind", "flags", "request_id", "session_status", "business_status", "field_offset",
             "segment", "stream", "sequence", "business_date"]
    return HEADER.struct.pack(*[vals[k] for k in order])


__all__ = ["Connection", "Received", "header_bytes", "HEADER_SIZE"]
