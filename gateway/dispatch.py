"""Dispatch: a decoded request to its handler, and the handler's answer or error to the connection.

Session-layer requests (login, logout, password, subscriptions, recovery, stream and status-text
queries) go to the gateway's own modules; every other request to the handler registered for its
message class (``gateway.handlers``), which reaches the gateway through the narrow
``GatewayServices`` interface of its ``RequestContext``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from gateway import handlers as H
from gateway.admin import refusal
from gateway.clearing.errors import OPERATOR_ONLY, REGISTRY as BUSINESS_CODES, ClearingError
from protocol.codec import fit_detail
from gateway.references import REFERENCE_LIMIT, UNKNOWN
from protocol.framing import header_field, with_status
from protocol.kinds import Flag, Kind
from protocol.messages import session as ms
from protocol.registry import field_offset
from protocol.status import SessionStatus as St
from protocol.status import text as status_text

if TYPE_CHECKING:  # pragma: no cover
    from gateway.connection import Connection
    from gateway.server import Gateway

SESSION_ONLY_WHEN_RESTRICTED = {"UC1", "UO1"}
REJECT_TEXT_WIDTH = ms.Reject.__record__.field_types["text"].length
ACCEPTED = ms.Ack(text="accepted")  # the answer of a transaction whose handler returns None


_REFERENCED = int(Flag.REFERENCED)
_TRANSACTION = int(Kind.TRANSACTION)
_ANSWER_KINDS = (int(Kind.REPLY), int(Kind.REJECT))


def _answers(frame: bytes, rid: int) -> bool:
    """True for a REPLY or REJECT frame of request ``rid`` (not a broadcast queued meanwhile)."""
    return header_field(frame, "kind") in _ANSWER_KINDS and header_field(frame, "request_id") == rid


def status_text_answer(conn: "Connection", frame, msg: ms.StatusTextQuery) -> None:
    """UQ30: the name and text of a session (level 1) or business (level 2) status code."""
    if msg.level == 2:
        e = BUSINESS_CODES.get(msg.code)
        name, text = (e.name, e.text) if e else ("UNKNOWN", f"Unknown business status {msg.code}")
    else:
        try:
            name, text = St(msg.code).name, status_text(msg.code)
        except ValueError:
            name, text = "UNKNOWN", status_text(msg.code)
    conn.reply(frame.request_id, ms.StatusTextAnswer(code=msg.code, name=name, text=text))


class Dispatcher:
    def __init__(self, gw: "Gateway"):
        self.gw = gw
        login, subs = gw.login, gw.subscriptions
        self.session_handlers: dict[str, Callable] = {
            "UO1": login.logout, "UC1": login.change_password, "UB1": subs.subscribe, "UB3": subs.unsubscribe,
            "UQ20": subs.recovery, "UQ21": subs.stream_status, "UQ30": status_text_answer,
        }

    def dispatch(self, conn: "Connection", frame, msg) -> None:
        code = msg.__message__.code
        if code == "UL1":
            self.gw.cut_batch()  # what it reports (the streams' last sequences) includes the batch so far
            self.gw.login.login(conn, frame, msg)
            return
        if conn.restricted and code not in SESSION_ONLY_WHEN_RESTRICTED:
            self.gw._reject(conn, frame.request_id, code, St.PASSWORD_EXPIRED,
                            "password expired: change it with UC1 first")
            return
        special = self.session_handlers.get(code)
        if special is not None:
            self.gw.cut_batch()  # subscriptions and recovery see the derived broadcasts of the batch so far
            special(conn, frame, msg)
            return
        fn = H.HANDLERS.get(type(msg))
        if fn is None:
            self.gw._reject(conn, frame.request_id, code, St.INVALID_MESSAGE_TYPE,
                            f"{code} is not a request this gateway serves")
            return
        if frame.flags & _REFERENCED and frame.kind == _TRANSACTION:
            self.referenced(conn, frame, msg, fn)
            return
        self.run(conn, frame, msg, fn)

    def referenced(self, conn: "Connection", frame, msg, fn) -> None:
        """A transaction with a client reference: answered once (gateway/references.py)."""
        gw = self.gw
        rid, user, bdate = frame.request_id, conn.user.user, gw.streams.business_date
        book = gw.references
        seen = book.lookup(user, rid, bdate)
        if seen is not None:
            if seen.frames is UNKNOWN:
                conn.reply(rid, ms.Ack(text="applied; answer lost in a restart"), session_status=St.ALREADY_ANSWERED)
            else:
                conn.machine.answered()
                for f in seen.frames:
                    conn.queue(with_status(f, St.ALREADY_ANSWERED))
            return
        if book.full(user, bdate):
            e = REFERENCE_LIMIT
            gw._reject(conn, rid, msg.__message__.code, St.BUSINESS_REJECT, e.text, business=e.number)
            return
        captured = conn.capture = []
        gw.current_reference = (user, rid, bdate)
        try:
            self.run(conn, frame, msg, fn)
        finally:
            conn.capture = None
            gw.current_reference = None
        self._keep_answer(captured, user, rid, bdate)

    def _keep_answer(self, captured: list, user: str, rid: int, bdate: int) -> None:
        """Remember (and journal) the answer of referenced transaction ``rid`` among ``captured``."""
        answer = tuple(f for f in captured if _answers(f, rid))
        if answer:
            gw = self.gw
            gw.references.answered(user, rid, bdate, answer)
            if gw.journal is not None:
                gw.journal.answer(user, rid, bdate, answer)

    def run(self, conn: "Connection", frame, msg, fn) -> None:
        gw = self.gw
        spec = msg.__message__
        user = conn.user
        if spec.operator and conn.role != "operator":
            e = BUSINESS_CODES[OPERATOR_ONLY.number]
            gw._reject(conn, frame.request_id, spec.code, St.BUSINESS_REJECT, e.text, business=e.number)
            return
        refused = refusal(user, spec.code)  # the user's profile and functions (gateway/admin.py)
        if refused is not None:
            gw._reject(conn, frame.request_id, spec.code, St.BUSINESS_REJECT, refused.text, business=refused.number)
            return
        rctx = conn.rctx  # handlers use it during the call only: one per session, its time set per request
        if rctx is None or rctx.user != user.user:
            rctx = conn.rctx = H.RequestContext(gw, user.user, conn.participant or None, conn.role == "operator",
                                                conn.role, gw.now())
        else:
            rctx.now = gw.now()
        try:
            answer = fn(msg, rctx)
        except ClearingError as e:
            self._business_reject(conn, frame.request_id, spec, e)
            return
        if answer is None:
            answer = ACCEPTED
        elif isinstance(answer, H.OffLoop):
            self._off_loop(conn, frame.request_id, spec, answer, gw.current_reference)
            return
        conn.reply(frame.request_id, answer)

    def _business_reject(self, conn: "Connection", rid: int, spec, e: ClearingError) -> None:
        off = field_offset(spec.cls, e.field) if e.field else 0
        text = fit_detail(e.error.text, e.detail, REJECT_TEXT_WIDTH)  # the detail kept whole
        self.gw._reject(conn, rid, spec.code, St.BUSINESS_REJECT, text, business=e.error.number, field_offset=off,
                        field=e.field or "")

    # ------------------------------------------------------------ a handler's slow work (H.OffLoop)
    def _off_loop(self, conn: "Connection", rid: int, spec, work: H.OffLoop, reference: tuple | None) -> None:
        """Run ``work`` in a thread with this connection's reading paused, then answer on the loop
        (``reference``: the client reference of the transaction, whose answer is then kept)."""
        gw = self.gw
        conn.transport.pause_reading()
        fut = gw.loop.run_in_executor(None, work.work, *work.args)
        fut.add_done_callback(lambda f: self._off_loop_done(conn, rid, spec, work, f, reference))

    def _off_loop_done(self, conn: "Connection", rid: int, spec, work: H.OffLoop, fut,
                       reference: tuple | None = None) -> None:
        if conn.closing:
            return
        if reference is None:
            self._off_loop_answer(conn, rid, spec, work, fut)
        else:
            captured = conn.capture = []
            try:
                self._off_loop_answer(conn, rid, spec, work, fut)
            finally:
                conn.capture = None
            self._keep_answer(captured, *reference)  # journaled before the answer leaves
        self.gw.flush()

    def _off_loop_answer(self, conn: "Connection", rid: int, spec, work: H.OffLoop, fut) -> None:
        gw = self.gw
        if conn.transport is not None and not conn.transport.is_closing():
            conn.transport.resume_reading()
        try:
            answer = work.then(fut.result())
        except ClearingError as e:
            self._business_reject(conn, rid, spec, e)
        except Exception:  # noqa: BLE001 - never take the server down
            conn.log.exception("internal_error", request_id=rid)
            gw._reject(conn, rid, spec.code, St.INTERNAL_ERROR, status_text(St.INTERNAL_ERROR))
        else:
            conn.reply(rid, ACCEPTED if answer is None else answer)
