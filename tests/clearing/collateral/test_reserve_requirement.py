"""The reserve fund requirement (issue 13, item 3): operator-set per participant and clearing house,
contributions valued with the haircuts, a call for a shortfall, the excess withdrawable."""
from datetime import datetime

from gateway.clearing.collateral import (
    ContributeReserveFund, ReserveFundCallChanged, ReserveFundPositionQuery, SetBankBalance,
    SetReserveFundRequirement, WithdrawReserveFund, INSUFFICIENT_BANK_BALANCE, INSUFFICIENT_HOLDING,
    INVALID_QUANTITY, RESERVE_FUND_BELOW_REQUIREMENT, NO_MANDATE, SetBankMandate,
)
from gateway.clearing.errors import OPERATOR_ONLY

from .fakes import Harness, P, T0

EFBN = "EFB260318"     # on 3 March 2025 between 1 and 5 years to maturity: 3% haircut, priced at par


def position(h, ch="HKCC"):
    [pos] = h.query(ReserveFundPositionQuery(clearing_house=ch))
    return pos


def calls(out):
    return [(e.status, e.amount, e.due) for e in out.events if isinstance(e, ReserveFundCallChanged)]


def test_shortfall_is_called_amended_and_met_at_the_exact_value():
    h = Harness()
    out = h.op(SetReserveFundRequirement(P, "HKCC", 885_000_00))
    assert calls(out) == [("ISSUED", 885_000_00, datetime(2025, 3, 3, 10, 0))]
    out = h.run(ContributeReserveFund("HKCC", "INITIAL", "HKD", 400_000_00))
    assert calls(out) == [("AMENDED", 485_000_00, datetime(2025, 3, 3, 10, 0))]     # due time kept
    out = h.run(ContributeReserveFund("HKCC", "VARIABLE", EFBN, 500_000_00))       # 500,000.00 x 97%
    assert calls(out) == [("MET", 0, datetime(2025, 3, 3, 10, 0))]
    pos = position(h)
    assert (pos.requirement, pos.value, pos.shortfall, pos.excess, pos.call_amount) == (
        885_000_00, 885_000_00, 0, 0, 0)
    out = h.op(SetReserveFundRequirement(P, "HKCC", 885_000_01))                  # one cent more
    assert calls(out) == [("ISSUED", 1, datetime(2025, 3, 3, 10, 0))]
    assert position(h, "SEOCH").requirement == 0                                   # per clearing house


def test_excess_is_withdrawable_down_to_the_requirement_exactly():
    h = Harness()
    h.run(ContributeReserveFund("HKCC", "INITIAL", "HKD", 400_000_00))
    h.run(ContributeReserveFund("HKCC", "VARIABLE", EFBN, 500_000_00))
    h.op(SetReserveFundRequirement(P, "HKCC", 800_000_00))
    assert position(h).excess == 85_000_00
    h.rejects(WithdrawReserveFund("HKCC", "INITIAL", "HKD", 85_000_01), RESERVE_FUND_BELOW_REQUIREMENT)
    out = h.run(WithdrawReserveFund("HKCC", "INITIAL", "HKD", 85_000_00))
    assert out.reply.quantity == 315_000_00
    assert (position(h).excess, position(h).shortfall) == (0, 0)
    h.rejects(WithdrawReserveFund("HKCC", "VARIABLE", EFBN, 500_000_01), INSUFFICIENT_HOLDING)
    h.rejects(WithdrawReserveFund("HKCC", "VARIABLE", EFBN, 1), RESERVE_FUND_BELOW_REQUIREMENT)


def test_cash_contributions_are_collected_through_the_mandate():
    h = Harness()
    h.op(SetBankBalance(P, "HKD", 100_00))
    h.rejects(ContributeReserveFund("HKCC", "INITIAL", "HKD", 100_01), INSUFFICIENT_BANK_BALANCE)
    h.run(ContributeReserveFund("HKCC", "INITIAL", "HKD", 100_00))                 # exactly the balance
    h.op(SetBankMandate(P, "HKD", ""))
    h.rejects(ContributeReserveFund("HKCC", "INITIAL", "HKD", 1), NO_MANDATE)


def test_operator_input_is_validated():
    h = Harness()
    h.rejects(SetReserveFundRequirement(P, "HKCC", -1), INVALID_QUANTITY, operator=True)
    h.rejects(SetReserveFundRequirement(P, "HKCC", 1), OPERATOR_ONLY)
    h.op(SetReserveFundRequirement(P, "SEOCH", 0))                                 # zero: nothing to call
    assert position(h, "SEOCH").call_amount == 0


def test_reserve_fund_state_is_in_the_snapshot():
    h = Harness(T0)
    h.op(SetReserveFundRequirement(P, "HKCC", 10))
    snap = h.ccms.snapshot()
    assert snap["rf_requirements"] == {f"{P}|HKCC": 10}
    assert snap["rf_calls"][f"{P}|HKCC"]["amount"] == 10
