"""CCMS follows the business date, like DCASS and OTC Clear (issue 13, item 7).

After end of day the business date is already the next business day while the clock still shows
the evening: covered calls are open again, a cash withdrawal is valued on the (new) business date,
and a margin call is due the next morning, not a business day later. The cut-offs keep their edge
on the business date itself (18:45:00 and 11:00:00 are late)."""
from datetime import date, datetime

from gateway.clearing.core import EndOfDay
from gateway.clearing.collateral import (
    DepositCash, DepositSecurities, LodgeCoveredCall, MarginCallsQuery, WithdrawCash, AFTER_CUTOFF,
)

from .fakes import Harness, P, ShortCall

KEY = bytes.fromhex("0102030400a01e2400000c80")
MON, TUE = date(2025, 3, 3), date(2025, 3, 4)
EVENING = datetime(2025, 3, 3, 19, 30)          # Monday evening, after end of day


def after_eod() -> Harness:
    h = Harness()
    h.dcass.positions[(P, "SH1")] = [ShortCall(KEY, "700", 100, short=10, margin_per_contract=50_000)]
    h.run(DepositSecurities("SEOCH", "HOUSE", "700", 600, specific=True))
    h.run(DepositCash("HKCC", "HOUSE", "HKD", 1_000))
    h.op(EndOfDay(), at=datetime(2025, 3, 3, 19, 0))
    assert h.core.business_date == TUE
    return h


def test_covered_call_accepted_in_the_evening_after_end_of_day():
    h = after_eod()
    out = h.run(LodgeCoveredCall("SH1", KEY, 2), at=EVENING)
    assert out.reply.contracts == 2
    # the cut-off of the new business date keeps its edge
    h.run(LodgeCoveredCall("SH1", KEY, 1), at=datetime(2025, 3, 4, 18, 44, 59))
    h.rejects(LodgeCoveredCall("SH1", KEY, 1), AFTER_CUTOFF, at=datetime(2025, 3, 4, 18, 45, 0))


def test_covered_call_at_18_45_00_before_end_of_day_is_still_late():
    h = Harness()
    h.dcass.positions[(P, "SH1")] = [ShortCall(KEY, "700", 100, short=10, margin_per_contract=50_000)]
    h.run(DepositSecurities("SEOCH", "HOUSE", "700", 600, specific=True))
    h.rejects(LodgeCoveredCall("SH1", KEY, 1), AFTER_CUTOFF, at=datetime(2025, 3, 3, 18, 45, 0))
    h.rejects(LodgeCoveredCall("SH1", KEY, 1), AFTER_CUTOFF, at=datetime(2025, 3, 3, 23, 59, 59))


def test_withdrawal_after_end_of_day_is_valued_on_the_business_date():
    h = after_eod()
    out = h.run(WithdrawCash("HKCC", "HOUSE", "HKD", 400), at=EVENING)
    assert out.reply.value_date == TUE                    # was Wednesday: one day late
    out = h.run(WithdrawCash("HKCC", "HOUSE", "HKD", 100), at=datetime(2025, 3, 4, 10, 59, 59))
    assert out.reply.value_date == TUE
    out = h.run(WithdrawCash("HKCC", "HOUSE", "HKD", 100), at=datetime(2025, 3, 4, 11, 0, 0))
    assert out.reply.value_date == date(2025, 3, 5)


def test_margin_call_after_end_of_day_is_due_the_next_morning():
    h = after_eod()
    h.margin("H1", 5_000, at=EVENING)
    [call] = h.query(MarginCallsQuery(clearing_house="HKCC"))
    assert (call.amount, call.called_at, call.due) == (4_000, EVENING, datetime(2025, 3, 4, 9, 15))
