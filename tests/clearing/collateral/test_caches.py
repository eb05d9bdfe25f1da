"""The derived state of CCMS (coverage_state.py) and the integer arithmetic of the valuation: same
numbers as the Decimal rules, and every input change after a stored coverage is reflected (the
stored coverage equals a computation from cold: ``verify()``)."""
import random
from datetime import date
from decimal import Decimal

import pytest

from gateway.clearing.collateral import (
    DepositCash, DepositSecurities, MapDcassAccount, OpenCollateralAccount, SetCollateralPrice, SetFxRate, SetStockHaircut, WithdrawCash,
)
from gateway.clearing.collateral.valuation import (
    CTX, Unit, Valuer, ceil_int, floor_int, mul_floor, scale_ceil, scale_floor, units_for,
)
from gateway.clearing.core import EndOfDay

from .fakes import PARAMS, Harness, P, params_with

EFB = {"id": "TEFB", "type": "EFBN", "currency": "HKD", "maturity": date(2026, 3, 2)}
UST = {"id": "TUST", "type": "UST", "currency": "USD", "maturity": date(2026, 3, 2)}


# ------------------------------------------------------------------ integers = CTX
def reference_units_for(need: int, unit: Decimal, held: int) -> tuple[int, int]:
    """The Decimal algorithm the integer one replaces."""
    if need <= 0 or held <= 0 or unit <= 0:
        return 0, 0
    q = min(held, ceil_int(CTX.divide(Decimal(need), unit)))
    while q < held and floor_int(CTX.multiply(Decimal(q), unit)) < need:
        q += 1
    while q > 1 and floor_int(CTX.multiply(Decimal(q - 1), unit)) >= need:
        q -= 1
    return q, min(need, floor_int(CTX.multiply(Decimal(q), unit)))


def units(rng: random.Random) -> list[Decimal]:
    out = [Decimal(1), Decimal("7.644"), Decimal("0.05"), Decimal("1E+2"), Decimal("123.4500"),
           CTX.divide(Decimal(1), Decimal(3)), CTX.divide(Decimal(2), Decimal(3)),
           CTX.multiply(CTX.divide(Decimal("7.8"), Decimal("0.0513")), Decimal("0.993"))]
    for _ in range(40):
        out.append(CTX.divide(Decimal(rng.randint(1, 10**9)), Decimal(rng.randint(1, 10**6))))
    return out


def test_mul_floor_and_units_for_equal_the_decimal_rules():
    rng = random.Random(7)
    for unit in units(rng):
        u = Unit(unit, None)
        for q in [1, 2, 3, 99, 10**6, 10**12, 10**20] + [rng.randint(1, 10**15) for _ in range(20)]:
            assert mul_floor(q, u) == floor_int(CTX.multiply(Decimal(q), unit)), (q, unit)
        for need in [1, 2, 100, 10**9, 10**15] + [rng.randint(1, 10**12) for _ in range(20)]:
            for held in (1, 5, need, need * 3, 10**18):
                assert units_for(need, u, held) == reference_units_for(need, unit, held), (need, unit, held)


def test_scaled_floors_and_ceilings_equal_the_decimal_rules():
    rng = random.Random(11)
    for ratio in (Decimal("0.5"), Decimal("0.50"), Decimal("0.3"), Decimal(1), Decimal("0.333"),
                  CTX.divide(Decimal(1), Decimal(7))):
        for n in [0, 1, 3, 10**9 + 1, 10**30, 10**49] + [rng.randint(-10**12, 10**12) for _ in range(30)]:
            assert scale_floor(ratio, n) == floor_int(CTX.multiply(ratio, Decimal(n)))
            assert scale_ceil(ratio, n) == ceil_int(CTX.multiply(ratio, Decimal(n)))


def test_valuer_units_for_and_value_keep_their_meaning():
    v = Valuer(PARAMS, date(2025, 3, 3), {"HKD": Decimal(1), "USD": Decimal("7.8")}, {}, {})
    unit = v.unit_value("CASH", "USD", "HKD")
    assert v.units_for(100, unit, 10**6) == reference_units_for(100, unit, 10**6)
    assert v.value("CASH", "USD", 12_345, "HKD") == floor_int(CTX.multiply(Decimal(12_345), unit))
    assert v.unit("CASH", "USD", "HKD").haircut == v.haircut("CASH", "USD", "HKD")


# ------------------------------------------------------------------ kept coverage = cold coverage
def check(h) -> None:
    """The derived state's own check: every coverage recomputed cold equals the stored one, and the
    open calls are the shortfalls (raises DerivedStateMismatch)."""
    h.ccms.verify()


@pytest.fixture
def h():
    h = Harness(params=params_with(debt=[EFB, UST]))
    for c, r in (("USD", "7.8"), ("EUR", "8.5")):
        h.op(SetFxRate(c, Decimal(r)))
    h.margin("H1", 10_000_000)
    h.margin("IC1", 3_000_000)
    h.margin("H1", 2_000_000, currency="USD")
    h.run(DepositCash("HKCC", "HOUSE", "HKD", 4_000_000))
    h.run(DepositCash("HKCC", "HOUSE", "USD", 300_000))
    h.run(DepositSecurities("HKCC", "HOUSE", "TEFB", 2_000_000))
    h.run(DepositSecurities("HKCC", "HOUSE", "TUST", 500_000))
    h.op(SetCollateralPrice("700", Decimal("300")))
    h.run(DepositSecurities("HKCC", "HOUSE", "700", 10_000))
    h.run(DepositCash("HKCC", "CLIENT", "EUR", 100_000))
    check(h)
    return h


def result(h, acc="HOUSE"):
    return h.ccms.results[(P, "HKCC", acc)]


def test_fx_rate_change_after_a_cached_valuation_is_reflected(h):
    before = result(h)
    h.op(SetFxRate("USD", Decimal("7.5")))
    check(h)
    assert result(h) != before


def test_price_change_after_a_cached_valuation_is_reflected(h):
    before = result(h)
    h.op(SetCollateralPrice("TEFB", Decimal("90")))
    check(h)
    assert result(h) != before
    before = result(h)
    h.op(SetCollateralPrice("700", Decimal("200")))
    check(h)
    assert result(h) != before


def test_stock_haircut_change_after_a_cached_valuation_is_reflected(h):
    before = result(h)
    h.op(SetStockHaircut("700", Decimal("0.6")))
    check(h)
    assert result(h) != before


def test_deposits_and_withdrawals_after_a_cached_coverage_are_reflected(h):
    before = result(h)
    h.run(DepositCash("HKCC", "HOUSE", "HKD", 1_000_000))
    check(h)
    assert result(h) != before
    h.run(DepositCash("HKCC", "HOUSE", "HKD", 50_000_000))
    h.run(DepositCash("HKCC", "HOUSE", "USD", 5_000_000))
    check(h)
    assert result(h).lines[0].shortfall == 0
    h.run(WithdrawCash("HKCC", "HOUSE", "HKD", 1_000))
    check(h)


def test_requirement_changes_and_mapping_changes_are_reflected(h):
    h.margin("H1", 12_000_000)
    check(h)
    h.margin("IC1", 0)
    check(h)
    h.run(OpenCollateralAccount("HKCC", "CLI2", "CLIENT"))
    h.run(DepositCash("HKCC", "CLI2", "HKD", 100_000))
    check(h)
    h.run(MapDcassAccount("IC2", "CLI2"))
    h.margin("IC2", 700_000)
    check(h)
    before = result(h, "CLI2")
    h.run(MapDcassAccount("IC2", ""))            # back to the default client account
    check(h)
    assert (P, "HKCC", "CLI2") not in h.ccms.results or result(h, "CLI2") != before


def test_a_new_business_date_is_reflected(h):
    h.op(EndOfDay())
    check(h)


def test_derived_state_rebuilt_from_state_gives_the_same_results():
    """As after restoring a snapshot: the derived state starts cold (a snapshot does not keep it)."""
    def scenario(reset: bool):
        h = Harness(params=params_with(debt=[EFB, UST]))
        h.op(SetFxRate("USD", Decimal("7.8")))
        h.margin("H1", 10_000_000)
        h.margin("IC1", 3_000_000)
        h.run(DepositCash("HKCC", "HOUSE", "HKD", 4_000_000))
        if reset:
            m = h.ccms
            m.coverage = type(m.coverage)(m)
            m._pair_reqs, m._pair_types = {}, {}
        h.margin("H1", 3_000_000)              # the call is amended
        h.run(DepositCash("HKCC", "HOUSE", "HKD", 10_000_000))   # and met
        h.margin("IC1", 0)
        check(h)
        return h.core.state_hash()

    assert scenario(True) == scenario(False)
