"""The certifier's sessions on the gateway: the operator (faults, the clearing house's actions and the
record of the client's session) and the counterparty participant. Both are SDK clients.

The client under test is never logged in as: what it does is read from the gateway's activity log
of its user (EQ611), kept in :attr:`Observer.entries` in arrival order.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timezone

from clients import Client
from protocol.messages import certify as mc


@dataclass(frozen=True, slots=True)
class Entry:
    """One frame of the client's sessions, as the gateway recorded it."""
    number: int
    session_id: int
    t: float            # UTC wall time, seconds since the epoch
    direction: str      # in, out, drop, dup, held, end
    kind: str
    code: str
    request_id: int
    status: int
    stream: int
    sequence: int
    detail: str

    def line(self) -> str:
        parts = [datetime.fromtimestamp(self.t, timezone.utc).strftime("%H:%M:%S.%f")[:-3], f"s{self.session_id}",
                 self.direction, self.kind, self.code or "-"]
        if self.request_id:
            parts.append(f"rid={self.request_id}")
        if self.status:
            parts.append(f"status={self.status}")
        if self.stream:
            parts.append(f"stream={self.stream} seq={self.sequence}")
        if self.detail:
            parts.append(self.detail)
        return " ".join(parts)


def _entry(x) -> Entry:
    t = datetime.strptime(x.time, "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=timezone.utc).timestamp()
    return Entry(x.number, x.session_id, t, x.direction, x.kind, x.code, x.request_id, x.status, x.stream,
                 x.sequence, x.detail)


class Observer:
    def __init__(self, host: str, port: int, user: str, operator: str, operator_password: str, counterparty: str,
                 counterparty_password: str, *, ssl=None, timeout: float = 10.0):
        self.host, self.port, self.user = host, port, user
        self.ssl = ssl
        self.timeout = timeout
        self._op_login = (operator, operator_password)
        self._cp_login = (counterparty, counterparty_password)
        self.op: Client | None = None
        self.cp: Client | None = None
        self.entries: list[Entry] = []
        self.latest = 0
        self.started = 0            # the user's last activity entry when the certification started
        self.heartbeat = 10.0       # the gateway's heartbeat interval, seconds (from the operator's login)
        self.idle_heartbeats = 3
        self.throttle = 0           # the client session's published request rate (from EQ610, once it logs in)

    async def _client(self, user: str, password: str) -> Client:
        c = Client(self.host, self.port, user, password, application_id="hkpost-certify/0.1",
                   request_timeout=self.timeout, ssl=self.ssl, forced=True)
        await c.connect()
        return c

    async def start(self) -> None:
        """Log in as the operator and start watching the client's user (what its sessions are sent
        is recorded from now on, at every login)."""
        self.op = await self._client(*self._op_login)
        lr = self.op.login_reply
        self.heartbeat = lr.heartbeat_interval_ms / 1000.0
        self.idle_heartbeats = lr.idle_heartbeats
        await self.op.request(mc.WatchUserRequest(user=self.user, on=True))
        ans = await self.op.request(mc.SessionActivityQuery(user=self.user, after=0, limit=1))
        self.latest = self.started = ans.latest  # what happened before the certification is not judged

    async def counterparty(self) -> Client:
        if self.cp is None:
            self.cp = await self._client(*self._cp_login)
        return self.cp

    async def poll(self) -> list[Entry]:
        ans = await self.op.request(mc.SessionActivityQuery(user=self.user, after=self.latest, limit=0))
        new = [_entry(x) for x in ans.items]
        if new and new[0].number > self.latest + 1 and self.latest:
            # the gateway keeps a bounded log: entries were dropped between two polls
            raise RuntimeError(f"the gateway's activity log of {self.user} overflowed between two polls "
                               f"(entries {self.latest + 1}-{new[0].number - 1} lost)")
        self.entries += new
        self.latest = max(self.latest, ans.latest)
        return new

    async def history(self) -> list[Entry]:
        """Every entry the gateway keeps for the user, also from before the certification started."""
        ans = await self.op.request(mc.SessionActivityQuery(user=self.user, after=0, limit=0))
        return [_entry(x) for x in ans.items]

    async def sessions(self) -> list:
        return list((await self.op.request(mc.SessionsQuery(user=self.user))).items)

    async def close(self) -> None:
        for c in (self.cp, self.op):
            if c is not None:
                try:
                    await asyncio.wait_for(c.close(), 2.0)
                except Exception:  # noqa: BLE001 - closing is best effort
                    pass
