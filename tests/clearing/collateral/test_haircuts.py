"""Every haircut number of the seed, the maturity bucket edges, the stock floor, the additional
FX haircut on non-cash collateral, and the dated tables."""
from datetime import date, datetime
from decimal import Decimal

import pytest

from gateway.clearing.collateral import (
    DepositCash, DepositSecurities, HoldingsQuery, Params, SetCollateralPrice, SetFxRate, SetStockHaircut,
)
from gateway.clearing.collateral.params import add_years, debt_bucket_index, dated
from gateway.clearing.collateral.valuation import Valuer

from .fakes import Harness, PARAMS, params_with

SEED = date(2017, 10, 10)


def holding(h, asset, account="HOUSE", ch="HKCC", specific=False):
    hs = h.query(HoldingsQuery(ch, account)).holdings
    return next(x for x in hs if x.asset == asset and x.specific == specific)


def simple_fx(h):
    # round numbers: 1 USD = 10 HKD, 1 EUR = 10 HKD, 1 JPY = 0.05 HKD, 1 RMB = 1.25 HKD
    for c, r in (("USD", "10"), ("EUR", "10"), ("JPY", "0.05"), ("RMB", "1.25")):
        h.op(SetFxRate(c, Decimal(r)))


# ------------------------------------------------------------------ the tables themselves
def test_seed_cash_haircut_table():
    on = date(2025, 3, 3)
    assert PARAMS.cash_haircut("EUR", on) == Decimal("0.06")
    assert PARAMS.cash_haircut("JPY", on) == Decimal("0.07")
    assert PARAMS.cash_haircut("RMB", on) == Decimal("0.037")
    assert PARAMS.cash_haircut("USD", on) == Decimal("0.007")


def test_seed_debt_haircut_table_and_stock_floor():
    row = dated(PARAMS.raw["debt_haircut"], date(2025, 3, 3))
    assert [Decimal(x) for x in row["EFBN"]] == [Decimal("0.02"), Decimal("0.03"), Decimal("0.05")]
    assert [Decimal(x) for x in row["UST"]] == [Decimal("0.01"), Decimal("0.03"), Decimal("0.07")]
    assert row["bucket_years"] == [1, 5]
    assert PARAMS.stock_floor(date(2025, 3, 3)) == Decimal("0.30")


def test_tables_are_dated_and_seed_rows_start_on_the_seed_date():
    for table in ("cash_haircut", "debt_haircut", "stock_haircut", "fx_default"):
        assert min(r["effective"] for r in PARAMS.raw[table]) == SEED
    with pytest.raises(LookupError):
        PARAMS.cash_haircut("USD", date(2017, 10, 9))


def test_a_later_dated_row_takes_over_from_its_date():
    import copy
    raw = copy.deepcopy(PARAMS.raw)
    raw["cash_haircut"].append({"effective": date(2023, 2, 13), "EUR": "0.06", "JPY": "0.07", "RMB": "0.030",
                                "USD": "0.008", "HKD": "0.007"})
    p = Params(raw, {"debt": [], "stock_list": PARAMS._stock_lists})
    assert p.cash_haircut("USD", date(2023, 2, 10)) == Decimal("0.007")
    assert p.cash_haircut("USD", date(2023, 2, 13)) == Decimal("0.008")
    assert p.cash_haircut("RMB", date(2023, 2, 13)) == Decimal("0.030")


# ------------------------------------------------------------------ cash
@pytest.mark.parametrize("ccy, amount, expected", [
    ("HKD", 1_000_000, 1_000_000),    # settlement currency: no haircut
    ("EUR", 100_000, 940_000),        # 1,000,000 HKD cents x (1 - 6%)
    ("JPY", 20_000_000, 930_000),     # x (1 - 7%)
    ("RMB", 800_000, 963_000),        # x (1 - 3.7%)
    ("USD", 100_000, 993_000),        # x (1 - 0.7%)
])
def test_cash_haircut_against_hkd_settlement(ccy, amount, expected):
    h = Harness()
    simple_fx(h)
    h.run(DepositCash("HKCC", "HOUSE", ccy, amount))
    assert holding(h, ccy).value_hkd == expected


def test_cash_in_the_settlement_currency_has_no_haircut_and_hkd_against_usd_is_inferred():
    h = Harness()
    simple_fx(h)
    v = Valuer(PARAMS, date(2025, 3, 3), h.ccms._fx_rates(), {}, {})
    assert v.value("CASH", "USD", 100_000, "USD") == 100_000
    assert v.value("CASH", "RMB", 100_000, "RMB") == 100_000
    # HKD cash for a USD requirement: HKD rate 0.7% (inferred parameter, not in the seed)
    assert v.value("CASH", "HKD", 1_000_000, "USD") == 99_300
    # EUR cash for a USD requirement: EUR 6% (the rate of the cash currency)
    assert v.value("CASH", "EUR", 100_000, "USD") == 94_000


# ------------------------------------------------------------------ EFBN / UST maturity buckets
EFB = {"id": "TEFB", "type": "EFBN", "currency": "HKD"}
UST = {"id": "TUST", "type": "UST", "currency": "USD"}


@pytest.mark.parametrize("maturity, bucket", [
    (date(2025, 3, 4), 0),     # one day to go
    (date(2026, 3, 2), 0),     # one day less than 1 year
    (date(2026, 3, 3), 1),     # exactly 1 year: "between 1 and 5 years"
    (date(2026, 3, 4), 1),
    (date(2030, 3, 2), 1),
    (date(2030, 3, 3), 1),     # exactly 5 years: still "between 1 and 5 years"
    (date(2030, 3, 4), 2),     # one day more than 5 years
    (date(2025, 3, 3), None),  # matures today: not acceptable
])
def test_bucket_edges(maturity, bucket):
    assert debt_bucket_index([1, 5], maturity, date(2025, 3, 3)) == bucket


def test_year_arithmetic_on_29_february():
    assert add_years(date(2024, 2, 29), 1) == date(2025, 2, 28)
    assert debt_bucket_index([1, 5], date(2025, 2, 28), date(2024, 2, 29)) == 1


@pytest.mark.parametrize("spec, maturity, expected_haircut, expected_value", [
    (EFB, date(2026, 3, 2), "0.02", 980_000),   # EFBN < 1 year: 2%
    (EFB, date(2026, 3, 3), "0.03", 970_000),   # EFBN exactly 1 year: 3%
    (EFB, date(2030, 3, 3), "0.03", 970_000),   # EFBN exactly 5 years: 3%
    (EFB, date(2030, 3, 4), "0.05", 950_000),   # EFBN > 5 years: 5%
])
def test_efbn_haircut_by_remaining_maturity(spec, maturity, expected_haircut, expected_value):
    h = Harness(params=params_with(debt=[dict(spec, maturity=maturity)]))
    h.run(DepositSecurities("HKCC", "HOUSE", "TEFB", 1_000_000))      # nominal HKD 10,000 at par
    x = holding(h, "TEFB")
    assert (x.haircut, x.value_hkd) == (Decimal(expected_haircut), expected_value)


@pytest.mark.parametrize("maturity, rate, usd_value, hkd_value", [
    # USD 1,000 nominal at par = HKD 10,000 at 10 HKD/USD; HKD value also takes the USD FX haircut 0.7%
    (date(2026, 3, 2), "0.01", 99_000, 983_070),   # < 1 year: 1%      1,000,000 x 0.99 x 0.993
    (date(2026, 3, 3), "0.03", 97_000, 963_210),   # exactly 1 year: 3% 1,000,000 x 0.97 x 0.993
    (date(2030, 3, 3), "0.03", 97_000, 963_210),   # exactly 5 years: 3%
    (date(2030, 3, 4), "0.07", 93_000, 923_490),   # > 5 years: 7%      1,000,000 x 0.93 x 0.993
])
def test_ust_haircut_and_additional_fx_haircut(maturity, rate, usd_value, hkd_value):
    h = Harness(params=params_with(debt=[dict(UST, maturity=maturity)]))
    simple_fx(h)
    h.run(DepositSecurities("HKCC", "HOUSE", "TUST", 100_000))
    x = holding(h, "TUST")
    assert x.haircut == Decimal(rate)
    assert x.value_hkd == hkd_value
    v = Valuer(h.ccms.p, h.core.business_date, h.ccms._fx_rates(), h.ccms.prices, {})
    assert v.value("UST", "TUST", 100_000, "USD") == usd_value       # same currency: no FX haircut


def test_additive_fx_haircut_combination_is_a_parameter():
    import copy
    p = params_with(debt=[dict(UST, maturity=date(2030, 3, 4))])
    raw = copy.deepcopy(p.raw)
    raw["non_cash"]["fx_haircut_combination"] = "ADDITIVE"
    p2 = Params(raw, {"debt": [dict(UST, maturity=date(2030, 3, 4))], "stock_list": p._stock_lists})
    v = Valuer(p2, date(2025, 3, 3), {"HKD": Decimal(1), "USD": Decimal(10)}, {}, {})
    assert v.value("UST", "TUST", 100_000, "HKD") == 923_000          # 1,000,000 x (1 - 7% - 0.7%)


def test_debt_price_is_per_100_nominal():
    h = Harness(params=params_with(debt=[dict(EFB, maturity=date(2026, 3, 2))]))
    h.op(SetCollateralPrice("TEFB", Decimal("99.5")))
    h.run(DepositSecurities("HKCC", "HOUSE", "TEFB", 1_000_000))
    assert holding(h, "TEFB").value_hkd == 975_100                   # 995,000 x 0.98


# ------------------------------------------------------------------ stocks
def test_stock_haircut_floor_30_percent():
    h = Harness()
    h.op(SetCollateralPrice("700", Decimal("10")))
    h.op(SetCollateralPrice("5", Decimal("10")))
    h.op(SetCollateralPrice("2800", Decimal("10")))
    h.run(DepositSecurities("HKCC", "HOUSE", "00700", 1000))
    h.run(DepositSecurities("HKCC", "HOUSE", "0005", 1000))
    h.run(DepositSecurities("HKCC", "HOUSE", "2800", 1000))       # Tracker Fund is eligible
    assert holding(h, "00700").value_hkd == 700_000                # 1,000,000 x (1 - 30%)
    # a stock's own rate below the floor is floored, above the floor applies as is
    assert h.op(SetStockHaircut("700", Decimal("0.25"))).reply == Decimal("0.30")
    assert holding(h, "00700").value_hkd == 700_000
    assert h.op(SetStockHaircut("5", Decimal("0.40"))).reply == Decimal("0.40")
    assert holding(h, "00005").value_hkd == 600_000
    assert holding(h, "02800").haircut == Decimal("0.30")


def test_stock_for_a_usd_requirement_takes_the_fx_haircut_of_hkd():
    h = Harness()
    simple_fx(h)
    v = Valuer(PARAMS, date(2025, 3, 3), h.ccms._fx_rates(), {"00700": Decimal(10)}, {})
    assert v.value("STOCK", "00700", 1000, "USD") == 69_510          # 100,000 x 0.7 x 0.993


def test_unpriced_stock_is_worth_nothing():
    h = Harness()
    h.run(DepositSecurities("HKCC", "HOUSE", "700", 1000))
    assert holding(h, "00700").value_hkd == 0
