"""DCASS scenarios: exchange trade injection by the operator and post-trade transactions.

They use the DCASS messages (protocol/messages/dcass.py) and the participants of the gateway's
DCASS reference data (asked with DQ104), each with a back office (``BO<participant>`` in the
benchmark users file). The benchmark gateway runs with the benchmark reference data
(``benchmarks/data/dcass_reference_200.toml``: 200 participants BP001..BP200, members of HKCC and
SEOCH); against a gateway with the shipped data they use the demo participants.
"""
from __future__ import annotations

import asyncio
import math
import time

from protocol.kinds import Kind
from protocol.messages import dcass as m
from protocol.messages import session as ms
from protocol.registry import encode_message
from protocol.streams import Stream

from .hist import Histogram
from .loadgen import Driver, _close, _login_all, _users
from .procstat import Sampler
from .wire import REJECT, Conn, Cycle, Template, login

TRADES, CLEARING = int(Stream.TRADES), int(Stream.CLEARING)


async def _series(conn: Conn, class_id: str, ceiling: bool = False):
    if ceiling:  # a ceiling server knows no series: any key does, it is decoded and not looked up
        return m.SeriesItem(series=m.SeriesKey(country=1, market=1, instrument_group=3, commodity=10001))
    fr, body = await conn.request(int(Kind.QUERY), m.SeriesQuery(class_id=class_id))
    if fr.kind == REJECT or not getattr(body, "items", None):
        raise RuntimeError(f"no series of class {class_id}: status {fr.session_status}/{fr.business_status}")
    return body.items[0]


async def _subscribe(conn: Conn, streams) -> dict[int, int]:
    fr, body = await conn.request(int(Kind.SUBSCRIBE), ms.SubscribeRequest(
        items=[ms.SubscriptionItem(stream=s) for s in streams]))
    if fr.kind == REJECT or not isinstance(body, ms.SubscribeReply):
        raise RuntimeError(f"subscribe refused: {fr.session_status}")
    out = {}
    for st in body.items:
        if not st.handle:
            raise RuntimeError(f"subscription to stream {st.stream} refused: {st.status}")
        out[st.stream] = st.last_sequence
    return out


async def _members(op: Conn, *houses: str) -> set[str]:
    """Participants of the gateway's reference data that are members of every one of ``houses``."""
    fr, body = await op.request(int(Kind.QUERY), m.ParticipantsQuery())
    if fr.kind == REJECT:
        raise RuntimeError(f"participants query refused: {fr.session_status}/{fr.business_status}")
    return {it.participant for it in getattr(body, "items", []) if all(getattr(it, h) for h in houses)}


def _injections(series, price: int, parts: list[str], batch: int) -> Cycle:
    """The operator's injections: deal d is bought by participant d % n and sold by (d + 1) % n.
    One deal per EC101, or ``batch`` deals per EC104 (request j carries deals j*batch ...)."""
    n = len(parts)

    def deal(d: int, cls):
        return cls(series=series, price=price, quantity=1, buyer=parts[d % n], seller=parts[(d + 1) % n])
    if batch == 1:
        return Cycle([Template(int(Kind.TRANSACTION), encode_message(deal(i, m.InjectDealRequest)))
                      for i in range(n)])
    kinds = n // math.gcd(n, batch)  # distinct requests before the rotation repeats
    return Cycle([Template(int(Kind.TRANSACTION), encode_message(m.InjectDealsRequest(
        deals=[deal(j * batch + k, m.DealItem) for k in range(batch)]))) for j in range(kinds)])


def _per_deal(result: dict, batch: int) -> dict:
    """A run's figures per deal: with EC104 each request carries ``batch`` deals."""
    if batch > 1:
        result["injections_per_s"] = result["throughput"]
        result["throughput"] = round(result["throughput"] * batch, 1)
        result["ops"] = result["ops"] * batch
        if result.get("server_cpu_us_per_op") is not None:
            result["server_cpu_us_per_op"] = round(result["server_cpu_us_per_op"] / batch, 2)
        if result.get("server_faults_per_op") is not None:
            result["server_faults_per_op"] = round(result["server_faults_per_op"] / batch, 3)
    return result


async def trades(spec: dict) -> dict:
    """The operator injects exchange deals (EC101) at ``rate``, rotating buyer and seller over the
    DCASS participants; each participant's back office is subscribed to its trades and clearing
    streams. Latency: from when an injection was due to when each BD6 reached its back office."""
    p = spec["params"]
    ceiling = spec["target"] != "gateway"
    op = (await _login_all(spec, _users(spec, "operator", 1), "pub"))[0]
    bos = spec["users"]["dcass"]
    if not ceiling:  # the members of the series' clearing house (HKCC for the default HSI futures)
        members = await _members(op, p.get("house", "hkcc"))
        bos = [b for b in bos if b[2] in members]
    bos = bos[:p.get("participants") or None]
    n = len(bos)
    if n < 2:
        raise RuntimeError("trade injection needs 2 DCASS participants with back-office users")
    parts = [b[2] for b in bos]
    conns = []
    for user, pw, _ in bos:
        conns.append(await login(spec["host"], spec["port"], user, pw, "sub"))
    offs = [{} if ceiling else await _subscribe(c, (TRADES, CLEARING)) for c in conns]
    series = (await _series(op, p.get("class_id", "HSI-F"), ceiling)).series
    batch = p.get("batch", 1)
    tpl = _injections(series, p.get("price", 25000), parts, batch)
    drv = Driver([op], tpl, p["window"], p.get("tick_us", 100))
    dues = drv.dues
    state = {"first": 0, "hist": None, "t_end": 1 << 62, "bd6": 0, "other": 0}
    # participant i is in injections j with j % n in {i - 1, i} (seller of i - 1, buyer of i)
    residues = [sorted({(i - 1) % n, i}) for i in range(n)]

    def index_of(i: int, k: int) -> int:
        r = residues[i]
        if len(r) == 1:
            return k * n + r[0]
        return (k // 2) * n + r[k % 2]

    def expected(i: int, total: int) -> int:
        """BD6 that participant i receives from the first ``total`` injections."""
        full, rem = divmod(total, n)
        return full * len(residues[i]) + sum(1 for r in residues[i] if r < rem)

    def on_frame_for(i: int, c: Conn):
        off_t = offs[i].get(TRADES, 0)
        c.bd6 = 0

        def on_frame(stream: int, seq: int, t: int) -> None:
            if stream != TRADES:
                if t <= state["t_end"]:
                    state["other"] += 1
                return
            c.bd6 += 1
            j = index_of(i, seq - off_t - 1) // batch   # the deal's injection (request)
            if j < state["first"] or j >= len(dues):
                return
            h = state["hist"]
            if h is not None:
                h.record(t - dues[j])
                if t <= state["t_end"]:
                    state["bd6"] += 1
        return on_frame
    for i, c in enumerate(conns):
        c.on_bcast_frame = on_frame_for(i, c)

    def delivered() -> bool:
        total = len(dues)
        return op.inflight <= 0 and (ceiling or all(c.bd6 >= expected(i, total * batch) for i, c in enumerate(conns)))
    sampler = Sampler(spec.get("server_pid"))
    out = []
    for r_i in range(p["runs"] + (1 if p.get("warmup") else 0)):
        warm = p.get("warmup") and r_i == 0
        state.update(first=len(dues), hist=None if warm else Histogram(), t_end=1 << 62, bd6=0, other=0)
        task = asyncio.ensure_future(drv.measure(p["rate"], p["warmup"] if warm else p["duration"],
                                                 None if warm else sampler, drain=p.get("drain", 10.0), wait_for=delivered))
        await asyncio.sleep(0)
        state["t_end"] = drv.t_end
        r = await task
        if warm:
            continue
        dur = r.duration
        if not ceiling:  # from a ceiling no broadcasts come: the latency stays the operator's round trip
            r.hist = state["hist"]
        total = len(dues)
        r.extra.update({"deals": r.ops * batch, "bd6_deliveries": state["bd6"], "other_deliveries": state["other"],
                        "deliveries_per_s": round((state["bd6"] + state["other"]) / dur, 1),
                        "participants": n, "deals_per_injection": batch,
                        "missing": 0 if ceiling else sum(max(0, expected(i, total * batch) - c.bd6)
                                                         for i, c in enumerate(conns))})
        out.append(_per_deal(r.result(), batch))
    _close(conns + [op])
    return {"runs": out}


async def posttrade(spec: dict) -> dict:
    """A participant's back office sends give-ups (CD35), position transfers (CD34) and exercise
    requests (CC13) in turn at ``rate``; the operator first books the trades and positions they
    need. Latency: from when a transaction was due to its reply."""
    p = spec["params"]
    bos = spec["users"]["dcass"]
    op = (await _login_all(spec, _users(spec, "operator", 1), "pub"))[0]
    ceiling = spec["target"] != "gateway"
    if not ceiling:  # futures in HKCC, options in SEOCH: members of both
        members = await _members(op, "hkcc", "seoch")
        bos = [b for b in bos if b[2] in members]
    if len(bos) < 2:
        raise RuntimeError("post-trade transactions need 2 DCASS participants of HKCC and SEOCH with back-office users")
    (user, pw, me), (_, _, other) = bos[0], bos[1]
    fut = (await _series(op, p.get("futures_class", "HSI-F"), ceiling)).series
    opt = (await _series(op, p.get("option_class", "HKB-O"), ceiling)).series
    big = p.get("setup_quantity", 10_000_000)
    trade_numbers = [1, 1] if ceiling else []
    for series, acct in () if ceiling else ((fut, "HKCC-HOUSE"), (opt, "SEOCH-HOUSE")):
        fr, body = await op.request(int(Kind.TRANSACTION), m.InjectDealRequest(
            series=series, price=p.get("price", 100), quantity=big, buyer=me, seller=other, buyer_account=acct))
        if fr.kind == REJECT or not isinstance(body, m.DealBookedReply):
            raise RuntimeError(f"set-up deal refused: {fr.session_status}/{fr.business_status}")
        trade_numbers.append(body.trades[0].trade_number)  # the buyer's trade comes first
    conn = await login(spec["host"], spec["port"], user, pw, "echo")
    tpl = Cycle([
        Template(int(Kind.TRANSACTION), encode_message(m.GiveUpRequest(
            trade_number=trade_numbers[0], quantity=1, to_participant=other, text="benchmark"))),
        Template(int(Kind.TRANSACTION), encode_message(m.TransferPositionRequest(
            series=fut, from_account="HKCC-HOUSE", to_account="HKCC-CLIENT01", long_quantity=1))),
        Template(int(Kind.TRANSACTION), encode_message(m.ExerciseRequest(
            series=opt, account_id="SEOCH-HOUSE", quantity=1))),
    ])
    drv = Driver([conn], tpl, p["window"], p.get("tick_us", 100))
    sampler = Sampler(spec.get("server_pid"))
    if p.get("warmup"):
        await drv.measure(p["rate"], p["warmup"], None, drain=p.get("drain", 10.0))
    runs = [(await drv.measure(p["rate"], p["duration"], sampler, drain=p.get("drain", 10.0))).result() for _ in range(p["runs"])]
    _close([conn, op])
    return {"runs": runs}


async def day(spec: dict) -> dict:
    """A trading day: ``trades`` trades (``trades / 2`` injected deals) among the HKCC members of
    the DCASS reference data (the 200 benchmark participants with the benchmark gateway settings;
    at most ``participants`` when given), each with a back office subscribed to its trades and
    clearing streams, injected as fast as the gateway takes them (``window`` in flight). Measured from the
    first injection to the last BD6 delivered, with the server's peak memory; bounded by
    ``max_seconds`` (then the day is reported unfinished, with the rate reached)."""
    p = spec["params"]
    if spec["target"] != "gateway":
        raise RuntimeError("the trading day runs against the gateway only")
    op = (await _login_all(spec, _users(spec, "operator", 1), "pub"))[0]
    members = await _members(op, "hkcc")
    bos = [b for b in spec["users"]["dcass"] if b[2] in members][:p.get("participants") or None]
    n = len(bos)
    if n < max(2, p.get("participants") or 0):
        raise RuntimeError(f"the trading day wants {max(2, p.get('participants') or 0)} HKCC participants with "
                           f"back-office users; the gateway has {n}: start it with dcass_reference = "
                           f"benchmarks/data/dcass_reference_200.toml (benchmarks/data/gateway.toml)")
    parts = [b[2] for b in bos]
    conns = [await login(spec["host"], spec["port"], u, pw, "sub") for u, pw, _ in bos]
    for c in conns:
        await _subscribe(c, (TRADES, CLEARING))
        c.bd6 = c.other = 0

        def on_frame(stream: int, seq: int, t: int, c=c) -> None:
            if stream == TRADES:
                c.bd6 += 1
                c.t_last = t
            else:
                c.other += 1
        c.on_bcast_frame = on_frame
    series = (await _series(op, p.get("class_id", "HSI-F"))).series
    batch = p.get("batch", 1)
    tpl = _injections(series, p.get("price", 25000), parts, batch)
    deals = p.get("trades", 500_000) // 2 // batch   # injections (requests) of ``batch`` deals
    window = p.get("window", 200)
    st = {"sent": 0, "acked": 0, "rejects": 0}

    def on_reply(rid: int, kind: int, t: int) -> None:
        st["acked"] += 1
        if kind == REJECT:
            st["rejects"] += 1
    op.on_reply = on_reply

    def top_up(t: int) -> None:
        room = min(window - (st["sent"] - st["acked"]), deals - st["sent"])
        if room > 0:
            a = st["sent"] + 1
            op.write(b"".join([tpl.frame(rid) for rid in range(a, a + room)]))
            st["sent"] += room
    op.after_chunk = top_up
    sampler = Sampler(spec.get("server_pid"))
    max_s = p.get("max_seconds", 120.0)
    sampler.start()
    t0 = time.monotonic()
    top_up(0)
    while time.monotonic() - t0 < max_s:
        if st["acked"] >= deals and sum(c.bd6 for c in conns) >= 2 * batch * (deals - st["rejects"]):
            break
        await asyncio.sleep(0.01)
    elapsed = time.monotonic() - t0
    trades_done = sum(c.bd6 for c in conns)
    finished = st["acked"] >= deals and trades_done >= 2 * batch * (deals - st["rejects"])
    server = sampler.stop(elapsed, trades_done)
    h = Histogram()
    h.record(int(elapsed * 1e9))
    run = {"duration_s": round(elapsed, 3), "ops": trades_done, "throughput": round(trades_done / elapsed, 1),
           "errors": st["rejects"], "issued": st["sent"], "latency_us": h.summary(), "hist": h.to_dict(),
           "finished": finished, "trades_wanted": 2 * batch * deals, "participants": n,
           "deals_per_injection": batch,
           "deliveries": trades_done + sum(c.other for c in conns),
           "projected_500k_trades_s": round(500_000 / (trades_done / elapsed), 1) if trades_done else None}
    run.update(server)
    _close(conns + [op])
    return {"runs": [run]}
