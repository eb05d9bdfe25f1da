"""Types 2 (EOD VM), 3 (PAI) and 6 (intraday VM call)."""
from datetime import date, datetime

import pytest

from gateway.clearing.otc import (Direction, PaymentInstructionIssued, RunIntradayVmCall, SetMtm, SetPaiRate,
                                  SettlementItemCreated, errors as E)

from .harness import D, Harness


@pytest.fixture
def h():
    h = Harness()
    h.irs()  # OCM01 house, HKD
    return h


def of(h, type_, **kw):
    return h.items(type=type_, **kw)


def test_eod_vm_is_change_in_mtm_since_previous_clearing_day(h):
    h.op(SetMtm("I1", 1_000_000_00))
    h.eod()
    [vm] = of(h, 2)
    assert (vm.member, vm.account, vm.currency, vm.amount, vm.settlement_date) == (
        "OCM01", "H", "HKD", 1_000_000_00, date(2025, 3, 4))
    h.op(SetMtm("I1", 600_000_00))
    h.eod()
    assert [v.amount for v in of(h, 2, settlement_date=date(2025, 3, 5))] == [-400_000_00]
    h.eod()  # MTM unchanged: no VM
    assert of(h, 2, settlement_date=date(2025, 3, 6)) == ()


def test_vm_sums_trades_of_one_account_and_currency(h):
    h.irs(trade_id="I2")
    h.irs(trade_id="I3", account="C1")
    h.op(SetMtm("I1", 300_00))
    h.op(SetMtm("I2", -500_00))
    h.op(SetMtm("I3", 700_00))
    h.eod()
    assert sorted((v.account, v.amount) for v in of(h, 2)) == [("C1", 700_00), ("H", -200_00)]


def test_pai_debited_from_vm_receiver_paid_to_vm_payer(h):
    h.irs(trade_id="I2", member="OCM02")
    h.op(SetMtm("I1", 1_000_000_00))    # OCM01 receives VM
    h.op(SetMtm("I2", -1_000_000_00))   # OCM02 pays VM
    h.eod()                             # VM settles Tue 4 Mar
    assert of(h, 3) == ()               # no VM held yet on Mon night
    h.eod()                             # EOD Tue: PAI on VM held Tue -> Wed (1 day), HKD 0.5% ACT/365
    pai = {p.member: p for p in of(h, 3)}
    # 100,000,000 cents x 0.5% x 1/365 = 1,369.86 cents -> HKD 13.70
    assert pai["OCM01"].amount == -13_70 and pai["OCM02"].amount == 13_70
    assert pai["OCM01"].settlement_date == date(2025, 3, 5)


def test_pai_over_weekend_and_holiday_counts_calendar_days(h):
    h.op(SetMtm("I1", -2_000_000_00))
    h.op(SetPaiRate("HKD", D("0.0400")))
    for _ in range(4):
        h.eod()  # Mon..Thu; VM settled Tue; business date now Fri 7 Mar
    assert h.bd == date(2025, 3, 7)
    h.eod()      # EOD Fri: Fri -> Mon = 3 days
    [pai] = of(h, 3, settlement_date=date(2025, 3, 10))
    assert pai.amount == 657_53  # the VM payer receives 2,000,000.00 x 4% x 3/365 = HKD 657.53


def test_pai_rate_set_by_operator_applies_from_business_date(h):
    h.op(SetMtm("I1", 1_000_000_00))
    h.eod()
    h.op(SetPaiRate("HKD", D("0.0365")))
    h.eod()
    [pai] = of(h, 3)
    assert pai.amount == -1_000_000_00 * 365 // 10000 // 365  # 0.0365 x 1/365 of 100,000,000 cents = 10,000
    h.rejects(E.CURRENCY_NOT_SUPPORTED, h.op, SetPaiRate("JPY", D("0.01")))
    h.rejects(E.INVALID_RATE, h.op, SetPaiRate("HKD", 0.01))


def test_usd_pai_is_act_360():
    h = Harness()
    h.irs(currency="USD")
    h.op(SetMtm("I1", 3_600_000_00))
    h.eod()
    h.eod()
    [pai] = of(h, 3)
    assert pai.amount == -100_00  # 3,600,000.00 x 1% (demo USD rate) x 1/360 = USD 100.00


def test_intraday_vm_call_details_at_1415_due_1515_and_eod_vm_nets_it(h):
    h.op(SetMtm("I1", 600_000_00))
    h.eod("10:00")                      # Tue 4 Mar, covered MTM 600,000.00
    h.op(SetMtm("I1", -200_000_00))     # moved against the member by 800,000.00
    [ins_id] = h.op(RunIntradayVmCall())
    assert h.instructions("OCM01", instruction_id=ins_id) == ()   # not yet published
    assert of(h, 6) and h.items("OCM01", type=6) == ()
    evs = h.at("14:14")
    assert not h.of_type(evs, PaymentInstructionIssued)
    evs = h.at("14:15")
    [issued] = h.of_type(evs, PaymentInstructionIssued)
    ins = issued.instruction
    assert (ins.amount, ins.direction, ins.currency, ins.settlement_date, ins.due_at) == (
        800_000_00, Direction.PAY, "HKD", date(2025, 3, 4), datetime(2025, 3, 4, 15, 15))
    assert [e.item.amount for e in h.of_type(evs, SettlementItemCreated)] == [-800_000_00]
    h.op(SetMtm("I1", -100_000_00))     # recovered a little by the close
    h.eod()
    [vm] = of(h, 2, settlement_date=date(2025, 3, 5))
    assert vm.amount == 100_000_00      # change since the MTM covered by the intraday call


def test_intraday_call_only_when_mtm_moves_against(h):
    h.op(SetMtm("I1", 100_00))
    h.eod("10:00")
    h.op(SetMtm("I1", 500_00))
    assert h.op(RunIntradayVmCall()) == ()


def test_intraday_run_after_publication_time_rejected(h):
    h.at("14:14")
    assert h.op(RunIntradayVmCall()) == ()
    h.at("14:15")
    h.rejects(E.INTRADAY_CALL_CLOSED, h.op, RunIntradayVmCall())
