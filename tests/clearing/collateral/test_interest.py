"""Interest on cash used for margin, accommodation charges on utilised non-cash collateral:
daily accrual (actual/365), rounding, posting on the first business day of the next month."""
from datetime import date, datetime
from decimal import Decimal

from gateway.clearing.core import EndOfDay, SetBusinessTime
from gateway.clearing.collateral import (
    DepositCash, DepositSecurities, HoldingsQuery, InterestPosted, InterestQuery, SetInterestRate,
)

from .fakes import Harness, P, PARAMS


def eod(h, at):
    h.op(SetBusinessTime(at))
    return h.op(EndOfDay())


def test_interest_on_cash_used_for_margin_only():
    h = Harness()
    h.op(SetInterestRate("HKD", Decimal("0.0365")))
    h.margin("H1", 1_000_000)
    h.run(DepositCash("HKCC", "HOUSE", "HKD", 3_000_000))        # 2,000,000 is excess: earns nothing
    eod(h, datetime(2025, 3, 3, 18, 0))
    (a,) = h.query(InterestQuery(date(2025, 3, 3)))
    assert (a.kind, a.currency, a.base, a.rate, a.days, a.amount) == \
        ("INTEREST", "HKD", 1_000_000, Decimal("0.0365"), 1, 100)    # 1,000,000 x 3.65% / 365


def test_friday_accrues_three_calendar_days():
    h = Harness(datetime(2025, 3, 7, 9, 0))
    h.op(SetInterestRate("HKD", Decimal("0.0365")))
    h.margin("H1", 1_000_000)
    h.run(DepositCash("HKCC", "HOUSE", "HKD", 1_000_000))
    eod(h, datetime(2025, 3, 7, 18, 0))
    (a,) = h.query(InterestQuery(date(2025, 3, 7)))
    assert (a.days, a.amount) == (3, 300)


def test_negative_rate_is_charged():
    h = Harness()
    h.op(SetInterestRate("HKD", Decimal("-0.0365")))
    h.margin("H1", 1_000_000)
    h.run(DepositCash("HKCC", "HOUSE", "HKD", 1_000_000))
    eod(h, datetime(2025, 3, 3, 18, 0))
    (a,) = h.query(InterestQuery(date(2025, 3, 3)))
    assert a.amount == -100


def test_interest_in_the_currency_of_the_cash_used():
    h = Harness()
    h.op(SetInterestRate("USD", Decimal("0.073")))
    h.margin("H1", 100_000, currency="USD")
    h.run(DepositCash("HKCC", "HOUSE", "USD", 500_000))
    eod(h, datetime(2025, 3, 3, 18, 0))
    (a,) = h.query(InterestQuery(date(2025, 3, 3)))
    assert (a.currency, a.base, a.amount) == ("USD", 100_000, 20)       # 100,000 x 7.3% / 365


def test_accommodation_charge_on_utilised_non_cash():
    h = Harness()
    h.margin("H1", 7_300_000)
    h.run(DepositCash("HKCC", "HOUSE", "HKD", 3_650_000))
    h.run(DepositSecurities("HKCC", "HOUSE", "EFN350301", 10_000_000))   # 9,500,000 value, 3,650,000 used
    eod(h, datetime(2025, 3, 3, 18, 0))
    acc = next(a for a in h.query(InterestQuery(date(2025, 3, 3))) if a.kind == "ACCOMMODATION")
    assert PARAMS.accommodation_rate(date(2025, 3, 3)) == Decimal("0.005")
    assert (acc.currency, acc.base, acc.rate, acc.amount) == ("HKD", 3_650_000, Decimal("0.005"), -50)


def test_accommodation_rate_is_dated():
    assert PARAMS.accommodation_rate(date(2025, 10, 1)) == Decimal("0.005")
    assert PARAMS.accommodation_rate(date(2025, 10, 2)) == Decimal("0.0025")


def test_rounding_half_up_to_the_cent():
    m = Harness().ccms
    assert m.accrual_amount(36_500, Decimal("0.005"), 1) == 1        # 0.5 -> 1
    assert m.accrual_amount(36_499, Decimal("0.005"), 1) == 0        # 0.49999 -> 0
    assert m.accrual_amount(36_500, Decimal("-0.005"), 1) == -1      # half away from zero


def test_posting_on_the_first_business_day_of_the_next_month():
    h = Harness(datetime(2025, 3, 27, 9, 0))                      # Thursday
    h.op(SetInterestRate("HKD", Decimal("0.0365")))
    h.margin("H1", 1_000_000, at=datetime(2025, 3, 27, 9, 0))
    h.run(DepositCash("HKCC", "HOUSE", "HKD", 1_000_000))
    eod(h, datetime(2025, 3, 27, 18, 0))                          # 1 day
    eod(h, datetime(2025, 3, 28, 18, 0))                          # Friday: 3 days
    out = eod(h, datetime(2025, 3, 31, 18, 0))                    # Monday 31: 1 day; rolls to Tuesday 1 April
    posted = [e for e in out.events if isinstance(e, InterestPosted)]
    assert [(e.owner, e.currency, e.interest, e.accommodation, e.net, e.period_end, e.balance) for e in posted] == [
        (P, "HKD", 500, 0, 500, date(2025, 3, 31), 1_000_500)]
    assert all(a.posted_on == date(2025, 4, 1) for a in h.query(InterestQuery()))
    hkd = next(x for x in h.query(HoldingsQuery("HKCC", "HOUSE")).holdings if x.asset == "HKD")
    assert hkd.quantity == 1_000_500
    out = eod(h, datetime(2025, 4, 1, 18, 0))                     # nothing posted again
    assert not [e for e in out.events if isinstance(e, InterestPosted)]
    assert [a.posted_on for a in h.query(InterestQuery(date(2025, 4, 1)))] == [None]
