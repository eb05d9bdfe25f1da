"""Shared fixtures: a gateway on a free loopback port, SDK clients, an operator session."""
from __future__ import annotations

import asyncio
import contextlib

import pytest

from clients import Client
from gateway.config import Settings
from gateway.logs import configure

configure("warning", "console")

START = "2026-11-23T09:00:00"  # a Monday, a business day


@pytest.fixture(autouse=True)
def verify_derived_state():
    """Every batch of every clearing core of the tests (a command alone is a batch of one) ends with
    ``verify()``: the derived state kept incrementally equals a cold recomputation
    (gateway/clearing/derived.py)."""
    from gateway.clearing.core import ClearingCore
    ClearingCore.verify_batches = True
    try:
        yield
    finally:
        ClearingCore.verify_batches = False


def settings(**kw) -> Settings:
    # gc_freeze_seconds=0: the test process runs a thousand short gateways; freezing would keep
    # pytest's own reference cycles forever (tests/e2e/test_gc_freeze.py tests the freezing)
    base = dict(host="127.0.0.1", port=0, heartbeat_interval=5.0, stream_heartbeat_seconds=0,
                start_business_time=START, freeze_clock=True, gc_freeze_seconds=0)
    base.update(kw)
    return Settings(**base)


@pytest.fixture
def gateway_settings() -> Settings:
    """Override in a test module to change the gateway's settings."""
    return settings()


@pytest.fixture
async def gateway(gateway_settings):
    from gateway.server import Gateway
    gw = Gateway(gateway_settings)
    await gw.start()
    try:
        yield gw
    finally:
        await gw.stop()


@pytest.fixture
async def connect(gateway):
    """``await connect("CPA01")`` logs in a demo user (password 'pass-' + user) through the SDK."""
    clients: list[Client] = []

    async def _connect(user: str, password: str | None = None, **kw) -> Client:
        c = Client("127.0.0.1", gateway.port, user, password or f"pass-{user}", **kw)
        clients.append(c)
        await c.connect()
        return c

    yield _connect
    for c in clients:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(c.close(), 2)


@pytest.fixture
async def operator(connect):
    return await connect("OPER1")
