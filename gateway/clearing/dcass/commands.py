"""DCASS commands (transactions): frozen dataclasses handled through ``DcassModule.commands()``;
the commands of the busiest paths are named tuples (:class:`InjectDeal`, one per deal of a trade
feed; :class:`GiveUpTrade`, :class:`TransferPosition` and :class:`RequestExercise`, the post-trade
transactions): as immutable, and journaled in the same form (``gateway.journal.codec``), but a
frozen dataclass's ``__init__`` sets each field through ``object.__setattr__`` (about 1,200
instructions a field: a transfer's seven fields cost 11,600, its named tuple about 3,500).

Quantities are contracts (int), prices and strikes ints in the class's decimals, series keys the
12-byte keys of :mod:`.refdata`. ``participant`` names the clearing participant the command is
for; a participant may only act for itself (the operator may act for anyone).
OMnet numbers in brackets are the public ones the protocol keeps.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from .model import AccountType, OpenClose


@dataclass(frozen=True, slots=True)
class Allocation:
    """One item of a take-up or rectification: quantity into an account with an open/close flag."""

    account_id: str
    quantity: int
    open_close: OpenClose = OpenClose.OPEN


# ---------------------------------------------------------------- operator
class InjectDeal(NamedTuple):
    """Operator: an exchange match (one deal, a buy trade and a sell trade). Empty account ids
    mean the participant's daily/transitory account of the series' clearing house.

    A named tuple (see above): a trade feed carries hundreds per request."""

    series_key: bytes
    price: int
    quantity: int
    buyer: str
    seller: str
    buyer_account: str = ""
    seller_account: str = ""
    buyer_open_close: OpenClose = OpenClose.OPEN
    seller_open_close: OpenClose = OpenClose.OPEN
    trade_time: datetime | None = None   # execution time; default: business time of the command


@dataclass(frozen=True, slots=True)
class InjectDeals:
    """Operator: many exchange matches at once (a trade feed), 1 to ``max_deals_per_injection``
    (parameters.toml). All or nothing: every deal is checked before any is booked; then they are
    booked in order as by :class:`InjectDeal`, and each (account, series) and each account's margin
    is reported once, with its final state."""

    deals: tuple[InjectDeal, ...]


@dataclass(frozen=True, slots=True)
class SetSettlementPrice:
    """Operator: today's settlement price of a series (price decimals of its class)."""

    series_key: bytes
    price: int


@dataclass(frozen=True, slots=True)
class SetUnderlyingPrice:
    """Operator: closing price of an underlying (index level, stock price...), used for option
    margin scenarios, automatic exercise and cash settlement of index options."""

    underlying: str
    price: int


# ---------------------------------------------------------------- participant
@dataclass(frozen=True, slots=True)
class OpenAccount:
    participant: str
    account_id: str
    account_type: AccountType
    clearing_house: str


class GiveUpTrade(NamedTuple):
    """[CD35] Give up all or part of a trade to another participant."""

    participant: str
    trade_no: int
    quantity: int
    to_participant: str
    text: str = ""


@dataclass(frozen=True, slots=True)
class ConfirmGiveUp:
    """[CC38] Take up a give-up addressed to the participant, allocating it into its accounts."""

    participant: str
    give_up_no: int
    allocations: tuple[Allocation, ...]


@dataclass(frozen=True, slots=True)
class RejectGiveUp:
    """[CC40] Reject a give-up addressed to the participant."""

    participant: str
    give_up_no: int
    reason: str = ""


@dataclass(frozen=True, slots=True)
class RectifyTrade:
    """[CD28] Split (part of) a trade over several own accounts."""

    participant: str
    trade_no: int
    items: tuple[Allocation, ...]


@dataclass(frozen=True, slots=True)
class TransferFromTransitory:
    """[CD5] Move (part of) a trade out of the daily/transitory account."""

    participant: str
    trade_no: int
    account_id: str
    quantity: int
    open_close: OpenClose = OpenClose.OPEN


class TransferPosition(NamedTuple):
    """[CD34] Move long and/or short quantity of a series between two own accounts, at ``price``
    (default: the latest settlement price, else the last trade price)."""

    participant: str
    series_key: bytes
    from_account: str
    to_account: str
    long_quantity: int = 0
    short_quantity: int = 0
    price: int | None = None


@dataclass(frozen=True, slots=True)
class OpenCloseAdjustment:
    """Change the open/close flag of (part of) a trade."""

    participant: str
    trade_no: int
    quantity: int
    open_close: OpenClose


@dataclass(frozen=True, slots=True)
class CloseOut:
    """[CD54] Close out long against short in a gross account."""

    participant: str
    account_id: str
    series_key: bytes
    quantity: int


class RequestExercise(NamedTuple):
    """[CC13] Exercise request on a long stock option position (processed at end of day)."""

    participant: str
    account_id: str
    series_key: bytes
    quantity: int


@dataclass(frozen=True, slots=True)
class AnnulExercise:
    """[CC15] Annul a pending exercise request."""

    participant: str
    exercise_no: int


@dataclass(frozen=True, slots=True)
class DenyExercise:
    """[CC14] Set the quantity of a long position that automatic exercise must leave alone
    (0 clears it)."""

    participant: str
    account_id: str
    series_key: bytes
    quantity: int
