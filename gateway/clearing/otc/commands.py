"""Commands (transactions) of OTC Clear settlement. Money: int minor units (2 decimals for every
currency). Rates: ``Decimal`` fractions (0.0325 = 3.25%); FX rates: units of the quote currency per
one unit of the base currency. Dates: ``datetime.date``. ``member`` names the acting clearing
member: a member may only name itself (ACTING_FOR_OTHER otherwise); the operator names anyone."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

ZERO = Decimal(0)


# ---------------------------------------------------------------- operator: trades and market data
@dataclass(frozen=True, slots=True)
class RegisterNdf:
    """Operator: register a cleared non-deliverable forward (the member's side vs OTC Clear).

    BASE/QUOTE pair, rates are QUOTE per one BASE, notional in BASE minor units; ``direction``
    BUY = the member bought BASE forward at ``contract_rate``. The settlement currency is one of
    the pair and one of HKD/USD/EUR/CNH (the other may be any non-deliverable currency)."""

    trade_id: str
    member: str
    account: str
    direction: str  # BUY or SELL (of the base currency)
    base_currency: str
    quote_currency: str
    notional: int
    contract_rate: Decimal
    fixing_date: date
    settlement_date: date
    settlement_currency: str


@dataclass(frozen=True, slots=True)
class RegisterIrs:
    """Operator: register a cleared fixed-vs-floating interest rate swap. Both legs pay on
    ``coupon_dates`` (unadjusted; paid on the next business day when not one); the first period
    runs from ``effective_date``. Floating coupons use the operator's fixing plus ``float_spread``."""

    trade_id: str
    member: str
    account: str
    direction: str  # PAY_FIXED or RECEIVE_FIXED (the member's fixed leg)
    currency: str
    notional: int
    fixed_rate: Decimal
    effective_date: date
    coupon_dates: tuple[date, ...]
    float_spread: Decimal = ZERO
    day_count: str = ""  # ACT/365 or ACT/360; "" = the currency's convention


@dataclass(frozen=True, slots=True)
class RegisterCcs:
    """Operator: register a cleared cross currency swap. The member pays the PAY leg's coupons
    and receives the RECEIVE leg's. A leg is fixed when its ``*_fixed_rate`` is given, else
    floating (fixing + spread). Initial exchange on the effective date (adjusted): the member pays
    the RECEIVE notional and receives the PAY notional; final exchange on the last coupon date
    (adjusted): the reverse. Exchanges settle gross by PvP (type 4). MTM is in
    ``valuation_currency`` (one of the two)."""

    trade_id: str
    member: str
    account: str
    pay_currency: str
    pay_notional: int
    receive_currency: str
    receive_notional: int
    effective_date: date
    coupon_dates: tuple[date, ...]
    valuation_currency: str
    pay_fixed_rate: Decimal | None = None
    pay_spread: Decimal = ZERO
    receive_fixed_rate: Decimal | None = None
    receive_spread: Decimal = ZERO
    initial_exchange: bool = True
    final_exchange: bool = True
    pay_day_count: str = ""
    receive_day_count: str = ""


@dataclass(frozen=True, slots=True)
class SetRateFixing:
    """Operator: the FX fixing of an NDF (on its fixing date) or the floating rate of a swap
    period (``fixing_date`` = the period's unadjusted coupon date; ``leg`` PAY or RECEIVE, may be
    empty when the trade has one floating leg). Computes the type-1 obligation."""

    trade_id: str
    fixing_date: date
    rate: Decimal
    leg: str = ""


@dataclass(frozen=True, slots=True)
class SetMtm:
    """Operator: mark-to-market of a trade, member's view (positive = asset of the member), in
    minor units of the trade's valuation currency."""

    trade_id: str
    mtm: int


@dataclass(frozen=True, slots=True)
class SetPaiRate:
    """Operator: OTC Clear's PAI rate of a currency, effective from the current business date."""

    currency: str
    rate: Decimal


@dataclass(frozen=True, slots=True)
class SetFxRate:
    """Operator: FX rate of a currency to the collateral base currency (HKD per unit)."""

    currency: str
    rate: Decimal


@dataclass(frozen=True, slots=True)
class RunIntradayVmCall:
    """Operator: intraday mark-to-market run. Every member account whose MTM in a currency fell
    below the MTM already covered by VM gets an intraday VM call (type 6) for the difference,
    published at 14:15 and due by 15:15 of the business date. Must run before 14:15."""


@dataclass(frozen=True, slots=True)
class SetMarginRequirement:
    """Operator: initial margin requirement of a member account and any holiday margin added to
    it (base currency minor units). The end-of-day IM call (type 5) collects the shortfall."""

    member: str
    account: str
    im_requirement: int
    holiday_margin: int = 0


@dataclass(frozen=True, slots=True)
class SetGuaranteeFundRequirement:
    """Operator: a member's guarantee fund contribution. An increase is called (type 8, due by
    11:00 on ``due_date``), a decrease refunded (paid from 13:00). ``due_date`` None = next
    business day."""

    member: str
    requirement: int
    due_date: date | None = None


@dataclass(frozen=True, slots=True)
class ChargeFee:
    """Operator: an "other relevant fee" (type 9), billed with the month's clearing fees."""

    member: str
    currency: str
    amount: int
    description: str = ""


@dataclass(frozen=True, slots=True)
class IssueParticipatingMarginCall:
    """Operator (type 10, only when enabled): a participating margin call, published and due
    like an end-of-day IM call (08:30 / 09:30 the next business day)."""

    member: str
    account: str
    amount: int


@dataclass(frozen=True, slots=True)
class MarkPaymentSettled:
    """Operator: record that a payment instruction was paid (either direction). On a CCS PvP
    leg both legs settle together."""

    instruction_id: int


# ---------------------------------------------------------------- member transactions
@dataclass(frozen=True, slots=True)
class ConfirmPayment:
    """Member: it has paid a payment instruction due from it (settled at once; after the cut-off
    the instruction is settled with ``late`` = True). Not for CCS exchanges (PvP)."""

    member: str
    instruction_id: int


@dataclass(frozen=True, slots=True)
class SubmitPvpInstruction:
    """Member: PvP payment instruction for a CCS notional exchange, before 12:00 on its value
    date. Every field must match OTC Clear's side (see the Pvp record)."""

    member: str
    trade_id: str
    exchange: str  # INITIAL or FINAL
    value_date: date
    pay_currency: str
    pay_amount: int
    receive_currency: str
    receive_amount: int


@dataclass(frozen=True, slots=True)
class RequestCashDeposit:
    """Member: voluntary cash collateral deposit (type 7). Before 16:00: settles the same business
    day, else the next one."""

    member: str
    account: str
    currency: str
    amount: int


@dataclass(frozen=True, slots=True)
class RequestCashWithdrawal:
    """Member: withdrawal of excess cash collateral (type 7). Before 11:00: paid the same business
    day (from 13:00), else the next one."""

    member: str
    account: str
    currency: str
    amount: int


@dataclass(frozen=True, slots=True)
class DepositNonCash:
    """Member: non-cash IM collateral transferred to OTC Clear's CMU custodian account."""

    member: str
    account: str
    security: str
    nominal: int


@dataclass(frozen=True, slots=True)
class WithdrawNonCash:
    """Member: return of non-cash collateral from the CMU account, within the excess."""

    member: str
    account: str
    security: str
    nominal: int
