"""Margin and collateral: intraday VM calls, IM requirement and cover, cash and CMU collateral,
guarantee fund, fees and participating margin."""
from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

from ..core import Context, Outcome
from ..errors import NOT_BUSINESS_DAY, ClearingError
from ..money_text import money
from . import errors as E
from .arithmetic import floor_minor
from .commands import (ChargeFee, DepositNonCash, IssueParticipatingMarginCall, RequestCashDeposit,
                       RequestCashWithdrawal, RunIntradayVmCall, SetGuaranteeFundRequirement, SetMarginRequirement,
                       WithdrawNonCash)
from .events import GuaranteeFundRequirementSet, MarginRequirementSet, NonCashCollateralMoved
from .model import CollateralAccount, Direction, PaymentInstruction, PaymentState, SettlementType as T
from .params import at


class MarginMixin:
    """Part of :class:`OtcClearModule`: VM calls, margin, collateral, GF, fees, type 10."""

    # ================================================================ margin and VM
    def _groups(self) -> dict[tuple[str, str, str], int]:
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
        available = at(bd, cut.intraday_vm_available)
        if ctx.now >= available:
            raise ClearingError(E.INTRADAY_CALL_CLOSED, f"{ctx.now} >= {available}")
        due = at(bd, cut.intraday_vm_due)
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
        due = at(sd, self._cut(sd).deposit_payment_due)
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
            raise ClearingError(E.WITHDRAWAL_EXCEEDS_BALANCE,
                                f"{money(cmd.currency, cmd.amount)} > {money(cmd.currency, available)} available",
                                field="amount")
        bd = self.business_date
        if self._cash_value(cmd.currency, cmd.amount, bd) > self._excess(acc, bd):
            raise ClearingError(E.WITHDRAWAL_EXCEEDS_EXCESS, f"excess {money(self.p.base_currency, floor_minor(self._excess(acc, bd)))}",
                                field="amount")
        sd = self._same_day_or_next(ctx.now, self._cut(bd).withdrawal_request_cutoff)
        pay_at = at(sd, self._cut(sd).payout_from)
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
            raise ClearingError(E.WITHDRAWAL_EXCEEDS_EXCESS, f"excess {money(self.p.base_currency, floor_minor(self._excess(acc, bd)))}",
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
        if due_date < self.business_date or at(due_date, cut.member_payment_due) <= ctx.now:
            raise ClearingError(E.DATE_NOT_FUTURE, due_date.isoformat(), field="due_date")
        ccy = self.p.gf_currency
        self.gf_requirement[member] = cmd.requirement
        diff = cmd.requirement - self.gf_balance.get(member, 0) - self._gf_outstanding(member)
        events: list = [GuaranteeFundRequirementSet(member, ccy, cmd.requirement)]
        ins = None
        if diff:
            when = cut.member_payment_due if diff > 0 else cut.payout_from
            ins, ev = self._single(T.GUARANTEE_FUND, member, "", ccy, -diff, due_date, ctx.now, ctx.now,
                                   at(due_date, when),
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
                               ctx.now, at(sd, cut.im_call_available), at(sd, cut.im_call_due),
                               "participating margin call")
        return Outcome(ins, ev)
