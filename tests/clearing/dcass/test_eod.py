from datetime import date, datetime

from gateway.clearing.dcass import (AccountType, DealKind, InjectDeal, MoneyObligationEvent, MoneyObligationsQuery,
                                    PositionChanged, RectifyTrade, Allocation, SetSettlementPrice,
                                    SettlementPricesQuery, TradeEvent, TradesQuery)
from gateway.clearing.dcass import errors as E

from .conftest import Env, events_of


def money(env, participant, ccy="HKD", ch="HKCC", by_account=False, on=None):
    rows = env.q(MoneyObligationsQuery(participant, on, by_account), participant)
    return [r for r in rows if r.currency == ccy and r.clearing_house == ch]


def test_variation_adjustment_over_two_days_and_fees(env):
    env.deal("HSI NOV26", 25000, 2, "CPA01", "CPC03", "HKCC-HOUSE", "HKCC-HOUSE")
    env.op(SetSettlementPrice(env.key("HSI NOV26"), 25100))
    out = env.eod()
    ev = {e.owner: e for e in events_of(out, MoneyObligationEvent)}
    # (25,100 - 25,000) x 2 x HKD 50 = HKD 10,000.00; fee HKD 10.00 per contract
    assert (ev["CPA01"].variation, ev["CPA01"].fees, ev["CPA01"].net) == (1_000_000, -2000, 998_000)
    assert (ev["CPC03"].variation, ev["CPC03"].fees, ev["CPC03"].net) == (-1_000_000, -2000, -1_002_000)
    assert ev["CPA01"].business_date == date(2026, 11, 2) and ev["CPA01"].currency == "HKD"
    # day 2: carried position revalued from 25,100 to 24,900, plus a sale today at 25,000
    env.at(10)
    env.deal("HSI NOV26", 25000, 1, "CPC03", "CPA01", "HKCC-HOUSE", "HKCC-HOUSE")
    env.op(SetSettlementPrice(env.key("HSI NOV26"), 24900))
    out = env.eod()
    a = [e for e in events_of(out, MoneyObligationEvent) if e.owner == "CPA01"][0]
    # carried: (24,900 - 25,100) x 2 x 50 = -20,000; sold 1 at 25,000: (24,900 - 25,000) x -1 x 50 = +5,000
    assert (a.variation, a.fees) == (-1_500_000, -1000)
    row = money(env, "CPA01")[0]
    assert (row.business_date, row.variation, row.net) == (date(2026, 11, 3), -1_500_000, -1_501_000)
    assert money(env, "CPA01", on=date(2026, 11, 2))[0].variation == 1_000_000
    prices = env.q(SettlementPricesQuery(env.key("HSI NOV26")))[0]
    assert (prices.price, prices.previous) == (None, 24900)


def test_option_premium_and_rmb_variation(env):
    env.deal("TCH NOV26 480.00 C", 1250, 3, "CPA01", "CPD04", "SEOCH-HOUSE", "SEOCH-HOUSE")
    env.deal("CUS DEC26", 71000, 1, "CPA01", "CPC03", "HKCC-HOUSE", "HKCC-HOUSE")
    env.op(SetSettlementPrice(env.key("CUS DEC26"), 71050))
    env.eod()
    a = money(env, "CPA01", ch="SEOCH")[0]
    # premium HKD 12.50 x 3 x 100 shares = HKD 3,750.00 paid by the buyer; fee HKD 0.50 per contract
    assert (a.premium, a.fees, a.variation) == (-375_000, -150, 0)
    assert money(env, "CPD04", ch="SEOCH")[0].premium == 375_000
    # USD/CNH: 0.0050 x USD 100,000 = RMB 500.00 in RMB; fee RMB 8.00
    r = money(env, "CPA01", ccy="RMB")[0]
    assert (r.variation, r.fees, r.net) == (50_000, -800, 49_200)


def test_adjustments_do_not_create_money_for_the_participant(env):
    b = env.deal("HSI NOV26", 25000, 4, "CPA01", "CPC03", "HKCC-DAILY", "HKCC-HOUSE")
    env.cp("CPA01", RectifyTrade("CPA01", b.trade_nos[0], (Allocation("HKCC-HOUSE", 1),
                                                          Allocation("HKCC-OMNIBUS", 3))))
    env.op(SetSettlementPrice(env.key("HSI NOV26"), 25200))
    env.eod()
    total = money(env, "CPA01")[0]
    assert total.variation == 200 * 4 * 50 * 100 and total.fees == -4000
    accts = {r.account_id: r for r in money(env, "CPA01", by_account=True)}
    assert accts["HKCC-HOUSE"].variation == 200 * 1 * 50 * 100
    assert accts["HKCC-OMNIBUS"].variation == 200 * 3 * 50 * 100
    assert accts["HKCC-DAILY"].variation == 0 and accts["HKCC-DAILY"].fees == -4000


def test_what_is_left_in_daily_moves_to_sink_gross(env):
    env.deal("HSI DEC26", 25000, 3, "CPA01", "CPC03")                  # A long 3 in daily
    env.deal("HSI DEC26", 25050, 1, "CPC03", "CPA01", "", "", soc=2)   # A sells 1 CLOSE in daily (gross)
    env.deal("HSI DEC26", 25060, 2, "CPC03", "CPA01")                  # A sells 2 OPEN in daily
    assert env.ls("CPA01", "HKCC-DAILY", "HSI DEC26") == (2, 2)
    out = env.eod()
    sink_trades = [e for e in events_of(out, TradeEvent) if e.kind is DealKind.SINK and e.owner == "CPA01"]
    assert len(sink_trades) == 4
    assert env.ls("CPA01", "HKCC-DAILY", "HSI DEC26") == (0, 0)
    assert env.ls("CPA01", "HKCC-SINK", "HSI DEC26") == (2, 2)
    assert env.pos("CPA01", "HKCC-SINK", "HSI DEC26").account_type is AccountType.SINK
    assert env.ls("CPC03", "HKCC-SINK", "HSI DEC26") == (3, 3)      # C's daily: long 3 (1+2), short 3
    # next day the participant moves it out with a position transfer
    env.at(10)
    from gateway.clearing.dcass import TransferPosition
    env.cp("CPA01", TransferPosition("CPA01", env.key("HSI DEC26"), "HKCC-SINK", "HKCC-OMNIBUS", 2, 2))
    assert env.ls("CPA01", "HKCC-OMNIBUS", "HSI DEC26") == (2, 2)


def test_futures_expire_after_final_variation():
    env = Env(datetime(2026, 11, 26, 9))
    env.at(10)
    env.deal("HSI NOV26", 25000, 1, "CPA01", "CPC03", "HKCC-HOUSE", "HKCC-HOUSE")
    env.op(SetSettlementPrice(env.key("HSI NOV26"), 25000))
    env.eod()
    assert env.core.business_date == date(2026, 11, 27)     # expiry day
    env.at(10)
    env.op(SetSettlementPrice(env.key("HSI NOV26"), 25300))     # final settlement price
    out = env.eod()
    assert [e.variation for e in events_of(out, MoneyObligationEvent) if e.owner == "CPA01"] == [300 * 50 * 100]
    assert {(e.owner, e.long, e.short) for e in events_of(out, PositionChanged)
            if e.series_name == "HSI NOV26"} == {("CPA01", 0, 0), ("CPC03", 0, 0)}
    assert env.d.margin_requirements("CPA01")[0].requirement == 0
    env.at(10)
    env.rejects(E.SERIES_EXPIRED, env.op, InjectDeal(env.key("HSI NOV26"), 25000, 1, "CPA01", "CPC03"))
    assert env.core.business_date == date(2026, 11, 30)
