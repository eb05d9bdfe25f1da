"""The pytest plugin (entry point ``pytest11: hkpost``): fixtures to test a back office against the
emulator. Every fixture is function-scoped, so every test starts on fresh demo data.

- ``hkpost_emulator``: a gateway in a thread on 127.0.0.1 and a free port, the business time frozen
  at ``hkpost_business_time``; ``.host``, ``.port``. Works in sync and async tests.
- ``hkpost_operator``, ``hkpost_participant``: SDK clients (``clients.Client``) logged in as the
  ``hkpost_users`` entries ``operator`` (OPER1) and ``participant`` (CPA01), on the test's event loop.
- ``hkpost_connect``: ``await hkpost_connect("CPB02")`` logs in any other user.

Override ``hkpost_business_time`` (ISO date and time), ``hkpost_gateway_settings`` (a dict of
gateway settings) or ``hkpost_users`` in a conftest.py to change them. The client fixtures are
coroutines: they need pytest-asyncio (``pip install 'hkpost-emulator[pytest]'``).
"""
from __future__ import annotations

import asyncio
import contextlib

import pytest

from hkpost_pytest.emulator import DEMO_BUSINESS_TIME, Emulator

try:
    import pytest_asyncio
except ImportError:  # the sync fixtures still work; the client fixtures say what is missing
    pytest_asyncio = None

DEMO_USERS = {"operator": ("OPER1", "pass-OPER1"), "participant": ("CPA01", "pass-CPA01")}


@pytest.fixture
def hkpost_business_time() -> str:
    """The business date and time the emulator starts at, frozen (override to change)."""
    return DEMO_BUSINESS_TIME


@pytest.fixture
def hkpost_gateway_settings() -> dict:
    """More gateway settings (``gateway.config.Settings`` fields) for ``hkpost_emulator``."""
    return {}


@pytest.fixture
def hkpost_users() -> dict:
    """Role to (user id, password) of the client fixtures (the demo users by default)."""
    return dict(DEMO_USERS)


@pytest.fixture
def hkpost_emulator(hkpost_business_time, hkpost_gateway_settings):
    """A fresh emulator on 127.0.0.1 and a free port, stopped after the test."""
    with Emulator(hkpost_business_time, **hkpost_gateway_settings) as emu:
        yield emu


def _async_fixture(fn):
    if pytest_asyncio is not None:
        return pytest_asyncio.fixture(fn)

    @pytest.fixture(name=fn.__name__)
    def missing():
        pytest.fail(f"{fn.__name__} needs pytest-asyncio: pip install 'hkpost-emulator[pytest]'", pytrace=False)
    missing.__doc__ = fn.__doc__
    return missing


@_async_fixture
async def hkpost_connect(hkpost_emulator):
    """``await hkpost_connect(user, password=None, **client_options)``: a logged-in SDK client (the
    demo password ``pass-<user>`` when none is given); closed after the test."""
    from clients import Client
    opened: list = []

    async def connect(user: str, password: str | None = None, **kw):
        c = Client(hkpost_emulator.host, hkpost_emulator.port, user, password or Emulator.demo_password(user), **kw)
        opened.append(c)
        await c.connect()
        return c

    yield connect
    for c in opened:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(c.close(), 5)


@_async_fixture
async def hkpost_operator(hkpost_connect, hkpost_users):
    """The operator's SDK client: injects trades, sets prices and business time, runs end of day."""
    user, password = hkpost_users["operator"]
    return await hkpost_connect(user, password)


@_async_fixture
async def hkpost_participant(hkpost_connect, hkpost_users):
    """The participant's SDK client: the back office's own login (CPA01 by default)."""
    user, password = hkpost_users["participant"]
    return await hkpost_connect(user, password)
