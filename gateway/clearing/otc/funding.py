"""The member's own side of OTC Clear settlement (issue 13, item 6).

- Settlement bank per member and currency: reference data (``data/otc/members.toml``), named on
  every payment instruction (``PaymentInstruction.member_bank``) and listed by ``MemberBanksQuery``.
- PvP funding: members "arrange for sufficient funding to effect required PVP payments by 12:00
  noon". The emulated funding of a member's pay side per currency is set by the operator
  (``SetPvpFunding``; default funded); an instructed exchange whose pay currency is not funded at
  12:00 fails (``PvpState.FAILED``, both legs late; see ``PaymentsMixin._run_pvp``).
- Additional payments stipulated in a transaction (e.g. an upfront fee): ``AddTradePayment``
  records a type 1 settlement item of the trade, netted with the coupons of its date and currency.

A mixin of :class:`OtcClearModule`; its state (``unfunded``) is in the module's snapshot.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import ClassVar

from ..core import Context, Event, Outcome
from ..errors import ClearingError
from . import errors as E
from .model import SettlementType as T


@dataclass(frozen=True, slots=True)
class SetPvpFunding:
    """Operator: whether the member's PvP pay side in ``currency`` is funded (default: funded)."""

    member: str
    currency: str
    funded: bool


@dataclass(frozen=True, slots=True)
class AddTradePayment:
    """Operator: an additional payment stipulated in a transaction (an upfront fee, ...): signed
    cents (+ the member receives, - the member pays) in ``currency`` on ``payment_date`` (following
    business day), a type 1 item netted with the trade's other obligations of that date and currency."""

    trade_id: str
    payment_date: date
    currency: str
    amount: int
    description: str = ""


@dataclass(frozen=True, slots=True)
class MemberBanksQuery:
    member: str = ""


@dataclass(frozen=True, slots=True)
class MemberBank:
    member: str
    currency: str
    bank: str
    rtgs_member: bool
    pvp_funded: bool


@dataclass(slots=True)
class PvpFundingSet(Event):
    STREAM: ClassVar[str] = "settlement"
    owner: str
    currency: str
    funded: bool


class FundingMixin:
    """Part of :class:`OtcClearModule`: the member's bank side."""

    def _funding_commands(self) -> dict:
        return {SetPvpFunding: self._set_pvp_funding, AddTradePayment: self._add_trade_payment}

    def _funding_queries(self) -> dict:
        return {MemberBanksQuery: self._q_member_banks}

    def _funded(self, member: str, currency: str) -> bool:
        return (member, currency) not in self.unfunded

    def _set_pvp_funding(self, cmd: SetPvpFunding, ctx: Context) -> Outcome:
        ctx.require_operator()
        member = self._member(ctx, cmd.member)
        ccy = self._currency(cmd.currency, "currency")
        if cmd.funded:
            self.unfunded.discard((member, ccy))
        else:
            self.unfunded.add((member, ccy))
        return Outcome(bool(cmd.funded), [PvpFundingSet(member, ccy, bool(cmd.funded))])

    def _add_trade_payment(self, cmd: AddTradePayment, ctx: Context) -> Outcome:
        ctx.require_operator()
        trade = self._trade(cmd.trade_id)
        ccy = self._currency(cmd.currency, "currency")
        if type(cmd.amount) is not int:
            raise ClearingError(E.AMOUNT_NOT_POSITIVE, repr(cmd.amount), field="amount")
        if cmd.amount == 0:
            raise ClearingError(E.AMOUNT_ZERO, field="amount")
        if len(cmd.description) > 40:
            raise ClearingError(E.DESCRIPTION_TOO_LONG, field="description")
        if not isinstance(cmd.payment_date, date):
            raise ClearingError(E.PAYMENT_DATE_TOO_EARLY, repr(cmd.payment_date), field="payment_date")
        pay = self._pay_date(cmd.payment_date)
        if pay <= self.business_date:
            raise ClearingError(E.PAYMENT_DATE_TOO_EARLY, f"{pay} <= {self.business_date}", field="payment_date")
        item, events = self._add_item(T.OBLIGATION, trade.member, trade.account, ccy, cmd.amount, pay, ctx.now,
                                      trade_id=trade.trade_id,
                                      description=f"additional payment: {cmd.description or 'stipulated'}")
        return Outcome(item, events)

    def _q_member_banks(self, q: MemberBanksQuery, ctx: Context) -> tuple[MemberBank, ...]:
        scope = self._scope(ctx, q.member)
        return tuple(MemberBank(mid, c, m.settlement_bank(c), m.rtgs_member, self._funded(mid, c))
                     for mid, m in sorted(self.p.members.items()) if scope in (None, mid) for c in self.p.currencies)

