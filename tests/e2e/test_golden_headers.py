"""The golden vectors carry the headers a live gateway sends (protocol/golden.py, ``header``): one
exchange over a real socket gives a frame of every kind a gateway sends, each compared field by field
with the vector of its message. A request id or sequence number is the live one where the vector's
is set, and zero where the vector's is zero."""
from __future__ import annotations

import json

import pytest

from protocol.framing import HEADER_SIZE, Frame, encode_frame
from protocol.golden import DEFAULT_PATH, REJECTED_FIELD, REJECTED_REQUEST, SAMPLE_BUSINESS_DATE
from protocol.kinds import Kind
from protocol.messages import dcass as d
from protocol.messages import session as ms
from protocol.messages import system as sy
from protocol.registry import encode_message, field_offset
from protocol.streams import Stream
from tests.conftest import settings
from tests.raw import Raw

VECTORS = {v["code"]: v for v in json.loads(DEFAULT_PATH.read_text())["vectors"]}


@pytest.fixture
def gateway_settings():
    return settings(heartbeat_interval=0.5)  # a heartbeat comes soon after the gateway falls silent


def assert_as_vector(live: Frame, request_id: int = 0) -> None:
    vector = VECTORS[live.code]
    want = dict(vector["header"])
    assert live.kind == Kind[vector["kind"]], live.code
    got = {name: getattr(live, name) for name in want}
    if want["request_id"]:
        assert request_id, "the vector carries a request id: the live frame must answer one"
        want["request_id"] = request_id
    if want["sequence"]:
        assert got["sequence"] >= 1
        want["sequence"] = got["sequence"]
    assert got == want, live.code


async def test_the_vectors_business_date_is_the_test_gateways(gateway):
    assert gateway.streams.business_date == SAMPLE_BUSINESS_DATE


async def test_answers_broadcasts_rejects_and_the_logout_have_the_headers_of_their_vectors(gateway):
    cp = await Raw.open(gateway.port)
    op = await Raw.open(gateway.port)
    try:
        assert_as_vector(await cp.login("CPA01", request_id=7), 7)                       # UL2
        cp.send_msg(ms.SubscribeRequest(items=[ms.SubscriptionItem(stream=int(Stream.GENERAL))]), 8)
        assert_as_vector(await cp.next_of(Kind.REPLY), 8)                               # UB2
        cp.send_msg(ms.BusinessDateQuery(), 9)
        answer = await cp.next_of(Kind.REPLY)
        assert answer.code == "UA12"
        assert_as_vector(answer, 9)

        await op.login("OPER1", request_id=1)
        op.send_msg(sy.SendClearingMessageRequest(lines=[sy.MessageLine(text="golden")]), 10)
        ack = await op.next_of(Kind.REPLY)
        assert ack.code == "UR1"
        assert_as_vector(ack, 10)
        broadcast = await cp.next_of(Kind.BROADCAST)
        assert broadcast.code == "BI27" and broadcast.sequence == 1
        assert_as_vector(broadcast)

        # the REJECT vector's own case: CC101 with an account type the gateway does not know
        request = d.OpenAccountRequest(account_id="GOLDEN1", account_type=d.AccountType.HOUSE, clearing_house="HKCC")
        frame = bytearray(encode_frame(Kind.TRANSACTION, encode_message(request), 11))
        frame[HEADER_SIZE + field_offset(d.OpenAccountRequest, "account_type")] = 0xEE
        cp.send(bytes(frame))
        reject = await cp.next_of(Kind.REJECT)
        assert (Raw.decode(reject).request_code, Raw.decode(reject).field) == (REJECTED_REQUEST, REJECTED_FIELD)
        assert_as_vector(reject, 11)

        cp.send_msg(ms.LogoutRequest(), 12)
        logout = await cp.next_of(Kind.LOGOUT)
        assert logout.code == "UO2"
        assert_as_vector(logout, 12)
    finally:
        cp.close()
        op.close()


async def test_a_live_heartbeat_has_the_header_of_its_vector(gateway):
    r = await Raw.open(gateway.port)
    try:
        await r.login("CPA01", request_id=3)
        heartbeat = await r.next_of(Kind.HEARTBEAT, timeout=3.0)
        assert heartbeat.code == "UH1"
        assert_as_vector(heartbeat)
    finally:
        r.close()


def test_every_vector_header_follows_its_frame_kind():
    for code, v in VECTORS.items():
        h, kind = v["header"], Kind[v["kind"]]
        frame = bytes.fromhex(v["frame_hex"])
        assert frame[5] == kind
        if kind == Kind.REPLY:
            assert (h["segment"], h["flags"], h["business_date"]) == (1, 1, SAMPLE_BUSINESS_DATE), code
        elif kind == Kind.BROADCAST:
            assert h["request_id"] == 0 and h["stream"] and h["sequence"] == 1, code
            assert h["business_date"] == SAMPLE_BUSINESS_DATE, code
        elif kind == Kind.HEARTBEAT:
            assert not any(h.values()), code
        elif kind in (Kind.LOGIN, Kind.TRANSACTION, Kind.QUERY, Kind.SUBSCRIBE) or code == "UO1":
            assert h["request_id"] and not any(val for name, val in h.items() if name != "request_id"), code


def test_the_client_machine_sends_the_headers_of_the_request_vectors():
    """The SDK's session machine (protocol/session.py) sets a request's id and nothing else; its
    heartbeat's header is all zero."""
    from protocol.framing import FrameDecoder
    from protocol.session import ClientSession
    c = ClientSession()
    rid = c.send(ms.LoginRequest(user="CPA01", password="pass-CPA01"))
    c.send_heartbeat()
    frames = FrameDecoder(1 << 20).feed(c.data_to_send())
    assert [f.code for f in frames] == ["UL1", "UH1"]
    assert_as_vector(frames[0], rid)
    assert_as_vector(frames[1])
