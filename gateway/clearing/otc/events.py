"""Events of OTC Clear settlement, on the member's dedicated "settlement" stream (``owner``), except
the public rate changes on the "general" stream. ``account`` and ``currency`` attributes (some
derived from the nested record) are what subscription filters match."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import ClassVar

from ..core import Event
from .model import Fixing, PaymentInstruction, Pvp, SettlementItem, Trade


class _InstructionEvent(Event):
    """Base of the payment instruction events (filter attributes from the instruction)."""

    __slots__ = ()
    instruction: PaymentInstruction

    @property
    def account(self) -> str:
        return self.instruction.account

    @property
    def currency(self) -> str:
        return self.instruction.currency


@dataclass(slots=True)
class OtcTradeRegistered(Event):
    STREAM: ClassVar[str] = "settlement"
    owner: str | None
    trade: Trade

    @property
    def account(self) -> str:
        return self.trade.account

    @property
    def currency(self) -> str:
        return self.trade.valuation_currency


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

    @property
    def account(self) -> str:
        return self.item.account

    @property
    def currency(self) -> str:
        return self.item.currency


@dataclass(slots=True)
class PaymentInstructionIssued(_InstructionEvent):
    STREAM: ClassVar[str] = "settlement"
    owner: str | None
    instruction: PaymentInstruction


@dataclass(slots=True)
class PaymentSettled(_InstructionEvent):
    STREAM: ClassVar[str] = "settlement"
    owner: str | None
    instruction: PaymentInstruction


@dataclass(slots=True)
class PaymentLate(_InstructionEvent):
    """A payment due from the member missed its cut-off (or a PvP exchange had no instruction)."""

    STREAM: ClassVar[str] = "settlement"
    owner: str | None
    instruction: PaymentInstruction


@dataclass(slots=True)
class PvpStatusChanged(Event):
    STREAM: ClassVar[str] = "settlement"
    owner: str | None
    pvp: Pvp

    @property
    def account(self) -> str:
        return self.pvp.account


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
    """Public (general stream): OTC Clear's PAI rate of a currency changed."""

    STREAM: ClassVar[str] = "general"
    currency: str
    rate: Decimal
    effective_from: date
    owner: str | None = None


@dataclass(slots=True)
class FxRateSet(Event):
    """Public (general stream): the FX rate used to value collateral changed."""

    STREAM: ClassVar[str] = "general"
    currency: str
    rate: Decimal
    effective_from: date
    owner: str | None = None
