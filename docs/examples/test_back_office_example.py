"""Example: a back office's own tests against the emulator, with the fixtures of the hkpost pytest
plugin (docs/guides/testing-your-back-office.md). This repository's CI runs this file as it is."""
import subprocess
import sys

import pytest

from clients.series import series_directory
from protocol.messages import dcass
from protocol.streams import Stream


@pytest.mark.asyncio
async def test_an_exchange_trade_reaches_the_back_office(hkpost_operator, hkpost_participant):
    # the back office (CPA01) listens to its trades, as it would in production
    await hkpost_participant.subscribe(Stream.TRADES)

    # the exchange matches CPA01 buying 3 HSI DEC26 from CPB02 at 25,100 (the operator plays the exchange)
    series = (await series_directory(hkpost_participant)).key("HSI DEC26")
    await hkpost_operator.transact(dcass.InjectDealRequest(
        series=series, price=25100, quantity=3, buyer="CPA01", seller="CPB02"))

    # the trade arrives as a BD6 broadcast ...
    trade = (await hkpost_participant.next_broadcast(timeout=5, code="BD6")).message.trade
    assert (trade.series_symbol, trade.side, trade.quantity, trade.deal_price) == (
        "HSI DEC26", dcass.Side.BUY, 3, 25100)

    # ... and the position the back office books must match the clearing house's
    positions = await hkpost_participant.query(dcass.PositionsQuery(series=series))
    assert [(p.series_symbol, p.long, p.short) for p in positions.items] == [("HSI DEC26", 3, 0)]


def test_any_client_can_use_the_emulator(hkpost_emulator):
    # not only Python: the emulator listens on a loopback port for any client (here the CLI)
    done = subprocess.run(
        [sys.executable, "-m", "clients", "--host", hkpost_emulator.host, "--port", str(hkpost_emulator.port),
         "-u", "CPA01", "-p", "pass-CPA01", "send", "business_date_query"],
        capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "business_date='20261123'" in done.stdout  # the frozen business date of the fixture
