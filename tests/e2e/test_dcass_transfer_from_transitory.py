"""HKEX certification step "transfer from transitory" (CD5; script steps 20-21)."""
from __future__ import annotations

import pytest

from clients import RequestRejected
from protocol.messages import dcass as m
from protocol.messages import system as sy
from protocol.streams import Stream

from .test_dcass_trade_information import deal, next_of, series


async def test_transfer_from_transitory(gateway, connect, operator):
    a = await connect("CPA01")
    await a.subscribe(Stream.TRADES, Stream.CLEARING)
    key = await series(a, "HSI DEC26")
    booked = await deal(operator, key, 25000, 6, "CPA01", "CPC03")   # into the daily/transitory account
    t = (await next_of(a, "BD6")).trade
    assert t.account_id == "HKCC-DAILY"
    reply = await a.transact(m.TransferFromTransitoryRequest(trade_number=t.trade_number, account_id="HKCC-CLIENT01",
                                                             quantity=4, open_close=m.OpenClose.OPEN))
    assert len(reply.trades) == 2 and reply.trades[0].deal_number != booked.trades[0].deal_number
    out, into = (await next_of(a, "BD6")).trade, (await next_of(a, "BD6")).trade
    assert (out.account_id, out.side, out.quantity, out.deal_source) == (
        "HKCC-DAILY", m.Side.SELL, 4, m.DealSource.TRANSITORY)
    assert (into.account_id, into.side, into.orig_trade_number) == ("HKCC-CLIENT01", m.Side.BUY, t.trade_number)
    pos = {p.account_id: p.long for p in (await a.query(m.PositionsQuery(series=key))).items}
    assert pos == {"HKCC-DAILY": 2, "HKCC-CLIENT01": 4}
    with pytest.raises(RequestRejected) as e:
        await a.transact(m.TransferFromTransitoryRequest(trade_number=into.trade_number, account_id="HKCC-HOUSE",
                                                         quantity=1))
    assert e.value.business_status == -700019
    with pytest.raises(RequestRejected) as e:
        await a.transact(m.TransferFromTransitoryRequest(trade_number=t.trade_number, account_id="HKCC-HOUSE",
                                                         quantity=3))
    assert e.value.business_status == -700072 and e.value.field == "quantity"
    # what is left in the daily account moves to the sink account at end of day
    await operator.transact(m.SetSettlementPriceRequest(series=key, price=25000))
    await operator.transact(sy.RunEndOfDayRequest())
    pos = {p.account_id: (p.long, p.short) for p in (await a.query(m.PositionsQuery(series=key))).items}
    assert pos == {"HKCC-SINK": (2, 0), "HKCC-CLIENT01": (4, 0)}
