"""The operator's certification tools over the real socket: faults on one session, the others untouched."""
from __future__ import annotations

import asyncio

import pytest

from clients.errors import RequestRejected
from gateway.faults import FAULT_OUT_OF_RANGE, NO_SESSION, OWN_SESSION, UNKNOWN_USER
from gateway.clearing.errors import OPERATOR_ONLY
from protocol.kinds import Kind
from protocol.messages import certify as m
from protocol.messages import session as ms
from protocol.messages import system as sy
from protocol.status import SessionStatus as St
from protocol.streams import Stream
from tests.raw import Raw


async def _raw_subscribed(port: int, user: str) -> Raw:
    r = await Raw.open(port)
    await r.login(user)
    r.send_msg(ms.SubscribeRequest(items=[ms.SubscriptionItem(stream=int(Stream.GENERAL))]), 2)
    await r.next_of(Kind.REPLY)
    return r


async def _message(op, n: int = 1) -> None:
    for i in range(n):
        await op.request(sy.SendClearingMessageRequest(lines=[sy.MessageLine(text=f"line {i}")]))


async def _broadcasts(r: Raw, n: int, timeout: float = 2.0) -> list:
    out = []
    while len(out) < n:
        f = await r.next(timeout)
        if f.kind == Kind.BROADCAST and f.code == "BI27":
            out.append(f)
    return out


async def test_only_the_operator_may_inject_and_errors_are_typed(gateway, connect, operator):
    a = await connect("CPA01")
    with pytest.raises(RequestRejected) as e:
        await a.request(m.WithholdBroadcastsRequest(user="CPB02", count=1))
    assert e.value.business_status == OPERATOR_ONLY.number
    cases = [(m.WithholdBroadcastsRequest(user="NOBODY", count=1), UNKNOWN_USER, "user"),
             (m.WithholdBroadcastsRequest(user="CPB02", count=1), NO_SESSION, "user"),
             (m.WithholdBroadcastsRequest(user="CPA01", count=0), FAULT_OUT_OF_RANGE, "count"),
             (m.WithholdBroadcastsRequest(user="CPA01", count=1001), FAULT_OUT_OF_RANGE, "count"),
             (m.DelayRepliesRequest(user="CPA01", milliseconds=60001, count=1), FAULT_OUT_OF_RANGE, "milliseconds"),
             (m.CutSessionRequest(user="OPER1", notice=True), OWN_SESSION, "user")]
    for msg, err, fld in cases:
        with pytest.raises(RequestRejected) as e:
            await operator.request(msg)
        assert e.value.business_status == err.number and e.value.field == fld, msg
    # the edges themselves are accepted
    await operator.request(m.WithholdBroadcastsRequest(user="CPA01", count=1000))
    await operator.request(m.DelayRepliesRequest(user="CPA01", milliseconds=60000, count=1))
    await operator.request(m.ClearFaultsRequest(user="CPA01"))
    s = (await operator.request(m.SessionsQuery(user="CPA01"))).items
    assert len(s) == 1 and s[0].faults == 0 and not s[0].watched  # cleared: its output is no longer recorded


async def test_withheld_broadcasts_make_a_gap_for_that_session_only(gateway, operator):
    a = await _raw_subscribed(gateway.port, "CPA01")
    b = await _raw_subscribed(gateway.port, "CPB02")
    await operator.request(m.WithholdBroadcastsRequest(user="CPA01", count=2))
    await _message(operator, 3)
    got_a = await _broadcasts(a, 1)
    got_b = await _broadcasts(b, 3)
    seq_b = [f.sequence for f in got_b]
    assert seq_b == list(range(seq_b[0], seq_b[0] + 3))
    assert got_a[0].sequence == seq_b[2]  # two sequence numbers skipped: a gap
    a.send_msg(ms.RecoveryQuery(stream=int(Stream.GENERAL), first_sequence=seq_b[0], last_sequence=seq_b[1]), 9)
    rec = [await a.next() for _ in range(3)]
    assert [f.sequence for f in rec[:2]] == seq_b[:2] and rec[2].code == "UA20"
    act = (await operator.request(m.SessionActivityQuery(user="CPA01"))).items
    assert [x.sequence for x in act if x.direction == "drop"] == seq_b[:2]
    assert any(x.direction == "in" and x.code == "UQ20" and x.detail.endswith(f"{seq_b[0]}-{seq_b[1]}") for x in act)
    assert not (await operator.request(m.SessionActivityQuery(user="CPB02"))).items[-1].direction == "drop"


async def test_duplicated_broadcast_comes_twice_with_one_sequence(gateway, operator):
    a = await _raw_subscribed(gateway.port, "CPA01")
    b = await _raw_subscribed(gateway.port, "CPB02")
    await operator.request(m.DuplicateBroadcastsRequest(user="CPA01", count=1))
    await _message(operator, 2)
    got_a = await _broadcasts(a, 3)
    got_b = await _broadcasts(b, 2)
    assert [f.sequence for f in got_a] == [got_b[0].sequence, got_b[0].sequence, got_b[1].sequence]
    assert len(b.frames) == 0 and not await _quiet_has_broadcast(b)


async def _quiet_has_broadcast(r: Raw) -> bool:
    try:
        f = await r.next(0.2)
    except asyncio.TimeoutError:
        return False
    return f.kind == Kind.BROADCAST


async def test_delayed_reply_keeps_order_and_other_sessions_are_served(gateway, operator):
    a = await _raw_subscribed(gateway.port, "CPA01")
    b = await _raw_subscribed(gateway.port, "CPB02")
    await operator.request(m.DelayRepliesRequest(user="CPA01", milliseconds=400, count=1))
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    a.send_msg(ms.BusinessDateQuery(), 5)
    b.send_msg(ms.BusinessDateQuery(), 5)
    fb = await b.next_of(Kind.REPLY)
    tb = loop.time() - t0
    await _message(operator, 1)
    fa = await a.next()
    ta = loop.time() - t0
    assert fa.kind == Kind.REPLY and fa.request_id == 5  # the broadcast after it waited behind it
    assert (await a.next()).code == "BI27"
    assert ta >= 0.39 and tb < 0.39 and fb.request_id == 5


async def test_cut_without_notice_and_forced_logout(gateway, operator):
    a = await _raw_subscribed(gateway.port, "CPA01")
    await operator.request(m.CutSessionRequest(user="CPA01", notice=False))
    assert await a.closed()
    assert not [f for f in a.frames if f.kind == Kind.LOGOUT]
    b = await _raw_subscribed(gateway.port, "CPA01")  # may log in again at once
    await operator.request(m.CutSessionRequest(user="CPA01", notice=True))
    f = await b.next_of(Kind.LOGOUT)
    assert f.session_status == St.FORCED_LOGOUT
    act = (await operator.request(m.SessionActivityQuery(user="CPA01"))).items
    ends = [x for x in act if x.direction == "end"]
    assert len(ends) == 2 and ends[1].status == St.FORCED_LOGOUT
    assert (await operator.request(m.SessionsQuery(user="CPA01"))).items == []


async def test_late_heartbeats_and_session_counters():
    from clients import Client
    from gateway.server import Gateway
    from tests.conftest import settings
    gw = Gateway(settings(heartbeat_interval=0.2))
    await gw.start()
    a = Client("127.0.0.1", gw.port, "CPA01", "pass-CPA01")
    operator = Client("127.0.0.1", gw.port, "OPER1", "pass-OPER1")
    try:
        await operator.connect()
        await a.connect()
        await a.request(ms.BusinessDateQuery())
        s0 = (await operator.request(m.SessionsQuery(user="CPA01"))).items[0]
        assert (s0.user, s0.participant, s0.role) == ("CPA01", "CPA01", "participant")
        assert s0.requests == 2 and s0.rejects == 0 and s0.peer.startswith("127.0.0.1:")
        with pytest.raises(RequestRejected):
            await a.request(ms.RecoveryQuery(stream=99, first_sequence=1))
        await operator.request(m.DelayHeartbeatsRequest(user="CPA01", milliseconds=150, count=2))
        await asyncio.sleep(0.8)
        act = (await operator.request(m.SessionActivityQuery(user="CPA01"))).items
        held = [x for x in act if x.direction == "held" and x.code == "UH1"]
        assert len(held) == 2 and all(x.detail == "150 ms" for x in held)
        assert [x for x in act if x.direction == "out" and x.code == "UH1"]  # then on time again
        s1 = (await operator.request(m.SessionsQuery(user="CPA01"))).items[0]
        assert s1.rejects == 1 and s1.faults == 0 and s1.heartbeats >= 1 and s1.last_heartbeat_ms < 1000
        assert a.reconnects == 0
    finally:
        await a.close()
        await operator.close()
        await gw.stop()


async def test_expired_password_restricts_the_next_login(gateway, operator, connect):
    await operator.request(m.ExpirePasswordRequest(user="CPB02"))
    r = await Raw.open(gateway.port)
    f = await r.login("CPB02")
    assert f.session_status == St.PASSWORD_MUST_CHANGE


async def test_faults_are_journaled_and_skipped_by_replay(tmp_path):
    from gateway.server import Gateway
    from tests.conftest import settings
    from clients import Client
    path = tmp_path / "j"
    gw = Gateway(settings(journal_path=str(path)))
    await gw.start()
    try:
        op = Client("127.0.0.1", gw.port, "OPER1", "pass-OPER1")
        await op.connect()
        a = Client("127.0.0.1", gw.port, "CPA01", "pass-CPA01")
        await a.connect()
        await op.request(m.WithholdBroadcastsRequest(user="CPA01", count=3))
        await op.request(m.ExpirePasswordRequest(user="CPB02"))
        await a.close()
        await op.close()
    finally:
        await gw.stop()
    gw2 = Gateway(settings(journal_path=str(path)))
    try:
        assert gw2.faults.plans == {}
        assert gw2.users.get("CPB02").password_expiry() <= gw2.core.business_date
    finally:
        gw2.journal.close()
    import subprocess
    import sys
    out = subprocess.run([sys.executable, "-m", "gateway.journal", "print", str(path)], capture_output=True,
                         text=True, timeout=60).stdout
    assert "operator OPER1 EC601 count=3 user=CPA01" in out


async def test_sessions_query_lists_ended_sessions_and_how_they_ended(gateway, operator):
    a = await _raw_subscribed(gateway.port, "CPA01")
    a.send_msg(ms.LogoutRequest(), 7)
    assert await a.closed()
    b = await _raw_subscribed(gateway.port, "CPB02")
    b.writer.close()
    await asyncio.sleep(0.1)
    live = (await operator.request(m.SessionsQuery())).items
    assert [s.user for s in live] == ["OPER1"] and not live[0].ended
    ended = (await operator.request(m.SessionsQuery(ended=True))).items
    by_user = {s.user: s for s in ended if s.ended}
    assert by_user["CPA01"].logged_out_cleanly and by_user["CPA01"].end_status == St.LOGGED_OUT
    assert not by_user["CPB02"].logged_out_cleanly and by_user["CPB02"].end_status == 0
    assert by_user["CPA01"].ended_at and by_user["CPA01"].requests == 3  # login, subscribe, logout


async def test_reset_clears_faults_and_watches(gateway, operator):
    a = await _raw_subscribed(gateway.port, "CPA01")
    await operator.request(m.WithholdBroadcastsRequest(user="CPA01", count=5))
    await operator.request(m.WatchUserRequest(user="CPB02", on=True))
    await operator.request(sy.ResetEmulatorRequest())
    assert gateway.faults.plans == {} and gateway.monitor.watched == set()
    assert await a.closed()


async def test_held_answers_go_out_before_the_logout_notice(gateway, operator):
    a = await _raw_subscribed(gateway.port, "CPA01")
    await operator.request(m.DelayRepliesRequest(user="CPA01", milliseconds=5000, count=1))
    a.send_msg(ms.BusinessDateQuery(), 11)
    await asyncio.sleep(0.1)
    await operator.request(m.CutSessionRequest(user="CPA01", notice=True))
    f1 = await a.next()
    f2 = await a.next()
    assert (f1.kind, f1.request_id) == (Kind.REPLY, 11) and f2.kind == Kind.LOGOUT


async def test_watching_records_output_and_activity_pages_by_number(gateway, operator):
    a = await _raw_subscribed(gateway.port, "CPA01")
    a.send_msg(ms.BusinessDateQuery(), 3)
    await a.next_of(Kind.REPLY)
    act = (await operator.request(m.SessionActivityQuery(user="CPA01"))).items
    assert [(x.direction, x.code) for x in act] == [("in", "UL1"), ("in", "UB1"), ("in", "UQ12")]  # not watched
    await operator.request(m.WatchUserRequest(user="CPA01", on=True))
    a.send_msg(ms.BusinessDateQuery(), 4)
    await a.next_of(Kind.REPLY)
    page = await operator.request(m.SessionActivityQuery(user="CPA01", after=act[-1].number, limit=1))
    assert page.latest == act[-1].number + 2 and [(x.direction, x.kind, x.code, x.request_id) for x in page.items] == [
        ("in", "query", "UQ12", 4)]
    rest = (await operator.request(m.SessionActivityQuery(user="CPA01", after=page.items[0].number))).items
    assert [(x.direction, x.kind, x.code, x.request_id) for x in rest] == [("out", "reply", "UA12", 4)]
    assert (await operator.request(m.SessionsQuery(user="CPA01"))).items[0].watched
    await operator.request(m.WatchUserRequest(user="CPA01", on=False))
    assert gateway.monitor.watched == set()
    assert not (await operator.request(m.SessionsQuery(user="CPA01"))).items[0].watched


def test_activity_logs_are_bounded_and_widen_when_watched():
    from gateway.monitor import ACTIVITY_ENTRIES, WATCHED_ENTRIES, Monitor
    mon = Monitor()
    lg = mon.log("A")
    for i in range(ACTIVITY_ENTRIES + 5):
        lg.add(1, "in", int(Kind.QUERY), "UQ12", i)
    assert len(lg.entries) == ACTIVITY_ENTRIES and lg.entries[0][6] == 5 and lg.number == ACTIVITY_ENTRIES + 5
    mon.widen("A")
    for i in range(WATCHED_ENTRIES):
        lg.add(1, "in", int(Kind.QUERY), "UQ12", i)
    assert len(lg.entries) == WATCHED_ENTRIES
    latest, items = mon.activity("A", after=lg.number - 3, limit=2)
    assert latest == lg.number and [e[0] for e in items] == [lg.number - 2, lg.number - 1]
