"""Events of OTC Clear settlement, all on the "settlement" stream. ``owner`` is the member whose
dedicated stream carries the event (None = public: rate changes)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import ClassVar

from ..core import Event
from .model import Fixing, PaymentInstruction, Pvp, SettlementItem, Trade


@dataclass(slots=True)
class OtcTradeRegistered(Event):
    STREAM: ClassVar[str] = "settlement"
    owner: str | None
    trade: Trade


@dataclass(slots=True)
class RateFixingSet(Event):
    STREAM: ClassVar[str] = "settlement"
    owner: str | None
    fixing: Fixing


@dataclass(slots=True)
class MtmSet(Event):
    STREAM: ClassVar[str] = "settlement"
    owner: str | None
    trade_id: str
    currency: str
    mtm: int
    now: datetime


@dataclass(slots=True)
class SettlementItemCreated(Event):
    """A computed amount of one settlement type (published: types 5, 6 and 10 at their call time)."""

    STREAM: ClassVar[str] = "settlement"
    owner: str | None
    item: SettlementItem


@dataclass(slots=True)
class PaymentInstructionIssued(Event):
    STREAM: ClassVar[str] = "settlement"
    owner: str | None
    instruction: PaymentInstruction


@dataclass(slots=True)
class PaymentSettled(Event):
    STREAM: ClassVar[str] = "settlement"
    owner: str | None
    instruction: PaymentInstruction


@dataclass(slots=True)
class PaymentLate(Event):
    """A payment due from the member missed its cut-off (or a PvP exchange had no instruction)."""

    STREAM: ClassVar[str] = "settlement"
    owner: str | None
    instruction: PaymentInstruction


@dataclass(slots=True)
class PvpStatusChanged(Event):
    STREAM: ClassVar[str] = "settlement"
    owner: str | None
    pvp: Pvp


@dataclass(slots=True)
class MarginRequirementSet(Event):
    STREAM: ClassVar[str] = "settlement"
    owner: str | None
    account: str
    currency: str
    im_requirement: int
    holiday_margin: int


@dataclass(slots=True)
class NonCashCollateralMoved(Event):
    STREAM: ClassVar[str] = "settlement"
    owner: str | None
    account: str
    security: str
    nominal: int   # + deposited, - withdrawn
    holding: int   # nominal held afterwards
    now: datetime


@dataclass(slots=True)
class GuaranteeFundRequirementSet(Event):
    STREAM: ClassVar[str] = "settlement"
    owner: str | None
    currency: str
    requirement: int


@dataclass(slots=True)
class PaiRateSet(Event):
    STREAM: ClassVar[str] = "settlement"
    currency: str
    rate: Decimal
    effective_from: date
    owner: str | None = None


@dataclass(slots=True)
class FxRateSet(Event):
    STREAM: ClassVar[str] = "settlement"
    currency: str
    rate: Decimal
    effective_from: date
    owner: str | None = None
