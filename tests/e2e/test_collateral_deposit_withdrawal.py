"""CCMS through the SDK: deposits, holdings, the 11:00 withdrawal cut-off, completion broadcasts,
rejections with their business code and field."""
from __future__ import annotations

import pytest

from clients import RequestRejected
from protocol.messages import collateral as m
from protocol.messages import system as sy
from protocol.streams import Stream


async def set_time(operator, hhmmss: str):
    await operator.transact(sy.SetBusinessTimeRequest(business_time=hhmmss))


async def test_deposit_cash_and_securities(gateway, connect, operator):
    a = await connect("CPA01")
    await a.subscribe(Stream.COLLATERAL)
    ack = await a.transact(m.DepositCashRequest(clearing_house="HKCC", account="HOUSE", currency="HKD",
                                                amount=1_000_000))
    assert ack.reference == 1 and ack.text.startswith("COMPLETED value date 20261123")
    acc = (await a.next_broadcast(code="BF202")).message
    done = (await a.next_broadcast(code="BF203")).message
    assert (acc.instruction_id, acc.action, acc.asset, acc.quantity) == (1, m.InstructionAction.DEPOSIT, "HKD", 1_000_000)
    assert (done.completed_date, done.completed_time) == ("20261123", "090000")
    await operator.transact(m.SetCollateralPriceRequest(instrument="700", price=4_000_000))   # HKD 400.0000
    await a.transact(m.DepositSecuritiesRequest(clearing_house="HKCC", account="HOUSE", instrument="700",
                                                quantity=1_000))
    h = await a.query(m.HoldingsQuery(clearing_house="HKCC", account="HOUSE"))
    rows = {x.asset: x for x in h.items}
    assert rows["HKD"].value_hkd == 1_000_000
    assert (rows["00700"].quantity, rows["00700"].haircut, rows["00700"].value_hkd) == (1_000, 30_000_000, 28_000_000)
    # a stock in a client account: its own business code, the offending field named
    with pytest.raises(RequestRejected) as e:
        await a.transact(m.DepositSecuritiesRequest(clearing_house="HKCC", account="CLIENT", instrument="700",
                                                    quantity=1))
    assert e.value.business_status == -800003 and e.value.field == "account"
    with pytest.raises(RequestRejected) as e:
        await a.transact(m.DepositCashRequest(clearing_house="HKCC", account="HOUSE", currency="GBP", amount=1))
    assert e.value.business_status == -800001 and e.value.field == "currency"


async def test_cash_withdrawal_cutoff_10_59_59_and_11_00_00(gateway, connect, operator):
    a = await connect("CPA01")
    await a.subscribe(Stream.COLLATERAL)
    await a.transact(m.DepositCashRequest(clearing_house="HKCC", account="HOUSE", currency="USD", amount=50_000))
    await set_time(operator, "105959")
    early = await a.transact(m.WithdrawCashRequest(clearing_house="HKCC", account="HOUSE", currency="USD",
                                                   amount=10_000))
    assert early.text.startswith("PENDING value date 20261123")
    await set_time(operator, "110000")
    done = (await a.next_broadcast(code="BF203")).message
    while done.instruction_id != early.reference:
        done = (await a.next_broadcast(code="BF203")).message
    assert (done.value_date, done.completed_time) == ("20261123", "110000")
    late = await a.transact(m.WithdrawCashRequest(clearing_house="HKCC", account="HOUSE", currency="USD",
                                                  amount=10_000))
    assert late.text.startswith("PENDING value date 20261124")
    pending = await a.query(m.InstructionsQuery(pending_only=True))
    assert [(i.instruction_id, i.value_date, i.status) for i in pending.items] == [
        (late.reference, "20261124", m.InstructionStatus.PENDING)]
    with pytest.raises(RequestRejected) as e:
        await a.transact(m.WithdrawCashRequest(clearing_house="HKCC", account="HOUSE", currency="USD",
                                               amount=30_001))
    assert e.value.business_status == -800009 and e.value.field == "amount"
    assert e.value.text.endswith(": USD 300.00 held"), e.value.text  # money with its decimals on the wire


async def test_operator_rates_are_public_and_participants_may_not_set_them(gateway, connect, operator):
    a = await connect("CPA01")
    await a.subscribe(Stream.GENERAL)
    await operator.transact(m.SetFxRateRequest(currency="USD", rate=780_500_000))
    b = (await a.next_broadcast(code="BF209")).message
    assert (b.currency, b.rate) == ("USD", 780_500_000)
    p = await a.query(m.CollateralParametersQuery())
    usd = next(x for x in p.items if x.currency == "USD")
    assert (usd.fx_rate, usd.cash_haircut) == (780_500_000, 700_000)
    assert p.stock_haircut_floor == 30_000_000
    with pytest.raises(RequestRejected):
        await a.transact(m.SetFxRateRequest(currency="USD", rate=1))
