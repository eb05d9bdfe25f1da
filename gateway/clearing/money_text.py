"""Money in human-readable texts (rejection details, descriptions): the currency and the amount with
its decimals, never bare minor units ("HKD 0.01", not "HKD 1").

Every currency the emulator handles counts money in minor units with 2 decimals (the data files
say so: collateral/parameters.toml, otc/parameters.toml).
"""
from __future__ import annotations

from decimal import Decimal

MINOR_DECIMALS = 2


def money(currency: str, minor: int) -> str:
    """``money("HKD", 1)`` -> ``"HKD 0.01"``; ``money("USD", -123456)`` -> ``"USD -1,234.56"``."""
    value = Decimal(int(minor)).scaleb(-MINOR_DECIMALS)
    return f"{currency} {value:,.{MINOR_DECIMALS}f}"
