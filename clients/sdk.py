"""The asyncio SDK.

    async with connect("127.0.0.1", 7600, user="CPA01", password="pass-CPA01") as c:
        await c.subscribe(Stream.TRADES)
        answer = await c.query(BusinessDateQuery())
        async for b in c.broadcasts():
            print(b.sequence, b.message)

Requests return the typed answer message (segments of a paged answer are joined) or raise
:class:`RequestRejected` with both status codes. Heartbeats are automatic. When the connection
drops (or the server ends the session for a reason one can recover from: idle, slow reader,
shutdown), the client reconnects, logs in naming the last sequence it delivered on every stream,
subscribes again, and the broadcast iterator goes on with no gap and no duplicate.

``connect(...)`` is awaited (``c = await connect(...)``, then ``await c.close()``) or used directly as
an async context manager (``async with connect(...) as c``, which logs out on leaving), as in
websockets and httpx. Every failure is a :class:`clients.errors.ClientError`.

The SDK is silent by default: it logs through the standard :mod:`logging` logger ``clients.sdk``
(``session_ended``, ``reconnected``, ``gap`` ...) and prints nothing unless the application configures
logging (``logging.basicConfig(level=logging.INFO)`` shows them).
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import struct
import time
from dataclasses import dataclass
from typing import Any, AsyncIterator, Generator

from clients.errors import (BroadcastTimeout, CertificateRejected, ConnectFailed, ConnectionLost, ConnectionRefused,
                            ConnectTimeout, InvalidMessage, LoginRejected, RequestRejected, RequestTimeout, SessionEnded,
                            TlsFailed)
from protocol.codec import EncodeError
from protocol.framing import MAX_FRAME_SIZE
from protocol.kinds import Flag, Kind
from protocol.messages import session as ms
from protocol.paging import join as join_pages
from protocol.session import (Broadcast, ClientSession, GapDetected, HeartbeatReceived, IdleTimeout, LoggedOut,
                              ProtocolError, Rejected, Reply, State)
from protocol.status import SessionStatus as St
from protocol.streams import Stream
from protocol.values import FieldValueError, check as check_values

log = logging.getLogger(__name__)  # "clients.sdk": silent unless the application configures logging

_REFERENCED = int(Flag.REFERENCED)
NO_RECONNECT = {St.LOGGED_OUT, St.FORCED_LOGOUT, St.INVALID_CREDENTIALS, St.ACCOUNT_LOCKED,
                St.SESSION_IN_USE, St.THROTTLE_DISCONNECT}


@dataclass(slots=True)
class BroadcastEvent:
    stream: int
    sequence: int
    business_date: int
    message: Any

    @property
    def code(self) -> str:
        return self.message.CODE


@dataclass(slots=True)
class Gap:
    """Broadcasts that could not be recovered (only when recovery itself was refused)."""
    stream: int
    business_date: int
    first: int
    last: int


class _Pending:
    __slots__ = ("future", "segments", "recovered", "code", "resend")

    def __init__(self, future: asyncio.Future, code: str, resend: Any = None):
        self.future = future
        self.segments: list = []
        self.recovered: list = []
        self.code = code
        self.resend = resend  # a referenced transaction: the message, sent again after a reconnect


def _reference_clock() -> int:
    return time.time_ns() // 1000


class _Proto(asyncio.Protocol):
    def __init__(self, client: "Client"):
        self.client = client
        self.transport = None

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        if self.client._proto is self:
            self.client._on_data(data)

    def connection_lost(self, exc) -> None:
        self.client._on_lost(self, exc)


class Client:
    def __init__(self, host: str, port: int, user: str, password: str, *, application_id: str = "hkpost-sdk/0.1",
                 forced: bool = False, auto_reconnect: bool = True, reconnect_delay: float = 0.1,
                 max_reconnect_delay: float = 5.0, request_timeout: float = 30.0, max_reconnect_attempts: int = 50,
                 heartbeats: bool = True, ssl=None, server_hostname: str | None = None,
                 connect_timeout: float = 10.0):
        self.host, self.port, self.user, self.password = host, port, user, password
        self.ssl = ssl                          # an ssl.SSLContext (or True) to connect with TLS
        self.server_hostname = server_hostname  # name checked against the certificate (default: host)
        self.application_id = application_id
        self.forced = forced
        self.auto_reconnect = auto_reconnect
        self.reconnect_delay = reconnect_delay
        self.max_reconnect_delay = max_reconnect_delay
        self.max_reconnect_attempts = max_reconnect_attempts
        self.request_timeout = request_timeout
        self.connect_timeout = connect_timeout  # TCP connection and TLS handshake (the login: request_timeout)
        self.heartbeats = heartbeats
        self.machine = ClientSession(MAX_FRAME_SIZE)
        self._proto: _Proto | None = None
        self._pending: dict[int, _Pending] = {}
        self._queue: asyncio.Queue = asyncio.Queue()
        self._subscriptions: list = []  # items to subscribe again after a reconnect
        self._closing = False
        self._ended: SessionEnded | None = None
        self._hb_task: asyncio.Task | None = None
        self._reconnect_task: asyncio.Task | None = None
        self.login_reply: ms.LoginReply | None = None
        self.login_status = 0
        self.reconnects = 0
        self.gaps: list[Gap] = []
        self._connected = asyncio.Event()
        # exactly-once transactions (docs/guides/sessions.md): every transaction carries a client
        # reference, unique per user and day: microseconds since 1970 at the first one, counted up
        self.references = True
        self._last_reference = 0
        self.resent = 0  # transactions sent again after a reconnect

    # ------------------------------------------------------------ connection
    async def connect(self) -> "Client":
        await self._open(self.forced)
        return self

    async def _open(self, forced: bool) -> None:
        loop = asyncio.get_running_loop()
        self.machine.reconnected(loop.time())
        tls = {"ssl": self.ssl, "server_hostname": self.server_hostname} if self.ssl else {}
        try:
            _, proto = await asyncio.wait_for(
                loop.create_connection(lambda: _Proto(self), self.host, self.port, **tls), self.connect_timeout)
        except asyncio.TimeoutError:
            raise ConnectTimeout(f"cannot connect to {self.host}:{self.port}: "
                                 f"no connection within {self.connect_timeout}s") from None
        except ssl.SSLCertVerificationError as e:
            raise CertificateRejected(e.errno, f"cannot connect to {self.host}:{self.port}: {e.strerror or e}") from None
        except ssl.SSLError as e:
            raise TlsFailed(e.errno, f"cannot connect to {self.host}:{self.port}: {e.strerror or e}") from None
        except ConnectionRefusedError as e:
            raise ConnectionRefused(e.errno, f"cannot connect to {self.host}:{self.port}: connection refused "
                                             f"(is the gateway running?)") from None
        except OSError as e:
            raise ConnectFailed(e.errno, f"cannot connect to {self.host}:{self.port}: {e.strerror or e}") from None
        self._proto = proto
        login = ms.LoginRequest(user=self.user, password=self.password, application_id=self.application_id,
                                forced=forced, resume=self.machine.resume_points())
        try:
            reply, frame = await self._request(login, want_frame=True)
        except RequestRejected as e:
            self._closing = True
            raise LoginRejected(e.request_code, e.session_status, e.business_status, e.field_offset, e.field,
                                e.text) from None
        self.login_reply = reply
        self.login_status = frame.session_status
        self._ended = None
        if self.heartbeats and (self._hb_task is None or self._hb_task.done()):
            self._hb_task = asyncio.create_task(self._heartbeat_loop())
        if self._subscriptions:
            await self._request(ms.SubscribeRequest(items=list(self._subscriptions)))
        self._resend_unanswered()
        self._connected.set()

    def _next_reference(self) -> int:
        self._last_reference = max(self._last_reference + 1, _reference_clock())
        return self._last_reference

    def _resend_unanswered(self) -> None:
        """After a reconnect: send again, with the same reference, every transaction not answered
        (the gateway answers a transaction it already applied with its original answer)."""
        for rid, p in sorted(self._pending.items()):
            if p.resend is not None and not p.future.done():
                self.machine.send(p.resend, rid, flags=_REFERENCED)
                self.resent += 1
        self._write()

    async def __aenter__(self) -> "Client":
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    async def close(self) -> None:
        """Log out (when connected) and close; no reconnect."""
        self._closing = True
        if self._reconnect_task is not None:
            self._reconnect_task.cancel()
        if self._proto is not None and self._proto.transport is not None and not self._proto.transport.is_closing():
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._request(ms.LogoutRequest()), 2.0)
        self._shutdown_transport()
        if self._hb_task is not None:
            self._hb_task.cancel()
        self._queue.put_nowait(None)

    async def logout(self) -> None:
        await self.close()

    def _discard(self) -> None:
        """After a failed connect: close without logging out, no reconnect."""
        self._closing = True
        self._shutdown_transport()
        if self._hb_task is not None:
            self._hb_task.cancel()

    def _shutdown_transport(self) -> None:
        if self._proto is not None and self._proto.transport is not None:
            self._proto.transport.close()

    def abort_connection(self) -> None:
        """Drop the TCP connection without logging out (tests of reconnect and resume)."""
        if self._proto is not None and self._proto.transport is not None:
            self._proto.transport.abort()

    @property
    def connected(self) -> bool:
        return self._proto is not None and self._proto.transport is not None and not self._proto.transport.is_closing() \
            and self.machine.state is State.ACTIVE

    # ------------------------------------------------------------ requests
    async def request(self, msg) -> Any:
        return await self._request(msg)

    transact = request
    query = request

    async def _request(self, msg, want_frame: bool = False, timeout: float | None = None,
                       reference: int | None = None):
        """Send and wait for the answer. A transaction gets a new client reference (``reference``:
        this one, to send again one whose answer never came) and is sent again after a reconnect."""
        if not hasattr(type(msg), "__message__"):
            raise InvalidMessage(f"{msg!r} is not a message (a record or other value cannot be sent alone)")
        if self._ended is not None and msg.__message__.kind != Kind.LOGIN:
            raise self._ended
        proto = self._proto
        if proto is None or proto.transport is None or proto.transport.is_closing():
            if self.auto_reconnect and not self._closing:
                try:
                    await asyncio.wait_for(self._connected.wait(), timeout or self.request_timeout)
                except asyncio.TimeoutError:
                    raise RequestTimeout(f"{_code(msg)}: not reconnected in time") from None
                proto = self._proto
            else:
                raise ConnectionLost("not connected")
        await self._self_throttle()
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        if self.references and msg.__message__.kind == Kind.TRANSACTION:
            rid = self._send(msg, reference or self._next_reference(), _REFERENCED)
            self._pending[rid] = p = _Pending(fut, msg.__message__.code, msg)
        else:
            rid = self._send(msg)
            self._pending[rid] = p = _Pending(fut, msg.__message__.code)
        self._write()
        try:
            reply, frame = await asyncio.wait_for(fut, timeout or self.request_timeout)
        except asyncio.TimeoutError:
            self._pending.pop(rid, None)
            raise RequestTimeout(f"{msg.__message__.code} request {rid}: no answer in time") from None
        if msg.__message__.code == "UQ20":
            return reply, p.recovered
        return (reply, frame) if want_frame else reply

    def _send(self, msg, request_id: int | None = None, flags: int = 0) -> int:
        """Encode and queue a request; a value that does not fit raises :class:`InvalidMessage`."""
        try:
            return self.machine.send(msg, request_id, flags=flags)
        except (EncodeError, ValueError, TypeError, KeyError, AttributeError, struct.error) as e:
            try:
                check_values(msg)  # names the field
            except FieldValueError as fe:
                raise InvalidMessage(f"{msg.__message__.code}: {fe}", fe.field) from e
            raise InvalidMessage(f"{msg.__message__.code} cannot be encoded: {e}") from e

    async def _self_throttle(self) -> None:
        wait = self.machine.pace(asyncio.get_running_loop().time())  # the throttle announced at login
        if wait:
            await asyncio.sleep(wait)

    def _write(self) -> None:
        if self._proto is None or self._proto.transport is None:
            return
        data = self.machine.data_to_send(asyncio.get_running_loop().time())
        if data:
            self._proto.transport.write(data)

    def send_raw(self, data: bytes) -> None:
        """Write raw bytes on the connection (protocol tests)."""
        self._proto.transport.write(data)

    # ------------------------------------------------------------ subscriptions and broadcasts
    async def subscribe(self, *items) -> list:
        """Subscribe. Each item is a ``Stream`` (whole stream), a ``(stream, broadcast, filter)`` tuple
        or a ``SubscriptionItem``. Returns the status items; refused items raise nothing: check
        ``status``. Subscriptions are renewed automatically after a reconnect."""
        req = []
        for it in items:
            if isinstance(it, ms.SubscriptionItem):
                req.append(it)
            elif isinstance(it, tuple):
                stream, bcast, flt = (tuple(it) + ("", ""))[:3]
                req.append(ms.SubscriptionItem(stream=int(stream), broadcast=bcast, filter=flt))
            else:
                req.append(ms.SubscriptionItem(stream=int(it)))
        reply = await self._request(ms.SubscribeRequest(items=req))
        for r, st in zip(req, reply.items):
            if st.handle:
                self._subscriptions.append(r)
        return reply.items

    async def recover(self, stream: int, first: int, last: int = 0, business_date: int = 0) -> tuple[Any, list]:
        """Recovery query: returns (UA20 answer, [BroadcastEvent]) for the range."""
        answer, frames = await self._request(ms.RecoveryQuery(stream=int(stream), business_date=business_date,
                                                              first_sequence=first, last_sequence=last))
        return answer, frames

    async def broadcasts(self, timeout: float | None = None) -> AsyncIterator[BroadcastEvent]:
        """Every broadcast of the subscribed streams, once, in order (across reconnects)."""
        while True:
            try:
                item = await (asyncio.wait_for(self._queue.get(), timeout) if timeout else self._queue.get())
            except asyncio.TimeoutError:
                return
            if item is None:
                return
            yield item

    async def next_broadcast(self, timeout: float = 5.0, code: str | None = None) -> BroadcastEvent:
        """The next broadcast (of message type ``code`` when given); raises :class:`BroadcastTimeout`
        (a ``TimeoutError``)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            left = deadline - loop.time()
            if left <= 0:
                raise BroadcastTimeout(f"no broadcast {code or ''} within {timeout}s")
            try:
                item = await asyncio.wait_for(self._queue.get(), left)
            except asyncio.TimeoutError:
                raise BroadcastTimeout(f"no broadcast {code or ''} within {timeout}s") from None
            if item is None:
                raise ConnectionLost("client closed")
            if code is None or item.code == code:
                return item

    def pending_broadcasts(self) -> int:
        return self._queue.qsize()

    # ------------------------------------------------------------ input
    def _on_data(self, data: bytes) -> None:
        events = self.machine.receive_data(data, asyncio.get_running_loop().time())
        for ev in events:
            if isinstance(ev, Broadcast):
                if ev.recovered_for:
                    p = self._pending.get(ev.recovered_for)
                    if p is not None:
                        p.recovered.append(BroadcastEvent(ev.stream, ev.sequence, ev.business_date, ev.message))
                    continue
                self._queue.put_nowait(BroadcastEvent(ev.stream, ev.sequence, ev.business_date, ev.message))
            elif isinstance(ev, Reply):
                p = self._pending.get(ev.request_id)
                if p is None:
                    continue
                p.segments.append(ev.message)
                if ev.last:
                    del self._pending[ev.request_id]
                    if not p.future.done():
                        p.future.set_result((join_pages(p.segments), ev.frame))
            elif isinstance(ev, Rejected):
                p = self._pending.pop(ev.request_id, None)
                if p is not None and not p.future.done():
                    p.future.set_exception(RequestRejected(ev.request_code or p.code, ev.session_status,
                                                           ev.business_status, ev.field_offset, ev.field, ev.text))
            elif isinstance(ev, LoggedOut):
                self._ended = SessionEnded(ev.reason, ev.text)
                log.info("session_ended reason=%s text=%s", int(ev.reason), ev.text)
                final = ev.reason in NO_RECONNECT
                self._fail_pending(self._ended, keep_transactions=not final)
                if final:
                    self._closing = True
            elif isinstance(ev, GapDetected):
                self.gaps.append(Gap(ev.stream, ev.business_date, ev.first, ev.last))
                log.warning("gap stream=%s first=%s last=%s", ev.stream, ev.first, ev.last)
            elif isinstance(ev, ProtocolError):
                log.error("protocol_error status=%s text=%s", ev.status, ev.text)
            elif isinstance(ev, HeartbeatReceived):
                pass
        self._write()  # recovery queries the machine decided to send

    def _fail_pending(self, exc: Exception, keep_transactions: bool = False) -> None:
        """Fail what waits for an answer; with ``keep_transactions`` (a reconnect follows) referenced
        transactions stay pending, to be sent again once logged in."""
        keep = keep_transactions and self.auto_reconnect and not self._closing
        pending, self._pending = self._pending, {}
        for rid, p in pending.items():
            if p.future.done():
                continue
            if keep and p.resend is not None:
                self._pending[rid] = p
            else:
                p.future.set_exception(exc)

    def _on_lost(self, proto: _Proto, exc) -> None:
        if proto is not self._proto:
            return
        self._connected.clear()
        self.machine.connection_lost()
        self._fail_pending(self._ended or ConnectionLost(str(exc) if exc else "connection closed"),
                           keep_transactions=True)
        if self.auto_reconnect and not self._closing:
            if self._reconnect_task is not None and not self._reconnect_task.done():
                return   # lost while reconnecting: that loop tries again (a second one would race it)
            self._reconnect_task = asyncio.get_running_loop().create_task(self._reconnect())
        elif self._closing:
            self._queue.put_nowait(None)

    async def _reconnect(self) -> None:
        delay = self.reconnect_delay
        for attempt in range(self.max_reconnect_attempts):
            await asyncio.sleep(delay)
            if self._closing:
                return
            try:
                await self._open(forced=True)
                self.reconnects += 1
                log.info("reconnected attempt=%s", attempt + 1)
                return
            except LoginRejected as e:
                log.error("reconnect_login_rejected status=%s", e.session_status)
                self._closing = True
                self._fail_pending(e)
                self._queue.put_nowait(None)
                return
            except (OSError, ConnectionLost, RequestTimeout, SessionEnded, asyncio.TimeoutError) as e:
                log.info("reconnect_failed attempt=%s error=%s", attempt + 1, e)
                delay = min(self.max_reconnect_delay, delay * 2)
        self._closing = True
        self._fail_pending(ConnectionLost("reconnect failed"))
        self._queue.put_nowait(None)

    async def _heartbeat_loop(self) -> None:
        loop = asyncio.get_running_loop()
        while not self._closing:
            lr = self.login_reply
            interval = (lr.heartbeat_interval_ms / 1000.0) if lr else 10.0
            await asyncio.sleep(max(0.01, interval / 4))
            if not self.connected:
                continue
            for ev in self.machine.tick(loop.time()):  # heartbeats and the server's silence
                if isinstance(ev, IdleTimeout):
                    log.warning("server_silent seconds=%.3f", ev.silent_for)
                    self.abort_connection()
            self._write()


def _code(msg) -> str:
    spec = getattr(type(msg), "__message__", None)
    return spec.code if spec is not None else type(msg).__name__


class connect:  # noqa: N801 - used as a function: ``await connect(...)`` or ``async with connect(...)``
    """Connect and log in.

    ``c = await connect(...)`` returns the logged-in :class:`Client` (close it with ``await c.close()``);
    ``async with connect(...) as c:`` does the same and logs out when the block ends. The keyword
    arguments are those of :class:`Client`."""

    def __init__(self, host: str, port: int, user: str, password: str, **kw):
        self.client = Client(host, port, user, password, **kw)

    def __await__(self) -> Generator[Any, None, Client]:
        return self._connect().__await__()

    async def _connect(self) -> Client:
        try:
            return await self.client.connect()
        except BaseException:
            self.client._discard()  # nothing left behind: transport, heartbeat task
            raise

    async def __aenter__(self) -> Client:
        return await self._connect()

    async def __aexit__(self, *exc) -> None:
        await self.client.close()


__all__ = ["Client", "connect", "BroadcastEvent", "Gap", "Stream"]
