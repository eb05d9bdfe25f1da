"""Fan-out through shared segments (``gateway.server.Route``): with many subscribers a batch of
broadcasts is one growing buffer queued to every subscriber, yet every connection must still get
its frames in the order they were queued, and nothing written may change afterwards.

In-process: real ``Gateway`` and ``Connection`` objects over a transport that records writes."""
from __future__ import annotations

import asyncio

import pytest

from gateway.auth import User, UserDirectory
from gateway.clearing import core as c
from gateway.server import SHARED_SEGMENT_MIN, Connection, Gateway
from protocol.framing import FrameDecoder, encode_frame
from protocol.kinds import Kind
from protocol.messages import session as ms
from protocol.registry import code_of, encode_message
from protocol.streams import Stream
from tests.conftest import settings


class Recorder:
    def __init__(self):
        self.writes: list = []      # the objects written
        self.copies: list = []      # their bytes at the time of the write

    def write(self, data) -> None:
        self.writes.append(data)
        self.copies.append(bytes(data))

    def get_write_buffer_size(self) -> int:
        return 0

    def get_extra_info(self, name, default=None):
        return ("127.0.0.1", 1) if name == "peername" else default

    def is_closing(self) -> bool:
        return False

    def can_write_eof(self) -> bool:
        return False

    def close(self) -> None:
        pass


def _session(gw: Gateway, name: str, role: str = "participant") -> Connection:
    conn = Connection(gw)
    conn.connection_made(Recorder())
    conn.user = User(user=name, password_hash="", role=role, participant=name if role == "participant" else "")
    conn.role, conn.participant = role, conn.user.participant
    gw.sessions[name] = conn
    conn.machine.login_accepted()
    return conn


def _subscribe(conn: Connection, *items: tuple[int, str]) -> None:
    conn.data_received(encode_frame(Kind.SUBSCRIBE, encode_message(ms.SubscribeRequest(items=[
        ms.SubscriptionItem(stream=s, broadcast=b) for s, b in items])), 1))


def _frames(conn: Connection) -> list[tuple]:
    dec = FrameDecoder()
    out = []
    for data in conn.transport.copies:
        out += [(f.kind, f.stream, f.sequence, f.request_id, code_of(bytes(f.payload[:4]))) for f in dec.feed(data)]
    return out


@pytest.fixture
async def gw():
    g = Gateway(settings(stream_heartbeat_seconds=0), UserDirectory({}))
    g.loop = asyncio.get_running_loop()
    return g


async def test_shared_segment_keeps_each_connections_order(gw):
    n = SHARED_SEGMENT_MIN + 1
    subs = [_session(gw, f"S{i}") for i in range(n)]
    for s in subs:
        _subscribe(s, (int(Stream.GENERAL), "BI27"))
    _subscribe(subs[0], (int(Stream.GENERAL), "BI9"))  # also heartbeats: a second, small route
    gw.flush()
    for s in subs:
        s.transport.writes.clear()
        s.transport.copies.clear()
    general = int(Stream.GENERAL)
    base = gw.streams.last_sequence(general, None)

    def message(text: str) -> None:
        gw.execute(c.SendClearingMessage((text,)), None)

    message("m1")                                       # a segment starts: queued to every subscriber
    subs[0].queue(encode_frame(Kind.REPLY, encode_message(ms.Ack(text="between")), 77))
    message("m2")                                       # S0's output no longer ends with it: a new one
    gw.execute(c.Tick(1), None)                         # BI9 to S0 only (small route)
    message("m3")
    message("m4")                                       # extends m3's segment
    gw.flush()

    bi27, bi9, ack = "BI27", "BI9", "UR1"
    seq = [base + i for i in range(1, 6)]  # m1, m2, heartbeat, m3, m4 in stream order
    got0 = _frames(subs[0])
    assert [(k, r, t) for k, _, _, r, t in got0] == [
        (int(Kind.BROADCAST), 0, bi27), (int(Kind.REPLY), 77, ack), (int(Kind.BROADCAST), 0, bi27),
        (int(Kind.BROADCAST), 0, bi9), (int(Kind.BROADCAST), 0, bi27), (int(Kind.BROADCAST), 0, bi27)]
    assert [s for k, _, s, _, _ in got0 if k == int(Kind.BROADCAST)] == seq
    for s in subs[1:]:
        got = _frames(s)
        assert [x[2] for x in got] == [seq[0], seq[1], seq[3], seq[4]]
        assert all(x[4] == bi27 for x in got)
        assert len(s.transport.writes) == 1              # one write per connection per batch


async def test_written_segments_never_change(gw):
    subs = [_session(gw, f"S{i}") for i in range(SHARED_SEGMENT_MIN)]
    for s in subs:
        _subscribe(s, (int(Stream.GENERAL), "BI27"))
    gw.flush()
    for s in subs:
        s.transport.writes.clear()
        s.transport.copies.clear()
    base = gw.streams.last_sequence(int(Stream.GENERAL), None)
    gw.execute(c.SendClearingMessage(("first",)), None)
    gw.flush()
    gw.execute(c.SendClearingMessage(("second",)), None)  # a new segment, not the written one grown
    gw.execute(c.SendClearingMessage(("third",)), None)
    gw.flush()
    for s in subs:
        assert len(s.transport.writes) == 2
        for obj, copy in zip(s.transport.writes, s.transport.copies):
            assert bytes(obj) == copy
        assert [f[2] for f in _frames(s)] == [base + 1, base + 2, base + 3]
    # a batch of broadcasts nobody else interleaved with: every subscriber wrote the very same buffer
    assert len({id(s.transport.writes[1]) for s in subs}) == 1


async def test_subscription_change_mid_batch(gw):
    """A subscriber joining between two broadcasts of one batch gets only the second; the others
    get both, in order."""
    subs = [_session(gw, f"S{i}") for i in range(SHARED_SEGMENT_MIN)]
    for s in subs:
        _subscribe(s, (int(Stream.GENERAL), "BI27"))
    gw.flush()
    late = _session(gw, "LATE")
    for s in subs:
        s.transport.writes.clear()
        s.transport.copies.clear()
    gw.execute(c.SendClearingMessage(("one",)), None)
    _subscribe(late, (int(Stream.GENERAL), "BI27"))
    gw.execute(c.SendClearingMessage(("two",)), None)
    gw.flush()
    first = [f[2] for f in _frames(subs[0])]
    assert len(first) == 2 and first[1] == first[0] + 1
    for s in subs[1:]:
        assert [f[2] for f in _frames(s)] == first
    late_frames = [f for f in _frames(late) if f[0] == int(Kind.BROADCAST)]
    assert [f[2] for f in late_frames] == [first[1]]
