"""HKEX certification step "trade information" (script step 2): exchange trades arrive as BD6
broadcasts with the owner's trade sequence number; CQ10 recovers them by sequence, CQ11 by account,
series and time. Also holds the helpers the other test_dcass_* files import."""
from __future__ import annotations

import pytest

from clients import RequestRejected
from protocol.messages import dcass as m
from protocol.streams import Stream

async def series(client, name: str):
    """The series key record of a series name ("HSI DEC26", "TCH NOV26 480.00 C"), from DQ102."""
    words = name.split()
    cls = f"{words[0]}-{'F' if len(words) == 2 else 'O'}"
    ans = await client.query(m.SeriesQuery(class_id=cls))
    return next(s.series for s in ans.items if s.series_symbol == name)


async def deal(operator, key, price: int, qty: int, buyer: str, seller: str, buyer_account: str = "",
               seller_account: str = "", buyer_oc=m.OpenClose.OPEN, seller_oc=m.OpenClose.OPEN):
    return await operator.transact(m.InjectDealRequest(
        series=key, price=price, quantity=qty, buyer=buyer, seller=seller, buyer_account=buyer_account,
        seller_account=seller_account, buyer_open_close=buyer_oc, seller_open_close=seller_oc))


async def next_of(client, code: str, timeout: float = 3.0):
    return (await client.next_broadcast(timeout=timeout, code=code)).message


async def test_trade_information(gateway, connect, operator):
    a = await connect("CPA01")
    b = await connect("CPB02")
    await a.subscribe(Stream.TRADES)
    await b.subscribe(Stream.TRADES)
    key = await series(a, "HSI DEC26")
    booked = await deal(operator, key, 25000, 3, "CPA01", "CPB02", "HKCC-HOUSE")
    assert len(booked.trades) == 2 and booked.trades[0].deal_number == booked.trades[1].deal_number
    ev = await a.next_broadcast(timeout=3, code="BD6")
    t = ev.message.trade
    assert ev.stream == Stream.TRADES
    assert (t.trade_number, t.sequence_number, t.side, t.quantity, t.deal_price, t.account_id, t.deal_source) == (
        booked.trades[0].trade_number, 1, m.Side.BUY, 3, 25000, "HKCC-HOUSE", m.DealSource.EXCHANGE)
    assert (t.series, t.series_symbol, t.business_date, t.created_time) == (key, "HSI DEC26", "20261123", "090000")
    tb = (await next_of(b, "BD6")).trade
    assert (tb.side, tb.sequence_number, tb.account_id) == (m.Side.SELL, 1, "HKCC-DAILY")
    await deal(operator, key, 25010, 1, "CPC03", "CPA01", "", "HKCC-CLIENT01")
    t2 = (await next_of(a, "BD6")).trade
    assert t2.sequence_number == 2 and t2.side == m.Side.SELL

    missing = await a.query(m.MissingTradesQuery(first_sequence=1, last_sequence=2))
    assert [(x.sequence_number, x.quantity) for x in missing.items] == [(1, 3), (2, 1)]
    by_account = await a.query(m.TradesQuery(account_id="HKCC-CLIENT01"))
    assert [x.trade_number for x in by_account.items] == [t2.trade_number]
    window = await a.query(m.TradesQuery(series=key, from_time="085959", to_time="090000"))
    assert len(window.items) == 2
    assert (await a.query(m.TradesQuery(from_time="100000"))).items == []

    with pytest.raises(RequestRejected) as e:          # another participant's trades
        await a.query(m.MissingTradesQuery(participant="CPB02", first_sequence=1, last_sequence=1))
    assert e.value.business_status == -600003
    with pytest.raises(RequestRejected) as e:
        await a.query(m.MissingTradesQuery(first_sequence=2, last_sequence=1))
    assert e.value.business_status == -700033 and e.value.field == "first_sequence"
    with pytest.raises(RequestRejected) as e:          # operator-only transaction
        await deal(a, key, 25000, 1, "CPA01", "CPB02")
    assert e.value.business_status == -600002


async def test_reference_data_with_decimals(gateway, connect):
    a = await connect("CPA01")
    classes = {c.class_id: c for c in (await a.query(m.ClassesQuery())).items}
    tch = classes["TCH-O"]
    assert (tch.multiplier, tch.price_decimals, tch.strike_decimals, tch.stock_code, tch.clearing_house) == (
        100, 2, 2, "0700", "SEOCH")
    assert classes["CUS-F"].currency == "RMB" and classes["CUS-F"].price_decimals == 4
    parts = {p.participant: p for p in (await a.query(m.ParticipantsQuery())).items}
    assert (parts["CPC03"].hkcc, parts["CPC03"].seoch) == (True, False)
    accts = {x.account_id: x for x in (await a.query(m.AccountsQuery())).items}
    assert accts["SEOCH-OMNIBUS"].gross and accts["HKCC-DAILY"].account_type == m.AccountType.DAILY
    unds = {u.underlying: u for u in (await a.query(m.UnderlyingsQuery())).items}
    assert unds["0700"].price == 48000
