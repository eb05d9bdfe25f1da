"""SPAN-style margin (a simplified PRiME): pure functions, exact arithmetic, no floats.

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

A portfolio's loss in a scenario is linear in its quantities: sum of quantity x the loss of one
long contract. Those unit losses are computed exactly (``fractions.Fraction``: a third of a scan
range is not a finite decimal) once per series and prices, then held as integers in units of
1/D of the currency, D = divisor x 10^(scan range decimals + price/strike decimals + 2) of the
combined commodity, which makes every one of them whole. A :class:`Book` keeps the running integer
sums, so a position change costs a few integer additions, not a revaluation. Only the final
requirement becomes money: int cents, rounded up.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Callable, Iterable

from .model import CallPut
from .refdata import RiskParams, Series

_ZERO = Fraction(0)


@dataclass(frozen=True, slots=True)
class MarginLeg:
    series: Series
    quantity: int   # signed: long positive, short negative (covered short calls already removed)


@dataclass(frozen=True, slots=True)
class Breakdown:
    """How one portfolio's requirement was reached (currency units)."""

    scan_risk: Decimal          # rounded to 1e-20 for display; the requirement uses the exact value
    worst_scenario: int
    spread_charge: Decimal
    short_option_minimum: Decimal
    requirement_cents: int


def _units(value: int, decimals: int) -> Fraction:
    return Fraction(value, 10 ** decimals)


def _intrinsic(cp: CallPut, underlying: Fraction, strike: Fraction) -> Fraction:
    if cp is CallPut.CALL:
        return max(_ZERO, underlying - strike)
    return max(_ZERO, strike - underlying)


def scale(risk: RiskParams, decimals: int, divisor: int) -> int:
    """D of a combined commodity whose prices, strikes and underlying use at most ``decimals``."""
    exponent = -risk.scan_range.normalize().as_tuple().exponent
    return divisor * 10 ** (max(0, exponent) + decimals + 2)


def unit_losses(series: Series, price: int, underlying_price: int, underlying_decimals: int, risk: RiskParams,
                scenarios: tuple[int, ...], divisor: int, d: int) -> tuple[int, ...]:
    """Loss of ONE long contract in each scenario, in 1/``d`` currency units (negative = gain)."""
    cls = series.cls
    p_now = _units(price, cls.price_decimals)
    u_now = _units(underlying_price, underlying_decimals)
    scan = Fraction(str(risk.scan_range))
    out = []
    for s in scenarios:
        move = Fraction(s, divisor) * scan
        if cls.is_option:
            k = _units(series.strike, cls.strike_decimals)
            time_value = max(_ZERO, p_now - _intrinsic(series.call_put, u_now, k))
            v_s = _intrinsic(series.call_put, u_now * (1 + move), k) + time_value
        else:
            v_s = p_now * (1 + move)
        x = (p_now - v_s) * cls.multiplier * d
        if x.denominator != 1:
            raise ValueError(f"{series.name}: scale {d} does not make the unit loss whole")
        out.append(x.numerator)
    return tuple(out)


_ADDERS: dict[int, Callable] = {}


def _adder(n: int) -> Callable:
    """``add(vec, unit, q)``: the list ``vec[i] + q * unit[i]`` for vectors of ``n`` scenarios,
    written out once per ``n`` (every position change runs it; about twice as fast as a loop or a
    comprehension)."""
    add = _ADDERS.get(n)
    if add is None:
        ns: dict = {}
        exec("def add(v, u, q):\n    return [" + ", ".join(f"v[{i}] + q * u[{i}]" for i in range(n)) + "]\n", ns)
        add = _ADDERS[n] = ns["add"]
    return add


@dataclass(slots=True)
class Book:
    """Running sums of one portfolio (one combined commodity, one side for gross accounts)."""

    size: int
    d: int                                           # the scale: amounts are in 1/d currency units
    vec: list = field(default_factory=list)          # loss per scenario
    futures: dict[date, int] = field(default_factory=dict)   # net futures per expiry
    short_options: int = 0
    contrib: dict[bytes, int] = field(default_factory=dict)  # series key -> signed quantity held here
    memo: tuple | None = field(default=None, repr=False, compare=False)   # (risk, cents) until a change

    def __post_init__(self) -> None:
        if not self.vec:
            self.vec = [0] * self.size

    def __setstate__(self, state) -> None:
        """Unpickling (journal snapshots keep the module's books): a book pickled before ``memo``
        existed loads with nothing remembered."""
        self.memo = None
        for k, v in (state[1] if isinstance(state, tuple) else state).items():
            setattr(self, k, v)

    def set(self, series: Series, unit: tuple[int, ...], quantity: int) -> None:
        """The portfolio now holds ``quantity`` (signed) of ``series``."""
        self.put(series.key, series.expiry, series.is_option, unit, quantity)

    def put(self, key: bytes, expiry: date, is_option: bool, unit: tuple[int, ...], quantity: int) -> None:
        """``set`` from the series' key, expiry and kind (the hot path)."""
        contrib = self.contrib
        old = contrib.get(key, 0)
        dq = quantity - old
        if not dq:
            return
        self.memo = None
        add = _ADDERS.get(len(unit)) or _adder(len(unit))   # not kept on the book: books are pickled
        self.vec = add(self.vec, unit, dq)
        if is_option:
            self.short_options += (-quantity if quantity < 0 else 0) - (-old if old < 0 else 0)
        else:
            futures = self.futures
            n = futures.get(expiry, 0) + dq
            if n:
                futures[expiry] = n
            else:
                del futures[expiry]
        if quantity:
            contrib[key] = quantity
        else:
            del contrib[key]

    def requirement(self, risk: RiskParams, scenarios: tuple[int, ...]) -> Breakdown:
        if not self.contrib:
            return Breakdown(Decimal(0), 0, Decimal(0), Decimal(0), 0)
        d = self.d
        worst = max(self.vec)
        scan = max(0, worst)
        longs = sum(q for q in self.futures.values() if q > 0)
        shorts = -sum(q for q in self.futures.values() if q < 0)
        spread = min(longs, shorts) * risk.intermonth_spread_charge * d // 100     # d is a multiple of 100
        som = self.short_options * risk.short_option_minimum * d // 100
        req = max(scan + spread, som)
        worst_s = scenarios[self.vec.index(worst)] if scan else 0
        return Breakdown(_dec(scan, d), worst_s, _dec(spread, d), _dec(som, d), -((-req * 100) // d))

    def requirement_cents(self, risk: RiskParams) -> int:
        """Same as ``requirement(...).requirement_cents``, faster (the hot path; remembered until
        the book changes)."""
        memo = self.memo
        if memo is not None and memo[0] is risk:
            return memo[1]
        if not self.contrib:
            cents = 0
        else:
            d = self.d
            scan = max(self.vec)
            if scan < 0:
                scan = 0
            futures = self.futures
            if futures:
                longs = shorts = 0
                for q in futures.values():
                    if q > 0:
                        longs += q
                    else:
                        shorts -= q
                scan += (longs if longs < shorts else shorts) * risk.intermonth_spread_charge * d // 100
            req = max(scan, self.short_options * risk.short_option_minimum * d // 100)
            cents = -((-req * 100) // d)
        self.memo = (risk, cents)
        return cents


def _dec(x: int, d: int) -> Decimal:
    q = Decimal(x) / Decimal(d)
    return q.quantize(Decimal("1e-20")).normalize() if q != q.to_integral_value() else q.quantize(Decimal(1))


def books_for(rows: Iterable[tuple[Series, int, int, tuple[int, ...]]], gross: bool, size: int, d: int) -> list[Book]:
    """The books of one account and combined commodity from (series, long, uncovered short, unit
    losses) rows: gross accounts keep a long book and a short book, net accounts one book."""
    books = [Book(size, d), Book(size, d)] if gross else [Book(size, d)]
    for s, lg, sh, unit in rows:
        apply(books, s, unit, lg, sh)
    return books


def apply(books: list[Book], series: Series, unit: tuple[int, ...], long: int, short: int) -> None:
    """Record that the account now holds ``long`` and (uncovered) ``short`` of ``series``."""
    if len(books) == 2:
        books[0].set(series, unit, long)
        books[1].set(series, unit, -short)
    else:
        books[0].set(series, unit, long - short)


def books_requirement(books: list[Book], risk: RiskParams) -> int:
    return sum(b.requirement_cents(risk) for b in books)


def portfolio(legs: Iterable[MarginLeg], risk: RiskParams, series_price: Callable[[Series], int],
              underlying_price: int, underlying_decimals: int, scenarios: tuple[int, ...],
              divisor: int) -> Breakdown:
    """Requirement (with its breakdown) of one portfolio of one combined commodity."""
    legs = [leg for leg in legs if leg.quantity]
    decimals = max([underlying_decimals] + [max(leg.series.cls.price_decimals, leg.series.cls.strike_decimals)
                                            for leg in legs])
    d = scale(risk, decimals, divisor)
    book = Book(len(scenarios), d)
    for leg in legs:
        book.set(leg.series, unit_losses(leg.series, series_price(leg.series), underlying_price,
                                         underlying_decimals, risk, scenarios, divisor, d), leg.quantity)
    return book.requirement(risk, scenarios)
