"""Valuation of collateral with haircuts, in the minor units of a settlement currency.

A *unit value* is the haircut value, in cents of the settlement currency, of one unit of a holding
(1 cent of cash, 1 cent of nominal of a debt instrument, 1 share). The value of ``q`` units is
``floor(q x unit)``: values are rounded down to the cent (in favour of the clearing house).

Haircuts (rates from the dated tables in ``data/collateral/parameters.toml``):
- cash in the settlement currency: none; in another currency: the cash rate of its currency;
- EFBN / UST: rate of the remaining-maturity bucket, combined with the cash rate of the
  instrument's currency when that differs from the settlement currency (multiplicative by default:
  ``(1 - h_asset) x (1 - h_fx)``; ``ADDITIVE``: ``1 - h_asset - h_fx``);
- stock: ``max(floor, stock rate)``, combined with the FX rate likewise.

Arithmetic: every number is the one ``CTX`` (50 significant digits) gives. A unit value is also
kept as an exact fraction ``num / den`` (``den`` a power of ten), so that ``floor(q x unit)`` is
computed in integers whenever the product has at most 50 digits (then ``CTX`` is exact too); a
longer product goes through ``CTX`` as before (:func:`mul_floor`).
"""
from __future__ import annotations

import decimal
from datetime import date
from decimal import Decimal

from .params import Params

CTX = decimal.Context(prec=50, rounding=decimal.ROUND_HALF_EVEN)
ONE = Decimal(1)
HUNDRED = Decimal(100)


EXACT = 10 ** CTX.prec   # integers below this are exact coefficients in CTX


def floor_int(x: Decimal) -> int:
    return int(x.to_integral_value(rounding=decimal.ROUND_FLOOR))


def ceil_int(x: Decimal) -> int:
    return int(x.to_integral_value(rounding=decimal.ROUND_CEILING))


def _fraction(x: Decimal) -> tuple[int, int]:
    """(num, den): ``x == num / den`` exactly, ``den`` a power of ten and ``num`` at least as long as
    the coefficient of ``x`` (so ``abs(n x num) < EXACT`` means ``n x x`` is exact in CTX)."""
    sign, digits, exp = x.as_tuple()
    num = int("".join(map(str, digits)))
    if sign:
        num = -num
    return (num * 10 ** exp, 1) if exp >= 0 else (num, 10 ** -exp)


_RATIOS: dict[Decimal, tuple[int, int]] = {}   # fractions of parameter ratios (few distinct values)


def scale_floor(x: Decimal, n: int) -> int:
    """``floor_int(CTX.multiply(x, Decimal(n)))``, in integers when that product is exact."""
    f = _RATIOS.get(x)
    if f is None:
        f = _RATIOS[x] = _fraction(x)
    p = n * f[0]
    if -EXACT < p < EXACT:
        return p // f[1]
    return floor_int(CTX.multiply(x, Decimal(n)))


def scale_ceil(x: Decimal, n: int) -> int:
    """``ceil_int(CTX.multiply(x, Decimal(n)))``, in integers when that product is exact."""
    f = _RATIOS.get(x)
    if f is None:
        f = _RATIOS[x] = _fraction(x)
    p = n * f[0]
    if -EXACT < p < EXACT:
        return -(-p // f[1])
    return ceil_int(CTX.multiply(x, Decimal(n)))


class Unit:
    """A usable unit value (non-zero): the Decimal, the same number as ``num / den`` exactly
    (see :func:`_fraction`), and the combined haircut it was computed with."""

    __slots__ = ("value", "num", "den", "haircut")

    def __init__(self, value: Decimal, haircut: Decimal | None):
        self.value = value
        self.num, self.den = _fraction(value)
        self.haircut = haircut


def mul_floor(q: int, u: Unit) -> int:
    """``floor_int(CTX.multiply(Decimal(q), u.value))``, in integers when that product is exact."""
    p = q * u.num
    if -EXACT < p < EXACT:
        return p // u.den
    return floor_int(CTX.multiply(Decimal(q), u.value))


def units_for(need: int, u: Unit, held: int) -> tuple[int, int]:
    """Fewest units (<= held) covering ``need`` cents; returns (units, value covered <= need).

    The answer is the least ``q`` in ``1..held`` with ``mul_floor(q) >= need`` (else ``held``): a
    first guess (the exact ceiling of need / unit) corrected by walking to that least ``q``."""
    num = u.num
    if need <= 0 or held <= 0 or num <= 0:
        return 0, 0
    q = min(held, -(-need * u.den // num))
    p = q * num
    if p < EXACT:
        # every product up to q x unit is exact: q is already the least (q - 1 units fall short)
        return q, min(need, p // u.den)
    while q < held and mul_floor(q, u) < need:
        q += 1
    while q > 1 and mul_floor(q - 1, u) >= need:
        q -= 1
    return q, min(need, mul_floor(q, u))


class Valuer:
    """Valuation on one business date with the current FX rates, prices and stock rates."""

    def __init__(self, params: Params, on: date, fx: dict[str, Decimal], prices: dict[str, Decimal],
                 stock_rates: dict[str, Decimal]):
        self.p = params
        self.on = on
        self.fx = fx
        self.prices = prices
        self.stock_rates = stock_rates
        self.eligible = params.eligible_stocks(on)
        self._units: dict[tuple[str, str, str], Decimal | None] = {}   # memo: the inputs do not change
        self._haircuts: dict[tuple[str, str, str], Decimal | None] = {}
        self._unit_objs: dict[tuple[str, str, str], Unit | None] = {}

    # ------------------------------------------------------------ haircuts
    def fx_haircut(self, currency: str, settlement: str) -> Decimal:
        return Decimal(0) if currency == settlement else self.p.cash_haircut(currency, self.on)

    def combine(self, h_asset: Decimal, h_fx: Decimal) -> Decimal:
        """The combined haircut of a non-cash holding."""
        if self.p.fx_haircut_combination == "ADDITIVE":
            return min(ONE, h_asset + h_fx)
        return CTX.subtract(ONE, CTX.multiply(ONE - h_asset, ONE - h_fx))

    def stock_rate(self, code: str) -> Decimal:
        own = self.stock_rates.get(code)
        if own is None:
            own = Decimal(self.eligible.get(code, {}).get("haircut", self.p.stock_default_rate(self.on)))
        return max(self.p.stock_floor(self.on), own)

    def asset_haircut(self, asset_class: str, asset: str) -> Decimal | None:
        """Haircut of a holding against its own currency (None: not acceptable today)."""
        if asset_class == "CASH":
            return Decimal(0)
        if asset_class == "STOCK":
            return self.stock_rate(asset) if asset in self.eligible else None
        inst = self.p.debt.get(asset)
        return None if inst is None else self.p.debt_haircut(inst, self.on)

    def currency_of(self, asset_class: str, asset: str) -> str:
        if asset_class == "CASH":
            return asset
        if asset_class == "STOCK":
            return self.eligible.get(asset, {}).get("currency", self.p.base)
        return self.p.debt[asset].currency

    def haircut(self, asset_class: str, asset: str, settlement: str) -> Decimal | None:
        """Combined haircut of a holding used for a requirement in ``settlement``."""
        k = (asset_class, asset, settlement)
        try:
            return self._haircuts[k]
        except KeyError:
            h = self._haircuts[k] = self._haircut(asset_class, asset, settlement)
            return h

    def _haircut(self, asset_class: str, asset: str, settlement: str) -> Decimal | None:
        h = self.asset_haircut(asset_class, asset)
        if h is None:
            return None
        ccy = self.currency_of(asset_class, asset)
        if ccy not in self.fx:
            return None
        h_fx = self.fx_haircut(ccy, settlement)
        if asset_class == "CASH":
            return h_fx
        return self.combine(h, h_fx)

    # ------------------------------------------------------------ prices
    def price(self, asset_class: str, asset: str) -> Decimal | None:
        if asset_class == "CASH":
            return None
        if asset_class == "STOCK":
            return self.prices.get(asset)
        return self.prices.get(asset, self.p.default_debt_price)

    def unit_value(self, asset_class: str, asset: str, settlement: str) -> Decimal | None:
        """Haircut value in settlement-currency cents of one unit (None or 0: not usable)."""
        k = (asset_class, asset, settlement)
        try:
            return self._units[k]
        except KeyError:
            u = self._units[k] = self._unit_value(asset_class, asset, settlement)
            return u

    def unit(self, asset_class: str, asset: str, settlement: str) -> Unit | None:
        """:meth:`unit_value` with its exact fraction and haircut; None when not usable (None or 0)."""
        k = (asset_class, asset, settlement)
        try:
            return self._unit_objs[k]
        except KeyError:
            v = self.unit_value(asset_class, asset, settlement)
            u = self._unit_objs[k] = Unit(v, self.haircut(asset_class, asset, settlement)) if v else None
            return u

    def _unit_value(self, asset_class: str, asset: str, settlement: str) -> Decimal | None:
        if settlement not in self.fx:
            return None
        h = self.haircut(asset_class, asset, settlement)
        if h is None:
            return None
        ccy = self.currency_of(asset_class, asset)
        conv = CTX.divide(self.fx[ccy], self.fx[settlement])
        if asset_class == "CASH":
            per_unit = conv
        else:
            price = self.price(asset_class, asset)
            if price is None:
                return None
            if asset_class == "STOCK":
                per_unit = CTX.multiply(CTX.multiply(price, HUNDRED), conv)   # cents per share
            else:
                per_unit = CTX.multiply(CTX.divide(price, HUNDRED), conv)     # per cent of nominal
        return CTX.multiply(per_unit, ONE - h)

    def value(self, asset_class: str, asset: str, quantity: int, settlement: str) -> int:
        u = self.unit(asset_class, asset, settlement)
        if u is None or quantity <= 0:
            return 0
        return mul_floor(quantity, u)

    def units_for(self, need: int, unit: Decimal, held: int) -> tuple[int, int]:
        """Fewest units (<= held) of value ``unit`` covering ``need`` cents (see :func:`units_for`)."""
        if need <= 0 or held <= 0 or unit <= 0:
            return 0, 0
        return units_for(need, Unit(unit, None), held)
