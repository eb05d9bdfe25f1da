"""The formulas of OTC Clear settlement, as pure functions on ints (minor units) and Decimals.

Signs are from the member's point of view: positive = the member receives, negative = it pays.
Rounding of computed money: to the minor unit (cent), half away from zero, applied to the
magnitude so a pay and a receive of the same computation are exact opposites. Margin calls
round up (a call never leaves a shortfall of a fraction of a cent).
"""
from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal, localcontext

ONE = Decimal(1)


def round_minor(value: Decimal) -> int:
    """Round to an integer number of minor units, half away from zero."""
    with localcontext() as ctx:
        ctx.prec = 40
        return int(value.quantize(ONE, rounding=ROUND_HALF_UP))


def ceil_minor(value: Decimal) -> int:
    with localcontext() as ctx:
        ctx.prec = 40
        return int(value.quantize(ONE, rounding=ROUND_CEILING))


def floor_minor(value: Decimal) -> int:
    with localcontext() as ctx:
        ctx.prec = 40
        return int(value.quantize(ONE, rounding=ROUND_FLOOR))


def ndf_settlement_amount(notional: int, buy: bool, contract_rate: Decimal, fixing_rate: Decimal,
                          settle_in_base: bool) -> int:
    """Settlement amount of an NDF on BASE/QUOTE (rate = QUOTE per one BASE), notional in BASE.

    The buyer of BASE receives when the fixing is above the contract rate:
    settlement currency = BASE:  N x (F - K) / F
    settlement currency = QUOTE: N x (F - K)
    negated for the seller.
    """
    with localcontext() as ctx:
        ctx.prec = 40
        diff = fixing_rate - contract_rate
        raw = Decimal(notional) * diff / fixing_rate if settle_in_base else Decimal(notional) * diff
    amount = round_minor(abs(raw))
    sign = 1 if (raw >= 0) == buy else -1
    return sign * amount


def accrual(notional: int, rate: Decimal, days: int, basis: int) -> int:
    """Interest N x r x days / basis, rounded; the sign follows the rate (negative rates pay back)."""
    with localcontext() as ctx:
        ctx.prec = 40
        raw = Decimal(notional) * rate * days / basis
    return round_minor(raw)


def price_alignment_interest(cumulative_vm: int, rate: Decimal, days: int, basis: int) -> int:
    """PAI for the member: - C x r x days / basis, C = cumulative VM the member holds (received > 0).

    The VM receiver (C > 0) pays PAI and the VM payer (C < 0) receives it; a negative rate
    reverses the flow.
    """
    with localcontext() as ctx:
        ctx.prec = 40
        raw = -Decimal(cumulative_vm) * rate * days / basis
    amount = round_minor(abs(raw))
    return amount if raw >= 0 else -amount
