"""Garbage over real sockets: every hostile connection gets a documented error or a closed
connection, the gateway logs no internal error, and a well-behaved session is served throughout."""
from __future__ import annotations

import asyncio
import random

import pytest
import structlog

from protocol.framing import FrameDecoder, encode_frame
from protocol.kinds import Kind
from protocol.messages import session as ms
from protocol.registry import encode_message
from protocol.status import SessionStatus as St
from tests.conftest import settings
from tests.fuzz.conftest import examples, tried
from tests.fuzz.test_frames_and_messages import VALID

SEED = 20261123
DOCUMENTED = {int(s) for s in St}
LOGIN = encode_frame(Kind.LOGIN, encode_message(ms.LoginRequest(user="CPC03", password="pass-CPC03", forced=True)), 1)


@pytest.fixture
def gateway_settings():
    return settings(login_timeout=1.0, max_frame_size=8192, login_failures_before_lock=1000)


def hostile(rnd: random.Random) -> tuple[str, bytes]:
    """One hostile input (name, bytes)."""
    payloads = list(VALID.values())
    how = rnd.choice(["random", "random_after_login", "oversize", "short_length", "bad_version", "mutated",
                      "wrong_kind", "unknown_type", "truncated_then_close", "many_small", "login_garbage"])
    if how == "random":
        data = rnd.randbytes(rnd.randint(1, 3000))
    elif how == "random_after_login":
        data = LOGIN + rnd.randbytes(rnd.randint(1, 3000))
    elif how == "oversize":
        data = (rnd.randint(8193, 2**32 - 1)).to_bytes(4, "big") + b"\x01" + rnd.randbytes(50)
    elif how == "short_length":
        data = rnd.randint(0, 39).to_bytes(4, "big") + rnd.randbytes(60)
    elif how == "bad_version":
        f = bytearray(LOGIN)
        f[4] = rnd.choice([0, 2, 255])
        data = bytes(f)
    elif how == "mutated":
        f = bytearray(LOGIN + encode_frame(rnd.choice([3, 4, 5]), rnd.choice(payloads), 2))
        for _ in range(rnd.randint(1, 8)):
            f[rnd.randrange(len(f))] = rnd.randrange(256)
        data = bytes(f)
    elif how == "wrong_kind":
        data = LOGIN + encode_frame(rnd.choice([16, 17, 18, 0, 99]), rnd.choice(payloads), 2)
    elif how == "unknown_type":
        data = LOGIN + encode_frame(Kind.QUERY, b"ZZ" + rnd.randbytes(2 + rnd.randint(0, 40)), 2)
    elif how == "truncated_then_close":
        f = LOGIN + encode_frame(Kind.QUERY, rnd.choice(payloads), 2)
        data = f[:rnd.randint(1, len(f) - 1)]
    elif how == "many_small":
        data = LOGIN + b"".join(encode_frame(rnd.choice([3, 4, 5, 6]), rnd.choice(payloads), i) for i in range(2, 60))
    else:
        data = encode_frame(Kind.LOGIN, rnd.choice(payloads), 1)
    return how, data


async def attack(port: int, how: str, data: bytes, rnd: random.Random) -> tuple[str, list, bool]:
    r, w = await asyncio.open_connection("127.0.0.1", port)
    pos = 0
    while pos < len(data):   # in random pieces
        n = rnd.randint(1, 700)
        w.write(data[pos:pos + n])
        pos += n
        if rnd.random() < 0.3:
            await asyncio.sleep(0)
    dec = FrameDecoder(1 << 20)
    frames, closed = [], False
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 3.0
    try:
        while loop.time() < deadline:
            try:
                chunk = await asyncio.wait_for(r.read(65536), max(0.01, min(0.3, deadline - loop.time())))
            except asyncio.TimeoutError:
                if frames or how in ("truncated_then_close",):
                    break
                continue
            if not chunk:
                closed = True
                break
            frames += dec.feed(chunk)
    except ConnectionError:
        closed = True
    w.close()
    return how, frames, closed


async def test_garbage_connections_while_a_good_session_is_served(gateway, connect):
    rnd = random.Random(SEED)
    good = await connect("CPA01")
    served = {"n": 0}
    stop = asyncio.Event()

    async def keep_querying():
        while not stop.is_set():
            a = await good.query(ms.BusinessDateQuery())
            assert a.business_date == "20261123"
            served["n"] += 1
            await asyncio.sleep(0.005)
    keeper = asyncio.create_task(keep_querying())
    n = examples(100)
    with structlog.testing.capture_logs() as logs:
        for batch in range(0, n, 20):
            inputs = [hostile(rnd) for _ in range(min(20, n - batch))]
            results = await asyncio.gather(*(attack(gateway.port, how, data, random.Random(rnd.random()))
                                             for how, data in inputs))
            for how, frames, closed in results:
                tried("socket: hostile connections")
                for f in frames:
                    assert f.kind in (Kind.REPLY, Kind.REJECT, Kind.LOGOUT, Kind.HEARTBEAT), (how, f)
                    assert f.session_status in DOCUMENTED, (how, f.session_status)
                if how in ("random", "oversize", "short_length", "bad_version", "login_garbage"):
                    # cannot be framed, or not a login: an error then a closed connection
                    assert closed or not frames or frames[-1].kind in (Kind.REJECT, Kind.LOGOUT), how
                if how == "oversize":
                    assert frames and frames[0].session_status == St.FRAME_TOO_LARGE and closed
                if how == "short_length":
                    assert frames and frames[0].session_status == St.BAD_LENGTH and closed
    stop.set()
    await keeper
    assert served["n"] > 10, "the good session was served all along"
    assert (await good.query(ms.BusinessDateQuery())).business_date == "20261123"
    bad = [e for e in logs if e.get("event") in ("internal_error",) or e.get("log_level") in ("error", "critical")]
    assert not bad, bad[:3]
    for _ in range(300):   # hostile connections are all gone (closed, or dropped by the login timeout)
        if len(gateway.connections) == 1:
            break
        await asyncio.sleep(0.01)
    assert len(gateway.connections) == 1
