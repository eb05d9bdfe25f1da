"""Registration of NDF, IRS and CCS trades and their type-1 obligations."""
from datetime import date

import pytest

from gateway.clearing.errors import OPERATOR_ONLY, UNKNOWN_PARTICIPANT
from gateway.clearing.otc import (OtcTradesQuery, PvpQuery, PvpState, RegisterCcs, RegisterIrs, RegisterNdf,
                                  SetRateFixing, SettlementType, errors as E)

from .harness import D, Harness


@pytest.fixture
def h():
    return Harness()


def obligations(h, trade_id):
    return [i for i in h.items(type=1) if i.trade_id == trade_id]


def test_ndf_obligation_from_fixing(h):
    h.ndf(fixing_date=date(2025, 3, 5), settlement_date=date(2025, 3, 7))
    assert obligations(h, "N1") == []  # nothing before the fixing
    item = h.op(SetRateFixing("N1", date(2025, 3, 5), D("7.3000")))
    assert (item.type, item.currency, item.amount, item.settlement_date) == (1, "USD", 1_369_863, date(2025, 3, 7))
    [ans] = h.q(OtcTradesQuery(trade_id="N1"))
    assert ans.fixings[0].rate == D("7.3000")


def test_ndf_settled_in_quote_currency(h):
    h.ndf(direction="SELL", base="USD", quote="HKD", settle="HKD", contract="7.8000")
    item = h.op(SetRateFixing("N1", date(2025, 3, 7), D("7.7500")))
    assert (item.currency, item.amount) == ("HKD", 50_000_00)  # seller gains N x (K - F)


def test_ndf_non_deliverable_quote_currency_allowed(h):
    h.ndf(base="USD", quote="INR", settle="USD", contract="83.00")
    item = h.op(SetRateFixing("N1", date(2025, 3, 7), D("83.83")))
    assert item.amount == 9_900_99  # USD 1m x (83.83 - 83.00) / 83.83 = 9,900.990099...: USD 9,900.99


def test_irs_fixed_coupons_at_registration_floating_at_fixing(h):
    h.irs(spread="0.0010")
    fixed = obligations(h, "I1")
    # pay fixed: HKD 100m x 3.65% x 92/365 and x 92/365 (Mar 4 - Jun 4 - Sep 4): 920,000.00 each
    assert [(i.amount, i.settlement_date) for i in fixed] == [(-920_000_00, date(2025, 6, 4)),
                                                               (-920_000_00, date(2025, 9, 4))]
    item = h.op(SetRateFixing("I1", date(2025, 6, 4), D("0.0390")))
    # receive floating (3.90% + 0.10%) x 92/365 = 1,008,219.18
    assert item.amount == 1_008_219_18
    assert item.settlement_date == date(2025, 6, 4)
    h.rejects(E.FIXING_ALREADY_SET, h.op, SetRateFixing("I1", date(2025, 6, 4), D("0.04")))
    h.rejects(E.NOT_A_FIXING_DATE, h.op, SetRateFixing("I1", date(2025, 6, 5), D("0.04")))
    h.rejects(E.LEG_NOT_FLOATING, h.op, SetRateFixing("I1", date(2025, 9, 4), D("0.04"), leg="PAY"))


def test_irs_coupon_on_holiday_paid_next_business_day(h):
    # 2025-04-04 (Fri) is a holiday: paid Mon 2025-04-07; accrual on unadjusted dates
    h.irs(coupons=(date(2025, 4, 4),), currency="USD", notional=36_000_000_00, fixed="0.05")
    [item] = obligations(h, "I1")
    assert item.settlement_date == date(2025, 4, 7)
    assert item.amount == -155_000_00  # USD 36m x 5% x 31/360 (ACT/360 for USD) = 155,000.00


def test_ccs_coupons_and_pvp_exchanges(h):
    h.ccs()
    items = obligations(h, "X1")
    # pay CNH 72m x 2.5% x 184/365, receive USD 10m x 4.5% x 184/360 (5 Mar - 5 Sep 2025)
    first = [i for i in items if i.settlement_date == date(2025, 9, 5)]
    assert sorted((i.currency, i.amount) for i in first) == [("CNH", -907_397_26), ("USD", 230_000_00)]
    pvps = h.q(PvpQuery())
    assert [(p.exchange, p.value_date, p.pay_currency, p.pay_amount, p.receive_currency, p.receive_amount, p.state)
            for p in pvps] == [
        ("INITIAL", date(2025, 3, 5), "USD", 10_000_000_00, "CNH", 72_000_000_00, PvpState.AWAITING),
        ("FINAL", date(2026, 3, 5), "CNH", 72_000_000_00, "USD", 10_000_000_00, PvpState.AWAITING)]
    # the exchanges are type 4, never type 1
    assert {i.type for i in h.items() if i.trade_id == "X1"} == {SettlementType.OBLIGATION,
                                                                 SettlementType.CCS_EXCHANGE, SettlementType.FEES}


def test_ccs_floating_leg_needs_leg_when_both_float(h):
    h.ccs(pay_fixed_rate=None, receive_fixed_rate=None, receive_spread=D("0.001"))
    h.rejects(E.LEG_NOT_FLOATING, h.op, SetRateFixing("X1", date(2025, 9, 5), D("0.04")))
    item = h.op(SetRateFixing("X1", date(2025, 9, 5), D("0.044"), leg="RECEIVE"))
    assert (item.currency, item.amount) == ("USD", 230_000_00)


def test_clearing_fee_accrues_on_registration(h):
    h.ndf()
    [fee] = h.items(type=9)
    # billed monthly: payable on the 5th business day of April 2025 (Fri 4 Apr is a holiday) = Tue 8 Apr
    assert (fee.member, fee.currency, fee.amount, fee.settlement_date) == ("OCM01", "HKD", -5000, date(2025, 4, 8))


def test_registration_errors_change_nothing(h):
    h.ndf()
    ok = dict(trade_id="N2", member="OCM01", account="H", direction="BUY", base_currency="USD",
              quote_currency="CNH", notional=100, contract_rate=D("7.2"), fixing_date=date(2025, 3, 5),
              settlement_date=date(2025, 3, 7), settlement_currency="USD")

    def bad(**kw):
        return RegisterNdf(**{**ok, **kw})

    h.rejects(E.DUPLICATE_TRADE, h.op, bad(trade_id="N1"))
    h.rejects(E.INVALID_TRADE_ID, h.op, bad(trade_id=""))
    h.rejects(UNKNOWN_PARTICIPANT, h.op, bad(member="CP001"))
    h.rejects(E.UNKNOWN_ACCOUNT, h.op, bad(account="C9"))
    h.rejects(E.INVALID_DIRECTION, h.op, bad(direction="LONG"))
    h.rejects(E.INVALID_CURRENCY_PAIR, h.op, bad(settlement_currency="HKD"))
    h.rejects(E.INVALID_CURRENCY_PAIR, h.op, bad(quote_currency="USD"))
    h.rejects(E.CURRENCY_NOT_SUPPORTED, h.op, bad(base_currency="JPY", settlement_currency="JPY"))
    h.rejects(E.AMOUNT_NOT_POSITIVE, h.op, bad(notional=0))
    h.rejects(E.INVALID_RATE, h.op, bad(contract_rate=D("-1")))
    h.rejects(E.INVALID_RATE, h.op, bad(contract_rate=7.2))  # floats are refused
    h.rejects(E.INVALID_FIXING_DATE, h.op, bad(fixing_date=date(2025, 3, 10)))
    h.rejects(E.DATE_NOT_FUTURE, h.op, bad(fixing_date=date(2025, 3, 3), settlement_date=date(2025, 3, 3)))
    h.rejects(OPERATOR_ONLY, h.do, "OCM01", bad())


def test_swap_registration_errors(h):
    base = dict(trade_id="I9", member="OCM01", account="H", direction="PAY_FIXED", currency="HKD", notional=100,
                fixed_rate=D("0.03"), effective_date=date(2025, 3, 4), coupon_dates=(date(2025, 6, 4),))
    h.rejects(E.INVALID_SCHEDULE, h.op, RegisterIrs(**{**base, "coupon_dates": ()}))
    h.rejects(E.INVALID_SCHEDULE, h.op, RegisterIrs(**{**base, "coupon_dates": (date(2025, 6, 4), date(2025, 6, 4))}))
    h.rejects(E.INVALID_SCHEDULE, h.op, RegisterIrs(**{**base, "effective_date": date(2025, 7, 1)}))
    h.rejects(E.INVALID_DIRECTION, h.op, RegisterIrs(**{**base, "direction": "BUY"}))
    h.rejects(E.INVALID_DAY_COUNT, h.op, RegisterIrs(**{**base, "day_count": "30/360"}))
    h.rejects(E.CURRENCY_NOT_SUPPORTED, h.op, RegisterIrs(**{**base, "currency": "GBP"}))
    ccs = dict(trade_id="X9", member="OCM01", account="H", pay_currency="USD", pay_notional=100,
               receive_currency="USD", receive_notional=100, effective_date=date(2025, 3, 4),
               coupon_dates=(date(2025, 6, 4),), valuation_currency="USD")
    h.rejects(E.CCS_SAME_CURRENCY, h.op, RegisterCcs(**ccs))
    h.rejects(E.INVALID_VALUATION_CURRENCY, h.op, RegisterCcs(**{**ccs, "receive_currency": "HKD",
                                                                  "valuation_currency": "EUR"}))
    h.rejects(E.DATE_NOT_FUTURE, h.op, RegisterCcs(**{**ccs, "receive_currency": "HKD",
                                                       "effective_date": date(2025, 3, 3)}))


def test_fixing_errors(h):
    h.ndf(fixing_date=date(2025, 3, 5), settlement_date=date(2025, 3, 5))
    h.rejects(E.UNKNOWN_TRADE, h.op, SetRateFixing("NOPE", date(2025, 3, 5), D("7.3")))
    h.rejects(E.NOT_A_FIXING_DATE, h.op, SetRateFixing("N1", date(2025, 3, 4), D("7.3")))
    h.rejects(E.LEG_NOT_FLOATING, h.op, SetRateFixing("N1", date(2025, 3, 5), D("7.3"), leg="PAY"))
    h.rejects(E.INVALID_RATE, h.op, SetRateFixing("N1", date(2025, 3, 5), D("0")))
    h.eod()
    h.eod()  # business date 2025-03-05: that date is netted
    h.rejects(E.NETTING_CLOSED, h.op, SetRateFixing("N1", date(2025, 3, 5), D("7.3")))
