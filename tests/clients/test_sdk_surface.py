"""The SDK's public surface: connect as awaitable and as context manager, silence by default,
every failure a ClientError, and the README's example run as a user runs it."""
from __future__ import annotations

import asyncio
import json
import logging
import re
import socket
import ssl
import sys
from pathlib import Path

import pytest

from clients import (BroadcastTimeout, ClientError, ConnectionRefused, ConnectTimeout, InvalidMessage, RequestTimeout,
                     connect)
from protocol.codec import EncodeError
from protocol.messages import admin, session as ms
from protocol.streams import Stream

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_async_with_connect_logs_in_and_out(gateway):
    async with connect("127.0.0.1", gateway.port, user="CPA01", password="pass-CPA01") as c:
        assert c.connected
        answer = await c.query(ms.BusinessDateQuery())
        assert answer.business_date == "20261123"
    assert not c.connected
    # the session is over on the server too: the same user logs in again without forcing
    async with connect("127.0.0.1", gateway.port, user="CPA01", password="pass-CPA01") as again:
        assert again.connected


async def test_await_connect_and_the_old_spelling_keep_working(gateway):
    c = await connect("127.0.0.1", gateway.port, user="CPA01", password="pass-CPA01")
    assert (await c.query(ms.BusinessDateQuery())).business_date == "20261123"
    await c.close()
    async with await connect("127.0.0.1", gateway.port, user="CPB02", password="pass-CPB02") as c2:
        assert c2.connected
    assert not c2.connected


async def test_a_normal_close_prints_nothing_but_is_logged(gateway, capsys, caplog):
    with caplog.at_level(logging.INFO, logger="clients.sdk"):
        async with connect("127.0.0.1", gateway.port, user="CPA01", password="pass-CPA01") as c:
            await c.query(ms.BusinessDateQuery())
        await asyncio.sleep(0.05)
    out = capsys.readouterr()
    assert "session_ended" not in out.out and "session_ended" not in out.err
    assert any(r.name == "clients.sdk" and r.getMessage().startswith("session_ended") for r in caplog.records)


async def test_cli_json_output_is_pure_json(gateway):
    """In a fresh process (no logging configured), as a user runs it: every stdout line is JSON."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "clients", "--port", str(gateway.port), "-u", "CPA01", "-p", "pass-CPA01", "--json",
        "send", "UQ12", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err.decode()
    lines = out.decode().splitlines()
    assert lines and all(isinstance(json.loads(line), dict) for line in lines)
    assert json.loads(lines[-1])["code"] == "UA12"
    assert err.decode() == ""


async def test_connection_refused_is_a_client_error():
    port = _free_port()
    with pytest.raises(ConnectionRefused) as e:
        await connect("127.0.0.1", port, user="CPA01", password="pass-CPA01")
    assert isinstance(e.value, ClientError) and isinstance(e.value, ConnectionRefusedError)
    assert str(port) in str(e.value)
    with pytest.raises(ConnectionRefused):
        async with connect("127.0.0.1", port, user="CPA01", password="pass-CPA01"):
            pass


async def test_timeouts_are_client_errors():
    """A listener that never answers: the login times out; over TLS the handshake does."""
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        with pytest.raises(RequestTimeout) as e:
            await connect("127.0.0.1", port, user="CPA01", password="pass-CPA01", request_timeout=0.3)
        assert isinstance(e.value, ClientError) and isinstance(e.value, asyncio.TimeoutError)
        with pytest.raises(ConnectTimeout) as e:
            await connect("127.0.0.1", port, user="CPA01", password="pass-CPA01", connect_timeout=0.3,
                          ssl=ssl.create_default_context())
        assert isinstance(e.value, ClientError) and isinstance(e.value, TimeoutError)
    finally:
        server.close()
        await server.wait_closed()


async def test_next_broadcast_timeout_is_a_client_error(gateway):
    async with connect("127.0.0.1", gateway.port, user="CPA01", password="pass-CPA01") as c:
        with pytest.raises(BroadcastTimeout) as e:
            await c.next_broadcast(0.1, code="BI27")
        assert isinstance(e.value, ClientError) and isinstance(e.value, asyncio.TimeoutError)


@pytest.mark.parametrize("bad, field", [
    (admin.CreateUserRequest(user="U" * 40, password="p"), "user"),        # text too long
    (admin.CreateUserRequest(user="ü", password="p"), "user"),             # not ASCII
    (admin.CreateUserRequest(user="U", password="p", profile=77), "profile"),  # no such enumeration value
    (admin.CreateUserRequest(user="U", password="p", functions=-1), "functions"),  # out of range
    (admin.CreateUserRequest(user="U", password="p", functions="x"), "functions"),  # not a number
    (ms.SubscribeRequest(items=[1]), "items[0]"),                           # an item that is no record
    (ms.SubscriptionItem(stream=1), ""),                                    # a record, not a message
])
async def test_a_value_that_does_not_encode_is_an_invalid_message_and_changes_nothing(gateway, bad, field):
    async with connect("127.0.0.1", gateway.port, user="CPA01ADM", password="pass-CPA01ADM") as c:
        pending = dict(c.machine.pending)
        with pytest.raises(InvalidMessage) as e:
            await c.transact(bad)
        assert isinstance(e.value, ClientError) and isinstance(e.value, EncodeError)
        assert e.value.field == field
        assert c.machine.pending == pending and c.connected
        # the session goes on: the next request is answered
        assert (await c.query(ms.BusinessDateQuery())).business_date == "20261123"


def _readme_example() -> str:
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    [example] = [b for b in blocks if "from clients import connect" in b]
    return example


def test_the_readme_example_uses_async_with_connect():
    assert "async with connect(" in _readme_example()


async def test_the_readme_example_runs_against_a_gateway(gateway, operator):
    """The README's example, as a user runs it (its own process), only the port changed."""
    code = _readme_example().replace("7600", str(gateway.port))
    assert str(gateway.port) in code
    proc = await asyncio.create_subprocess_exec(sys.executable, "-c", code, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE)

    from protocol.messages import system as sy

    def subscribed() -> bool:
        return any(c.user is not None and c.user.user == "CPA01"
                   and any(sub.stream == Stream.GENERAL for sub in c.subs.values()) for c in gateway.connections)

    async def announce():   # once the example's session has subscribed (however slowly its process starts)
        for _ in range(600):
            if subscribed() or proc.returncode is not None:
                break
            await asyncio.sleep(0.05)
        await operator.transact(sy.SendClearingMessageRequest(lines=[sy.MessageLine(text="from the readme test")]))
    task = asyncio.create_task(announce())
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    await task
    assert proc.returncode == 0, err.decode()
    lines = out.decode().splitlines()
    assert lines[0].startswith("BusinessDateAnswer(") and "business_date='20261123'" in lines[0]
    assert any(line.startswith(f"{int(Stream.GENERAL)} ") and "from the readme test" in line for line in lines[1:])
    assert err.decode() == ""
