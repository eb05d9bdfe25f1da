"""Margin numbers (see the worked example in docs/guides/dcass.md)."""
from decimal import Decimal

from gateway.clearing.core import Context
from gateway.clearing.dcass import (AccountType, InjectDeal, MarginChanged, MarginQuery, SetSettlementPrice, SetUnderlyingPrice,
                                    ShortCallPosition, TransferPosition)
from gateway.clearing.dcass import errors as E
from gateway.clearing.dcass import margin as M
from gateway.clearing.errors import ClearingError

import pytest

from .conftest import events_of


def req(env, participant, account, ccy="HKD"):
    rows = [m for m in env.q(MarginQuery(participant, account), participant) if m.currency == ccy]
    return rows[0].requirement if rows else 0


def test_futures_scanning_range(env):
    out = env.op(InjectDeal(
        env.key("HSI NOV26"), 25000, 2, "CPA01", "CPC03", "HKCC-HOUSE", "HKCC-HOUSE"))
    # 2 contracts x 25,000 points x 10% x HKD 50 = HKD 250,000.00
    assert {(m.owner, m.requirement) for m in events_of(out, MarginChanged)} == {("CPA01", 25_000_000),
                                                                                  ("CPC03", 25_000_000)}
    m = events_of(out, MarginChanged)[0]
    assert (m.clearing_house, m.account_id, m.account_type, m.currency, m.STREAM) == (
        "HKCC", "HKCC-HOUSE", AccountType.HOUSE, "HKD", "clearing")
    # a settlement price moves the requirement and emits MarginChanged
    out = env.op(SetSettlementPrice(env.key("HSI NOV26"), 26000))
    assert {m.requirement for m in events_of(out, MarginChanged)} == {26_000_000}


def test_intermonth_spread_charge_and_gross_vs_net(env):
    # worked example of the guide: long 2 NOV26 and short 1 DEC26
    env.op(SetSettlementPrice(env.key("HSI NOV26"), 25000))
    env.op(SetSettlementPrice(env.key("HSI DEC26"), 25200))
    env.deal("HSI NOV26", 25000, 2, "CPA01", "CPC03", "HKCC-HOUSE", "HKCC-HOUSE")
    env.deal("HSI DEC26", 25200, 1, "CPC03", "CPA01", "HKCC-HOUSE", "HKCC-HOUSE")
    # net: scan = 10% x 50 x (2 x 25,000 - 25,200) = 124,000; + 1 spread x 10,000 = HKD 134,000.00
    assert req(env, "CPA01", "HKCC-HOUSE") == 13_400_000
    # the same positions in the omnibus (gross) account: longs and shorts margined apart, no spread
    env.deal("HSI NOV26", 25000, 2, "CPA01", "CPC03", "HKCC-OMNIBUS", "HKCC-HOUSE")
    env.deal("HSI DEC26", 25200, 1, "CPC03", "CPA01", "HKCC-HOUSE", "HKCC-OMNIBUS")
    # 2 x 25,000 x 10% x 50 + 1 x 25,200 x 10% x 50 = 250,000 + 126,000
    assert req(env, "CPA01", "HKCC-OMNIBUS") == 37_600_000


def test_short_option_minimum_applies_when_scan_is_small(env):
    env.op(SetUnderlyingPrice("HSI", 30000))
    env.deal("HSI NOV26 26000 P", 10, 2, "CPC03", "CPA01", "HKCC-HOUSE", "HKCC-HOUSE")
    # deep out of the money: the worst scenario (30,000 - 10% = 27,000) leaves it worthless -> scan 0
    assert req(env, "CPA01", "HKCC-HOUSE") == 2 * 500_000          # HKD 5,000 per short contract
    # long side of an option has no short-option minimum: its scan risk is the premium at most
    assert req(env, "CPC03", "HKCC-HOUSE") == 0


def test_option_scan_and_future_offset(env):
    env.deal("HSI NOV26 26000 C", 100, 1, "CPC03", "CPA01", "HKCC-HOUSE", "HKCC-HOUSE")
    # short call, underlying 25,000: +10% -> 27,500 -> intrinsic 1,500 (+ time value 100 - 100)
    assert req(env, "CPA01", "HKCC-HOUSE") == 1500 * 50 * 100
    env.deal("HSI NOV26", 25000, 1, "CPA01", "CPC03", "HKCC-HOUSE", "HKCC-HOUSE")
    # + long future: up-moves now gain; the worst is -10%: the future loses 2,500 x 50 and the
    # out-of-the-money call keeps its time value (the model has no time decay), so no offset there
    assert req(env, "CPA01", "HKCC-HOUSE") == 2500 * 50 * 100
    # a long at-the-money put offsets the future's down-moves exactly: scan risk 0
    env.deal("HSI NOV26 25000 P", 300, 1, "CPE05", "CPC03", "HKCC-HOUSE", "HKCC-HOUSE")
    env.deal("HSI NOV26", 25000, 1, "CPE05", "CPC03", "HKCC-HOUSE", "HKCC-HOUSE")
    assert req(env, "CPE05", "HKCC-HOUSE") == 0


def test_stock_option_scan_and_covered_calls(env):
    out = env.op(InjectDeal(
        env.key("TCH NOV26 480.00 C"), 1250, 2, "CPA01", "CPD04", "SEOCH-HOUSE", "SEOCH-HOUSE"))
    # short 2 calls, 480.00 at the money: +12% -> 537.60: (57.60 + 12.50 - 12.50) x 100 shares x 2
    assert req(env, "CPD04", "SEOCH-HOUSE") == 2 * 5760 * 100
    d = env.d
    key = env.key("TCH NOV26 480.00 C")
    assert d.short_call_positions("CPD04", "SEOCH-HOUSE") == [ShortCallPosition(key, "0700", 100, 2, 0)]
    ctx = Context(env.now, None, "ccms", True)
    events = d.set_covered("CPD04", "SEOCH-HOUSE", key, 1, ctx)
    assert [e.requirement for e in events if isinstance(e, MarginChanged)] == [5760 * 100]
    assert d.short_call_positions("CPD04", "SEOCH-HOUSE")[0].covered == 1
    events = d.set_covered("CPD04", "SEOCH-HOUSE", key, 2, ctx)
    assert [e.requirement for e in events if isinstance(e, MarginChanged)] == [0]
    assert [m.requirement for m in d.margin_requirements("CPD04")] == [0]
    # release: CCMS sets a smaller quantity
    events = d.set_covered("CPD04", "SEOCH-HOUSE", key, 0, ctx)
    assert [e.requirement for e in events if isinstance(e, MarginChanged)] == [2 * 5760 * 100]
    d.set_covered("CPD04", "SEOCH-HOUSE", key, 2, ctx)
    # the short closes partly: covered is capped at the short quantity automatically
    env.deal("TCH NOV26 480.00 C", 1300, 1, "CPD04", "CPA01", "SEOCH-HOUSE", "SEOCH-HOUSE")
    assert d.short_call_positions("CPD04", "SEOCH-HOUSE") == [ShortCallPosition(key, "0700", 100, 1, 1)]
    assert env.pos("CPD04", "SEOCH-HOUSE", "TCH NOV26 480.00 C").covered == 1

    def rejected(error, *args):
        before = d.snapshot()
        with pytest.raises(ClearingError) as ei:
            d.set_covered(*args, ctx)
        assert ei.value.error == error and d.snapshot() == before

    rejected(E.COVER_EXCEEDS_SHORT, "CPD04", "SEOCH-HOUSE", key, 2)
    rejected(E.NOT_A_STOCK_CALL, "CPD04", "SEOCH-HOUSE", env.key("TCH NOV26 480.00 P"), 1)
    rejected(E.UNKNOWN_ACCOUNT, "CPD04", "NOPE", key, 1)
    rejected(E.INVALID_QUANTITY, "CPD04", "SEOCH-HOUSE", key, -1)
    rejected(E.UNKNOWN_SERIES, "CPD04", "SEOCH-HOUSE", b"\x00" * 12, 1)


def test_ccms_interface_account_and_requirements(env):
    d = env.d
    a = d.account("CPA01", "SEOCH-OMNIBUS")
    assert a.account_type is AccountType.OMNIBUS_CLIENT and a.clearing_house == "SEOCH"
    with pytest.raises(ClearingError) as ei:
        d.account("CPA01", "NOPE")
    assert ei.value.error == E.UNKNOWN_ACCOUNT
    env.deal("HSI NOV26", 25000, 1, "CPA01", "CPC03", "HKCC-HOUSE", "HKCC-HOUSE")
    env.deal("CUS DEC26", 71000, 1, "CPA01", "CPC03", "HKCC-HOUSE", "HKCC-HOUSE")
    rows = d.margin_requirements("CPA01")
    # USD/CNH: 1 x 7.1000 x 2% x USD 100,000 notional = RMB 14,200.00
    assert [(m.account_id, m.currency, m.requirement) for m in rows] == [("HKCC-HOUSE", "HKD", 12_500_000),
                                                                         ("HKCC-HOUSE", "RMB", 1_420_000)]
    # moving the position out drops this account's requirement to zero (and says so)
    out = env.cp("CPA01", TransferPosition("CPA01", env.key("HSI NOV26"), "HKCC-HOUSE", "HKCC-CLIENT01", 1))
    assert {(m.account_id, m.requirement) for m in events_of(out, MarginChanged)} == {
        ("HKCC-HOUSE", 0), ("HKCC-CLIENT01", 12_500_000)}


def test_margin_function_breakdown_is_exact():
    from gateway.refdata import dcass_reference
    ref = dcass_reference()
    nov, dec = ref.by_name["HSI NOV26"], ref.by_name["HSI DEC26"]
    prices = {nov.key: 25000, dec.key: 25200}
    b = M.portfolio([M.MarginLeg(nov, 2), M.MarginLeg(dec, -1)], ref.risk["HSI"], lambda s: prices[s.key], 25000, 0,
                    (-3, -2, -1, 0, 1, 2, 3), 3)
    assert (b.scan_risk, b.worst_scenario, b.spread_charge, b.short_option_minimum, b.requirement_cents) == (
        Decimal("124000.00"), -3, Decimal(10000), Decimal(0), 13_400_000)


def test_guide_worked_example(env):
    """docs/guides/dcass.md, "Worked example": keep the two in step."""
    env.op(SetSettlementPrice(env.key("HSI NOV26"), 25000))
    env.op(SetSettlementPrice(env.key("HSI DEC26"), 25200))
    for acct in ("HKCC-HOUSE", "HKCC-OMNIBUS"):
        env.deal("HSI NOV26", 25000, 2, "CPA01", "CPC03", acct, "HKCC-HOUSE")
        env.deal("HSI DEC26", 25200, 1, "CPC03", "CPA01", "HKCC-HOUSE", acct)
        env.deal("HSI NOV26 26000 C", 100, 1, "CPC03", "CPA01", "HKCC-HOUSE", acct)
    assert req(env, "CPA01", "HKCC-HOUSE") == 13_400_000
    assert req(env, "CPA01", "HKCC-OMNIBUS") == 45_100_000


def test_incremental_margin_equals_a_fresh_computation(env):
    """Running sums after many random changes == margin computed from scratch, for every account."""
    import random
    from datetime import date as _date
    rnd = random.Random(7)
    d = env.d
    names = [s.name for s in d.ref.series.values() if s.expiry > _date(2026, 11, 2) and s.cls.underlying in
             ("HSI", "0700", "USDCNH")]
    hk = ["HKCC-HOUSE", "HKCC-OMNIBUS", "HKCC-CLIENT01", ""]
    so = ["SEOCH-HOUSE", "SEOCH-OMNIBUS", ""]
    ctx = Context(env.now, None, "ccms", True)
    for i in range(300):
        name = rnd.choice(names)
        accts = so if d.ref.by_name[name].cls.clearing_house == "SEOCH" else hk
        r = rnd.random()
        if r < 0.8:
            env.deal(name, rnd.randint(1, 300) * 10, rnd.randint(1, 4), "CPA01", "CPB02", rnd.choice(accts),
                     rnd.choice(accts), rnd.choice([1, 2]), rnd.choice([1, 2]))
        elif r < 0.9:
            s = d.ref.by_name[name]
            env.op(SetSettlementPrice(s.key, rnd.randint(1, 300) * 10) if s.is_option else
                   SetSettlementPrice(s.key, rnd.randint(20000, 30000)))
        elif r < 0.95:
            env.op(SetUnderlyingPrice("0700", rnd.randint(40000, 56000)))
        else:
            for sc in d.short_call_positions("CPB02", "SEOCH-HOUSE"):
                d.set_covered("CPB02", "SEOCH-HOUSE", sc.series_key, rnd.randint(0, sc.short), ctx)
    checked = 0
    for _ in range(2):          # after the incremental updates, then after end of day
        for (p, a) in d.accounts:
            stored = {c: v for c, v in d.margins.get((p, a), {}).items() if v}
            assert stored == d.account_margin(p, a), (p, a)
            checked += bool(stored)
        env.eod()
    assert checked > 6
