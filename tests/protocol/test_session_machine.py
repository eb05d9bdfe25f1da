"""The sans-I/O session machines, driven with bytes and injected time (no sockets)."""
from __future__ import annotations

from protocol.framing import FrameDecoder, encode_frame
from protocol.kinds import Flag, Kind
from protocol.messages import session as ms
from protocol.messages import system as sy
from protocol.registry import encode_message
from protocol.session import (Broadcast, ClientSession, GapDetected, HeartbeatReceived, IdleTimeout, Limits,
                              Rejected, Reply, RequestReceived, ServerSession, State, Violation)
from protocol.status import SessionStatus as St


def req(msg, rid=1, kind=None):
    return encode_frame(kind or msg.__message__.kind, encode_message(msg), rid)


def login():
    return req(ms.LoginRequest(user="U", password="p"))


def test_server_first_frame_must_be_login():
    s = ServerSession(Limits(), 0.0)
    (v,) = s.receive_data(req(ms.BusinessDateQuery(), 5), 0.0)
    assert isinstance(v, Violation) and v.status == St.NOT_LOGGED_IN and v.fatal and v.request_id == 5
    assert s.state is State.CLOSED


def test_server_holds_frames_after_login_until_accepted():
    s = ServerSession(Limits(), 0.0)
    evs = s.receive_data(login() + req(ms.BusinessDateQuery(), 2), 0.0)
    assert [type(e) for e in evs] == [RequestReceived]  # the query waits behind the login
    assert s.state is State.LOGGING_IN
    assert s.receive_data(req(ms.BusinessDateQuery(), 3), 0.05) == []  # so does a later read
    s.login_accepted()
    assert [e.frame.request_id for e in s.process_held(0.1)] == [2, 3]
    (e,) = s.receive_data(req(ms.BusinessDateQuery(), 4), 0.1)
    assert isinstance(e, RequestReceived) and e.frame.request_id == 4
    (v,) = s.receive_data(login(), 0.2)
    assert v.status == St.ALREADY_LOGGED_IN and not v.fatal


def test_server_throttle_window():
    s = ServerSession(Limits(throttle_per_second=3), 0.0)
    s.receive_data(login(), 0.0)
    s.login_accepted()
    q = req(ms.BusinessDateQuery())
    evs = s.receive_data(q * 7, 0.5)
    assert [getattr(e, "status", 0) for e in evs] == [0, 0, 0, St.THROTTLED, St.THROTTLED, St.THROTTLED,
                                                       St.THROTTLE_DISCONNECT]
    s2 = ServerSession(Limits(throttle_per_second=3), 0.0)
    s2.receive_data(login(), 0.0)
    s2.login_accepted()
    assert all(isinstance(e, RequestReceived) for e in s2.receive_data(q * 3, 0.1))
    assert all(isinstance(e, RequestReceived) for e in s2.receive_data(q * 3, 1.2))  # a new window


def test_server_throttle_window_begins_at_the_first_request_not_at_the_connection():
    """A login that took most of a second does not cut the first window short: the window begins
    at the first request after the login, and requests within a second of it share it."""
    s = ServerSession(Limits(throttle_per_second=3), 0.0)
    s.receive_data(login(), 0.0)
    s.login_accepted()
    q = req(ms.BusinessDateQuery())
    assert all(isinstance(e, RequestReceived) for e in s.receive_data(q * 3, 0.9))
    evs = s.receive_data(q * 2, 1.1)     # 1.1 s after the connection, 0.2 s after the window began
    assert [e.status for e in evs] == [St.THROTTLED, St.THROTTLED]
    assert all(isinstance(e, RequestReceived) for e in s.receive_data(q * 3, 1.95))   # a second after: a new window


def test_server_heartbeat_and_idle():
    s = ServerSession(Limits(heartbeat_interval=1.0, idle_heartbeats=3), 0.0)
    s.receive_data(login(), 0.0)
    s.login_accepted()
    assert s.tick(0.5) == [] and s.data_to_send() == b""
    assert s.tick(1.0) == []
    (hb,) = FrameDecoder().feed(s.data_to_send())
    assert hb.kind == Kind.HEARTBEAT
    assert isinstance(s.receive_data(encode_frame(Kind.HEARTBEAT, hb.payload), 2.9)[0], HeartbeatReceived)
    assert s.tick(5.8) == []
    (idle,) = s.tick(6.0)
    assert isinstance(idle, IdleTimeout) and s.state is State.CLOSED


def test_server_pending_limit_and_wrong_kind():
    s = ServerSession(Limits(max_pending=2), 0.0)
    s.receive_data(login(), 0.0)
    s.login_accepted()
    s.answered()
    evs = s.receive_data(req(ms.BusinessDateQuery()) * 3, 0.1)
    assert [type(e) for e in evs] == [RequestReceived, RequestReceived, Violation]
    assert evs[2].status == St.TOO_MANY_PENDING
    s.answered()
    (v,) = s.receive_data(encode_frame(Kind.REPLY, encode_message(ms.Ack()), 9), 0.2)
    assert v.status == St.WRONG_KIND


def bcast(seq, text="x", date=20261123, stream=1, flags=0, rid=0):
    msg = sy.ClearingMessageBroadcast(number=seq, lines=[sy.MessageLine(text=text)])
    return encode_frame(Kind.BROADCAST, encode_message(msg), rid, stream=stream, sequence=seq, business_date=date,
                        flags=flags)


def active_client(auto_recover=True, whole=True):
    c = ClientSession(auto_recover=auto_recover)
    rid = c.send(ms.LoginRequest(user="U", password="p"))
    reply = ms.LoginReply(max_replay=2, business_date="20261123")
    c.receive_data(encode_frame(Kind.REPLY, encode_message(reply), rid, flags=Flag.LAST_SEGMENT))
    rid = c.send(ms.SubscribeRequest(items=[ms.SubscriptionItem(stream=1, broadcast="" if whole else "BI27")]))
    st = ms.SubscribeReply(items=[ms.SubscriptionStatusItem(handle=1, stream=1, first_sequence=1, last_sequence=0)])
    c.receive_data(encode_frame(Kind.REPLY, encode_message(st), rid, flags=Flag.LAST_SEGMENT, business_date=20261123))
    c.data_to_send()
    return c


def test_client_drops_duplicates_and_keeps_order():
    c = active_client()
    evs = c.receive_data(bcast(1) + bcast(2) + bcast(2) + bcast(1) + bcast(3))
    assert [e.sequence for e in evs if isinstance(e, Broadcast)] == [1, 2, 3]


def test_client_fills_gap_by_bounded_recovery_before_delivering_later():
    c = active_client()
    evs = c.receive_data(bcast(1) + bcast(6))
    assert [e.sequence for e in evs] == [1]
    (q,) = FrameDecoder().feed(c.data_to_send())
    assert q.payload[:4] == ms.RecoveryQuery.TYPE
    rq = ms.RecoveryQuery.__record__.decode(q.payload, 4)[0]
    assert (rq.first_sequence, rq.last_sequence) == (2, 3)  # max_replay 2
    ans = lambda first, last: encode_frame(Kind.REPLY, encode_message(ms.RecoveryAnswer(
        stream=1, first_sequence=first, last_sequence=last, count=last - first + 1)), q.request_id,
        flags=Flag.LAST_SEGMENT)
    evs = c.receive_data(bcast(2, flags=Flag.RECOVERY, rid=q.request_id) + bcast(3, flags=Flag.RECOVERY,
                                                                             rid=q.request_id) + ans(2, 3))
    assert [e.sequence for e in evs] == [2, 3]
    (q2,) = FrameDecoder().feed(c.data_to_send())
    rq2 = ms.RecoveryQuery.__record__.decode(q2.payload, 4)[0]
    assert (rq2.first_sequence, rq2.last_sequence) == (4, 5)
    evs = c.receive_data(bcast(7))  # live, held back while recovering
    assert evs == []
    ans2 = encode_frame(Kind.REPLY, encode_message(ms.RecoveryAnswer(stream=1, first_sequence=4, last_sequence=5,
                                                                     count=2)), q2.request_id, flags=Flag.LAST_SEGMENT)
    evs = c.receive_data(bcast(4, flags=Flag.RECOVERY, rid=q2.request_id) + bcast(5, flags=Flag.RECOVERY,
                                                                              rid=q2.request_id) + ans2)
    assert [e.sequence for e in evs] == [4, 5, 6, 7]


def test_client_reports_gap_when_recovery_refused():
    c = active_client()
    c.receive_data(bcast(1) + bcast(4))
    (q,) = FrameDecoder().feed(c.data_to_send())
    rej = encode_frame(Kind.REJECT, encode_message(ms.Reject(request_code="UQ20", text="no")), q.request_id,
                       session_status=St.SEQUENCE_OUT_OF_RANGE)
    evs = c.receive_data(rej)
    assert isinstance(evs[0], GapDetected) and (evs[0].first, evs[0].last) == (2, 3)
    assert [e.sequence for e in evs[1:]] == [4]


def test_filtered_subscription_gaps_are_not_gaps():
    c = active_client(whole=False)
    evs = c.receive_data(bcast(1) + bcast(5))
    assert [e.sequence for e in evs] == [1, 5] and c.data_to_send() == b""


def test_new_business_date_restarts_numbering():
    c = active_client()
    evs = c.receive_data(bcast(1) + bcast(2) + bcast(1, date=20261124) + bcast(1))
    assert [(e.business_date, e.sequence) for e in evs] == [(20261123, 1), (20261123, 2), (20261124, 1)]


def test_client_reply_and_reject_pairing():
    c = active_client()
    rid = c.send(ms.BusinessDateQuery())
    (r,) = c.receive_data(encode_frame(Kind.REPLY, encode_message(ms.BusinessDateAnswer(business_date="20261123")),
                                       rid, flags=Flag.LAST_SEGMENT))
    assert isinstance(r, Reply) and r.last and r.message.business_date == "20261123"
    rid = c.send(ms.BusinessDateQuery())
    (j,) = c.receive_data(encode_frame(Kind.REJECT, encode_message(ms.Reject(request_code="UQ12", field="x",
                                                                              text="t")), rid,
                                       session_status=-2100, business_status=-700070, field_offset=8))
    assert isinstance(j, Rejected) and (j.business_status, j.field_offset, j.field) == (-700070, 8, "x")
