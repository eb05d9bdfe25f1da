"""Types 5 (IM calls, holiday margin), 7 (voluntary cash), CMU non-cash collateral, 8 (GF),
9 (fees) and the optional 10 (participating margin)."""
from datetime import date, datetime

import pytest

from gateway.clearing.otc import (ChargeFee, CollateralQuery, ConfirmPayment, DepositNonCash, Direction,
                                  GuaranteeFundQuery, IssueParticipatingMarginCall, PaymentInstructionsQuery, PaymentState,
                                  RequestCashDeposit, RequestCashWithdrawal, SetFxRate, SetGuaranteeFundRequirement,
                                  SetMarginRequirement, SettlementType as T, WithdrawNonCash, errors as E)

from .harness import D, Harness


def deposit(h, currency, amount, account="H", member="OCM01"):
    ins = h.do(member, RequestCashDeposit(member, account, currency, amount))
    h.do(member, ConfirmPayment(member, ins.instruction_id))


def coll(h, account="H", member="OCM01"):
    [c] = h.q(CollateralQuery(member, account), member)
    return c


def test_cash_deposit_settles_into_collateral_with_haircut():
    h = Harness()
    deposit(h, "HKD", 1_000_000_00)
    deposit(h, "USD", 100_000_00)
    c = coll(h)
    assert c.cash == (("HKD", 1_000_000_00), ("USD", 100_000_00))
    # USD 100,000.00 x 7.8 x (1 - 0.7%) = HKD 774,540.00
    assert c.cover == 1_000_000_00 + 774_540_00


def test_im_call_is_requirement_plus_holiday_margin_less_cover_including_cmu():
    h = Harness()
    deposit(h, "HKD", 1_000_000_00)
    h.do("OCM01", DepositNonCash("OCM01", "H", "HK0000EFBN01", 500_000_00))
    # EFBN: 500,000.00 x 99.50% x (1 - 0.5%) = 495,012.50 counts toward IM
    assert coll(h).cover == 1_000_000_00 + 495_012_50
    h.op(SetMarginRequirement("OCM01", "H", 2_000_000_00, holiday_margin=100_000_00))
    h.eod("08:30")
    [call] = h.q(PaymentInstructionsQuery(state="PENDING"), "OCM01")
    assert call.types == (T.INITIAL_MARGIN,) and call.direction == Direction.PAY
    assert call.amount == 2_100_000_00 - 1_495_012_50
    h.eod("08:30")  # unpaid call is outstanding: not called twice
    assert len(h.instructions("OCM01", state="LATE")) == 1
    assert h.instructions("OCM01", state="PENDING") == ()
    h.do("OCM01", ConfirmPayment("OCM01", call.instruction_id))
    assert coll(h).cash == (("HKD", 1_000_000_00 + call.amount),)
    assert coll(h).excess == 0


def test_im_call_rounds_up_to_the_cent():
    h = Harness()
    deposit(h, "USD", 1_00)  # 1.00 x 7.8 x 0.993 = 7.7454 HKD
    h.op(SetMarginRequirement("OCM01", "H", 10_00))
    h.eod("08:30")
    [call] = h.instructions("OCM01", state="PENDING")
    assert call.amount == 226  # 1000 - 774.54 = 225.46 cents -> 226


def test_no_call_when_covered():
    h = Harness()
    deposit(h, "HKD", 1_000_00)
    h.op(SetMarginRequirement("OCM01", "H", 1_000_00))
    h.eod("08:30")
    assert [i for i in h.instructions() if T.INITIAL_MARGIN in i.types] == []


def test_withdrawal_limited_to_excess_and_balance():
    h = Harness()
    deposit(h, "HKD", 1_000_000_00)
    h.op(SetMarginRequirement("OCM01", "H", 600_000_00))
    h.rejects(E.WITHDRAWAL_EXCEEDS_EXCESS, h.do, "OCM01", RequestCashWithdrawal("OCM01", "H", "HKD", 400_000_01))
    h.rejects(E.WITHDRAWAL_EXCEEDS_BALANCE, h.do, "OCM01", RequestCashWithdrawal("OCM01", "H", "USD", 1_00))
    ins = h.do("OCM01", RequestCashWithdrawal("OCM01", "H", "HKD", 300_000_00))
    assert coll(h).pending_withdrawals == (("HKD", 300_000_00),)
    # pending withdrawals already count against the excess
    h.rejects(E.WITHDRAWAL_EXCEEDS_EXCESS, h.do, "OCM01", RequestCashWithdrawal("OCM01", "H", "HKD", 100_000_01))
    h.do("OCM01", RequestCashWithdrawal("OCM01", "H", "HKD", 100_000_00))
    h.at("13:00")
    assert coll(h).cash == (("HKD", 600_000_00),)
    assert h.instructions(instruction_id=ins.instruction_id)[0].settled_by == "OTC_CLEAR"


def test_withdrawal_excess_valued_after_fx_and_haircut():
    h = Harness()
    deposit(h, "EUR", 100_000_00)  # 100,000 x 8.5 x 0.94 = HKD 799,000.00
    h.op(SetMarginRequirement("OCM01", "H", 799_000_00 - 94_00))  # excess HKD 94.00 = EUR 11.76..
    h.rejects(E.WITHDRAWAL_EXCEEDS_EXCESS, h.do, "OCM01", RequestCashWithdrawal("OCM01", "H", "EUR", 11_77))
    h.do("OCM01", RequestCashWithdrawal("OCM01", "H", "EUR", 11_76))
    h.op(SetFxRate("EUR", D("8.0")))  # operator FX rate moves the cover
    assert coll(h).cover == (100_000_00 - 11_76) * 8 * 94 // 100


def test_deposit_currency_not_accepted_and_other_errors():
    h = Harness()
    h.rejects(E.DEPOSIT_CURRENCY_NOT_ACCEPTED, h.do, "OCM01", RequestCashDeposit("OCM01", "H", "JPY", 1_00))
    h.rejects(E.AMOUNT_NOT_POSITIVE, h.do, "OCM01", RequestCashDeposit("OCM01", "H", "HKD", 0))
    h.rejects(E.UNKNOWN_ACCOUNT, h.do, "OCM01", RequestCashDeposit("OCM01", "C2", "HKD", 1_00))
    h.rejects(E.SECURITY_NOT_ELIGIBLE, h.do, "OCM01", DepositNonCash("OCM01", "H", "XS0000000000", 1_00))
    h.rejects(E.NON_CASH_EXCEEDS_HOLDING, h.do, "OCM01", WithdrawNonCash("OCM01", "H", "HK0000EFBN01", 1_00))


def test_non_cash_withdrawal_within_excess():
    h = Harness()
    h.do("OCM01", DepositNonCash("OCM01", "C1", "US91282CDEMO", 100_000_00))
    h.op(SetMarginRequirement("OCM01", "C1", 700_000_00))
    # 100,000 x 98.75% x 7.8 x 0.98 = HKD 754,845.00 -> excess 54,845.00
    assert coll(h, "C1").excess == 54_845_00
    h.rejects(E.WITHDRAWAL_EXCEEDS_EXCESS, h.do, "OCM01", WithdrawNonCash("OCM01", "C1", "US91282CDEMO", 10_000_00))
    assert h.do("OCM01", WithdrawNonCash("OCM01", "C1", "US91282CDEMO", 5_000_00)) == 95_000_00


# ---------------------------------------------------------------- (8) guarantee fund
def test_guarantee_fund_contribution_additional_deposit_and_refund():
    h = Harness()
    first = h.op(SetGuaranteeFundRequirement("OCM02", 10_000_000_00))
    h.op(SetGuaranteeFundRequirement("OCM02", 12_000_000_00))  # risk grows: additional deposit
    calls = [i for i in h.instructions("OCM02") if i.types == (T.GUARANTEE_FUND,)]
    assert [(i.direction, i.amount) for i in calls] == [(Direction.PAY, 10_000_000_00), (Direction.PAY, 2_000_000_00)]
    [gf] = h.q(GuaranteeFundQuery(), "OCM02")
    assert (gf.requirement, gf.balance, gf.outstanding) == (12_000_000_00, 0, 12_000_000_00)
    for i in calls:
        h.do("OCM02", ConfirmPayment("OCM02", i.instruction_id))
    refund = h.op(SetGuaranteeFundRequirement("OCM02", 9_000_000_00, date(2025, 3, 5)))
    assert (refund.direction, refund.amount, refund.due_at) == (Direction.RECEIVE, 3_000_000_00,
                                                                datetime(2025, 3, 5, 13, 0))
    h.eod()
    h.eod("13:00")
    [gf] = h.q(GuaranteeFundQuery("OCM02"))
    assert (gf.balance, gf.outstanding) == (9_000_000_00, 0)
    assert first.sub_account == "GUARANTEE_FUND"


# ---------------------------------------------------------------- (9) fees billed monthly
def test_fees_accrue_during_the_month_and_are_billed_at_month_end():
    h = Harness(start=datetime(2025, 3, 27, 8, 0))
    h.ndf(settlement_date=date(2025, 4, 2))
    h.irs(effective=date(2025, 3, 28), coupons=(date(2025, 6, 30),))
    h.op(ChargeFee("OCM01", "HKD", 123_45, "report retrieval"))
    h.op(ChargeFee("OCM01", "USD", 10_00, "connectivity"))
    h.eod()                       # Thu 27 -> Fri 28: not month end
    assert [i for i in h.instructions() if T.FEES in i.types] == []
    h.eod()                       # Fri 28 -> Mon 31
    h.ndf("N2", settlement_date=date(2025, 4, 2))  # accrued 31 March
    h.eod()                       # Mon 31 Mar -> Tue 1 Apr: bills March
    fees = {i.currency: i for i in h.instructions() if T.FEES in i.types}
    assert fees["HKD"].amount == 5000 + 15000 + 123_45 + 5000
    assert fees["USD"].amount == 10_00
    assert fees["HKD"].due_at == datetime(2025, 4, 8, 11, 0)  # 5th business day of April (4 Apr holiday)
    assert fees["HKD"].sub_account_name == "Fees"
    h.ndf("N3", settlement_date=date(2025, 4, 9))  # April accrual: next bill
    [april] = [i for i in h.items(type=9) if i.trade_id == "N3"]
    assert (april.instruction_id, april.settlement_date) == (0, date(2025, 5, 9))  # 1 and 5 May are holidays
    h.rejects(E.DESCRIPTION_TOO_LONG, h.op, ChargeFee("OCM01", "HKD", 1, "x" * 41))


# ---------------------------------------------------------------- (10) participating margin, optional
def test_participating_margin_disabled_by_default():
    h = Harness()
    h.rejects(E.PARTICIPATING_MARGIN_DISABLED, h.op, IssueParticipatingMarginCall("OCM01", "H", 1_00))


def test_participating_margin_when_enabled():
    h = Harness(participating_margin=True)
    ins = h.op(IssueParticipatingMarginCall("OCM01", "C1", 250_000_00))
    assert not ins.published
    assert (ins.sub_account, ins.due_at) == ("CLIENT_MARGIN", datetime(2025, 3, 4, 9, 30))
    h.eod("08:30")
    [ins] = h.instructions("OCM01")
    h.do("OCM01", ConfirmPayment("OCM01", ins.instruction_id))
    assert coll(h, "C1").participating_margin == 250_000_00
    assert ins.state == PaymentState.PENDING  # the record handed out earlier is immutable


def test_collateral_holdings_valued_one_by_one():
    h = Harness()
    deposit(h, "USD", 100_000_00)
    h.do("OCM01", DepositNonCash("OCM01", "H", "HK0000EFBN01", 500_000_00))
    h.do("OCM01", RequestCashWithdrawal("OCM01", "H", "USD", 10_000_00))
    c = coll(h)
    assert [(x.asset, x.kind, x.amount, x.pending_withdrawal, x.value) for x in c.holdings] == [
        ("USD", "CASH", 100_000_00, 10_000_00, 697_086_00),          # 90,000 x 7.8 x 0.993
        ("HK0000EFBN01", "NON_CASH", 500_000_00, 0, 495_012_50)]
    assert c.cover == sum(x.value for x in c.holdings)
