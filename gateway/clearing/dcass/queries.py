"""DCASS queries (frozen dataclasses handled through ``DcassModule.queries()``) and the records
they answer with. Every answer is a list (possibly empty), ordered deterministically."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from .model import (AccountType, CallPut, DealKind, DeliveryDirection, ExerciseState, GiveUpState,
                    InstrumentKind, OpenClose, Side, TradeState)


# ---------------------------------------------------------------- reference data [DQ]
@dataclass(frozen=True, slots=True)
class ClearingHousesQuery:
    pass


@dataclass(frozen=True, slots=True)
class ClearingHouseInfo:
    id: str
    name: str
    market: int


@dataclass(frozen=True, slots=True)
class InstrumentClassesQuery:
    clearing_house: str = ""      # "" = all


@dataclass(frozen=True, slots=True)
class InstrumentClassInfo:
    class_id: str
    symbol: str
    name: str
    kind: InstrumentKind
    asset: str
    underlying: str
    stock_code: str
    clearing_house: str
    currency: str
    multiplier: int               # currency units per 1.00 of price; contract size for stock options
    price_decimals: int
    strike_decimals: int
    underlying_price_decimals: int
    settlement: str
    exercise_style: str
    money_decimals: int = 2


@dataclass(frozen=True, slots=True)
class SeriesQuery:
    class_id: str = ""            # "" = all classes
    series_key: bytes | None = None
    include_expired: bool = False


@dataclass(frozen=True, slots=True)
class SeriesInfo:
    series_key: bytes
    name: str
    class_id: str
    expiry: date
    strike: int
    call_put: CallPut
    price_decimals: int
    strike_decimals: int
    expired: bool


@dataclass(frozen=True, slots=True)
class UnderlyingsQuery:
    pass


@dataclass(frozen=True, slots=True)
class UnderlyingInfo:
    underlying: str
    name: str
    kind: str
    commodity: int
    stock_code: str
    price_decimals: int
    price: int                    # current (operator-set, else the shipped reference price)


@dataclass(frozen=True, slots=True)
class ParticipantsQuery:
    pass


@dataclass(frozen=True, slots=True)
class ParticipantInfo:
    participant: str
    name: str
    clearing_houses: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AccountsQuery:
    participant: str


@dataclass(frozen=True, slots=True)
class AccountInfo:
    participant: str
    account_id: str
    account_type: AccountType
    clearing_house: str
    gross: bool


# ---------------------------------------------------------------- trades [CQ10/CQ11]
@dataclass(frozen=True, slots=True)
class TradesQuery:
    participant: str
    account_id: str = ""
    series_key: bytes | None = None
    from_time: datetime | None = None     # inclusive, on the trade's creation time
    to_time: datetime | None = None       # inclusive
    business_date: date | None = None     # None: every date


@dataclass(frozen=True, slots=True)
class MissingTradesQuery:
    """[CQ10] Trades whose owner sequence number is in [first_sequence, last_sequence] of a date."""

    participant: str
    first_sequence: int
    last_sequence: int
    business_date: date | None = None     # None: the current business date


@dataclass(frozen=True, slots=True)
class TradeHistoryQuery:
    """A trade, the trade it adjusts (if any) and every trade made from it, recursively, that
    belongs to the participant."""

    participant: str
    trade_no: int


@dataclass(frozen=True, slots=True)
class TradeInfo:
    trade_no: int
    deal_no: int
    sequence: int
    business_date: date
    created: datetime
    participant: str
    account_id: str
    series_key: bytes
    series_name: str
    side: Side
    quantity: int
    price: int
    open_close: OpenClose
    kind: DealKind
    state: TradeState
    available: int
    moved: int
    reserved: int
    orig_trade_no: int
    children: tuple[int, ...]


# ---------------------------------------------------------------- give-ups [CQ61]
@dataclass(frozen=True, slots=True)
class GiveUpsQuery:
    participant: str
    state: GiveUpState | None = None
    business_date: date | None = None


@dataclass(frozen=True, slots=True)
class GiveUpInfo:
    give_up_no: int
    state: GiveUpState
    giver: str
    receiver: str
    trade_no: int
    series_key: bytes
    series_name: str
    side: Side
    price: int
    quantity: int
    text: str
    reason: str
    business_date: date
    created: datetime
    answered: datetime | None
    new_trade_nos: tuple[int, ...]


# ---------------------------------------------------------------- positions [CQ3]
@dataclass(frozen=True, slots=True)
class PositionsQuery:
    participant: str
    account_id: str = ""
    series_key: bytes | None = None


@dataclass(frozen=True, slots=True)
class PositionInfo:
    participant: str
    account_id: str
    account_type: AccountType
    clearing_house: str
    series_key: bytes
    series_name: str
    long: int
    short: int
    net: int
    exercise_pending: int
    exercised: int
    assigned: int
    covered: int
    deny_exercise: int


@dataclass(frozen=True, slots=True)
class ShortCallPosition:
    """For CCMS covered calls: one short stock call position."""

    series_key: bytes
    underlying: str       # stock code, e.g. "0700"
    contract_size: int    # shares per contract
    short: int
    covered: int


# ---------------------------------------------------------------- exercise [CQ21]
@dataclass(frozen=True, slots=True)
class ExercisesQuery:
    participant: str
    business_date: date | None = None


@dataclass(frozen=True, slots=True)
class ExerciseInfo:
    exercise_no: int
    state: ExerciseState
    participant: str
    account_id: str
    series_key: bytes
    series_name: str
    quantity: int
    processed_quantity: int
    automatic: bool
    business_date: date
    created: datetime


@dataclass(frozen=True, slots=True)
class DeliveryObligationsQuery:
    participant: str
    business_date: date | None = None     # exercise date; None: all


@dataclass(frozen=True, slots=True)
class DeliveryInfo:
    obligation_no: int
    participant: str
    account_id: str
    series_key: bytes
    series_name: str
    stock_code: str
    direction: DeliveryDirection
    shares: int
    amount: int
    currency: str
    exercise_date: date
    settlement_date: date
    origin: str
    lots: int
    covered_lots: int


# ---------------------------------------------------------------- risk and money
@dataclass(frozen=True, slots=True)
class MarginQuery:
    participant: str
    account_id: str = ""


@dataclass(frozen=True, slots=True)
class MoneyObligationsQuery:
    participant: str
    business_date: date | None = None     # None: the latest date computed
    by_account: bool = False


@dataclass(frozen=True, slots=True)
class MoneyObligationInfo:
    """Signed from the participant's view: positive = receives, negative = pays (cents)."""

    participant: str
    account_id: str                       # "" when aggregated per clearing house and currency
    clearing_house: str
    currency: str
    business_date: date
    variation: int
    premium: int
    fees: int
    cash_settlement: int
    net: int


@dataclass(frozen=True, slots=True)
class SettlementPricesQuery:
    series_key: bytes | None = None


@dataclass(frozen=True, slots=True)
class SettlementPriceInfo:
    series_key: bytes
    series_name: str
    price: int | None                     # today's, set by the operator
    previous: int | None                  # previous business day's
    last_trade: int | None                # last exchange trade price today


# ---------------------------------------------------------------- replies of transactions
@dataclass(frozen=True, slots=True)
class Booked:
    """Reply of every transaction that books deals: the new deal and trade numbers, in order."""

    deal_nos: tuple[int, ...]
    trade_nos: tuple[int, ...]

    @classmethod
    def of(cls, deals) -> "Booked":
        trade_nos: list[int] = []
        for d in deals:
            trade_nos += d.trade_nos
        return cls(tuple([d.deal_no for d in deals]), tuple(trade_nos))
