"""The modules the gateway composes into its clearing core, in reaction order.

DCASS first (it owns positions and margin), then CCMS (it reacts to DCASS margin changes and drives
covered calls back into DCASS), then OTC Clear (independent)."""
from __future__ import annotations


def module_factories(settings=None) -> list:
    """The module factories (``factory(core) -> Module``); ``settings`` (the gateway's ``Settings``)
    may choose their data."""
    from gateway.clearing.collateral import CollateralModule
    from gateway.clearing.dcass import DcassModule
    from gateway.clearing.otc import OtcClearModule
    return [DcassModule, CollateralModule, OtcClearModule]
