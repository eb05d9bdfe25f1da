"""The modules the gateway composes into its clearing core, in reaction order, with their data.

DCASS first (it owns positions and margin), then CCMS (it reacts to DCASS margin changes and drives
covered calls back into DCASS), then OTC Clear (independent).

Nothing here reads a file: the gateway's loader (``gateway.refdata``) reads and checks the data and
calls :func:`compose`. A DCASS factory whose data is not the shipped data carries
``journal_identity`` (a digest of that data), which the journal records so that it is never
replayed over other data.
"""
from __future__ import annotations

from .calendar import Calendar
from .core import ModuleSet


class ReferenceDataError(ValueError):
    """Reference data the gateway cannot use (the message names the file and the problem)."""


class DcassFactory:
    """``factory(core) -> DcassModule`` with its reference data ``data``; ``source`` and ``digest``
    say where data other than the shipped data came from (``reference`` is then that data, None
    for the shipped data)."""

    name = "dcass"

    def __init__(self, data, source: str = "", digest: str = ""):
        self.data = data
        self.reference = data if source else None
        self.source = source
        self.digest = digest
        # what the journal records and checks; nothing for the shipped data (journals written
        # before this setting existed stay readable)
        self.journal_identity = {"dcass_reference": {"digest": digest, "source": source}} if source else {}

    def __call__(self, core):
        from gateway.clearing.dcass import DcassModule
        return DcassModule(core, reference=self.data)

    def __repr__(self) -> str:
        return f"DcassFactory({self.source or 'shipped'})"


class CollateralFactory:
    """``factory(core) -> CollateralModule`` with its parameters."""

    name = "ccms"

    def __init__(self, params):
        self.params = params

    def __call__(self, core):
        from gateway.clearing.collateral import CollateralModule
        return CollateralModule(core, params=self.params)


class OtcFactory:
    """``factory(core) -> OtcClearModule`` with its parameters."""

    name = "otc"

    def __init__(self, params):
        self.params = params

    def __call__(self, core):
        from gateway.clearing.otc import OtcClearModule
        return OtcClearModule(core, params=self.params)


def compose(calendar: Calendar, dcass: DcassFactory, collateral_params, otc_params) -> ModuleSet:
    """Every module of the emulator, in reaction order, with the calendar (maker-checker last: it
    holds collateral withdrawals until a second user authorises them, then runs them in CCMS)."""
    from gateway.clearing.collateral.authorisation import MakerCheckerModule
    return ModuleSet([dcass, CollateralFactory(collateral_params), OtcFactory(otc_params), MakerCheckerModule],
                     calendar)


def data_identity(factories) -> dict:
    """What the factories' data is, when it is not the shipped data (recorded in a journal)."""
    out: dict = {}
    for f in factories or ():
        out.update(getattr(f, "journal_identity", None) or {})
    return out
