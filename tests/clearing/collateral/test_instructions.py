"""Deposits and withdrawals: the 11:00 cut-off (10:59:59 vs 11:00:00), pending instructions,
completion at the run time and at start of day, withdrawals that would leave a shortfall."""
from datetime import date, datetime
from decimal import Decimal

from gateway.clearing.core import EndOfDay, SetBusinessTime
from gateway.clearing.collateral import (
    CoverageQuery, DepositCash, DepositSecurities, HoldingsQuery, InstructionAccepted, InstructionCompleted,
    InstructionsQuery, WithdrawCash, WithdrawSecurities,
    INSUFFICIENT_HOLDING, WITHDRAWAL_EXCEEDS_EXCESS,
)

from .fakes import Harness, P

MON = date(2025, 3, 3)


def cash(h, ccy="HKD", account="HOUSE"):
    hs = h.query(HoldingsQuery("HKCC", account)).holdings
    return next((x.quantity for x in hs if x.asset == ccy), 0)


def pending(h):
    return h.query(InstructionsQuery())


def test_deposit_is_credited_at_once_and_broadcast():
    h = Harness()
    out = h.run(DepositCash("HKCC", "HOUSE", "HKD", 1_000))
    kinds = [type(e).__name__ for e in out.events]
    assert kinds[:2] == ["InstructionAccepted", "InstructionCompleted"]
    assert out.reply.status == "COMPLETED" and out.reply.value_date == MON
    assert cash(h) == 1_000
    assert pending(h) == ()


def test_cash_withdrawal_at_10_59_59_is_valued_the_same_day():
    h = Harness()
    h.run(DepositCash("HKCC", "HOUSE", "HKD", 1_000))
    out = h.run(WithdrawCash("HKCC", "HOUSE", "HKD", 400), at=datetime(2025, 3, 3, 10, 59, 59))
    assert out.reply.value_date == MON
    assert out.reply.status == "PENDING"
    assert cash(h) == 600                                    # no longer available as collateral
    assert [i.instruction_id for i in pending(h)] == [out.reply.instruction_id]
    # paid at the 11:00 run: completion is broadcast when business time reaches it
    out2 = h.op(SetBusinessTime(datetime(2025, 3, 3, 11, 0, 0)))
    done = [e for e in out2.events if isinstance(e, InstructionCompleted)]
    assert [(e.instruction_id, e.value_date, e.completed_at, e.owner) for e in done] == [
        (out.reply.instruction_id, MON, datetime(2025, 3, 3, 11, 0), P)]
    assert pending(h) == ()


def test_cash_withdrawal_at_11_00_00_is_valued_the_next_business_day():
    h = Harness(datetime(2025, 3, 7, 9, 0))                  # Friday
    h.run(DepositCash("HKCC", "HOUSE", "HKD", 1_000))
    out = h.run(WithdrawCash("HKCC", "HOUSE", "HKD", 400), at=datetime(2025, 3, 7, 11, 0, 0))
    assert out.reply.value_date == date(2025, 3, 10)         # Monday
    assert not [e for e in out.events if isinstance(e, InstructionCompleted)]
    out = h.op(SetBusinessTime(datetime(2025, 3, 7, 18, 0)))
    assert not [e for e in out.events if isinstance(e, InstructionCompleted)]
    out = h.op(EndOfDay())                                   # rolls to Monday; not yet 11:00 on Monday
    assert not [e for e in out.events if isinstance(e, InstructionCompleted)]
    assert len(pending(h)) == 1
    out = h.op(SetBusinessTime(datetime(2025, 3, 10, 11, 0)))
    assert [e.value_date for e in out.events if isinstance(e, InstructionCompleted)] == [date(2025, 3, 10)]


def test_overdue_withdrawal_completes_at_start_of_day():
    h = Harness()
    h.run(DepositCash("HKCC", "HOUSE", "HKD", 1_000))
    h.run(WithdrawCash("HKCC", "HOUSE", "HKD", 400), at=datetime(2025, 3, 3, 10, 0))
    out = h.op(EndOfDay())                                   # end of day run at 10:00, before the 11:00 run
    done = [e for e in out.events if isinstance(e, InstructionCompleted)]
    assert [(e.value_date, e.completed_at) for e in done] == [(MON, datetime(2025, 3, 3, 10, 0))]
    names = [type(e).__name__ for e in out.events]
    assert names.index("InstructionCompleted") > names.index("BusinessDateChanged")   # at start of day


def test_pending_instructions_are_per_participant():
    h = Harness()
    h.run(DepositCash("HKCC", "HOUSE", "HKD", 1_000))
    h.run(WithdrawCash("HKCC", "HOUSE", "HKD", 1), at=datetime(2025, 3, 3, 12, 0))
    assert len(h.query(InstructionsQuery(), who=P)) == 1
    assert h.query(InstructionsQuery(), who="CP002") == ()
    assert len(h.query(InstructionsQuery(pending_only=False), who=P)) == 2
    assert len(h.query(InstructionsQuery(participant=P), who=None)) == 1     # operator


def test_withdrawal_that_would_leave_a_shortfall_is_rejected_exact_excess_is_allowed():
    h = Harness()
    h.margin("H1", 1_000_000)
    h.run(DepositCash("HKCC", "HOUSE", "HKD", 1_250_000))
    e = h.rejects(WithdrawCash("HKCC", "HOUSE", "HKD", 250_001), WITHDRAWAL_EXCEEDS_EXCESS)
    assert e.detail == "shortfall HKD 0.01"  # the currency and its decimals, not "HKD 1"
    h.run(WithdrawCash("HKCC", "HOUSE", "HKD", 250_000))
    assert h.query(CoverageQuery("HKCC", "HOUSE")).lines[0].shortfall == 0


def test_withdrawal_of_settlement_cash_below_the_half_is_rejected_even_if_other_cover_is_ample():
    h = Harness()
    h.margin("H1", 1_000_000)
    h.run(DepositCash("HKCC", "HOUSE", "HKD", 600_000))
    h.run(DepositCash("HKCC", "HOUSE", "USD", 1_000_000))
    h.rejects(WithdrawCash("HKCC", "HOUSE", "HKD", 100_001), WITHDRAWAL_EXCEEDS_EXCESS)
    h.run(WithdrawCash("HKCC", "HOUSE", "HKD", 100_000))


def test_non_cash_withdrawal_completes_at_once_and_is_checked_for_shortfall():
    h = Harness()
    h.margin("H1", 1_000_000)
    h.run(DepositCash("HKCC", "HOUSE", "HKD", 500_000))
    h.run(DepositSecurities("HKCC", "HOUSE", "EFN350301", 1_000_000))       # > 5 years: 5% -> 950,000
    h.rejects(WithdrawSecurities("HKCC", "HOUSE", "EFN350301", 500_000), WITHDRAWAL_EXCEEDS_EXCESS)
    out = h.run(WithdrawSecurities("HKCC", "HOUSE", "EFN350301", 400_000))  # 600,000 x 0.95 = 570,000 left
    assert out.reply.status == "COMPLETED"
    h.rejects(WithdrawSecurities("HKCC", "HOUSE", "EFN350301", 600_001), INSUFFICIENT_HOLDING)


def test_withdrawal_beyond_the_holding():
    h = Harness()
    h.run(DepositCash("HKCC", "HOUSE", "HKD", 100))
    h.rejects(WithdrawCash("HKCC", "HOUSE", "HKD", 101), INSUFFICIENT_HOLDING)
    h.rejects(WithdrawCash("HKCC", "HOUSE", "USD", 1), INSUFFICIENT_HOLDING)
