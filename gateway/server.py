"""The gateway: glue between the event loop and the gateway's modules.

``Gateway`` owns the shared state (clearing core, business clock, broadcast streams, users, the
connections) and wires the modules to the event loop: ``gateway.connection`` (one asyncio
Protocol per connection, answers on it), ``gateway.dispatch`` (requests to handlers),
``gateway.login`` (login, logout, passwords), ``gateway.subscriptions`` (subscribe, replay,
recovery) and ``gateway.fanout`` (core events to broadcasts). Handlers reach it through
``gateway.handlers.GatewayServices``, the journal through ``gateway.journal.host.JournalHost``.

Everything runs on the event loop thread (the core is single-threaded by design); only password
hashing goes to a worker thread. Output is coalesced: frames for a connection are queued during a
batch (one ``data_received``, one timer tick) and written with one ``transport.write``.
"""
from __future__ import annotations

import asyncio
import gc
import itertools
import signal
from dataclasses import replace
from datetime import date, datetime
from typing import Any, Iterable

import structlog

from gateway import handlers as H
from gateway.auth import UserDirectory, change_password, verify_password, verify_unknown_user
from gateway.busypoll import BusyPoll
from gateway.clearing.core import ClearingCore, Context, Outcome, Tick
from gateway.clearing.errors import ClearingError
from gateway.clock import BusinessClock
from gateway.config import Settings
from gateway.connection import SHUTDOWN_LINGER_SECONDS, Connection
from gateway.dispatch import SESSION_ONLY_WHEN_RESTRICTED, Dispatcher
from gateway.faults import Faults
from gateway.fanout import FILTER_FIELDS, SHARED_SEGMENT_MIN, Fanout, Route, Sub, filter_keys, filter_keys_of
from gateway.login import ROLE_CODE, Login, new_lockout
from gateway.monitor import Monitor
from gateway.recording import from_settings as recording_from_settings
from gateway.references import ReferenceBook
from gateway.streams import StreamStore, ymd_int
from gateway.subscriptions import ROLE_STREAMS, Subscriptions
from protocol.session import IdleTimeout, Limits, LoginTimeout
from protocol.status import SessionStatus as St
from protocol.status import text as status_text

log = structlog.get_logger("gateway")

# names that lived here before the modules were split out, still importable from here
__all__ = ["Gateway", "Connection", "Route", "Sub", "SHARED_SEGMENT_MIN", "FILTER_FIELDS", "filter_keys",
           "filter_keys_of", "ROLE_STREAMS", "ROLE_CODE", "SESSION_ONLY_WHEN_RESTRICTED", "ymd_int"]


class Gateway:
    def __init__(self, settings: Settings | None = None, users: UserDirectory | None = None,
                 module_factories: list | None = None):
        self.settings = settings or Settings()
        s = self.settings
        self.users = users or UserDirectory.load(s.users_file)
        self.lockout = new_lockout(s)
        start = datetime.fromisoformat(s.start_business_time) if s.start_business_time else None
        self.clock = BusinessClock(start, frozen=s.freeze_clock)
        if module_factories is None:
            from gateway.refdata import module_factories as mf
            module_factories = mf(s)
        self.module_factories = module_factories
        self.core = ClearingCore(self.clock.now(), module_factories=module_factories)
        self.limits = Limits(s.heartbeat_interval, s.idle_heartbeats, s.throttle_per_second, s.max_pending,
                             s.max_frame_size, s.login_timeout)
        self.connections: set[Connection] = set()
        self.per_address: dict[str, int] = {}
        self.sessions: dict[str, Connection] = {}
        self.dirty: set[Connection] = set()
        # connections whose reads were handled since the last flush, in read order: written first
        self.readers: dict[Connection, None] = {}
        self.streams = StreamStore(ymd_int(self.core.business_date))
        self.fanout = Fanout(self.dirty)
        # the password functions are looked up here, when the gateway is built (tests replace them)
        self.login = Login(self, verify_password, verify_unknown_user, change_password)
        self.subscriptions = Subscriptions(self)
        self.dispatcher = Dispatcher(self)
        self.dispatch = self.dispatcher.dispatch
        self.session_ids = itertools.count(1)
        self.server: asyncio.AbstractServer | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self._timers: list[asyncio.TimerHandle] = []
        self._gc_threshold: tuple[int, int, int] | None = None   # the process's thresholds while gc_threshold holds
        self.journal = None  # a gateway.journal.durability.Durability when journal_path is set
        self.references = ReferenceBook(s.max_references)  # exactly-once transactions (gateway/references.py)
        self.current_reference: tuple | None = None  # (user, reference, business date) of the running transaction
        self._batch_journaled = False  # the open batch journaled a command: its end is journaled too
        self.reading = False  # a connection's read is being handled: its commands form one batch
        self.poller: BusyPoll | None = None  # busy polling after reads (busy_poll_us), once the loop runs
        self.recorder = recording_from_settings(s)  # session recording (record_path), or None
        self.monitor = Monitor()  # sessions and activity for the operator (EQ610, EQ611)
        self.faults = Faults(self)  # certification faults on one user's output (EC600-EC607)
        H.load_all()
        if s.journal_path:  # rebuild the state from the journal (gateway/journal/durability.py)
            from gateway.journal import attach
            attach(self)

    @property
    def subscribers(self) -> dict:
        return self.fanout.subscribers

    # ------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        self.loop = asyncio.get_running_loop()
        if self.settings.busy_poll_us:
            self.poller = BusyPoll(self.loop, self.settings.busy_poll_us / 1e6)
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
        if self.recorder is not None:
            self.recorder.start(self.loop)
        if self.settings.stream_heartbeat_seconds:
            self._schedule_stream_heartbeat()
        if self.settings.gc_freeze_seconds:
            self._freeze_gc()
        if self.settings.gc_threshold:
            self._gc_threshold = gc.get_threshold()
            gc.set_threshold(self.settings.gc_threshold, *self._gc_threshold[1:])
        log.info("listening", host=self.settings.host, port=self.port,
                 business_date=str(self.core.business_date))

    async def stop(self, reason: str = "Gateway shutting down") -> None:
        for t in self._timers:
            t.cancel()
        if self.server is not None:
            self.server.close()
        for conn in list(self.connections):
            conn.close_with(St.SERVER_SHUTDOWN, reason, abort_after=SHUTDOWN_LINGER_SECONDS)
        if self.server is not None:
            await self.server.wait_closed()
        await asyncio.sleep(0)
        if self.journal is not None:
            self.journal.close()  # sync, final snapshot
        if self.recorder is not None:
            self.recorder.close()
        if self._gc_threshold is not None:
            gc.set_threshold(*self._gc_threshold)  # the process's own again
            self._gc_threshold = None
        log.info("stopped")

    def install_signal_handlers(self, stop_event: asyncio.Event) -> None:
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                self.loop.add_signal_handler(sig, stop_event.set)
            except (NotImplementedError, RuntimeError):  # pragma: no cover - non-POSIX
                pass

    # ------------------------------------------------------------ connections
    def admit(self, conn: Connection) -> bool:
        """A new connection, counted; False when the gateway (or the peer's address) is full."""
        addr = conn.peer[0]
        total = len(self.connections)
        per_addr = self.per_address.get(addr, 0)
        self.connections.add(conn)
        self.per_address[addr] = per_addr + 1
        conn.log.info("connect")
        s = self.settings
        return total < s.max_connections and per_addr < s.max_connections_per_address

    def forget(self, conn: Connection) -> None:
        """A connection has gone."""
        self.connections.discard(conn)
        n = self.per_address.get(conn.peer[0], 1) - 1
        if n <= 0:
            self.per_address.pop(conn.peer[0], None)
        else:
            self.per_address[conn.peer[0]] = n
        conn.unregister()
        self.readers.pop(conn, None)

    def before_close(self) -> None:
        """A connection is about to be closed with output queued: what is queued may depend on
        journal records not yet on disk."""
        if self.journal is not None:
            self.journal.sync()

    def flush(self, now: float | None = None) -> None:
        """Write every connection with output queued (``now``: the loop's time, when the caller
        has just read it: a read's handling takes microseconds, heartbeats go by seconds).

        The connections whose reads were handled are written first, in the order they were read:
        a request's answer leaves before the broadcasts it caused go to the other connections.
        A client that keeps requests in flight sends the next ones as soon as the answers arrive,
        so it refills the pipeline while the broadcasts are still being written. In any other
        order (a set's) a pipelined client waits for the broadcasts too, and the gateway idles
        until the new requests come."""
        if self.journal is not None and self.journal.holding():
            return  # group commit: output waits until its journal records are on disk (the sync flushes)
        dirty = self.dirty
        readers = self.readers
        if not dirty:
            readers.clear()
            return
        if now is None:
            now = self.loop.time()
        if readers:
            first = list(readers)   # a write may close its connection: not iterated while it changes
            readers.clear()
            for conn in first:
                if conn in dirty:
                    dirty.discard(conn)
                    if not conn.closing:
                        conn.write_now(now)
        while dirty:
            conn = dirty.pop()
            if not conn.closing:
                conn.write_now(now)

    # ------------------------------------------------------------ timers
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
            for ev in m.tick(now):
                if isinstance(ev, LoginTimeout):
                    conn.close_with(St.NOT_LOGGED_IN, "no login within the login timeout")
                elif isinstance(ev, IdleTimeout):
                    conn.log.info("idle_timeout", silent_for=round(ev.silent_for, 3))
                    conn.close_with(St.IDLE_TIMEOUT, status_text(St.IDLE_TIMEOUT))
            if m.has_output and not conn.closing:
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

    # ------------------------------------------------------------ core access (GatewayServices)
    def now(self) -> datetime:
        n = self.clock.now()
        return n if n > self.core.now else self.core.now

    def context(self, rctx: H.RequestContext | None) -> Context:
        now = self.now()
        if rctx is None:
            return Context(now, None, "gateway", True)
        # the core's Context is frozen: the session's one is reused while business time stands
        ctx = rctx.core_context
        if ctx is None or ctx.now != now:
            ctx = rctx.core_context = Context(now, rctx.participant, rctx.user, rctx.operator)
        return ctx

    # ------------------------------------------------------------ batches (one read of a connection)
    def begin_batch(self) -> None:
        """The commands from now to :meth:`end_batch` form one batch: the core recomputes margin and
        coverage once, at its end. A connection's read opens one at its first command (``reading``:
        see :meth:`execute`) and ends it when the read is handled."""
        self.core.begin_batch()

    def end_batch(self) -> None:
        """Close the batch: its end is journaled (when it journaled commands), and the derived
        events (one MarginChanged / coverage change per account touched) are broadcast, before the
        connection's queued replies are written (the caller flushes)."""
        core = self.core
        if not core.in_batch:
            return
        journaled, self._batch_journaled = self._batch_journaled, False
        events = core.end_batch()
        if journaled:
            self.journal.batch_end()
        if events:
            self.publish(events)

    def cut_batch(self) -> None:
        """A query (or a reset) sees the batch so far settled: the batch ends here, a new one begins
        (when the batch ran a command: else there is nothing to settle)."""
        if self.core.batch_pending:
            self.end_batch()
            self.core.begin_batch()

    def execute(self, command: Any, rctx: H.RequestContext | None) -> Outcome:
        core = self.core
        if self.reading and not core.in_batch:
            core.begin_batch()  # the first command of a read opens its batch (a read of queries has none)
        ctx = self.context(rctx)
        ref = self.current_reference
        if self.journal is not None:
            batched = core.in_batch
            self.journal.append(command, ctx, ref, batched)
            self._batch_journaled |= batched
        if ref is not None:
            self.references.applied(*ref)
        try:
            out = core.execute(command, ctx)
        except ClearingError as e:
            if e.events:
                self.publish(e.events)
            raise
        self.publish(out.events)
        return out

    def query(self, q: Any, rctx: H.RequestContext) -> Any:
        core = self.core
        if core.in_batch:
            self.cut_batch()
        return core.query(q, self.context(rctx))

    def set_clock(self, when: datetime, follow_wall_clock: bool | None = None, only_forward: bool = False) -> None:
        """Business time ``when`` (``only_forward``: unless the clock is already past it)."""
        if only_forward and when <= self.clock.now():
            return
        self.clock.set(when, follow_wall_clock=not self.clock.frozen if follow_wall_clock is None
                       else follow_wall_clock)

    def publish(self, events: Iterable) -> None:
        """The events' broadcasts: logged in their streams, queued to their subscribers."""
        self.fanout.publish(events, self.streams)

    def reset(self, when: datetime, rctx: H.RequestContext) -> None:
        """Operator reset: fresh core from the demo data, streams from 1, other sessions logged out."""
        batch = self.core.in_batch
        self.end_batch()
        if self.journal is not None:
            self.journal.reset(when)
        self.clock.set(when, follow_wall_clock=not self.clock.frozen)
        self.faults.reset()  # no certification fault or watch survives a reset
        self.fresh_state(when)
        if batch:
            self.core.begin_batch()
        me = self.sessions.get(rctx.user)
        for conn in list(self.connections):
            if conn is not me:
                conn.close_with(St.LOGGED_OUT, "emulator reset by the operator")
        if me is not None:
            me.unregister()
            self.sessions[rctx.user] = me
        log.info("reset", business_date=str(self.core.business_date))

    # ------------------------------------------------------------ points of variation
    # The modules answer through these three, so that a subclass can change one behaviour of the
    # gateway (the conformance suite's own tests build faulty gateways this way).
    def _reject(self, conn: Connection, rid: int, code: str, status: int, text: str, *, business: int = 0,
                field_offset: int = 0, field: str = "") -> None:
        conn.reject(rid, code, status, text, business=business, field_offset=field_offset, field=field)

    def _login_failed(self, conn: Connection, rid: int, user: str, status: int, count: bool = True) -> None:
        self.login.failed(conn, rid, user, status, count)

    def _replay(self, conn: Connection, stream: int, resume: tuple[int, int], last: int) -> tuple[list, int, int]:
        return self.subscriptions.replay(conn, stream, resume, last)

    # ------------------------------------------------------------ state (JournalHost)
    def fresh_state(self, when: datetime) -> None:
        """A fresh core at ``when``, streams from 1, the users as shipped with no lockout counts."""
        self.core = ClearingCore(when, module_factories=self.module_factories)
        self.streams.reset(ymd_int(self.core.business_date))
        self.users = UserDirectory.load(self.settings.users_file)
        self.lockout = new_lockout(self.settings)
        self.references.clear()

    def install_state(self, core: ClearingCore, streams: StreamStore | None = None) -> None:
        """A recovered state (from the journal or a snapshot) in place of the current one."""
        self.core = core
        if streams is not None:
            self.streams = streams

    # ------------------------------------------------------------ users and sessions (GatewayServices)
    def user(self, user_id: str):
        return self.users.get(user_id)

    def all_users(self) -> list:
        return list(self.users.users.values())

    def add_user(self, user) -> None:
        if self.journal is not None:
            self.journal.user(user)   # journaled first: a user acknowledged is never lost
        self.put_user(user)

    def set_user_functions(self, user_id: str, functions: int | None) -> None:
        u = self.users.get(user_id)
        if u is None:
            return
        if self.journal is not None:
            self.journal.user(replace(u, functions=functions))
        u.functions = functions

    def put_user(self, user) -> None:
        self.users.users[user.user] = user

    def under_maker_checker(self, participant: str) -> bool:
        return participant in self.users.maker_checker

    def is_locked(self, user_id: str) -> bool:
        return user_id in self.lockout.locked_until

    def unlock(self, user_id: str) -> None:
        self.lockout.locked_until.pop(user_id, None)
        self.lockout.succeeded(user_id)

    def journal_operator(self, user: str, code: str, fields: dict) -> None:
        if self.journal is not None:
            self.journal.operator(user, code, fields)

    def change_password(self, user: str, password_hash: str, changed: date) -> None:
        if self.journal is not None:
            self.journal.password(user, password_hash, changed)
        self.set_password(user, password_hash, changed)

    def set_password(self, user: str, password_hash: str, changed: date) -> None:
        u = self.users.get(user)
        if u is not None:
            u.password_hash = password_hash
            u.password_changed = changed

    def fail_stop(self) -> None:
        """The journal cannot write: drop all output, end every connection, stop listening."""
        for conn in list(self.connections):
            conn.abort()
        if self.server is not None:
            self.server.close()
