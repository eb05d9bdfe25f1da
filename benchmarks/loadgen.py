"""The load generator: runs in its own process and drives one scenario against one target.

Offered load is a schedule: request ``j`` of a run is due at ``t0 + j / rate``. A sender wakes
every ``tick_us`` (a spinning loop, so it is late by at most one tick), queues what has fallen due
on its connection and writes it in one ``write``; latency is measured from the moment a request
was *due*, not from when it could be sent, so a stalled server or a full window shows up as
latency instead of silently lowering the offered load (no coordinated omission). With ``rate = 0``
the driver is closed-loop instead: each connection keeps ``window`` requests in flight; that
measures capacity, and its latencies are measured from the send.
"""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from protocol.kinds import Kind
from protocol.messages import session as ms
from protocol.messages import system as msys
from protocol.registry import encode_message
from protocol.status import SessionStatus as St
from protocol.streams import Stream

from .hist import Histogram
from .procstat import Sampler, per_op
from .wire import BROADCAST, REJECT, Conn, Template, business_date, login, now_ns, stream_last

TEXT = "hkpost benchmark broadcast: the quick brown fox jumps over the lazy dog 0123456789"[:80]


@dataclass
class Run:
    """What one measured run produced."""
    duration: float
    ops: int = 0                 # completed operations inside the window (replies, deliveries, frames)
    errors: int = 0              # rejects
    issued: int = 0
    hist: Histogram = field(default_factory=Histogram)
    server: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)

    def result(self) -> dict:
        d = {"duration_s": round(self.duration, 4), "ops": self.ops, "throughput": round(self.ops / self.duration, 1)
             if self.duration else 0.0, "errors": self.errors, "issued": self.issued,
             "latency_us": self.hist.summary(), "hist": self.hist.to_dict()}
        d.update(self.server)
        d.update(self.extra)
        return d


class Driver:
    """Issues requests from one template on a set of connections, open-loop or closed-loop."""

    def __init__(self, conns: list[Conn], tpl: Template, window: int, tick_us: int = 100):
        self.conns = conns
        self.tpl = tpl
        self.window = window
        self.tick_ns = tick_us * 1000
        self.dues: list[int] = []   # due time (ns) of request id j + 1
        self.run: Run | None = None
        self.t_end = 0
        self.issuing = False
        self.spin = False  # closed loop: spinning the loop (to keep the CPU awake) only competes for it
        for c in conns:
            c.inflight = 0
            c.backlog = []
            c.on_reply = self._on_reply_for(c)
            c.after_chunk = self._after_chunk_for(c)

    def _on_reply_for(self, c: Conn):
        dues = self.dues

        def on_reply(rid: int, kind: int, t: int) -> None:
            if not 0 < rid <= len(dues):
                return
            c.inflight -= 1
            r = self.run
            if r is None or rid <= self.first_rid:
                return
            if kind == REJECT:
                r.errors += 1
                return
            r.hist.record(t - dues[rid - 1])
            if t <= self.t_end:
                r.ops += 1
        return on_reply

    def _after_chunk_for(self, c: Conn):
        def after(t: int) -> None:
            self._top_up(c, t)
        return after

    def _top_up(self, c: Conn, t: int) -> None:
        room = self.window - c.inflight
        if room <= 0:
            return
        frame = self.tpl.frame
        if self.rate:
            bl = c.backlog
            if not bl:
                return
            take = bl[:room]
            del bl[:room]
            c.write(b"".join([frame(rid, rid) for rid in take]))
            c.inflight += len(take)
        elif self.issuing and t < self.t_end:
            dues = self.dues
            rid0 = len(dues) + 1
            dues.extend([t] * room)
            c.write(b"".join([frame(rid, rid) for rid in range(rid0, rid0 + room)]))
            c.inflight += room
            self.run.issued += room

    async def measure(self, rate: float, duration: float, sampler: Sampler | None, drain: float = 5.0,
                      wait_for=None) -> Run:
        """One run: issue for ``duration`` seconds, then wait for the answers (at most ``drain`` s)."""
        loop = asyncio.get_running_loop()
        self.rate = rate
        r = self.run = Run(duration)
        self.first_rid = len(self.dues)
        t0 = now_ns() + 5_000_000
        self.t0, self.t_end = t0, t0 + int(duration * 1e9)
        done = loop.create_future()
        conns = self.conns
        while now_ns() < t0:
            await asyncio.sleep(0.001)
        if sampler:
            sampler.start()
        self.issuing = True
        if rate:
            period = 1e9 / rate
            base = len(self.dues)
            state = {"issued": 0, "last": 0}
            nconn = len(conns)
            tick_ns = self.tick_ns

            def tick() -> None:
                t = now_ns()
                if t - state["last"] < tick_ns and t < self.t_end:
                    loop.call_soon(tick)
                    return
                state["last"] = t
                target = int((min(t, self.t_end) - t0) / period) + 1
                i = state["issued"]
                if target > i:
                    dues = self.dues
                    for j in range(i, target):
                        dues.append(t0 + int(j * period))
                        conns[j % nconn].backlog.append(base + j + 1)
                    r.issued += target - i
                    state["issued"] = target
                    for c in conns:
                        if c.backlog:
                            self._top_up(c, t)
                if t >= self.t_end:
                    self.issuing = False
                    done.set_result(None)
                    return
                loop.call_soon(tick)
            loop.call_soon(tick)
        else:
            for c in conns:
                self._top_up(c, t0)
            if self.spin:
                def spin() -> None:
                    if self.issuing:
                        loop.call_soon(spin)
                loop.call_soon(spin)

            def stop() -> None:
                self.issuing = False
                done.set_result(None)
            loop.call_at(loop.time() + duration, stop)
        await done
        server = sampler.stop(duration, 0) if sampler else {}
        deadline = time.monotonic() + drain
        while time.monotonic() < deadline:
            if wait_for is not None:
                if wait_for():
                    break
            elif all(c.inflight <= 0 and not c.backlog for c in conns):
                break
            await asyncio.sleep(0.002)
        r.extra["unanswered"] = sum(max(0, c.inflight) + len(c.backlog or ()) for c in conns)
        for c in conns:
            c.backlog.clear()
        if sampler:
            per_op(server, r.ops)
        r.server = server
        self.run = None
        return r


def _users(spec: dict, prefix: str, n: int) -> list[tuple[str, str]]:
    users = spec["users"][prefix]
    if len(users) < n:
        raise ValueError(f"the benchmark needs {n} {prefix} users, the users file has {len(users)}")
    return users[:n]


async def _login_all(spec: dict, users, role: str, **kw) -> list[Conn]:
    host, port = spec["host"], spec["port"]
    sem = asyncio.Semaphore(20)

    async def one(u):
        async with sem:
            return await login(host, port, u[0], u[1], role, **kw)
    return list(await asyncio.gather(*(one(u) for u in users)))


def _close(conns) -> None:
    for c in conns:
        c.close()


# ================================================================== scenarios
async def query(spec: dict) -> dict:
    """UQ12 round trips on ``conns`` connections, ``window`` in flight each at most."""
    p = spec["params"]
    conns = await _login_all(spec, _users(spec, "participant", p["conns"]), "echo")
    sampler = Sampler(spec.get("server_pid"))
    drv = Driver(conns, Template(int(Kind.QUERY), encode_message(ms.BusinessDateQuery())), p["window"],
                 p.get("tick_us", 100))
    # with one request in flight per client the round trip is two wake-ups: a spinning generator
    # does not add its own (on its own CPU); a pipelining one needs the CPU for its work instead
    drv.spin = p.get("spin", p["window"] == 1)
    if p.get("warmup"):
        await drv.measure(p["rate"], p["warmup"], None)
    runs = [(await drv.measure(p["rate"], p["duration"], sampler)).result() for _ in range(p["runs"])]
    _close(conns)
    return {"runs": runs}


def _ec3_template() -> Template:
    return Template(int(Kind.TRANSACTION), encode_message(msys.SendClearingMessageRequest(lines=[msys.MessageLine(text=TEXT)])))


async def _subscribe_general(conns: list[Conn]) -> list[int]:
    """Subscribe each connection to BI27 on the general stream; returns each one's last sequence."""
    item = ms.SubscriptionItem(stream=int(Stream.GENERAL), broadcast="BI27")
    offs = []
    for c in conns:
        fr, body = await c.request(int(Kind.SUBSCRIBE), ms.SubscribeRequest(items=[item]))
        if fr.kind == REJECT:
            raise RuntimeError(f"subscribe refused: {fr.session_status}")
        if isinstance(body, ms.SubscribeReply):
            st = body.items[0]
            if st.handle == 0:
                raise RuntimeError(f"subscribe refused: status {st.status}")
            offs.append(st.last_sequence)
        else:
            offs.append(0)
    return offs


async def fanout(spec: dict) -> dict:
    """The operator publishes EC3 (one BI27 broadcast each) at ``rate``; ``subs`` subscribers receive."""
    p = spec["params"]
    bytes_target = spec["target"] == "bytes"
    bkind = int(Kind.TRANSACTION) if bytes_target else BROADCAST
    subs = await _login_all(spec, _users(spec, "participant", p["subs"]), "sub", bcast_kind=bkind)
    pub = (await _login_all(spec, _users(spec, "operator", 1), "pub"))[0]
    offs = [0] * len(subs) if bytes_target else await _subscribe_general(subs)
    drv = Driver([pub], _ec3_template(), p["window"], p.get("tick_us", 100))
    dues = drv.dues
    state = {"first": 0, "t_end": 0, "hist": None, "delivered": 0}

    def on_bcast_for(off: int):
        def on_bcast(first: int, last: int, k: int, t: int) -> None:
            g1, g2 = first - off - 1, last - off - 1
            if g2 >= len(dues) or g1 < state["first"]:
                return
            h = state["hist"]
            if h is not None:
                h.record_linear(t - dues[g2], t - dues[g1], k)
                if t <= state["t_end"]:
                    state["delivered"] += k
        return on_bcast
    for c, off in zip(subs, offs):
        c.on_bcast = on_bcast_for(off)
    sampler = Sampler(spec.get("server_pid"))
    out = []
    for i in range(p["runs"] + (1 if p.get("warmup") else 0)):
        warm = p.get("warmup") and i == 0
        state["first"] = len(dues)
        state["hist"] = None if warm else Histogram()
        state["delivered"] = 0
        state["t_end"] = 1 << 62

        def all_delivered() -> bool:
            n = len(dues)
            return all(pub.inflight <= 0 for _ in (0,)) and all(c.last_seq - off >= n for c, off in zip(subs, offs))
        run = drv.measure(p["rate"], p["warmup"] if warm else p["duration"], None if warm else sampler,
                          wait_for=all_delivered)
        task = asyncio.ensure_future(run)
        await asyncio.sleep(0)
        state["t_end"] = drv.t_end
        r = await task
        if warm:
            continue
        published = r.ops
        r.extra.update({"published": published, "publish_rate": round(published / r.duration, 1),
                        "subscribers": len(subs), "missing": sum(max(0, len(dues) - (c.last_seq - off))
                                                                for c, off in zip(subs, offs))})
        r.ops = state["delivered"]
        r.hist = state["hist"]
        if r.server.get("server_cpu_s") is not None and published:
            per_op(r.server, max(1, r.ops), 3)   # per delivery: a fraction of a microsecond
            r.server["server_cpu_us_per_publish"] = round(r.server["server_cpu_s"] * 1e6 / published, 2)
        out.append(r.result())
    _close(subs + [pub])
    return {"runs": out}


async def replay(spec: dict) -> dict:
    """Fill the general stream with ``messages`` broadcasts, then replay the whole day to a new
    session ``runs`` times: by login resume point + subscription (``mode = resume``) or by recovery
    queries of ``range`` broadcasts, ``window`` of them in flight (``mode = recovery``)."""
    p = spec["params"]
    bytes_target = spec["target"] == "bytes"
    bkind = int(Kind.TRANSACTION) if bytes_target else BROADCAST
    sampler = Sampler(spec.get("server_pid"))
    pub = (await _login_all(spec, _users(spec, "operator", 1), "pub"))[0]
    fill = Driver([pub], _ec3_template(), 500)
    have = stream_last(pub, int(Stream.GENERAL))
    want = p["messages"]
    t = time.monotonic()
    if want > have:
        # closed loop, bounded by count: issue exactly want - have
        n = want - have
        fill.rate = 0
        fill.run = Run(0)
        fill.first_rid = 0
        fill.t_end = 1 << 62
        remaining = {"n": n}

        def top(c: Conn, t_: int) -> None:
            room = min(fill.window - c.inflight, remaining["n"])
            if room <= 0:
                return
            rid0 = len(fill.dues) + 1
            fill.dues.extend([t_] * room)
            c.write(b"".join([fill.tpl.frame(rid, rid) for rid in range(rid0, rid0 + room)]))
            c.inflight += room
            remaining["n"] -= room
        pub.after_chunk = lambda t_: top(pub, t_)
        top(pub, now_ns())
        deadline = time.monotonic() + max(60.0, n / 2000)
        while (remaining["n"] or pub.inflight > 0) and time.monotonic() < deadline:
            await asyncio.sleep(0.005)
        fill_errors = fill.run.errors
        fill_time = time.monotonic() - t
        fill.run = None
    else:
        fill_errors, fill_time = 0, 0.0
    total = want if bytes_target else max(want, have)
    # a fresh login tells the stream's position and business date
    probe = (await _login_all(spec, _users(spec, "operator", 2)[1:], "echo"))[0]
    last = stream_last(probe, int(Stream.GENERAL)) or total
    bdate = business_date(probe) or 20261123
    max_replay = probe.login_reply.max_replay if probe.login_reply is not None else 0
    probe.close()
    mode = p.get("mode", "resume")
    users = _users(spec, "participant", p["runs"] + 1)
    runs = []
    for i in range(p["runs"] + 1):  # the first one warms up
        u = users[i]
        resume = [ms.ResumePoint(stream=int(Stream.GENERAL), business_date=bdate, last_sequence=0)] \
            if mode == "resume" else []
        c = await login(spec["host"], spec["port"], u[0], u[1], "replay", resume=resume, bcast_kind=bkind)
        r = Run(0)
        got = {"n": 0, "t": 0}

        def on_bcast(first: int, lastseq: int, k: int, t_: int) -> None:
            got["n"] += k
            got["t"] = t_
        c.on_bcast = on_bcast
        replies: list = []
        c.on_reply = lambda rid, kind, t_: replies.append((rid, kind, t_))
        sampler.start()
        t0 = now_ns()
        fallback = False
        if mode == "resume":
            fr, body = await c.request(int(Kind.SUBSCRIBE), ms.SubscribeRequest(
                items=[ms.SubscriptionItem(stream=int(Stream.GENERAL))]))
            if isinstance(body, ms.SubscribeReply) and body.items and body.items[0].status == St.REPLAY_LIMIT:
                fallback = True  # the server refuses to replay that much at once: recover by ranges
        if mode == "recovery" or fallback:
            rng = p.get("range") or max_replay or last
            if max_replay:
                rng = min(rng, max_replay)
            ranges = [(a, min(a + rng - 1, last)) for a in range(1, last + 1, rng)]
            window = p.get("window", 2)
            sent = {"n": 0}

            def send_next() -> None:
                while sent["n"] < len(ranges) and sent["n"] - len(replies) < window:
                    a, b = ranges[sent["n"]]
                    sent["n"] += 1
                    c.write(Template(int(Kind.QUERY), encode_message(ms.RecoveryQuery(
                        stream=int(Stream.GENERAL), business_date=bdate, first_sequence=a, last_sequence=b))).frame(
                        sent["n"], 0))
            c.after_chunk = lambda t_: send_next()
            send_next()
        deadline = time.monotonic() + max(30.0, last / 20000)
        while got["n"] < last and time.monotonic() < deadline and not c.lost.done():
            await asyncio.sleep(0.001)
        t_end = got["t"] or now_ns()
        dur = (t_end - t0) / 1e9
        r.duration = dur
        r.ops = got["n"]
        r.server = sampler.stop(dur, got["n"])
        r.hist.record(t_end - t0)
        r.extra.update({"expected": last, "mode": "recovery" if (mode == "recovery" or fallback) else "resume",
                        "fallback_to_recovery": fallback, "lost": c.lost.done(),
                        "logout_status": c.logout[0] if c.logout else None})
        c.close()
        if i:
            runs.append(r.result())
    pub.close()
    return {"runs": runs, "fill": {"messages": want, "seconds": round(fill_time, 3), "errors": fill_errors,
                                   "rate": round((want - have) / fill_time, 1) if fill_time else None}}


SCENARIOS = {"query": query, "fanout": fanout, "replay": replay}


def _dcass() -> None:
    """The DCASS scenarios, when the DCASS messages exist."""
    import importlib.util
    if importlib.util.find_spec("protocol.messages.dcass") is None:
        return
    from . import dcass
    SCENARIOS.update({"dcass_trades": dcass.trades, "dcass_posttrade": dcass.posttrade, "dcass_day": dcass.day})


_dcass()


def run_scenario(spec: dict) -> dict:
    """Entry point of the load generator process."""
    try:
        import uvloop
        uvloop.install()
    except ImportError:  # pragma: no cover
        pass
    fn = SCENARIOS[spec["kind"]]
    return asyncio.run(asyncio.wait_for(fn(spec), spec.get("timeout", 600)))
