"""A bounded chaos run: a short day with a few SIGKILLs of the gateway (seconds, not minutes).

An operator sends clearing messages (EC3), each with its own client reference, through the SDK;
when an answer does not come it sends the same transaction again with the same reference, blindly,
until answered, and after every restart it also resends a few it already had answered. A participant
is subscribed to the general stream throughout. The gateway runs on a group-commit journal with
frequent forked snapshots and is killed with SIGKILL at random moments and restarted at once.

At the end: every message is in the general stream exactly once and in order (nothing acknowledged
lost, nothing applied twice), every blind resend of an answered one got ALREADY_ANSWERED, the
subscriber saw the stream with no gap and no duplicate, and the state the gateway recovers equals
that of an uninterrupted run of the same commands.
"""
from __future__ import annotations

import asyncio
import random
from datetime import datetime

from clients import Client
from clients.errors import ConnectionLost, RequestTimeout, SessionEnded
from gateway.clearing.core import ClearingCore, Context, SendClearingMessage
from gateway.refdata import module_factories
from protocol.messages import system as m
from protocol.status import SessionStatus as St
from protocol.streams import Stream
from tests.reliability.proc import START, GatewayProcess

LOST = (ConnectionLost, SessionEnded, RequestTimeout, ConnectionError, OSError, asyncio.TimeoutError)
MESSAGES = 60
KILLS = 3
BASE = 1_796_284_800_000_000


def uninterrupted_hash(texts: list[str]) -> str:
    core = ClearingCore(datetime.fromisoformat(START), module_factories=module_factories())
    for t in texts:
        core.execute(SendClearingMessage((t,)), Context(core.now, None, "OPER1", True))
    return core.state_hash()


async def test_kills_lose_nothing_apply_nothing_twice_and_leave_no_gap(tmp_path):
    rnd = random.Random(19)
    gp = GatewayProcess(tmp_path, flush="group", snapshot_every=15)
    opts = dict(reconnect_delay=0.05, max_reconnect_delay=0.2, max_reconnect_attempts=400, request_timeout=3)
    op = Client("127.0.0.1", gp.port, "OPER1", "pass-OPER1", **opts)
    sub = Client("127.0.0.1", gp.port, "CPA01", "pass-CPA01", **opts)
    received: list = []
    try:
        await gp.astart()
        await op.connect()
        await sub.connect()
        await sub.subscribe(Stream.GENERAL)

        async def collect() -> None:
            async for b in sub.broadcasts():
                if b.code == "BI27":
                    received.append((b.business_date, b.sequence, b.message.lines[0].text))

        collector = asyncio.create_task(collect())
        kill_at = sorted(rnd.sample(range(5, MESSAGES - 5), KILLS))
        texts = [f"chaos-{i:03d}" for i in range(MESSAGES)]
        resent_answers: list[int] = []
        for i, text in enumerate(texts):
            msg = m.SendClearingMessageRequest(lines=[m.MessageLine(text=text)])
            if kill_at and i == kill_at[0]:
                kill_at.pop(0)
                asyncio.get_running_loop().call_later(rnd.uniform(0.0, 0.01), gp.restart_now)
            for _ in range(40):  # a blind sender: the same transaction, same reference, until answered
                try:
                    await op._request(msg, reference=BASE + i)
                    break
                except LOST:
                    await asyncio.sleep(0.05)
            else:
                raise AssertionError(f"{text} never answered")
            if i and gp.runs > 1 and len(resent_answers) < gp.runs:  # after a restart: resend an answered one
                j = rnd.randrange(i)
                old = m.SendClearingMessageRequest(lines=[m.MessageLine(text=texts[j])])
                _, frame = await op._request(old, want_frame=True, reference=BASE + j)
                resent_answers.append(frame.session_status)
        assert gp.runs == 1 + KILLS
        _, items = await op.recover(Stream.GENERAL, 1)
        stream = [(b.business_date, b.sequence, b.message.lines[0].text) for b in items if b.code == "BI27"]
        assert [t for _, _, t in stream] == texts, "every message exactly once, in order"
        assert resent_answers and set(resent_answers) == {St.ALREADY_ANSWERED}
        for _ in range(500):
            if len(received) >= len(stream):
                break
            await asyncio.sleep(0.01)
        assert received == stream, "the subscriber: no gap, no duplicate, the gateway's sequence numbers"
        assert not sub.gaps
        await op.close()
        await sub.close()
        collector.cancel()
        assert gp.stop() == 0
        gp.start()
        recovered = gp.state_event()
        assert recovered["state_hash"] == uninterrupted_hash(texts)
    finally:
        for c in (op, sub):
            try:
                await asyncio.wait_for(c.close(), 2)
            except Exception:  # noqa: BLE001
                pass
        gp.cleanup()
