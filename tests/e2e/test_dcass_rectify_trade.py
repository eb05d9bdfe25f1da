"""HKEX certification step "rectify trade" (CD28): split a trade over several accounts."""
from __future__ import annotations

import pytest

from clients import RequestRejected
from protocol.messages import dcass as m
from protocol.streams import Stream

from .test_dcass_trade_information import deal, next_of, series


async def test_rectify_trade(gateway, connect, operator):
    b = await connect("CPB02")
    await b.subscribe(Stream.TRADES)
    key = await series(b, "HSI DEC26")
    await deal(operator, key, 25000, 10, "CPB02", "CPC03", "HKCC-HOUSE")
    t = (await next_of(b, "BD6")).trade
    reply = await b.transact(m.RectifyTradeRequest(trade_number=t.trade_number, items=[
        m.AllocationItem(account_id="HKCC-HOUSE", quantity=4),
        m.AllocationItem(account_id="HKCC-CLIENT01", quantity=3),
        m.AllocationItem(account_id="HKCC-OMNIBUS", quantity=3)]))
    assert len(reply.trades) == 4         # the 4 staying in HKCC-HOUSE book nothing
    new = [(await next_of(b, "BD6")).trade for _ in range(4)]
    assert [(x.account_id, x.side, x.quantity) for x in new] == [
        ("HKCC-HOUSE", m.Side.SELL, 3), ("HKCC-CLIENT01", m.Side.BUY, 3),
        ("HKCC-HOUSE", m.Side.SELL, 3), ("HKCC-OMNIBUS", m.Side.BUY, 3)]
    assert {x.deal_source for x in new} == {m.DealSource.RECTIFY}
    assert [x.sequence_number for x in new] == [2, 3, 4, 5]
    change = await next_of(b, "BD39")
    assert (change.trade_number, change.state, change.moved_quantity) == (t.trade_number,
                                                                         m.TradeState.PARTLY_ADJUSTED, 6)
    pos = {p.account_id: p.long for p in (await b.query(m.PositionsQuery(series=key))).items}
    assert pos == {"HKCC-HOUSE": 4, "HKCC-CLIENT01": 3, "HKCC-OMNIBUS": 3}
    with pytest.raises(RequestRejected) as e:
        await b.transact(m.RectifyTradeRequest(trade_number=t.trade_number, items=[
            m.AllocationItem(account_id="HKCC-CLIENT01", quantity=5)]))
    assert e.value.business_status == -700072
    with pytest.raises(RequestRejected) as e:
        await b.transact(m.RectifyTradeRequest(trade_number=new[0].trade_number, items=[
            m.AllocationItem(account_id="HKCC-CLIENT01", quantity=1)]))
    assert e.value.business_status == -700018       # a reversal trade cannot be rectified
