"""A reference back office built on the SDK: it passes every suite of the client certification.

    python -m conformance.reference_client --port 7600 --user CPA01 --password pass-CPA01

It is what ``certify-client`` expects of a participant's back office, written small:

* logs in, downloads its reference data (DQ101 classes, DQ102 series, CQ38 accounts) and subscribes
  to whole streams, so that the SDK sees every sequence number: a gap is recovered with UQ20, a
  broadcast that comes twice is delivered once, a dropped connection is resumed where it stopped;
* when the gateway ends its session (forced logout) it logs in again and asks with UQ20 for what
  was published meanwhile; a password that must be changed is changed (UC1), and the new one kept;
* takes up every give-up addressed to it (CC38) into its house account of the clearing house, once;
* meets a margin call (BF205) with a cash deposit of the amount called (FC202);
* paces its requests below the published throttle (80% of throttle_per_second);
* follows the certifier's instructions, the BI27 clearing messages that start with ``CERT``
  (docs/guides/certify-your-client.md): RELOGIN, PING, BURST, RECTIFY, EXERCISE.

Its flaws for the certification's own tests are switched on with ``flaws`` (a set of names, see
FLAWS): a reference that can be broken on purpose proves that each scenario can fail.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import structlog

from clients import Client, ClientError, RequestRejected
from conformance.certify.instructions import parse_instruction
from protocol.framing import encode_frame
from protocol.messages import collateral as mc
from protocol.messages import dcass as md
from protocol.messages import session as ms
from protocol.registry import encode_message
from protocol.status import SessionStatus as St
from protocol.streams import Stream

log = structlog.get_logger("reference-client")

STREAMS = (Stream.GENERAL, Stream.TRADES, Stream.CLEARING, Stream.COLLATERAL)
PACE = 0.8    # share of the published throttle the client allows itself
SLACK = 0.05  # seconds: network jitter between the client's clock and the gateway's windows
FLAWS = {
    "never-resumes": "after a lost connection it logs in afresh: no resume point, no recovery query",
    "ignores-gaps": "subscribes by message type, so its SDK cannot see sequence gaps (and never asks for them)",
    "ignores-give-ups": "does nothing with the give-ups addressed to it",
    "floods": "sends its requests as fast as it can, ignoring the published throttle",
    "silent": "sends no heartbeats",
}


@dataclass
class ReferenceData:
    clearing_house_of: dict = field(default_factory=dict)   # (market, commodity) -> HKCC / SEOCH
    series: dict = field(default_factory=dict)             # series symbol -> series key
    house: dict = field(default_factory=dict)              # clearing house -> house account id


class ReferenceBackOffice:
    def __init__(self, host: str, port: int, user: str, password: str, *, new_password: str = "",
                 flaws: set[str] | frozenset = frozenset(), ssl=None):
        unknown = set(flaws) - set(FLAWS)
        if unknown:
            raise ValueError(f"unknown flaw(s) {', '.join(sorted(unknown))} (known: {', '.join(FLAWS)})")
        self.host, self.port, self.user, self.password = host, port, user, password
        self.new_password = new_password
        self.flaws = set(flaws)
        self.ssl = ssl
        self.client: Client | None = None
        self.ref = ReferenceData()
        self.last: dict[int, tuple[int, int]] = {}   # stream -> (business date, last sequence processed)
        self.taken_up: set[int] = set()
        self.met_calls: set[tuple] = set()
        self.sessions = 0
        self.stopping = False
        self._sent: deque = deque()  # send times of the last second's requests

    # ------------------------------------------------------------ the life of the back office
    async def run(self) -> None:
        """Log in, work, log in again whenever the gateway ends the session; until ``stop()``."""
        delay = 0.2
        while not self.stopping:
            try:
                await self._session()
                delay = 0.2
            except (ClientError, OSError, asyncio.TimeoutError) as e:
                log.info("session_failed", error=str(e))
                await asyncio.sleep(delay)
                delay = min(2.0, delay * 2)

    def stop(self) -> None:
        self.stopping = True
        if self.client is not None:
            asyncio.get_running_loop().create_task(self.client.close())

    async def _session(self) -> None:
        auto = "never-resumes" not in self.flaws
        c = Client(self.host, self.port, self.user, self.password, application_id="hkpost-reference-backoffice/0.1",
                   forced=self.sessions > 0, auto_reconnect=auto, reconnect_delay=0.3, ssl=self.ssl,
                   heartbeats="silent" not in self.flaws)
        self.client = c
        await c.connect()
        self.sessions += 1
        if c.login_status == St.PASSWORD_MUST_CHANGE:
            new = self.new_password or _next_password(self.password)
            await c.request(ms.ChangePasswordRequest(old_password=self.password, new_password=new))
            self.password = c.password = new
            log.info("password_changed")
        await self._download(c)
        if "ignores-gaps" in self.flaws:
            from protocol.registry import all_specs
            items = [(s, spec.code, "") for s in STREAMS for spec in all_specs()
                     if spec.stream == s.name.lower()]
            statuses = await c.subscribe(*items)
        else:
            statuses = await c.subscribe(*STREAMS)
        missed = []
        if auto:  # a session after a forced logout: what was published meanwhile, by UQ20
            for st in statuses:
                mine = self.last.get(st.stream)
                if st.handle and mine and mine[1] < st.first_sequence - 1:
                    _, events = await c.recover(st.stream, mine[1] + 1, st.first_sequence - 1, mine[0])
                    missed += events
        for ev in missed:
            await self._broadcast(c, ev)
        while not self.stopping:
            # the SDK ends the iteration when the session is over for good (a logout, a forced logout);
            # a client that does not reconnect by itself must notice a lost connection on its own
            async for ev in c.broadcasts(timeout=None if auto else 0.2):
                await self._broadcast(c, ev)
                if self.stopping:
                    break
            if auto or not c.connected:
                break
        with contextlib.suppress(Exception):
            await c.close()

    async def _download(self, c: Client) -> None:
        classes = await self._ask(c, md.ClassesQuery())
        self.ref.clearing_house_of = {(k.market, k.commodity): k.clearing_house for k in classes.items}
        series = await self._ask(c, md.SeriesQuery())
        self.ref.series = {s.series_symbol: s.series for s in series.items}
        accounts = await self._ask(c, md.AccountsQuery())
        for a in accounts.items:
            if a.account_type == md.AccountType.HOUSE:
                self.ref.house.setdefault(a.clearing_house, a.account_id)

    async def _ask(self, c: Client, msg) -> Any:
        """A request within the published rate (unless the flaw says otherwise)."""
        if "floods" not in self.flaws:
            limit = c.login_reply.throttle_per_second if c.login_reply else 0
            if limit:
                # a sliding second: however the gateway's one-second windows fall, none holds more
                # than PACE x limit of these (the rest of the limit is room for the SDK's own requests)
                loop = asyncio.get_running_loop()
                sent = self._sent
                while len(sent) >= max(1, int(limit * PACE)):
                    wait = sent[0] + 1.0 + SLACK - loop.time()
                    if wait <= 0:
                        sent.popleft()
                        continue
                    await asyncio.sleep(wait)
                sent.append(loop.time())
        return await c.request(msg)

    # ------------------------------------------------------------ broadcasts
    async def _broadcast(self, c: Client, ev) -> None:
        seen = self.last.get(ev.stream)
        if seen is not None and (ev.business_date, ev.sequence) <= seen:
            return  # processed already (a replay overlapping a recovery)
        self.last[ev.stream] = (ev.business_date, ev.sequence)
        msg = ev.message
        try:
            if ev.code == "BD29":
                await self._give_up(c, msg.give_up)
            elif ev.code == "BF205":
                await self._margin_call(c, msg)
            elif ev.code == "BI27":
                order = parse_instruction([line.text for line in msg.lines])
                if order is not None:
                    await self._instruction(c, *order)
        except RequestRejected as e:
            log.warning("request_rejected", code=e.request_code, status=e.business_status or e.session_status,
                        text=e.text)

    async def _give_up(self, c: Client, g) -> None:
        if "ignores-give-ups" in self.flaws:
            return
        if g.receiver != self.user_participant(c) or g.state != md.GiveUpState.PENDING:
            return
        if g.give_up_number in self.taken_up:
            return
        self.taken_up.add(g.give_up_number)
        house = self.ref.house.get(self.ref.clearing_house_of.get((g.series.market, g.series.commodity), ""), "")
        if not house:
            await self._ask(c, md.RejectGiveUpRequest(give_up_number=g.give_up_number, reason="no account"))
            return
        await self._ask(c, md.ConfirmGiveUpRequest(give_up_number=g.give_up_number, items=[
            md.AllocationItem(account_id=house, quantity=g.quantity, open_close=md.OpenClose.OPEN)]))

    async def _margin_call(self, c: Client, call) -> None:
        if call.status == mc.CallStatus.MET or call.amount <= 0:
            return
        key = (call.clearing_house, call.account, call.currency, call.called_date, call.called_time, call.amount)
        if key in self.met_calls:
            return
        self.met_calls.add(key)
        await self._ask(c, mc.DepositCashRequest(clearing_house=call.clearing_house, account=call.account,
                                                 currency=call.currency, amount=call.amount))

    async def _instruction(self, c: Client, action: str, p: dict) -> None:
        log.info("instruction", action=action, params=p)
        if action == "PING":
            await self._ask(c, ms.BusinessDateQuery())
        elif action == "BURST":
            n = int(p.get("count", "1"))
            if "floods" in self.flaws:  # the SDK paces itself: a flood goes round it, in raw frames
                payload = encode_message(ms.BusinessDateQuery())
                c.send_raw(b"".join(encode_frame(ms.BusinessDateQuery.__message__.kind, payload, 1_000_000 + i)
                                    for i in range(n)))
                return
            for _ in range(n):
                await self._ask(c, ms.BusinessDateQuery())
        elif action == "RELOGIN":
            await c.close()  # logs out (UO1); the session loop logs in again
        elif action == "RECTIFY":
            items = []
            for part in p.get("items", "").split(","):
                acc, _, qty = part.partition(":")
                items.append(md.AllocationItem(account_id=acc, quantity=int(qty), open_close=md.OpenClose.OPEN))
            await self._ask(c, md.RectifyTradeRequest(trade_number=int(p["trade"]), items=items))
        elif action == "EXERCISE":
            key = self.ref.series[p["series"]]
            await self._ask(c, md.ExerciseRequest(series=key, account_id=p["account"], quantity=int(p["quantity"])))
        else:
            log.warning("unknown_instruction", action=action)

    def user_participant(self, c: Client) -> str:
        return c.login_reply.participant if c.login_reply else ""


def _next_password(old: str) -> str:
    """A new password within the policy (8-32 printable characters, not the old one)."""
    base = old if len(old) <= 28 else old[:28]
    n = 1
    while True:
        new = f"{base}-{n}"
        if new != old and len(new) >= 8:
            return new
        n += 1


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m conformance.reference_client",
                                description="The reference back office of the client certification")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=7600)
    p.add_argument("--user", default="CPA01")
    p.add_argument("--password", default="")
    p.add_argument("--new-password", default="", help="password to choose when the gateway asks for a change")
    p.add_argument("--flaw", action="append", default=[], choices=sorted(FLAWS),
                   help="break it on purpose (repeatable): " + "; ".join(f"{k}: {v}" for k, v in FLAWS.items()))
    a = p.parse_args(argv)
    bo = ReferenceBackOffice(a.host, a.port, a.user, a.password or f"pass-{a.user}", new_password=a.new_password,
                             flaws=set(a.flaw))

    async def go() -> None:
        loop = asyncio.get_running_loop()
        import signal
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, bo.stop)
        await bo.run()

    asyncio.run(go())
    return 0


if __name__ == "__main__":
    sys.exit(main())
