"""One client connection: the asyncio Protocol around its session machine.

The machine (``protocol.session.ServerSession``) owns the input rules and the output; the
connection feeds it what the socket reads, hands its requests to the gateway's dispatcher, and
answers on it: ``reply`` (paged into segments when the answer is long), ``reject``, ``queue`` (a
frame as it is), ``write_now`` (everything queued, one ``transport.write``) and ``close_with``.
Output is coalesced: frames queued during a batch (one ``data_received``, one timer tick) are
written once, when the gateway flushes its dirty connections (the connection whose read it was
first: its answers before the broadcasts they caused). The requests of one read are also
one batch of the clearing core: margin and coverage are recomputed once, at the end of the read,
and their broadcasts are queued before anything is written.
"""
from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

import structlog

from protocol.framing import encode_frame
from protocol.kinds import Flag, Kind
from protocol.messages import session as ms
from protocol.paging import pages
from protocol.registry import encode_message, encode_reply
from protocol.session import RequestReceived, ServerSession, Violation, reject_frame
from protocol.status import SessionStatus as St
from protocol.status import text as status_text

if TYPE_CHECKING:  # pragma: no cover
    from gateway import handlers as H
    from gateway.auth import User
    from gateway.fanout import Sub
    from gateway.server import Gateway

log = structlog.get_logger("gateway")

_LAST_SEGMENT = int(Flag.LAST_SEGMENT)

#: Seconds a closing connection waits for the peer to drain the output and close its side before
#: it is aborted (a reset); at shutdown, :data:`SHUTDOWN_LINGER_SECONDS`. The protocol reference
#: (3.12, 3.13) reads them from here.
LINGER_SECONDS = 2.0
SHUTDOWN_LINGER_SECONDS = 1.0


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
        self.lost = False  # the transport is gone (connection_lost)
        self.log = log
        self.rctx: H.RequestContext | None = None  # one per session (dispatch updates its time)
        self.output_limit = 0  # bytes buffered in the transport beyond which the reader is too slow
        self.recording = None  # a gateway.recording Conversation when the gateway records
        self.stats = None  # gateway.monitor.SessionStats once logged in
        self.trace: dict[int, str] | None = None  # at debug level: request id -> message type, until answered
        self.capture: list | None = None  # frames queued while a referenced transaction runs (dispatch.py)

    @property
    def held(self) -> list[bytes]:
        """What was read while the login is verified (the machine holds it)."""
        return self.machine.held_data if self.machine is not None else []

    # ------------------------------------------------------------ asyncio callbacks
    def connection_made(self, transport) -> None:
        self.transport = transport
        self.peer = transport.get_extra_info("peername") or ("?", 0)
        gw = self.gw
        if gw.recorder is not None:
            self.recording = gw.recorder.connection(self.peer, transport.get_extra_info("sockname"))
        self.session_id = next(gw.session_ids)
        self.log = log.bind(session_id=self.session_id, peer=f"{self.peer[0]}:{self.peer[1]}")
        self.machine = ServerSession(gw.limits, gw.loop.time())
        self.output_limit = gw.settings.output_buffer_limit  # read once: checked after every write
        if self.log.is_enabled_for(logging.DEBUG):  # the request trace: one line per answered request
            self.trace = {}
        if not gw.admit(self):
            self.close_with(St.GATEWAY_FULL, status_text(St.GATEWAY_FULL))

    def data_received(self, data: bytes) -> None:
        if self.recording is not None:
            self.recording.received(data)
        if self.closing:
            return
        gw = self.gw
        if gw.poller is not None:
            gw.poller.touch()
        now = gw.loop.time()  # one clock read per read of the socket
        gw.reading = True  # the commands of one read are one batch (Gateway.execute opens it)
        try:
            self._handle(self.machine.receive_data(data, now), now)
        finally:
            gw.reading = False
            if gw.core.in_batch:
                gw.end_batch()
        gw.readers[self] = None  # its answers are written before the broadcasts (Gateway.flush)
        gw.flush(now)

    def connection_lost(self, exc) -> None:
        if self.recording is not None:
            self.recording.closed()
        self.gw.forget(self)
        self.closing = self.lost = True
        self.gw.monitor.lost(self, exc)
        self.log.info("disconnect", reason=str(exc) if exc else "closed")

    # ------------------------------------------------------------ events from the machine
    def _handle(self, events: list, now: float) -> None:
        if self.stats is not None:
            self.gw.monitor.events(self, events, now)
        for ev in events:
            if self.closing:
                return
            if type(ev) is RequestReceived:
                frame, msg = ev
                if self.trace is not None:
                    self.trace[frame.request_id] = frame.code
                try:
                    self.gw.dispatch(self, frame, msg)
                except Exception:  # noqa: BLE001 - never take the server down
                    self.log.exception("internal_error", request_id=frame.request_id)
                    self.machine.answered()
                    self.queue(reject_frame(Violation(St.INTERNAL_ERROR, frame.request_id,
                                                      status_text(St.INTERNAL_ERROR), frame.code)))
            elif isinstance(ev, Violation):
                if self.trace is not None:
                    self.traced(ev.request_id, "UR2", ev.status, request=ev.request_code)
                self.log.info("reject", request_id=ev.request_id, status=int(ev.status), text=ev.text,
                              request=ev.request_code, field=ev.field, fatal=ev.fatal)
                self.queue(reject_frame(ev))
                if ev.fatal:
                    self.close_with(None, ev.text)
            # HeartbeatReceived: the machine has noted it (the monitor counted it above); nothing to answer

    # ------------------------------------------------------------ answers
    def traced(self, rid: int, answer: str, status: int, business: int = 0, request: str = "") -> None:
        """The request trace (debug level): one line per answered request."""
        code = self.trace.pop(rid, request) if self.trace is not None else request
        self.log.debug("request", request_id=rid, request=code, answer=answer, status=int(status),
                       business_status=business)

    def queue(self, frame: bytes) -> None:
        """A frame for this connection, written at the end of the batch."""
        if self.capture is not None:  # the answer of a referenced transaction (gateway/dispatch.py)
            self.capture.append(frame)
        if self.closing:
            return
        self.machine.outbox.append(frame)  # ServerSession.send, one call less on the hot path
        self.gw.dirty.add(self)

    def reply(self, rid: int, answer: Any, session_status: int = 0, paged: bool = True) -> None:
        """Answer request ``rid``: one REPLY, or segments 1..n when the items do not fit in one
        (``paged=False``: always one, for the login reply)."""
        self.machine.answered()
        if self.trace is not None:
            self.traced(rid, answer.__message__.code, session_status)
        gw = self.gw
        bdate = gw.streams.business_date
        if paged and answer.__message__.record.has_items:
            s = gw.settings
            parts = pages(answer, s.max_frame_size, s.max_page_items)
            if len(parts) > 1:
                n = len(parts)
                for i, part in enumerate(parts):
                    self.queue(encode_frame(Kind.REPLY, encode_message(part), rid, segment=i + 1,
                                            flags=_LAST_SEGMENT if i == n - 1 else 0, business_date=bdate))
                return
        if session_status:
            self.queue(encode_frame(Kind.REPLY, encode_message(answer), rid, segment=1, flags=_LAST_SEGMENT,
                                    session_status=session_status, business_date=bdate))
        else:
            self.queue(encode_reply(answer, rid, bdate))

    def reject(self, rid: int, code: str, status: int, text: str, *, business: int = 0, field_offset: int = 0,
               field: str = "") -> None:
        """Refuse request ``rid`` (a typed REJECT: session status, business status, field offset)."""
        self.machine.answered()
        if self.trace is not None:
            self.traced(rid, "UR2", status, business, request=code)
        self.gw.monitor.rejected(self)
        self.log.info("reject", request_id=rid, request=code, status=int(status), business_status=business,
                      text=text)
        self.queue(reject_frame(Violation(status, rid, text, code, field_offset, field), business))

    # ------------------------------------------------------------ writing and closing
    def write_now(self, now: float | None = None) -> None:
        tr = self.transport
        if tr is None:
            return
        # the session's outbox itself (ServerSession.data_to_send, one call less per write)
        data = self.machine.outbox.take(self.gw.loop.time() if now is None else now)
        if not data:
            return
        tr.write(data)
        if self.recording is not None:
            self.recording.sent(data)
        if tr.get_write_buffer_size() > self.output_limit and not self.closing:
            self.log.warning("slow_consumer", buffered=tr.get_write_buffer_size())
            self.close_with(St.SLOW_CONSUMER, status_text(St.SLOW_CONSUMER))

    def close_with(self, status: int | None, text: str, request_id: int = 0,
                   abort_after: float = LINGER_SECONDS) -> None:
        """Tell the peer why (when ``status`` is given), then close; abort if it has not closed its
        side within ``abort_after`` seconds.

        The close lingers: what is queued is written, then the end of the stream (a half close),
        and what the peer still sends meanwhile is read and dropped (``data_received`` ignores it)
        until the peer closes too. Closing at once with the peer's requests unread (a client that
        pipelined more than it was allowed) would make the kernel reset the connection, and a reset
        can destroy the notice on its way: the peer's kernel drops what it has not handed over yet."""
        if self.closing:
            return
        self.gw.monitor.ending(self, status, text)
        gw = self.gw
        if status is not None:
            if self.trace is not None and request_id:
                self.traced(request_id, "UO2", status)
            self.machine.send(encode_frame(Kind.LOGOUT, encode_message(ms.LogoutNotice(reason=status, text=text)),
                                           request_id, session_status=status))
        gw.before_close()
        data = self.machine.data_to_send()
        self.closing = True
        self.unregister()
        gw.dirty.discard(self)
        tr = self.transport
        if tr is not None:
            if data:
                tr.write(data)
                if self.recording is not None:
                    self.recording.sent(data)
            if tr.can_write_eof():
                try:
                    tr.write_eof()   # after what is queued; the peer's end of stream then closes the transport
                except OSError:      # the peer is gone already (not connected)
                    tr.close()
            else:                    # no half close on this transport: close outright
                tr.close()
            gw.loop.call_later(abort_after, self._linger_over, tr)
        self.log.info("close", status=int(status) if status is not None else None, text=text)

    def _linger_over(self, tr) -> None:
        """The peer has not closed its side (or not drained the output) in time: end it now."""
        if not self.lost:
            tr.abort()

    def abort(self) -> None:
        """End now, dropping what is queued (fail-stop: nothing not on disk may leave)."""
        self.machine.abort()
        self.closing = True
        if self.transport is not None:
            self.transport.abort()

    def unregister(self) -> None:
        """No longer the user's session, no subscriptions."""
        gw = self.gw
        if self.user is not None and gw.sessions.get(self.user.user) is self:
            del gw.sessions[self.user.user]
        gw.fanout.drop(self)

    _unregister = unregister
