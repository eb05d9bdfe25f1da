"""State records of OTC Clear settlement. Immutable: the module replaces a record to change it,
so a query can hand records out safely and a snapshot is plain data."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import IntEnum, StrEnum
from typing import Any


class SettlementType(IntEnum):
    """The nine settlement types of the seed, plus the optional tenth."""

    OBLIGATION = 1          # obligations from cleared trades (not CCS notional exchanges)
    EOD_VM = 2              # end-of-day variation margin
    PAI = 3                 # price alignment interest
    CCS_EXCHANGE = 4        # CCS initial / final exchange, gross by PvP
    INITIAL_MARGIN = 5      # IM, end-of-day IM call, holiday margin
    INTRADAY_VM = 6         # intraday VM call
    CASH_COLLATERAL = 7     # voluntary cash collateral deposit / withdrawal
    GUARANTEE_FUND = 8      # guarantee fund contribution / refund
    FEES = 9                # clearing and other fees, billed monthly
    PARTICIPATING_MARGIN = 10  # optional (newer public rules), off by default


NETTED_TYPES = (SettlementType.OBLIGATION, SettlementType.EOD_VM, SettlementType.PAI)


class Direction(StrEnum):
    PAY = "PAY"          # the member pays OTC Clear
    RECEIVE = "RECEIVE"  # OTC Clear pays the member


class PaymentState(StrEnum):
    PENDING = "PENDING"  # issued, not yet paid, cut-off not reached
    LATE = "LATE"        # a payment due from the member missed its cut-off (still payable)
    SETTLED = "SETTLED"  # paid (``late`` tells whether it was after the cut-off)


class PvpState(StrEnum):
    AWAITING = "AWAITING"      # no member PvP instruction yet
    INSTRUCTED = "INSTRUCTED"  # matching instruction accepted, waiting for the 12:00 run
    SETTLED = "SETTLED"        # both legs settled
    LATE = "LATE"              # no instruction by 12:00: both legs late
    FAILED = "FAILED"          # instructed, but the member's pay side was not funded at 12:00: both legs late


@dataclass(frozen=True, slots=True)
class Trade:
    """A cleared OTC trade: the member's side against OTC Clear. ``terms`` is the registering
    command (RegisterNdf / RegisterIrs / RegisterCcs)."""

    trade_id: str
    product: str  # NDF, IRS, CCS
    member: str
    account: str
    valuation_currency: str
    registered_at: datetime
    terms: Any


@dataclass(frozen=True, slots=True)
class Fixing:
    trade_id: str
    leg: str          # "" for an NDF, PAY or RECEIVE for a swap leg
    fixing_date: date  # NDF fixing date, or the (unadjusted) coupon date of the period
    rate: Decimal
    set_at: datetime


@dataclass(frozen=True, slots=True)
class SettlementItem:
    """One computed amount of one settlement type (signed: + member receives, - member pays)."""

    item_id: int
    type: SettlementType
    member: str
    account: str
    currency: str
    amount: int
    settlement_date: date
    created_at: datetime
    available_at: datetime
    trade_id: str = ""
    description: str = ""
    instruction_id: int = 0  # payment instruction carrying it; 0 = none yet (or netted to zero)
    netted: bool = False     # types 1-3: netting for its settlement date has run
    published: bool = False


@dataclass(frozen=True, slots=True)
class PaymentInstruction:
    """One payment between a member and OTC Clear, with its bank and sub-account."""

    instruction_id: int
    member: str
    account: str
    account_kind: str        # HOUSE, CLIENT, or "" for member-level payments (types 8, 9)
    types: tuple[SettlementType, ...]
    currency: str
    amount: int              # > 0, minor units
    direction: Direction
    settlement_date: date
    available_at: datetime   # details published (events, member queries) from this time
    due_at: datetime         # PAY: cut-off (exclusive); RECEIVE: OTC Clear pays at this time
    bank_code: str
    bank: str
    sub_account: str
    sub_account_name: str
    beneficiary: str
    items: tuple[int, ...]
    created_at: datetime
    state: PaymentState = PaymentState.PENDING
    late: bool = False
    settled_at: datetime | None = None
    settled_by: str = ""     # MEMBER, OPERATOR, OTC_CLEAR (automatic payout), PVP
    pvp_id: int = 0
    published: bool = False
    member_bank: str = ""    # the member's settlement bank in this currency (reference data)


@dataclass(frozen=True, slots=True)
class Pvp:
    """A CCS notional exchange settled gross by payment-versus-payment."""

    pvp_id: int
    trade_id: str
    exchange: str  # INITIAL or FINAL
    member: str
    account: str
    value_date: date
    pay_currency: str
    pay_amount: int
    receive_currency: str
    receive_amount: int
    pay_instruction_id: int
    receive_instruction_id: int
    state: PvpState = PvpState.AWAITING
    instructed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class CollateralAccount:
    """Margin collateral of one member account (house or client)."""

    member: str
    account: str
    cash: tuple[tuple[str, int], ...] = ()         # settled cash collateral per currency
    non_cash: tuple[tuple[str, int], ...] = ()     # CMU holdings: security -> nominal
    im_requirement: int = 0                        # base currency
    holiday_margin: int = 0                        # base currency, added to the requirement
    participating_margin: int = 0                  # type 10 collateral received (base currency)

    def cash_of(self, currency: str) -> int:
        return dict(self.cash).get(currency, 0)

    def nominal_of(self, security: str) -> int:
        return dict(self.non_cash).get(security, 0)
