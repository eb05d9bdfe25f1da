"""Trade registration (NDF, IRS, CCS and their PvP exchanges), rate fixings, MTM and rates:
the type-1 obligations and the market data the operator sets."""
from __future__ import annotations

import string
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from ..core import Context, Outcome
from ..errors import INVALID_VALUE, ClearingError
from . import errors as E
from .arithmetic import accrual, ndf_settlement_amount
from .commands import RegisterCcs, RegisterIrs, RegisterNdf, SetFxRate, SetMtm, SetPaiRate, SetRateFixing
from .events import FxRateSet, MtmSet, OtcTradeRegistered, PaiRateSet, PvpStatusChanged, RateFixingSet
from .model import Fixing, Pvp, SettlementItem, SettlementType as T, Trade
from .params import at


PAY, RECEIVE = "PAY", "RECEIVE"
_PRINTABLE = set(string.ascii_letters + string.digits + "-_./:")
_MAX_RATE = Decimal(1000000)


class _Leg:
    """A swap leg seen from the member: sign -1 = the member pays its coupons."""

    __slots__ = ("name", "currency", "notional", "fixed_rate", "spread", "day_count", "sign")

    def __init__(self, name: str, currency: str, notional: int, fixed_rate: Decimal | None, spread: Decimal,
                 day_count: str):
        self.name, self.currency, self.notional = name, currency, notional
        self.fixed_rate, self.spread, self.day_count = fixed_rate, spread, day_count
        self.sign = -1 if name == PAY else 1




class TradesMixin:
    """Part of :class:`OtcClearModule`: trades, fixings, MTM and rates."""

    # ================================================================ trades
    def _register_common(self, cmd: Any, ctx: Context) -> tuple[str, str]:
        ctx.require_operator()
        self._new_trade_id(cmd.trade_id)
        member = self._member(ctx, cmd.member)
        self._account(member, cmd.account)
        return member, cmd.account

    def _finish_registration(self, trade: Trade, ctx: Context, events: list) -> Outcome:
        fee = self.p.clearing_fee[trade.product]
        _, ev = self._add_item(T.FEES, trade.member, "", self.p.fee_currency, -fee, self._fee_date(), ctx.now,
                               trade_id=trade.trade_id, description=f"clearing fee {trade.product}")
        return Outcome(trade, [OtcTradeRegistered(trade.member, trade)] + events + ev)

    def _register_ndf(self, cmd: RegisterNdf, ctx: Context) -> Outcome:
        member, account = self._register_common(cmd, ctx)
        if cmd.direction not in ("BUY", "SELL"):
            raise ClearingError(E.INVALID_DIRECTION, str(cmd.direction), field="direction")
        for f in ("base_currency", "quote_currency"):
            c = getattr(cmd, f)
            if not isinstance(c, str) or len(c) != 3 or not c.isalpha() or not c.isupper():
                raise ClearingError(E.INVALID_CURRENCY_PAIR, repr(c), field=f)
        if cmd.base_currency == cmd.quote_currency:
            raise ClearingError(E.INVALID_CURRENCY_PAIR, cmd.base_currency, field="quote_currency")
        if cmd.settlement_currency not in (cmd.base_currency, cmd.quote_currency):
            raise ClearingError(E.INVALID_CURRENCY_PAIR, cmd.settlement_currency, field="settlement_currency")
        self._currency(cmd.settlement_currency, "settlement_currency")
        self._positive(cmd.notional, "notional")
        self._rate(cmd.contract_rate, "contract_rate", positive=True)
        if cmd.fixing_date > cmd.settlement_date:
            raise ClearingError(E.INVALID_FIXING_DATE, cmd.fixing_date.isoformat(), field="fixing_date")
        self._future(self._pay_date(cmd.settlement_date), "settlement_date")
        trade = Trade(cmd.trade_id, "NDF", member, account, cmd.settlement_currency, ctx.now, cmd)
        self.trades[trade.trade_id] = trade
        self.mtm[trade.trade_id] = 0
        return self._finish_registration(trade, ctx, [])

    def _register_irs(self, cmd: RegisterIrs, ctx: Context) -> Outcome:
        member, account = self._register_common(cmd, ctx)
        if cmd.direction not in ("PAY_FIXED", "RECEIVE_FIXED"):
            raise ClearingError(E.INVALID_DIRECTION, str(cmd.direction), field="direction")
        self._currency(cmd.currency, "currency")
        self._positive(cmd.notional, "notional")
        self._rate(cmd.fixed_rate, "fixed_rate")
        self._rate(cmd.float_spread, "float_spread")
        self._day_count(cmd.day_count, cmd.currency, "day_count")
        self._schedule(cmd.effective_date, cmd.coupon_dates)
        trade = Trade(cmd.trade_id, "IRS", member, account, cmd.currency, ctx.now, cmd)
        return self._store_swap(trade, ctx)

    def _register_ccs(self, cmd: RegisterCcs, ctx: Context) -> Outcome:
        member, account = self._register_common(cmd, ctx)
        self._currency(cmd.pay_currency, "pay_currency")
        self._currency(cmd.receive_currency, "receive_currency")
        if cmd.pay_currency == cmd.receive_currency:
            raise ClearingError(E.CCS_SAME_CURRENCY, cmd.pay_currency, field="receive_currency")
        self._positive(cmd.pay_notional, "pay_notional")
        self._positive(cmd.receive_notional, "receive_notional")
        for f in ("pay_fixed_rate", "receive_fixed_rate"):
            if getattr(cmd, f) is not None:
                self._rate(getattr(cmd, f), f)
        self._rate(cmd.pay_spread, "pay_spread")
        self._rate(cmd.receive_spread, "receive_spread")
        self._day_count(cmd.pay_day_count, cmd.pay_currency, "pay_day_count")
        self._day_count(cmd.receive_day_count, cmd.receive_currency, "receive_day_count")
        if cmd.valuation_currency not in (cmd.pay_currency, cmd.receive_currency):
            raise ClearingError(E.INVALID_VALUATION_CURRENCY, str(cmd.valuation_currency), field="valuation_currency")
        self._schedule(cmd.effective_date, cmd.coupon_dates)
        if cmd.initial_exchange:
            self._future(self._pay_date(cmd.effective_date), "effective_date")
        trade = Trade(cmd.trade_id, "CCS", member, account, cmd.valuation_currency, ctx.now, cmd)
        out = self._store_swap(trade, ctx)
        events: list = []
        if cmd.initial_exchange:  # member lends the RECEIVE currency, borrows the PAY currency
            events += self._add_pvp(trade, "INITIAL", self._pay_date(cmd.effective_date), ctx.now,
                                    cmd.receive_currency, cmd.receive_notional, cmd.pay_currency, cmd.pay_notional)
        if cmd.final_exchange:
            events += self._add_pvp(trade, "FINAL", self._pay_date(cmd.coupon_dates[-1]), ctx.now,
                                    cmd.pay_currency, cmd.pay_notional, cmd.receive_currency, cmd.receive_notional)
        out.events[1:1] = events
        return out

    def _store_swap(self, trade: Trade, ctx: Context) -> Outcome:
        self.trades[trade.trade_id] = trade
        self.mtm[trade.trade_id] = 0
        events: list = []
        for leg in self._legs(trade):  # fixed coupons are known now; floating ones at their fixing
            if leg.fixed_rate is None:
                continue
            for start, end in self._periods(trade):
                events += self._coupon(trade, leg, start, end, leg.fixed_rate, ctx.now)[1]
        return self._finish_registration(trade, ctx, events)

    def _legs(self, trade: Trade) -> list[_Leg]:
        t = trade.terms
        if trade.product == "IRS":
            fixed = PAY if t.direction == "PAY_FIXED" else RECEIVE
            floating = RECEIVE if fixed == PAY else PAY
            dc = self._day_count(t.day_count, t.currency, "day_count")
            legs = [_Leg(fixed, t.currency, t.notional, t.fixed_rate, Decimal(0), dc),
                    _Leg(floating, t.currency, t.notional, None, t.float_spread, dc)]
            return sorted(legs, key=lambda leg: leg.name)
        if trade.product == "CCS":
            return [_Leg(PAY, t.pay_currency, t.pay_notional, t.pay_fixed_rate, t.pay_spread,
                         self._day_count(t.pay_day_count, t.pay_currency, "pay_day_count")),
                    _Leg(RECEIVE, t.receive_currency, t.receive_notional, t.receive_fixed_rate, t.receive_spread,
                         self._day_count(t.receive_day_count, t.receive_currency, "receive_day_count"))]
        return []

    @staticmethod
    def _periods(trade: Trade) -> list[tuple[date, date]]:
        t = trade.terms
        starts = (t.effective_date,) + tuple(t.coupon_dates[:-1])
        return list(zip(starts, t.coupon_dates))

    def _coupon(self, trade: Trade, leg: _Leg, start: date, end: date, rate: Decimal,
                now: datetime) -> tuple[SettlementItem, list]:
        days = (end - start).days
        basis = self.p.basis(leg.day_count)
        amount = leg.sign * accrual(leg.notional, rate, days, basis)
        desc = f"{trade.product} {leg.name} {start:%Y%m%d}-{end:%Y%m%d} {days}/{basis} @{rate}"
        return self._add_item(T.OBLIGATION, trade.member, trade.account, leg.currency, amount,
                              self._pay_date(end), now, trade_id=trade.trade_id, description=desc)

    def _add_pvp(self, trade: Trade, exchange: str, value_date: date, now: datetime, pay_ccy: str, pay_amt: int,
                 rcv_ccy: str, rcv_amt: int) -> list:
        pvp_id = self.next_pvp
        self.next_pvp += 1
        settle_at = at(value_date, self._cut(value_date).pvp_settlement)
        events: list = []
        ids = []
        for ccy, signed in ((pay_ccy, -pay_amt), (rcv_ccy, rcv_amt)):
            item, ev = self._add_item(T.CCS_EXCHANGE, trade.member, trade.account, ccy, signed, value_date, now,
                                      trade_id=trade.trade_id, description=f"CCS {exchange} exchange")
            ins, ev2 = self._add_instruction(trade.member, trade.account, (T.CCS_EXCHANGE,), ccy, signed,
                                             value_date, now, now, settle_at, (item.item_id,),
                                             pvp_id=pvp_id)
            events += ev + ev2
            ids.append(ins.instruction_id)
        pvp = Pvp(pvp_id, trade.trade_id, exchange, trade.member, trade.account, value_date, pay_ccy, pay_amt,
                  rcv_ccy, rcv_amt, ids[0], ids[1])
        self.pvps[pvp_id] = pvp
        return events + [PvpStatusChanged(trade.member, pvp)]

    # ------------------------------------------------------------ fixings and MTM
    def _set_fixing(self, cmd: SetRateFixing, ctx: Context) -> Outcome:
        ctx.require_operator()
        trade = self._trade(cmd.trade_id)
        t = trade.terms
        if trade.product == "NDF":
            if cmd.leg:
                raise ClearingError(E.LEG_NOT_FLOATING, str(cmd.leg), field="leg")
            if cmd.fixing_date != t.fixing_date:
                raise ClearingError(E.NOT_A_FIXING_DATE, str(cmd.fixing_date), field="fixing_date")
            rate = self._rate(cmd.rate, "rate", positive=True)
            pay_date = self._pay_date(t.settlement_date)
            leg = None
        else:
            floating = [leg for leg in self._legs(trade) if leg.fixed_rate is None]
            if cmd.leg == "" and len(floating) == 1:
                leg = floating[0]
            else:
                leg = next((x for x in floating if x.name == cmd.leg), None)
                if leg is None:
                    raise ClearingError(E.LEG_NOT_FLOATING, str(cmd.leg), field="leg")
            if cmd.fixing_date not in t.coupon_dates:
                raise ClearingError(E.NOT_A_FIXING_DATE, str(cmd.fixing_date), field="fixing_date")
            rate = self._rate(cmd.rate, "rate")
            pay_date = self._pay_date(cmd.fixing_date)
        key = (trade.trade_id, leg.name if leg else "", cmd.fixing_date)
        if key in self.fixings:
            raise ClearingError(E.FIXING_ALREADY_SET, str(cmd.fixing_date), field="fixing_date")
        if pay_date <= self.business_date:
            raise ClearingError(E.NETTING_CLOSED, pay_date.isoformat(), field="fixing_date")
        fixing = Fixing(trade.trade_id, key[1], cmd.fixing_date, rate, ctx.now)
        self.fixings[key] = fixing
        events: list = [RateFixingSet(trade.member, fixing)]
        if leg is None:
            amount = ndf_settlement_amount(t.notional, t.direction == "BUY", t.contract_rate, rate,
                                           t.settlement_currency == t.base_currency)
            desc = f"NDF {t.direction} {t.base_currency}{t.quote_currency} K={t.contract_rate} F={rate}"
            item, ev = self._add_item(T.OBLIGATION, trade.member, trade.account, t.settlement_currency, amount,
                                      pay_date, ctx.now, trade_id=trade.trade_id, description=desc)
        else:
            start = dict((e, s) for s, e in self._periods(trade))[cmd.fixing_date]
            item, ev = self._coupon(trade, leg, start, cmd.fixing_date, rate + leg.spread, ctx.now)
        return Outcome(item, events + ev)

    def _set_mtm(self, cmd: SetMtm, ctx: Context) -> Outcome:
        ctx.require_operator()
        trade = self._trade(cmd.trade_id)
        if type(cmd.mtm) is not int:
            raise ClearingError(INVALID_VALUE, repr(cmd.mtm), field="mtm")
        self.mtm[trade.trade_id] = cmd.mtm
        return Outcome(None, [MtmSet(trade.member, trade.trade_id, trade.valuation_currency, cmd.mtm, ctx.now)])

    def _set_pai_rate(self, cmd: SetPaiRate, ctx: Context) -> Outcome:
        ctx.require_operator()
        self._currency(cmd.currency, "currency")
        rate = self._rate(cmd.rate, "rate")
        self._set_dated(self.pai_rates, cmd.currency, rate)
        return Outcome(None, [PaiRateSet(cmd.currency, rate, self.business_date)])

    def _set_fx_rate(self, cmd: SetFxRate, ctx: Context) -> Outcome:
        ctx.require_operator()
        self._currency(cmd.currency, "currency")
        rate = self._rate(cmd.rate, "rate", positive=True)
        self._set_dated(self.fx_rates, cmd.currency, rate)
        return Outcome(None, [FxRateSet(cmd.currency, rate, self.business_date)])

    def _set_dated(self, table: dict, currency: str, rate: Decimal) -> None:
        rows = [r for r in table.get(currency, []) if r[0] != self.business_date]
        rows.append((self.business_date, rate))
        table[currency] = sorted(rows)
