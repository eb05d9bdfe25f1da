"""HKEX certification steps "give-up" (CD35, CC40; script steps 24-27) and "give-up confirmation"
(CC38): give-up with confirmation and with rejection, BD29 to both participants."""
from __future__ import annotations

import pytest

from clients import RequestRejected
from protocol.messages import dcass as m
from protocol.streams import Stream

from .test_dcass_trade_information import deal, next_of, series


async def test_give_up_with_confirmation(gateway, connect, operator):
    a = await connect("CPA01")
    b = await connect("CPB02")
    for c in (a, b):
        await c.subscribe(Stream.TRADES, Stream.CLEARING)
    key = await series(a, "HSI DEC26")
    booked = await deal(operator, key, 25000, 10, "CPA01", "CPC03", "HKCC-OMNIBUS")
    trade_no = booked.trades[0].trade_number
    await next_of(a, "BD6")
    ack = await a.transact(m.GiveUpRequest(trade_number=trade_no, quantity=7, to_participant="CPB02",
                                           text="client 42"))
    gno = ack.reference
    ga, gb = (await next_of(a, "BD29")).give_up, (await next_of(b, "BD29")).give_up
    assert (ga.give_up_number, ga.state, ga.quantity, ga.giver, ga.receiver) == (
        gno, m.GiveUpState.PENDING, 7, "CPA01", "CPB02")
    assert (gb.give_up_number, gb.text, gb.side, gb.deal_price, gb.sequence_number) == (
        gno, "client 42", m.Side.BUY, 25000, 1)
    pending = (await b.query(m.GiveUpsQuery(state=m.GiveUpState.PENDING))).items
    assert [g.give_up_number for g in pending] == [gno]

    reply = await b.transact(m.ConfirmGiveUpRequest(give_up_number=gno, items=[
        m.AllocationItem(account_id="HKCC-CLIENT01", quantity=5, open_close=m.OpenClose.OPEN),
        m.AllocationItem(account_id="HKCC-HOUSE", quantity=2, open_close=m.OpenClose.OPEN)]))
    assert len(reply.trades) == 4
    taken = [(await next_of(b, "BD6")).trade for _ in range(2)]
    assert [(t.account_id, t.side, t.quantity, t.orig_trade_number, t.deal_source) for t in taken] == [
        ("HKCC-CLIENT01", m.Side.BUY, 5, trade_no, m.DealSource.GIVE_UP),
        ("HKCC-HOUSE", m.Side.BUY, 2, trade_no, m.DealSource.GIVE_UP)]
    assert (await next_of(b, "BD29")).give_up.state == m.GiveUpState.CONFIRMED
    reversals = [(await next_of(a, "BD6")).trade for _ in range(2)]
    assert {(t.side, t.state) for t in reversals} == {(m.Side.SELL, m.TradeState.REVERSAL)}
    assert (await next_of(a, "BD29")).give_up.state == m.GiveUpState.CONFIRMED
    pos = {p.account_id: p.long for p in (await a.query(m.PositionsQuery(series=key))).items}
    assert pos == {"HKCC-OMNIBUS": 3}
    history = (await a.query(m.TradeHistoryQuery(trade_number=trade_no))).items
    assert history[0].state == m.TradeState.PARTLY_ADJUSTED and history[0].available_quantity == 3
    assert len(history) == 3

    with pytest.raises(RequestRejected) as e:          # answered already
        await b.transact(m.RejectGiveUpRequest(give_up_number=gno))
    assert e.value.business_status == -700015 and e.value.field == "give_up_number"


async def test_give_up_with_rejection(gateway, connect, operator):
    a = await connect("CPA01")
    b = await connect("CPB02")
    for c in (a, b):
        await c.subscribe(Stream.TRADES)
    key = await series(a, "TCH DEC26 480.00 C")
    booked = await deal(operator, key, 1500, 4, "CPA01", "CPD04", "SEOCH-HOUSE", "SEOCH-HOUSE")
    trade_no = booked.trades[0].trade_number
    with pytest.raises(RequestRejected) as e:
        await a.transact(m.GiveUpRequest(trade_number=trade_no, quantity=5, to_participant="CPB02"))
    assert e.value.business_status == -700072 and e.value.field == "quantity"
    gno = (await a.transact(m.GiveUpRequest(trade_number=trade_no, quantity=4, to_participant="CPB02"))).reference
    await next_of(b, "BD29")
    await b.transact(m.RejectGiveUpRequest(give_up_number=gno, reason="no such client"))
    gb = (await next_of(b, "BD29")).give_up
    assert (gb.state, gb.reason) == (m.GiveUpState.REJECTED, "no such client")
    seen = [(await a.next_broadcast(timeout=3)).message for _ in range(5)]
    assert [x.CODE for x in seen] == ["BD6", "BD29", "BD39", "BD29", "BD39"]
    assert [seen[1].give_up.state, seen[3].give_up.state] == [m.GiveUpState.PENDING, m.GiveUpState.REJECTED]
    assert (seen[2].available_quantity, seen[2].reserved_quantity) == (0, 4)       # reserved by the give-up
    change = seen[4]                                                             # released by the rejection
    assert (change.trade_number, change.available_quantity, change.reserved_quantity) == (trade_no, 4, 0)
    pos = (await a.query(m.PositionsQuery(account_id="SEOCH-HOUSE", series=key))).items[0]
    assert pos.long == 4
    with pytest.raises(RequestRejected) as e:
        await b.transact(m.ConfirmGiveUpRequest(give_up_number=999, items=[
            m.AllocationItem(account_id="SEOCH-HOUSE", quantity=1)]))
    assert e.value.business_status == -700014
