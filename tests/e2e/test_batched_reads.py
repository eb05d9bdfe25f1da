"""One read of pipelined requests is one batch of the clearing core: the deals of one write are
each answered and each broadcast (BD6), but the position and the margin of an account they touched
are broadcast (BD40, BD101) once per read, from the state after all of them, in the same write as the
replies; a query in the middle of the read sees the batch so far settled."""
from __future__ import annotations

from gateway.clearing.core import ClearingCore, Context
from gateway.clearing.dcass import InjectDeal
from gateway.handlers.dcass import key_out
from protocol.framing import encode_frame
from protocol.kinds import Kind
from protocol.messages import dcass as d
from protocol.messages import session as ms
from protocol.registry import encode_message
from protocol.streams import Stream
from tests.raw import Raw

N = 20


def deal(key: bytes, i: int) -> d.InjectDealRequest:
    return d.InjectDealRequest(series=key_out(key), price=25_000 + i, quantity=1 + i % 3, buyer="CPA01",
                               seller="CPB02", buyer_account="HKCC-HOUSE", seller_account="HKCC-HOUSE",
                               buyer_open_close=d.OpenClose.OPEN, seller_open_close=d.OpenClose.OPEN)


async def operator(port: int) -> Raw:
    raw = await Raw.open(port)
    f = await raw.login("OPER1")
    assert f.kind == Kind.REPLY, Raw.decode(f)
    return raw


async def drain(client, quiet: float = 0.5) -> list:
    """Every broadcast until none comes for ``quiet`` seconds: (message type, message)."""
    out = []
    while True:
        try:
            b = await client.next_broadcast(timeout=quiet)
        except TimeoutError:
            return out
        out.append((b.code, b.message))


async def test_one_margin_broadcast_per_account_per_read(gateway, connect):
    a = await connect("CPA01")
    await a.subscribe(Stream.CLEARING)
    await a.subscribe(Stream.TRADES)
    raw = await operator(gateway.port)
    key = gateway.core.module("dcass").ref.by_name["HSI NOV26"].key
    raw.send(b"".join(encode_frame(Kind.TRANSACTION, encode_message(deal(key, i)), 100 + i) for i in range(N)))
    answered = set()
    while len(answered) < N:
        f = await raw.next(timeout=5)
        if f.kind in (Kind.REPLY, Kind.REJECT):
            assert f.kind == Kind.REPLY, Raw.decode(f)
            answered.add(f.request_id)
    told = await drain(a)
    trades = [m for code, m in told if code == "BD6"]
    margins = [m.margin for code, m in told if code == "BD101"]
    positions = [m.position for code, m in told if code == "BD40"]
    assert len(trades) == N                     # every deal is still told
    house = [m for m in margins if m.account_id == "HKCC-HOUSE"]
    # one per read of the gateway (the 20 frames normally arrive in one read; never one per deal)
    assert 1 <= len(house) < N // 2
    expected = gateway.core.module("dcass").account_margin("CPA01", "HKCC-HOUSE")["HKD"]
    assert house[-1].requirement == expected    # from the state after the whole batch
    assert 1 <= len(positions) < N // 2         # the position too, with its final quantities
    assert positions[-1].long == sum(1 + i % 3 for i in range(N))
    gateway.core.verify()
    raw.close()


async def test_a_query_in_a_read_sees_the_deals_before_it(gateway, connect):
    a = await connect("CPA01")
    raw = await operator(gateway.port)
    key = gateway.core.module("dcass").ref.by_name["HSI NOV26"].key
    frames = [encode_frame(Kind.TRANSACTION, encode_message(deal(key, i)), 200 + i) for i in range(5)]
    frames.append(encode_frame(Kind.QUERY, encode_message(d.MarginQuery(participant="CPA01",
                                                                        account_id="HKCC-HOUSE")), 300))
    frames.append(encode_frame(Kind.TRANSACTION, encode_message(deal(key, 9)), 301))
    raw.send(b"".join(frames))
    answer = None
    seen = 0
    while seen < 7:
        f = await raw.next(timeout=5)
        if f.kind in (Kind.REPLY, Kind.REJECT):
            seen += 1
            if f.request_id == 300:
                answer = Raw.decode(f)
    assert answer is not None, "no answer to the margin query"
    # what the five deals before it leave, computed apart: the sixth deal is not in the answer
    core = ClearingCore(gateway.core.now, module_factories=gateway.module_factories)
    ctx = Context(gateway.core.now, None, "test", True)
    for i in range(5):
        core.execute(InjectDeal(key, 25_000 + i, 1 + i % 3, "CPA01", "CPB02", "HKCC-HOUSE", "HKCC-HOUSE"), ctx)
    after_five = core.module("dcass").account_margin("CPA01", "HKCC-HOUSE")["HKD"]
    assert [(r.account_id, r.currency, r.requirement) for r in answer.items] == [("HKCC-HOUSE", "HKD", after_five)]
    assert gateway.core.module("dcass").account_margin("CPA01", "HKCC-HOUSE")["HKD"] != after_five
    raw.close()


async def test_a_session_request_in_a_read_ends_the_batch_before_it(gateway, connect):
    """A subscription or recovery request (and a login) ends the batch: the margin broadcast of the
    deals before it is in the stream log when it runs, not after it."""
    a = await connect("CPA01")
    raw = await operator(gateway.port)
    key = gateway.core.module("dcass").ref.by_name["HSI NOV26"].key
    seen: list[int] = []
    real = gateway.subscriptions.stream_status

    def stream_status(conn, frame, msg):   # UQ21: note the clearing stream of CPA01 when it runs
        seen.append(gateway.streams.last_sequence(int(Stream.CLEARING), "CPA01"))
        return real(conn, frame, msg)

    gateway.dispatcher.session_handlers["UQ21"] = stream_status
    frames = [encode_frame(Kind.TRANSACTION, encode_message(deal(key, i)), 400 + i) for i in range(3)]
    frames.append(encode_frame(Kind.QUERY, encode_message(ms.StreamStatusQuery()), 500))
    raw.send(b"".join(frames))
    for _ in range(4):
        while (await raw.next(timeout=5)).kind not in (Kind.REPLY, Kind.REJECT):
            pass
    assert seen and seen[0] >= 2     # the BD40 and BD101 of the three deals were logged before UQ21 ran
    raw.close()
    await a.close()
