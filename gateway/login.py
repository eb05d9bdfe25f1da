"""Login, logout and password changes (session-layer requests UL1, UO1, UC1).

Passwords are checked with scrypt off the event loop; meanwhile the connection stops reading and
its session machine holds whatever arrived behind the login, which is answered once the login is
accepted (``ServerSession.release_held``).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from typing import Callable

from gateway.auth import EXPIRY_WARNING_DAYS, Lockout, User, password_policy_error
from protocol.codec import Date
from protocol.enums import Role
from protocol.messages import session as ms
from protocol.registry import field_offset
from protocol.session import Violation, reject_frame
from protocol.status import SessionStatus as St
from protocol.status import text as status_text

if TYPE_CHECKING:  # pragma: no cover
    from gateway.connection import Connection
    from gateway.server import Gateway

ROLE_CODE = {"participant": Role.PARTICIPANT, "operator": Role.OPERATOR, "clearing_member": Role.CLEARING_MEMBER}


def new_lockout(settings) -> Lockout:
    return Lockout(settings.login_failures_before_lock, settings.login_failure_window, settings.lock_seconds)


class Login:
    """Authentication of the gateway's connections against its user directory. The password
    functions (``gateway.auth``) are handed in by the gateway, which wires them."""

    def __init__(self, gw: "Gateway", verify_password: Callable, verify_unknown_user: Callable,
                 change_password: Callable):
        self.gw = gw
        self.verify_password = verify_password
        self.verify_unknown_user = verify_unknown_user
        self.change_password_hash = change_password

    # ------------------------------------------------------------ UL1
    def login(self, conn: "Connection", frame, msg: ms.LoginRequest) -> None:
        gw = self.gw
        rid = frame.request_id
        now = gw.loop.time()
        user = gw.users.get(msg.user)
        if gw.lockout.is_locked(msg.user, now):
            gw._login_failed(conn, rid, msg.user, St.ACCOUNT_LOCKED, count=False)
            return
        conn.transport.pause_reading()
        if user is None:
            fut = gw.loop.run_in_executor(None, self.verify_unknown_user, msg.password)
            fut.add_done_callback(lambda f: self._unknown_user_checked(conn, rid, msg.user))
            return
        fut = gw.loop.run_in_executor(None, self.verify_password, msg.password, user.password_hash)
        fut.add_done_callback(lambda f: self._verified(conn, rid, msg, user, f))

    def _unknown_user_checked(self, conn: "Connection", rid: int, user: str) -> None:
        if not conn.closing:
            # the same code and text as a wrong password: the wire never says which user ids exist
            conn.log.info("login_unknown_user", request_id=rid, user=user)
            self.gw._login_failed(conn, rid, user, St.INVALID_CREDENTIALS)

    def failed(self, conn: "Connection", rid: int, user: str, status: int, count: bool = True) -> None:
        gw = self.gw
        if count and gw.lockout.failed(user, gw.loop.time()):
            conn.log.warning("user_locked", user=user)
        conn.log.info("login_failed", request_id=rid, user=user, status=int(status))
        conn.machine.login_refused()
        if conn.trace is not None:
            conn.traced(rid, "UR2", status, request="UL1")
        conn.queue(reject_frame(Violation(status, rid, status_text(status), "UL1")))
        conn.close_with(None, status_text(status))
        gw.flush()

    def _verified(self, conn: "Connection", rid: int, msg: ms.LoginRequest, user: User, fut) -> None:
        if conn.closing:
            return
        gw = self.gw
        try:
            ok = fut.result()
        except Exception:  # noqa: BLE001
            ok = False
        if conn.transport is not None and not conn.transport.is_closing():
            conn.transport.resume_reading()
        if not ok:
            gw._login_failed(conn, rid, msg.user, St.INVALID_CREDENTIALS)
            return
        existing = gw.sessions.get(user.user)
        if existing is not None and not existing.closing:
            if not msg.forced:
                gw._login_failed(conn, rid, msg.user, St.SESSION_IN_USE, count=False)
                return
            existing.log.info("forced_logout", by_session=conn.session_id)
            existing.close_with(St.FORCED_LOGOUT, status_text(St.FORCED_LOGOUT))
        gw.lockout.succeeded(user.user)
        conn.user = user
        conn.role = user.role
        conn.participant = user.participant
        conn.log = conn.log.bind(user=user.user)
        gw.sessions[user.user] = conn
        conn.resume = {rp.stream: (rp.business_date, rp.last_sequence) for rp in msg.resume}
        today = gw.core.business_date
        expiry = user.password_expiry()
        status = St.OK
        if expiry <= today:
            conn.restricted = True
            status = St.PASSWORD_MUST_CHANGE
        elif (expiry - today).days <= EXPIRY_WARNING_DAYS:
            status = St.PASSWORD_EXPIRES_SOON
        limits, s = gw.limits, gw.settings
        throttle = user.throttle_per_second or limits.throttle_per_second
        conn.machine.login_accepted(throttle)
        reply = ms.LoginReply(
            session_id=conn.session_id, user=user.user, user_code=user.user_code, participant=user.participant,
            role=ROLE_CODE[user.role], business_date=Date.to_text(today),
            heartbeat_interval_ms=int(limits.heartbeat_interval * 1000), idle_heartbeats=limits.idle_heartbeats,
            max_subscriptions=s.max_subscriptions, throttle_per_second=throttle,
            max_replay=s.max_replay, max_frame_size=limits.max_frame_size, max_pending=limits.max_pending,
            password_expiry_date=Date.to_text(expiry), streams=gw.subscriptions.positions(conn))
        conn.reply(rid, reply, session_status=status, paged=False)
        gw.monitor.logged_in(conn, msg, status)
        conn.log.info("login", request_id=rid, role=user.role, participant=user.participant,
                      application=msg.application_id, forced=msg.forced, resume=len(msg.resume),
                      status=int(status))
        now = gw.loop.time()
        for events in conn.machine.release_held(now):
            if conn.closing:
                break
            conn._handle(events, now)
        gw.flush()

    # ------------------------------------------------------------ UO1
    def logout(self, conn: "Connection", frame, msg) -> None:
        conn.machine.answered()
        conn.log.info("logout", request_id=frame.request_id)
        conn.close_with(St.LOGGED_OUT, status_text(St.LOGGED_OUT), request_id=frame.request_id)

    # ------------------------------------------------------------ UC1
    def change_password(self, conn: "Connection", frame, msg: ms.ChangePasswordRequest) -> None:
        gw = self.gw
        rid = frame.request_id
        user = conn.user
        err = password_policy_error(msg.old_password, msg.new_password)
        if err is not None:
            self.gw._reject(conn, rid, "UC1", St.PASSWORD_POLICY, f"{status_text(St.PASSWORD_POLICY)}: {err}",
                        field_offset=field_offset(ms.ChangePasswordRequest, "new_password"), field="new_password")
            return
        # scrypt twice: off the event loop, with this connection's reading paused meanwhile
        conn.transport.pause_reading()
        fut = gw.loop.run_in_executor(None, self.change_password_hash, msg.old_password, msg.new_password,
                                   user.password_hash)
        fut.add_done_callback(lambda f: self._password_checked(conn, rid, user, f))

    def _password_checked(self, conn: "Connection", rid: int, user: User, fut) -> None:
        if conn.closing:
            return
        gw = self.gw
        if conn.transport is not None and not conn.transport.is_closing():
            conn.transport.resume_reading()
        try:
            new_hash = fut.result()
        except Exception:  # noqa: BLE001
            new_hash = None
        if new_hash is None:
            gw._reject(conn, rid, "UC1", St.INVALID_CREDENTIALS, "old password does not match", field_offset=field_offset(ms.ChangePasswordRequest, "old_password"), field="old_password")
            gw.flush()
            return
        if gw.journal is not None:
            gw.journal.password(user.user, new_hash, gw.core.business_date)
        user.password_hash = new_hash
        user.password_changed = gw.core.business_date
        conn.restricted = False
        conn.log.info("password_changed", request_id=rid)
        conn.reply(rid, ms.Ack(text="password changed"))
        gw.flush()
