"""A small driver for the OTC Clear core: operator and member contexts, business time, EOD."""
from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal

import pytest

from gateway.clearing.core import ClearingCore, Context, EndOfDay, SetBusinessTime
from gateway.refdata import calendar, otc_params
from gateway.clearing.errors import ClearingError
from gateway.clearing.otc import (OtcClearModule, PaymentInstructionsQuery, RegisterCcs, RegisterIrs, RegisterNdf,
                                  SettlementItemsQuery)

MON = date(2025, 3, 3)   # Monday; Tue 4, Wed 5, Thu 6, Fri 7 March 2025 are business days
START = datetime(2025, 3, 3, 8, 0)


def D(text: str) -> Decimal:
    return Decimal(text)


class Harness:
    def __init__(self, start: datetime = START, **module_kwargs):
        module_kwargs.setdefault("params", otc_params())
        self.core = ClearingCore(start, calendar(), [lambda c: OtcClearModule(c, **module_kwargs)])
        self.otc: OtcClearModule = self.core.module("otc")  # type: ignore[assignment]
        self.events: list = []

    # time
    @property
    def bd(self) -> date:
        return self.core.business_date

    def at(self, when: str | datetime, day: date | None = None) -> list:
        """Move business time to ``when`` (HH:MM on ``day``, default the business date)."""
        if isinstance(when, str):
            h, m = when.split(":")
            when = datetime.combine(day or self.bd, time(int(h), int(m)))
        out = self.core.execute(SetBusinessTime(when), self.op_ctx())
        self.events += out.events
        return out.events

    def eod(self, then: str | None = "07:00") -> list:
        """Run end of day at 19:00 of the business date, then move to ``then`` on the new date."""
        if self.core.now < datetime.combine(self.bd, time(19, 0)):
            self.at("19:00")
        out = self.core.execute(EndOfDay(), self.op_ctx())
        self.events += out.events
        evs = list(out.events)
        if then:
            evs += self.at(then)
        return evs

    # commands
    def op_ctx(self) -> Context:
        return Context(self.core.now, None, "operator", True)

    def ctx(self, member: str) -> Context:
        return Context(self.core.now, member, member.lower())

    def op(self, cmd):
        out = self.core.execute(cmd, self.op_ctx())
        self.events += out.events
        return out.reply

    def do(self, member: str, cmd):
        out = self.core.execute(cmd, self.ctx(member))
        self.events += out.events
        return out.reply

    def q(self, query, member: str | None = None):
        ctx = self.op_ctx() if member is None else self.ctx(member)
        return self.core.query(query, ctx)

    def rejects(self, code, fn, *args):
        """Assert a rejection with ``code`` and that nothing changed."""
        before = self.core.state_hash()
        with pytest.raises(ClearingError) as e:
            fn(*args)
        assert e.value.error is code, e.value
        assert self.core.state_hash() == before
        return e.value

    # shortcuts
    def items(self, member: str | None = None, **kw):
        return self.q(SettlementItemsQuery(**kw), member)

    def instructions(self, member: str | None = None, **kw):
        return self.q(PaymentInstructionsQuery(**kw), member)

    def ndf(self, trade_id="N1", member="OCM01", account="H", direction="BUY", notional=1_000_000_00,
            contract="7.2000", fixing_date=None, settlement_date=None, base="USD", quote="CNH", settle="USD"):
        sd = settlement_date or date(2025, 3, 7)
        return self.op(RegisterNdf(trade_id, member, account, direction, base, quote, notional, D(contract),
                                   fixing_date or sd, sd, settle))

    def irs(self, trade_id="I1", member="OCM01", account="H", direction="PAY_FIXED", currency="HKD",
            notional=100_000_000_00, fixed="0.0365", effective=date(2025, 3, 4),
            coupons=(date(2025, 6, 4), date(2025, 9, 4)), spread="0"):
        return self.op(RegisterIrs(trade_id, member, account, direction, currency, notional, D(fixed), effective,
                                   tuple(coupons), D(spread)))

    def ccs(self, trade_id="X1", member="OCM01", account="H", effective=date(2025, 3, 5),
            coupons=(date(2025, 9, 5), date(2026, 3, 5)), **kw):
        args = dict(pay_currency="CNH", pay_notional=72_000_000_00, receive_currency="USD",
                    receive_notional=10_000_000_00, valuation_currency="USD", pay_fixed_rate=D("0.025"),
                    receive_fixed_rate=D("0.045"))
        args.update(kw)
        return self.op(RegisterCcs(trade_id, member, account, effective_date=effective, coupon_dates=tuple(coupons),
                                   **args))

    def of_type(self, events, cls):
        return [e for e in events if isinstance(e, cls)]
