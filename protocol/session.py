"""Session state machines, sans-I/O (the h11 / websockets style).

Feed bytes in with ``receive_data(data, now)``; get events back; ask for bytes to write with
``data_to_send()``. Time is passed in (seconds, any monotonic origin). The server side
(:class:`ServerSession`) enforces the session rules (first frame is a login, throttle, heartbeats
and idle drop, pending-request limit); the client side (:class:`ClientSession`) pairs replies
with requests, drops duplicate broadcasts, detects gaps on whole-stream subscriptions and fills
them with recovery queries before delivering later broadcasts, so the caller sees every
broadcast of a stream exactly once and in order.
"""
from __future__ import annotations

import enum
import itertools
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from .codec import DecodeError
from .framing import Frame, FrameDecoder, FramingError, MAX_FRAME_SIZE, encode_frame
from .kinds import REQUEST_KINDS, Flag, Kind
from .registry import UnknownMessageType, code_of, decode_message, encode_message
from .status import SessionStatus as St
from .status import text as status_text


class State(enum.Enum):
    AWAIT_LOGIN = "await_login"
    LOGGING_IN = "logging_in"
    ACTIVE = "active"
    CLOSED = "closed"


_AWAIT_LOGIN, _LOGGING_IN, _ACTIVE = State.AWAIT_LOGIN, State.LOGGING_IN, State.ACTIVE
_HEARTBEAT, _LOGIN = int(Kind.HEARTBEAT), int(Kind.LOGIN)


# ================================================================== events
@dataclass(slots=True)
class RequestReceived:
    """Server side: a well-formed request (login, transaction, query, subscribe, logout)."""
    frame: Frame
    message: Any


@dataclass(slots=True)
class Violation:
    """A request the session rules refuse. ``fatal``: the connection must end after the answer."""
    status: int
    request_id: int
    text: str
    request_code: str = ""
    field_offset: int = 0
    field: str = ""
    fatal: bool = False
    raw: bytes = b""


@dataclass(slots=True)
class HeartbeatReceived:
    pass


@dataclass(slots=True)
class IdleTimeout:
    silent_for: float


@dataclass(slots=True)
class Reply:
    """Client side: a REPLY frame (one segment) for a request."""
    request_id: int
    message: Any
    frame: Frame
    last: bool


@dataclass(slots=True)
class Rejected:
    request_id: int
    session_status: int
    business_status: int
    field_offset: int
    request_code: str
    field: str
    text: str
    frame: Frame | None = None


@dataclass(slots=True)
class Broadcast:
    stream: int
    sequence: int
    business_date: int
    message: Any
    frame: Frame
    recovered_for: int = 0  # request id of an explicit recovery query (RECOVERY flag)


@dataclass(slots=True)
class LoggedOut:
    reason: int
    text: str


@dataclass(slots=True)
class GapDetected:
    stream: int
    business_date: int
    first: int
    last: int


@dataclass(slots=True)
class ProtocolError:
    status: int
    text: str


# ================================================================== server side
@dataclass
class Limits:
    heartbeat_interval: float = 10.0      # seconds of send-silence before a heartbeat
    idle_heartbeats: int = 3              # receive-silence of this many intervals drops the peer
    throttle_per_second: int = 2000       # requests per one-second window
    max_pending: int = 1000
    max_frame_size: int = MAX_FRAME_SIZE


class ServerSession:
    """The gateway's view of one connection."""

    def __init__(self, limits: Limits, now: float):
        self.limits = limits
        self.state = State.AWAIT_LOGIN
        self.decoder = FrameDecoder(limits.max_frame_size)
        self.last_received = now
        self.last_sent = now
        self._window_start = now
        self._window_count = 0
        self._window_rejects = 0
        self.pending = 0
        self._out: list[bytes] = []
        self._held_frames: list[Frame] = []

    # ------------------------------------------------------------ input
    def receive_data(self, data: bytes, now: float) -> list:
        self.last_received = now
        try:
            frames = self.decoder.feed(data)
        except FramingError as e:
            self.state = State.CLOSED
            return [Violation(e.status, 0, str(e), fatal=True, raw=e.raw)]
        events: list = []
        for i, fr in enumerate(frames):
            if self.state is _LOGGING_IN:
                # frames pipelined behind the login wait for its outcome, however TCP split them
                self._held_frames += frames[i:]
                break
            ev = self._frame(fr, now)
            if ev is not None:
                events.append(ev)
                if isinstance(ev, Violation) and ev.fatal:
                    self.state = State.CLOSED
                    break
        return events

    def process_held(self, now: float) -> list:
        """After ``login_accepted``: the events of the frames that arrived behind the login."""
        held, self._held_frames = self._held_frames, []
        events: list = []
        for fr in held:
            ev = self._frame(fr, now)
            if ev is not None:
                events.append(ev)
                if isinstance(ev, Violation) and ev.fatal:
                    self.state = State.CLOSED
                    break
        return events

    def _frame(self, fr: Frame, now: float):
        # enum members are bound to module constants (_ACTIVE, _LOGIN...): an attribute lookup on
        # an Enum class costs ~0.16 us, and this runs for every frame
        kind = fr.kind
        state = self.state
        if kind == _HEARTBEAT:
            return HeartbeatReceived() if state is _ACTIVE else self._not_logged_in(fr)
        if kind not in REQUEST_KINDS:
            if state is not _ACTIVE:
                return self._not_logged_in(fr)
            return Violation(St.WRONG_KIND, fr.request_id, f"frame kind {kind} may not be sent by a client",
                             code_of(fr.payload[:4]))
        if state is _AWAIT_LOGIN:
            if kind != _LOGIN:
                return self._not_logged_in(fr)
        elif kind == _LOGIN:
            return Violation(St.ALREADY_LOGGED_IN, fr.request_id, status_text(St.ALREADY_LOGGED_IN),
                             code_of(fr.payload[:4]))
        if state is _ACTIVE:
            limits = self.limits
            if now - self._window_start < 1.0 and self._window_count < limits.throttle_per_second:
                self._window_count += 1  # the common case of _throttle, inline
            else:
                v = self._throttle(fr, now)
                if v is not None:
                    return v
            if self.pending >= limits.max_pending:
                return Violation(St.TOO_MANY_PENDING, fr.request_id, status_text(St.TOO_MANY_PENDING),
                                 code_of(fr.payload[:4]))
        try:
            msg = decode_message(fr.payload)
        except UnknownMessageType as e:
            v = Violation(St.INVALID_MESSAGE_TYPE, fr.request_id, str(e), e.code)
            v.fatal = state is _AWAIT_LOGIN
            return v
        except DecodeError as e:
            v = Violation(St.FIELD_ERROR, fr.request_id, str(e), code_of(fr.payload[:4]), e.offset, e.field)
            v.fatal = state is _AWAIT_LOGIN
            return v
        spec = msg.__message__
        if spec.kind != kind:
            return Violation(St.WRONG_KIND, fr.request_id,
                             f"{spec.code} is a {spec.kind.name} message, sent as {Kind(kind).name}",
                             spec.code, fatal=state is _AWAIT_LOGIN)
        if kind == _LOGIN:
            self.state = _LOGGING_IN
        self.pending += 1
        return RequestReceived(fr, msg)

    def _not_logged_in(self, fr: Frame) -> Violation:
        return Violation(St.NOT_LOGGED_IN, fr.request_id, status_text(St.NOT_LOGGED_IN),
                         code_of(fr.payload[:4]) if len(fr.payload) >= 4 else "", fatal=True)

    def _throttle(self, fr: Frame, now: float):
        if now - self._window_start >= 1.0:
            self._window_start = now
            self._window_count = 0
            self._window_rejects = 0
        self._window_count += 1
        limit = self.limits.throttle_per_second
        if self._window_count <= limit:
            return None
        self._window_rejects += 1
        fatal = self._window_rejects > limit
        st = St.THROTTLE_DISCONNECT if fatal else St.THROTTLED
        return Violation(st, fr.request_id, status_text(st), code_of(fr.payload[:4]), fatal=fatal)

    # ------------------------------------------------------------ login outcome
    def login_accepted(self) -> None:
        self.state = State.ACTIVE

    def login_refused(self) -> None:
        self.state = State.CLOSED
        self._held_frames = []

    def answered(self) -> None:
        if self.pending:
            self.pending -= 1

    # ------------------------------------------------------------ time
    def tick(self, now: float) -> list:
        """Call periodically: sends a heartbeat after send-silence; reports receive-silence."""
        if self.state is State.CLOSED:
            return []
        hb = self.limits.heartbeat_interval
        silent = now - self.last_received
        if silent > hb * self.limits.idle_heartbeats:
            self.state = State.CLOSED
            return [IdleTimeout(silent)]
        if self.state is State.ACTIVE and now - self.last_sent >= hb:
            self.send_frame(encode_frame(Kind.HEARTBEAT, HEARTBEAT_PAYLOAD), now)
        return []

    # ------------------------------------------------------------ output
    def send_frame(self, data: bytes, now: float) -> None:
        self._out.append(data)
        self.last_sent = now

    def data_to_send(self) -> bytes:
        if not self._out:
            return b""
        data = b"".join(self._out) if len(self._out) > 1 else self._out[0]
        self._out.clear()
        return data


HEARTBEAT_PAYLOAD = b"UH\x00\x01\x00\x00\x00\x00"


def reject_frame(v: Violation | Rejected, business_status: int = 0) -> bytes:
    from .messages.session import Reject
    status = v.status if isinstance(v, Violation) else v.session_status
    payload = encode_message(Reject(request_code=v.request_code[:8], field=v.field[:32], text=v.text[:80]))
    return encode_frame(Kind.REJECT, payload, v.request_id, session_status=status,
                        business_status=business_status, field_offset=v.field_offset)


# ================================================================== client side
# answers the client machine reads itself, so their type is checked
_EXPECTED_ANSWER = {"UL1": "UL2", "UB1": "UB2", "UB3": "UB2", "UQ20": "UA20"}


@dataclass
class _Sub:
    stream: int
    whole: bool  # no broadcast type and no filter: gaps are real gaps


@dataclass
class _StreamCursor:
    business_date: int = 0
    last: int = 0
    whole: bool = False
    recovering: int = 0  # request id of the gap-filling recovery query
    recover_to: int = 0
    held: deque = field(default_factory=deque)  # live broadcasts held back during recovery


class ClientSession:
    """The SDK's (and the conformance driver's) view of one connection."""

    def __init__(self, max_frame_size: int = MAX_FRAME_SIZE, auto_recover: bool = True):
        self.state = State.AWAIT_LOGIN
        self.decoder = FrameDecoder(max_frame_size)
        self._ids = itertools.count(1)
        self._out: list[bytes] = []
        self.cursors: dict[int, _StreamCursor] = {}
        self.auto_recover = auto_recover
        self.pending: dict[int, str] = {}  # request id -> message code
        self._internal: set[int] = set()   # request ids of our own recovery queries
        self._subs: dict[int, _Sub] = {}   # request id of UB1 -> its items
        self._sub_items: dict[int, list] = {}
        self.max_replay = 0
        self.login_reply = None

    # ------------------------------------------------------------ output
    def next_id(self) -> int:
        return next(self._ids)

    def send(self, msg, request_id: int | None = None) -> int:
        spec = msg.__message__
        rid = self.next_id() if request_id is None else request_id
        if spec.kind == Kind.LOGIN:
            self.state = State.LOGGING_IN
            for rp in msg.resume:
                c = self.cursors.setdefault(rp.stream, _StreamCursor())
                if rp.business_date >= c.business_date:
                    c.business_date, c.last = rp.business_date, max(c.last, rp.last_sequence) \
                        if rp.business_date == c.business_date else rp.last_sequence
        if spec.code == "UB1":
            self._sub_items[rid] = list(msg.items)
        self.pending[rid] = spec.code
        self._out.append(encode_frame(spec.kind, encode_message(msg), rid))
        return rid

    def send_heartbeat(self) -> None:
        self._out.append(encode_frame(Kind.HEARTBEAT, HEARTBEAT_PAYLOAD))

    def send_raw(self, data: bytes) -> None:
        self._out.append(data)

    def data_to_send(self) -> bytes:
        data = b"".join(self._out)
        self._out.clear()
        return data

    def resume_points(self) -> list:
        from .messages.session import ResumePoint
        return [ResumePoint(stream=s, business_date=c.business_date, last_sequence=c.last)
                for s, c in sorted(self.cursors.items()) if c.business_date]

    # ------------------------------------------------------------ input
    def receive_data(self, data: bytes) -> list:
        try:
            frames = self.decoder.feed(data)
        except FramingError as e:
            self.state = State.CLOSED
            return [ProtocolError(e.status, str(e))]
        events: list = []
        for fr in frames:
            self._frame(fr, events)
        return events

    def _decode(self, fr: Frame):
        try:
            return decode_message(fr.payload)
        except DecodeError as e:
            return e

    def _frame(self, fr: Frame, events: list) -> None:
        kind = fr.kind
        if kind == Kind.BROADCAST:
            msg = self._decode(fr)
            if isinstance(msg, DecodeError):
                events.append(ProtocolError(St.FIELD_ERROR, f"broadcast does not decode: {msg}"))
                return
            self._broadcast(Broadcast(fr.stream, fr.sequence, fr.business_date, msg, fr), events)
            return
        if kind == Kind.HEARTBEAT:
            events.append(HeartbeatReceived())
            return
        if kind == Kind.LOGOUT:
            msg = self._decode(fr)
            self.state = State.CLOSED
            reason = getattr(msg, "reason", fr.session_status)
            events.append(LoggedOut(reason, getattr(msg, "text", "")))
            return
        rid = fr.request_id
        if kind == Kind.REJECT:
            msg = self._decode(fr)
            self.pending.pop(rid, None)
            rej = Rejected(rid, fr.session_status, fr.business_status, fr.field_offset,
                           getattr(msg, "request_code", ""), getattr(msg, "field", ""),
                           getattr(msg, "text", status_text(fr.session_status)), fr)
            if self.state is State.LOGGING_IN:
                self.state = State.CLOSED
            if rid in self._internal:
                self._internal.discard(rid)
                self._recovery_failed(rid, events)
                return
            events.append(rej)
            return
        if kind == Kind.REPLY:
            msg = self._decode(fr)
            if isinstance(msg, DecodeError):
                events.append(ProtocolError(St.FIELD_ERROR, f"reply does not decode: {msg}"))
                return
            last = bool(fr.flags & Flag.LAST_SEGMENT) or fr.segment == 0
            code = self.pending.get(rid)
            expected = _EXPECTED_ANSWER.get(code)
            if expected is not None and msg.__message__.code != expected:
                # the machine reads these answers itself: a reply of another type is a protocol error
                self.pending.pop(rid, None)
                if code == "UL1":
                    self.state = State.CLOSED
                events.append(ProtocolError(St.INVALID_MESSAGE_TYPE,
                                            f"{code} answered with {msg.__message__.code}, expected {expected}"))
                return
            if last:
                self.pending.pop(rid, None)
            if code == "UL1":
                self.state = State.ACTIVE
                self.login_reply = msg
                self.max_replay = msg.max_replay
            elif code == "UB1":
                self._subscribed(rid, msg, fr.business_date)
            if rid in self._internal:
                if last:
                    self._internal.discard(rid)
                    self._recovered(rid, msg, events)
                return
            events.append(Reply(rid, msg, fr, last))
            return
        events.append(ProtocolError(St.WRONG_KIND, f"unexpected frame kind {kind}"))

    # ------------------------------------------------------------ broadcasts, dedupe and gaps
    def _subscribed(self, rid: int, reply, business_date: int) -> None:
        items = self._sub_items.pop(rid, [])
        for req, st in zip(items, reply.items):
            if st.handle == 0:
                continue
            c = self.cursors.setdefault(st.stream, _StreamCursor())
            whole = not req.broadcast and not req.filter
            c.whole = c.whole or whole
            if c.business_date != business_date:
                # no resume point for today: start where the server says delivery starts
                c.business_date, c.last = business_date, st.first_sequence - 1
            if st.status == St.REPLAY_LIMIT and c.whole and self.auto_recover and c.last < st.last_sequence:
                # the server refused to replay that much: recover the gap by bounded ranges
                self._start_recovery(c, GapDetected(st.stream, business_date, c.last + 1, st.last_sequence))

    def _broadcast(self, b: Broadcast, events: list) -> None:
        if b.frame.flags & Flag.RECOVERY:
            rid = b.frame.request_id
            if rid in self._internal:
                self._deliver(b, events, from_recovery=True)
            elif self.pending.get(rid) == "UQ20":
                b.recovered_for = rid
                events.append(b)
            else:
                events.append(ProtocolError(St.INVALID_MESSAGE_TYPE,
                                            f"recovery broadcast for request {rid}, which is no pending recovery query"))
            return
        c = self.cursors.setdefault(b.stream, _StreamCursor())
        if c.recovering:
            c.held.append(b)
            return
        self._deliver(b, events)

    def _deliver(self, b: Broadcast, events: list, from_recovery: bool = False) -> None:
        c = self.cursors.setdefault(b.stream, _StreamCursor())
        if b.business_date != c.business_date:
            if b.business_date < c.business_date:
                return  # an older day's broadcast: already superseded
            c.business_date, c.last = b.business_date, 0
        if b.sequence <= c.last:
            return  # duplicate
        if b.sequence > c.last + 1 and c.whole and not from_recovery:
            gap = GapDetected(b.stream, b.business_date, c.last + 1, b.sequence - 1)
            if self.auto_recover and self.state is State.ACTIVE:
                self._start_recovery(c, gap)
                c.held.append(b)
                return
            events.append(gap)
        c.last = b.sequence
        events.append(b)

    def _start_recovery(self, c: _StreamCursor, gap: GapDetected) -> None:
        from .messages.session import RecoveryQuery
        last = gap.last
        if self.max_replay:
            last = min(last, gap.first + self.max_replay - 1)
        rid = self.send(RecoveryQuery(stream=gap.stream, business_date=gap.business_date,
                                      first_sequence=gap.first, last_sequence=last))
        self._internal.add(rid)
        c.recovering = rid
        c.recover_to = gap.last

    def _recovered(self, rid: int, answer, events: list) -> None:
        for s, c in self.cursors.items():
            if c.recovering != rid:
                continue
            c.recovering = 0
            if c.last < c.recover_to and answer.last_sequence >= c.last and answer.count:
                # more of the gap remains: ask for the next range
                self._start_recovery(c, GapDetected(s, c.business_date, c.last + 1, c.recover_to))
                return
            if c.last < c.recover_to:
                events.append(GapDetected(s, c.business_date, c.last + 1, c.recover_to))
                c.last = c.recover_to
            held, c.held = c.held, deque()
            for b in held:
                if c.recovering:
                    c.held.append(b)
                else:
                    self._deliver(b, events)

    def _recovery_failed(self, rid: int, events: list) -> None:
        """Our gap-filling query was refused: report the gap, then deliver what was held."""
        for s, c in self.cursors.items():
            if c.recovering != rid:
                continue
            c.recovering = 0
            if c.last < c.recover_to:
                events.append(GapDetected(s, c.business_date, c.last + 1, c.recover_to))
                c.last = c.recover_to
            held, c.held = c.held, deque()
            for b in held:
                self._deliver(b, events)
