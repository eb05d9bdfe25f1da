"""The cyclic GC while the gateway runs: it moves what has survived out of the GC's view every
``gc_freeze_seconds`` (gateway/server.py ``_freeze_gc``), so full collections do not walk the day's state, and
it collects the young generation every ``gc_threshold`` allocations."""
from __future__ import annotations

import asyncio
import gc

import pytest

from gateway.server import Gateway
from tests.conftest import settings


async def _run(seconds: float, freeze_every: float, monkeypatch) -> int:
    calls = []
    monkeypatch.setattr(gc, "freeze", lambda: calls.append(1))  # counted, not done: the test process stays as it is
    gw = Gateway(settings(gc_freeze_seconds=freeze_every))
    await gw.start()
    try:
        await asyncio.sleep(seconds)
    finally:
        await gw.stop()
    n = len(calls)
    await asyncio.sleep(freeze_every * 2 if freeze_every else 0.05)
    assert len(calls) == n, "the freezing must stop with the gateway"
    return n


async def test_freezes_periodically(monkeypatch):
    n = await _run(0.35, 0.05, monkeypatch)
    assert 4 <= n <= 9                 # at start, then every 50 ms


async def test_zero_never_freezes(monkeypatch):
    assert await _run(0.2, 0, monkeypatch) == 0


async def test_timers_do_not_accumulate(monkeypatch):
    monkeypatch.setattr(gc, "freeze", lambda: None)
    gw = Gateway(settings(gc_freeze_seconds=0.02, heartbeat_interval=0.08))  # a tick every 20 ms
    await gw.start()
    try:
        await asyncio.sleep(0.5)
        assert len(gw._timers) <= 4     # the tick's and the freeze's next timers, not every one that fired
    finally:
        await gw.stop()


async def test_young_generation_threshold_while_running():
    """``gc_threshold``: the young generation's collection threshold while the gateway runs; the
    process's own thresholds again after it stops."""
    before = gc.get_threshold()
    gw = Gateway(settings(gc_threshold=12345))
    await gw.start()
    try:
        assert gc.get_threshold() == (12345, *before[1:])
    finally:
        await gw.stop()
    assert gc.get_threshold() == before


async def test_zero_threshold_leaves_the_process_as_it_is():
    before = gc.get_threshold()
    gw = Gateway(settings(gc_threshold=0))
    await gw.start()
    try:
        assert gc.get_threshold() == before
    finally:
        await gw.stop()
    assert gc.get_threshold() == before


def test_negative_threshold_is_refused():
    from gateway.config import ConfigError, Settings
    with pytest.raises(ConfigError, match="gc_threshold"):
        Settings.load(None, gc_threshold=-1)
