"""DCASS enumerations and the mutable records of the module state.

Enum values are small integers so that the wire protocol can carry them as they are.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import IntEnum


class AccountType(IntEnum):
    HOUSE = 1
    MARKET_MAKER = 2
    OMNIBUS_CLIENT = 3
    INDIVIDUAL_CLIENT = 4
    DAILY = 5
    SINK = 6

    @property
    def gross(self) -> bool:
        """Positions kept (and margined) gross: omnibus client, daily/transitory and sink."""
        return self in GROSS_ACCOUNT_TYPES

    @property
    def client(self) -> bool:
        return self in (AccountType.OMNIBUS_CLIENT, AccountType.INDIVIDUAL_CLIENT)


GROSS_ACCOUNT_TYPES = frozenset({AccountType.OMNIBUS_CLIENT, AccountType.DAILY, AccountType.SINK})
#: Account types a participant may open itself (daily and sink are system accounts).
OPENABLE_ACCOUNT_TYPES = frozenset({AccountType.HOUSE, AccountType.MARKET_MAKER,
                                    AccountType.OMNIBUS_CLIENT, AccountType.INDIVIDUAL_CLIENT})


class Side(IntEnum):
    BUY = 1
    SELL = 2

    @property
    def opposite(self) -> "Side":
        return Side.SELL if self is Side.BUY else Side.BUY

    @property
    def sign(self) -> int:
        return 1 if self is Side.BUY else -1


class OpenClose(IntEnum):
    OPEN = 1
    CLOSE = 2

    @property
    def opposite(self) -> "OpenClose":
        return OpenClose.CLOSE if self is OpenClose.OPEN else OpenClose.OPEN


class DealKind(IntEnum):
    """Where a deal comes from (the deal source)."""

    EXCHANGE = 1          # match injected by the operator (HKATS)
    GIVE_UP = 2           # take-up of a give-up
    RECTIFY = 3           # rectify trade (split over accounts)
    TRANSITORY = 4        # transfer from the daily/transitory account
    POSITION_TRANSFER = 5 # position transfer between own accounts
    OPEN_CLOSE = 6        # open/close adjustment
    CLOSE_OUT = 7         # close-out of long against short in a gross account
    SINK = 8              # end of day: what is left in daily moves to sink


class TradeState(IntEnum):
    ACTIVE = 1            # nothing moved out of it
    PARTLY_ADJUSTED = 2   # part of the quantity moved by a later deal
    ADJUSTED = 3          # all of the quantity moved by later deals
    REVERSAL = 4          # the reversing leg of an adjustment (not adjustable itself)


class GiveUpState(IntEnum):
    PENDING = 1
    CONFIRMED = 2
    REJECTED = 3
    EXPIRED = 4           # nobody answered by the give-up cut-off: returned to the giver


class ExerciseState(IntEnum):
    PENDING = 1
    ANNULLED = 2
    PROCESSED = 3
    REJECTED = 4          # at processing, the long position no longer covered the request


class InstrumentKind(IntEnum):
    FUTURE = 1
    OPTION = 2


class CallPut(IntEnum):
    NONE = 0
    CALL = 1
    PUT = 2


class DeliveryDirection(IntEnum):
    RECEIVE = 1   # receive the stock, pay the strike amount
    DELIVER = 2   # deliver the stock, receive the strike amount


@dataclass
class Account:
    participant: str
    account_id: str
    account_type: AccountType
    clearing_house: str
    opened: date | None = None   # None: shipped with the reference data

    @property
    def gross(self) -> bool:
        return self.account_type.gross


@dataclass
class Position:
    """One account's position in one series. ``exercise_pending`` is the quantity of pending
    exercise requests (processed at end of day); ``exercised``/``assigned`` accumulate processed
    quantities; ``covered`` short calls (set by CCMS) never exceed ``short``."""

    participant: str
    account_id: str
    series_key: bytes
    long: int = 0
    short: int = 0
    exercise_pending: int = 0
    exercised: int = 0
    assigned: int = 0
    covered: int = 0
    deny_exercise: int = 0
    carried: int = 0        # net position at the start of the business day (for variation)

    def quantities(self) -> tuple:
        return (self.long, self.short, self.exercise_pending, self.exercised, self.assigned,
                self.covered, self.deny_exercise)


@dataclass(slots=True)
class Trade:
    """One booked trade. Only ``state``, ``moved``, ``reserved`` and ``children`` change after booking
    (a trade broadcast reads the rest from the trade itself, see ``TradeEvent``). Slotted, as every
    record the day keeps by the hundred thousand: no per-object dict (half the memory, and cheaper
    to build)."""

    trade_no: int
    deal_no: int
    participant: str
    account_id: str
    series_key: bytes
    side: Side
    quantity: int
    price: int
    open_close: OpenClose
    kind: DealKind
    business_date: date
    created: datetime
    sequence: int                  # per participant and business date, from 1
    state: TradeState = TradeState.ACTIVE
    moved: int = 0                 # quantity moved out by later deals
    reserved: int = 0              # quantity in pending give-ups
    orig_trade_no: int = 0         # the trade this one adjusts (0: none)
    children: tuple[int, ...] = ()   # trade numbers of deals made from this one, in booking order

    @property
    def available(self) -> int:
        if self.state is TradeState.REVERSAL:
            return 0
        return self.quantity - self.moved - self.reserved


@dataclass(slots=True)
class Deal:
    deal_no: int
    series_key: bytes
    price: int
    quantity: int
    kind: DealKind
    business_date: date
    created: datetime
    trade_nos: list
    orig_trade_no: int = 0


@dataclass
class GiveUp:
    give_up_no: int
    giver: str
    receiver: str
    trade_no: int
    series_key: bytes
    quantity: int
    text: str
    business_date: date
    created: datetime
    state: GiveUpState = GiveUpState.PENDING
    answered: datetime | None = None
    reason: str = ""
    new_trade_nos: list = field(default_factory=list)


@dataclass
class ExerciseRequest:
    exercise_no: int
    participant: str
    account_id: str
    series_key: bytes
    quantity: int
    business_date: date
    created: datetime
    automatic: bool = False
    state: ExerciseState = ExerciseState.PENDING
    processed_quantity: int = 0


@dataclass
class DeliveryObligation:
    obligation_no: int
    participant: str
    account_id: str
    series_key: bytes
    stock_code: str
    direction: DeliveryDirection
    shares: int
    amount: int                 # cents, strike x shares, paid by the receiver of the stock
    currency: str
    exercise_date: date
    settlement_date: date
    origin: str                 # "EXERCISE" or "ASSIGNMENT"
    lots: int
    covered_lots: int = 0       # assigned lots that were covered calls (stock held in CCMS)


@dataclass
class MoneyObligation:
    """Money one account owes (negative) or receives (positive) for one business date."""

    participant: str
    account_id: str
    clearing_house: str
    currency: str
    business_date: date
    variation: int = 0
    premium: int = 0
    fees: int = 0
    cash_settlement: int = 0

    @property
    def net(self) -> int:
        return self.variation + self.premium + self.fees + self.cash_settlement
