"""The operator's certification tools: fault injection (EC600-EC606), watching (EC607), sessions
(EQ610) and a user's activity (EQ611). They act on sessions, not on the clearing core: each is
journaled as an ``op`` record (gateway.journal), which a replay counts and skips (the sessions it
acted on did not survive the restart)."""
from __future__ import annotations

from datetime import timedelta

from gateway.clearing.core import BusinessDateQuery
from gateway.clearing.errors import ClearingError
from gateway.faults import FAULT_OUT_OF_RANGE, MAX_COUNT, MAX_DELAY_MS, NO_SESSION, OWN_SESSION, UNKNOWN_USER
from gateway.handlers import RequestContext, handler
from gateway.monitor import kind_text, wall
from protocol.messages import certify as m
from protocol.messages import session as ms
from protocol.status import SessionStatus as St
from protocol.values import to_dict


def _journal(ctx: RequestContext, msg) -> None:
    ctx.services.journal_operator(ctx.user, msg.__message__.code, to_dict(msg))


def _live(ctx: RequestContext, user: str):
    if ctx.services.user(user) is None:
        raise ClearingError(UNKNOWN_USER, user, field="user")
    if user == ctx.user:
        raise ClearingError(OWN_SESSION, field="user")
    conn = ctx.services.faults.live(user)
    if conn is None:
        raise ClearingError(NO_SESSION, user, field="user")
    return conn


def _range(value: int, high: int, name: str) -> int:
    if not 1 <= value <= high:
        raise ClearingError(FAULT_OUT_OF_RANGE, f"{name} must be 1-{high}", field=name)
    return value


@handler(m.CutSessionRequest)
def cut_session(msg, ctx: RequestContext):
    conn = _live(ctx, msg.user)
    _journal(ctx, msg)
    if msg.notice:
        conn.close_with(St.FORCED_LOGOUT, "logged out by the operator")
        return ms.Ack(reference=conn.session_id, text="session logged out")
    tr = conn.transport
    conn.close_with(None, "cut by the operator (no notice)")
    tr.abort()  # no FIN after a goodbye: the connection just breaks
    return ms.Ack(reference=conn.session_id, text="session cut")


def _fault(ctx: RequestContext, msg, **changes) -> ms.Ack:
    conn = _live(ctx, msg.user)
    _journal(ctx, msg)
    faults = ctx.services.faults
    plan = faults.plan(msg.user)
    for k, v in changes.items():
        setattr(plan, k, v)
    faults.tap(conn)
    return ms.Ack(reference=conn.session_id, text=f"{plan.count()} frame(s) to disturb")


@handler(m.WithholdBroadcastsRequest)
def withhold_broadcasts(msg, ctx: RequestContext):
    return _fault(ctx, msg, withhold=_range(msg.count, MAX_COUNT, "count"))


@handler(m.DuplicateBroadcastsRequest)
def duplicate_broadcasts(msg, ctx: RequestContext):
    return _fault(ctx, msg, duplicate=_range(msg.count, MAX_COUNT, "count"))


@handler(m.DelayRepliesRequest)
def delay_replies(msg, ctx: RequestContext):
    return _fault(ctx, msg, reply_delay_ms=_range(msg.milliseconds, MAX_DELAY_MS, "milliseconds"),
                  replies=_range(msg.count, MAX_COUNT, "count"))


@handler(m.DelayHeartbeatsRequest)
def delay_heartbeats(msg, ctx: RequestContext):
    return _fault(ctx, msg, heartbeat_delay_ms=_range(msg.milliseconds, MAX_DELAY_MS, "milliseconds"),
                  heartbeats=_range(msg.count, MAX_COUNT, "count"))


@handler(m.ClearFaultsRequest)
def clear_faults(msg, ctx: RequestContext):
    if ctx.services.user(msg.user) is None:
        raise ClearingError(UNKNOWN_USER, msg.user, field="user")
    _journal(ctx, msg)
    ctx.services.faults.clear(msg.user)
    return ms.Ack(text="faults cleared")


@handler(m.ExpirePasswordRequest)
def expire_password(msg, ctx: RequestContext):
    user = ctx.services.user(msg.user)
    if user is None:
        raise ClearingError(UNKNOWN_USER, msg.user, field="user")
    if msg.user == ctx.user:
        raise ClearingError(OWN_SESSION, field="user")
    today = ctx.query(BusinessDateQuery()).business_date
    changed = today - timedelta(days=user.password_lifetime_days)
    # journaled as a password record: it replays the expiry exactly (the hash is unchanged)
    ctx.services.change_password(user.user, user.password_hash, changed)
    return ms.Ack(text=f"password of {user.user} expired")


@handler(m.WatchUserRequest)
def watch_user(msg, ctx: RequestContext):
    gw = ctx.services
    if gw.user(msg.user) is None:
        raise ClearingError(UNKNOWN_USER, msg.user, field="user")
    _journal(ctx, msg)
    if msg.on:
        gw.monitor.watched.add(msg.user)
        gw.monitor.widen(msg.user)
        conn = gw.faults.live(msg.user)
        if conn is not None:
            gw.faults.tap(conn)
    else:
        gw.monitor.watched.discard(msg.user)
    return ms.Ack(text="watching" if msg.on else "not watching")


@handler(m.SessionsQuery)
def sessions(msg, ctx: RequestContext):
    gw = ctx.services
    return m.SessionsAnswer(items=[m.SessionItem(**d) for d in gw.monitor.sessions(gw, msg.user, msg.ended)])


@handler(m.SessionActivityQuery)
def activity(msg, ctx: RequestContext):
    latest, entries = ctx.services.monitor.activity(msg.user, msg.after, msg.limit)
    items = [m.ActivityItem(number=n, session_id=sid, time=wall(t), direction=d, kind=kind_text(k), code=c,
                            request_id=rid, status=st, stream=stream, sequence=seq, detail=detail)
             for n, sid, t, d, k, c, rid, st, stream, seq, detail in entries]
    return m.SessionActivityAnswer(latest=latest, items=items)

