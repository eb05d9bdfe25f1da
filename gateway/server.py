"""The gateway: one asyncio Protocol per connection, the clearing core, streams and fan-out.

Everything runs on the event loop thread (the core is single-threaded by design); only password
hashing goes to a worker thread. Output is coalesced: frames for a connection are queued during a
batch (one ``data_received``, one timer tick) and written with one ``transport.write``.
"""
from __future__ import annotations

import asyncio
import dataclasses
import gc
import itertools
import signal
from dataclasses import dataclass
from datetime import date, datetime
from operator import attrgetter
from typing import Any, Callable

import structlog

from gateway import handlers as H
from gateway.admin import refusal
from gateway.auth import (EXPIRY_WARNING_DAYS, Lockout, User, UserDirectory, change_password, password_policy_error,
                          verify_password, verify_unknown_user)
from gateway.clearing.core import BusinessDateChanged, ClearingCore, Context, Outcome, Tick
from gateway.clearing.errors import OPERATOR_ONLY, REGISTRY as BUSINESS_CODES, ClearingError
from gateway.clock import BusinessClock
from gateway.config import Settings
from gateway.streams import StreamStore, stream_name
from protocol.enums import Role
from protocol.framing import encode_frame, reply_frame, with_request_many
from protocol.kinds import Flag, Kind
from protocol.messages import session as ms
from protocol.registry import encode_message
from protocol.session import (HeartbeatReceived, IdleTimeout, Limits, RequestReceived, ServerSession, State,
                              Violation, reject_frame)
from protocol.status import SessionStatus as St
from protocol.status import text as status_text
from protocol.streams import Stream
from protocol.streams import BY_NAME as STREAM_BY_NAME

log = structlog.get_logger("gateway")

ROLE_STREAMS = {
    "participant": (Stream.GENERAL, Stream.TRADES, Stream.CLEARING, Stream.COLLATERAL),
    "clearing_member": (Stream.GENERAL, Stream.SETTLEMENT),
    "operator": (Stream.GENERAL,),
}
ROLE_CODE = {"participant": Role.PARTICIPANT, "operator": Role.OPERATOR, "clearing_member": Role.CLEARING_MEMBER}
FILTER_FIELDS = ("account_id", "account", "to_account_id", "series_symbol", "instrument_class", "currency",
                 "clearing_house", "underlying")
SESSION_ONLY_WHEN_RESTRICTED = {"UC1", "UO1"}
# hot-path constants: an attribute lookup on an Enum class costs ~0.16 us
_LAST_SEGMENT, _LOGGING_IN = int(Flag.LAST_SEGMENT), State.LOGGING_IN


def ymd_int(d: date) -> int:
    return d.year * 10000 + d.month * 100 + d.day


_KEY_SETS: dict[frozenset, frozenset] = {}
_KEYS_BY_VALUES: dict[tuple, frozenset] = {}
_NO_KEYS: frozenset = frozenset()


def _shared_keys(ks: frozenset) -> frozenset:
    shared = _KEY_SETS.get(ks)
    if shared is None:
        if len(_KEY_SETS) >= 100_000:
            _KEY_SETS.clear()
        shared = _KEY_SETS[ks] = ks
    return shared


def filter_keys(event: Any) -> frozenset:
    """The event's filter keys, as one shared frozenset per distinct set: every broadcast in the
    stream logs keeps its keys, and a small frozenset costs ~200 bytes (half the memory of a day's
    logs before they were shared)."""
    keys = []
    for f in FILTER_FIELDS:
        v = getattr(event, f, None)
        if isinstance(v, str) and v:
            keys.append(v)
    return _shared_keys(frozenset(keys))


def filter_keys_of(cls: type) -> Callable[[Any], frozenset]:
    """``filter_keys`` specialised for one event class: the filter fields it has are read at once
    (``attrgetter``) and the shared key set is looked up by their values (the hot path of
    ``publish``: ~0.4 us instead of ~2.5 us per broadcast)."""
    if not dataclasses.is_dataclass(cls):
        return filter_keys
    names = {f.name for f in dataclasses.fields(cls)}
    present = tuple(f for f in FILTER_FIELDS if f in names)
    if not present:
        return lambda e: _NO_KEYS
    get = attrgetter(*present)
    one = len(present) == 1
    cache = _KEYS_BY_VALUES

    def keys(e: Any) -> frozenset:
        vals = (get(e),) if one else get(e)
        try:
            ks = cache.get(vals)
        except TypeError:  # an unhashable value in a filter field: the general path
            return filter_keys(e)
        if ks is None:
            if len(cache) >= 100_000:
                cache.clear()
            ks = cache[vals] = _shared_keys(frozenset(v for v in vals if isinstance(v, str) and v))
        return ks
    return keys


@dataclass(slots=True)
class Sub:
    handle: int
    stream: int
    broadcast: str
    filter: str

    def matches(self, code: str, keys: frozenset) -> bool:
        return (not self.broadcast or self.broadcast == code) and (not self.filter or self.filter in keys)


# a route with at least this many subscribers shares one growing buffer per batch (below)
SHARED_SEGMENT_MIN = 4


class Route:
    """Where the broadcasts of one (stream instance, message type, filter keys) go: the matching
    subscribers' connections. Cached by ``Gateway.publish`` until any subscription changes.

    With many subscribers the broadcasts of a batch are not appended to each subscriber's output
    one by one: the route appends one shared ``bytearray`` (its *segment*) to every subscriber's
    output and further broadcasts extend it in place, so a broadcast costs one copy whatever the
    number of subscribers and each subscriber's write needs no join. A segment may grow only while
    it is the last item of every one of its subscribers' outputs, so that each connection still
    receives its frames in the order they were queued: ``open`` counts the subscribers whose
    ``Connection.tail`` is this route, and anything else queued to a connection (a reply, a frame
    of another route, its write) takes its tail away."""

    __slots__ = ("conns", "n", "shared", "seg", "open")

    def __init__(self, conns: tuple):
        self.conns = conns
        self.n = len(conns)
        self.shared = self.n >= SHARED_SEGMENT_MIN
        self.seg: bytearray | None = None
        self.open = 0

    def start(self, frame: bytes, dirty: set) -> None:
        """A new segment holding ``frame``, queued to every subscriber."""
        seg = self.seg = bytearray(frame)
        for conn in self.conns:
            conn.machine._out.append(seg)
            t = conn.tail
            if t is not self:
                if t is not None:
                    t.open -= 1
                conn.tail = self
        self.open = self.n
        dirty.update(self.conns)

    def deliver(self, frame: bytes) -> None:
        """``frame`` appended to each subscriber's output (few subscribers)."""
        for conn in self.conns:
            conn.machine._out.append(frame)
            t = conn.tail
            if t is not None:
                t.open -= 1
                conn.tail = None


class Connection(asyncio.Protocol):
    def __init__(self, gw: "Gateway"):
        self.gw = gw
        self.transport: asyncio.Transport | None = None
        self.peer = ("?", 0)
        self.machine: ServerSession | None = None
        self.session_id = 0
        self.user: User | None = None
        self.role = ""
        self.participant = ""
        self.restricted = False
        self.subs: dict[int, Sub] = {}
        self.by_stream: dict[tuple, list[Sub]] = {}
        self.resume: dict[int, tuple[int, int]] = {}  # stream -> (business_date, last_sequence)
        self.closing = False
        self.held: list[bytes] = []
        self.log = log
        self.rctx: H.RequestContext | None = None  # one per session (dispatch updates its time)
        self.tail: Route | None = None  # the route whose shared segment ends this connection's output

    # ------------------------------------------------------------ asyncio callbacks
    def connection_made(self, transport) -> None:
        self.transport = transport
        self.peer = transport.get_extra_info("peername") or ("?", 0)
        gw = self.gw
        self.session_id = next(gw.session_ids)
        self.log = log.bind(session_id=self.session_id, peer=f"{self.peer[0]}:{self.peer[1]}")
        now = gw.loop.time()
        self.machine = ServerSession(gw.limits, now)
        self.connected_at = now
        addr = self.peer[0]
        total = len(gw.connections)
        per_addr = gw.per_address.get(addr, 0)
        gw.connections.add(self)
        gw.per_address[addr] = per_addr + 1
        self.log.info("connect")
        if total >= gw.settings.max_connections or per_addr >= gw.settings.max_connections_per_address:
            self.close_with(St.GATEWAY_FULL, status_text(St.GATEWAY_FULL))

    def data_received(self, data: bytes) -> None:
        if self.closing:
            return
        gw = self.gw
        if self.machine.state is _LOGGING_IN:
            self.held.append(data)
            return
        events = self.machine.receive_data(data, gw.loop.time())
        self._handle(events)
        gw.flush()

    def connection_lost(self, exc) -> None:
        gw = self.gw
        gw.connections.discard(self)
        n = gw.per_address.get(self.peer[0], 1) - 1
        if n <= 0:
            gw.per_address.pop(self.peer[0], None)
        else:
            gw.per_address[self.peer[0]] = n
        self._unregister()
        self.closing = True
        self.log.info("disconnect", reason=str(exc) if exc else "closed")

    # ------------------------------------------------------------ events from the machine
    def _handle(self, events: list) -> None:
        for ev in events:
            if self.closing:
                return
            if isinstance(ev, RequestReceived):
                try:
                    self.gw.dispatch(self, ev.frame, ev.message)
                except Exception:  # noqa: BLE001 - never take the server down
                    self.log.exception("internal_error", request_id=ev.frame.request_id)
                    self.queue(reject_frame(Violation(St.INTERNAL_ERROR, ev.frame.request_id,
                                                      status_text(St.INTERNAL_ERROR), ev.frame.code)))
                    self.machine.answered()
            elif isinstance(ev, Violation):
                self.log.info("reject", request_id=ev.request_id, status=int(ev.status), text=ev.text,
                              request=ev.request_code, field=ev.field, fatal=ev.fatal)
                self.queue(reject_frame(ev))
                if ev.fatal:
                    self.close_with(None, ev.text)
            elif isinstance(ev, HeartbeatReceived):
                pass

    def queue(self, frame: bytes) -> None:
        if self.closing:
            return
        self.machine._out.append(frame)
        t = self.tail
        if t is not None:  # a shared segment before this frame must not grow any more
            t.open -= 1
            self.tail = None
        self.gw.dirty.add(self)

    def write_now(self, now: float | None = None) -> None:
        m = self.machine
        out = m._out
        tr = self.transport
        if not out or tr is None:
            return
        data = b"".join(out) if len(out) > 1 else out[0]
        out.clear()
        t = self.tail
        if t is not None:  # the written segment is final (the transport may keep it)
            t.open -= 1
            self.tail = None
        m.last_sent = self.gw.loop.time() if now is None else now
        tr.write(data)
        if tr.get_write_buffer_size() > self.gw.settings.output_buffer_limit and not self.closing:
            self.log.warning("slow_consumer", buffered=tr.get_write_buffer_size())
            self.close_with(St.SLOW_CONSUMER, status_text(St.SLOW_CONSUMER), abort_after=2.0)

    def close_with(self, status: int | None, text: str, request_id: int = 0, abort_after: float = 2.0) -> None:
        """Tell the peer why (when ``status`` is given), then close; abort if it does not drain."""
        if self.closing:
            return
        if status is not None:
            self.machine._out.append(encode_frame(Kind.LOGOUT, encode_message(ms.LogoutNotice(reason=status, text=text[:80])),
                                                  request_id, session_status=status))
        if self.gw.journal is not None:
            self.gw.journal.sync()  # what is queued may depend on records not yet on disk
        data = self.machine.data_to_send()
        if self.tail is not None:
            self.tail.open -= 1
            self.tail = None
        self.closing = True
        self._unregister()
        self.gw.dirty.discard(self)
        if self.transport is not None:
            if data:
                self.transport.write(data)
            self.transport.close()
            tr = self.transport
            self.gw.loop.call_later(abort_after, lambda: tr.is_closing() and tr.abort())
        self.log.info("close", status=int(status) if status is not None else None, text=text)

    def _unregister(self) -> None:
        gw = self.gw
        if self.user is not None and gw.sessions.get(self.user.user) is self:
            del gw.sessions[self.user.user]
        gw._routes.clear()
        for key in list(self.by_stream):
            subs = gw.subscribers.get(key)
            if subs is not None:
                subs.pop(self, None)
        self.by_stream.clear()
        self.subs.clear()


class Gateway:
    def __init__(self, settings: Settings | None = None, users: UserDirectory | None = None,
                 module_factories: list | None = None):
        self.settings = settings or Settings()
        s = self.settings
        self.users = users or UserDirectory.load(s.users_file)
        self.lockout = Lockout(s.login_failures_before_lock, s.login_failure_window, s.lock_seconds)
        start = datetime.fromisoformat(s.start_business_time) if s.start_business_time else None
        self.clock = BusinessClock(start, frozen=s.freeze_clock)
        if module_factories is None:
            from gateway.clearing.modules import module_factories as mf
            module_factories = mf(s)
        self.module_factories = module_factories
        self.core = ClearingCore(self.clock.now(), module_factories=module_factories)
        self.streams = StreamStore(ymd_int(self.core.business_date))
        self.limits = Limits(s.heartbeat_interval, s.idle_heartbeats, s.throttle_per_second, s.max_pending,
                             s.max_frame_size)
        self.connections: set[Connection] = set()
        self.per_address: dict[str, int] = {}
        self.sessions: dict[str, Connection] = {}
        self.subscribers: dict[tuple, dict[Connection, list[Sub]]] = {}
        self._routes: dict[tuple, Route] = {}  # fan-out cache of publish(); cleared on any subscription change
        self._plans: dict[type, tuple] = {}  # event class -> (broadcast mapper, filter keys reader)
        self.dirty: set[Connection] = set()
        self.session_ids = itertools.count(1)
        self.handles = itertools.count(1)
        self.server: asyncio.AbstractServer | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self._timers: list[asyncio.TimerHandle] = []
        self.journal = None  # set by the durability layer (issue 8)
        H.load_all()
        if s.journal_path:  # rebuild the state from the journal (gateway/journal/durability.py)
            from gateway.journal import attach
            attach(self)

    # ------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        self.loop = asyncio.get_running_loop()
        tls = None
        if self.settings.tls_cert:
            import ssl
            tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            tls.minimum_version = ssl.TLSVersion.TLSv1_2
            tls.load_cert_chain(self.settings.tls_cert, self.settings.tls_key)
        if self.journal is not None:
            self.journal.start(self.loop)
        self.server = await self.loop.create_server(lambda: Connection(self), self.settings.host, self.settings.port,
                                                    reuse_address=True, backlog=1024, ssl=tls)
        sock = self.server.sockets[0]
        self.port = sock.getsockname()[1]
        self._schedule_tick()
        if self.settings.stream_heartbeat_seconds:
            self._schedule_stream_heartbeat()
        if self.settings.gc_freeze_seconds:
            self._freeze_gc()
        log.info("listening", host=self.settings.host, port=self.port,
                 business_date=str(self.core.business_date))

    async def stop(self, reason: str = "Gateway shutting down") -> None:
        for t in self._timers:
            t.cancel()
        if self.server is not None:
            self.server.close()
        for conn in list(self.connections):
            conn.close_with(St.SERVER_SHUTDOWN, reason, abort_after=1.0)
        if self.server is not None:
            await self.server.wait_closed()
        await asyncio.sleep(0)
        if self.journal is not None:
            self.journal.close()  # sync, final snapshot
        log.info("stopped")

    def install_signal_handlers(self, stop_event: asyncio.Event) -> None:
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                self.loop.add_signal_handler(sig, stop_event.set)
            except (NotImplementedError, RuntimeError):  # pragma: no cover - non-POSIX
                pass

    def _schedule_tick(self) -> None:
        period = max(0.02, min(1.0, self.settings.heartbeat_interval / 4))
        now = self.loop.time()  # the timers still to fire (those fired or cancelled are dropped)
        self._timers = [t for t in self._timers if not t.cancelled() and t.when() > now]
        self._timers.append(self.loop.call_later(period, self._tick))

    def _tick(self) -> None:
        now = self.loop.time()
        for conn in list(self.connections):
            if conn.closing:
                continue
            m = conn.machine
            if m.state is State.AWAIT_LOGIN and now - conn.connected_at > self.settings.login_timeout:
                conn.close_with(St.NOT_LOGGED_IN, "no login within the login timeout")
                continue
            before = len(m._out)
            for ev in m.tick(now):
                if isinstance(ev, IdleTimeout):
                    conn.log.info("idle_timeout", silent_for=round(ev.silent_for, 3))
                    conn.close_with(St.IDLE_TIMEOUT, status_text(St.IDLE_TIMEOUT))
            if len(m._out) > before and not conn.closing:
                self.dirty.add(conn)
        self.flush()
        self._schedule_tick()

    def _freeze_gc(self) -> None:
        """The day's state (trades, positions, stream logs of encoded frames) lives until the
        end of the day or a reset: it only grows. The cyclic GC would still walk all of it in every
        full collection, a pause of 100-200 ms once the heap holds a few million objects (the p99
        of a busy gateway). So what has survived is moved, every ``gc_freeze_seconds``, to the
        permanent generation (``gc.freeze()``, O(1)): collections then see only the objects of the
        last interval. Frozen objects are still freed by reference counting; only a reference
        cycle that was alive at a freeze and dies later is not reclaimed (the hot paths create
        none: the codec and the core use no cyclic structures)."""
        gc.freeze()
        self._timers.append(self.loop.call_later(self.settings.gc_freeze_seconds, self._freeze_gc))

    def _schedule_stream_heartbeat(self) -> None:
        def beat():
            try:
                self.execute(Tick(self.settings.stream_heartbeat_seconds), None)
                self.flush()
            finally:
                self._timers.append(self.loop.call_later(self.settings.stream_heartbeat_seconds, beat))
        self._timers.append(self.loop.call_later(self.settings.stream_heartbeat_seconds, beat))

    def flush(self) -> None:
        if self.journal is not None and self.journal.holding():
            return  # group commit: output waits until its journal records are on disk (the sync flushes)
        dirty = self.dirty
        if not dirty:
            return
        now = self.loop.time()
        while dirty:
            conn = dirty.pop()
            if not conn.closing:
                conn.write_now(now)

    # ------------------------------------------------------------ core access
    def now(self) -> datetime:
        n = self.clock.now()
        return n if n > self.core.now else self.core.now

    def context(self, rctx: H.RequestContext | None) -> Context:
        now = self.now()
        if rctx is None:
            return Context(now, None, "gateway", True)
        # the core's Context is frozen: the session's one is reused while business time stands
        ctx = rctx.__dict__.get("_core_context")
        if ctx is None or ctx.now != now:
            ctx = rctx._core_context = Context(now, rctx.participant, rctx.user, rctx.operator)
        return ctx

    def execute(self, command: Any, rctx: H.RequestContext | None) -> Outcome:
        ctx = self.context(rctx)
        if self.journal is not None:
            self.journal.append(command, ctx)
        try:
            out = self.core.execute(command, ctx)
        except ClearingError as e:
            if e.events:
                self.publish(e.events)
            raise
        self.publish(out.events)
        return out

    def query(self, q: Any, rctx: H.RequestContext) -> Any:
        return self.core.query(q, self.context(rctx))

    def require_operator(self, rctx: H.RequestContext) -> None:
        if not rctx.operator:
            raise ClearingError(OPERATOR_ONLY)

    def publish(self, events: list) -> None:
        streams = self.streams
        subscribers = self.subscribers
        routes = self._routes
        plans = self._plans
        dirty = self.dirty
        for e in events:
            cls = type(e)
            plan = plans.get(cls)
            if plan is None:
                mapper = H.BROADCASTS.get(cls)
                if mapper is None:
                    log.error("unmapped_event", event_class=cls.__name__)
                    continue
                plan = plans[cls] = (mapper, filter_keys_of(cls))
            msg = plan[0](e)
            spec = msg.__message__
            stream = STREAM_BY_NAME[spec.stream]
            keys = plan[1](e)
            key, entry, _ = streams.publish(stream, e.owner, encode_message(msg), spec.code, keys)
            subs = subscribers.get(key)
            if subs:
                rk = (key, spec.code, keys)
                route = routes.get(rk)
                if route is None:
                    route = self._route(rk, subs)
                if route.shared:
                    if route.open == route.n:
                        route.seg += entry.frame  # still the end of every subscriber's output
                    else:
                        route.start(entry.frame, dirty)
                elif route.n:
                    route.deliver(entry.frame)
                    dirty.update(route.conns)
            if isinstance(e, BusinessDateChanged):
                streams.roll(ymd_int(e.business_date))

    def _route(self, rk: tuple, subs: dict) -> Route:
        """The subscribers whose subscription matches the broadcast's type and filter keys. Cached
        per (stream instance, type, keys) until any subscription changes (``self._routes`` is
        cleared then)."""
        _, code, keys = rk
        route = Route(tuple(conn for conn, lst in subs.items() if any(sub.matches(code, keys) for sub in lst)))
        if len(self._routes) >= 65536:
            self._routes.clear()
        self._routes[rk] = route
        return route

    def reset(self, when: datetime, rctx: H.RequestContext) -> None:
        """Operator reset: fresh core from the demo data, streams from 1, other sessions logged out."""
        if self.journal is not None:
            self.journal.reset(when)
        self.clock.set(when, follow_wall_clock=not self.clock.frozen)
        self.core = ClearingCore(when, module_factories=self.module_factories)
        self.streams.reset(ymd_int(self.core.business_date))
        # a fresh start also for the users: shipped passwords and no lockout counts
        self.users = UserDirectory.load(self.settings.users_file)
        self.lockout = Lockout(self.settings.login_failures_before_lock, self.settings.login_failure_window,
                               self.settings.lock_seconds)
        me = self.sessions.get(rctx.user)
        for conn in list(self.connections):
            if conn is not me:
                conn.close_with(St.LOGGED_OUT, "emulator reset by the operator")
        if me is not None:
            me._unregister()
            self.sessions[rctx.user] = me
        log.info("reset", business_date=str(self.core.business_date))

    # ------------------------------------------------------------ dispatch
    def dispatch(self, conn: Connection, frame, msg) -> None:
        code = msg.__message__.code
        rid = frame.request_id
        if code == "UL1":
            self._login(conn, frame, msg)
            return
        if conn.restricted and code not in SESSION_ONLY_WHEN_RESTRICTED:
            self._reject(conn, rid, code, St.PASSWORD_EXPIRED, "password expired: change it with UC1 first")
            return
        special = self._session_handlers.get(code)
        if special is not None:
            special(self, conn, frame, msg)
            return
        fn = H.HANDLERS.get(type(msg))
        if fn is None:
            self._reject(conn, rid, code, St.INVALID_MESSAGE_TYPE, f"{code} is not a request this gateway serves")
            return
        spec = msg.__message__
        operator = conn.role == "operator"
        if spec.operator and not operator:
            e = BUSINESS_CODES[OPERATOR_ONLY.number]
            self._reject(conn, rid, code, St.BUSINESS_REJECT, e.text, business=e.number)
            return
        refused = refusal(conn.user, code)  # the user's profile and functions (gateway/admin.py)
        if refused is not None:
            self._reject(conn, rid, code, St.BUSINESS_REJECT, refused.text, business=refused.number)
            return
        rctx = conn.rctx  # handlers use it during the call only: one per session, its time set per request
        if rctx is None or rctx.user != conn.user.user:
            rctx = conn.rctx = H.RequestContext(self, conn.user.user, conn.participant or None, operator, conn.role,
                                                self.now())
        else:
            rctx.now = self.now()
        try:
            answer = fn(msg, rctx)
        except ClearingError as e:
            off = 0
            if e.field:
                at = spec.record.path_offset(e.field)
                off = 0 if at is None else 4 + at
            text = e.error.text + (f": {e.detail}" if e.detail else "")
            self._reject(conn, rid, code, St.BUSINESS_REJECT, text, business=e.error.number, field_offset=off,
                         field=e.field or "")
            return
        if answer is None:
            answer = ms.Ack(text="accepted")
        self.reply(conn, rid, answer)

    def reply(self, conn: Connection, rid: int, answer) -> None:
        conn.machine.answered()
        bdate = self.streams.business_date
        rec = answer.__message__.record
        if rec.has_items:
            items = getattr(answer, rec.items.name)
            room = (self.settings.max_frame_size - 40 - 4 - rec.size) // max(1, rec.items.record.size)
            page = max(1, min(self.settings.max_page_items, room))
            if len(items) > page:
                n = (len(items) + page - 1) // page
                for i in range(n):
                    part = _copy_with(answer, rec.items.name, items[i * page:(i + 1) * page])
                    conn.queue(encode_frame(Kind.REPLY, encode_message(part), rid, segment=i + 1,
                                            flags=Flag.LAST_SEGMENT if i == n - 1 else 0, business_date=bdate))
                return
        conn.queue(reply_frame(encode_message(answer), rid, 1, _LAST_SEGMENT, bdate))

    def _reject(self, conn: Connection, rid: int, code: str, status: int, text: str, *, business: int = 0,
                field_offset: int = 0, field: str = "") -> None:
        conn.machine.answered()
        conn.log.info("reject", request_id=rid, request=code, status=int(status), business_status=business,
                      text=text)
        conn.queue(reject_frame(Violation(status, rid, text, code, field_offset, field), business))

    # ------------------------------------------------------------ login
    def _login(self, conn: Connection, frame, msg: ms.LoginRequest) -> None:
        rid = frame.request_id
        now = self.loop.time()
        user = self.users.get(msg.user)
        if self.lockout.is_locked(msg.user, now):
            self._login_failed(conn, rid, msg.user, St.ACCOUNT_LOCKED, count=False)
            return
        conn.transport.pause_reading()
        if user is None:
            fut = self.loop.run_in_executor(None, verify_unknown_user, msg.password)
            fut.add_done_callback(lambda f: self._unknown_user_checked(conn, rid, msg.user))
            return
        fut = self.loop.run_in_executor(None, verify_password, msg.password, user.password_hash)
        fut.add_done_callback(lambda f: self._login_verified(conn, rid, msg, user, f))

    def _unknown_user_checked(self, conn: Connection, rid: int, user: str) -> None:
        if not conn.closing:
            self._login_failed(conn, rid, user, St.UNKNOWN_USER)

    def _login_failed(self, conn: Connection, rid: int, user: str, status: int, count: bool = True) -> None:
        if count and self.lockout.failed(user, self.loop.time()):
            conn.log.warning("user_locked", user=user)
        conn.log.info("login_failed", request_id=rid, user=user, status=int(status))
        conn.machine.login_refused()
        conn.queue(reject_frame(Violation(status, rid, status_text(status), "UL1")))
        conn.close_with(None, status_text(status))
        self.flush()

    def _login_verified(self, conn: Connection, rid: int, msg: ms.LoginRequest, user: User, fut) -> None:
        if conn.closing:
            return
        try:
            ok = fut.result()
        except Exception:  # noqa: BLE001
            ok = False
        if conn.transport is not None and not conn.transport.is_closing():
            conn.transport.resume_reading()
        if not ok:
            self._login_failed(conn, rid, msg.user, St.INVALID_CREDENTIALS)
            return
        existing = self.sessions.get(user.user)
        if existing is not None and not existing.closing:
            if not msg.forced:
                self._login_failed(conn, rid, msg.user, St.SESSION_IN_USE, count=False)
                return
            existing.log.info("forced_logout", by_session=conn.session_id)
            existing.close_with(St.FORCED_LOGOUT, status_text(St.FORCED_LOGOUT))
        self.lockout.succeeded(user.user)
        conn.user = user
        conn.role = user.role
        conn.participant = user.participant
        conn.log = conn.log.bind(user=user.user)
        self.sessions[user.user] = conn
        conn.resume = {rp.stream: (rp.business_date, rp.last_sequence) for rp in msg.resume}
        today = self.core.business_date
        expiry = user.password_expiry()
        status = St.OK
        if expiry <= today:
            conn.restricted = True
            status = St.PASSWORD_MUST_CHANGE
        elif (expiry - today).days <= EXPIRY_WARNING_DAYS:
            status = St.PASSWORD_EXPIRES_SOON
        limits = self.limits
        throttle = user.throttle_per_second or limits.throttle_per_second
        if throttle != limits.throttle_per_second:
            conn.machine.limits = Limits(limits.heartbeat_interval, limits.idle_heartbeats, throttle,
                                         limits.max_pending, limits.max_frame_size)
        conn.machine.login_accepted()
        reply = ms.LoginReply(
            session_id=conn.session_id, user=user.user, user_code=user.user_code, participant=user.participant,
            role=ROLE_CODE[user.role], business_date=today.strftime("%Y%m%d"),
            heartbeat_interval_ms=int(limits.heartbeat_interval * 1000), idle_heartbeats=limits.idle_heartbeats,
            max_subscriptions=self.settings.max_subscriptions, throttle_per_second=throttle,
            max_replay=self.settings.max_replay, max_frame_size=limits.max_frame_size, max_pending=limits.max_pending,
            password_expiry_date=expiry.strftime("%Y%m%d"), streams=self._positions(conn))
        conn.machine.answered()
        conn.queue(encode_frame(Kind.REPLY, encode_message(reply), rid, segment=1, flags=Flag.LAST_SEGMENT,
                                session_status=status, business_date=self.streams.business_date))
        conn.log.info("login", request_id=rid, role=user.role, participant=user.participant,
                      application=msg.application_id, forced=msg.forced, resume=len(msg.resume),
                      status=int(status))
        conn._handle(conn.machine.process_held(self.loop.time()))
        held, conn.held = conn.held, []
        for data in held:
            if conn.closing:
                break
            conn._handle(conn.machine.receive_data(data, self.loop.time()))
        self.flush()

    def _positions(self, conn: Connection) -> list:
        out = []
        for stream in ROLE_STREAMS[conn.role]:
            out.append(ms.StreamPosition(stream=stream, business_date=self.streams.business_date,
                                         last_sequence=self.streams.last_sequence(stream, conn.participant)))
        return out

    # ------------------------------------------------------------ session-layer requests
    def _logout(self, conn: Connection, frame, msg) -> None:
        conn.machine.answered()
        conn.log.info("logout", request_id=frame.request_id)
        conn.close_with(St.LOGGED_OUT, status_text(St.LOGGED_OUT), request_id=frame.request_id)

    def _change_password(self, conn: Connection, frame, msg: ms.ChangePassword) -> None:
        rid = frame.request_id
        user = conn.user
        err = password_policy_error(msg.old_password, msg.new_password)
        if err is not None:
            self._reject(conn, rid, "UC1", St.PASSWORD_POLICY, f"{status_text(St.PASSWORD_POLICY)}: {err}",
                         field_offset=4 + 32, field="new_password")
            return
        # scrypt twice: off the event loop, with this connection's reading paused meanwhile
        conn.transport.pause_reading()
        fut = self.loop.run_in_executor(None, change_password, msg.old_password, msg.new_password, user.password_hash)
        fut.add_done_callback(lambda f: self._password_checked(conn, rid, user, f))

    def _password_checked(self, conn: Connection, rid: int, user: User, fut) -> None:
        if conn.closing:
            return
        if conn.transport is not None and not conn.transport.is_closing():
            conn.transport.resume_reading()
        try:
            new_hash = fut.result()
        except Exception:  # noqa: BLE001
            new_hash = None
        if new_hash is None:
            self._reject(conn, rid, "UC1", St.INVALID_CREDENTIALS, "old password does not match", field_offset=4,
                         field="old_password")
            self.flush()
            return
        if self.journal is not None:
            self.journal.password(user.user, new_hash, self.core.business_date)
        user.password_hash = new_hash
        user.password_changed = self.core.business_date
        conn.restricted = False
        conn.log.info("password_changed", request_id=rid)
        self.reply(conn, rid, ms.Ack(text="password changed"))
        self.flush()

    def _subscribe(self, conn: Connection, frame, msg: ms.SubscribeRequest) -> None:
        from protocol.registry import BY_CODE
        rid = frame.request_id
        allowed = ROLE_STREAMS[conn.role]
        statuses = []
        replays: list[bytes] = []
        for item in msg.items:
            st = St.OK
            try:
                stream = Stream(item.stream)
            except ValueError:
                stream = None
            if stream is None:
                st = St.UNKNOWN_STREAM
            elif stream not in allowed:
                st = St.SUBSCRIPTION_NOT_AUTHORISED
            elif item.broadcast and (item.broadcast not in BY_CODE or BY_CODE[item.broadcast].stream != stream_name(stream)):
                st = St.UNKNOWN_STREAM
            elif len(conn.subs) >= self.settings.max_subscriptions:
                st = St.SUBSCRIPTION_LIMIT
            if st != St.OK:
                statuses.append(ms.SubscriptionStatusItem(handle=0, status=st, stream=item.stream))
                continue
            key = self.streams.instance(stream, conn.participant)
            handle = next(self.handles)
            sub = Sub(handle, stream, item.broadcast, item.filter)
            conn.subs[handle] = sub
            conn.by_stream.setdefault(key, []).append(sub)
            self.subscribers.setdefault(key, {})[conn] = conn.by_stream[key]
            self._routes.clear()
            last = self.streams.last_sequence(stream, conn.participant)
            first = last + 1
            resume = conn.resume.pop(stream, None)
            if resume is not None:
                frames, first, st = self._replay(conn, stream, resume, last)
                replays += frames
            statuses.append(ms.SubscriptionStatusItem(handle=handle, status=st, stream=stream, first_sequence=first,
                                                      last_sequence=last))
        conn.log.info("subscribe", request_id=rid, items=len(msg.items), replayed=len(replays))
        self.reply(conn, rid, ms.SubscribeReply(items=statuses))
        if replays and not conn.closing:
            # the stored frames, marked REPLAY (0x0004): one copy of the whole, flags patched in place
            conn.queue(with_request_many(replays, 0, Flag.REPLAY))

    def _replay(self, conn: Connection, stream: int, resume: tuple[int, int], last: int) -> tuple[list, int, int]:
        """Frames a resuming subscriber missed (the whole stream instance), bounded by max_replay."""
        rdate, rseq = resume
        today = self.streams.business_date
        frames: list = []
        if rdate and rdate != today:
            if self.streams.has_date(rdate):
                entries, _, _ = self.streams.range(stream, conn.participant, rdate, rseq + 1, None)
                frames += [e.frame for e in entries]
            rseq = 0
        entries, first, _ = self.streams.range(stream, conn.participant, today, rseq + 1, None)
        frames += [e.frame for e in entries]
        if len(frames) > self.settings.max_replay:
            conn.log.info("replay_refused", stream=stream, missed=len(frames), limit=self.settings.max_replay)
            return [], last + 1, St.REPLAY_LIMIT
        return frames, rseq + 1, St.OK

    def _unsubscribe(self, conn: Connection, frame, msg: ms.UnsubscribeRequest) -> None:
        statuses = []
        for item in msg.items:
            sub = conn.subs.pop(item.handle, None)
            if sub is None:
                statuses.append(ms.SubscriptionStatusItem(handle=item.handle, status=St.UNKNOWN_HANDLE))
                continue
            key = self.streams.instance(sub.stream, conn.participant)
            lst = conn.by_stream.get(key, [])
            lst.remove(sub)
            if not lst:
                conn.by_stream.pop(key, None)
                self.subscribers.get(key, {}).pop(conn, None)
            self._routes.clear()
            statuses.append(ms.SubscriptionStatusItem(handle=sub.handle, status=St.OK, stream=sub.stream,
                                                      last_sequence=self.streams.last_sequence(sub.stream, conn.participant)))
        self.reply(conn, frame.request_id, ms.SubscribeReply(items=statuses))

    def _recovery(self, conn: Connection, frame, msg: ms.RecoveryQuery) -> None:
        rid = frame.request_id
        try:
            stream = Stream(msg.stream)
        except ValueError:
            self._reject(conn, rid, "UQ20", St.UNKNOWN_STREAM, status_text(St.UNKNOWN_STREAM), field_offset=4,
                         field="stream")
            return
        if stream not in ROLE_STREAMS[conn.role]:
            self._reject(conn, rid, "UQ20", St.SUBSCRIPTION_NOT_AUTHORISED, status_text(St.SUBSCRIPTION_NOT_AUTHORISED),
                         field_offset=4, field="stream")
            return
        if not self.streams.has_date(msg.business_date):
            self._reject(conn, rid, "UQ20", St.SEQUENCE_OUT_OF_RANGE, f"business date {msg.business_date} not kept",
                         field_offset=8, field="business_date")
            return
        latest = self.streams.last_sequence(stream, conn.participant) if msg.business_date in (0, self.streams.business_date) \
            else None
        entries, first, last = self.streams.range(stream, conn.participant, msg.business_date, msg.first_sequence,
                                                  msg.last_sequence or None)
        want = (msg.last_sequence or (latest or last)) - max(1, msg.first_sequence) + 1
        if msg.first_sequence == 0 or (msg.last_sequence and msg.last_sequence < msg.first_sequence):
            self._reject(conn, rid, "UQ20", St.SEQUENCE_OUT_OF_RANGE, "first_sequence must be 1..last_sequence",
                         field_offset=12, field="first_sequence")
            return
        if want > self.settings.max_replay:
            self._reject(conn, rid, "UQ20", St.REPLAY_LIMIT,
                         f"{status_text(St.REPLAY_LIMIT)} ({want} > {self.settings.max_replay})", field_offset=16,
                         field="last_sequence")
            return
        subs = [s for s in conn.subs.values() if s.stream == stream]
        if any(not s.broadcast and not s.filter for s in subs):
            subs = []  # a whole-stream subscription: every entry matches
        from protocol.framing import with_request_many
        frames = [e.frame for e in entries if not subs or any(s.matches(e.code, e.keys) for s in subs)]
        count = len(frames)
        if frames:
            conn.queue(with_request_many(frames, rid, Flag.RECOVERY))
        self.dirty.add(conn)
        bdate = msg.business_date or self.streams.business_date
        self.reply(conn, rid, ms.RecoveryAnswer(stream=stream, business_date=bdate, first_sequence=first,
                                                last_sequence=last, count=count,
                                                latest_sequence=latest if latest is not None else last))

    def _stream_status(self, conn: Connection, frame, msg) -> None:
        self.reply(conn, frame.request_id, ms.StreamStatusAnswer(streams=self._positions(conn)))

    def _status_text(self, conn: Connection, frame, msg: ms.StatusTextQuery) -> None:
        if msg.level == 2:
            e = BUSINESS_CODES.get(msg.code)
            name, text = (e.name, e.text) if e else ("UNKNOWN", f"Unknown business status {msg.code}")
        else:
            try:
                name, text = St(msg.code).name, status_text(msg.code)
            except ValueError:
                name, text = "UNKNOWN", status_text(msg.code)
        self.reply(conn, frame.request_id, ms.StatusTextAnswer(code=msg.code, name=name[:32], text=text[:80]))

    _session_handlers = {
        "UO1": _logout, "UC1": _change_password, "UB1": _subscribe, "UB3": _unsubscribe, "UQ20": _recovery,
        "UQ21": _stream_status, "UQ30": _status_text,
    }


def _copy_with(answer, field_name: str, items: list):
    import dataclasses
    return dataclasses.replace(answer, **{field_name: items})
