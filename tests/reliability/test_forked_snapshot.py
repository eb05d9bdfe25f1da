"""Snapshots built by a forked child (gateway/journal/durability.py): the event loop goes on serving
while the child builds and writes; a child that fails changes nothing but the log, and the next
snapshot retries; what the child wrote is what a restart uses."""
from __future__ import annotations

import asyncio

from gateway.clearing.core import SendClearingMessage
from gateway.journal import snapshot as snap
from gateway.server import Gateway
from tests.conftest import settings
from tests.reliability.test_journal_recovery import op, state


def make(path, **kw) -> Gateway:
    return Gateway(settings(journal_path=str(path), **kw))


async def _until(cond, seconds: float = 20.0) -> None:
    for _ in range(int(seconds / 0.01)):
        if cond():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not reached in time")


async def test_the_child_writes_the_snapshot_while_the_loop_serves(tmp_path):
    path = tmp_path / "j"
    gw = make(path, snapshot_every=3)
    await gw.start()
    try:
        d = gw.journal
        for i in range(3):
            gw.execute(SendClearingMessage((f"m{i}",)), op(gw))
        await _until(lambda: d._child is not None)  # scheduled by the third record, forked at once
        covered = d._child[1]
        ticks = 0
        while d._child is not None:  # the loop keeps running callbacks while the child works
            ticks += 1
            await asyncio.sleep(0.001)
        assert ticks > 0 and d._written_seq == covered >= 3
        body = snap.read(snap.snapshot_path(path))
        assert body["seq"] == covered
        rebuilt = snap.restore_core(body["core"], gw.core.now, gw.module_factories)
        assert rebuilt.state_hash() == gw.core.state_hash()
        gw.execute(SendClearingMessage(("after",)), op(gw))
        before = state(gw)
    finally:
        await gw.stop()
    gw2 = make(path, snapshot_every=0)
    try:
        assert state(gw2) == before
    finally:
        gw2.journal.close()


async def test_a_failing_child_changes_nothing_and_the_next_snapshot_retries(tmp_path, monkeypatch):
    path = tmp_path / "j"
    gw = make(path, snapshot_every=2)
    await gw.start()
    real = snap.write
    try:
        d = gw.journal

        def broken(*a, **kw):  # runs in the child: the disk refuses the snapshot
            raise OSError("no space left")
        monkeypatch.setattr(snap, "write", broken)
        for i in range(2):
            gw.execute(SendClearingMessage((f"m{i}",)), op(gw))
        await _until(lambda: d._child is not None)
        await _until(lambda: d._child is None)
        assert d._written_seq == 0 and d.snapshot_seq == 0 and d.schedule.records == 2
        assert not snap.snapshot_path(path).exists()
        gw.execute(SendClearingMessage(("served",)), op(gw))  # still serving, journaling
        monkeypatch.setattr(snap, "write", real)
        gw.execute(SendClearingMessage(("again",)), op(gw))
        await _until(lambda: d._written_seq > 0)  # after the retry delay
        assert snap.read(snap.snapshot_path(path))["seq"] == d._written_seq
    finally:
        await gw.stop()
