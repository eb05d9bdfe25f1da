"""OTC Clear settlement: the pure core module (see docs/guides/otc-clear.md).

Trades, settlement items (one computed amount of one settlement type), payment instructions (what
is actually paid, with bank and sub-account) and PvP exchanges. Types 1, 2 and 3 of one member
account, currency and settlement date are netted into one instruction at the start of that
business day; every other type gives one instruction per item. Cut-offs run from ``on_time``.

The behaviour is spread over mixins, one file each: ``trades`` (registration, fixings, MTM,
rates), ``margin`` (VM calls, IM, collateral, guarantee fund, fees), ``payments`` (instruction
states, PvP, the scheduler), ``day`` (end and start of day, netting), ``views`` (queries) and
``funding`` (the member's own bank side: PvP funding, additional payments of a trade).
"""
from __future__ import annotations

import functools
import string
from dataclasses import replace
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, Callable, Iterable

from ..core import Context, Module, Outcome
from ..errors import ACTING_FOR_OTHER, NOT_AUTHORISED, UNKNOWN_PARTICIPANT, ClearingError
from . import errors as E
from .commands import (ChargeFee, ConfirmPayment, DepositNonCash, IssueParticipatingMarginCall, MarkPaymentSettled,
                       RegisterCcs, RegisterIrs, RegisterNdf, RequestCashDeposit, RequestCashWithdrawal,
                       RunIntradayVmCall, SetFxRate, SetGuaranteeFundRequirement, SetMarginRequirement, SetMtm,
                       SetPaiRate, SetRateFixing, SubmitPvpInstruction, WithdrawNonCash)
from .day import DayMixin
from .funding import FundingMixin
from .events import PaymentInstructionIssued, SettlementItemCreated
from .margin import MarginMixin
from .model import (CollateralAccount, Direction, Fixing, PaymentInstruction, Pvp, SettlementItem,
                    SettlementType as T, Trade)
from .params import HOUSE, Account, Params, at
from .payments import PaymentsMixin
from .queries import (CollateralQuery, GuaranteeFundQuery, OtcMembersQuery, OtcRatesQuery, OtcTradesQuery,
                      PaymentInstructionsQuery, PvpQuery, SettlementAccountsQuery, SettlementItemsQuery)
from .trades import TradesMixin
from .views import QueriesMixin

_PRINTABLE = set(string.ascii_letters + string.digits + "-_./:")
_MAX_RATE = Decimal(1000000)


class OtcClearModule(TradesMixin, MarginMixin, PaymentsMixin, DayMixin, QueriesMixin, FundingMixin, Module):
    """OTC Clear settlement. ``participating_margin`` (settlement type 10) defaults to the data
    file's option (off); pass True through a factory to enable it."""

    name = "otc"

    def __init__(self, core, participating_margin: bool | None = None, params: Params | None = None):
        super().__init__(core)
        if params is None:
            raise TypeError("OtcClearModule needs its parameters (gateway.refdata.otc_params())")
        self.p = params
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
        self.unfunded: set[tuple[str, str]] = set()   # (member, currency) whose PvP side is not funded
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
            WithdrawNonCash: self._withdraw_non_cash, **self._funding_commands(),
        }
        return {t: self._rescheduling(h) for t, h in handlers.items()}

    def queries(self) -> dict[type, Callable[[Any, Context], Any]]:
        return {
            OtcMembersQuery: self._q_members, OtcTradesQuery: self._q_trades,
            SettlementItemsQuery: self._q_items, PaymentInstructionsQuery: self._q_instructions,
            PvpQuery: self._q_pvps, CollateralQuery: self._q_collateral, GuaranteeFundQuery: self._q_gf,
            SettlementAccountsQuery: self._q_accounts, OtcRatesQuery: self._q_rates, **self._funding_queries(),
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
        return bd if now < at(bd, cutoff) else self.calendar.next_business_day(bd)

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
        kind = self._kind(member, account) if account else ""  # "": member level (guarantee fund, fees)
        route = self.p.routing(int(types[0]), kind or HOUSE, currency)
        ins = PaymentInstruction(
            self.next_instruction, member, account, kind, types, currency, abs(signed),
            Direction.RECEIVE if signed > 0 else Direction.PAY, settlement_date, available_at, due_at,
            route.bank_code, route.bank, route.sub_account, route.sub_account_name, route.beneficiary,
            tuple(items), now, pvp_id=pvp_id, published=available_at <= now,
            member_bank=self.p.members[member].settlement_bank(currency))
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
            "unfunded": sorted(self.unfunded),
        }
