"""A slow reader is cut off without stalling others; SIGTERM tells sessions and exits cleanly."""
from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.clearing.core import SendClearingMessage
from protocol.kinds import Kind
from protocol.messages import session as ms
from protocol.status import SessionStatus as St
from protocol.streams import Stream
from tests.conftest import settings
from tests.raw import Raw

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def gateway_settings():
    return settings(output_buffer_limit=256 * 1024)


async def test_slow_reader_cut_off_other_session_unaffected(gateway, connect):
    fast = await connect("CPA01")
    await fast.subscribe(Stream.GENERAL)
    # a reader with a tiny receive buffer that never reads
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", gateway.port))
    r, w = await asyncio.open_connection(sock=sock)
    slow = Raw(r, w)
    await slow.login("CPB02")
    slow.send_msg(ms.SubscribeRequest(items=[ms.SubscriptionItem(stream=Stream.GENERAL)]), 2)
    await slow.next_of(Kind.REPLY)
    assert "CPB02" in gateway.sessions
    lines = tuple("x" * 80 for _ in range(10))
    n = 4000  # ~3.4 MB of broadcasts
    received = 0
    for i in range(n):
        gateway.execute(SendClearingMessage(lines), None)
        gateway.flush()
        if i % 50 == 0:
            await asyncio.sleep(0)
            received += fast.pending_broadcasts()
            while fast.pending_broadcasts():
                fast._queue.get_nowait()
    for _ in range(200):
        if "CPB02" not in gateway.sessions:
            break
        await asyncio.sleep(0.01)
    assert "CPB02" not in gateway.sessions, "the slow reader was cut off"
    # the fast session received every broadcast, in order, and is still served
    last = None
    deadline = asyncio.get_running_loop().time() + 10
    while received < n and asyncio.get_running_loop().time() < deadline:
        b = await fast.next_broadcast(5)
        received += 1
        last = b.sequence
    assert received == n
    assert last in (None, n)
    assert (await fast.query(ms.BusinessDateQuery())).business_date == "20261123"
    # the slow reader, once it reads, finds the reason at the end of what was queued for it
    frames_seen = 0
    while True:
        try:
            f = await slow.next(timeout=5)
        except (ConnectionError, asyncio.TimeoutError):
            break
        frames_seen += 1
        if f.kind == Kind.LOGOUT:
            assert slow.decode(f).reason == St.SLOW_CONSUMER
            break
    slow.close()


async def test_what_a_slow_reader_gets_when_cut_off(gateway, connect):
    """As docs/protocol.md 3.12 says: the LOGOUT -2052 comes after what was already queued for the
    session, in order and without a gap, and nothing comes after it; the connection then closes."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", gateway.port))
    r, w = await asyncio.open_connection(sock=sock)
    slow = Raw(r, w)
    await slow.login("CPB02")
    slow.send_msg(ms.SubscribeRequest(items=[ms.SubscriptionItem(stream=Stream.GENERAL)]), 2)
    await slow.next_of(Kind.REPLY)
    lines = tuple("x" * 80 for _ in range(10))
    sent = 0
    for _ in range(8000):  # bounded: until the gateway cuts the reader off
        gateway.execute(SendClearingMessage(lines), None)
        gateway.flush()
        sent += 1
        if "CPB02" not in gateway.sessions:
            break
    assert "CPB02" not in gateway.sessions, "the slow reader was cut off"
    sequences, logout, after = [], None, 0
    while True:  # read at once: within the 2 s the gateway waits before it aborts
        try:
            f = await slow.next(timeout=5)
        except ConnectionError:
            break
        if logout is not None:
            after += 1
        elif f.kind == Kind.LOGOUT:
            logout = slow.decode(f)
        elif f.kind == Kind.BROADCAST:
            sequences.append(f.sequence)
    slow.close()
    assert logout is not None and logout.reason == St.SLOW_CONSUMER and after == 0
    assert sequences and sequences == list(range(sequences[0], sequences[0] + len(sequences)))  # no gap


def test_sigterm_shutdown_tells_sessions(tmp_path):
    port_file = tmp_path / "port"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    p = subprocess.Popen([sys.executable, "-m", "gateway", "--port", "0", "--port-file", str(port_file),
                          "--log-format", "json"], cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(100):
            if port_file.exists() and port_file.read_text():
                break
            import time
            time.sleep(0.05)
        port = int(port_file.read_text())

        async def client_part():
            raw = await Raw.open(port)
            assert (await raw.login("CPA01")).kind == Kind.REPLY
            p.send_signal(signal.SIGTERM)
            f = await raw.next_of(Kind.LOGOUT, timeout=5)
            assert raw.decode(f).reason == St.SERVER_SHUTDOWN
            assert await raw.closed()
        asyncio.run(client_part())
        assert p.wait(timeout=10) == 0
        err = p.stderr.read()
        assert '"event": "listening"' in err and '"event": "stopped"' in err and '"event": "login"' in err
    finally:
        if p.poll() is None:
            p.kill()
