"""Hostile peers against the sans-I/O session state machines (hypothesis stateful-style runs).

ServerSession, fed random, truncated, oversized, wrong-kind and mutated frames in arbitrary
chunks, with login outcomes, answers and time passing in between: it raises nothing, emits only
its documented events, never lets a request through before the login is accepted, closes after
every fatal violation, keeps its pending count within the limit and its buffer below one frame.

ClientSession, fed random server frames (replies, rejects, broadcasts with random sequence
numbers, logouts, heartbeats, garbage): it raises nothing, emits only its documented events and
never delivers the same live broadcast (stream, date, sequence) twice.
"""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from protocol.framing import HEADER_SIZE, encode_frame
from protocol.kinds import Flag, Kind
from protocol.messages import session as ms
from protocol.messages import system as sy
from protocol.registry import encode_message
from protocol.session import (Broadcast, ClientSession, GapDetected, HeartbeatReceived, IdleTimeout, Limits,
                              LoggedOut, ProtocolError, Rejected, Reply, RequestReceived, ServerSession, State,
                              Violation)
from protocol.status import SessionStatus as St
from tests.fuzz.conftest import examples, tried
from tests.fuzz.test_frames_and_messages import VALID, chunks, frames

MAX = 4096
RUNS = settings(max_examples=examples(300), deadline=2000, suppress_health_check=[HealthCheck.too_slow,
                                                                        HealthCheck.data_too_large])

LOGIN = encode_frame(Kind.LOGIN, encode_message(ms.LoginRequest(user="U", password="p")), 1)
QUERY = encode_frame(Kind.QUERY, encode_message(ms.BusinessDateQuery()), 2)
HEARTBEAT = encode_frame(Kind.HEARTBEAT, b"UH\x00\x01\x00\x00\x00\x00")

server_steps = st.one_of(
    st.tuples(st.just("bytes"), st.one_of(frames(), st.just(LOGIN), st.just(QUERY), st.just(HEARTBEAT),
                                         st.binary(max_size=200)), st.lists(st.integers(0, 10**5), max_size=4)),
    st.tuples(st.just("accept"), st.none(), st.none()),
    st.tuples(st.just("refuse"), st.none(), st.none()),
    st.tuples(st.just("answer"), st.none(), st.none()),
    st.tuples(st.just("time"), st.floats(0, 5, allow_nan=False), st.none()),
)

SERVER_EVENTS = (RequestReceived, Violation, HeartbeatReceived, IdleTimeout)


@RUNS
@given(steps=st.lists(server_steps, max_size=30), max_pending=st.integers(1, 4), throttle=st.integers(1, 50))
def test_server_session_survives_any_peer(steps, max_pending, throttle):
    tried("ServerSession: step sequences")
    s = ServerSession(Limits(heartbeat_interval=1.0, idle_heartbeats=3, throttle_per_second=throttle,
                             max_pending=max_pending, max_frame_size=MAX), 0.0)
    now = 0.0
    logged_in = False
    for what, arg, cuts in steps:
        if s.state is State.CLOSED:
            break
        if what == "bytes":
            for part in chunks(arg, cuts):
                tried("ServerSession: chunks fed")
                evs = s.receive_data(part, now)
                for e in evs:
                    assert isinstance(e, SERVER_EVENTS), e
                    if isinstance(e, RequestReceived):
                        spec = e.message.__message__
                        assert spec.kind == e.frame.kind
                        if not logged_in:
                            assert e.frame.kind == Kind.LOGIN, "nothing but a login before the login is accepted"
                    if isinstance(e, Violation):
                        assert St(e.status) is not None and e.text
                        if e.fatal:
                            assert s.state is State.CLOSED
                assert s.pending <= max_pending
                assert s.decoder.buffered < MAX
                if s.state is State.CLOSED:
                    break
        elif what == "accept" and s.state is State.LOGGING_IN:
            s.login_accepted()
            logged_in = True
        elif what == "refuse" and s.state is State.LOGGING_IN:
            s.login_refused()
        elif what == "answer":
            s.answered()
        elif what == "time":
            now += arg
            for e in s.tick(now):
                assert isinstance(e, IdleTimeout)
                assert s.state is State.CLOSED
        s.data_to_send()


# ---------------------------------------------------------------- client side
ANSWER = {"login": "UL2", "query": "UA12", "subscribe": "UB2", "recover": "UA20"}


def _server_frame(draw, requests: list[str]) -> bytes:
    kind = draw(st.sampled_from(["reply", "reject", "broadcast", "heartbeat", "logout", "garbage", "mutated",
                                 "recovery"]))
    rid = draw(st.integers(0, 6))
    if kind == "reply":
        # the answer's type matches the request it answers (ids 1.. are the login, then our requests,
        # then the machine's own recovery queries): see test_reply_of_the_wrong_type for the other case
        asked = (["login"] + requests)[rid - 1] if 1 <= rid <= len(requests) + 1 else "recover"
        code = ANSWER[asked]
        flags = draw(st.sampled_from([0, Flag.LAST_SEGMENT]))
        return encode_frame(Kind.REPLY, VALID[code], rid, flags=flags, segment=draw(st.integers(0, 3)),
                            business_date=draw(st.sampled_from([20261123, 20261124])))
    if kind == "reject":
        return encode_frame(Kind.REJECT, VALID["UR2"], rid, session_status=draw(st.sampled_from([int(x) for x in St])))
    if kind in ("broadcast", "recovery"):
        code = draw(st.sampled_from(["BI27", "BI9", "BI30"]))
        return encode_frame(Kind.BROADCAST, VALID[code], rid if kind == "recovery" else 0,
                            flags=Flag.RECOVERY if kind == "recovery" else draw(st.sampled_from([0, Flag.REPLAY])),
                            stream=draw(st.integers(0, 6)), sequence=draw(st.integers(0, 12)),
                            business_date=draw(st.sampled_from([20261120, 20261123, 20261124])))
    if kind == "heartbeat":
        return HEARTBEAT
    if kind == "logout":
        return encode_frame(Kind.LOGOUT, VALID["UO2"], 0, session_status=draw(st.integers(-3000, 0)))
    if kind == "garbage":
        return draw(st.binary(max_size=100))
    return draw(frames())


@st.composite
def server_streams(draw, requests: list[str]):
    return [_server_frame(draw, requests) for _ in range(draw(st.integers(0, 25)))]


@st.composite
def client_cases(draw):
    requests = draw(st.lists(st.sampled_from(["query", "subscribe", "recover"]), max_size=4))
    return requests, draw(server_streams(requests))


CLIENT_EVENTS = (Reply, Rejected, Broadcast, LoggedOut, GapDetected, ProtocolError, HeartbeatReceived)


@RUNS
@given(case=client_cases(), cuts=st.lists(st.integers(0, 10**5), max_size=10))
def test_client_session_survives_any_server(case, cuts):
    tried("ClientSession: server frame sequences")
    requests, frames_in = case
    c = ClientSession(MAX)
    c.send(ms.LoginRequest(user="U", password="p"))
    for r in requests:
        if r == "query":
            c.send(ms.BusinessDateQuery())
        elif r == "subscribe":
            c.send(ms.SubscribeRequest(items=[ms.SubscriptionItem(stream=1), ms.SubscriptionItem(stream=2)]))
        else:
            c.send(ms.RecoveryQuery(stream=1, business_date=20261123, first_sequence=1, last_sequence=5))
    delivered = set()
    data = b"".join(frames_in)
    for part in chunks(data, cuts):
        tried("ClientSession: chunks fed")
        evs = c.receive_data(part)
        for e in evs:
            assert isinstance(e, CLIENT_EVENTS), e
            if isinstance(e, Broadcast) and not e.recovered_for:  # recovery answers may repeat live ones
                key = (e.stream, e.business_date, e.sequence)
                assert key not in delivered, f"broadcast {key} delivered twice"
                delivered.add(key)
        c.data_to_send()
        assert c.decoder.buffered < MAX
        if c.state is State.CLOSED and evs and isinstance(evs[-1], ProtocolError):
            break


def test_reply_of_the_wrong_type():
    """A REPLY to the login (or a subscribe / recovery query) carrying another message is a protocol error."""
    c = ClientSession(MAX)
    c.send(ms.LoginRequest(user="U", password="p"))
    evs = c.receive_data(encode_frame(Kind.REPLY, VALID["UA12"], 1, flags=Flag.LAST_SEGMENT))
    assert evs and isinstance(evs[0], ProtocolError)


def test_recovery_flag_without_request():
    """A RECOVERY-flagged broadcast that answers no pending recovery query is not delivered as live."""
    c = ClientSession(MAX)
    c.send(ms.LoginRequest(user="U", password="p"))
    c.receive_data(encode_frame(Kind.REPLY, VALID["UL2"], 1, flags=Flag.LAST_SEGMENT))
    b = encode_frame(Kind.BROADCAST, VALID["BI27"], 0, stream=1, sequence=1, business_date=20261123)
    live = [e for e in c.receive_data(b) if isinstance(e, Broadcast)]
    odd = [e for e in c.receive_data(encode_frame(Kind.BROADCAST, VALID["BI27"], 0, flags=Flag.RECOVERY, stream=1,
                                                   sequence=1, business_date=20261123)) if isinstance(e, Broadcast)]
    assert len(live) == 1
    assert not odd or odd[0].recovered_for, "not delivered again as if it were live"
