"""Session state machines, sans-I/O (the h11 / websockets style).

Feed bytes in with ``receive_data(data, now)``; get events back; ask for bytes to write with
``data_to_send()``; call ``tick(now)`` now and then for the heartbeats and timeouts due. Time is
passed in (seconds, any monotonic origin). The machines own their input and output: nobody
writes into their buffers or flags from outside.

The server side (:class:`ServerSession`) enforces the session rules (first frame is a login,
nothing else is read while the login is being verified, throttle, heartbeats, idle drop, login
timeout, pending-request limit) and queues output in an :class:`Outbox`, which may hold
:class:`SharedSegment` buffers shared by many connections (broadcast fan-out). The client side
(:class:`ClientSession`) pairs replies with requests, drops duplicate broadcasts, detects gaps on
whole-stream subscriptions and fills them with recovery queries before delivering later
broadcasts, so the caller sees every broadcast of a stream exactly once and in order; it also
paces requests under the announced throttle (:class:`ThrottleWindow`) and keeps the connection
alive (:class:`HeartbeatClock`).
"""
from __future__ import annotations

import dataclasses
import enum
import itertools
from collections import deque
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from .codec import DecodeError
from .framing import Frame, FrameDecoder, FramingError, MAX_FRAME_SIZE, encode_frame
from .kinds import REQUEST_KINDS, Flag, Kind
from .messages.session import HEARTBEAT_PAYLOAD, RecoveryQuery, Reject, ResumePoint
from .registry import TYPE_SIZE, UnknownMessageType, code_of, decode_message, encode_message
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
class RequestReceived(NamedTuple):
    """Server side: a well-formed request (login, transaction, query, subscribe, logout). A tuple,
    made in one call (``_new_event``: no ``__init__`` per request)."""
    frame: Frame
    message: Any


_new_event = tuple.__new__  # _new_event(RequestReceived, (frame, message))


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
class LoginTimeout:
    """Server side: no login arrived within ``Limits.login_timeout`` of the connection."""
    waited: float


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


# ================================================================== time rules (both sides)
class ThrottleWindow:
    """The throttle: at most ``limit`` requests per one-second window, the window starting at the
    first request after the previous one ended (the first window at the first request: how long
    the connection and its login took does not count). The server counts what arrives with it; a
    client paces what it sends with it (:meth:`delay`)."""

    __slots__ = ("limit", "start", "count")

    def __init__(self, limit: int, now: float = float("-inf")):
        self.limit = limit
        self.start = now      # when the current window began (-inf: none yet, the next request begins one)
        self.count = 0

    def admit(self, now: float) -> int:
        """Count one request at ``now``; returns how many the window holds with it (over
        ``limit``: it was one too many)."""
        if now - self.start >= 1.0:
            self.start, self.count = now, 0
        self.count += 1
        return self.count

    def delay(self, now: float, share: float = 1.0) -> float:
        """A client about to send one request: the seconds to wait first (0 when it may go now) to
        stay within ``share`` of the limit. The request is counted, in the window it will go in."""
        allowed = max(1, int(self.limit * share)) if self.limit else 0
        if not allowed:
            return 0.0
        if now - self.start >= 1.0:
            self.start, self.count = now, 0
        if self.count >= allowed:
            wait = max(0.0, self.start + 1.0 - now)
            self.start, self.count = now + wait, 1
            return wait
        self.count += 1
        return 0.0


class HeartbeatClock:
    """Liveness of one connection, the same rule on both sides: after ``interval`` seconds of
    send-silence (``send_after`` of it, for a client that wants a margin) a heartbeat is due; after
    ``idle_heartbeats`` intervals of receive-silence the peer is gone."""

    __slots__ = ("interval", "idle_heartbeats", "send_after", "last_sent", "last_received")

    def __init__(self, interval: float, idle_heartbeats: int, now: float, send_share: float = 1.0):
        self.interval = interval
        self.idle_heartbeats = idle_heartbeats
        self.send_after = interval * send_share
        self.last_sent = now
        self.last_received = now

    def heartbeat_due(self, now: float) -> bool:
        return now - self.last_sent >= self.send_after

    def silent_for(self, now: float) -> float:
        """Receive-silence when it is long enough to drop the peer, else 0."""
        silent = now - self.last_received
        return silent if silent > self.interval * self.idle_heartbeats else 0.0


def heartbeat_frame() -> bytes:
    """A heartbeat (kind HEARTBEAT, message UH1): the same bytes every time."""
    return _HEARTBEAT_FRAME


# ================================================================== output with shared segments
class SharedSegment(bytearray):
    """Broadcast frames queued, as one buffer, to several connections' outboxes (fan-out: a
    broadcast costs one copy whatever the number of subscribers, and no join per connection).

    The invariant it keeps with :class:`Outbox`: a segment may grow only while it is the last item
    of every outbox it was queued to, so that every connection still receives its frames in the
    order they were queued; and a segment handed to a transport never changes. ``open`` counts
    the outboxes it still ends; anything else queued to one of them, or its write, lowers it.
    Grow it with :meth:`extend_if_open`, or start a new one with :meth:`queue`."""

    __slots__ = ("open", "n")

    @classmethod
    def queue(cls, frame: bytes, outboxes: tuple) -> "SharedSegment":
        """A new segment holding ``frame``, queued to every outbox (``Outbox.append_shared``
        inline: this runs for every subscriber of a route once per batch)."""
        seg = cls(frame)
        for ob in outboxes:
            ob.items.append(seg)
            t = ob.tail
            if t is not None:  # the segment that ended this outbox no longer does
                t.open -= 1
            ob.tail = seg
        seg.open = seg.n = len(outboxes)
        return seg

    def extend_if_open(self, frame: bytes) -> bool:
        """Append ``frame`` when this still ends every outbox (True); else leave it (False)."""
        if self.open == self.n:
            self += frame
            return True
        return False


class Outbox:
    """The frames queued for one connection, in order, taken all at once for one write. With a
    ``clock``, taking output records the time of the write (send-silence, for heartbeats)."""

    __slots__ = ("items", "tail", "clock")

    def __init__(self, clock: "HeartbeatClock | None" = None):
        self.items: list = []
        self.tail: SharedSegment | None = None  # the shared segment that ends this outbox
        self.clock = clock

    def __len__(self) -> int:
        return len(self.items)

    def __bool__(self) -> bool:
        return bool(self.items)

    def append(self, frame: bytes) -> None:
        """A frame of this connection only (a reply, a reject, a broadcast of a small route)."""
        self.items.append(frame)
        t = self.tail
        if t is not None:  # the segment before this frame must not grow any more
            t.open -= 1
            self.tail = None

    def append_shared(self, seg: SharedSegment) -> None:
        self.items.append(seg)
        t = self.tail
        if t is not seg:
            if t is not None:
                t.open -= 1
            self.tail = seg

    def take(self, now: float | None = None) -> bytes:
        """Everything queued, joined (one item: itself), to be written at ``now``; the outbox is
        empty after."""
        items = self.items
        if not items:
            return b""
        data = b"".join(items) if len(items) > 1 else items[0]
        items.clear()
        t = self.tail
        if t is not None:  # what is written is final (the transport may keep it)
            t.open -= 1
            self.tail = None
        if now is not None and self.clock is not None:
            self.clock.last_sent = now
        return data

    def clear(self) -> None:
        """Drop everything queued (the connection is aborted)."""
        self.items.clear()
        t = self.tail
        if t is not None:
            t.open -= 1
            self.tail = None


# ================================================================== server side
@dataclass
class Limits:
    heartbeat_interval: float = 10.0      # seconds of send-silence before a heartbeat
    idle_heartbeats: int = 3              # receive-silence of this many intervals drops the peer
    throttle_per_second: int = 2000       # requests per one-second window
    max_pending: int = 1000
    max_frame_size: int = MAX_FRAME_SIZE
    login_timeout: float | None = None    # seconds a new connection has to log in (None: no limit)


class ServerSession:
    """The gateway's view of one connection: input, session rules, output.

    Input: ``receive_data`` returns the events of the frames read. From a login until
    ``login_accepted`` / ``login_refused`` nothing more is read: frames behind the login in the
    same read and every later read are held (``held_data``) and handed over by
    ``release_held`` once the login is accepted. Output: ``send`` (a frame of this connection),
    ``send_shared`` (a shared broadcast segment), ``data_to_send`` (all of it, for one write),
    ``abort`` (drop it: the connection ends without a word). ``tick(now)`` queues the heartbeat
    due and returns the timeouts due."""

    def __init__(self, limits: Limits, now: float):
        self.limits = limits
        self.state = State.AWAIT_LOGIN
        self.decoder = FrameDecoder(limits.max_frame_size)
        self.clock = HeartbeatClock(limits.heartbeat_interval, limits.idle_heartbeats, now)
        self.created = now
        self.window = ThrottleWindow(limits.throttle_per_second)
        self._window_rejects = 0
        self.pending = 0
        self.outbox = Outbox(self.clock)
        self._held_frames: list[Frame] = []
        self._held_data: list[bytes] = []

    @property
    def _out(self) -> Outbox:
        """The outbox (read-only use; the name tests of the output path know it by)."""
        return self.outbox

    @property
    def held_data(self) -> list[bytes]:
        """Bytes read while the login is verified, not yet decoded."""
        return self._held_data

    # ------------------------------------------------------------ input
    def receive_data(self, data: bytes, now: float) -> list:
        if self.state is _LOGGING_IN:
            self._held_data.append(data)  # read after the login: waits for its outcome
            return []
        self.clock.last_received = now
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
                if type(ev) is Violation and ev.fatal:
                    self.state = State.CLOSED
                    break
        return events

    def release_held(self, now: float):
        """After ``login_accepted``: the events of what arrived behind the login, one list per read
        (the frames of the login's own read first), so that the caller answers each read before the
        next is decoded, as it would have live."""
        held, self._held_frames = self._held_frames, []
        data, self._held_data = self._held_data, []
        events: list = []
        for fr in held:
            ev = self._frame(fr, now)
            if ev is not None:
                events.append(ev)
                if isinstance(ev, Violation) and ev.fatal:
                    self.state = State.CLOSED
                    break
        yield events
        for chunk in data:
            if self.state is State.CLOSED:
                return
            yield self.receive_data(chunk, now)

    def process_held(self, now: float) -> list:
        """``release_held`` as one list (for a caller that answers nothing in between)."""
        out: list = []
        for events in self.release_held(now):
            out += events
        return out

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
                             code_of(fr.payload[:TYPE_SIZE]))
        if state is _AWAIT_LOGIN:
            if kind != _LOGIN:
                return self._not_logged_in(fr)
        elif kind == _LOGIN:
            return Violation(St.ALREADY_LOGGED_IN, fr.request_id, status_text(St.ALREADY_LOGGED_IN),
                             code_of(fr.payload[:TYPE_SIZE]))
        if state is _ACTIVE:
            w = self.window
            if now - w.start < 1.0 and w.count < w.limit:
                w.count += 1  # the common case of _throttle, inline
            else:
                v = self._throttle(fr, now)
                if v is not None:
                    return v
            if self.pending >= self.limits.max_pending:
                return Violation(St.TOO_MANY_PENDING, fr.request_id, status_text(St.TOO_MANY_PENDING),
                                 code_of(fr.payload[:TYPE_SIZE]))
        try:
            msg = decode_message(fr.payload)
        except UnknownMessageType as e:
            v = Violation(St.INVALID_MESSAGE_TYPE, fr.request_id, str(e), e.code)
            v.fatal = state is _AWAIT_LOGIN
            return v
        except DecodeError as e:
            v = Violation(St.FIELD_ERROR, fr.request_id, str(e), code_of(fr.payload[:TYPE_SIZE]), e.offset, e.field)
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
        return _new_event(RequestReceived, (fr, msg))

    def _not_logged_in(self, fr: Frame) -> Violation:
        return Violation(St.NOT_LOGGED_IN, fr.request_id, status_text(St.NOT_LOGGED_IN),
                         code_of(fr.payload[:TYPE_SIZE]) if len(fr.payload) >= TYPE_SIZE else "", fatal=True)

    def _throttle(self, fr: Frame, now: float):
        w = self.window
        if now - w.start >= 1.0:
            self._window_rejects = 0
        if w.admit(now) <= w.limit:
            return None
        self._window_rejects += 1
        fatal = self._window_rejects > w.limit
        st = St.THROTTLE_DISCONNECT if fatal else St.THROTTLED
        return Violation(st, fr.request_id, status_text(st), code_of(fr.payload[:TYPE_SIZE]), fatal=fatal)

    # ------------------------------------------------------------ login outcome
    def login_accepted(self, throttle_per_second: int | None = None) -> None:
        """The login is accepted (with the user's own throttle, when it has one): read on, starting
        with ``release_held``."""
        self.state = State.ACTIVE
        if throttle_per_second and throttle_per_second != self.limits.throttle_per_second:
            self.limits = dataclasses.replace(self.limits, throttle_per_second=throttle_per_second)
            self.window.limit = throttle_per_second

    def login_refused(self) -> None:
        self.state = State.CLOSED
        self._held_frames = []
        self._held_data = []

    def answered(self) -> None:
        if self.pending:
            self.pending -= 1

    # ------------------------------------------------------------ time
    def tick(self, now: float) -> list:
        """Call periodically: queues a heartbeat after send-silence (see ``has_output``); returns
        the timeouts due (receive-silence: ``IdleTimeout``; no login in time: ``LoginTimeout``)."""
        state = self.state
        if state is State.CLOSED:
            return []
        lt = self.limits.login_timeout
        if state is _AWAIT_LOGIN and lt is not None and now - self.created > lt:
            self.state = State.CLOSED
            return [LoginTimeout(now - self.created)]
        silent = self.clock.silent_for(now)
        if silent:
            self.state = State.CLOSED
            return [IdleTimeout(silent)]
        if state is _ACTIVE and self.clock.heartbeat_due(now):
            self.send_frame(_HEARTBEAT_FRAME, now)
        return []

    # ------------------------------------------------------------ output
    def send(self, frame: bytes) -> None:
        """Queue a frame of this connection (written by the next ``data_to_send``)."""
        self.outbox.append(frame)

    def send_shared(self, seg: SharedSegment) -> None:
        """Queue a shared broadcast segment (see :class:`SharedSegment`)."""
        self.outbox.append_shared(seg)

    def send_frame(self, data: bytes, now: float) -> None:
        self.outbox.append(data)
        self.clock.last_sent = now

    @property
    def has_output(self) -> bool:
        return bool(self.outbox.items)

    def data_to_send(self, now: float | None = None) -> bytes:
        """Everything queued, for one write (``now``: when it is written, for the heartbeats)."""
        return self.outbox.take(now)

    def abort(self) -> None:
        """Drop the output and end the session: nothing queued may leave (fail-stop)."""
        self.outbox.clear()
        self.state = State.CLOSED
        self._held_frames = []
        self._held_data = []

    # times the tests and tools read
    @property
    def last_sent(self) -> float:
        return self.clock.last_sent

    @property
    def last_received(self) -> float:
        return self.clock.last_received


_HEARTBEAT_FRAME = encode_frame(Kind.HEARTBEAT, HEARTBEAT_PAYLOAD)


def reject_frame(v: Violation | Rejected, business_status: int = 0) -> bytes:
    status = v.status if isinstance(v, Violation) else v.session_status
    payload = encode_message(Reject(request_code=v.request_code, field=v.field, text=v.text))
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
    """The SDK's (and the conformance driver's) view of one connection.

    Besides pairing, dedupe and gap recovery it keeps the client's side of the session rules,
    once the login reply has announced them: ``pace(now)`` (the seconds to wait before the next
    request, under the throttle) and ``tick(now)`` (queues a heartbeat after send-silence, returns
    ``IdleTimeout`` when the server has gone silent). ``reconnected()`` starts a new connection
    keeping the stream cursors, so the next login names where each stream stopped."""

    # a client heartbeats after half the announced interval of send-silence (a margin for its timers)
    HEARTBEAT_SHARE = 0.5

    def __init__(self, max_frame_size: int = MAX_FRAME_SIZE, auto_recover: bool = True):
        self.state = State.AWAIT_LOGIN
        self.max_frame_size = max_frame_size
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
        self.window: ThrottleWindow | None = None   # from the login reply
        self.clock: HeartbeatClock | None = None    # from the login reply
        self._last_sent = self._last_received = 0.0

    def reconnected(self, now: float = 0.0) -> None:
        """A new connection (after a drop): nothing of the old one is pending or half-decoded; the
        stream cursors stay (``resume_points`` names them in the next login)."""
        self.state = State.AWAIT_LOGIN
        self.decoder = FrameDecoder(self.max_frame_size)
        self._out.clear()
        for c in self.cursors.values():
            c.recovering, c.held = 0, deque()
        self._internal.clear()
        self.pending.clear()
        self._sub_items.clear()
        self._last_sent = self._last_received = now
        self.clock = None

    def connection_lost(self) -> None:
        self.state = State.CLOSED

    # ------------------------------------------------------------ time
    def pace(self, now: float, share: float = 1.0) -> float:
        """Seconds to wait before sending the next request so as to stay within ``share`` of the
        throttle announced at login (0: send now). The request is counted."""
        w = self.window
        return w.delay(now, share) if w is not None else 0.0

    def tick(self, now: float) -> list:
        """Call periodically once logged in: queues a heartbeat after send-silence (take it with
        ``data_to_send``); returns ``[IdleTimeout]`` when the server has been silent too long."""
        c = self.clock
        if c is None or self.state is not State.ACTIVE:
            return []
        silent = c.silent_for(now)
        if silent:
            return [IdleTimeout(silent)]
        if c.heartbeat_due(now):
            self._out.append(_HEARTBEAT_FRAME)
            c.last_sent = now
        return []

    def _logged_in(self, reply) -> None:
        self.login_reply = reply
        self.max_replay = reply.max_replay
        self.window = ThrottleWindow(reply.throttle_per_second) if reply.throttle_per_second else None
        interval = reply.heartbeat_interval_ms / 1000.0
        if interval > 0:
            self.clock = HeartbeatClock(interval, reply.idle_heartbeats, self._last_received, self.HEARTBEAT_SHARE)
            self.clock.last_sent = self._last_sent

    # ------------------------------------------------------------ output
    def next_id(self) -> int:
        return next(self._ids)

    def send(self, msg, request_id: int | None = None, flags: int = 0) -> int:
        """Queue a request; returns its request id. ``flags``: header flags (REFERENCED on a
        transaction whose ``request_id`` is its client reference)."""
        spec = msg.__message__
        payload = encode_message(msg)  # first: a value that does not encode changes nothing
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
        self._out.append(encode_frame(spec.kind, payload, rid, flags=flags))
        return rid

    def send_heartbeat(self) -> None:
        self._out.append(_HEARTBEAT_FRAME)

    def send_raw(self, data: bytes) -> None:
        self._out.append(data)

    def data_to_send(self, now: float | None = None) -> bytes:
        """Everything queued, for one write (``now``: when it is written, for the heartbeats)."""
        data = b"".join(self._out)
        self._out.clear()
        if data and now is not None:
            self._last_sent = now
            if self.clock is not None:
                self.clock.last_sent = now
        return data

    def resume_points(self) -> list:
        return [ResumePoint(stream=s, business_date=c.business_date, last_sequence=c.last)
                for s, c in sorted(self.cursors.items()) if c.business_date]

    # ------------------------------------------------------------ input
    def receive_data(self, data: bytes, now: float | None = None) -> list:
        if now is not None:
            self._last_received = now
            if self.clock is not None:
                self.clock.last_received = now
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
                self._logged_in(msg)
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
