"""EC104: the operator injects many exchange matches in one transaction (a trade feed). Over the
socket through the SDK: one CA100 with every trade, BD6 for each, BD40 once per account and series
with the final position; a bad item rejects the whole batch with its field and byte offset."""
from __future__ import annotations

import pytest

from clients import RequestRejected
from protocol.messages import dcass as m
from protocol.streams import Stream
from tests.e2e.test_dcass_trade_information import series


def _item(key, price: int, qty: int, buyer: str, seller: str) -> m.DealItem:
    return m.DealItem(series=key, price=price, quantity=qty, buyer=buyer, seller=seller)


async def _drain(client, quiet: float = 0.3) -> dict[str, list]:
    """Every broadcast until the streams are quiet, by message code, in arrival order."""
    out: dict[str, list] = {}
    while True:
        try:
            msg = (await client.next_broadcast(timeout=quiet)).message
        except TimeoutError:
            return out
        out.setdefault(msg.__message__.code, []).append(msg)


async def test_batch_books_in_order_and_reports_positions_once(gateway, connect, operator):
    a = await connect("CPA01")
    await a.subscribe(Stream.TRADES)
    await a.subscribe(Stream.CLEARING)
    key = await series(a, "HSI DEC26")
    booked = await operator.transact(m.InjectDealsRequest(deals=[
        _item(key, 25000, 2, "CPA01", "CPB02"), _item(key, 25010, 3, "CPB02", "CPA01"),
        _item(key, 25020, 4, "CPA01", "CPC03")]))
    assert len(booked.trades) == 6
    deal_numbers = [t.deal_number for t in booked.trades]
    assert deal_numbers == sorted(deal_numbers) and len(set(deal_numbers)) == 3
    got = await _drain(a)
    trades = [b.trade for b in got["BD6"]]
    assert [(t.side, t.quantity, t.deal_price) for t in trades] == [
        (m.Side.BUY, 2, 25000), (m.Side.SELL, 3, 25010), (m.Side.BUY, 4, 25020)]
    assert [t.sequence_number for t in trades] == [1, 2, 3]
    positions = [b.position for b in got["BD40"]]
    assert [(p.account_id, p.series_symbol, p.long, p.short) for p in positions] == [
        ("HKCC-DAILY", "HSI DEC26", 6, 3)]
    assert len(got.get("BD101", [])) <= 1                            # one margin figure (HKD) for the batch
    held = (await a.query(m.PositionsQuery(series=key))).items
    assert [(p.long, p.short) for p in held] == [(6, 3)]


async def test_bad_item_rejects_the_whole_batch(gateway, connect, operator):
    a = await connect("CPA01")
    key = await series(a, "HSI DEC26")
    deals = [_item(key, 25000, 1, "CPA01", "CPB02"), _item(key, 25000, 1, "CPA01", "CPB02"),
             _item(key, 0, 1, "CPA01", "CPB02")]
    with pytest.raises(RequestRejected) as e:
        await operator.transact(m.InjectDealsRequest(deals=deals))
    rec = m.InjectDealsRequest.__record__
    assert e.value.field == "deals[2].price"
    assert e.value.field_offset == 4 + rec.size + 2 * rec.items.record.size + rec.items.record.offsets()["price"]
    assert e.value.business_status == -700013                       # INVALID_PRICE
    assert (await a.query(m.PositionsQuery(series=key))).items == []
    with pytest.raises(RequestRejected) as e:
        await operator.transact(m.InjectDealsRequest(deals=[_item(key, 25000, 1, "CPA01", "NOBODY")]))
    assert e.value.field == "deals[0].seller"
    with pytest.raises(RequestRejected) as e:                       # empty batch
        await operator.transact(m.InjectDealsRequest(deals=[]))
    assert e.value.business_status == -700034
    with pytest.raises(RequestRejected) as e:                       # operator only
        await a.transact(m.InjectDealsRequest(deals=deals[:1]))
    assert e.value.business_status == -600002
    assert (await a.query(m.PositionsQuery(series=key))).items == []
