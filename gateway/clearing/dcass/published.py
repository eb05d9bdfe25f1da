"""What DCASS publishes for the other modules of the core: the event types they may react to.

A consumer imports the types from here (``from ..dcass.published import MarginChanged``) and
matches them by type, so a renamed event or field breaks an import and a test, never silently
the reaction. Every DCASS event also reaches the gateway as a broadcast; only those listed here are
an interface between modules.
"""
from __future__ import annotations

from datetime import date
from typing import Protocol, runtime_checkable

from .events import MarginChanged, PositionChanged

PUBLISHED: tuple[type, ...] = (MarginChanged, PositionChanged)
"""Event types other modules react to (CCMS: a margin requirement of a DCASS account, and a position
whose covered quantity fell below CCMS's cover record)."""


@runtime_checkable
class DcassForCollateral(Protocol):
    """What CCMS calls on DCASS directly (besides the events above): accounts, margin requirements,
    short calls and their cover, the input cut-off, the money of a business date it settles, and the
    stock deliveries of exercise and assignment it settles in CCASS."""

    def account(self, participant: str, account_id: str): ...

    def input_cutoff(self): ...

    def margin_requirements(self, participant: str) -> list: ...

    def short_call_positions(self, participant: str, account_id: str) -> list: ...

    def set_covered(self, participant: str, account_id: str, series_key: bytes, covered_qty: int, *args, **kwargs): ...

    def money_of_day(self, on: date) -> list: ...

    def deliveries_of_day(self, on: date) -> list: ...
