"""Netting of types 1, 2 and 3: same member account, currency and settlement date -> one payment."""
from datetime import date, datetime

import pytest

from gateway.clearing.otc import Direction, PaymentState, SetMtm, SetRateFixing, SettlementType as T

from .harness import D, Harness

WED, THU, FRI = date(2025, 3, 5), date(2025, 3, 6), date(2025, 3, 7)


@pytest.fixture(scope="module")
def h():
    h = Harness()
    h.ndf("N1", fixing_date=WED, settlement_date=FRI)                    # type 1, USD, Fri, house
    h.irs("I1", currency="USD", notional=36_000_000_00, fixed="0.05", effective=date(2025, 2, 7),
          coupons=(FRI,))                                                # type 1 fixed + float, USD, Fri
    h.ndf("N2", direction="SELL", base="USD", quote="HKD", settle="HKD", contract="7.80", settlement_date=FRI)  # HKD, Fri
    h.ndf("N3", settlement_date=THU)                                     # USD, Thu
    h.ndf("N4", account="C1", settlement_date=FRI)                       # USD, Fri, client account
    h.ccs("X1", effective=FRI)                                           # type 4 USD/CNH exchange on Fri
    h.op(SetRateFixing("N1", WED, D("7.3000")))
    h.op(SetRateFixing("I1", FRI, D("0.0450")))
    h.op(SetRateFixing("N2", FRI, D("7.7900")))
    h.op(SetRateFixing("N3", THU, D("7.1000")))
    h.op(SetRateFixing("N4", FRI, D("7.2500")))
    h.op(SetMtm("I1", 2_000_000_00))                                     # VM +2m settles Tue
    for _ in range(3):
        h.eod()                                                          # -> Thu 6 Mar
    h.op(SetMtm("I1", 1_500_000_00))                                     # VM -0.5m settles Fri; PAI Thu->Fri
    h.eod()                                                              # -> Fri 7 Mar, netting runs
    assert h.bd == FRI
    return h


def nets(h, day, **kw):
    return [i for i in h.instructions(settlement_date=day) if T.CCS_EXCHANGE not in i.types
            and all(getattr(i, k) == v for k, v in kw.items())]


def test_types_1_2_3_same_date_and_currency_net_into_one_payment(h):
    [ins] = nets(h, FRI, account="H", currency="USD")
    items = [i for i in h.items(settlement_date=FRI) if i.account == "H" and i.currency == "USD"
             and i.type in (1, 2, 3)]
    assert {i.type for i in items} == {T.OBLIGATION, T.EOD_VM, T.PAI}
    assert len([i for i in items if i.type == 1]) == 3  # NDF, IRS fixed, IRS float
    net = sum(i.amount for i in items)
    assert set(ins.items) == {i.item_id for i in items}
    assert ins.types == (T.OBLIGATION, T.EOD_VM, T.PAI)
    assert (ins.amount, ins.direction) == (abs(net), Direction.RECEIVE if net > 0 else Direction.PAY)
    # NDF 13,698.63 + IRS float 126,000.00 (USD 36m x 4.5% x 28/360) - IRS fixed 140,000.00
    # (36m x 5% x 28/360) - VM 500,000.00 - PAI of Thu night 55.56 (2m x 1% demo USD rate x 1/360
    # = 55.5555..., to the cent half up)
    items_by_amount = sorted(i.amount for i in items)
    assert items_by_amount == [-500_000_00, -140_000_00, -55_56, 13_698_63, 126_000_00]
    assert net == -500_356_93


def test_other_currency_does_not_net(h):
    [hkd] = nets(h, FRI, account="H", currency="HKD")
    [item] = [i for i in h.items(settlement_date=FRI, type=1) if i.currency == "HKD"]
    assert hkd.items == (item.item_id,) and hkd.amount == abs(item.amount)


def test_other_date_does_not_net(h):
    [thu] = nets(h, THU)
    items = [i for i in h.items(settlement_date=THU) if i.type in (1, 2, 3)]
    assert {i.type for i in items} == {T.OBLIGATION, T.PAI}  # N3 and the PAI of Wed night
    assert set(thu.items) == {i.item_id for i in items} and thu.currency == "USD"
    assert not set(thu.items) & {i.item_id for i in h.items(settlement_date=FRI)}


def test_house_and_client_accounts_net_separately(h):
    [client] = nets(h, FRI, account="C1")
    assert client.account_kind == "CLIENT" and len(client.items) == 1


def test_type_4_never_nets(h):
    pvp_ins = [i for i in h.instructions(settlement_date=FRI) if T.CCS_EXCHANGE in i.types]
    assert sorted((i.currency, i.direction, i.amount) for i in pvp_ins) == [
        ("CNH", Direction.RECEIVE, 72_000_000_00), ("USD", Direction.PAY, 10_000_000_00)]
    assert all(i.types == (T.CCS_EXCHANGE,) and len(i.items) == 1 for i in pvp_ins)
    [usd_net] = nets(h, FRI, account="H", currency="USD")
    assert not set(usd_net.items) & {i for p in pvp_ins for i in p.items}


def test_net_payment_timing(h):
    [usd] = nets(h, FRI, account="H", currency="USD")
    assert usd.direction == Direction.PAY and usd.due_at == datetime(2025, 3, 7, 11, 0)
    [hkd] = nets(h, FRI, account="H", currency="HKD")
    assert hkd.direction == Direction.RECEIVE and hkd.due_at == datetime(2025, 3, 7, 13, 0)
    assert usd.state == hkd.state == PaymentState.PENDING


def test_net_to_zero_pays_nothing():
    h = Harness()
    h.ndf("A", settlement_date=FRI, direction="BUY")
    h.ndf("B", settlement_date=FRI, direction="SELL")
    h.op(SetRateFixing("A", FRI, D("7.3")))
    h.op(SetRateFixing("B", FRI, D("7.3")))
    for _ in range(4):
        h.eod()
    assert h.bd == FRI
    assert [i for i in h.instructions(settlement_date=FRI) if T.OBLIGATION in i.types] == []
    assert {(i.netted, i.instruction_id) for i in h.items(type=1)} == {(True, 0)}
