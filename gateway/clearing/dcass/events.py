"""DCASS events (what became true). ``owner`` is the participant whose dedicated stream carries
the event; ``None`` means public. Streams: "trades" (trades, trade changes, give-ups),
"clearing" (positions, margin, exercise/assignment, deliveries, money, accounts), "general"
(prices)."""
from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime
from operator import attrgetter
from typing import ClassVar

from ..core import Event
from .model import (AccountType, DealKind, DeliveryDirection, ExerciseState, GiveUpState, OpenClose, Side, Trade,
                    TradeState)


def _of_trade(name: str) -> property:
    """A TradeEvent's field that is the booked trade's own (read from it: it never changes)."""
    return property(attrgetter("trade." + name), doc=f"The trade's ``{name}``.")


@dataclass(slots=True, eq=False, repr=False)
class TradeEvent(Event):
    """[BD6] A new trade in one of the owner's accounts; ``sequence`` is the owner's trade
    sequence number of the business date (from 1), the key of the missing-trades query.

    The event holds the booked trade itself rather than a copy of its fields: nothing of a trade
    changes after booking but its state and its moved and reserved quantities, so the event keeps
    the state the trade was booked in (``state``) and reads the rest from ``trade`` (properties of
    the old field names). Its fields are what the fan-out reads per broadcast (``owner`` and the
    subscription filter keys) and the series' name. It reports, compares and prints as the 19
    values of :data:`TRADE_EVENT_FIELDS`, the trade as it was at booking."""

    STREAM: ClassVar[str] = "trades"
    owner: str
    trade: Trade
    state: TradeState             # at booking (the trade's own may change later)
    series_name: str
    account_id: str = ""          # subscription filter keys
    clearing_house: str = ""
    instrument_class: str = ""
    underlying: str = ""

    @property
    def series_symbol(self) -> str:
        return self.series_name

    def values(self) -> tuple:
        """The values of :data:`TRADE_EVENT_FIELDS`, in that order."""
        return _trade_event_values(self)

    def __eq__(self, other: object) -> bool:
        if type(other) is not TradeEvent:
            return NotImplemented
        return self.values() == other.values()

    __hash__ = None   # type: ignore[assignment]   # as a dataclass that compares

    def __repr__(self) -> str:
        return "TradeEvent(" + ", ".join(f"{n}={v!r}" for n, v in zip(TRADE_EVENT_FIELDS, self.values())) + ")"


TRADE_EVENT_FIELDS = ("owner", "sequence", "business_date", "trade_no", "deal_no", "created", "account_id",
                      "series_key", "series_name", "side", "quantity", "price", "open_close", "kind", "state",
                      "orig_trade_no", "clearing_house", "instrument_class", "underlying")
"""What a TradeEvent reports, in the order of its repr."""
_trade_event_values = attrgetter(*TRADE_EVENT_FIELDS)

OF_TRADE = tuple(n for n in TRADE_EVENT_FIELDS if n not in {f.name for f in fields(TradeEvent)})
"""What a TradeEvent reads from its trade (the reported values that are not its own fields):
properties of the names they had when the event copied them."""
for _name in OF_TRADE:
    setattr(TradeEvent, _name, _of_trade(_name))
del _name


@dataclass(slots=True)
class TradeChanged(Event):
    """[BD39-like] A trade's adjustable quantity or state changed (give-up pending, moved...)."""

    STREAM: ClassVar[str] = "trades"
    owner: str
    trade_no: int
    state: TradeState
    available: int
    moved: int
    reserved: int


@dataclass(slots=True)
class GiveUpEvent(Event):
    """[BD29] A give-up was created or answered; sent to the giving and the receiving participant.
    ``sequence`` numbers the owner's give-up events of the business date."""

    STREAM: ClassVar[str] = "trades"
    owner: str
    sequence: int
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
    new_trade_nos: tuple[int, ...]
    created: datetime | None = None
    answered: datetime | None = None
    clearing_house: str = ""      # subscription filter keys
    instrument_class: str = ""
    underlying: str = ""

    @property
    def series_symbol(self) -> str:
        return self.series_name


@dataclass(slots=True)
class PositionChanged(Event):
    """[BD40] New state of one account's position in one series."""

    STREAM: ClassVar[str] = "clearing"
    owner: str
    clearing_house: str
    account_id: str
    account_type: AccountType
    series_key: bytes
    series_name: str
    long: int
    short: int
    exercise_pending: int
    exercised: int
    assigned: int
    covered: int
    deny_exercise: int
    instrument_class: str = ""     # subscription filter keys
    underlying: str = ""

    @property
    def series_symbol(self) -> str:
        return self.series_name


@dataclass(slots=True)
class MarginChanged(Event):
    """An account's margin requirement in one settlement currency changed (int cents)."""

    STREAM: ClassVar[str] = "clearing"
    owner: str
    clearing_house: str
    account_id: str
    account_type: AccountType
    currency: str
    requirement: int


@dataclass(slots=True)
class AccountOpened(Event):
    STREAM: ClassVar[str] = "clearing"
    owner: str
    account_id: str
    account_type: AccountType
    clearing_house: str


@dataclass(slots=True)
class ExerciseEvent(Event):
    """An exercise request was entered, annulled, processed or rejected (automatic ones too)."""

    STREAM: ClassVar[str] = "clearing"
    owner: str
    exercise_no: int
    state: ExerciseState
    account_id: str
    series_key: bytes
    series_name: str
    quantity: int
    processed_quantity: int
    automatic: bool
    business_date: date
    clearing_house: str = ""      # subscription filter keys
    instrument_class: str = ""
    underlying: str = ""

    @property
    def series_symbol(self) -> str:
        return self.series_name


@dataclass(slots=True)
class AssignmentEvent(Event):
    """Short contracts of the owner's account were assigned by the random draw."""

    STREAM: ClassVar[str] = "clearing"
    owner: str
    account_id: str
    series_key: bytes
    series_name: str
    quantity: int
    business_date: date
    clearing_house: str = ""      # subscription filter keys
    instrument_class: str = ""
    underlying: str = ""

    @property
    def series_symbol(self) -> str:
        return self.series_name


@dataclass(slots=True)
class DeliveryObligationEvent(Event):
    """A stock delivery obligation from exercise or assignment (settled in CCASS)."""

    STREAM: ClassVar[str] = "clearing"
    owner: str
    obligation_no: int
    account_id: str
    series_key: bytes
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
    series_name: str = ""
    clearing_house: str = ""      # subscription filter keys
    instrument_class: str = ""
    underlying: str = ""


@dataclass(slots=True)
class MoneyObligationEvent(Event):
    """End of day: what the owner receives (+) or pays (-) for one clearing house and currency."""

    STREAM: ClassVar[str] = "clearing"
    owner: str
    clearing_house: str
    currency: str
    business_date: date
    variation: int
    premium: int
    fees: int
    cash_settlement: int
    net: int


@dataclass(slots=True)
class SettlementPriceSet(Event):
    STREAM: ClassVar[str] = "general"
    series_key: bytes
    series_name: str
    price: int
    business_date: date
    owner: str | None = None


@dataclass(slots=True)
class UnderlyingPriceSet(Event):
    STREAM: ClassVar[str] = "general"
    underlying: str
    price: int
    business_date: date
    owner: str | None = None
