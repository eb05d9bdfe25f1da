"""HKEX certification step "exercise" (CC13; script step S1): an exercise request, processed at end
of day with random assignment and stock delivery obligations."""
from __future__ import annotations

import pytest

from clients import RequestRejected
from protocol.messages import dcass as m
from protocol.messages import system as sy
from protocol.streams import Stream

from .test_dcass_trade_information import deal, next_of, series


async def test_exercise(gateway, connect, operator):
    a = await connect("CPA01")
    d = await connect("CPD04")
    for c in (a, d):
        await c.subscribe(Stream.CLEARING)
    key = await series(a, "TCH DEC26 460.00 C")
    await deal(operator, key, 2500, 5, "CPA01", "CPD04", "SEOCH-HOUSE", "SEOCH-HOUSE")
    ack = await a.transact(m.ExerciseRequest(series=key, account_id="SEOCH-HOUSE", quantity=3))
    xno = ack.reference
    x = (await next_of(a, "BD102")).exercise
    assert (x.exercise_number, x.state, x.quantity, x.automatic) == (xno, m.ExerciseState.PENDING, 3, False)
    pos = [p for p in (await a.query(m.PositionsQuery(account_id="SEOCH-HOUSE"))).items if p.series == key][0]
    assert (pos.long, pos.exercise_pending) == (5, 3)
    assert [(r.exercise_number, r.state) for r in (await a.query(m.ExercisesQuery())).items] == [
        (xno, m.ExerciseState.PENDING)]
    with pytest.raises(RequestRejected) as e:
        await a.transact(m.ExerciseRequest(series=key, account_id="SEOCH-HOUSE", quantity=3))
    assert e.value.business_status == -700072 and e.value.field == "quantity"
    with pytest.raises(RequestRejected) as e:
        await d.transact(m.ExerciseRequest(series=key, account_id="SEOCH-HOUSE", quantity=1))
    assert e.value.business_status == -700074 and e.value.field == "series"      # short only

    await operator.transact(sy.RunEndOfDayRequest())
    done = (await next_of(a, "BD102")).exercise
    assert (done.state, done.processed_quantity) == (m.ExerciseState.PROCESSED, 3)
    rec = (await next_of(a, "BD104")).delivery
    # a call exercised: receive 3 x 100 shares of 0700, pay HKD 460.00 x 300 on T+2
    assert (rec.direction, rec.stock_code, rec.shares, rec.amount, rec.settlement_date, rec.origin) == (
        m.DeliveryDirection.RECEIVE, "0700", 300, 13_800_000, "20261125", "EXERCISE")
    asg = await next_of(d, "BD103")
    assert (asg.account_id, asg.quantity, asg.series) == ("SEOCH-HOUSE", 3, key)    # the only writer
    dlv = (await next_of(d, "BD104")).delivery
    assert (dlv.direction, dlv.shares, dlv.origin) == (m.DeliveryDirection.DELIVER, 300, "ASSIGNMENT")
    rows = (await a.query(m.DeliveryObligationsQuery())).items
    assert [(r.shares, r.series_symbol) for r in rows] == [(300, "TCH DEC26 460.00 C")]
    pos = [p for p in (await d.query(m.PositionsQuery())).items if p.series == key][0]
    assert (pos.short, pos.assigned) == (2, 3)
    money = (await a.query(m.MoneyObligationsQuery())).items      # premium HKD 25.00 x 5 x 100 shares
    assert [(x.clearing_house, x.premium, x.fees) for x in money] == [("SEOCH", -1_250_000, -250)]
