"""A recorded session over a real loopback socket, read by tshark with the shipped dissector: login,
subscription, an injected deal and its broadcasts, a recovery query, a rejected request, logout.
Every frame the gateway read or wrote is in the file and decodes completely, in both directions."""
from __future__ import annotations

import asyncio
import struct

import pytest

from clients import RequestRejected
from gateway.recording import Recorder
from protocol.framing import FrameDecoder, encode_frame
from protocol.kinds import Kind
from protocol.messages import session as ms
from protocol.registry import code_of, decode_message, encode_message
from protocol.streams import Stream
from tests import tshark
from tests.conftest import settings
from tests.e2e.test_dcass_trade_information import deal, series
from tests.gateway.test_recording import packets
from tests.raw import Raw


@pytest.fixture
def gateway_settings(tmp_path):
    return settings(record_path=str(tmp_path / "session.pcapng"))


def frames_of(path) -> list[tuple[tuple[int, int], int, str]]:
    """((source port, destination port), kind, code) of every frame in the recording, decoded in Python
    from each direction's reassembled bytes."""
    streams: dict[tuple, bytearray] = {}
    for p in packets(path):
        if p["data"]:
            streams.setdefault((p["sport"], p["dport"]), bytearray()).extend(p["data"])
    out = []
    for direction, data in sorted(streams.items()):
        for f in FrameDecoder().feed(bytes(data)):
            decode_message(f.payload)  # every frame the gateway exchanged is a valid message
            out.append((direction, f.kind, code_of(f.payload[:4])))
    return out


async def test_a_recorded_session_decodes_completely(gateway, connect, operator, tmp_path):
    tshark.require_tshark()
    a = await connect("CPA01")
    await a.subscribe(Stream.TRADES, Stream.CLEARING)
    key = await series(a, "HSI DEC26")
    booked = await deal(operator, key, 25010, 3, "CPA01", "CPB02")
    bd6 = (await a.next_broadcast(code="BD6")).message
    answer, recovered = await a.recover(Stream.TRADES, 1)
    assert answer.count == 1 and recovered
    with pytest.raises(RequestRejected):
        await deal(operator, key, 0, 1, "CPA01", "CPB02")  # price 0: rejected with its field
    await a.close()
    await operator.close()
    await asyncio.sleep(0.05)
    await gateway.stop()
    path = tmp_path / "session.pcapng"

    expected = frames_of(path)
    codes = {c for _, _, c in expected}
    assert {"UL1", "UL2", "UB1", "UB2", "EC101", "CA100", "BD6", "BD40", "UQ20", "UA20", "UR2", "UO1"} <= codes, codes
    rows = tshark.run(path, "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=,", "-e", "tcp.srcport",
                      "-e", "tcp.dstport", "-e", "hkpost.kind", "-e", "hkpost.type", "-e", "_ws.malformed", "-e", "_ws.expert.group",
                      ports=str(gateway.port)).splitlines()
    decoded = []
    for row in rows:
        sport, dport, kinds, types, malformed, groups = (row.split("\t") + [""] * 6)[:6]
        assert malformed == "", row
        for kind, code in zip(kinds.split(",") if kinds else [], types.split(",") if types else []):
            decoded.append(((int(sport), int(dport)), int(kind), code))
    assert sorted(decoded) == sorted(expected)  # every frame of both directions, none invented
    for direction in {d for d, _, _ in expected}:  # and in order in each direction of each connection
        assert [x for x in decoded if x[0] == direction] == [x for x in expected if x[0] == direction]

    packets_ = tshark.pdml(path, ports=str(gateway.port))
    assert all(p.lua_errors == [] and tshark.malformed(p) == [] for p in packets_)
    trade_frames = [fr for p in packets_ for fr in p.frames if any(f.show == "BD6" for f in fr)]
    assert trade_frames
    shown = {f.name: f.show for f in tshark.values(trade_frames[0])}
    t = bd6.trade
    assert shown["hkpost.trade_item.trade_number"] == str(t.trade_number)
    assert shown["hkpost.trade_item.deal_price"] == "25010"
    assert shown["hkpost.trade_item.account_id"] == t.account_id
    assert shown["hkpost.trade_item.series_symbol"] == "HSI DEC26"
    assert shown["hkpost.trade_item.side"] == str(int(t.side))
    assert t.trade_number in {x.trade_number for x in booked.trades}
    verbose = tshark.run(path, "-V", "-Y", "hkpost.type == \"UR2\"", ports=str(gateway.port))
    assert "session_status: BUSINESS_REJECT (-2100)" in verbose and "INVALID_PRICE" in verbose


async def test_recording_keeps_what_a_client_sends_while_its_login_is_checked(tmp_path):
    """Bytes are recorded where they are read: what is pipelined behind the login (held while the
    password is checked) is in the file, and an unframeable frame is shown malformed."""
    from gateway.server import Gateway
    gw = Gateway(settings(record_path=str(tmp_path / "r.pcapng"), record_max_bytes=1 << 20, record_files=2))
    await gw.start()
    bad = struct.pack(">I", 5) + b"\1" * 4  # cannot be framed: the gateway closes the connection
    try:
        raw = await Raw.open(gw.port)
        raw.send(encode_frame(Kind.LOGIN, encode_message(ms.LoginRequest(user="CPA01", password="pass-CPA01")), 1) + bad)
        assert await raw.closed()
        raw.writer.close()
    finally:
        await gw.stop()
    assert isinstance(gw.recorder, Recorder)
    sent = b"".join(p["data"] for p in packets(tmp_path / "r.pcapng") if p["data"] and p["dport"] == gw.port)
    assert sent.endswith(bad)
    got = [p["data"] for p in packets(tmp_path / "r.pcapng") if p["data"] and p["sport"] == gw.port]
    answers = FrameDecoder().feed(b"".join(got))
    assert (answers[-1].kind, answers[-1].session_status) == (Kind.REJECT, -47)  # and what the gateway answered
    if tshark.shutil.which("tshark"):
        bad_packets = [p for p in tshark.pdml(tmp_path / "r.pcapng", ports=str(gw.port)) if tshark.malformed(p)]
        assert len(bad_packets) == 1 and "cannot be framed" in tshark.malformed(bad_packets[0])[0]
