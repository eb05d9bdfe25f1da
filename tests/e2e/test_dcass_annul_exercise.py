"""HKEX certification step "annul exercise" (CC15; script step S3)."""
from __future__ import annotations

import pytest

from clients import RequestRejected
from protocol.messages import dcass as m
from protocol.messages import system as sy
from protocol.streams import Stream

from .test_dcass_trade_information import deal, next_of, series


async def test_annul_exercise(gateway, connect, operator):
    a = await connect("CPA01")
    await a.subscribe(Stream.CLEARING)
    key = await series(a, "HKB DEC26 100.00 C")
    await deal(operator, key, 300, 4, "CPA01", "CPD04", "SEOCH-OMNIBUS", "SEOCH-HOUSE")
    xno = (await a.transact(m.ExerciseRequest(series=key, account_id="SEOCH-OMNIBUS", quantity=4))).reference
    assert (await next_of(a, "BD102")).exercise.state == m.ExerciseState.PENDING
    ack = await a.transact(m.AnnulExerciseRequest(exercise_number=xno))
    assert ack.reference == xno
    x = (await next_of(a, "BD102")).exercise
    assert (x.exercise_number, x.state) == (xno, m.ExerciseState.ANNULLED)
    pos = (await next_of(a, "BD40")).position        # the position after the annulment
    assert (pos.long, pos.exercise_pending) == (4, 0)
    with pytest.raises(RequestRejected) as e:
        await a.transact(m.AnnulExerciseRequest(exercise_number=xno))
    assert e.value.business_status == -700025 and e.value.field == "exercise_number"
    with pytest.raises(RequestRejected) as e:
        await a.transact(m.AnnulExerciseRequest(exercise_number=999))
    assert e.value.business_status == -700024
    await operator.transact(sy.RunEndOfDayRequest())
    assert (await a.query(m.DeliveryObligationsQuery())).items == []
    assert [r.state for r in (await a.query(m.ExercisesQuery())).items] == [m.ExerciseState.ANNULLED]
