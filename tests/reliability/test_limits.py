"""Every limit on what a peer controls, over real sockets: connections in total and per address,
frame size, page size, subscriptions, replay size, pending requests, login time, held input.

LIMITS is the table quoted in docs/guides/reliability.md; the first test keeps it equal to the
defaults in gateway/config.py."""
from __future__ import annotations

import asyncio
import socket

import pytest

from gateway.config import Settings
from gateway.server import Gateway
from protocol.framing import encode_frame
from protocol.kinds import Flag, Kind
from protocol.messages import session as ms
from protocol.messages import system as sy
from protocol.registry import encode_message
from protocol.session import Limits, RequestReceived, ServerSession, Violation
from protocol.status import SessionStatus as St
from protocol.streams import Stream
from tests.conftest import settings
from tests.raw import Raw

# limit -> (setting, default, what the peer gets)
LIMITS = {
    "connections in total": ("max_connections", 1024, "GATEWAY_FULL -42, then closed"),
    "connections per address": ("max_connections_per_address", 256, "GATEWAY_FULL -42, then closed"),
    "frame size (bytes)": ("max_frame_size", 64000, "FRAME_TOO_LARGE -45, then closed"),
    "items per answer segment": ("max_page_items", 500, "answer cut into segments"),
    "subscriptions per session": ("max_subscriptions", 64, "SUBSCRIPTION_LIMIT -2056 for the excess items"),
    "broadcasts per replay/recovery": ("max_replay", 10000, "REPLAY_LIMIT -2053"),
    "pending requests per session": ("max_pending", 1000, "TOO_MANY_PENDING -49"),
    "requests per second per user": ("throttle_per_second", 5000, "THROTTLED -2050, then THROTTLE_DISCONNECT -2051"),
    "bytes queued for a slow reader": ("output_buffer_limit", 8 * 1024 * 1024, "SLOW_CONSUMER -2052, then closed"),
    "seconds to log in": ("login_timeout", 10.0, "NOT_LOGGED_IN -5, then closed"),
    "failed logins before a lock": ("login_failures_before_lock", 5, "ACCOUNT_LOCKED -2033 for lock_seconds"),
}


def test_limits_table_matches_the_defaults():
    s = Settings()
    for name, (setting, default, _) in LIMITS.items():
        assert getattr(s, setting) == default, name


async def started(**kw) -> Gateway:
    gw = Gateway(settings(**kw))
    await gw.start()
    return gw


async def open_from(port: int, source: str) -> Raw:
    sock = socket.socket()
    sock.bind((source, 0))
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
    r, w = await asyncio.open_connection(sock=sock)
    return Raw(r, w)


async def ended(raw: Raw, timeout: float = 10.0) -> bool:
    """True when the gateway closes the connection (FIN, or RST when unread input was left behind)."""
    try:
        while True:
            data = await asyncio.wait_for(raw.reader.read(65536), timeout)
            if not data:
                return True
            raw.frames += raw.decoder.feed(data)
    except ConnectionError:
        return True
    except asyncio.TimeoutError:
        return False


async def refused(raw: Raw) -> bool:
    f = await raw.next(2)
    return f.kind == Kind.LOGOUT and f.session_status == St.GATEWAY_FULL and await raw.closed()


async def test_connections_in_total():
    gw = await started(max_connections=3, max_connections_per_address=100)
    try:
        conns = [await Raw.open(gw.port) for _ in range(3)]
        assert (await conns[0].login("CPA01")).kind == Kind.REPLY
        assert await refused(await Raw.open(gw.port))
        conns[1].close()
        await asyncio.sleep(0.1)
        fresh = await Raw.open(gw.port)   # room again
        assert (await fresh.login("CPB02")).kind == Kind.REPLY
    finally:
        await gw.stop()


async def test_connections_per_address():
    gw = await started(max_connections=100, max_connections_per_address=2)
    try:
        a = [await open_from(gw.port, "127.0.0.1") for _ in range(2)]
        assert await refused(await open_from(gw.port, "127.0.0.1"))
        other = await open_from(gw.port, "127.0.0.2")   # another address is not affected
        assert (await other.login("CPB02")).kind == Kind.REPLY
        assert (await a[0].login("CPA01")).kind == Kind.REPLY
        assert gw.per_address == {"127.0.0.1": 2, "127.0.0.2": 1}
    finally:
        await gw.stop()


async def test_frame_size():
    gw = await started(max_frame_size=1000)
    try:
        raw = await Raw.open(gw.port)
        reply = raw.decode(await raw.login("CPA01"))
        assert reply.max_frame_size == 1000   # announced at login
        # exactly the maximum: framed (and refused as a message), the session goes on
        raw.send(encode_frame(Kind.QUERY, ms.BusinessDateQuery.TYPE + b"\x00" * (1000 - 44), 2))
        f = await raw.next()
        assert (f.kind, f.session_status) == (Kind.REJECT, St.FIELD_ERROR)
        # one byte more: cannot be framed; error and close, before the body is even sent
        raw.send((1001).to_bytes(4, "big") + b"\x01")
        f = await raw.next()
        assert (f.kind, f.session_status) == (Kind.REJECT, St.FRAME_TOO_LARGE)
        assert await raw.closed()
    finally:
        await gw.stop()


async def test_page_size():
    gw = await started(max_page_items=3, max_subscriptions=64)
    try:
        raw = await Raw.open(gw.port)
        await raw.login("CPA01")
        raw.send_msg(ms.SubscribeRequest(items=[ms.SubscriptionItem(stream=Stream.GENERAL, broadcast="BI27",
                                                                    filter=f"f{i}") for i in range(8)]), 2)
        segs = [await raw.next_of(Kind.REPLY) for _ in range(3)]
        assert [(f.segment, bool(f.flags & Flag.LAST_SEGMENT)) for f in segs] == [(1, False), (2, False), (3, True)]
        assert [len(raw.decode(f).items) for f in segs] == [3, 3, 2]
    finally:
        await gw.stop()


async def test_subscriptions_per_session():
    gw = await started(max_subscriptions=2)
    try:
        raw = await Raw.open(gw.port)
        await raw.login("CPA01")
        raw.send_msg(ms.SubscribeRequest(items=[ms.SubscriptionItem(stream=s) for s in
                                                (Stream.GENERAL, Stream.TRADES, Stream.CLEARING)]), 2)
        st = raw.decode(await raw.next_of(Kind.REPLY)).items
        assert [i.status for i in st] == [St.OK, St.OK, St.SUBSCRIPTION_LIMIT]
        raw.send_msg(ms.SubscribeRequest(items=[ms.SubscriptionItem(stream=Stream.COLLATERAL)]), 3)
        assert raw.decode(await raw.next_of(Kind.REPLY)).items[0].status == St.SUBSCRIPTION_LIMIT
        # unsubscribing makes room
        raw.send_msg(ms.UnsubscribeRequest(items=[ms.HandleItem(handle=st[0].handle)]), 4)
        await raw.next_of(Kind.REPLY)
        raw.send_msg(ms.SubscribeRequest(items=[ms.SubscriptionItem(stream=Stream.COLLATERAL)]), 5)
        assert raw.decode(await raw.next_of(Kind.REPLY)).items[0].status == St.OK
    finally:
        await gw.stop()


async def test_replay_size():
    gw = await started(max_replay=5)
    try:
        op = await Raw.open(gw.port)
        await op.login("OPER1")
        for i in range(10):
            op.send_msg(sy.SendClearingMessageRequest(lines=[sy.MessageLine(text=f"m{i}")]), 10 + i)
            await op.next_of(Kind.REPLY)
        raw = await Raw.open(gw.port)
        reply = raw.decode(await raw.login("CPA01", resume=[ms.ResumePoint(stream=1, business_date=20261123,
                                                                             last_sequence=0)]))
        assert reply.max_replay == 5
        raw.send_msg(ms.SubscribeRequest(items=[ms.SubscriptionItem(stream=1)]), 2)
        assert raw.decode(await raw.next_of(Kind.REPLY)).items[0].status == St.REPLAY_LIMIT
        raw.send_msg(ms.RecoveryQuery(stream=1, first_sequence=1, last_sequence=6), 3)
        f = await raw.next_of(Kind.REJECT)
        assert (f.request_id, f.session_status) == (3, St.REPLAY_LIMIT)
        raw.send_msg(ms.RecoveryQuery(stream=1, first_sequence=1, last_sequence=5), 4)
        got = []
        while True:
            f = await raw.next()
            if f.kind == Kind.REPLY:
                break
            got.append(f.sequence)
        assert got == [1, 2, 3, 4, 5]
    finally:
        await gw.stop()


def test_pending_requests_machine():
    """The gateway answers every request before it reads the next one, so over a socket a session
    never has more than one pending; the machine still bounds it for handlers that answer later."""
    s = ServerSession(Limits(max_pending=2), 0.0)
    s.receive_data(encode_frame(Kind.LOGIN, encode_message(ms.LoginRequest(user="U", password="p")), 1), 0.0)
    s.login_accepted()
    s.answered()
    q = encode_frame(Kind.QUERY, encode_message(ms.BusinessDateQuery()), 2)
    evs = s.receive_data(q * 3, 0.1)
    assert [type(e) for e in evs] == [RequestReceived, RequestReceived, Violation]
    assert evs[2].status == St.TOO_MANY_PENDING and not evs[2].fatal
    s.answered()
    assert isinstance(s.receive_data(q, 0.2)[0], RequestReceived)


async def test_pending_requests_over_a_socket():
    """Requests pipelined in one read are all pending until the gateway answers them: past the
    limit they are refused (not fatal) and the session goes on."""
    gw = await started(max_pending=2)
    try:
        raw = await Raw.open(gw.port)
        assert raw.decode(await raw.login("CPA01")).max_pending == 2
        raw.send(b"".join(encode_frame(Kind.QUERY, encode_message(ms.BusinessDateQuery()), 10 + i) for i in range(50)))
        answers = [await raw.next() for _ in range(50)]
        kinds = [(f.kind, f.session_status) for f in answers]
        assert set(kinds) <= {(Kind.REPLY, 0), (Kind.REJECT, St.TOO_MANY_PENDING)}
        assert (Kind.REJECT, St.TOO_MANY_PENDING) in kinds and kinds[0] == (Kind.REPLY, 0)
        raw.send_msg(ms.BusinessDateQuery(), 99)
        assert (await raw.next()).kind == Kind.REPLY
    finally:
        await gw.stop()


async def test_login_timeout():
    gw = await started(login_timeout=0.3)
    try:
        raw = await Raw.open(gw.port)
        raw.send(b"\x00\x00")   # two bytes of a frame, then silence
        f = await raw.next(3)
        assert (f.kind, f.session_status) == (Kind.LOGOUT, St.NOT_LOGGED_IN)
        assert await raw.closed()
        raw.close()   # the peer closes its side too: the gateway's lingering close ends there
        assert await gone(gw, within=1.0)
    finally:
        await gw.stop()


async def test_a_peer_that_never_closes_is_cut_off_after_the_linger():
    """The gateway's close lingers (its end of the stream sent, what still comes read and dropped)
    until the peer closes its side, and no longer than ``abort_after`` (2 s): a peer that keeps the
    socket open does not keep the connection."""
    gw = await started(login_timeout=0.3)
    try:
        raw = await Raw.open(gw.port)
        raw.send(b"\x00\x00")
        assert await raw.closed()      # the notice, then the end of the stream
        assert gw.connections          # half closed: still reading what the peer sends
        raw.send(b"\x00" * 1000)       # dropped, and no reset
        assert await gone(gw, within=3.0)
        raw.close()
    finally:
        await gw.stop()


async def gone(gw, within: float) -> bool:
    """True when the gateway has no connection left within ``within`` seconds."""
    for _ in range(int(within / 0.01)):
        if not gw.connections:
            return True
        await asyncio.sleep(0.01)
    return not gw.connections


async def test_input_during_login_verification_is_bounded():
    """While the password is being checked the connection stops reading: a flood behind the login
    waits in the kernel, not in the gateway's memory, and is then served or refused by the rules."""
    gw = await started(throttle_per_second=100)
    try:
        raw = await Raw.open(gw.port)
        login = encode_frame(Kind.LOGIN, encode_message(ms.LoginRequest(user="CPA01", password="pass-CPA01")), 1)
        q = encode_frame(Kind.QUERY, encode_message(ms.BusinessDateQuery()), 2)
        raw.send(login + q * 20000)   # ~1 MB behind the login
        await asyncio.sleep(0.01)
        conn = next(iter(gw.connections))
        assert sum(map(len, conn.held)) <= 1 << 20
        assert await ended(raw), "a flood past the throttle ends the session"
        statuses = {f.session_status for f in raw.frames}
        assert Kind.REPLY in {f.kind for f in raw.frames}
        # frames in the login's own read: "login in progress"; the rest, after the login: throttled, then cut
        assert statuses <= {0, St.NOT_LOGGED_IN, St.THROTTLED, St.THROTTLE_DISCONNECT}
        assert St.THROTTLE_DISCONNECT in statuses
    finally:
        await gw.stop()
