"""OTC Clear settlement: the pure core module (see docs/guides/otc-clear.md).

Trades, settlement items (one computed amount of one settlement type), payment instructions (what
is actually paid, with bank and sub-account) and PvP exchanges. Types 1, 2 and 3 of one member
account, currency and settlement date are netted into one instruction at the start of that
business day; every other type gives one instruction per item. Cut-offs run from ``on_time``.
"""
from __future__ import annotations

import functools
import string
from dataclasses import replace
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, Callable, Iterable

from ..core import Context, Module, Outcome
from ..errors import ACTING_FOR_OTHER, INVALID_VALUE, NOT_AUTHORISED, NOT_BUSINESS_DAY, UNKNOWN_PARTICIPANT, ClearingError
from . import errors as E
from .arithmetic import accrual, ceil_minor, floor_minor, ndf_settlement_amount, price_alignment_interest
from .commands import (ChargeFee, ConfirmPayment, DepositNonCash, IssueParticipatingMarginCall, MarkPaymentSettled,
                       RegisterCcs, RegisterIrs, RegisterNdf, RequestCashDeposit, RequestCashWithdrawal,
                       RunIntradayVmCall, SetFxRate, SetGuaranteeFundRequirement, SetMarginRequirement, SetMtm,
                       SetPaiRate, SetRateFixing, SubmitPvpInstruction, WithdrawNonCash)
from .events import (FxRateSet, GuaranteeFundRequirementSet, MarginRequirementSet, MtmSet, NonCashCollateralMoved,
                     OtcTradeRegistered, PaiRateSet, PaymentInstructionIssued, PaymentLate, PaymentSettled,
                     PvpStatusChanged, RateFixingSet, SettlementItemCreated)
from .model import (NETTED_TYPES, CollateralAccount, Direction, Fixing, PaymentInstruction, PaymentState, Pvp,
                    PvpState, SettlementItem, SettlementType as T, Trade)
from .params import HOUSE, Account, Params, load
from .queries import (CollateralAnswer, CollateralHolding, CollateralQuery, GuaranteeFundAnswer, GuaranteeFundQuery, OtcMembersQuery,
                      OtcRatesQuery, OtcTradesQuery, PaymentInstructionsQuery, PvpQuery, RatesAnswer, RoutingRow,
                      SettlementAccountsQuery, SettlementItemsQuery, TradeAnswer)

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


def _at(d: date, t: time) -> datetime:
    return datetime.combine(d, t)


class OtcClearModule(Module):
    """OTC Clear settlement. ``participating_margin`` (settlement type 10) defaults to the data
    file's option (off); pass True through a factory to enable it."""

    name = "otc"

    def __init__(self, core, participating_margin: bool | None = None, params: Params | None = None):
        super().__init__(core)
        self.p = params or load()
        self.participating_margin = (self.p.participating_margin if participating_margin is None
                                     else bool(participating_margin))
        self.trades: dict[str, Trade] = {}
        self.mtm: dict[str, int] = {}
        self.covered_mtm: dict[tuple[str, str, str], int] = {}  # (member, account, ccy): MTM settled by VM
        self.fixings: dict[tuple[str, str, date], Fixing] = {}
        self.items: dict[int, SettlementItem] = {}
        self.instructions: dict[int, PaymentInstruction] = {}
        self.pvps: dict[int, Pvp] = {}
        self.collateral: dict[tuple[str, str], CollateralAccount] = {}
        self.gf_requirement: dict[str, int] = {}
        self.gf_balance: dict[str, int] = {}
        self.pai_rates: dict[str, list[tuple[date, Decimal]]] = {}  # operator-set, on top of the data
        self.fx_rates: dict[str, list[tuple[date, Decimal]]] = {}
        self.next_item = 1
        self.next_instruction = 1
        self.next_pvp = 1
        self._wake: datetime | None = None  # derived: earliest scheduled action (None = recompute)

    # ================================================================ contract
    def commands(self) -> dict[type, Callable[[Any, Context], Outcome]]:
        handlers = {
            RegisterNdf: self._register_ndf, RegisterIrs: self._register_irs, RegisterCcs: self._register_ccs,
            SetRateFixing: self._set_fixing, SetMtm: self._set_mtm, SetPaiRate: self._set_pai_rate,
            SetFxRate: self._set_fx_rate, RunIntradayVmCall: self._intraday_vm_call,
            SetMarginRequirement: self._set_margin, SetGuaranteeFundRequirement: self._set_gf,
            ChargeFee: self._charge_fee, IssueParticipatingMarginCall: self._participating_margin_call,
            MarkPaymentSettled: self._mark_settled, ConfirmPayment: self._confirm_payment,
            SubmitPvpInstruction: self._submit_pvp, RequestCashDeposit: self._cash_deposit,
            RequestCashWithdrawal: self._cash_withdrawal, DepositNonCash: self._deposit_non_cash,
            WithdrawNonCash: self._withdraw_non_cash,
        }
        return {t: self._rescheduling(h) for t, h in handlers.items()}

    def queries(self) -> dict[type, Callable[[Any, Context], Any]]:
        return {
            OtcMembersQuery: self._q_members, OtcTradesQuery: self._q_trades,
            SettlementItemsQuery: self._q_items, PaymentInstructionsQuery: self._q_instructions,
            PvpQuery: self._q_pvps, CollateralQuery: self._q_collateral, GuaranteeFundQuery: self._q_gf,
            SettlementAccountsQuery: self._q_accounts, OtcRatesQuery: self._q_rates,
        }

    def _rescheduling(self, handler: Callable[[Any, Context], Outcome]) -> Callable[[Any, Context], Outcome]:
        @functools.wraps(handler)
        def run(cmd: Any, ctx: Context) -> Outcome:
            self._wake = None
            return handler(cmd, ctx)
        return run

    # ================================================================ helpers
    @property
    def business_date(self) -> date:
        return self.core.business_date

    @property
    def calendar(self):
        return self.core.calendar

    def _member(self, ctx: Context, member: str, field: str = "member") -> str:
        """The member a request acts for; members may act only for themselves."""
        if ctx.operator:
            if member not in self.p.members:
                raise ClearingError(UNKNOWN_PARTICIPANT, member, field=field)
            return member
        if ctx.participant not in self.p.members:
            raise ClearingError(NOT_AUTHORISED, "not an OTC Clear clearing member", field=field)
        if member and member != ctx.participant:
            raise ClearingError(ACTING_FOR_OTHER, member, field=field)
        return ctx.participant

    def _scope(self, ctx: Context, member: str) -> str | None:
        """Query scope: a member id, or None for the operator's view of every member."""
        if ctx.operator and not member:
            return None
        return self._member(ctx, member)

    def _account(self, member: str, account: str, field: str = "account") -> Account:
        acc = self.p.members[member].account(account)
        if acc is None:
            raise ClearingError(E.UNKNOWN_ACCOUNT, f"{member}/{account}", field=field)
        return acc

    def _kind(self, member: str, account: str) -> str:
        acc = self.p.members[member].account(account)
        return acc.kind if acc else HOUSE

    def _currency(self, c: str, field: str) -> str:
        if c not in self.p.currencies:
            raise ClearingError(E.CURRENCY_NOT_SUPPORTED, c, field=field)
        return c

    @staticmethod
    def _positive(v: Any, field: str) -> int:
        if type(v) is not int or v <= 0:
            raise ClearingError(E.AMOUNT_NOT_POSITIVE, repr(v), field=field)
        return v

    @staticmethod
    def _not_negative(v: Any, field: str) -> int:
        if type(v) is not int or v < 0:
            raise ClearingError(E.AMOUNT_NEGATIVE, repr(v), field=field)
        return v

    @staticmethod
    def _rate(v: Any, field: str, positive: bool = False) -> Decimal:
        if isinstance(v, bool) or not isinstance(v, (Decimal, int)):
            raise ClearingError(E.INVALID_RATE, repr(v), field=field)
        d = Decimal(v)
        if not d.is_finite() or abs(d) >= _MAX_RATE or (positive and d <= 0):
            raise ClearingError(E.INVALID_RATE, str(v), field=field)
        return d

    def _day_count(self, dc: str, currency: str, field: str) -> str:
        if not dc:
            return self.p.day_count[currency]
        if dc not in ("ACT/365", "ACT/360"):
            raise ClearingError(E.INVALID_DAY_COUNT, dc, field=field)
        return dc

    def _new_trade_id(self, trade_id: Any) -> str:
        if not isinstance(trade_id, str) or not 1 <= len(trade_id) <= 20 or not set(trade_id) <= _PRINTABLE:
            raise ClearingError(E.INVALID_TRADE_ID, repr(trade_id), field="trade_id")
        if trade_id in self.trades:
            raise ClearingError(E.DUPLICATE_TRADE, trade_id, field="trade_id")
        return trade_id

    def _trade(self, trade_id: str, ctx: Context | None = None) -> Trade:
        t = self.trades.get(trade_id)
        if t is None:
            raise ClearingError(E.UNKNOWN_TRADE, str(trade_id), field="trade_id")
        if ctx is not None and not ctx.operator and t.member != ctx.participant:
            raise ClearingError(NOT_AUTHORISED, str(trade_id), field="trade_id")
        return t

    def _pay_date(self, d: date) -> date:
        """Payment date of a scheduled date: following business day convention."""
        return self.calendar.on_or_after(d)

    def _future(self, d: date, field: str) -> date:
        """A settlement date must be after the business date (whose netting has already run)."""
        if d <= self.business_date:
            raise ClearingError(E.DATE_NOT_FUTURE, d.isoformat(), field=field)
        return d

    def _schedule(self, effective: date, coupons: Any) -> tuple[date, ...]:
        if not isinstance(coupons, tuple) or not coupons or not all(isinstance(d, date) for d in coupons):
            raise ClearingError(E.INVALID_SCHEDULE, "coupon_dates must be a non-empty tuple of dates",
                                field="coupon_dates")
        prev = effective
        for d in coupons:
            if d <= prev:
                raise ClearingError(E.INVALID_SCHEDULE, d.isoformat(), field="coupon_dates")
            prev = d
        for d in coupons:
            self._future(self._pay_date(d), "coupon_dates")
        return coupons

    def _cut(self, d: date):
        return self.p.cutoffs(d)

    def _same_day_or_next(self, now: datetime, cutoff: time) -> date:
        """Settlement date of a request with a same-day cut-off (the cut-off minute is late)."""
        bd = self.business_date
        return bd if now < _at(bd, cutoff) else self.calendar.next_business_day(bd)

    # ------------------------------------------------------------ rates
    def pai_rate(self, currency: str, on: date) -> Decimal:
        return self._dated(self.pai_rates, currency, on) or self.p.default_pai_rate(currency, on)

    def fx_rate(self, currency: str, on: date) -> Decimal:
        return self._dated(self.fx_rates, currency, on) or self.p.default_fx_rate(currency, on)

    @staticmethod
    def _dated(table: dict, currency: str, on: date) -> Decimal | None:
        chosen = None
        for eff, rate in table.get(currency, ()):
            if eff <= on:
                chosen = rate
        return chosen

    # ------------------------------------------------------------ records
    def _add_item(self, type_: T, member: str, account: str, currency: str, amount: int, settlement_date: date,
                  now: datetime, available_at: datetime | None = None, trade_id: str = "",
                  description: str = "") -> tuple[SettlementItem, list]:
        available_at = available_at or now
        item = SettlementItem(self.next_item, type_, member, account, currency, amount, settlement_date, now,
                              available_at, trade_id, description[:80], published=available_at <= now)
        self.next_item += 1
        self.items[item.item_id] = item
        return item, ([SettlementItemCreated(member, item)] if item.published else [])

    def _add_instruction(self, member: str, account: str, types: Iterable[T], currency: str, signed: int,
                         settlement_date: date, now: datetime, available_at: datetime, due_at: datetime,
                         items: Iterable[int], pvp_id: int = 0) -> tuple[PaymentInstruction, list]:
        types = tuple(sorted(set(types)))
        kind = self._kind(member, account)
        route = self.p.routing(int(types[0]), kind, currency)
        ins = PaymentInstruction(
            self.next_instruction, member, account, kind, types, currency, abs(signed),
            Direction.RECEIVE if signed > 0 else Direction.PAY, settlement_date, available_at, due_at,
            route.bank_code, route.bank, route.sub_account, route.sub_account_name, route.beneficiary,
            tuple(items), now, pvp_id=pvp_id, published=available_at <= now)
        self.next_instruction += 1
        self.instructions[ins.instruction_id] = ins
        for i in ins.items:
            self.items[i] = replace(self.items[i], instruction_id=ins.instruction_id)
        return ins, ([PaymentInstructionIssued(member, ins)] if ins.published else [])

    def _single(self, type_: T, member: str, account: str, currency: str, signed: int, settlement_date: date,
                now: datetime, available_at: datetime, due_at: datetime, description: str,
                trade_id: str = "") -> tuple[PaymentInstruction, list]:
        """One item and its own payment instruction (every type except the netted 1-3)."""
        item, ev = self._add_item(type_, member, account, currency, signed, settlement_date, now, available_at,
                                  trade_id, description)
        ins, ev2 = self._add_instruction(member, account, (type_,), currency, signed, settlement_date, now,
                                         available_at, due_at, (item.item_id,))
        return ins, ev + ev2

    def _collateral(self, member: str, account: str) -> CollateralAccount:
        return self.collateral.get((member, account)) or CollateralAccount(member, account)

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
        at = _at(value_date, self._cut(value_date).pvp_settlement)
        events: list = []
        ids = []
        for ccy, signed in ((pay_ccy, -pay_amt), (rcv_ccy, rcv_amt)):
            item, ev = self._add_item(T.CCS_EXCHANGE, trade.member, trade.account, ccy, signed, value_date, now,
                                      trade_id=trade.trade_id, description=f"CCS {exchange} exchange")
            ins, ev2 = self._add_instruction(trade.member, trade.account, (T.CCS_EXCHANGE,), ccy, signed,
                                             value_date, now, now, at, (item.item_id,), pvp_id=pvp_id)
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

    # ================================================================ margin and VM
    def _groups(self, filter_member: str | None = None) -> dict[tuple[str, str, str], int]:
        """Current MTM per (member, account, valuation currency)."""
        out: dict[tuple[str, str, str], int] = {}
        for tid in sorted(self.trades):
            t = self.trades[tid]
            key = (t.member, t.account, t.valuation_currency)
            out[key] = out.get(key, 0) + self.mtm.get(tid, 0)
        for key in self.covered_mtm:
            out.setdefault(key, 0)
        return dict(sorted(out.items()))

    def _intraday_vm_call(self, cmd: RunIntradayVmCall, ctx: Context) -> Outcome:
        ctx.require_operator()
        bd = self.business_date
        cut = self._cut(bd)
        available = _at(bd, cut.intraday_vm_available)
        if ctx.now >= available:
            raise ClearingError(E.INTRADAY_CALL_CLOSED, f"{ctx.now} >= {available}")
        due = _at(bd, cut.intraday_vm_due)
        events: list = []
        issued = []
        for (member, account, ccy), current in self._groups().items():
            covered = self.covered_mtm.get((member, account, ccy), 0)
            if current >= covered:
                continue
            call = covered - current
            self.covered_mtm[(member, account, ccy)] = current
            ins, ev = self._single(T.INTRADAY_VM, member, account, ccy, -call, bd, ctx.now, available, due,
                                   f"intraday VM: MTM {current} vs covered {covered}")
            issued.append(ins.instruction_id)
            events += ev
        return Outcome(tuple(issued), events)

    def _set_margin(self, cmd: SetMarginRequirement, ctx: Context) -> Outcome:
        ctx.require_operator()
        member = self._member(ctx, cmd.member)
        self._account(member, cmd.account)
        self._not_negative(cmd.im_requirement, "im_requirement")
        self._not_negative(cmd.holiday_margin, "holiday_margin")
        acc = replace(self._collateral(member, cmd.account), im_requirement=cmd.im_requirement,
                      holiday_margin=cmd.holiday_margin)
        self.collateral[(member, cmd.account)] = acc
        return Outcome(None, [MarginRequirementSet(member, cmd.account, self.p.base_currency, cmd.im_requirement,
                                                   cmd.holiday_margin)])

    def _value(self, currency: str, amount: int, haircut: Decimal, on: date) -> Decimal:
        """Collateral value in base currency minor units."""
        return Decimal(amount) * self.fx_rate(currency, on) * (1 - haircut)

    def _cash_value(self, currency: str, amount: int, on: date) -> Decimal:
        return self._value(currency, amount, self.p.cash_haircut(currency, on), on)

    def _security_value(self, security: str, nominal: int, on: date) -> Decimal:
        s = self.p.securities[security]
        return self._value(s.currency, nominal, s.haircut, on) * s.price / 100

    def _pending(self, member: str, account: str, type_: T, direction: Direction) -> list[PaymentInstruction]:
        return [i for i in self.instructions.values()
                if i.member == member and i.account == account and i.types == (type_,)
                and i.direction == direction and i.state != PaymentState.SETTLED]

    def _pending_withdrawals(self, member: str, account: str) -> dict[str, int]:
        out: dict[str, int] = {}
        for i in self._pending(member, account, T.CASH_COLLATERAL, Direction.RECEIVE):
            out[i.currency] = out.get(i.currency, 0) + i.amount
        return out

    def _cover(self, acc: CollateralAccount, on: date) -> Decimal:
        """Cash (net of pending withdrawals) and CMU collateral after haircuts, base currency."""
        pending = self._pending_withdrawals(acc.member, acc.account)
        total = Decimal(0)
        for ccy, amount in acc.cash:
            total += self._cash_value(ccy, amount - pending.get(ccy, 0), on)
        for sec, nominal in acc.non_cash:
            total += self._security_value(sec, nominal, on)
        return total

    def _excess(self, acc: CollateralAccount, on: date) -> Decimal:
        return self._cover(acc, on) - acc.im_requirement - acc.holiday_margin

    # ================================================================ cash and non-cash collateral
    def _cash_deposit(self, cmd: RequestCashDeposit, ctx: Context) -> Outcome:
        member = self._member(ctx, cmd.member)
        self._account(member, cmd.account)
        if cmd.currency not in self.p.cash_currencies:
            raise ClearingError(E.DEPOSIT_CURRENCY_NOT_ACCEPTED, str(cmd.currency), field="currency")
        self._positive(cmd.amount, "amount")
        sd = self._same_day_or_next(ctx.now, self._cut(self.business_date).deposit_request_cutoff)
        due = _at(sd, self._cut(sd).deposit_payment_due)
        ins, ev = self._single(T.CASH_COLLATERAL, member, cmd.account, cmd.currency, -cmd.amount, sd, ctx.now,
                               ctx.now, due, "voluntary cash deposit")
        return Outcome(ins, ev)

    def _cash_withdrawal(self, cmd: RequestCashWithdrawal, ctx: Context) -> Outcome:
        member = self._member(ctx, cmd.member)
        self._account(member, cmd.account)
        if cmd.currency not in self.p.cash_currencies:
            raise ClearingError(E.DEPOSIT_CURRENCY_NOT_ACCEPTED, str(cmd.currency), field="currency")
        self._positive(cmd.amount, "amount")
        acc = self._collateral(member, cmd.account)
        available = acc.cash_of(cmd.currency) - self._pending_withdrawals(member, cmd.account).get(cmd.currency, 0)
        if cmd.amount > available:
            raise ClearingError(E.WITHDRAWAL_EXCEEDS_BALANCE, f"{cmd.amount} > {available}", field="amount")
        bd = self.business_date
        if self._cash_value(cmd.currency, cmd.amount, bd) > self._excess(acc, bd):
            raise ClearingError(E.WITHDRAWAL_EXCEEDS_EXCESS, f"excess {floor_minor(self._excess(acc, bd))}",
                                field="amount")
        sd = self._same_day_or_next(ctx.now, self._cut(bd).withdrawal_request_cutoff)
        pay_at = _at(sd, self._cut(sd).payout_from)
        ins, ev = self._single(T.CASH_COLLATERAL, member, cmd.account, cmd.currency, cmd.amount, sd, ctx.now,
                               ctx.now, pay_at, "cash collateral withdrawal")
        return Outcome(ins, ev)

    def _security(self, security: str) -> str:
        if security not in self.p.securities:
            raise ClearingError(E.SECURITY_NOT_ELIGIBLE, str(security), field="security")
        return security

    def _deposit_non_cash(self, cmd: DepositNonCash, ctx: Context) -> Outcome:
        member = self._member(ctx, cmd.member)
        self._account(member, cmd.account)
        self._security(cmd.security)
        self._positive(cmd.nominal, "nominal")
        return self._move_non_cash(member, cmd.account, cmd.security, cmd.nominal, ctx)

    def _withdraw_non_cash(self, cmd: WithdrawNonCash, ctx: Context) -> Outcome:
        member = self._member(ctx, cmd.member)
        self._account(member, cmd.account)
        self._security(cmd.security)
        self._positive(cmd.nominal, "nominal")
        acc = self._collateral(member, cmd.account)
        if cmd.nominal > acc.nominal_of(cmd.security):
            raise ClearingError(E.NON_CASH_EXCEEDS_HOLDING, f"{cmd.nominal} > {acc.nominal_of(cmd.security)}",
                                field="nominal")
        bd = self.business_date
        if self._security_value(cmd.security, cmd.nominal, bd) > self._excess(acc, bd):
            raise ClearingError(E.WITHDRAWAL_EXCEEDS_EXCESS, f"excess {floor_minor(self._excess(acc, bd))}",
                                field="nominal")
        return self._move_non_cash(member, cmd.account, cmd.security, -cmd.nominal, ctx)

    def _move_non_cash(self, member: str, account: str, security: str, nominal: int, ctx: Context) -> Outcome:
        acc = self._collateral(member, account)
        holdings = dict(acc.non_cash)
        holdings[security] = holdings.get(security, 0) + nominal
        acc = replace(acc, non_cash=tuple(sorted((k, v) for k, v in holdings.items() if v)))
        self.collateral[(member, account)] = acc
        held = acc.nominal_of(security)
        return Outcome(held, [NonCashCollateralMoved(member, account, security, nominal, held, ctx.now)])

    # ================================================================ guarantee fund, fees, type 10
    def _gf_outstanding(self, member: str) -> int:
        calls = sum(i.amount for i in self._pending(member, "", T.GUARANTEE_FUND, Direction.PAY))
        refunds = sum(i.amount for i in self._pending(member, "", T.GUARANTEE_FUND, Direction.RECEIVE))
        return calls - refunds

    def _set_gf(self, cmd: SetGuaranteeFundRequirement, ctx: Context) -> Outcome:
        ctx.require_operator()
        member = self._member(ctx, cmd.member)
        self._not_negative(cmd.requirement, "requirement")
        due_date = cmd.due_date or self.calendar.next_business_day(self.business_date)
        if not self.calendar.is_business_day(due_date):
            raise ClearingError(NOT_BUSINESS_DAY, due_date.isoformat(), field="due_date")
        cut = self._cut(due_date)
        if due_date < self.business_date or _at(due_date, cut.member_payment_due) <= ctx.now:
            raise ClearingError(E.DATE_NOT_FUTURE, due_date.isoformat(), field="due_date")
        ccy = self.p.gf_currency
        self.gf_requirement[member] = cmd.requirement
        diff = cmd.requirement - self.gf_balance.get(member, 0) - self._gf_outstanding(member)
        events: list = [GuaranteeFundRequirementSet(member, ccy, cmd.requirement)]
        ins = None
        if diff:
            when = cut.member_payment_due if diff > 0 else cut.payout_from
            ins, ev = self._single(T.GUARANTEE_FUND, member, "", ccy, -diff, due_date, ctx.now, ctx.now,
                                   _at(due_date, when),
                                   "guarantee fund " + ("additional contribution" if diff > 0 else "refund"))
            events += ev
        return Outcome(ins, events)

    def _fee_date(self) -> date:
        """Payment date of fees accrued on the business date: the N-th business day of next month."""
        bd = self.business_date
        first = date(bd.year + (bd.month == 12), bd.month % 12 + 1, 1)
        return self.calendar.add_business_days(self.calendar.on_or_after(first), self.p.fee_payment_business_day - 1)

    def _charge_fee(self, cmd: ChargeFee, ctx: Context) -> Outcome:
        ctx.require_operator()
        member = self._member(ctx, cmd.member)
        self._currency(cmd.currency, "currency")
        self._positive(cmd.amount, "amount")
        if not isinstance(cmd.description, str) or len(cmd.description) > 40:
            raise ClearingError(E.DESCRIPTION_TOO_LONG, field="description")
        item, ev = self._add_item(T.FEES, member, "", cmd.currency, -cmd.amount, self._fee_date(), ctx.now,
                                  description=cmd.description or "other fee")
        return Outcome(item, ev)

    def _participating_margin_call(self, cmd: IssueParticipatingMarginCall, ctx: Context) -> Outcome:
        ctx.require_operator()
        if not self.participating_margin:
            raise ClearingError(E.PARTICIPATING_MARGIN_DISABLED)
        member = self._member(ctx, cmd.member)
        self._account(member, cmd.account)
        self._positive(cmd.amount, "amount")
        sd = self.calendar.next_business_day(self.business_date)
        cut = self._cut(sd)
        ins, ev = self._single(T.PARTICIPATING_MARGIN, member, cmd.account, self.p.base_currency, -cmd.amount, sd,
                               ctx.now, _at(sd, cut.im_call_available), _at(sd, cut.im_call_due),
                               "participating margin call")
        return Outcome(ins, ev)

    # ================================================================ payments
    def _settle(self, ins: PaymentInstruction, when: datetime, by: str) -> list:
        """Mark settled and apply its effect on collateral / guarantee fund balances."""
        ins = replace(ins, state=PaymentState.SETTLED, settled_at=when, settled_by=by)
        self.instructions[ins.instruction_id] = ins
        signed = ins.amount if ins.direction == Direction.RECEIVE else -ins.amount
        kind = ins.types[0]
        if kind in (T.INITIAL_MARGIN, T.CASH_COLLATERAL):
            acc = self._collateral(ins.member, ins.account)
            cash = dict(acc.cash)
            cash[ins.currency] = cash.get(ins.currency, 0) - signed
            self.collateral[(ins.member, ins.account)] = replace(
                acc, cash=tuple(sorted((k, v) for k, v in cash.items() if v)))
        elif kind == T.PARTICIPATING_MARGIN:
            acc = self._collateral(ins.member, ins.account)
            self.collateral[(ins.member, ins.account)] = replace(acc, participating_margin=acc.participating_margin
                                                                 - signed)
        elif kind == T.GUARANTEE_FUND:
            self.gf_balance[ins.member] = self.gf_balance.get(ins.member, 0) - signed
        return [PaymentSettled(ins.member, ins)]

    def _late(self, ins: PaymentInstruction) -> list:
        ins = replace(ins, state=PaymentState.LATE, late=True)
        self.instructions[ins.instruction_id] = ins
        return [PaymentLate(ins.member, ins)]

    def _visible_instruction(self, ctx: Context, instruction_id: Any) -> PaymentInstruction:
        ins = self.instructions.get(instruction_id) if isinstance(instruction_id, int) else None
        if ins is None or (not ctx.operator and not ins.published):
            raise ClearingError(E.UNKNOWN_INSTRUCTION, str(instruction_id), field="instruction_id")
        if not ctx.operator and ins.member != ctx.participant:
            raise ClearingError(NOT_AUTHORISED, str(instruction_id), field="instruction_id")
        return ins

    def _confirm_payment(self, cmd: ConfirmPayment, ctx: Context) -> Outcome:
        self._member(ctx, cmd.member)
        ins = self._visible_instruction(ctx, cmd.instruction_id)
        if ins.member != cmd.member and cmd.member:
            raise ClearingError(ACTING_FOR_OTHER, cmd.member, field="member")
        if ins.pvp_id:
            raise ClearingError(E.SETTLES_BY_PVP, str(ins.pvp_id), field="instruction_id")
        if ins.direction != Direction.PAY:
            raise ClearingError(E.NOT_MEMBER_PAYMENT, field="instruction_id")
        if ins.state == PaymentState.SETTLED:
            raise ClearingError(E.ALREADY_SETTLED, field="instruction_id")
        events = self._settle(ins, ctx.now, "MEMBER")
        return Outcome(self.instructions[ins.instruction_id], events)

    def _mark_settled(self, cmd: MarkPaymentSettled, ctx: Context) -> Outcome:
        ctx.require_operator()
        ins = self._visible_instruction(ctx, cmd.instruction_id)
        if ins.state == PaymentState.SETTLED:
            raise ClearingError(E.ALREADY_SETTLED, field="instruction_id")
        if not ins.pvp_id:
            events = self._settle(ins, ctx.now, "OPERATOR")
            return Outcome(self.instructions[ins.instruction_id], events)
        pvp = self.pvps[ins.pvp_id]  # PvP: both legs or neither
        events = []
        for leg in (pvp.pay_instruction_id, pvp.receive_instruction_id):
            if self.instructions[leg].state != PaymentState.SETTLED:
                events += self._settle(self.instructions[leg], ctx.now, "OPERATOR")
        pvp = replace(pvp, state=PvpState.SETTLED)
        self.pvps[pvp.pvp_id] = pvp
        return Outcome(self.instructions[ins.instruction_id], events + [PvpStatusChanged(pvp.member, pvp)])

    def _submit_pvp(self, cmd: SubmitPvpInstruction, ctx: Context) -> Outcome:
        member = self._member(ctx, cmd.member)
        trade = self._trade(cmd.trade_id, ctx)
        if trade.member != member:
            raise ClearingError(ACTING_FOR_OTHER, f"{cmd.trade_id} belongs to {trade.member}", field="member")
        if cmd.exchange not in ("INITIAL", "FINAL"):
            raise ClearingError(E.INVALID_EXCHANGE_KIND, str(cmd.exchange), field="exchange")
        pvp = next((p for p in self.pvps.values() if p.trade_id == trade.trade_id and p.exchange == cmd.exchange),
                   None)
        if pvp is None:
            raise ClearingError(E.PVP_UNKNOWN_EXCHANGE, f"{cmd.trade_id} {cmd.exchange}", field="exchange")
        cutoff = _at(pvp.value_date, self._cut(pvp.value_date).pvp_instruction_cutoff)
        if ctx.now >= cutoff:
            raise ClearingError(E.PVP_AFTER_CUTOFF, f"{ctx.now} >= {cutoff}")
        if pvp.state != PvpState.AWAITING:
            raise ClearingError(E.PVP_ALREADY_INSTRUCTED, str(pvp.pvp_id))
        for f in ("value_date", "pay_currency", "pay_amount", "receive_currency", "receive_amount"):
            if getattr(cmd, f) != getattr(pvp, f):
                raise ClearingError(E.PVP_NOT_MATCHING, f"{f}: {getattr(cmd, f)} != {getattr(pvp, f)}", field=f)
        pvp = replace(pvp, state=PvpState.INSTRUCTED, instructed_at=ctx.now)
        self.pvps[pvp.pvp_id] = pvp
        return Outcome(pvp, [PvpStatusChanged(member, pvp)])

    # ================================================================ time
    def _actions(self) -> list[tuple[datetime, int, int, str]]:
        """Every scheduled action still to run: (time, order, id, kind)."""
        acts = []
        for item in self.items.values():
            if not item.published:
                acts.append((item.available_at, 0, item.item_id, "publish_item"))
        for ins in self.instructions.values():
            if not ins.published:
                acts.append((ins.available_at, 1, ins.instruction_id, "publish"))
            if ins.pvp_id == 0 and ins.state == PaymentState.PENDING:
                if ins.direction == Direction.PAY:
                    acts.append((ins.due_at, 3, ins.instruction_id, "late"))
                else:
                    acts.append((ins.due_at, 4, ins.instruction_id, "payout"))
        for pvp in self.pvps.values():
            if pvp.state in (PvpState.AWAITING, PvpState.INSTRUCTED):
                acts.append((_at(pvp.value_date, self._cut(pvp.value_date).pvp_settlement), 2, pvp.pvp_id, "pvp"))
        return acts

    def on_time(self, now: datetime) -> list:
        if self._wake is not None and now < self._wake:
            return []
        acts = self._actions()
        events: list = []
        for when, _, ident, kind in sorted(a for a in acts if a[0] <= now):
            if kind == "publish_item":
                item = replace(self.items[ident], published=True)
                self.items[ident] = item
                events.append(SettlementItemCreated(item.member, item))
            elif kind == "publish":
                ins = replace(self.instructions[ident], published=True)
                self.instructions[ident] = ins
                events.append(PaymentInstructionIssued(ins.member, ins))
            elif kind == "late":
                if self.instructions[ident].state == PaymentState.PENDING:
                    events += self._late(self.instructions[ident])
            elif kind == "payout":
                if self.instructions[ident].state == PaymentState.PENDING:
                    events += self._settle(self.instructions[ident], when, "OTC_CLEAR")
            else:
                events += self._run_pvp(self.pvps[ident], when)
        future = [a[0] for a in self._actions()]
        self._wake = min(future) if future else datetime.max
        return events

    def _run_pvp(self, pvp: Pvp, when: datetime) -> list:
        """12:00 on the value date: matched exchanges settle, the others fail (both legs late)."""
        events: list = []
        legs = (self.instructions[pvp.pay_instruction_id], self.instructions[pvp.receive_instruction_id])
        if pvp.state == PvpState.INSTRUCTED:
            for leg in legs:
                events += self._settle(leg, when, "PVP")
            pvp = replace(pvp, state=PvpState.SETTLED)
        else:
            for leg in legs:
                events += self._late(leg)
            pvp = replace(pvp, state=PvpState.LATE)
        self.pvps[pvp.pvp_id] = pvp
        return events + [PvpStatusChanged(pvp.member, pvp)]

    # ================================================================ end and start of day
    def end_of_day(self, ctx: Context) -> list:
        self._wake = None
        bd = self.business_date
        nxt = self.calendar.next_business_day(bd)
        events = self._eod_pai(bd, nxt, ctx.now)  # on VM settled up to today, before today's VM is added
        events += self._eod_vm(nxt, ctx.now)
        events += self._eod_im_calls(bd, nxt, ctx.now)
        if nxt.month != bd.month:
            events += self._bill_fees(ctx.now)
        return events

    def _eod_vm(self, nxt: date, now: datetime) -> list:
        events: list = []
        for (member, account, ccy), current in self._groups().items():
            covered = self.covered_mtm.get((member, account, ccy), 0)
            self.covered_mtm[(member, account, ccy)] = current
            if current != covered:
                events += self._add_item(T.EOD_VM, member, account, ccy, current - covered, nxt, now,
                                         description=f"EOD VM: MTM {current} - covered {covered}")[1]
        return events

    def cumulative_vm(self, member: str, account: str, currency: str, through: date) -> int:
        """VM (types 2 and 6) settling on or before ``through``: the member's VM cash balance."""
        return sum(i.amount for i in self.items.values()
                   if i.type in (T.EOD_VM, T.INTRADAY_VM) and i.member == member and i.account == account
                   and i.currency == currency and i.settlement_date <= through)

    def _eod_pai(self, bd: date, nxt: date, now: datetime) -> list:
        balances: dict[tuple[str, str, str], int] = {}
        for i in self.items.values():
            if i.type in (T.EOD_VM, T.INTRADAY_VM) and i.settlement_date <= bd:
                key = (i.member, i.account, i.currency)
                balances[key] = balances.get(key, 0) + i.amount
        days = (nxt - bd).days
        events: list = []
        for (member, account, ccy), c in sorted(balances.items()):
            rate = self.pai_rate(ccy, bd)
            basis = self.p.basis(self.p.day_count[ccy])
            amount = price_alignment_interest(c, rate, days, basis)
            if amount:
                events += self._add_item(T.PAI, member, account, ccy, amount, nxt, now,
                                         description=f"PAI: -({c}) x {rate} x {days}/{basis}")[1]
        return events

    def _eod_im_calls(self, bd: date, nxt: date, now: datetime) -> list:
        cut = self._cut(nxt)
        events: list = []
        for (member, account), acc in sorted(self.collateral.items()):
            required = acc.im_requirement + acc.holiday_margin
            if not required:
                continue
            outstanding = sum(i.amount for i in self._pending(member, account, T.INITIAL_MARGIN, Direction.PAY))
            cover = self._cover(acc, bd)
            shortfall = required - cover - outstanding
            if shortfall > 0:
                call = ceil_minor(shortfall)
                what = "holiday margin + IM call" if acc.holiday_margin else "IM call"
                events += self._single(T.INITIAL_MARGIN, member, account, self.p.base_currency, -call, nxt, now,
                                       _at(nxt, cut.im_call_available), _at(nxt, cut.im_call_due),
                                       f"{what}: IM {acc.im_requirement} + holiday {acc.holiday_margin}"
                                       f" - cover {floor_minor(cover)} - unpaid calls {outstanding}")[1]
        return events

    def _bill_fees(self, now: datetime) -> list:
        groups: dict[tuple[str, str, date], list[SettlementItem]] = {}
        for i in self.items.values():
            if i.type == T.FEES and not i.netted:
                groups.setdefault((i.member, i.currency, i.settlement_date), []).append(i)
        events: list = []
        for (member, ccy, sd), items in sorted(groups.items()):
            for i in items:
                self.items[i.item_id] = replace(i, netted=True)
            total = sum(i.amount for i in items)
            if total:
                due = _at(sd, self._cut(sd).member_payment_due)
                events += self._add_instruction(member, "", (T.FEES,), ccy, total, sd, now, now, due,
                                                [i.item_id for i in items])[1]
        return events

    def start_of_day(self, ctx: Context, business_date: date) -> list:
        """Net types 1, 2 and 3 due today per member account, currency and date; issue the nets."""
        self._wake = None
        groups: dict[tuple[str, str, str, date], list[SettlementItem]] = {}
        for i in self.items.values():
            if i.type in NETTED_TYPES and not i.netted and i.settlement_date <= business_date:
                groups.setdefault((i.member, i.account, i.currency, i.settlement_date), []).append(i)
        events: list = []
        for (member, account, ccy, sd), items in sorted(groups.items()):
            for i in items:
                self.items[i.item_id] = replace(i, netted=True)
            net = sum(i.amount for i in items)
            if not net:
                continue
            cut = self._cut(sd)
            due = _at(sd, cut.payout_from if net > 0 else cut.member_payment_due)
            events += self._add_instruction(member, account, (i.type for i in items), ccy, net, sd, ctx.now,
                                            ctx.now, due, [i.item_id for i in items])[1]
        return events

    # ================================================================ queries
    def _q_members(self, q: OtcMembersQuery, ctx: Context):
        scope = self._scope(ctx, q.member)
        return tuple(m for mid, m in sorted(self.p.members.items()) if scope in (None, mid))

    def _q_trades(self, q: OtcTradesQuery, ctx: Context):
        scope = self._scope(ctx, q.member)
        out = []
        for tid in sorted(self.trades):
            t = self.trades[tid]
            if scope not in (None, t.member) or (q.trade_id and q.trade_id != tid):
                continue
            fixings = tuple(f for k, f in sorted(self.fixings.items()) if k[0] == tid)
            out.append(TradeAnswer(t, self.mtm.get(tid, 0), fixings))
        return tuple(out)

    def _q_items(self, q: SettlementItemsQuery, ctx: Context):
        scope = self._scope(ctx, q.member)
        if q.type and q.type not in set(T):
            raise ClearingError(E.INVALID_SETTLEMENT_TYPE, str(q.type), field="type")
        return tuple(i for i in self.items.values()
                     if scope in (None, i.member) and (ctx.operator or i.published)
                     and (q.settlement_date is None or i.settlement_date == q.settlement_date)
                     and (not q.type or i.type == q.type))

    def _q_instructions(self, q: PaymentInstructionsQuery, ctx: Context):
        scope = self._scope(ctx, q.member)
        if q.state and q.state not in set(PaymentState):
            raise ClearingError(E.INVALID_STATE_FILTER, str(q.state), field="state")
        return tuple(i for i in self.instructions.values()
                     if scope in (None, i.member) and (ctx.operator or i.published)
                     and (q.settlement_date is None or i.settlement_date == q.settlement_date)
                     and (not q.state or i.state == q.state)
                     and (not q.instruction_id or i.instruction_id == q.instruction_id))

    def _q_pvps(self, q: PvpQuery, ctx: Context):
        scope = self._scope(ctx, q.member)
        return tuple(p for p in self.pvps.values()
                     if scope in (None, p.member) and (q.value_date is None or p.value_date == q.value_date))

    def _q_collateral(self, q: CollateralQuery, ctx: Context):
        scope = self._scope(ctx, q.member)
        members = [scope] if scope else sorted(self.p.members)
        if scope and q.account:
            self._account(scope, q.account)
        bd = self.business_date
        out = []
        for m in members:
            for a in self.p.members[m].accounts:
                if q.account and a.account_id != q.account:
                    continue
                acc = self._collateral(m, a.account_id)
                cover = self._cover(acc, bd)
                outstanding = sum(i.amount for i in self._pending(m, a.account_id, T.INITIAL_MARGIN, Direction.PAY))
                pending = self._pending_withdrawals(m, a.account_id)
                holdings = tuple(
                    [CollateralHolding(c, "CASH", c, amt, pending.get(c, 0),
                                       floor_minor(self._cash_value(c, amt - pending.get(c, 0), bd)))
                     for c, amt in acc.cash]
                    + [CollateralHolding(sec, "NON_CASH", self.p.securities[sec].currency, nominal, 0,
                                         floor_minor(self._security_value(sec, nominal, bd)))
                       for sec, nominal in acc.non_cash])
                out.append(CollateralAnswer(
                    m, a.account_id, a.kind, self.p.base_currency, acc.cash, acc.non_cash,
                    tuple(sorted(self._pending_withdrawals(m, a.account_id).items())), floor_minor(cover),
                    acc.im_requirement, acc.holiday_margin,
                    floor_minor(cover - acc.im_requirement - acc.holiday_margin), outstanding,
                    acc.participating_margin, holdings))
        return tuple(out)

    def _q_gf(self, q: GuaranteeFundQuery, ctx: Context):
        scope = self._scope(ctx, q.member)
        return tuple(GuaranteeFundAnswer(m, self.p.gf_currency, self.gf_requirement.get(m, 0),
                                         self.gf_balance.get(m, 0), self._gf_outstanding(m))
                     for m in sorted(self.p.members) if scope in (None, m))

    def _q_accounts(self, q: SettlementAccountsQuery, ctx: Context):
        rows = []
        types = [t for t in T if t != T.PARTICIPATING_MARGIN or self.participating_margin]
        for t in types:
            for kind in ("HOUSE", "CLIENT"):
                for ccy in self.p.currencies:
                    r = self.p.routing(int(t), kind, ccy)
                    rows.append(RoutingRow(int(t), kind, ccy, r.bank_code, r.bank, r.sub_account, r.sub_account_name,
                                           r.beneficiary))
        return tuple(rows)

    def _q_rates(self, q: OtcRatesQuery, ctx: Context):
        bd = self.business_date
        cs = self.p.currencies
        return RatesAnswer(bd, tuple((c, self.pai_rate(c, bd)) for c in cs), tuple((c, self.fx_rate(c, bd)) for c in cs),
                           tuple((c, self.p.cash_haircut(c, bd)) for c in cs))

    # ================================================================ snapshot
    def snapshot(self) -> Any:
        return {
            "participating_margin": self.participating_margin,
            "trades": list(self.trades.values()),
            "mtm": sorted(self.mtm.items()),
            "covered_mtm": sorted([*k, v] for k, v in self.covered_mtm.items()),
            "fixings": [f for _, f in sorted(self.fixings.items())],
            "items": list(self.items.values()),
            "instructions": list(self.instructions.values()),
            "pvps": list(self.pvps.values()),
            "collateral": [a for _, a in sorted(self.collateral.items())],
            "gf_requirement": sorted(self.gf_requirement.items()),
            "gf_balance": sorted(self.gf_balance.items()),
            "pai_rates": sorted(self.pai_rates.items()),
            "fx_rates": sorted(self.fx_rates.items()),
            "counters": [self.next_item, self.next_instruction, self.next_pvp],
        }
