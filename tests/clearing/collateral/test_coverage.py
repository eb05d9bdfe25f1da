"""Margin coverage: the 50% settlement-cash rule, the RMB fixed limit, the priority of use,
account mapping and aggregation, margin calls."""
from datetime import date, datetime
from decimal import Decimal

import pytest

from gateway.clearing.collateral import (
    AccountMappingQuery, CollateralAccountsQuery, CoverageChanged, CoverageQuery, DepositCash, DepositSecurities,
    MapDcassAccount, MarginCallChanged, OpenCollateralAccount, SetCollateralPrice, SetFxRate,
    MAPPING_NOT_ALLOWED, STOCK_IN_CLIENT_ACCOUNT, STOCK_IN_MM_ACCOUNT, CLEARING_HOUSE_MISMATCH,
)

from .fakes import Harness, P, Q, T0, params_with

EFB = {"id": "TEFB", "type": "EFBN", "currency": "HKD", "maturity": date(2026, 3, 2)}     # 2% haircut
EFB5 = {"id": "TEFB5", "type": "EFBN", "currency": "HKD", "maturity": date(2027, 3, 2)}   # 3%
UST = {"id": "TUST", "type": "UST", "currency": "USD", "maturity": date(2026, 3, 2)}      # 1%
L = 100_000_000_000            # RMB 1,000,000,000 in cents


def harness(start=T0, **over):
    h = Harness(start, params=params_with(debt=[EFB, EFB5, UST], **over))
    for c, r in (("USD", "10"), ("EUR", "10"), ("JPY", "0.05"), ("RMB", "1")):
        h.op(SetFxRate(c, Decimal(r)))
    return h


def line(h, ccy="HKD", account="HOUSE", ch="HKCC", p=P):
    ans = h.query(CoverageQuery(ch, account), who=p)
    return next(l for l in ans.lines if l.currency == ccy)


# ------------------------------------------------------------------ the 50% rule
def test_fifty_percent_settlement_cash_exactly_met():
    h = harness()
    h.margin("H1", 1_000_000)
    h.run(DepositCash("HKCC", "HOUSE", "HKD", 500_000))
    h.run(DepositSecurities("HKCC", "HOUSE", "TEFB", 10_000_000))          # plenty of non-cash
    l = line(h)
    assert (l.settlement_cash_required, l.covered_settlement_cash, l.covered_non_cash, l.shortfall) == \
        (500_000, 500_000, 500_000, 0)
    assert h.query(CoverageQuery("HKCC", "HOUSE")).calls == ()


def test_fifty_percent_missed_by_one_cent_is_a_one_cent_margin_call():
    h = harness()
    h.margin("H1", 1_000_000)
    h.run(DepositCash("HKCC", "HOUSE", "HKD", 499_999))
    out = h.run(DepositSecurities("HKCC", "HOUSE", "TEFB", 10_000_000))
    l = line(h)
    assert (l.covered_settlement_cash, l.covered_non_cash, l.shortfall) == (499_999, 500_000, 1)
    calls = h.query(CoverageQuery("HKCC", "HOUSE")).calls
    assert [(c.currency, c.amount) for c in calls] == [("HKD", 1)]
    assert [(e.status, e.amount) for e in out.events if isinstance(e, MarginCallChanged)] == [("AMENDED", 1)]


def test_fifty_percent_of_an_odd_requirement_rounds_up():
    h = harness()
    h.margin("H1", 1_000_001)
    assert line(h).settlement_cash_required == 500_001


def test_other_currency_cash_cannot_meet_the_settlement_cash_half():
    h = harness()
    h.margin("H1", 1_000_000)
    h.run(DepositCash("HKCC", "HOUSE", "USD", 10_000_000))                 # worth far more than 1m HKD
    l = line(h)
    assert (l.covered_settlement_cash, l.covered_other_cash, l.shortfall) == (0, 500_000, 500_000)


def test_settlement_currency_of_a_usd_requirement_is_usd():
    h = harness()
    h.margin("H1", 100_000, currency="USD")
    h.run(DepositCash("HKCC", "HOUSE", "HKD", 100_000_000))
    l = line(h, "USD")
    assert (l.covered_settlement_cash, l.covered_other_cash, l.shortfall) == (0, 50_000, 50_000)
    h.run(DepositCash("HKCC", "HOUSE", "USD", 50_000))
    assert line(h, "USD").shortfall == 0


def test_non_cash_cap_mode_seoch_2004_is_a_parameter():
    h = harness(cash_ratio_mode="NON_CASH_CAP")
    h.margin("H1", 1_000_000)
    h.run(DepositCash("HKCC", "HOUSE", "USD", 10_000_000))                 # other-currency cash counts as cash
    l = line(h)
    assert (l.settlement_cash_required, l.cash_required, l.covered_other_cash, l.shortfall) == (0, 500_000, 1_000_000, 0)


# ------------------------------------------------------------------ the RMB fixed limit
@pytest.mark.parametrize("requirement, shortfall", [
    (L - 100, 0),        # below the limit: HKD cash and EFBN cover it all, no RMB cash needed
    (L, 0),              # at the limit: likewise
    (L + 100, 100),      # above it: the RMB 1.00 beyond the limit must be RMB cash
])
def test_rmb_fixed_limit_below_at_above(requirement, shortfall):
    h = harness()
    h.margin("H1", requirement, currency="RMB")
    h.run(DepositCash("HKCC", "HOUSE", "HKD", 10 * L))
    h.run(DepositSecurities("HKCC", "HOUSE", "TEFB", 10 * L))
    l = line(h, "RMB")
    assert l.settlement_cash_required == max(0, requirement - L)
    assert l.rmb_limit_share == min(requirement, L)
    assert l.shortfall == shortfall
    if shortfall:
        calls = h.query(CoverageQuery("HKCC", "HOUSE")).calls
        assert [(c.currency, c.amount) for c in calls] == [("RMB", shortfall)]
        h.run(DepositCash("HKCC", "HOUSE", "RMB", shortfall))
        assert line(h, "RMB").shortfall == 0


def test_rmb_requirement_needs_no_rmb_cash_but_non_cash_covers_at_most_half():
    h = harness()
    m = 2_000_000                                        # below the limit
    h.margin("H1", m, currency="RMB")
    h.run(DepositSecurities("HKCC", "HOUSE", "TEFB", 10 * m))
    l = line(h, "RMB")
    assert (l.settlement_cash_required, l.cash_required, l.covered_non_cash, l.shortfall) == (0, 1_000_000, 1_000_000,
                                                                                              1_000_000)
    h.run(DepositCash("HKCC", "HOUSE", "USD", 100_705))  # USD cash (any acceptable cash): 100,705 x 9.93 >= 1,000,000
    l = line(h, "RMB")
    assert (l.covered_other_cash, l.shortfall) == (1_000_000, 0)


@pytest.mark.parametrize("base, cap", [("IN_LIMIT", L // 2), ("TOTAL", L)])
def test_rmb_non_cash_cap_in_limit_or_total(base, cap):
    h = harness(rmb_cap_base=base)
    m = 3 * L
    h.margin("H1", m, currency="RMB")
    h.run(DepositCash("HKCC", "HOUSE", "RMB", 2 * L))    # the part beyond the limit, in RMB cash
    h.run(DepositSecurities("HKCC", "HOUSE", "TEFB", 10 * L))
    l = line(h, "RMB")
    assert l.cash_required == m - cap
    assert l.covered_non_cash == cap
    assert l.shortfall == L - cap


def test_rmb_limit_is_shared_by_the_participants_accounts_in_account_order():
    h = harness()
    h.margin("H1", L * 8 // 10, currency="RMB")          # house takes 0.8 of the limit first
    h.margin("OC1", L * 5 // 10, currency="RMB")         # client gets the remaining 0.2
    assert line(h, "RMB", "HOUSE").rmb_limit_share == L * 8 // 10
    c = line(h, "RMB", "CLIENT")
    assert (c.rmb_limit_share, c.settlement_cash_required) == (L * 2 // 10, L * 3 // 10)
    # another participant has a limit of its own
    h.margin("H1", L, currency="RMB", p=Q)
    assert line(h, "RMB", "HOUSE", p=Q).rmb_limit_share == L


def test_rmb_limit_per_account_scope_is_a_parameter():
    h = harness(rmb_limit_scope="ACCOUNT")
    h.margin("H1", L * 8 // 10, currency="RMB")
    h.margin("OC1", L * 5 // 10, currency="RMB")
    assert line(h, "RMB", "CLIENT").rmb_limit_share == L * 5 // 10


# ------------------------------------------------------------------ priority of use
def test_priority_settlement_cash_then_other_cash_then_efbn_ust_stock():
    h = harness()
    h.op(SetCollateralPrice("700", Decimal("10")))
    h.margin("H1", 2_000_000)
    h.run(DepositSecurities("HKCC", "HOUSE", "700", 100_000))    # 700 cents a share after the 30% haircut
    h.run(DepositSecurities("HKCC", "HOUSE", "TUST", 10_000))     # USD 100 -> 98,307 HKD cents
    h.run(DepositSecurities("HKCC", "HOUSE", "TEFB", 200_000))    # 196,000
    h.run(DepositCash("HKCC", "HOUSE", "EUR", 20_000))            # 188,000
    h.run(DepositCash("HKCC", "HOUSE", "USD", 10_000))            # 99,300
    h.run(DepositCash("HKCC", "HOUSE", "HKD", 1_200_000))
    ans = h.query(CoverageQuery("HKCC", "HOUSE"))
    used = [(a.asset_class, a.asset, a.quantity, a.value) for a in ans.allocations]
    assert used == [
        ("CASH", "HKD", 1_200_000, 1_200_000),     # settlement-currency cash first
        ("CASH", "USD", 10_000, 99_300),           # other-currency cash: USD before EUR (cash_priority)
        ("CASH", "EUR", 20_000, 188_000),
        ("EFBN", "TEFB", 200_000, 196_000),        # then non-cash: EFBN, UST, stocks
        ("UST", "TUST", 10_000, 98_307),
        ("STOCK", "00700", 312, 218_393),          # the rest: 2,000,000 - 1,781,607 = 218,393 (312 x 700 >= it)
    ]
    l = ans.lines[0]
    assert (l.covered_settlement_cash, l.covered_other_cash, l.covered_non_cash, l.shortfall) == \
        (1_200_000, 287_300, 512_700, 0)
    assert [(u.asset, u.quantity) for u in ans.unused] == [("00700", 100_000 - 312)]
    assert ans.excess_hkd == (100_000 - 312) * 700


def test_excess_settlement_cash_leaves_everything_else_unused():
    h = harness()
    h.margin("H1", 1_000_000)
    h.run(DepositSecurities("HKCC", "HOUSE", "TEFB", 1_000_000))
    h.run(DepositCash("HKCC", "HOUSE", "USD", 10_000))
    h.run(DepositCash("HKCC", "HOUSE", "HKD", 1_500_000))
    ans = h.query(CoverageQuery("HKCC", "HOUSE"))
    assert [(a.asset, a.quantity) for a in ans.allocations] == [("HKD", 1_000_000)]
    assert [(u.asset, u.quantity, u.value_hkd) for u in ans.unused] == [
        ("HKD", 500_000, 500_000), ("USD", 10_000, 99_300), ("TEFB", 1_000_000, 980_000)]
    assert ans.excess_hkd == 500_000 + 99_300 + 980_000


def test_several_requirement_currencies_share_the_excess_in_settlement_order():
    h = harness()
    h.margin("H1", 1_000_000)                       # HKD
    h.margin("H1", 100_000, currency="USD")
    h.run(DepositCash("HKCC", "HOUSE", "HKD", 1_500_000))
    h.run(DepositCash("HKCC", "HOUSE", "USD", 50_000))
    hkd, usd = line(h, "HKD"), line(h, "USD")
    assert (hkd.covered_settlement_cash, hkd.shortfall) == (1_000_000, 0)
    # USD: 50,000 USD cash (the 50%), the rest from the excess HKD cash (500,000 x 0.993 / 10 = 49,650)
    assert (usd.covered_settlement_cash, usd.covered_other_cash, usd.shortfall) == (50_000, 49_650, 350)


# ------------------------------------------------------------------ accounts and mapping
def test_default_mapping_and_aggregation_of_client_accounts():
    h = harness()
    h.margin("OC1", 300_000)
    h.margin("IC1", 200_000)
    h.margin("IC2", 100_000)
    h.margin("MM1", 50_000)
    assert line(h, "HKD", "CLIENT").requirement == 600_000      # three client accounts aggregate
    assert line(h, "HKD", "MM").requirement == 50_000
    mp = {(m.dcass_account, m.account) for m in h.query(AccountMappingQuery(clearing_house="HKCC"))}
    assert {("OC1", "CLIENT"), ("IC1", "CLIENT"), ("IC2", "CLIENT"), ("MM1", "MM")} <= mp
    accs = {a.account: a for a in h.query(CollateralAccountsQuery(clearing_house="HKCC"))}
    assert accs["CLIENT"].dcass_accounts == ("IC1", "IC2", "OC1")
    assert (accs["HOUSE"].kind, accs["MM"].kind, accs["CLIENT"].kind) == ("HOUSE", "MARKET_MAKER", "CLIENT")


def test_mapping_an_individual_client_account_to_its_own_client_collateral_account():
    h = harness()
    h.margin("IC1", 200_000)
    h.margin("IC2", 100_000)
    h.run(OpenCollateralAccount("HKCC", "CLI2", "CLIENT"))
    out = h.run(MapDcassAccount("IC2", "CLI2"))
    assert any(isinstance(e, CoverageChanged) and e.account == "CLI2" for e in out.events)
    assert line(h, "HKD", "CLIENT").requirement == 200_000
    assert line(h, "HKD", "CLI2").requirement == 100_000
    entry = next(m for m in h.query(AccountMappingQuery()) if m.dcass_account == "IC2")
    assert (entry.account, entry.explicit, entry.account_type) == ("CLI2", True, "INDIVIDUAL_CLIENT")
    h.run(MapDcassAccount("IC2", ""))                          # back to the default
    assert line(h, "HKD", "CLIENT").requirement == 300_000


def test_only_client_accounts_map_to_client_collateral_accounts():
    h = harness()
    h.rejects(MapDcassAccount("H1", "CLIENT"), MAPPING_NOT_ALLOWED)
    h.rejects(MapDcassAccount("MM1", "CLIENT"), MAPPING_NOT_ALLOWED)
    h.rejects(MapDcassAccount("OC1", "HOUSE"), MAPPING_NOT_ALLOWED)     # segregation (inferred)
    h.run(MapDcassAccount("MM1", "HOUSE"))                              # non-client to house: allowed
    h.margin("MM1", 70_000)
    assert line(h, "HKD", "HOUSE").requirement == 70_000
    h.run(OpenCollateralAccount("SEOCH", "S2", "HOUSE"))
    h.rejects(MapDcassAccount("H1", "S2"), CLEARING_HOUSE_MISMATCH)


def test_stocks_only_in_house_accounts():
    h = harness()
    h.rejects(DepositSecurities("HKCC", "CLIENT", "700", 100), STOCK_IN_CLIENT_ACCOUNT)
    h.rejects(DepositSecurities("HKCC", "MM", "700", 100), STOCK_IN_MM_ACCOUNT)
    h.run(DepositSecurities("HKCC", "HOUSE", "700", 100))


# ------------------------------------------------------------------ coverage events and calls
def test_coverage_is_recomputed_and_broadcast_when_margin_collateral_prices_or_rates_change():
    h = harness()
    out = h.margin("H1", 1_000_000)
    assert [type(e).__name__ for e in out.events] == ["MarginChanged", "CoverageChanged", "MarginCallChanged"]
    cc = next(e for e in out.events if isinstance(e, CoverageChanged))
    assert (cc.owner, cc.STREAM, cc.account) == (P, "collateral", "HOUSE")
    call = next(e for e in out.events if isinstance(e, MarginCallChanged))
    assert (call.status, call.currency, call.amount, call.due) == ("ISSUED", "HKD", 1_000_000,
                                                                     datetime(2025, 3, 3, 10, 0))
    h.run(DepositCash("HKCC", "HOUSE", "HKD", 500_000))
    out = h.run(DepositCash("HKCC", "HOUSE", "USD", 60_000))     # 595,800 HKD: covers the other half
    assert [e.status for e in out.events if isinstance(e, MarginCallChanged)] == ["MET"]
    out = h.op(SetFxRate("USD", Decimal("7.8")))                  # 60,000 x 7.8 x 0.993 = 464,724 < 500,000
    assert [(e.status, e.amount) for e in out.events if isinstance(e, MarginCallChanged)] == [("ISSUED", 35_276)]
    # an unchanged result broadcasts nothing
    out = h.op(SetFxRate("EUR", Decimal("9")))
    assert not [e for e in out.events if isinstance(e, (CoverageChanged, MarginCallChanged))]


def test_margin_call_due_time_rolls_to_next_business_day_after_the_latest_due_time():
    h = harness(datetime(2025, 3, 7, 9, 0))                        # business date Friday 7 March
    out = h.margin("H1", 1_000, at=datetime(2025, 3, 7, 15, 30))   # Friday: 16:30 is after 16:00
    call = next(e for e in out.events if isinstance(e, MarginCallChanged))
    assert call.due == datetime(2025, 3, 10, 9, 15)
    out = h.margin("H1", 2_000, at=datetime(2025, 3, 7, 15, 45))
    call = next(e for e in out.events if isinstance(e, MarginCallChanged))
    assert (call.status, call.amount, call.due) == ("AMENDED", 2_000, datetime(2025, 3, 10, 9, 15))


def test_margin_calls_query_lists_open_calls():
    from gateway.clearing.collateral import MarginCallsQuery
    h = harness()
    h.margin("H1", 1_000)
    h.margin("OC1", 2_000, currency="USD")
    calls = h.query(MarginCallsQuery())
    assert [(c.account, c.currency, c.amount) for c in calls] == [("CLIENT", "USD", 2_000), ("HOUSE", "HKD", 1_000)]
    assert h.query(MarginCallsQuery(clearing_house="SEOCH")) == ()
    assert h.query(MarginCallsQuery(), who="CP002") == ()
