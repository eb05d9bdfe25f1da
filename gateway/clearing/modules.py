"""The modules the gateway composes into its clearing core, in reaction order.

DCASS first (it owns positions and margin), then CCMS (it reacts to DCASS margin changes and drives
covered calls back into DCASS), then OTC Clear (independent)."""
from __future__ import annotations


def module_factories() -> list:
    from gateway.clearing.collateral import CollateralModule
    from gateway.clearing.dcass import DcassModule
    from gateway.clearing.otc import OtcClearModule
    return [DcassModule, CollateralModule, OtcClearModule]
