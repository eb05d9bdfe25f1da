"""The worked example of docs/guides/collateral.md, number for number."""
from datetime import date, datetime
from decimal import Decimal

import pytest

from gateway.clearing.core import EndOfDay, SetBusinessTime
from gateway.clearing.collateral import (
    CoverageQuery, DepositCash, DepositSecurities, InstructionCompleted, InterestQuery, MarginCallChanged,
    SetCollateralPrice, SetFxRate, SetInterestRate, WithdrawCash, WITHDRAWAL_EXCEEDS_EXCESS,
)

from .fakes import Harness


def at(h, m):
    return datetime(2025, 3, 3, *m)


def test_guide_worked_example():
    h = Harness(datetime(2025, 3, 3, 9, 30))
    h.op(SetFxRate("USD", Decimal("7.8")))
    h.op(SetCollateralPrice("EFN350301", Decimal("101.2")))
    h.op(SetCollateralPrice("700", Decimal("380")))
    h.op(SetInterestRate("HKD", Decimal("0.0073")))
    out = h.margin("H1", 100_000_000)
    call = next(e for e in out.events if isinstance(e, MarginCallChanged))
    assert (call.status, call.amount, call.due) == ("ISSUED", 100_000_000, datetime(2025, 3, 3, 10, 30))
    h.run(DepositCash("HKCC", "HOUSE", "HKD", 45_000_000))
    h.run(DepositCash("HKCC", "HOUSE", "USD", 2_000_000))
    h.run(DepositSecurities("HKCC", "HOUSE", "EFN350301", 30_000_000))
    out = h.run(DepositSecurities("HKCC", "HOUSE", "700", 10_000))
    ans = h.query(CoverageQuery("HKCC", "HOUSE"))
    assert [(a.asset, a.quantity, a.value, a.haircut) for a in ans.allocations] == [
        ("HKD", 45_000_000, 45_000_000, Decimal(0)),
        ("USD", 2_000_000, 15_490_800, Decimal("0.007")),
        ("EFN350301", 30_000_000, 28_842_000, Decimal("0.05")),
        ("00700", 214, 5_667_200, Decimal("0.30")),
    ]
    assert ans.lines[0].shortfall == 5_000_000 and ans.excess_hkd == 260_307_600
    assert [(c.amount, c.due) for c in ans.calls] == [(5_000_000, datetime(2025, 3, 3, 10, 30))]
    out = h.run(DepositCash("HKCC", "HOUSE", "HKD", 5_000_000), at=at(h, (10, 0)))
    assert [e.status for e in out.events if isinstance(e, MarginCallChanged)] == ["MET"]
    h.rejects(WithdrawCash("HKCC", "HOUSE", "HKD", 1_000_000), WITHDRAWAL_EXCEEDS_EXCESS, at=at(h, (10, 59, 59)))
    w1 = h.run(WithdrawCash("HKCC", "HOUSE", "USD", 1_000_000), at=at(h, (10, 59, 59))).reply
    assert (w1.value_date, w1.status) == (date(2025, 3, 3), "PENDING")
    assert next(a for a in h.query(CoverageQuery("HKCC", "HOUSE")).allocations if a.asset == "00700").quantity == 505
    out = h.run(WithdrawCash("HKCC", "HOUSE", "USD", 100_000), at=at(h, (11, 0, 0)))
    assert out.reply.value_date == date(2025, 3, 4)
    assert [e.instruction_id for e in out.events if isinstance(e, InstructionCompleted)] == [w1.instruction_id]
    h.op(SetBusinessTime(at(h, (18, 0))))
    h.op(EndOfDay())
    acc = {(a.kind, a.currency): (a.base, a.amount) for a in h.query(InterestQuery(date(2025, 3, 3)))}
    assert acc[("INTEREST", "HKD")] == (50_000_000, 1_000)
    assert acc[("ACCOMMODATION", "HKD")] == (43_029_140, -589)


def test_guide_rmb_example():
    h = Harness()
    h.op(SetFxRate("RMB", Decimal("1.08")))
    h.margin("H1", 120_000_000_000, currency="RMB")
    h.run(DepositCash("HKCC", "HOUSE", "RMB", 30_000_000_000))
    h.run(DepositCash("HKCC", "HOUSE", "HKD", 30_000_000_000))
    h.run(DepositSecurities("HKCC", "HOUSE", "EFN350301", 80_000_000_000))
    (l,) = h.query(CoverageQuery("HKCC", "HOUSE")).lines
    assert (l.rmb_limit_share, l.settlement_cash_required, l.cash_required) == \
        (100_000_000_000, 20_000_000_000, 70_000_000_000)
    assert (l.covered_settlement_cash, l.covered_other_cash, l.covered_non_cash, l.shortfall) == \
        (30_000_000_000, 27_583_333_333, 50_000_000_000, 12_416_666_667)
