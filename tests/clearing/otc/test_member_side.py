"""The member's own bank side (issue 13, item 6): settlement bank per member and currency named on
its payments, PvP funding at 12:00, additional payments of a trade netted with its coupons."""
from datetime import date, datetime

from gateway.clearing.errors import OPERATOR_ONLY
from gateway.clearing.otc import (AddTradePayment, Direction, MarkPaymentSettled, MemberBanksQuery, PaymentLate,
                                  PaymentSettled, PvpQuery, PvpState, PvpStatusChanged, SetPvpFunding,
                                  SubmitPvpInstruction, errors as E)
from gateway.clearing.otc import SettlementType as T

from .harness import Harness

WED, THU = date(2025, 3, 5), date(2025, 3, 6)


def test_member_settlement_bank_per_currency_is_named_on_its_payments():
    h = Harness()
    banks = {(b.member, b.currency): b for b in h.q(MemberBanksQuery())}
    assert banks[("OCM01", "USD")].bank == "Demo OTC Clearing Member One Limited"       # an RTGS member itself
    assert banks[("OCM01", "USD")].rtgs_member is True
    assert (banks[("OCM02", "CNH")].bank, banks[("OCM02", "CNH")].rtgs_member) == (
        "Bank of China (Hong Kong) Limited", False)
    assert len(banks) == 4 * 4 and all(b.pvp_funded for b in banks.values())
    assert {b.member for b in h.q(MemberBanksQuery(), "OCM02")} == {"OCM02"}
    h.ccs(member="OCM02")
    ins = h.instructions("OCM02")
    assert ins and {(i.currency, i.member_bank) for i in ins} == {
        ("USD", "Citibank N.A., Hong Kong Branch"), ("CNH", "Bank of China (Hong Kong) Limited")}


def pvp_instructed(funded: bool):
    h = Harness()
    h.ccs(effective=WED)
    h.eod()
    h.eod("09:00")                                                   # Wed 09:00
    [p, _] = h.q(PvpQuery())
    if not funded:
        h.op(SetPvpFunding("OCM01", p.pay_currency, False))
    h.at("11:59")
    h.do("OCM01", SubmitPvpInstruction("OCM01", "X1", "INITIAL", WED, p.pay_currency, p.pay_amount,
                                       p.receive_currency, p.receive_amount))
    return h, p


def test_funded_pvp_settles_at_12_00():
    h, _ = pvp_instructed(funded=True)
    evs = h.at("12:00")
    assert len(h.of_type(evs, PaymentSettled)) == 2
    assert h.q(PvpQuery())[0].state == PvpState.SETTLED


def test_unfunded_pvp_fails_at_12_00_and_is_settled_later_by_the_operator():
    h, p = pvp_instructed(funded=False)
    assert h.of_type(h.at("11:59"), PvpStatusChanged) == []
    evs = h.at("12:00")
    [changed] = h.of_type(evs, PvpStatusChanged)
    assert changed.pvp.state == PvpState.FAILED
    late = h.of_type(evs, PaymentLate)
    assert sorted(e.instruction.direction for e in late) == [Direction.PAY, Direction.RECEIVE]
    assert not h.of_type(evs, PaymentSettled)
    # what follows: funded again, the operator settles the exchange (both legs)
    h.op(SetPvpFunding("OCM01", p.pay_currency, True))
    h.at("12:30")
    h.op(MarkPaymentSettled(p.pay_instruction_id))
    assert h.q(PvpQuery())[0].state == PvpState.SETTLED


def test_funding_of_another_currency_does_not_matter():
    h = Harness()
    h.ccs(effective=WED)
    h.eod()
    h.eod("09:00")
    [p, _] = h.q(PvpQuery())
    h.op(SetPvpFunding("OCM01", p.receive_currency, False))          # only the pay side must be funded
    h.at("11:59")
    h.do("OCM01", SubmitPvpInstruction("OCM01", "X1", "INITIAL", WED, p.pay_currency, p.pay_amount,
                                       p.receive_currency, p.receive_amount))
    h.at("12:00")
    assert h.q(PvpQuery())[0].state == PvpState.SETTLED


def test_funding_input_is_validated():
    h = Harness()
    h.rejects(E.CURRENCY_NOT_SUPPORTED, h.op, SetPvpFunding("OCM01", "JPY", False))
    h.rejects(OPERATOR_ONLY, h.do, "OCM01", SetPvpFunding("OCM01", "USD", False))


def test_upfront_fee_nets_with_the_coupons_of_its_date_and_currency():
    h = Harness()
    h.irs("I1", currency="USD", notional=36_000_000_00, fixed="0.05", effective=date(2025, 2, 7), coupons=(THU,))
    fee = h.op(AddTradePayment("I1", THU, "USD", -25_000_00, "upfront fee"))
    assert (fee.type, fee.amount, fee.settlement_date, fee.description) == (
        T.OBLIGATION, -25_000_00, THU, "additional payment: upfront fee")
    h.eod()
    h.eod()
    h.eod()                                                          # -> Thu: netting runs
    [ins] = [i for i in h.instructions("OCM01") if i.settlement_date == THU and i.currency == "USD"]
    # fixed coupon: USD 36m x 5% x 27/360 = 135,000.00 paid; plus the 25,000.00 fee
    assert fee.item_id in ins.items
    assert (ins.direction, ins.amount) == (Direction.PAY, 160_000_00)


def test_additional_payment_input_is_validated():
    h = Harness()
    h.irs("I1")
    h.rejects(E.AMOUNT_ZERO, h.op, AddTradePayment("I1", THU, "HKD", 0))
    h.rejects(E.PAYMENT_DATE_TOO_EARLY, h.op, AddTradePayment("I1", date(2025, 3, 3), "HKD", 1))
    h.rejects(E.CURRENCY_NOT_SUPPORTED, h.op, AddTradePayment("I1", THU, "JPY", 1))
    h.rejects(E.UNKNOWN_TRADE, h.op, AddTradePayment("I9", THU, "HKD", 1))
    h.rejects(E.DESCRIPTION_TOO_LONG, h.op, AddTradePayment("I1", THU, "HKD", 1, "x" * 41))
    h.rejects(OPERATOR_ONLY, h.do, "OCM01", AddTradePayment("I1", THU, "HKD", 1))
    h.op(AddTradePayment("I1", date(2025, 3, 4), "HKD", 1))            # the next business day: accepted
