"""Every cut-off at the minute before and at the minute. Rule: a deadline is exclusive (at 11:00:00
the 11:00 cut-off has passed); a start ("available at", "pays from") is inclusive."""
from datetime import date, datetime, time

import pytest

from gateway.clearing.otc import (ConfirmPayment, Direction, PaymentInstructionIssued, PaymentLate, PaymentSettled,
                                  PaymentState, PvpQuery, PvpState, RequestCashDeposit, RequestCashWithdrawal,
                                  SetGuaranteeFundRequirement, SetMarginRequirement, SetRateFixing,
                                  SubmitPvpInstruction, errors as E)

from .harness import D, Harness

TUE, WED = date(2025, 3, 4), date(2025, 3, 5)


def state(h, ins_id):
    [ins] = h.instructions(instruction_id=ins_id)
    return ins


def net_instruction(direction: str):
    """A Tue 4 Mar net payment: PAY (member loses on an NDF) or RECEIVE (it gains)."""
    h = Harness()
    h.ndf(settlement_date=TUE, direction="BUY" if direction == "RECEIVE" else "SELL")
    h.op(SetRateFixing("N1", TUE, D("7.3")))
    h.eod()  # Tue 07:00
    [ins] = h.instructions(settlement_date=TUE)
    assert ins.direction == direction
    return h, ins.instruction_id


# ---------------------------------------------------------------- (1)(2)(3) net, due by 11:00
def test_net_payment_confirmed_at_1059_is_on_time():
    h, i = net_instruction("PAY")
    h.at("10:59")
    ins = h.do("OCM01", ConfirmPayment("OCM01", i))
    assert (ins.state, ins.late, ins.settled_at) == (PaymentState.SETTLED, False, datetime(2025, 3, 4, 10, 59))


def test_net_payment_at_1100_is_late_and_broadcast():
    h, i = net_instruction("PAY")
    assert h.of_type(h.at("10:59"), PaymentLate) == []
    [late] = h.of_type(h.at("11:00"), PaymentLate)
    assert late.owner == "OCM01" and late.instruction.instruction_id == i
    assert state(h, i).state == PaymentState.LATE
    ins = h.do("OCM01", ConfirmPayment("OCM01", i))  # still payable, remembered as late
    assert (ins.state, ins.late) == (PaymentState.SETTLED, True)


def test_otc_clear_pays_members_from_1300():
    h, i = net_instruction("RECEIVE")
    h.at("12:59")
    assert state(h, i).state == PaymentState.PENDING
    [paid] = h.of_type(h.at("13:00"), PaymentSettled)
    assert (paid.instruction.settled_at, paid.instruction.settled_by) == (datetime(2025, 3, 4, 13, 0), "OTC_CLEAR")


def test_a_jump_past_several_cutoffs_runs_them_in_order_at_their_times():
    h, i = net_instruction("PAY")
    [late] = h.of_type(h.at("17:00"), PaymentLate)
    assert late.instruction.due_at == datetime(2025, 3, 4, 11, 0)


# ---------------------------------------------------------------- (4) PvP by 12:00, settled 12:00-13:00
def pvp_setup():
    h = Harness()
    h.ccs(effective=WED)
    h.eod()
    h.eod("09:00")  # Wed 09:00
    [p, _] = h.q(PvpQuery())
    cmd = SubmitPvpInstruction("OCM01", "X1", "INITIAL", WED, p.pay_currency, p.pay_amount, p.receive_currency,
                               p.receive_amount)
    return h, cmd


def test_pvp_instruction_at_1159_accepted_and_settled_at_1200():
    h, cmd = pvp_setup()
    h.at("11:59")
    assert h.do("OCM01", cmd).state == PvpState.INSTRUCTED
    evs = h.at("12:00")
    settled = h.of_type(evs, PaymentSettled)
    assert sorted(e.instruction.direction for e in settled) == [Direction.PAY, Direction.RECEIVE]
    assert all(e.instruction.settled_by == "PVP" and e.instruction.settled_at == datetime(2025, 3, 5, 12, 0)
               for e in settled)
    assert h.q(PvpQuery())[0].state == PvpState.SETTLED


def test_pvp_instruction_at_1200_rejected_and_exchange_late():
    h, cmd = pvp_setup()
    h.at("11:59")
    assert h.q(PvpQuery())[0].state == PvpState.AWAITING
    late = h.of_type(h.at("12:00"), PaymentLate)
    assert len(late) == 2
    h.rejects(E.PVP_AFTER_CUTOFF, h.do, "OCM01", cmd)
    assert h.q(PvpQuery())[0].state == PvpState.LATE


# ---------------------------------------------------------------- (5) IM call: 08:30 details, 09:30 due
def im_call():
    h = Harness()
    h.op(SetMarginRequirement("OCM01", "C1", 5_000_000_00))
    h.eod("08:29")
    return h


def test_im_call_details_available_at_0830_not_0829():
    h = im_call()
    assert h.instructions("OCM01") == ()
    [issued] = h.of_type(h.at("08:30"), PaymentInstructionIssued)
    ins = issued.instruction
    assert (ins.amount, ins.currency, ins.due_at, ins.account) == (5_000_000_00, "HKD", datetime(2025, 3, 4, 9, 30),
                                                                   "C1")


@pytest.mark.parametrize("minute,late", [("09:29", False), ("09:30", True)])
def test_im_call_due_by_0930(minute, late):
    h = im_call()
    h.at(minute)
    [ins] = h.instructions("OCM01")
    ins = h.do("OCM01", ConfirmPayment("OCM01", ins.instruction_id))
    assert ins.late is late


# ---------------------------------------------------------------- (6) intraday VM call due by 15:15
@pytest.mark.parametrize("minute,late", [("15:14", False), ("15:15", True)])
def test_intraday_vm_call_due_by_1515(minute, late):
    from gateway.clearing.otc import RunIntradayVmCall, SetMtm
    h = Harness()
    h.irs()
    h.op(SetMtm("I1", -100_00))
    [i] = h.op(RunIntradayVmCall())
    h.at(minute)
    assert h.do("OCM01", ConfirmPayment("OCM01", i)).late is late


# ---------------------------------------------------------------- (7) deposits by 16:00, withdrawals by 11:00
@pytest.mark.parametrize("minute,day", [("15:59", date(2025, 3, 3)), ("16:00", TUE)])
def test_deposit_request_cutoff_1600(minute, day):
    h = Harness()
    h.at(minute)
    ins = h.do("OCM01", RequestCashDeposit("OCM01", "H", "USD", 1_000_00))
    # due by the end of the RTGS day of its settlement date, 17:30 (deposit_payment_due)
    assert (ins.settlement_date, ins.direction, ins.due_at) == (day, Direction.PAY, datetime.combine(day, time(17, 30)))


@pytest.mark.parametrize("minute,late", [("17:29", False), ("17:30", True)])
def test_deposit_payment_due_end_of_rtgs_day(minute, late):
    h = Harness()
    ins = h.do("OCM01", RequestCashDeposit("OCM01", "H", "USD", 1_000_00))
    h.at(minute)
    assert h.do("OCM01", ConfirmPayment("OCM01", ins.instruction_id)).late is late


@pytest.mark.parametrize("minute,day", [("10:59", date(2025, 3, 3)), ("11:00", TUE)])
def test_withdrawal_request_cutoff_1100_paid_from_1300(minute, day):
    h = Harness()
    dep = h.do("OCM01", RequestCashDeposit("OCM01", "H", "HKD", 1_000_00))
    h.do("OCM01", ConfirmPayment("OCM01", dep.instruction_id))
    h.at(minute)
    ins = h.do("OCM01", RequestCashWithdrawal("OCM01", "H", "HKD", 400_00))
    assert (ins.settlement_date, ins.direction, ins.due_at) == (day, Direction.RECEIVE, datetime.combine(day, time(13, 0)))
    h.at("12:59", day)
    assert state(h, ins.instruction_id).state == PaymentState.PENDING
    h.at("13:00", day)
    assert state(h, ins.instruction_id).state == PaymentState.SETTLED


# ---------------------------------------------------------------- (8) GF due by 11:00, refunds from 13:00
@pytest.mark.parametrize("minute,late", [("10:59", False), ("11:00", True)])
def test_guarantee_fund_call_due_1100(minute, late):
    h = Harness()
    ins = h.op(SetGuaranteeFundRequirement("OCM02", 10_000_000_00))
    assert (ins.settlement_date, ins.due_at) == (TUE, datetime(2025, 3, 4, 11, 0))
    h.at(minute, TUE)
    assert h.do("OCM02", ConfirmPayment("OCM02", ins.instruction_id)).late is late


def test_guarantee_fund_due_date_must_leave_time_to_pay():
    h = Harness()
    h.at("11:00")
    h.rejects(E.DATE_NOT_FUTURE, h.op, SetGuaranteeFundRequirement("OCM02", 1, date(2025, 3, 3)))
    h2 = Harness()
    h2.at("10:59")
    assert h2.op(SetGuaranteeFundRequirement("OCM02", 1, date(2025, 3, 3))).due_at == datetime(2025, 3, 3, 11, 0)
