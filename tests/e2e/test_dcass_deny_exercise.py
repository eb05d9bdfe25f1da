"""HKEX certification step "deny general exercise" (CC14; script step S4): on the expiry day, the
denied quantity is left out of automatic exercise (in the money by at least 1.5%)."""
from __future__ import annotations

import pytest

from clients import RequestRejected
from protocol.messages import dcass as m
from protocol.messages import system as sy
from protocol.streams import Stream
from tests.conftest import settings

from .test_dcass_trade_information import deal, next_of, series


@pytest.fixture
def gateway_settings():
    return settings(start_business_time="2026-11-27T09:00:00")     # expiry day of the NOV26 series


async def test_deny_exercise(gateway, connect, operator):
    a = await connect("CPA01")
    d = await connect("CPD04")
    for c in (a, d):
        await c.subscribe(Stream.CLEARING)
    key = await series(a, "TCH NOV26 480.00 C")
    await deal(operator, key, 800, 5, "CPA01", "CPD04", "SEOCH-HOUSE", "SEOCH-HOUSE")
    await operator.transact(m.SetUnderlyingPriceRequest(underlying="0700", price=50000))   # 4.17% in the money
    await a.transact(m.DenyExerciseRequest(series=key, account_id="SEOCH-HOUSE", quantity=2))
    pos = [p for p in (await a.query(m.PositionsQuery(series=key))).items][0]
    assert (pos.long, pos.deny_exercise) == (5, 2)
    with pytest.raises(RequestRejected) as e:
        await a.transact(m.DenyExerciseRequest(series=key, account_id="SEOCH-HOUSE", quantity=6))
    assert e.value.business_status == -700072
    hsi = await series(a, "HSI NOV26 25000 C")
    with pytest.raises(RequestRejected) as e:       # index options are European, cash-settled
        await a.transact(m.DenyExerciseRequest(series=hsi, account_id="HKCC-HOUSE", quantity=1))
    assert e.value.business_status == -700023

    await operator.transact(sy.RunEndOfDayRequest())
    auto = (await next_of(a, "BD102")).exercise
    assert (auto.automatic, auto.state, auto.processed_quantity) == (True, m.ExerciseState.PROCESSED, 3)
    assert (await next_of(d, "BD103")).quantity == 3
    assert [(r.automatic, r.processed_quantity) for r in (await a.query(m.ExercisesQuery())).items] == [(True, 3)]
    series_rows = (await a.query(m.SeriesQuery(class_id="TCH-O", include_expired=True))).items
    assert [s.expired for s in series_rows if s.series == key] == [True]
