"""Fault injection for client certification: the operator disturbs what one user's session receives.

A fault is set on a user (EC601-EC604, see protocol/messages/certify.py) and acts on the output of
that user's live session only: the session's transport is wrapped in a :class:`Tap` that reads the
frames the gateway writes and drops, repeats or holds them. No other connection is touched: the
fan-out still encodes and queues each broadcast once, and the tap works on this connection's copy.
What remains of a fault when the session ends applies to the user's next session. The tap also
records the session's output frame by frame in the user's activity log (gateway.monitor) while
the user is tapped.
"""
from __future__ import annotations

import struct
from collections import deque
from dataclasses import dataclass
from typing import Any

from gateway.clearing.errors import code
from protocol.framing import HEADER
from protocol.kinds import Flag, Kind
from protocol.registry import code_of

NO_SESSION = code(-600600, "NO_SESSION", "The user has no live session", "certification")
UNKNOWN_USER = code(-600601, "UNKNOWN_USER", "No such user", "certification")
FAULT_OUT_OF_RANGE = code(-600602, "FAULT_OUT_OF_RANGE", "Count or delay out of range", "certification")
OWN_SESSION = code(-600603, "OWN_SESSION", "The operator may not disturb its own session", "certification")

MAX_COUNT = 1000
MAX_DELAY_MS = 60_000

_OFF = HEADER.offsets()
_HEAD = struct.Struct(">IBBHQii").unpack_from          # length, version, kind, flags, request id, statuses
_STREAM_SEQ = struct.Struct(">HxxI").unpack_from        # stream, filler, sequence
_STREAM_AT = _OFF["stream"]
_SIZE = HEADER.size
_BROADCAST, _REPLY, _REJECT, _HEARTBEAT = int(Kind.BROADCAST), int(Kind.REPLY), int(Kind.REJECT), int(Kind.HEARTBEAT)
_RESENT = int(Flag.RECOVERY | Flag.REPLAY)


@dataclass
class Plan:
    """What remains to be done to one user's output."""
    withhold: int = 0
    duplicate: int = 0
    reply_delay_ms: int = 0
    replies: int = 0
    heartbeat_delay_ms: int = 0
    heartbeats: int = 0

    def count(self) -> int:
        return self.withhold + self.duplicate + self.replies + self.heartbeats


class Tap:
    """A transport wrapper: every ``write`` of the connection is cut into frames and each frame is
    sent, dropped, sent twice or held as the user's plan says, in order. Anything else is the real
    transport's."""

    def __init__(self, faults: "Faults", conn: Any, inner: Any):
        self._faults = faults
        self._conn = conn
        self._inner = inner
        self._held: deque = deque()    # (release at, bytes), release times never decrease
        self._timer = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def write(self, data: bytes) -> None:
        conn = self._conn
        user = conn.user.user
        plan = self._faults.plans.get(user)
        record = self._faults.monitor.log(user).add if self._faults.recording(user) else None
        sid = conn.session_id
        loop = conn.gw.loop
        now = loop.time()
        out: list = []
        view = memoryview(data)  # released below: a shared segment must stay resizable
        i, n = 0, len(data)
        while i + _SIZE <= n:
            length, _, kind, flags, rid, status, business = _HEAD(data, i)
            if length < _SIZE or i + length > n:
                break
            frame = bytes(view[i:i + length])
            i += length
            fcode = code_of(frame[_SIZE:_SIZE + 4]) if length >= _SIZE + 4 else ""
            stream = seq = 0
            if kind == _BROADCAST:
                stream, seq = _STREAM_SEQ(frame, _STREAM_AT)
            elif kind == _REJECT and business:
                status = business
            direction, copies, delay = "out", 1, 0
            if plan is not None and plan.count():
                if kind == _BROADCAST and not flags & _RESENT:
                    if plan.withhold:
                        plan.withhold -= 1
                        direction, copies = "drop", 0
                    elif plan.duplicate:
                        plan.duplicate -= 1
                        direction, copies = "dup", 2
                elif kind in (_REPLY, _REJECT) and plan.replies:
                    plan.replies -= 1
                    direction, delay = "held", plan.reply_delay_ms
                elif kind == _HEARTBEAT and plan.heartbeats:
                    plan.heartbeats -= 1
                    direction, delay = "held", plan.heartbeat_delay_ms
            if record is not None:
                record(sid, direction, kind, fcode, rid, status, stream, seq, f"{delay} ms" if delay else "")
            if not copies:
                continue
            at = now + delay / 1000.0
            if self._held or delay:
                if self._held and self._held[-1][0] > at:
                    at = self._held[-1][0]
                for _ in range(copies):
                    self._held.append((at, frame))
            else:
                out += [frame] * copies
        if i < n:  # not whole frames (never written by the gateway): passed on as they are
            out.append(bytes(view[i:]))
        view.release()
        if out:
            self._inner.write(b"".join(out))
        if self._held and self._timer is None:
            self._timer = loop.call_at(self._held[0][0], self._release)

    def _release(self) -> None:
        self._timer = None
        if self._inner.is_closing():
            self._held.clear()
            return
        now = self._conn.gw.loop.time()
        out = []
        while self._held and self._held[0][0] <= now + 0.0005:
            out.append(self._held.popleft()[1])
        if out:
            self._inner.write(b"".join(out))
        if self._held:
            self._timer = self._conn.gw.loop.call_at(self._held[0][0], self._release)

    def release_all(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._held and not self._inner.is_closing():
            self._inner.write(b"".join(f for _, f in self._held))
        self._held.clear()

    def close(self) -> None:
        self.release_all()  # what is held goes out before the end (a logout notice stays last)
        self._inner.close()

    def write_eof(self) -> None:
        self.release_all()  # as close: the end of the stream comes after what is held
        self._inner.write_eof()


class Faults:
    """The faults set on users (``Gateway.faults``)."""

    def __init__(self, gateway: Any):
        self.gw = gateway
        self.monitor = gateway.monitor
        self.plans: dict[str, Plan] = {}

    def pending(self, user: str) -> bool:
        p = self.plans.get(user)
        return p is not None and p.count() > 0

    def pending_count(self, conn: Any) -> int:
        p = self.plans.get(conn.user.user) if conn.user is not None else None
        return min(0xFFFF, p.count()) if p is not None else 0

    def recording(self, user: str) -> bool:
        return user in self.monitor.watched or user in self.plans

    def tap(self, conn: Any) -> None:
        self.monitor.widen(conn.user.user)
        if conn.transport is not None and not isinstance(conn.transport, Tap):
            conn.transport = Tap(self, conn, conn.transport)

    def live(self, user: str) -> Any:
        conn = self.gw.sessions.get(user)
        if conn is None or conn.closing:
            return None
        return conn

    def plan(self, user: str) -> Plan:
        p = self.plans.get(user)
        if p is None:
            p = self.plans[user] = Plan()
        return p

    def reset(self) -> None:
        """An operator reset (EC5): every fault and watch is gone (held frames go out)."""
        for user in list(self.plans):
            self.clear(user)
        self.monitor.reset()

    def clear(self, user: str) -> None:
        self.plans.pop(user, None)
        conn = self.live(user)
        if conn is not None and isinstance(conn.transport, Tap):
            conn.transport.release_all()
