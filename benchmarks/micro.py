"""In-process cost of the gateway's hot paths, without sockets: ``python -m benchmarks.micro``.

A real ``Gateway`` and logged-in ``Connection`` objects with a transport that only counts bytes;
request frames are fed to ``data_received`` in batches as the event loop would. It isolates the
server's CPU per operation from the machine's scheduling noise (use it to judge an optimisation
before the socket benchmarks: each figure is the best of ``--repeat`` timings, which filters out
the other work of a shared machine).
"""
from __future__ import annotations

import argparse
import asyncio
import gc
import time

from gateway.config import Settings
from protocol.framing import encode_frame
from protocol.kinds import Kind
from protocol.messages import session as ms
from protocol.messages import system as msys
from protocol.registry import encode_message
from protocol.streams import Stream

from .loadgen import TEXT


class NullTransport:
    def __init__(self):
        self.bytes = 0
        self.writes = 0

    def write(self, data) -> None:
        self.bytes += len(data)
        self.writes += 1

    def get_write_buffer_size(self) -> int:
        return 0

    def get_extra_info(self, name, default=None):
        return {"peername": ("127.0.0.1", 1), "sockname": ("127.0.0.1", 7600)}.get(name, default)

    def is_closing(self) -> bool:
        return False

    def can_write_eof(self) -> bool:
        return False

    def close(self) -> None:
        pass

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


def _gateway(record: str | None = None):
    from gateway.server import Gateway
    from gateway.auth import User, UserDirectory
    s = Settings(host="127.0.0.1", port=0, stream_heartbeat_seconds=0, start_business_time="2026-11-23T09:00:00",
                 freeze_clock=True, throttle_per_second=10**9, max_pending=100000, record_path=record,
                 record_max_bytes=1 << 30, record_files=1)
    users = UserDirectory({})
    return Gateway(s, users), User


def _connect(gw, User, name: str, role: str):
    from gateway.server import Connection
    c = Connection(gw)
    c.connection_made(NullTransport())
    user = User(user=name, password_hash="", role=role, participant=name if role == "participant" else "")
    c.user, c.role, c.participant = user, role, user.participant
    gw.sessions[name] = c
    c.machine.login_accepted()
    gw.monitor.logged_in(c, ms.LoginRequest(user=name), 0)  # the session's counters and activity log, as at login
    return c


def _time(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        gc.collect()
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


async def _main(n: int, batch: int, subs: int, repeat: int, record: str | None = None) -> dict:
    gw, User = _gateway(record)
    flush = gw.recorder.flush if gw.recorder is not None else (lambda: None)  # recording: its writes are timed too
    gw.loop = asyncio.get_running_loop()
    if gw.settings.gc_threshold:  # as Gateway.start sets it
        gc.set_threshold(gw.settings.gc_threshold, *gc.get_threshold()[1:])
    res = {}
    # queries: UQ12, batch frames per data_received
    c = _connect(gw, User, "Q1", "participant")
    q = encode_frame(Kind.QUERY, encode_message(ms.BusinessDateQuery()), 1)
    chunk = q * batch

    def queries():
        for _ in range(n // batch):
            c.data_received(chunk)
        flush()
    t = _time(queries, repeat)
    res["query_us"] = round(min(t) * 1e6 / n, 2)
    # the same without the session monitor (gateway/monitor.py), and watched (its output recorded too)
    stats, c.stats = c.stats, None
    t = _time(queries, repeat)
    res["query_us_unmonitored"] = round(min(t) * 1e6 / n, 2)
    c.stats = stats
    gw.faults.tap(c)
    t = _time(queries, repeat)
    res["query_us_watched"] = round(min(t) * 1e6 / n, 2)
    # fan-out: EC3 from the operator to subs subscribers of BI27
    op = _connect(gw, User, "OP", "operator")
    for i in range(subs):
        s = _connect(gw, User, f"S{i}", "participant")
        s.data_received(encode_frame(Kind.SUBSCRIBE, encode_message(ms.SubscribeRequest(items=[
            ms.SubscriptionItem(stream=int(Stream.GENERAL), broadcast="BI27")])), 1))
    e = encode_frame(Kind.TRANSACTION, encode_message(msys.SendClearingMessageRequest(lines=[msys.MessageLine(text=TEXT)])), 1)
    echunk = e * batch
    m = max(batch, n // 4)

    def publish():
        for _ in range(m // batch):
            op.data_received(echunk)
        flush()
    t = _time(publish, repeat)
    res["publish_us"] = round(min(t) * 1e6 / m, 2)
    res["per_delivery_us"] = round(min(t) * 1e6 / (m * max(1, subs)), 3)
    # replay: a resuming subscriber of the whole general stream
    last = gw.streams.last_sequence(Stream.GENERAL, None)
    r = _connect(gw, User, "R", "participant")
    sub = encode_frame(Kind.SUBSCRIBE, encode_message(ms.SubscribeRequest(items=[
        ms.SubscriptionItem(stream=int(Stream.GENERAL))])), 1)
    gw.settings.max_replay = 10**9

    def replay():
        r.resume = {int(Stream.GENERAL): (gw.streams.business_date, 0)}
        r.subs.clear()
        r.by_stream.clear()
        r.data_received(sub)
    t = _time(replay, repeat)
    res["replay_msgs_per_s"] = round(last / min(t))
    res["replayed"] = last
    # recovery: UQ20 ranges of 10,000 over the same stream, by a subscriber of the whole stream
    rq = [encode_frame(Kind.QUERY, encode_message(ms.RecoveryQuery(stream=int(Stream.GENERAL), business_date=0,
                                                                   first_sequence=a, last_sequence=min(last, a + 9999))), 1)
          for a in range(1, last + 1, 10000)]

    def recover():
        for f in rq:
            r.data_received(f)
    t = _time(recover, repeat)
    res["recovery_msgs_per_s"] = round(last / min(t))
    if gw.recorder is not None:
        res.update(_recording(gw.recorder, repeat))
    return res


def _recording(rec, repeat: int, n: int = 20000, size: int = 200) -> dict:
    """The recorder alone: one recorded write (the hot path: a list append) and one packet built
    and written (the batch, off the hot path), for writes of ``size`` bytes."""
    conv = rec.connection(("127.0.0.1", 50001), ("127.0.0.1", 7600))
    rec.flush()
    data = bytes(size)
    from gateway import recording
    limits = recording.FLUSH_ENTRIES, recording.FLUSH_BYTES
    recording.FLUSH_ENTRIES = recording.FLUSH_BYTES = n * size + 1  # no flush inside the timed appends

    def append():
        for _ in range(n):
            conv.sent(data)
    try:
        t_append = []
        t_flush = []
        for _ in range(repeat):
            t_append += _time(append, 1)
            t_flush += _time(rec.flush, 1)
    finally:
        recording.FLUSH_ENTRIES, recording.FLUSH_BYTES = limits
    return {"record_append_us": round(min(t_append) * 1e6 / n, 3),
            "record_packet_us": round(min(t_flush) * 1e6 / n, 3)}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.micro")
    ap.add_argument("-n", type=int, default=50000)
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--subs", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--record", metavar="FILE.pcapng", help="with session recording to this file (its cost)")
    a = ap.parse_args(argv)
    from gateway.logs import configure
    configure("warning", "console")
    print(asyncio.run(_main(a.n, a.batch, a.subs, a.repeat, a.record)))


if __name__ == "__main__":
    main()
