"""Shared fixtures: a core with the DCASS module at a fixed business time."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest

from gateway.clearing.core import ClearingCore, Context, EndOfDay, SetBusinessTime, canonical_json
from gateway.clearing.errors import ClearingError
from gateway.clearing.dcass import DcassModule, InjectDeal, OpenClose, PositionsQuery
from gateway.refdata import calendar, dcass_factory

START = datetime(2026, 11, 2, 9, 0)   # Monday 2 November 2026


class Env:
    def __init__(self, start: datetime = START):
        self.core = ClearingCore(start, calendar(), [dcass_factory()])
        self.d: DcassModule = self.core.module("dcass")
        self.now = start

    # time
    def at(self, hh: int, mm: int = 0, ss: int = 0) -> "Env":
        self.now = datetime.combine(self.core.business_date, time(hh, mm, ss))
        return self

    def tick(self, seconds: int = 1) -> None:
        self.now += timedelta(seconds=seconds)

    # calls
    def op(self, cmd):
        self.tick()
        return self.core.execute(cmd, Context(self.now, None, "op", True))

    def cp(self, participant: str, cmd):
        self.tick()
        return self.core.execute(cmd, Context(self.now, participant, participant.lower()))

    def q(self, query, participant: str | None = None):
        ctx = Context(self.now, participant, "", participant is None)
        return self.core.query(query, ctx)

    def eod(self):
        self.tick()
        return self.core.execute(EndOfDay(), Context(self.now, None, "op", True))

    def set_time(self, when: datetime):
        self.now = when
        return self.core.execute(SetBusinessTime(when), Context(when, None, "op", True))

    # data
    def key(self, name: str) -> bytes:
        return self.d.ref.by_name[name].key

    def deal(self, name: str, price: int, qty: int, buyer: str, seller: str, buyer_account: str = "",
             seller_account: str = "", boc: OpenClose = OpenClose.OPEN, soc: OpenClose = OpenClose.OPEN):
        return self.op(InjectDeal(self.key(name), price, qty, buyer, seller, buyer_account, seller_account,
                                  boc, soc)).reply

    def pos(self, participant: str, account_id: str, name: str):
        rows = self.q(PositionsQuery(participant, account_id, self.key(name)))
        return rows[0] if rows else None

    def ls(self, participant: str, account_id: str, name: str) -> tuple[int, int]:
        p = self.pos(participant, account_id, name)
        return (p.long, p.short) if p else (0, 0)

    def rejects(self, error, call, *args):
        """``call(*args)`` must raise ``error`` and change nothing in the module state."""
        before = canonical_json(self.d.snapshot())
        with pytest.raises(ClearingError) as ei:
            call(*args)
        assert ei.value.error == error, f"{ei.value.error.name} != {error.name}: {ei.value}"
        assert canonical_json(self.d.snapshot()) == before
        return ei.value


@pytest.fixture
def env() -> Env:
    e = Env()
    e.at(10)
    return e


def events_of(out, cls):
    return [e for e in out.events if isinstance(e, cls)]


__all__ = ["Env", "START", "env", "events_of", "date"]
