"""SPAN-style margin (a simplified PRiME): pure functions, Decimal arithmetic, no floats.

Per account and *combined commodity* (every class on one underlying, so HSI futures and HSI
options offset each other):

1. **Scanning risk.** The reference price ``R`` of each position (futures: settlement price;
   options: the underlying price) moves to ``R x (1 + s/divisor x scan_range)`` for every
   scenario ``s`` in ``scenarios``. A future is worth its price; an option is worth its
   intrinsic value at the scenario underlying price plus today's time value
   (``max(0, premium - intrinsic today)``), so no pricing model and no volatility scan are needed.
   The scanning risk is the largest loss of the whole portfolio over the scenarios (0 if none
   loses): long and short positions in the combined commodity offset each other here.
2. **Intermonth spread charge.** Futures positions netted per expiry; spreads =
   min(sum of long expiries, sum of short expiries); charge = spreads x charge per spread. It adds
   back the basis risk the scan nets away between months.
3. **Short option minimum.** Uncovered short option contracts x minimum per contract.

Requirement = max(scanning risk + spread charge, short option minimum), rounded UP to the cent.
A gross account (omnibus client, daily, sink) is margined as two portfolios, its long positions
and its short positions, so no client's long offsets another client's short; a net account as one.
Covered short calls are left out before margining (the caller passes uncovered shorts).
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from typing import Callable, Iterable

from .model import CallPut
from .refdata import RiskParams, Series

_ONE_CENT = Decimal(1)


@dataclass(frozen=True, slots=True)
class MarginLeg:
    series: Series
    quantity: int   # signed: long positive, short negative (covered short calls already removed)


@dataclass(frozen=True, slots=True)
class Breakdown:
    """How one portfolio's requirement was reached (currency units, Decimal)."""

    scan_risk: Decimal
    worst_scenario: int
    spread_charge: Decimal
    short_option_minimum: Decimal
    requirement_cents: int


def _units(value: int, decimals: int) -> Decimal:
    return Decimal(value).scaleb(-decimals)


def _intrinsic(cp: CallPut, underlying: Decimal, strike: Decimal) -> Decimal:
    if cp is CallPut.CALL:
        return max(Decimal(0), underlying - strike)
    return max(Decimal(0), strike - underlying)


def portfolio(legs: Iterable[MarginLeg], risk: RiskParams, series_price: Callable[[Series], int],
              underlying_price: int, underlying_decimals: int, scenarios: tuple[int, ...],
              divisor: int) -> Breakdown:
    """Requirement of one portfolio of one combined commodity."""
    legs = [leg for leg in legs if leg.quantity]
    if not legs:
        return Breakdown(Decimal(0), 0, Decimal(0), Decimal(0), 0)
    u_now = _units(underlying_price, underlying_decimals)
    losses = []
    for s in scenarios:
        move = Decimal(s) * risk.scan_range / Decimal(divisor)
        loss = Decimal(0)
        for leg in legs:
            cls = leg.series.cls
            p_now = _units(series_price(leg.series), cls.price_decimals)
            if cls.is_option:
                k = _units(leg.series.strike, cls.strike_decimals)
                intr_now = _intrinsic(leg.series.call_put, u_now, k)
                time_value = max(Decimal(0), p_now - intr_now)
                v_s = _intrinsic(leg.series.call_put, u_now * (1 + move), k) + time_value
            else:
                v_s = p_now * (1 + move)
            loss += (p_now - v_s) * leg.quantity * cls.multiplier
        losses.append((loss, s))
    worst_loss, worst_s = max(losses, key=lambda t: (t[0], -abs(t[1]), t[1]))
    scan = max(Decimal(0), worst_loss)
    per_expiry: dict = {}
    for leg in legs:
        if not leg.series.is_option:
            per_expiry[leg.series.expiry] = per_expiry.get(leg.series.expiry, 0) + leg.quantity
    longs = sum(q for q in per_expiry.values() if q > 0)
    shorts = -sum(q for q in per_expiry.values() if q < 0)
    spread = Decimal(min(longs, shorts) * risk.intermonth_spread_charge) / 100
    short_options = sum(-leg.quantity for leg in legs if leg.series.is_option and leg.quantity < 0)
    som = Decimal(short_options * risk.short_option_minimum) / 100
    req = max(scan + spread, som)
    cents = int((req * 100).quantize(_ONE_CENT, rounding=ROUND_CEILING))
    return Breakdown(scan, worst_s if scan else 0, spread, som, cents)


def account_requirement(positions: Iterable[tuple[Series, int, int]], gross: bool,
                        risk: dict[str, RiskParams], series_price: Callable[[Series], int],
                        underlying_price: Callable[[str], int], underlying_decimals: Callable[[str], int],
                        scenarios: tuple[int, ...], divisor: int) -> dict[str, int]:
    """Requirement per settlement currency (cents) of one account.

    ``positions``: (series, long, uncovered short). Gross accounts margin longs and shorts as two
    portfolios; net accounts margin ``long - short`` as one.
    """
    by_und: dict[str, list[tuple[Series, int, int]]] = {}
    for s, lg, sh in positions:
        if lg or sh:
            by_und.setdefault(s.cls.underlying, []).append((s, lg, sh))
    out: dict[str, int] = {}
    for und in sorted(by_und):
        rows = by_und[und]
        currency = rows[0][0].cls.currency
        if gross:
            books = [[MarginLeg(s, lg) for s, lg, _ in rows], [MarginLeg(s, -sh) for s, _, sh in rows]]
        else:
            books = [[MarginLeg(s, lg - sh) for s, lg, sh in rows]]
        total = 0
        for legs in books:
            total += portfolio(legs, risk[und], series_price, underlying_price(und),
                               underlying_decimals(und), scenarios, divisor).requirement_cents
        out[currency] = out.get(currency, 0) + total
    return out
