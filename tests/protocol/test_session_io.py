"""The session machines' own input and output: outboxes with shared segments, input held during a
login, tick (heartbeats and timeouts), pacing under the throttle and reconnection (no sockets)."""
from __future__ import annotations

import pytest

from protocol.framing import FrameDecoder, encode_frame
from protocol.kinds import Flag, Kind
from protocol.messages import session as ms
from protocol.registry import encode_message
from protocol.session import (ClientSession, HeartbeatClock, IdleTimeout, Limits, LoginTimeout, Outbox,
                              RequestReceived, ServerSession, SharedSegment, State, ThrottleWindow, Violation,
                              heartbeat_frame)
from protocol.status import SessionStatus as St


def req(msg, rid=1):
    return encode_frame(msg.__message__.kind, encode_message(msg), rid)


def login():
    return req(ms.LoginRequest(user="U", password="p"))


def active_server(**limits) -> ServerSession:
    s = ServerSession(Limits(**limits), 0.0)
    s.receive_data(login(), 0.0)
    s.login_accepted()
    s.answered()
    return s


# ---------------------------------------------------------------- outbox and shared segments
def test_shared_segment_grows_only_while_it_ends_every_outbox():
    a, b = Outbox(), Outbox()
    seg = SharedSegment.queue(b"one", (a, b))
    assert seg.extend_if_open(b"two")
    assert a.items == [seg] and b.items == [seg] and bytes(seg) == b"onetwo"
    a.append(b"reply")                      # a's output no longer ends with the segment
    assert not seg.extend_if_open(b"three")
    assert bytes(seg) == b"onetwo"
    seg2 = SharedSegment.queue(b"three", (a, b))
    assert a.take() == b"onetworeplythree"
    assert b.take() == b"onetwothree"
    assert not seg2.extend_if_open(b"four"), "a written segment never changes"
    assert bytes(seg2) == b"three"


def test_outbox_take_of_one_segment_is_the_segment_and_closes_it():
    a, b = Outbox(), Outbox()
    seg = SharedSegment.queue(b"x", (a, b))
    data = a.take()
    assert data is seg and not a and len(b) == 1
    assert not seg.extend_if_open(b"y")


def test_outbox_clear_drops_everything_and_closes_the_segment():
    a, b = Outbox(), Outbox()
    seg = SharedSegment.queue(b"x", (a, b))
    a.clear()
    assert not a and a.take() == b""
    assert not seg.extend_if_open(b"y")


def test_server_output_api():
    s = active_server()
    assert not s.has_output and s.data_to_send() == b""
    s.send(b"a")
    other = Outbox()
    seg = SharedSegment.queue(b"b", (s.outbox, other))
    assert s.has_output
    assert s.data_to_send(now=3.0) == b"ab"
    assert s.last_sent == 3.0 and not seg.extend_if_open(b"c")
    s.send(b"dropped")
    s.abort()
    assert not s.has_output and s.state is State.CLOSED


# ---------------------------------------------------------------- input held during a login
def test_every_read_behind_a_login_is_held_and_released_one_read_at_a_time():
    s = ServerSession(Limits(), 0.0)
    q = lambda rid: req(ms.BusinessDateQuery(), rid)  # noqa: E731
    (ev,) = s.receive_data(login() + q(2), 0.0)
    assert isinstance(ev, RequestReceived) and s.state is State.LOGGING_IN
    assert s.receive_data(q(3) + q(4), 0.1) == [] and s.receive_data(q(5), 0.2) == []
    assert s.held_data == [q(3) + q(4), q(5)]
    s.login_accepted()
    batches = [[e.frame.request_id for e in evs] for evs in s.release_held(0.3)]
    assert batches == [[2], [3, 4], [5]]
    assert s.held_data == []


def test_a_refused_login_drops_what_was_held():
    s = ServerSession(Limits(), 0.0)
    s.receive_data(login() + req(ms.BusinessDateQuery(), 2), 0.0)
    s.receive_data(req(ms.BusinessDateQuery(), 3), 0.1)
    s.login_refused()
    assert s.held_data == [] and s.process_held(0.2) == []


def test_the_users_own_throttle_applies_from_the_login():
    s = ServerSession(Limits(throttle_per_second=100), 0.0)
    s.receive_data(login(), 0.0)
    s.login_accepted(throttle_per_second=2)
    evs = s.receive_data(req(ms.BusinessDateQuery()) * 3, 0.5)
    assert [getattr(e, "status", 0) for e in evs] == [0, 0, St.THROTTLED]
    assert s.limits.throttle_per_second == 2


# ---------------------------------------------------------------- tick
def test_login_timeout_at_its_edge():
    s = ServerSession(Limits(login_timeout=2.0), 0.0)
    assert s.tick(2.0) == []                     # the edge itself: not yet
    (ev,) = s.tick(2.001)
    assert isinstance(ev, LoginTimeout) and s.state is State.CLOSED


def test_no_login_timeout_once_logged_in_or_when_unset():
    s = active_server(login_timeout=1.0, heartbeat_interval=100.0)
    assert s.tick(50.0) == []
    assert ServerSession(Limits(heartbeat_interval=100.0), 0.0).tick(50.0) == []


def test_server_heartbeat_is_queued_by_tick():
    s = active_server(heartbeat_interval=1.0)
    assert s.tick(0.99) == [] and not s.has_output
    assert s.tick(1.0) == [] and s.has_output     # exactly one interval of send-silence
    assert s.data_to_send() == heartbeat_frame()


def test_heartbeat_clock_edges():
    c = HeartbeatClock(2.0, 3, 10.0, send_share=0.5)
    assert not c.heartbeat_due(10.99) and c.heartbeat_due(11.0)
    assert c.silent_for(16.0) == 0.0               # exactly three intervals: still alive
    assert c.silent_for(16.5) == 6.5


# ---------------------------------------------------------------- the throttle window
def test_throttle_window_admit_counts_per_second():
    w = ThrottleWindow(2, 0.0)
    assert [w.admit(0.1), w.admit(0.2), w.admit(0.3)] == [1, 2, 3]
    assert w.admit(1.1) == 1                       # a new window from the first request after it


def test_pacing_delays_the_request_over_the_share():
    w = ThrottleWindow(10, 0.0)
    assert [w.delay(0.0, 0.8) for _ in range(8)] == [0.0] * 8
    assert w.delay(0.25, 0.8) == pytest.approx(0.75)  # the 9th waits for the next window
    assert w.delay(1.0, 0.8) == 0.0                   # ...in which it was counted
    assert w.count == 2
    assert ThrottleWindow(0).delay(0.0) == 0.0        # no throttle announced: no pacing


# ---------------------------------------------------------------- client side
def logged_in_client(**reply) -> ClientSession:
    c = ClientSession()
    c.reconnected(0.0)
    rid = c.send(ms.LoginRequest(user="U", password="p"))
    c.data_to_send(0.0)
    fields = dict(heartbeat_interval_ms=1000, idle_heartbeats=3, throttle_per_second=2, business_date="20261123")
    fields.update(reply)
    c.receive_data(encode_frame(Kind.REPLY, encode_message(ms.LoginReply(**fields)), rid, flags=Flag.LAST_SEGMENT),
                   0.0)
    assert c.state is State.ACTIVE
    return c


def test_client_tick_heartbeats_after_half_an_interval_and_detects_silence():
    c = logged_in_client()
    assert c.tick(0.49) == [] and c.data_to_send(0.49) == b""
    assert c.tick(0.5) == []
    (hb,) = FrameDecoder().feed(c.data_to_send(0.5))
    assert hb.kind == Kind.HEARTBEAT
    c.receive_data(heartbeat_frame(), 1.0)
    assert c.tick(4.0) == []                       # silent for exactly 3 intervals: not yet gone
    assert FrameDecoder().feed(c.data_to_send(4.0))[0].kind == Kind.HEARTBEAT
    (idle,) = c.tick(4.01)
    assert isinstance(idle, IdleTimeout) and idle.silent_for == pytest.approx(3.01)


def test_client_pacing_follows_the_announced_throttle():
    c = logged_in_client(throttle_per_second=2)
    assert [c.pace(0.0), c.pace(0.1)] == [0.0, 0.0]
    assert c.pace(0.2) == pytest.approx(0.8)
    assert ClientSession().pace(0.0) == 0.0        # before the login: nothing announced


def test_reconnected_keeps_cursors_and_forgets_the_connection():
    c = logged_in_client()
    bc = encode_frame(Kind.BROADCAST, encode_message(ms.Ack()), 0, stream=1, sequence=7, business_date=20261123)
    c.receive_data(bc, 1.0)
    c.send(ms.BusinessDateQuery())
    c.decoder.feed(bc[:5])                         # half a frame when the connection drops
    c.connection_lost()
    assert c.state is State.CLOSED
    c.reconnected(5.0)
    assert c.state is State.AWAIT_LOGIN and not c.pending and c.data_to_send() == b""
    assert c.decoder.buffered == 0
    assert c.tick(100.0) == []                      # no heartbeats before the next login
    (rp,) = c.resume_points()
    assert (rp.stream, rp.business_date, rp.last_sequence) == (1, 20261123, 7)


def test_violation_still_reported_for_frames_after_login_release():
    s = ServerSession(Limits(), 0.0)
    s.receive_data(login(), 0.0)
    s.receive_data(encode_frame(Kind.REPLY, encode_message(ms.Ack()), 9), 0.1)
    s.login_accepted()
    (evs,) = [e for e in s.release_held(0.2) if e]
    assert isinstance(evs[0], Violation) and evs[0].status == St.WRONG_KIND
