"""SIGKILL at random points, restart, and check nothing acknowledged is lost or applied twice.

A gateway runs as a child process with a journal. An operator drives EC3 clearing messages (each
with a unique text), EC2 time advances and EC101 DCASS deals (CPA01 buys from CPB02) through the
SDK while a participant's SDK client is subscribed to the general stream and to its dedicated trades
stream. A seeded random timer kills the gateway with SIGKILL; it is
restarted on the same port. After every restart:

- every acknowledged EC3 is in the general stream exactly once, in order; the one in flight at the
  kill (not acknowledged) is there at most once; nothing else is there;
- the recovered business time is the acknowledged time (plus the in-flight advance, if it landed);
- CPA01 has exactly one trade per acknowledged deal (plus the in-flight one, if it landed).

After every restart, the state hash the gateway logged when it recovered equals the hash of an
independent replay of the acknowledged commands into a fresh core; at the end so does ``python -m
gateway.journal replay`` of the journal; and the subscribed client, which reconnected after every kill, received every broadcast
of the stream exactly once, in order, with the gateway's bytes (sequence, type, text).
"""
from __future__ import annotations

import asyncio
import json
import random
from datetime import datetime, timedelta

import pytest

from clients import Client
from clients.errors import ConnectionLost, RequestTimeout, SessionEnded
from gateway.clearing.core import ClearingCore, Context, SendClearingMessage, SetBusinessTime
from gateway.clearing.dcass import commands as dc
from gateway.refdata import module_factories
from gateway.handlers.dcass import key_in
from protocol.messages import dcass as d
from protocol.messages import session as ms
from protocol.messages import system as m
from protocol.streams import Stream
from tests.reliability.proc import START, GatewayProcess, journal_tool

LOST = (ConnectionLost, SessionEnded, RequestTimeout, ConnectionError, OSError, asyncio.TimeoutError)


SERIES: list = []   # the futures series of the deals (found at the first start)


def deal_msg(qty: int) -> d.InjectDealRequest:
    return d.InjectDealRequest(series=SERIES[0], price=25000, quantity=qty, buyer="CPA01", seller="CPB02",
                               buyer_open_close=d.OpenClose.OPEN, seller_open_close=d.OpenClose.OPEN)


def expected_hash(commands: list[tuple]) -> str:
    """Replay the acknowledged commands (as the test saw them) into a fresh core, independently."""
    core = ClearingCore(datetime.fromisoformat(START), module_factories=module_factories())
    for kind, arg in commands:
        ctx = Context(core.now, None, "OPER1", True)
        if kind == "msg":
            core.execute(SendClearingMessage((arg,)), ctx)
        elif kind == "deal":
            core.execute(dc.InjectDeal(key_in(SERIES[0]), 25000, arg, "CPA01", "CPB02", "", "", dc.OpenClose.OPEN,
                                       dc.OpenClose.OPEN), ctx)
        else:
            core.execute(SetBusinessTime(core.now + timedelta(seconds=arg)), ctx)
    return core.state_hash()


async def general_stream(op: Client) -> list[tuple[int, str, str]]:
    """(sequence, message type, first line or '') of today's general stream, from the gateway."""
    answer, items = await op.recover(Stream.GENERAL, 1)
    return [(b.sequence, b.code, b.message.lines[0].text if b.code == "BI27" else "") for b in items]


async def trades_stream(c: Client) -> list[tuple[int, str, int]]:
    """(sequence, message type, trade number) of CPA01's trades stream, from the gateway."""
    answer, items = await c.recover(Stream.TRADES, 1)
    return [(b.sequence, b.code, getattr(b.message, "trade_number", 0)) for b in items]


async def cpa01_trades(c: Client) -> int:
    return len((await c.query(d.TradesQuery())).items)


async def business_time(op: Client) -> str:
    a = await op.query(ms.BusinessDateQuery())
    return a.business_date + a.business_time


def hhmmss(t: datetime) -> str:
    return t.strftime("%Y%m%d%H%M%S")


async def run_kills(tmp_path, flush: str, kills: int, seed: int, snapshot_every: int) -> None:
    rnd = random.Random(seed)
    gp = GatewayProcess(tmp_path, flush=flush, snapshot_every=snapshot_every)
    await gp.astart()
    opts = dict(reconnect_delay=0.05, max_reconnect_delay=0.2, max_reconnect_attempts=400, request_timeout=10)
    sub = Client("127.0.0.1", gp.port, "CPA01", "pass-CPA01", **opts)
    # the operator does not reconnect by itself: after a kill the test opens a new session, so every
    # acknowledgement it counts came from the gateway that was then killed
    op = Client("127.0.0.1", gp.port, "OPER1", "pass-OPER1", **dict(opts, auto_reconnect=False))
    received: list = []
    try:
        await sub.connect()
        await sub.subscribe(Stream.GENERAL, Stream.TRADES)
        await op.connect()
        if not SERIES:
            SERIES.append(next(s.series for s in (await sub.query(d.SeriesQuery())).items
                               if s.class_id == "HSI-F" and not s.expired))
        # another session of participant CPA01 (user CPA01B) reads CPA01's trades and trades stream
        peer_opts = dict(opts, auto_reconnect=False)
        peer = Client("127.0.0.1", gp.port, "CPA01B", "pass-CPA01B", **peer_opts)
        await peer.connect()

        async def collect():
            async for b in sub.broadcasts():
                received.append(b)
        collector = asyncio.create_task(collect())

        acked: list[tuple] = []          # (kind, arg) in the order acknowledged
        now = datetime.fromisoformat(START)
        i = 0
        for k in range(kills + 1):
            in_flight = None
            runs = gp.runs
            if k < kills:  # a supervisor kills the gateway at a random point and starts it again at once
                killer = asyncio.get_running_loop().call_later(rnd.uniform(0.05, 0.35), gp.restart_now)
            sent = 0
            while not (k == kills and sent >= 60):
                i += 1
                sent += 1
                r = rnd.random()
                if r < 0.12:
                    cmd, msg = ("adv", 60), m.AdvanceBusinessTimeRequest(seconds=60)
                elif r < 0.4:
                    qty = rnd.randint(1, 9)
                    cmd, msg = ("deal", qty), deal_msg(qty)
                else:
                    cmd, msg = ("msg", f"msg-{i:05d}"), m.SendClearingMessageRequest(lines=[m.MessageLine(text=f"msg-{i:05d}")])
                try:
                    await op.transact(msg)
                except LOST:
                    in_flight = cmd          # no answer: it may or may not have been journaled
                    break
                acked.append(cmd)
                if cmd[0] == "adv":
                    now += timedelta(seconds=60)
            if k == kills:
                break
            while gp.runs == runs:
                await asyncio.sleep(0.01)
            await gp.alistening()
            op = Client("127.0.0.1", gp.port, "OPER1", "pass-OPER1", **dict(opts, auto_reconnect=False))
            await op.connect()
            peer = Client("127.0.0.1", gp.port, "CPA01B", "pass-CPA01B", **peer_opts)
            await peer.connect()
            for _ in range(500):  # let the subscriber reconnect before the next kill
                if sub.reconnects == k + 1 and sub.connected:
                    break
                await asyncio.sleep(0.01)
            assert gp.events(None, "journal_recovered"), "recovered on start"
            # resolve the command in flight at the kill: it either landed (once) or not at all
            stream = await general_stream(op)
            texts = [t for _, code, t in stream if code == "BI27"]
            bt = await business_time(op)
            n_trades = await cpa01_trades(peer)
            deals = sum(1 for kind, _ in acked if kind == "deal")
            if in_flight is not None and in_flight[0] == "msg" and in_flight[1] in texts:
                acked.append(in_flight)
            elif in_flight is not None and in_flight[0] == "deal" and n_trades == deals + 1:
                acked.append(in_flight)
                deals += 1
            elif in_flight is not None and in_flight[0] == "adv" and bt == hhmmss(now + timedelta(seconds=60)):
                acked.append(in_flight)
                now += timedelta(seconds=60)
            want = [a for kind, a in acked if kind == "msg"]
            assert texts == want, f"kill {k + 1}: the stream holds exactly the acknowledged messages, once, in order"
            assert bt == hhmmss(now), f"kill {k + 1}: business time is the acknowledged one"
            assert n_trades == deals, f"kill {k + 1}: one CPA01 trade per acknowledged deal"
            recovered = gp.state_event()
            assert recovered["state_hash"] == expected_hash(acked), f"kill {k + 1}: recovered state == replay of acked"

        # the subscriber caught up on everything, exactly once, in order, the gateway's own bytes
        stream = await general_stream(op)
        for _ in range(300):
            if received and received[-1].sequence >= stream[-1][0]:
                break
            await asyncio.sleep(0.02)
        trades = await trades_stream(peer)
        for _ in range(300):
            if received and received[-1].sequence >= stream[-1][0] and \
                    sum(1 for b in received if b.stream == Stream.TRADES) >= len(trades):
                break
            await asyncio.sleep(0.02)
        general = [b for b in received if b.stream == Stream.GENERAL]
        got = [(b.sequence, b.code, b.message.lines[0].text if b.code == "BI27" else "") for b in general]
        assert got == stream, "subscriber saw every general broadcast exactly once, in order"
        assert [s for s, _, _ in got] == list(range(1, len(got) + 1))
        got_trades = [(b.sequence, b.code, getattr(b.message, "trade_number", 0)) for b in received
                      if b.stream == Stream.TRADES]
        assert got_trades == trades, "and every broadcast of its dedicated trades stream exactly once, in order"
        assert len(trades) >= sum(1 for kind, _ in acked if kind == "deal")
        assert not sub.gaps
        assert sub.reconnects == kills
        await op.close()
        await peer.close()
        await sub.close()
        collector.cancel()
        assert gp.stop() == 0
        # state hash: independent replay of the acknowledged commands == what the gateway recovered == CLI replay
        want_hash = expected_hash(acked)
        out = journal_tool("replay", str(gp.journal), "--json")
        assert out.returncode == 0, out.stderr
        rep = json.loads(out.stdout)
        assert rep["state_hash"] == want_hash
        assert rep["rejected"] == 0 and rep["failed"] == 0
        print(f"\n{flush}: {kills} SIGKILLs, {len(acked)} acknowledged commands "
              f"({sum(1 for k_, _ in acked if k_ == 'deal')} DCASS deals), {len(got) + len(got_trades)} broadcasts, "
              f"{sub.reconnects} reconnects, {sum(1 for r in range(gp.runs) if gp.events(r, 'journal_torn_tail'))} "
              f"torn tails cut, {sum(len(gp.events(r, 'snapshot_loaded')) for r in range(gp.runs))} restarts from a snapshot")
    finally:
        for c in (op, sub) + ((peer,) if "peer" in locals() else ()):
            try:
                await asyncio.wait_for(c.close(), 2)
            except Exception:  # noqa: BLE001
                pass
        gp.cleanup()


async def test_sigkill_always_policy(tmp_path):
    await run_kills(tmp_path, "always", kills=5, seed=8, snapshot_every=40)


async def test_sigkill_group_policy(tmp_path):
    await run_kills(tmp_path, "group", kills=3, seed=88, snapshot_every=0)
