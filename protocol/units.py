"""The fixed-point units of the protocol, declared once for every message that carries them.

Money is an integer number of cents and needs no type of its own; DCASS prices and strikes carry
the decimals of their class in the message (``price_decimals``), so they stay plain integers.
"""
from __future__ import annotations

from .codec import I32, I64, Fixed

RATE = Fixed(I64, 8)
"""Interest rates, FX rates, haircuts and spreads: 8 decimals (3.65% = 0.0365 = 3650000)."""

COLLATERAL_PRICE = Fixed(I32, 4)
"""Prices of non-cash collateral: 4 decimals (debt per 100 nominal, stocks per share)."""
