"""Queries of OTC Clear settlement and their answers. ``member`` "" = the acting member itself
(the operator: every member). A member naming another gets ACTING_FOR_OTHER. Members see items and
payment instructions only once published (e.g. an IM call from 08:30)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from .model import Fixing, Trade


@dataclass(frozen=True, slots=True)
class OtcMembersQuery:
    member: str = ""


@dataclass(frozen=True, slots=True)
class OtcTradesQuery:
    member: str = ""
    trade_id: str = ""


@dataclass(frozen=True, slots=True)
class SettlementItemsQuery:
    member: str = ""
    settlement_date: date | None = None
    type: int = 0  # 0 = every type


@dataclass(frozen=True, slots=True)
class PaymentInstructionsQuery:
    member: str = ""
    settlement_date: date | None = None
    state: str = ""  # "" or PENDING / LATE / SETTLED
    instruction_id: int = 0


@dataclass(frozen=True, slots=True)
class PvpQuery:
    member: str = ""
    value_date: date | None = None


@dataclass(frozen=True, slots=True)
class CollateralQuery:
    member: str = ""
    account: str = ""  # "" = every account of the member


@dataclass(frozen=True, slots=True)
class GuaranteeFundQuery:
    member: str = ""


@dataclass(frozen=True, slots=True)
class SettlementAccountsQuery:
    """Public: the routing table (bank and sub-account per settlement type, account kind, currency)."""


@dataclass(frozen=True, slots=True)
class OtcRatesQuery:
    """Public: PAI rates, FX rates and cash haircuts in force on the business date."""


# ---------------------------------------------------------------- answers
@dataclass(frozen=True, slots=True)
class TradeAnswer:
    trade: Trade
    mtm: int
    fixings: tuple[Fixing, ...]


@dataclass(frozen=True, slots=True)
class CollateralHolding:
    """One asset of a collateral account: cash in a currency or a CMU security."""

    asset: str               # currency code (cash) or security code (CMU)
    kind: str                # CASH or NON_CASH
    currency: str
    amount: int              # cash: minor units; non-cash: nominal
    pending_withdrawal: int  # cash requested out, not yet paid
    value: int               # base currency minor units after FX and haircut, net of pending (floor)


@dataclass(frozen=True, slots=True)
class CollateralAnswer:
    member: str
    account: str
    account_kind: str
    base_currency: str
    cash: tuple[tuple[str, int], ...]           # settled cash per currency (minor units)
    non_cash: tuple[tuple[str, int], ...]       # CMU holdings: security, nominal
    pending_withdrawals: tuple[tuple[str, int], ...]
    cover: int                                   # base ccy, after haircuts, net of pending withdrawals (floor)
    im_requirement: int
    holiday_margin: int
    excess: int                                  # cover - requirement - holiday margin (may be < 0)
    outstanding_calls: int                       # unpaid IM calls (base ccy)
    participating_margin: int
    holdings: tuple[CollateralHolding, ...] = ()


@dataclass(frozen=True, slots=True)
class GuaranteeFundAnswer:
    member: str
    currency: str
    requirement: int
    balance: int      # settled contributions
    outstanding: int  # unpaid calls (+) less unpaid refunds (-)


@dataclass(frozen=True, slots=True)
class RoutingRow:
    settlement_type: int
    account_kind: str
    currency: str
    bank_code: str
    bank: str
    sub_account: str
    sub_account_name: str
    beneficiary: str


@dataclass(frozen=True, slots=True)
class RatesAnswer:
    business_date: date
    pai_rates: tuple[tuple[str, Decimal], ...]
    fx_rates: tuple[tuple[str, Decimal], ...]
    cash_haircuts: tuple[tuple[str, Decimal], ...]
