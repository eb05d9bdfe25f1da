"""HKEX certification step "position information" (script step 3): BD40 position broadcasts,
CQ3 positions, margin (BD101 / CQ102) and settlement prices."""
from __future__ import annotations

import pytest

from clients import RequestRejected
from protocol.messages import dcass as m
from protocol.streams import Stream

from .test_dcass_trade_information import deal, next_of, series


async def test_position_information(gateway, connect, operator):
    a = await connect("CPA01")
    await a.subscribe(Stream.CLEARING)
    key = await series(a, "HSI DEC26")
    await deal(operator, key, 25000, 2, "CPA01", "CPC03", "HKCC-HOUSE", "HKCC-HOUSE")
    pos = (await next_of(a, "BD40")).position
    assert (pos.account_id, pos.account_type, pos.clearing_house, pos.series, pos.long, pos.short) == (
        "HKCC-HOUSE", m.AccountType.HOUSE, "HKCC", key, 2, 0)
    mg = (await next_of(a, "BD101")).margin
    # 2 contracts x 25,000 x 10% scanning range x HKD 50 = HKD 250,000.00
    assert (mg.account_id, mg.currency, mg.requirement) == ("HKCC-HOUSE", "HKD", 25_000_000)

    await deal(operator, key, 25100, 3, "CPC03", "CPA01", "HKCC-OMNIBUS", "HKCC-OMNIBUS")
    await deal(operator, key, 25100, 1, "CPA01", "CPC03", "HKCC-OMNIBUS", "HKCC-HOUSE", m.OpenClose.CLOSE)
    rows = (await a.query(m.PositionsQuery())).items
    assert {(p.account_id, p.long, p.short) for p in rows} == {("HKCC-HOUSE", 2, 0), ("HKCC-OMNIBUS", 0, 2)}
    only = (await a.query(m.PositionsQuery(account_id="HKCC-OMNIBUS", series=key))).items
    assert [(p.short, p.series_symbol) for p in only] == [(2, "HSI DEC26")]

    await operator.transact(m.SetSettlementPriceRequest(series=key, price=26000))
    margins = {x.account_id: x.requirement for x in (await a.query(m.MarginQuery())).items}
    assert margins["HKCC-HOUSE"] == 2 * 26000 * 5 * 100
    prices = (await a.query(m.SettlementPricesQuery(series=key))).items[0]
    assert (prices.price, prices.has_price, prices.last_trade) == (26000, True, 25100)

    with pytest.raises(RequestRejected) as e:
        await a.query(m.PositionsQuery(participant="CPC03"))
    assert e.value.business_status == -600003
    with pytest.raises(RequestRejected) as e:
        await a.query(m.PositionsQuery(account_id="NO-SUCH"))
    assert e.value.business_status == -700004
