"""The order in which the gateway writes its connections at the end of a read: the connection
whose read it was comes first, its answers before the broadcasts its requests caused on the other
connections (``Gateway.flush``). A client keeping requests in flight then refills its pipeline
while the broadcasts are still being written, instead of waiting behind them.

In-process: real ``Gateway`` and ``Connection`` objects over transports that record every write
in one shared log."""
from __future__ import annotations

import asyncio

from gateway.auth import UserDirectory
from gateway.server import Connection, Gateway
from protocol.framing import FrameDecoder, encode_frame
from protocol.kinds import Kind
from protocol.messages import system as msys
from protocol.registry import encode_message
from protocol.streams import Stream
from tests.conftest import settings
from tests.e2e.test_fanout_segments import Recorder, _session, _subscribe, gw  # noqa: F401 - the fixture

SUBSCRIBERS = 40   # in a set's order the reader would come first about once in 41 reads


class Logged(Recorder):
    """Records each write also in a log shared by every connection: (connection name, kinds)."""

    def __init__(self, name: str, log: list):
        super().__init__()
        self.name, self.log, self.decoder = name, log, FrameDecoder()

    def write(self, data) -> None:
        super().write(data)
        self.log.append((self.name, [f.kind for f in self.decoder.feed(bytes(data))]))


def _logged(gw: Gateway, name: str, log: list, role: str = "participant") -> Connection:
    conn = _session(gw, name, role)
    conn.transport = Logged(name, log)
    return conn


def _message(request_id: int) -> bytes:
    return encode_frame(Kind.TRANSACTION, encode_message(
        msys.SendClearingMessageRequest(lines=[msys.MessageLine(text="order of writes")])), request_id)


async def test_the_readers_answers_are_written_before_the_broadcasts(gw):
    log: list = []
    subs = [_logged(gw, f"S{i}", log) for i in range(SUBSCRIBERS)]
    for s in subs:
        _subscribe(s, (int(Stream.GENERAL), "BI27"))
    op = _logged(gw, "OP", log, "operator")
    for rnd in range(3):
        log.clear()
        op.data_received(_message(10 + rnd) + _message(20 + rnd))   # two requests in one read
        assert log[0] == ("OP", [Kind.REPLY, Kind.REPLY]), log[:3]   # both answers, in one write, first
        assert sorted(name for name, _ in log[1:]) == sorted(s.transport.name for s in subs)
        assert all(kinds == [Kind.BROADCAST, Kind.BROADCAST] for _, kinds in log[1:])


async def test_readers_are_written_in_the_order_they_were_read(tmp_path):
    """Output held back by the group-commit journal until its records are on disk: when it is
    written, the reads' connections come first, in the order they were read."""
    gw = Gateway(settings(stream_heartbeat_seconds=0, journal_path=str(tmp_path / "gw.journal"),
                          journal_flush="group"), UserDirectory({}))
    gw.loop = asyncio.get_running_loop()
    gw.journal.start(gw.loop)   # group commit: a timer syncs (none fires here: the test never awaits)
    log: list = []
    subs = [_logged(gw, f"S{i}", log) for i in range(SUBSCRIBERS)]
    for s in subs:
        _subscribe(s, (int(Stream.GENERAL), "BI27"))
    ops = [_logged(gw, f"OP{i}", log, "operator") for i in range(3)]
    gw.journal.sync()
    gw.flush()
    log.clear()
    for i in (2, 0, 1):
        ops[i].data_received(_message(30 + i))
    assert gw.journal.holding() and log == []      # nothing written before the records are on disk
    gw.journal.sync()
    gw.flush()
    assert [name for name, _ in log[:3]] == ["OP2", "OP0", "OP1"]
    assert all(kinds == [Kind.REPLY] for _, kinds in log[:3])
    assert sorted(name for name, _ in log[3:]) == sorted(s.transport.name for s in subs)
    assert all(kinds == [Kind.BROADCAST] * 3 for _, kinds in log[3:])
    assert gw.readers == {}
    gw.journal.close()
