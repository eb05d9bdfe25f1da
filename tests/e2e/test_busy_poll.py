"""Busy polling (setting ``busy_poll_us``, gateway/busypoll.py): after each read the gateway keeps
its loop polling the sockets for the window instead of sleeping, then sleeps again; off by default."""
from __future__ import annotations

import asyncio

import pytest

from gateway.busypoll import BusyPoll
from gateway.config import ConfigError, Settings
from protocol.messages import session as ms
from tests.conftest import settings

WINDOW_US = 20_000  # 20 ms: long enough to be seen polling, short enough to be seen stopping


async def _until(cond, limit: float = 2.0) -> bool:
    for _ in range(int(limit / 0.005)):
        if cond():
            return True
        await asyncio.sleep(0.005)
    return cond()


async def test_polls_for_the_window_after_a_touch_then_stops():
    loop = asyncio.get_running_loop()
    p = BusyPoll(loop, 0.02)
    assert not p.spinning and p.turns == 0
    p.touch()
    t0 = loop.time()
    await asyncio.sleep(0.005)
    assert p.spinning and p.turns > 0          # polling (the sleep above returned through turns of it)
    assert await _until(lambda: not p.spinning)
    assert loop.time() - t0 >= 0.02            # not before the window ended
    turns = p.turns
    await asyncio.sleep(0.03)
    assert p.turns == turns                    # asleep: no turns without traffic


async def test_a_touch_while_polling_extends_the_window():
    loop = asyncio.get_running_loop()
    p = BusyPoll(loop, 0.03)
    p.touch()
    t0 = loop.time()
    await asyncio.sleep(0.02)
    p.touch()                                  # traffic 20 ms in: polls until about 50 ms
    assert await _until(lambda: not p.spinning)
    assert loop.time() - t0 >= 0.05


def test_window_must_be_positive():
    loop = asyncio.new_event_loop()
    try:
        with pytest.raises(ValueError, match="above 0"):
            BusyPoll(loop, 0)
    finally:
        loop.close()


def test_setting_is_off_by_default_and_refuses_negative():
    assert Settings().busy_poll_us == 0
    with pytest.raises(ConfigError, match="busy_poll_us"):
        Settings.load(None, busy_poll_us=-1)


@pytest.fixture
def gateway_settings():
    return settings(busy_poll_us=WINDOW_US)


async def test_gateway_polls_after_a_read_and_sleeps_when_quiet(gateway, connect):
    p = gateway.poller
    assert p is not None and p.window == WINDOW_US / 1e6
    c = await connect("CPA01")                 # the login is a read
    assert await _until(lambda: not p.spinning)
    turns = p.turns
    reply = await c.request(ms.BusinessDateQuery())
    assert reply is not None
    assert p.turns > turns                     # the read started a window of polling
    assert await _until(lambda: not p.spinning)
    turns = p.turns
    await asyncio.sleep(0.05)
    assert p.turns == turns                    # quiet: the loop sleeps


async def test_off_by_default_in_the_gateway():
    from gateway.server import Gateway
    gw = Gateway(settings())
    await gw.start()
    try:
        assert gw.poller is None
    finally:
        await gw.stop()
