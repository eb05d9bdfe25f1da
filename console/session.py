"""One console session per browser login: its SDK client (logged in as that user), what it has
learned from the gateway's broadcasts (the day's trades, the coverage curve, business date and
time) and the browser sockets it pushes updates to.

No password is kept: the SDK client is logged in once, then its password is dropped and it does not
reconnect by itself (a lost connection ends the console session: log in again).
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import structlog

from clients import Client
from clients.errors import ClientError
from console import display
from protocol.messages import admin as ad
from protocol.messages import dcass as d
from protocol.messages import session as ms
from protocol.streams import Stream
from protocol.values import one_line, to_dict

log = structlog.get_logger("console")

ROLE_STREAMS = {
    "participant": (Stream.GENERAL, Stream.TRADES, Stream.CLEARING, Stream.COLLATERAL),
    "clearing_member": (Stream.GENERAL, Stream.SETTLEMENT),
    "operator": (Stream.GENERAL,),
}
ROLE_NAMES = {1: "participant", 2: "operator", 3: "clearing_member"}
TRADE_COLUMNS = ["trade_number", "deal_number", "series_symbol", "account_id", "side", "quantity", "deal_price",
                 "open_close", "state", "available_quantity", "deal_source", "created_time"]
TRADE_FORMATS = display.formats(d.TradeItem.__record__)


@dataclass
class CoveragePoint:
    time: str            # business time HHMMSS
    requirement: int     # cents, every collateral account of the participant
    covered: int         # cents of collateral value used against it


@dataclass
class ConsoleSession:
    id: str
    csrf: str
    user: str
    participant: str
    role: str
    profile: ad.UserProfile
    functions: int
    client: Client
    last_seen: float
    business_date: str = ""
    business_time: str = ""
    must_change_password: bool = False
    trades: dict[int, dict] = field(default_factory=dict)   # trade number -> row (in arrival order)
    coverage: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)
    curve: list[CoveragePoint] = field(default_factory=list)
    sockets: set = field(default_factory=set)
    forms: dict[str, dict] = field(default_factory=dict)    # message code -> {"values", "error"} after a refusal
    flash: list[tuple[str, str]] = field(default_factory=list)
    series: list | None = None          # the day's series: (symbol, series key as a dict), DQ102
    decimals: dict[str, tuple[int, int]] = field(default_factory=dict)  # symbol -> (price, strike decimals)
    pump: asyncio.Task | None = None
    connected: bool = True
    ended: bool = False
    seq: int = 0  # broadcasts folded so far: a page rendered at seq n that opens its socket later catches up

    def may(self, function) -> bool:
        return function is None or bool(int(function) & self.functions) or self.role == "operator"

    def touch(self) -> None:
        self.last_seen = time.monotonic()

    # ------------------------------------------------------------ broadcasts
    def add_trade(self, t) -> dict:
        row = flat(to_dict(t))
        self.trades[row["trade_number"]] = row
        return row

    def trade_cells(self, row: dict) -> list[str]:
        """A trade row as shown (money, prices with the series' decimals, dates and times)."""
        return [display.cell(TRADE_FORMATS, c, row, self.decimals) for c in TRADE_COLUMNS]

    def apply(self, b) -> dict | None:
        """Fold one broadcast into what the session shows; returns the push message (or None)."""
        msg = b.message
        code = msg.CODE
        if code != "BI9":
            self.seq += 1
        out: dict[str, Any] = {"type": "broadcast", "code": code, "text": one_line(msg)[:300], "seq": self.seq}
        if code == "BD6":
            row = self.add_trade(msg.trade)
            out.update(type="trade", row=row, cells=self.trade_cells(row))
        elif code == "BD39":
            row = self.trades.get(msg.trade_number)
            if row is not None:
                row.update(state=msg.state.name, available_quantity=msg.available_quantity)
                out.update(type="trade", row=row, cells=self.trade_cells(row))
        elif code == "BI30":
            self.business_date, self.business_time = msg.business_date, msg.business_time
            out.update(type="clock", business_date=self.business_date, business_time=self.business_time, rolled=True)
            self.trades.clear()
        elif code == "BI9":
            self.business_time = msg.business_time
            return {"type": "clock", "business_date": self.business_date, "business_time": self.business_time}
        elif code == "BF204":
            self.fold_coverage(msg, self.business_time)
        return out

    def fold_coverage(self, msg, when: str) -> None:
        req = sum(i.requirement for i in msg.items)
        cov = sum(i.covered_settlement_cash + i.covered_other_cash + i.covered_non_cash for i in msg.items)
        self.coverage[(msg.clearing_house, msg.account)] = (req, cov)
        total_r = sum(r for r, _ in self.coverage.values())
        total_c = sum(c for _, c in self.coverage.values())
        self.curve.append(CoveragePoint(when, total_r, total_c))
        del self.curve[:-500]

    async def push(self, message: dict) -> None:
        if not self.sockets:
            return
        text = json.dumps(message)
        for ws in list(self.sockets):
            try:
                await ws.send_str(text)
            except (ConnectionError, RuntimeError):
                self.sockets.discard(ws)

    async def run_pump(self) -> None:
        """Every broadcast of the user's streams, folded and pushed to the open pages."""
        try:
            async for b in self.client.broadcasts():
                await self.push(self.apply(b))
        finally:
            self.connected = False
            if not self.ended:
                log.info("console_gateway_lost", user=self.user)
                with contextlib.suppress(Exception):
                    await self.push({"type": "status", "connected": False})

    async def close(self) -> None:
        """Log out of the gateway (the SDK session ends) and close the browser sockets."""
        self.ended = True
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.client.close(), 3)
        if self.pump is not None:
            self.pump.cancel()
        for ws in list(self.sockets):
            with contextlib.suppress(Exception):
                await ws.close(message=b"logged out")
        self.sockets.clear()


async def load_series(s: ConsoleSession) -> dict[str, dict]:
    """The day's series by symbol (DQ102), asked once per session, with their price decimals."""
    if s.series is None:
        try:
            items = (await s.client.query(d.SeriesQuery())).items
        except ClientError:
            items = []
        s.series = [(i.series_symbol, to_dict(i.series)) for i in items]
        s.decimals = {i.series_symbol: (i.price_decimals, i.strike_decimals) for i in items}
    return dict(s.series)


def flat(d: dict, prefix: str = "") -> dict:
    """A row of a table: nested records flattened with dotted names, enums by name."""
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(flat(v, f"{prefix}{k}."))
        elif isinstance(v, list):
            out[prefix + k] = v
        else:
            out[prefix + k] = v
    return out


async def open_session(settings, user: str, password: str) -> ConsoleSession:
    """Log in to the gateway as ``user`` (raises the SDK's LoginRejected with the gateway's codes)."""
    ssl = None
    if settings.gateway_tls:
        import ssl as _ssl
        ssl = _ssl.create_default_context()
    c = Client(settings.gateway_host, settings.gateway_port, user, password, application_id="hkpost-console/0.1",
               auto_reconnect=False, request_timeout=settings.request_timeout, ssl=ssl)
    await c.connect()
    c.password = ""  # never kept after login
    lr = c.login_reply
    s = ConsoleSession(id=secrets.token_urlsafe(32), csrf=secrets.token_urlsafe(32), user=lr.user,
                       participant=lr.participant, role=ROLE_NAMES.get(int(lr.role), "participant"),
                       profile=ad.UserProfile.FULL, functions=0, client=c, last_seen=time.monotonic(),
                       business_date=lr.business_date)
    from protocol.status import SessionStatus as St
    s.must_change_password = c.login_status == St.PASSWORD_MUST_CHANGE
    if not s.must_change_password:
        await start(s)
    return s


async def start(s: ConsoleSession) -> None:
    """After a usable login: who the user is, the day so far, then live broadcasts."""
    c = s.client
    me = [u for u in (await c.query(ad.UsersQuery(user=s.user))).items if u.user == s.user]
    if me:
        s.profile, s.functions = me[0].profile, me[0].functions
    elif s.role == "operator":
        s.profile, s.functions = ad.UserProfile.OPERATOR, int(ad.PROFILE_FUNCTIONS[ad.UserProfile.OPERATOR])
    bd = await c.query(ms.BusinessDateQuery())
    s.business_date, s.business_time = bd.business_date, bd.business_time
    await c.subscribe(*ROLE_STREAMS[s.role])
    if s.role == "participant":
        await load_series(s)   # prices shown with their series' decimals
        if s.may(ad.UserFunction.ENQUIRY):
            with contextlib.suppress(ClientError):
                for t in (await c.query(d.TradesQuery())).items:
                    s.add_trade(t)
        with contextlib.suppress(ClientError):  # the coverage curve so far, from the day's broadcasts
            _, events = await c.recover(Stream.COLLATERAL, 1)
            for e in events:
                if e.message.CODE == "BF204":
                    s.fold_coverage(e.message, "")
    s.pump = asyncio.get_running_loop().create_task(s.run_pump())
