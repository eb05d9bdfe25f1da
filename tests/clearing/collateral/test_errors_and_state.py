"""Every CCMS rejection has its own code and changes nothing; reserve fund; operator commands;
determinism of the state."""
from datetime import date, datetime
from decimal import Decimal

import pytest

from gateway.clearing.core import ClearingCore, Context
from gateway.clearing.errors import OPERATOR_ONLY, REGISTRY
from gateway.clearing.collateral import codes as C
from gateway.clearing.collateral import (
    CollateralAccountsQuery, CollateralParametersQuery, ContributeReserveFund, CoverageQuery, DepositCash,
    DepositSecurities, EligibleCollateralQuery, FxRateSet, HoldingsQuery, MapDcassAccount, OpenCollateralAccount,
    ReserveFundContributed, ReserveFundQuery, SetCollateralPrice, SetFxRate, SetInterestRate, SetStockHaircut,
    WithdrawCash,
)

from .fakes import Harness, P, Q


def test_codes_are_unique_in_the_ccms_band():
    ours = [e for e in REGISTRY.values() if e.module == "ccms"]
    assert len(ours) == len(C.__all__) >= 30
    assert all(-800999 <= e.number <= -800001 for e in ours)
    assert len({e.number for e in ours}) == len(ours)


REJECTIONS = [
    (DepositCash("HKCC", "HOUSE", "GBP", 100), C.UNKNOWN_CURRENCY),
    (DepositSecurities("HKCC", "HOUSE", "00004", 100), C.INELIGIBLE_COLLATERAL),       # not an HSI stock
    (DepositSecurities("HKCC", "HOUSE", "XYZ123", 100), C.INELIGIBLE_COLLATERAL),      # unknown instrument
    (DepositSecurities("HKCC", "CLIENT", "700", 100), C.STOCK_IN_CLIENT_ACCOUNT),
    (DepositSecurities("HKCC", "MM", "700", 100), C.STOCK_IN_MM_ACCOUNT),
    (DepositCash("HKCC", "HOUSE", "HKD", 100, participant=Q), C.ACCOUNT_NOT_CALLERS),
    (DepositCash("HKCC", "NOPE", "HKD", 100), C.UNKNOWN_ACCOUNT),
    (DepositCash("OTC", "HOUSE", "HKD", 100), C.UNKNOWN_CLEARING_HOUSE),
    (DepositCash("HKCC", "HOUSE", "HKD", 0), C.INVALID_QUANTITY),
    (DepositCash("HKCC", "HOUSE", "HKD", -5), C.INVALID_QUANTITY),
    (WithdrawCash("HKCC", "HOUSE", "HKD", 100), C.INSUFFICIENT_HOLDING),
    (MapDcassAccount("NOPE", "HOUSE"), C.UNKNOWN_DCASS_ACCOUNT),
    (MapDcassAccount("H1", "CLIENT"), C.MAPPING_NOT_ALLOWED),
    (OpenCollateralAccount("HKCC", "HOUSE", "HOUSE"), C.ACCOUNT_EXISTS),
    (OpenCollateralAccount("HKCC", "X", "SUPER"), C.INVALID_ACCOUNT_KIND),
    (OpenCollateralAccount("HKCC", "bad id!", "HOUSE"), C.INVALID_ACCOUNT_ID),
    (ContributeReserveFund("HKCC", "INITIAL", "EFN350301", 100), C.RESERVE_FUND_INELIGIBLE),
    (ContributeReserveFund("HKCC", "INITIAL", "USD", 100), C.RESERVE_FUND_INELIGIBLE),
    (ContributeReserveFund("HKCC", "ADDITIONAL", "UST450815", 100), C.RESERVE_FUND_INELIGIBLE),
    (ContributeReserveFund("HKCC", "VARIABLE", "700", 100), C.RESERVE_FUND_INELIGIBLE),
    (ContributeReserveFund("HKCC", "VARIABLE", "GBP", 100), C.UNKNOWN_CURRENCY),
    (ContributeReserveFund("HKCC", "SPECIAL", "HKD", 100), C.UNKNOWN_CONTRIBUTION_TYPE),
]


@pytest.mark.parametrize("cmd, error", REJECTIONS, ids=[e.name for _, e in REJECTIONS])
def test_rejections_have_their_own_code_and_change_nothing(cmd, error):
    h = Harness()
    h.margin("H1", 1_000)
    h.rejects(cmd, error)


def test_matured_instrument_is_rejected():
    h = Harness(datetime(2026, 3, 18, 9, 0))                  # EFB260318 matures today
    h.rejects(DepositSecurities("HKCC", "HOUSE", "EFB260318", 100), C.INSTRUMENT_MATURED)
    h.rejects(ContributeReserveFund("HKCC", "ADDITIONAL", "EFB260318", 100), C.INSTRUMENT_MATURED)


def test_operator_commands_and_their_rejections():
    h = Harness()
    h.rejects(SetFxRate("USD", Decimal("7.8")), OPERATOR_ONLY)
    h.rejects(SetFxRate("HKD", Decimal("1.1")), C.BASE_CURRENCY_RATE, operator=True)
    h.rejects(SetFxRate("GBP", Decimal("10")), C.UNKNOWN_CURRENCY, operator=True)
    h.rejects(SetFxRate("USD", Decimal("0")), C.INVALID_RATE, operator=True)
    h.rejects(SetCollateralPrice("700", Decimal("-1")), C.INVALID_RATE, operator=True)
    h.rejects(SetCollateralPrice("00004", Decimal("1")), C.INELIGIBLE_COLLATERAL, operator=True)
    h.rejects(SetStockHaircut("700", Decimal("1.5")), C.INVALID_RATE, operator=True)
    h.rejects(DepositCash("HKCC", "HOUSE", "HKD", 100), C.PARTICIPANT_REQUIRED, operator=True)
    out = h.op(SetFxRate("USD", Decimal("7.75")))
    assert [(type(e).__name__, e.owner) for e in out.events] == [("FxRateSet", None)]
    h.op(SetInterestRate("HKD", Decimal("-0.001")))
    ans = h.query(CollateralParametersQuery())
    assert dict(ans.fx_rates)["USD"] == Decimal("7.75") and dict(ans.fx_rates)["HKD"] == Decimal(1)
    assert dict(ans.interest_rates)["HKD"] == Decimal("-0.001")
    assert dict(ans.cash_haircuts)["EUR"] == Decimal("0.06")
    assert ans.stock_haircut_floor == Decimal("0.30")
    # the operator may act for a participant when naming it
    h.op(DepositCash("HKCC", "HOUSE", "HKD", 100, participant=P))


def test_queries_are_the_callers_own():
    h = Harness()
    h.run(DepositCash("HKCC", "HOUSE", "HKD", 100))
    with pytest.raises(Exception) as ei:
        h.query(HoldingsQuery("HKCC", "HOUSE", participant=Q))
    assert ei.value.error == C.ACCOUNT_NOT_CALLERS
    assert h.query(HoldingsQuery("HKCC", "HOUSE"), who=Q).holdings == ()
    assert {a.participant for a in h.query(CollateralAccountsQuery(), who=Q)} == {Q}
    assert {a.participant for a in h.query(CollateralAccountsQuery(), who=None)} == {P}   # known participants


def test_reserve_fund_is_kept_apart_from_margin_collateral():
    h = Harness()
    h.margin("H1", 1_000_000)
    out = h.run(ContributeReserveFund("HKCC", "INITIAL", "HKD", 5_000_000))
    assert [type(e) for e in out.events] == [ReserveFundContributed]
    h.run(ContributeReserveFund("HKCC", "ADDITIONAL", "HKD", 100))
    h.run(ContributeReserveFund("HKCC", "VARIABLE", "EFN350301", 1_000_000))
    rf = h.query(ReserveFundQuery())
    assert [(r.contribution, r.asset_class, r.asset, r.quantity) for r in rf] == [
        ("ADDITIONAL", "CASH", "HKD", 100), ("INITIAL", "CASH", "HKD", 5_000_000),
        ("VARIABLE", "EFBN", "EFN350301", 1_000_000)]
    assert h.query(CoverageQuery("HKCC", "HOUSE")).lines[0].shortfall == 1_000_000   # no margin cover


def test_eligible_collateral_query_lists_hsi_stocks_tracker_fund_and_debt():
    h = Harness()
    el = h.query(EligibleCollateralQuery())
    stocks = {e.asset for e in el if e.asset_class == "STOCK"}
    assert {"00700", "00005", "02800"} <= stocks and "00004" not in stocks
    assert {e.asset_class for e in el} == {"EFBN", "UST", "STOCK"}
    efn = next(e for e in el if e.asset == "EFN350301")
    assert (efn.haircut, efn.price, efn.maturity) == (Decimal("0.05"), Decimal(100), date(2035, 3, 1))


def script(h):
    h.margin("H1", 1_000_000)
    h.margin("OC1", 300_000, currency="USD")
    h.run(DepositCash("HKCC", "HOUSE", "HKD", 700_000))
    h.op(SetFxRate("USD", Decimal("7.81")))
    h.run(DepositSecurities("HKCC", "HOUSE", "EFN350301", 1_000_000))
    h.run(WithdrawCash("HKCC", "HOUSE", "HKD", 100_000), at=datetime(2025, 3, 3, 11, 30))
    h.run(DepositCash("HKCC", "CLIENT", "USD", 400_000))
    return h.core.state_hash()


def test_same_commands_same_state():
    assert script(Harness()) == script(Harness())
    h = Harness()
    script(h)
    snap = h.ccms.snapshot()
    assert snap["next_instruction_id"] == 5 and snap["requirements"]
