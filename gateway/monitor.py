"""Observation of sessions for the operator: who is connected, and what one user's sessions did.

Every logged-in session has a :class:`SessionStats` (counters, a few integer additions per
request). Every user has a bounded :class:`UserLog` of its recent frames: what its sessions sent
is always recorded (one small tuple per request or heartbeat); what they were sent is recorded
frame by frame only while the user is *watched* (a fault or EC607 set on it), by the output tap of
:mod:`gateway.faults`, so that the broadcast fan-out of everybody else pays nothing. The log
survives the session (a certification judges a client across its reconnects); it keeps the last
``entries`` frames per user (100), ``watched_entries`` (2000) once the user has been watched.
"""
from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from protocol.kinds import Kind
from protocol.session import HeartbeatReceived, RequestReceived, Violation
from protocol.status import SessionStatus as St

ACTIVITY_ENTRIES = 100    # frames kept per user (what it sent: enough to see its last steps)
WATCHED_ENTRIES = 2000    # frames kept per user while it is watched or faulted (a certification reads them)
ENDED_KEPT = 100          # ended sessions kept for EQ610
USERS_KEPT = 10_000       # user logs kept (the oldest log is dropped beyond: users come from a directory)
THROTTLE_STATUSES = frozenset({int(St.THROTTLED), int(St.THROTTLE_DISCONNECT)})
_LOGIN, _HEARTBEAT = int(Kind.LOGIN), int(Kind.HEARTBEAT)
_DETAILED = frozenset({"UQ20", "UL1", "UO1"})  # requests whose entry carries a detail


def wall(t: float) -> str:
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")


@dataclass(slots=True)
class SessionStats:
    session_id: int
    user: str
    participant: str
    role: str
    peer: str
    since: float                 # wall time of the login
    log: "UserLog"               # the user's activity log
    requests: int = 0
    heartbeats: int = 0
    rejects: int = 0
    throttled: int = 0
    last_heartbeat: float = 0.0  # loop time; 0: none yet
    asked_logout: bool = False   # it sent UO1


KIND_NAMES = {int(k): k.name.lower() for k in Kind}


def kind_text(kind: int | str) -> str:
    return kind if isinstance(kind, str) else KIND_NAMES.get(kind, str(kind))


@dataclass(slots=True)
class UserLog:
    """Entries ``(number, session id, wall time, direction, kind, code, request id, status, stream,
    sequence, detail)``; ``kind`` is a frame kind number or a word (``refused``, ``""``)."""
    entries: deque
    number: int = 0

    def add(self, session_id: int, direction: str, kind: int | str, code: str, request_id: int = 0,
            status: int = 0, stream: int = 0, sequence: int = 0, detail: str = "", t: float = 0.0) -> None:
        self.number += 1
        self.entries.append((self.number, session_id, t or time.time(), direction, kind, code, request_id, status,
                             stream, sequence, detail))


def resume_detail(msg: Any) -> str:
    """``stream:date:sequence`` of each resume point of a login (blank: it named none)."""
    return " ".join(f"{rp.stream}:{rp.business_date}:{rp.last_sequence}" for rp in msg.resume)


def request_detail(msg: Any) -> str:
    code = msg.__message__.code
    if code == "UQ20":
        return f"{msg.stream}:{msg.business_date}:{msg.first_sequence}-{msg.last_sequence}"
    if code == "UL1":
        return resume_detail(msg)
    return ""  # UO1: the entry says it all


@dataclass
class Monitor:
    """The gateway's observation of sessions (``Gateway.monitor``)."""

    entries: int = ACTIVITY_ENTRIES
    watched_entries: int = WATCHED_ENTRIES
    logs: dict[str, UserLog] = field(default_factory=dict)
    watched: set[str] = field(default_factory=set)
    ended: deque = field(default_factory=lambda: deque(maxlen=ENDED_KEPT))  # items of EQ610, newest last

    def widen(self, user: str) -> None:
        """Keep more of this user's frames (it is watched or faulted: its output is recorded too)."""
        lg = self.log(user)
        if lg.entries.maxlen < self.watched_entries:
            lg.entries = deque(lg.entries, maxlen=self.watched_entries)

    def log(self, user: str) -> UserLog:
        lg = self.logs.get(user)
        if lg is None:
            if len(self.logs) >= USERS_KEPT:
                self.logs.pop(next(iter(self.logs)))
            lg = self.logs[user] = UserLog(deque(maxlen=self.entries))
        return lg

    # ------------------------------------------------------------ hooks called by the server
    def logged_in(self, conn: Any, msg: Any, status: int) -> None:
        """A login succeeded: the session's counters start, its login is logged."""
        user = conn.user.user
        lg = self.log(user)
        conn.stats = SessionStats(conn.session_id, user, conn.participant, conn.role,
                                  f"{conn.peer[0]}:{conn.peer[1]}", time.time(), lg)
        conn.stats.requests = 1
        lg.add(conn.session_id, "in", _LOGIN, "UL1", 0, int(status), detail=resume_detail(msg)[:64])
        if user in self.watched or conn.gw.faults.pending(user):
            conn.gw.faults.tap(conn)

    def events(self, conn: Any, events: list, now: float) -> None:
        """What the session machine made of the client's bytes (on the request path: one clock read
        per batch, one tuple per frame)."""
        st = conn.stats
        lg = st.log
        append = lg.entries.append
        sid = st.session_id
        t = time.time()
        n = first = lg.number  # the entries' numbers (as UserLog.add gives them), stored once at the end
        beats = 0
        for ev in events:
            cls = type(ev)
            if cls is RequestReceived:
                fr, msg = ev
                code = msg.__message__.code
                detail = ""
                if code in _DETAILED:
                    detail = request_detail(msg)[:64]
                    if code == "UO1":
                        st.asked_logout = True
                n += 1
                append((n, sid, t, "in", fr.kind, code, fr.request_id, 0, 0, 0, detail))
            elif cls is HeartbeatReceived:
                beats += 1
                st.last_heartbeat = now
                n += 1
                append((n, sid, t, "in", _HEARTBEAT, "UH1", 0, 0, 0, 0, ""))
            elif cls is Violation:
                st.rejects += 1
                if ev.status in THROTTLE_STATUSES:
                    st.throttled += 1
                n += 1
                append((n, sid, t, "in", "refused", ev.request_code, ev.request_id, int(ev.status), 0, 0,
                        ev.text[:64]))
        lg.number = n
        st.heartbeats += beats
        st.requests += n - first - beats  # every entry is a request, a refused frame or a heartbeat

    def rejected(self, conn: Any) -> None:
        if conn.stats is not None:
            conn.stats.rejects += 1

    def ending(self, conn: Any, status: int | None, text: str) -> None:
        """The server ends the session (logout answer, forced logout, idle, throttle, cut...)."""
        st = conn.stats
        if st is None:
            return
        self.log(st.user).add(st.session_id, "end", "", "", 0, int(status or 0), detail=text[:64])
        self._ended(conn, int(status or 0))
        conn.stats = None  # logged once: connection_lost finds nothing more to say

    def lost(self, conn: Any, exc: Any) -> None:
        """The connection went away without the server ending it (the client closed or dropped it)."""
        st = conn.stats
        if st is None:
            return
        self.log(st.user).add(st.session_id, "end", "", "", 0, 0,
                              detail=(f"connection lost: {exc}" if exc else "closed by the client")[:64])
        self._ended(conn, 0)
        conn.stats = None

    def _ended(self, conn: Any, status: int) -> None:
        item = self._item(conn, conn.gw.loop.time(), conn.gw)
        item.update(ended=True, ended_at=wall(time.time())[:19], end_status=status,
                    logged_out_cleanly=conn.stats.asked_logout and status == St.LOGGED_OUT, faults=0)
        self.ended.append(item)

    def reset(self) -> None:
        """An operator reset (EC5): no session is watched any more."""
        self.watched.clear()

    # ------------------------------------------------------------ the operator's queries
    def sessions(self, gw: Any, user: str = "", ended: bool = False) -> list[dict]:
        now = gw.loop.time()
        out = []
        for conn in sorted(gw.connections, key=lambda c: c.session_id):
            st = conn.stats
            if st is None or conn.closing or (user and st.user != user):
                continue
            out.append(self._item(conn, now, gw))
        if ended:
            out += [dict(x) for x in self.ended if not user or x["user"] == user]
        return out

    def _item(self, conn: Any, now: float, gw: Any) -> dict:
        st = conn.stats
        m = conn.machine
        return dict(
            session_id=st.session_id, user=st.user, participant=st.participant, role=st.role, peer=st.peer[:48],
            connected_since=wall(st.since)[:19],
            last_heartbeat_ms=min(0xFFFFFFFF, int((now - st.last_heartbeat) * 1000)) if st.last_heartbeat
            else 0xFFFFFFFF,
            last_received_ms=min(0xFFFFFFFF, int(max(0.0, now - m.last_received) * 1000)),
            requests=st.requests, heartbeats=st.heartbeats, rejects=st.rejects, throttled=st.throttled,
            throttle_per_second=m.limits.throttle_per_second, faults=gw.faults.pending_count(conn),
            watched=gw.faults.recording(st.user))

    def activity(self, user: str, after: int = 0, limit: int = 0) -> tuple[int, list[tuple]]:
        lg = self.logs.get(user)
        if lg is None:
            return 0, []
        items = [e for e in lg.entries if e[0] > after]
        if limit:
            items = items[:limit]
        return lg.number, items
