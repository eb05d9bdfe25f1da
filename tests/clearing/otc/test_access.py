"""Members see and touch only their own data; the operator sees all."""
from datetime import date

import pytest

from gateway.clearing.errors import ACTING_FOR_OTHER, NOT_AUTHORISED, OPERATOR_ONLY, UNKNOWN_PARTICIPANT
from gateway.clearing.otc import (CollateralQuery, ConfirmPayment, GuaranteeFundQuery, MarkPaymentSettled,
                                  OtcMembersQuery, OtcTradesQuery, PaymentInstructionsQuery, PaymentState, PvpQuery,
                                  RequestCashDeposit, SetMtm, SettlementItemsQuery, SubmitPvpInstruction,
                                  errors as E)

from .harness import Harness


@pytest.fixture
def h():
    h = Harness()
    h.ccs("X1", member="OCM01")
    h.ccs("X2", member="OCM02")
    return h


def test_members_see_only_their_own(h):
    assert {t.trade.member for t in h.q(OtcTradesQuery(), "OCM01")} == {"OCM01"}
    assert {i.member for i in h.q(PaymentInstructionsQuery(), "OCM02")} == {"OCM02"}
    assert {i.member for i in h.q(SettlementItemsQuery(), "OCM02")} == {"OCM02"}
    assert {p.member for p in h.q(PvpQuery(), "OCM01")} == {"OCM01"}
    assert [m.member_id for m in h.q(OtcMembersQuery(), "OCM03")] == ["OCM03"]
    assert len(h.q(OtcMembersQuery())) == 4
    assert {t.trade.member for t in h.q(OtcTradesQuery())} == {"OCM01", "OCM02"}
    assert {c.account for c in h.q(CollateralQuery(), "OCM04")} == {"H", "C1", "C2"}


@pytest.mark.parametrize("query", [OtcTradesQuery("OCM02"), PaymentInstructionsQuery("OCM02"),
                                   SettlementItemsQuery("OCM02"), PvpQuery("OCM02"), CollateralQuery("OCM02"),
                                   GuaranteeFundQuery("OCM02"), OtcMembersQuery("OCM02")])
def test_query_for_another_member_is_refused(h, query):
    h.rejects(ACTING_FOR_OTHER, h.q, query, "OCM01")


def test_non_member_participant_is_not_authorised(h):
    h.rejects(NOT_AUTHORISED, h.q, OtcTradesQuery(), "CP001")
    h.rejects(NOT_AUTHORISED, h.do, "CP001", RequestCashDeposit("CP001", "H", "HKD", 1_00))


def test_member_acting_for_another_changes_nothing(h):
    h.rejects(ACTING_FOR_OTHER, h.do, "OCM01", RequestCashDeposit("OCM02", "H", "HKD", 1_00))
    other = h.q(PaymentInstructionsQuery(), "OCM02")[0]
    h.rejects(NOT_AUTHORISED, h.do, "OCM01", ConfirmPayment("OCM01", other.instruction_id))
    h.rejects(ACTING_FOR_OTHER, h.do, "OCM01", ConfirmPayment("OCM02", other.instruction_id))
    [p] = [p for p in h.q(PvpQuery()) if p.trade_id == "X2" and p.exchange == "INITIAL"]
    cmd = SubmitPvpInstruction("OCM01", "X2", "INITIAL", p.value_date, p.pay_currency, p.pay_amount,
                               p.receive_currency, p.receive_amount)
    h.rejects(NOT_AUTHORISED, h.do, "OCM01", cmd)


def test_operator_only_commands(h):
    h.rejects(OPERATOR_ONLY, h.do, "OCM01", SetMtm("X1", 1))
    h.rejects(OPERATOR_ONLY, h.do, "OCM01", MarkPaymentSettled(1))
    h.rejects(UNKNOWN_PARTICIPANT, h.q, OtcTradesQuery("OCM99"))


def test_payment_errors(h):
    ins = h.do("OCM01", RequestCashDeposit("OCM01", "H", "HKD", 1_00))
    h.rejects(E.UNKNOWN_INSTRUCTION, h.do, "OCM01", ConfirmPayment("OCM01", 9999))
    pvp_leg = [i for i in h.q(PaymentInstructionsQuery(), "OCM01") if i.pvp_id][0]
    h.rejects(E.SETTLES_BY_PVP, h.do, "OCM01", ConfirmPayment("OCM01", pvp_leg.instruction_id))
    h.do("OCM01", ConfirmPayment("OCM01", ins.instruction_id))
    h.rejects(E.ALREADY_SETTLED, h.do, "OCM01", ConfirmPayment("OCM01", ins.instruction_id))
    h.rejects(E.ALREADY_SETTLED, h.op, MarkPaymentSettled(ins.instruction_id))
    h.rejects(E.INVALID_STATE_FILTER, h.q, PaymentInstructionsQuery(state="PAID"))
    h.rejects(E.INVALID_SETTLEMENT_TYPE, h.q, SettlementItemsQuery(type=11))


def test_member_cannot_confirm_a_payment_otc_clear_makes(h):
    from gateway.clearing.otc import RequestCashWithdrawal
    dep = h.do("OCM01", RequestCashDeposit("OCM01", "H", "HKD", 5_00))
    h.do("OCM01", ConfirmPayment("OCM01", dep.instruction_id))
    w = h.do("OCM01", RequestCashWithdrawal("OCM01", "H", "HKD", 1_00))
    h.rejects(E.NOT_MEMBER_PAYMENT, h.do, "OCM01", ConfirmPayment("OCM01", w.instruction_id))
    assert h.op(MarkPaymentSettled(w.instruction_id)).settled_by == "OPERATOR"


def test_operator_marks_a_pvp_leg_settled_settles_both(h):
    pvp_leg = [i for i in h.q(PaymentInstructionsQuery(), "OCM01") if i.pvp_id][0]
    h.op(MarkPaymentSettled(pvp_leg.instruction_id))
    legs = [i for i in h.q(PaymentInstructionsQuery(), "OCM01") if i.pvp_id == pvp_leg.pvp_id]
    assert [i.state for i in legs] == [PaymentState.SETTLED] * 2
    assert [p.state for p in h.q(PvpQuery(), "OCM01") if p.pvp_id == pvp_leg.pvp_id] == ["SETTLED"]


def test_pvp_matching_errors(h):
    h.eod()
    [p] = [p for p in h.q(PvpQuery(), "OCM01") if p.exchange == "INITIAL"]
    good = dict(member="OCM01", trade_id="X1", exchange="INITIAL", value_date=p.value_date,
                pay_currency=p.pay_currency, pay_amount=p.pay_amount, receive_currency=p.receive_currency,
                receive_amount=p.receive_amount)
    for field, value in [("pay_amount", p.pay_amount + 1), ("receive_currency", "HKD"),
                         ("value_date", date(2025, 3, 6)), ("pay_currency", "CNH")]:
        err = h.rejects(E.PVP_NOT_MATCHING, h.do, "OCM01", SubmitPvpInstruction(**{**good, field: value}))
        assert err.field == field
    h.rejects(E.INVALID_EXCHANGE_KIND, h.do, "OCM01", SubmitPvpInstruction(**{**good, "exchange": "MIDDLE"}))
    h.rejects(E.UNKNOWN_TRADE, h.do, "OCM01", SubmitPvpInstruction(**{**good, "trade_id": "NOPE"}))
    h.ndf("N1")
    h.rejects(E.PVP_UNKNOWN_EXCHANGE, h.do, "OCM01", SubmitPvpInstruction(**{**good, "trade_id": "N1"}))
    h.do("OCM01", SubmitPvpInstruction(**good))
    h.rejects(E.PVP_ALREADY_INSTRUCTED, h.do, "OCM01", SubmitPvpInstruction(**good))


def test_every_otc_code_is_unique_and_in_band():
    from gateway.clearing.errors import REGISTRY
    otc = [c for c in REGISTRY.values() if c.module == "otc"]
    assert otc and all(-900999 <= c.number <= -900001 for c in otc)
    assert len({c.name for c in otc}) == len(otc)


def test_events_carry_subscription_filter_attributes(h):
    from gateway.clearing.otc import PaiRateSet, PaymentInstructionIssued, SetPaiRate
    from .harness import D
    issued = [e for e in h.events if isinstance(e, PaymentInstructionIssued)]
    assert issued and all(e.account == "H" and e.currency in ("USD", "CNH") for e in issued)
    h.op(SetPaiRate("USD", D("0.02")))
    [rate] = [e for e in h.events if isinstance(e, PaiRateSet)]
    assert (rate.STREAM, rate.owner) == ("general", None)
