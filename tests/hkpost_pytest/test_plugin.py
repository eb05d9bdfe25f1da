"""The pytest plugin shipped with the package (hkpost_pytest), used here as a back office uses it."""
from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from hkpost_pytest import Emulator
from protocol.messages import dcass
from protocol.messages.session import BusinessDateQuery


@pytest.fixture
def hkpost_business_time():
    return "2026-12-30T17:59:59"  # a test's own frozen business time: the last second before 18:00


@pytest.fixture
def hkpost_gateway_settings():
    return {"max_subscriptions": 3}


async def test_fixtures_start_a_frozen_emulator_with_overrides(hkpost_emulator, hkpost_participant):
    assert hkpost_emulator.host == "127.0.0.1" and hkpost_emulator.port > 0
    assert hkpost_participant.login_reply.user == "CPA01"
    assert hkpost_participant.login_reply.max_subscriptions == 3
    a = await hkpost_participant.query(BusinessDateQuery())
    assert (a.business_date, a.business_time) == ("20261230", "175959")


async def test_each_test_starts_on_fresh_demo_data_1(hkpost_operator, hkpost_participant):
    key = await _hsi(hkpost_participant)
    await hkpost_operator.transact(dcass.InjectDealRequest(series=key, price=25000, quantity=1, buyer="CPA01",
                                                           seller="CPB02"))
    assert len((await hkpost_participant.query(dcass.PositionsQuery(series=key))).items) == 1


async def test_each_test_starts_on_fresh_demo_data_2(hkpost_participant, hkpost_connect):
    # the deal of the test before is gone: a new emulator, new demo state
    assert (await hkpost_participant.query(dcass.PositionsQuery())).items == []
    other = await hkpost_connect("CPB02")
    assert other.login_reply.participant == "CPB02"


async def _hsi(client):
    from clients.series import series_directory
    return (await series_directory(client)).key("HSI DEC26")


def test_emulator_stops_and_frees_its_port():
    with Emulator() as emu:
        socket.create_connection(emu.address, timeout=5).close()
    with pytest.raises(OSError):
        socket.create_connection(emu.address, timeout=5).close()


def test_a_start_failure_is_raised_in_the_starting_thread():
    with pytest.raises(FileNotFoundError):
        Emulator(users_file="/nonexistent/users.toml").start()


def test_loading_the_plugin_imports_no_gateway():
    # the plugin is loaded by every pytest run where the package is installed: it must cost nothing
    code = "import sys, hkpost_pytest.plugin; print(sorted(m for m in sys.modules if m.split('.')[0] in " \
           "('gateway', 'clients', 'protocol')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "[]"


def test_the_guide_shows_the_example_ci_runs():
    from pathlib import Path
    root = Path(__file__).resolve().parents[2]
    example = (root / "docs/examples/test_back_office_example.py").read_text(encoding="utf-8")
    guide = (root / "docs/guides/testing-your-back-office.md").read_text(encoding="utf-8")
    assert example.split('"""', 2)[2].lstrip("\n") in guide
