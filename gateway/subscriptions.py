"""Subscriptions, resume replay and recovery queries (UB1, UB3, UQ20, UQ21).

A subscription names a stream (and optionally a broadcast type and a filter key); the stream
instance is the participant's own for dedicated streams. A subscriber that logged in with a resume
point gets what it missed replayed (bounded by ``max_replay``); recovery queries serve a range of
a stream's log. The subscriptions themselves are kept by the fan-out (``gateway.fanout``).
"""
from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

from gateway.fanout import Sub
from gateway.streams import stream_name
from gateway.visibility import directory, filter_hidden
from protocol.framing import with_request_many
from protocol.kinds import Flag
from protocol.messages import session as ms
from protocol.registry import BY_CODE
from protocol.status import SessionStatus as St
from protocol.status import text as status_text
from protocol.streams import Stream

if TYPE_CHECKING:  # pragma: no cover
    from gateway.connection import Connection
    from gateway.server import Gateway

ROLE_STREAMS = {
    "participant": (Stream.GENERAL, Stream.TRADES, Stream.CLEARING, Stream.COLLATERAL),
    "clearing_member": (Stream.GENERAL, Stream.SETTLEMENT),
    "operator": (Stream.GENERAL,),
}


class Subscriptions:
    def __init__(self, gw: "Gateway"):
        self.gw = gw
        self.handles = itertools.count(1)

    def positions(self, conn: "Connection") -> list:
        """The last sequence of every stream the connection's role may subscribe to."""
        streams = self.gw.streams
        return [ms.StreamPosition(stream=stream, business_date=streams.business_date,
                                  last_sequence=streams.last_sequence(stream, conn.participant))
                for stream in ROLE_STREAMS[conn.role]]

    # ------------------------------------------------------------ UB1
    def subscribe(self, conn: "Connection", frame, msg: ms.SubscribeRequest) -> None:
        gw = self.gw
        streams, settings = gw.streams, gw.settings
        rid = frame.request_id
        allowed = ROLE_STREAMS[conn.role]
        statuses = []
        replays: list[bytes] = []
        known = None  # the participants and accounts a filter may name: read once, when a filter needs it
        for item in msg.items:
            st = St.OK
            try:
                stream = Stream(item.stream)
            except ValueError:
                stream = None
            if stream is None:
                st = St.UNKNOWN_STREAM
            elif stream not in allowed:
                st = St.SUBSCRIPTION_NOT_AUTHORISED
            elif item.broadcast and (item.broadcast not in BY_CODE or BY_CODE[item.broadcast].stream != stream_name(stream)):
                st = St.UNKNOWN_STREAM
            elif len(conn.subs) >= settings.max_subscriptions:
                st = St.SUBSCRIPTION_LIMIT
            elif item.filter.strip() and conn.role != "operator":
                known = known or directory(lambda q: gw.core.query(q, gw.context(None)))
                why = filter_hidden(item.filter, conn.participant, *known)
                if why:
                    st = St.SUBSCRIPTION_NOT_AUTHORISED
                    conn.log.info("subscribe_filter_refused", request_id=rid, stream=item.stream, reason=why)
            if st != St.OK:
                statuses.append(ms.SubscriptionStatusItem(handle=0, status=st, stream=item.stream))
                continue
            key = streams.instance(stream, conn.participant)
            handle = next(self.handles)
            sub = Sub(handle, stream, item.broadcast, item.filter)
            conn.subs[handle] = sub
            gw.fanout.add(conn, key, sub)
            last = streams.last_sequence(stream, conn.participant)
            first = last + 1
            resume = conn.resume.pop(stream, None)
            if resume is not None:
                frames, first, st = gw._replay(conn, stream, resume, last)
                replays += frames
            statuses.append(ms.SubscriptionStatusItem(handle=handle, status=st, stream=stream, first_sequence=first,
                                                      last_sequence=last))
        conn.log.info("subscribe", request_id=rid, items=len(msg.items), replayed=len(replays))
        conn.reply(rid, ms.SubscribeReply(items=statuses))
        if replays and not conn.closing:
            # the stored frames, marked REPLAY (0x0004): one copy of the whole, flags patched in place
            conn.queue(with_request_many(replays, 0, Flag.REPLAY))

    def replay(self, conn: "Connection", stream: int, resume: tuple[int, int], last: int) -> tuple[list, int, int]:
        """Frames a resuming subscriber missed (the whole stream instance), bounded by max_replay."""
        streams, max_replay = self.gw.streams, self.gw.settings.max_replay
        rdate, rseq = resume
        today = streams.business_date
        frames: list = []
        if rdate and rdate != today:
            if streams.has_date(rdate):
                (logged, _, _), _, _ = streams.columns(stream, conn.participant, rdate, rseq + 1, None)
                frames += logged
            rseq = 0
        (logged, _, _), first, _ = streams.columns(stream, conn.participant, today, rseq + 1, None)
        frames += logged
        if len(frames) > max_replay:
            conn.log.info("replay_refused", stream=stream, missed=len(frames), limit=max_replay)
            return [], last + 1, St.REPLAY_LIMIT
        return frames, rseq + 1, St.OK

    # ------------------------------------------------------------ UB3
    def unsubscribe(self, conn: "Connection", frame, msg: ms.UnsubscribeRequest) -> None:
        gw = self.gw
        streams = gw.streams
        statuses = []
        for item in msg.items:
            sub = conn.subs.pop(item.handle, None)
            if sub is None:
                statuses.append(ms.SubscriptionStatusItem(handle=item.handle, status=St.UNKNOWN_HANDLE))
                continue
            gw.fanout.remove(conn, streams.instance(sub.stream, conn.participant), sub)
            statuses.append(ms.SubscriptionStatusItem(handle=sub.handle, status=St.OK, stream=sub.stream,
                                                      last_sequence=streams.last_sequence(sub.stream, conn.participant)))
        conn.reply(frame.request_id, ms.SubscribeReply(items=statuses))

    # ------------------------------------------------------------ UQ20
    def recovery(self, conn: "Connection", frame, msg: ms.RecoveryQuery) -> None:
        gw = self.gw
        streams, max_replay = gw.streams, gw.settings.max_replay
        rid = frame.request_id
        try:
            stream = Stream(msg.stream)
        except ValueError:
            gw._reject(conn, rid, "UQ20", St.UNKNOWN_STREAM, status_text(St.UNKNOWN_STREAM), field_offset=4, field="stream")
            return
        if stream not in ROLE_STREAMS[conn.role]:
            gw._reject(conn, rid, "UQ20", St.SUBSCRIPTION_NOT_AUTHORISED, status_text(St.SUBSCRIPTION_NOT_AUTHORISED),
                        field_offset=4, field="stream")
            return
        if not streams.has_date(msg.business_date):
            gw._reject(conn, rid, "UQ20", St.SEQUENCE_OUT_OF_RANGE, f"business date {msg.business_date} not kept",
                        field_offset=8, field="business_date")
            return
        latest = streams.last_sequence(stream, conn.participant) if msg.business_date in (0, streams.business_date) \
            else None
        (logged, codes, keys), first, last = streams.columns(stream, conn.participant, msg.business_date,
                                                             msg.first_sequence, msg.last_sequence or None)
        want = (msg.last_sequence or (latest or last)) - max(1, msg.first_sequence) + 1
        if msg.first_sequence == 0 or (msg.last_sequence and msg.last_sequence < msg.first_sequence):
            gw._reject(conn, rid, "UQ20", St.SEQUENCE_OUT_OF_RANGE, "first_sequence must be 1..last_sequence",
                        field_offset=12, field="first_sequence")
            return
        if want > max_replay:
            gw._reject(conn, rid, "UQ20", St.REPLAY_LIMIT, f"{status_text(St.REPLAY_LIMIT)} ({want} > {max_replay})",
                        field_offset=16, field="last_sequence")
            return
        subs = [s for s in conn.subs.values() if s.stream == stream]
        if any(not s.broadcast and not s.filter for s in subs):
            subs = []  # a whole-stream subscription: every entry matches
        frames = [f for f, c, k in zip(logged, codes, keys) if any(s.matches(c, k) for s in subs)] if subs else logged
        count = len(frames)
        if frames:
            conn.queue(with_request_many(frames, rid, Flag.RECOVERY))
        gw.dirty.add(conn)
        bdate = msg.business_date or streams.business_date
        conn.reply(rid, ms.RecoveryAnswer(stream=stream, business_date=bdate, first_sequence=first,
                                          last_sequence=last, count=count,
                                          latest_sequence=latest if latest is not None else last))

    # ------------------------------------------------------------ UQ21
    def stream_status(self, conn: "Connection", frame, msg) -> None:
        conn.reply(frame.request_id, ms.StreamStatusAnswer(streams=self.positions(conn)))
