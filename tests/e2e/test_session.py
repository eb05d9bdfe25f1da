"""The session layer over a real loopback socket, through the SDK and through raw bytes."""
from __future__ import annotations

import asyncio

import pytest

from clients import LoginRejected, RequestRejected, SessionEnded
from protocol.framing import encode_frame
from protocol.kinds import Kind
from protocol.messages import session as ms
from protocol.messages import system as sy
from protocol.status import SessionStatus as St
from protocol.streams import Stream
from tests.raw import Raw


async def test_login_and_business_date(gateway, connect):
    c = await connect("CPA01")
    r = c.login_reply
    assert (r.user, r.participant, r.role.name, r.business_date) == ("CPA01", "CPA01", "PARTICIPANT", "20261123")
    assert r.max_replay == gateway.settings.max_replay and r.heartbeat_interval_ms == 5000
    assert {s.stream for s in r.streams} == {Stream.GENERAL, Stream.TRADES, Stream.CLEARING, Stream.COLLATERAL}
    a = await c.query(ms.BusinessDateQuery())
    assert (a.business_date, a.business_time, a.previous_business_date, a.next_business_date) == \
        ("20261123", "090000", "20261120", "20261124")
    assert a.utc_offset == 8 * 3600


async def test_bad_password_and_unknown_user(gateway, connect):
    with pytest.raises(LoginRejected) as bad:
        await connect("CPA01", "wrong-password")
    with pytest.raises(LoginRejected) as unknown:
        await connect("NOBODY", "whatever1")
    # the same code, text and field: the wire does not tell which user ids exist
    assert bad.value.session_status == unknown.value.session_status == St.INVALID_CREDENTIALS
    assert str(bad.value) == str(unknown.value)
    assert (bad.value.text, bad.value.field) == (unknown.value.text, unknown.value.field)
    assert "CPA01" not in gateway.sessions


async def test_unknown_user_failures_still_lock_that_user_id(gateway, connect):
    # the lockout counts failures of an unknown id as before: after N of them the id answers -2033
    for _ in range(gateway.settings.login_failures_before_lock):
        with pytest.raises(LoginRejected) as e:
            await connect("NOBODY", "whatever1")
        assert e.value.session_status == St.INVALID_CREDENTIALS
    with pytest.raises(LoginRejected) as e:
        await connect("NOBODY", "whatever1")
    assert e.value.session_status == St.ACCOUNT_LOCKED


async def test_lockout_after_repeated_failures(gateway, connect):
    for _ in range(gateway.settings.login_failures_before_lock):
        with pytest.raises(LoginRejected):
            await connect("CPB02", "wrong-password")
    with pytest.raises(LoginRejected) as e:
        await connect("CPB02")  # even the right password while locked
    assert e.value.session_status == St.ACCOUNT_LOCKED


async def test_duplicate_login_rejected_forced_takes_over(gateway, connect):
    first = await connect("CPA01", auto_reconnect=False)
    with pytest.raises(LoginRejected) as e:
        await connect("CPA01", auto_reconnect=False)
    assert e.value.session_status == St.SESSION_IN_USE
    assert (await first.query(ms.BusinessDateQuery())).business_date == "20261123"  # untouched
    second = await connect("CPA01", forced=True, auto_reconnect=False)
    for _ in range(100):
        if first._ended is not None:
            break
        await asyncio.sleep(0.02)
    assert first._ended is not None and first._ended.reason == St.FORCED_LOGOUT
    with pytest.raises(SessionEnded):
        await first.query(ms.BusinessDateQuery())
    assert (await second.query(ms.BusinessDateQuery())).business_date == "20261123"


async def test_non_login_first_frame(gateway):
    raw = await Raw.open(gateway.port)
    raw.send_msg(ms.BusinessDateQuery(), 9)
    f = await raw.next()
    assert (f.kind, f.request_id, f.session_status) == (Kind.REJECT, 9, St.NOT_LOGGED_IN)
    assert await raw.closed()
    assert not gateway.sessions


async def test_malformed_oversize_and_unknown_type(gateway):
    # a well-framed unknown message type: REJECT -17, the session goes on
    raw = await Raw.open(gateway.port)
    assert (await raw.login("CPA01")).kind == Kind.REPLY
    raw.send(encode_frame(Kind.QUERY, b"ZZ\x00\x63", 5))
    f = await raw.next()
    assert (f.kind, f.request_id, f.session_status) == (Kind.REJECT, 5, St.INVALID_MESSAGE_TYPE)
    # a field that does not decode: REJECT -18 with the offset, the session goes on
    payload = bytearray(ms.StatusTextQuery.TYPE + b"\x00\x00\x00\x01\x01\x00\x00\x00")
    raw.send(encode_frame(Kind.QUERY, bytes(payload) + b"\x00", 6))  # one byte too many
    f = await raw.next()
    assert (f.kind, f.request_id, f.session_status) == (Kind.REJECT, 6, St.FIELD_ERROR)
    assert f.field_offset == 12
    raw.send_msg(ms.BusinessDateQuery(), 7)
    assert (await raw.next()).kind == Kind.REPLY
    # wrong kind: a query message sent as a transaction
    raw.send_msg(ms.BusinessDateQuery(), 8, kind=Kind.TRANSACTION)
    f = await raw.next()
    assert (f.session_status, f.request_id) == (St.WRONG_KIND, 8)
    # oversize frame: cannot be framed, error then close
    raw.send((100000).to_bytes(4, "big") + b"\x01" + b"\x00" * 40)
    f = await raw.next()
    assert (f.kind, f.session_status) == (Kind.REJECT, St.FRAME_TOO_LARGE)
    assert await raw.closed()


async def test_bad_version_closes(gateway):
    raw = await Raw.open(gateway.port)
    frame = bytearray(encode_frame(Kind.LOGIN, b"UL\x00\x01", 1))
    frame[4] = 2
    raw.send(bytes(frame))
    f = await raw.next()
    assert f.session_status == St.BAD_VERSION
    assert await raw.closed()


@pytest.fixture
def fast_heartbeat_settings():
    from tests.conftest import settings
    return settings(heartbeat_interval=0.2, idle_heartbeats=3)


async def test_idle_peer_dropped(fast_heartbeat_settings):
    from gateway.server import Gateway
    gw = Gateway(fast_heartbeat_settings)
    await gw.start()
    try:
        raw = await Raw.open(gw.port)
        assert (await raw.login("CPA01")).kind == Kind.REPLY
        # the server heartbeats us while we stay silent, then drops us after 3 intervals
        kinds = []
        while True:
            f = await raw.next(timeout=3)
            kinds.append(f.kind)
            if f.kind == Kind.LOGOUT:
                break
        assert Kind.HEARTBEAT in kinds
        assert raw.decode(f).reason == St.IDLE_TIMEOUT
        assert await raw.closed()
        # an SDK client that heartbeats stays connected over the same period
        from clients import Client
        c = Client("127.0.0.1", gw.port, "CPB02", "pass-CPB02")
        await c.connect()
        await asyncio.sleep(1.0)
        assert c.connected and (await c.query(ms.BusinessDateQuery())).business_date
        await c.close()
    finally:
        await gw.stop()


async def test_logout(gateway, connect):
    raw = await Raw.open(gateway.port)
    await raw.login("CPC03")
    raw.send_msg(ms.LogoutRequest(), 2)
    f = await raw.next()
    assert (f.kind, f.request_id) == (Kind.LOGOUT, 2)
    assert raw.decode(f).reason == St.LOGGED_OUT
    assert await raw.closed()
    assert "CPC03" not in gateway.sessions


async def test_subscription_authorisation(gateway, connect):
    c = await connect("CPA01")
    st = await c.subscribe(Stream.GENERAL, Stream.SETTLEMENT, (Stream.TRADES, "BI9"), 42)
    assert [s.status for s in st] == [St.OK, St.SUBSCRIPTION_NOT_AUTHORISED, St.UNKNOWN_STREAM, St.UNKNOWN_STREAM]
    assert st[0].handle and not st[1].handle
    m = await connect("OCM01")
    st = await m.subscribe(Stream.SETTLEMENT, Stream.TRADES)
    assert [s.status for s in st] == [St.OK, St.SUBSCRIPTION_NOT_AUTHORISED]
    r = await c.request(ms.UnsubscribeRequest(items=[ms.HandleItem(handle=st[0].handle + 999)]))
    assert r.items[0].status == St.UNKNOWN_HANDLE


async def send_messages(op, n, start=0):
    for i in range(start, start + n):
        await op.transact(sy.SendClearingMessageRequest(lines=[sy.MessageLine(text=f"msg {i}")]))


async def test_operator_only(gateway, connect):
    c = await connect("CPA01")
    with pytest.raises(RequestRejected) as e:
        await c.transact(sy.SendClearingMessageRequest(lines=[sy.MessageLine(text="x")]))
    assert (e.value.session_status, e.value.business_status) == (St.BUSINESS_REJECT, -600002)


async def test_reconnect_resume_exactly_the_missed(gateway, connect, operator):
    c = await connect("CPA01")
    await c.subscribe(Stream.GENERAL)
    await send_messages(operator, 3)
    got = [(await c.next_broadcast(2)).sequence for _ in range(3)]
    c.abort_connection()
    await send_messages(operator, 4, 3)   # published while the client is away
    got += [(await c.next_broadcast(5)).sequence for _ in range(4)]
    await send_messages(operator, 2, 7)   # live again
    got += [(await c.next_broadcast(5)).sequence for _ in range(2)]
    assert got == list(range(1, 10))
    assert c.reconnects == 1
    await asyncio.sleep(0.1)
    assert c.pending_broadcasts() == 0  # no duplicate behind
    texts = []
    _, frames = await c.recover(Stream.GENERAL, 1, 9)
    texts = [f.message.lines[0].text for f in frames]
    assert texts == [f"msg {i}" for i in range(9)]


async def test_raw_resume_at_login(gateway, operator):
    raw = await Raw.open(gateway.port)
    await raw.login("CPB02", resume=[ms.ResumePoint(stream=Stream.GENERAL, business_date=20261123, last_sequence=2)])
    await send_messages(operator, 5)
    raw.send_msg(ms.SubscribeRequest(items=[ms.SubscriptionItem(stream=Stream.GENERAL)]), 2)
    reply = await raw.next_of(Kind.REPLY)
    st = raw.decode(reply).items[0]
    assert (st.status, st.first_sequence, st.last_sequence) == (0, 3, 5)
    seqs = [(await raw.next_of(Kind.BROADCAST)).sequence for _ in range(3)]
    assert seqs == [3, 4, 5]


@pytest.fixture
def small_replay_settings():
    from tests.conftest import settings
    return settings(max_replay=3)


async def test_replay_beyond_limit_refused_then_recovered(small_replay_settings):
    from clients import Client
    from gateway.server import Gateway
    gw = Gateway(small_replay_settings)
    await gw.start()
    try:
        op = Client("127.0.0.1", gw.port, "OPER1", "pass-OPER1")
        await op.connect()
        await send_messages(op, 8)
        # raw: the refusal and its reason
        raw = await Raw.open(gw.port)
        await raw.login("CPC03", resume=[ms.ResumePoint(stream=1, business_date=20261123, last_sequence=1)])
        raw.send_msg(ms.SubscribeRequest(items=[ms.SubscriptionItem(stream=1)]), 2)
        st = raw.decode(await raw.next_of(Kind.REPLY)).items[0]
        assert (st.status, st.first_sequence, st.last_sequence) == (St.REPLAY_LIMIT, 9, 8)
        raw.send_msg(ms.RecoveryQuery(stream=1, first_sequence=2, last_sequence=8), 3)
        f = await raw.next_of(Kind.REJECT)
        assert (f.request_id, f.session_status) == (3, St.REPLAY_LIMIT)
        assert "3" in raw.decode(f).text
        # SDK: it recovers the gap by bounded ranges and delivers everything once, in order
        c = Client("127.0.0.1", gw.port, "CPD04", "pass-CPD04")
        c.machine.cursors.clear()
        from protocol.session import _StreamCursor
        c.machine.cursors[1] = _StreamCursor(business_date=20261123, last=1)
        await c.connect()
        await c.subscribe(Stream.GENERAL)
        seqs = [(await c.next_broadcast(3)).sequence for _ in range(7)]
        assert seqs == list(range(2, 9)) and not c.gaps
        await c.close()
        await op.close()
    finally:
        await gw.stop()


async def test_query_answers_are_paged(gateway, connect):
    gateway.settings.max_page_items = 2
    raw = await Raw.open(gateway.port)
    await raw.login("OPER1")
    raw.send_msg(ms.StreamStatusQuery(), 2)
    f = await raw.next()
    assert (f.kind, f.segment, f.flags) == (Kind.REPLY, 1, 1)  # operator: one stream, one segment
    raw2 = await Raw.open(gateway.port)
    await raw2.login("CPA01")
    raw2.send_msg(ms.StreamStatusQuery(), 2)
    a, b = await raw2.next(), await raw2.next()
    assert (a.segment, a.flags, b.segment, b.flags) == (1, 0, 2, 1)
    c = await connect("CPB02")
    assert len((await c.query(ms.StreamStatusQuery())).streams) == 4  # SDK joins the segments


async def test_password_expired_must_change(gateway, connect):
    c = await connect("EXPIRED1")
    assert c.login_status == St.PASSWORD_MUST_CHANGE
    with pytest.raises(RequestRejected) as e:
        await c.query(ms.BusinessDateQuery())
    assert e.value.session_status == St.PASSWORD_EXPIRED
    with pytest.raises(RequestRejected) as e:
        await c.transact(ms.ChangePasswordRequest(old_password="pass-EXPIRED1", new_password="short"))
    assert e.value.session_status == St.PASSWORD_POLICY and e.value.field == "new_password"
    await c.transact(ms.ChangePasswordRequest(old_password="pass-EXPIRED1", new_password="new-pass-123"))
    assert (await c.query(ms.BusinessDateQuery())).business_date == "20261123"


async def test_status_text_query(gateway, connect):
    c = await connect("CPA01")
    a = await c.query(ms.StatusTextQuery(code=-2019, level=1))
    assert a.name == "SESSION_IN_USE"
    a = await c.query(ms.StatusTextQuery(code=-600002, level=2))
    assert a.name == "OPERATOR_ONLY"


@pytest.fixture
def throttle_settings():
    from tests.conftest import settings
    return settings(throttle_per_second=5)


@pytest.mark.parametrize("one_by_one", [False, True], ids=["one_write", "one_by_one"])
async def test_throttle_reject_then_disconnect(throttle_settings, one_by_one):
    """20 requests past a throttle of 5 a second: 5 answered, 5 THROTTLED, then the disconnect.
    Sent one by one, the last ones arrive after the gateway has decided to disconnect: its close
    lingers (the end of the stream after the notice, what still comes read and dropped) instead of
    resetting the connection, which would lose the notice and the answers before it."""
    from gateway.server import Gateway
    gw = Gateway(throttle_settings)
    await gw.start()
    try:
        raw = await Raw.open(gw.port)
        await raw.login("CPA01")
        for i in range(20):
            raw.send_msg(ms.BusinessDateQuery(), 10 + i)
            if one_by_one:
                await raw.writer.drain()     # never a reset: the gateway keeps reading what comes
                await asyncio.sleep(0.002)
        assert await raw.closed()
        statuses = [f.session_status for f in raw.frames]
        assert statuses == [0] * 5 + [St.THROTTLED] * 5 + [St.THROTTLE_DISCONNECT]
        assert gw.sessions.get("CPA01") is None
    finally:
        await gw.stop()
