"""Exactly-once transactions (docs/guides/sessions.md): a resend with the same client reference is
answered with the original answer and applied once, over a cut connection and across a SIGKILL."""
from __future__ import annotations

import asyncio

import pytest

from clients import Client
from clients.errors import RequestRejected
from gateway.clearing.errors import OPERATOR_ONLY
from gateway.references import REFERENCE_LIMIT, UNKNOWN, ReferenceBook
from protocol.framing import encode_frame
from protocol.kinds import Flag, Kind
from protocol.messages import session as ms
from protocol.messages import system as m
from protocol.registry import encode_message
from protocol.status import SessionStatus as St
from protocol.streams import Stream
from tests.conftest import settings
from tests.raw import Raw
from tests.reliability.proc import GatewayProcess

REF = 1_796_284_800_000_001


def clearing_message(text: str) -> m.SendClearingMessageRequest:
    return m.SendClearingMessageRequest(lines=[m.MessageLine(text=text)])


def referenced(msg, ref: int = REF, flags: int = int(Flag.REFERENCED)) -> bytes:
    return encode_frame(Kind.TRANSACTION, encode_message(msg), ref, flags=flags)


async def session(port: int, user: str) -> Raw:
    raw = await Raw.open(port)
    login = await raw.login(user, forced=True)
    assert login.kind == Kind.REPLY, login
    return raw


async def answer_of(raw: Raw, frame: bytes):
    raw.send(frame)
    while True:
        f = await raw.next()
        if f.kind in (Kind.REPLY, Kind.REJECT):
            return f


async def messages_sent(port: int, text: str) -> int:
    """How many BI27 of the general stream carry ``text`` (as the gateway logged them)."""
    op = Client("127.0.0.1", port, "OPER1", "pass-OPER1", auto_reconnect=False, forced=True)
    await op.connect()
    try:
        _, items = await op.recover(Stream.GENERAL, 1)
    finally:
        await op.close()
    return sum(1 for b in items if b.code == "BI27" and b.message.lines[0].text == text)


async def test_resend_after_a_cut_connection_gets_the_original_answer_and_applies_once(gateway):
    raw = await session(gateway.port, "OPER1")
    first = await answer_of(raw, referenced(clearing_message("once")))
    assert (first.kind, first.session_status, first.request_id) == (Kind.REPLY, 0, REF)
    raw.writer.transport.abort()  # the connection is cut
    raw = await session(gateway.port, "OPER1")
    again = await answer_of(raw, referenced(clearing_message("once")))
    assert (again.kind, again.session_status, again.request_id) == (Kind.REPLY, St.ALREADY_ANSWERED, REF)
    assert again.payload == first.payload and again.business_date == first.business_date
    # even with other content, the reference decides: nothing is applied again
    other = await answer_of(raw, referenced(clearing_message("other")))
    assert other.session_status == St.ALREADY_ANSWERED
    raw.writer.close()
    assert await messages_sent(gateway.port, "once") == 1
    assert await messages_sent(gateway.port, "other") == 0


async def test_without_the_flag_a_resend_is_a_new_transaction(gateway):
    raw = await session(gateway.port, "OPER1")
    for _ in range(2):
        f = await answer_of(raw, referenced(clearing_message("twice"), flags=0))
        assert (f.kind, f.session_status) == (Kind.REPLY, 0)
    raw.writer.close()
    assert await messages_sent(gateway.port, "twice") == 2


async def test_a_rejection_is_given_again_with_its_business_status(gateway):
    raw = await session(gateway.port, "CPA01")
    first = await answer_of(raw, referenced(clearing_message("not mine")))
    assert (first.kind, first.session_status, first.business_status) == \
        (Kind.REJECT, St.BUSINESS_REJECT, OPERATOR_ONLY.number)
    again = await answer_of(raw, referenced(clearing_message("not mine")))
    assert (again.kind, again.session_status, again.business_status) == \
        (Kind.REJECT, St.ALREADY_ANSWERED, OPERATOR_ONLY.number)
    assert again.payload == first.payload
    raw.writer.close()


async def test_references_are_per_user(gateway):
    a = await session(gateway.port, "OPER1")
    assert (await answer_of(a, referenced(clearing_message("by OPER1")))).session_status == 0
    # the same number from another user is another transaction (its own answer: a rejection)
    b = await session(gateway.port, "CPA01")
    f = await answer_of(b, referenced(clearing_message("by CPA01")))
    assert (f.session_status, f.business_status) == (St.BUSINESS_REJECT, OPERATOR_ONLY.number)
    a.writer.close()
    b.writer.close()


@pytest.fixture
def gateway_settings():
    """Every in-process gateway of this module keeps at most 2 references per user and day."""
    return settings(max_references=2)


async def test_the_bound_is_per_user_and_day_and_refuses_only_referenced_transactions(gateway):
    raw = await session(gateway.port, "OPER1")
    for i in range(2):
        assert (await answer_of(raw, referenced(clearing_message(f"r{i}"), REF + i))).session_status == 0
    # the limit itself is reached: a third reference is refused and changes nothing
    f = await answer_of(raw, referenced(clearing_message("r2"), REF + 2))
    assert (f.kind, f.session_status, f.business_status) == (Kind.REJECT, St.BUSINESS_REJECT, REFERENCE_LIMIT.number)
    # a known reference is still answered, and a transaction without one still runs
    assert (await answer_of(raw, referenced(clearing_message("r0"), REF))).session_status == St.ALREADY_ANSWERED
    assert (await answer_of(raw, referenced(clearing_message("plain"), REF + 3, flags=0))).session_status == 0
    raw.writer.close()
    assert await messages_sent(gateway.port, "r2") == 0
    assert await messages_sent(gateway.port, "plain") == 1


def test_the_book_keeps_one_business_date():
    book = ReferenceBook(limit=1)
    book.applied("CPA01", 7, 20261123)
    assert book.lookup("CPA01", 7, 20261123).frames is UNKNOWN
    assert book.full("CPA01", 20261123) and not book.full("CPA01", 20261124)
    book.answered("CPA01", 7, 20261123, (b"answer",))
    assert book.lookup("CPA01", 7, 20261123).frames == (b"answer",)
    assert book.lookup("CPA01", 7, 20261124) is None       # another day: another transaction
    book.applied("CPA01", 7, 20261124)                      # the new day drops the old one
    assert book.lookup("CPA01", 7, 20261123) is None and len(book) == 1
    restored = ReferenceBook()
    restored.load(book.dump())
    assert restored.lookup("CPA01", 7, 20261124).frames is UNKNOWN and restored.full("CPA01", 20261124) is False


async def test_the_sdk_resends_an_unanswered_transaction_once_reconnected(gateway, connect):
    op = await connect("OPER1", reconnect_delay=0.05)
    gw = gateway
    plain = gw.dispatch
    cut: list[int] = []

    def dispatch_then_cut(conn, frame, msg):  # the reply is lost: the connection drops once it is applied
        plain(conn, frame, msg)
        if msg.__message__.code == "EC3" and not cut:
            cut.append(frame.request_id)
            assert frame.flags & Flag.REFERENCED, "the SDK references every transaction"
            conn.abort()
    gw.dispatch = dispatch_then_cut
    answer = await asyncio.wait_for(op.transact(clearing_message("sdk once")), 10)
    assert isinstance(answer, ms.Ack)
    assert op.resent == 1 and op.reconnects == 1 and len(cut) == 1
    assert await messages_sent(gw.port, "sdk once") == 1
    # a rejected transaction resent the same way raises the original rejection
    peer = await connect("CPA01", reconnect_delay=0.05)
    cut.clear()
    with pytest.raises(RequestRejected) as e:
        await asyncio.wait_for(peer.transact(clearing_message("sdk no")), 10)
    assert e.value.business_status == OPERATOR_ONLY.number
    assert e.value.session_status in (St.BUSINESS_REJECT, St.ALREADY_ANSWERED)


@pytest.mark.parametrize("snapshot_every", [0, 1])
async def test_resend_after_kill_and_restart_on_the_journal(tmp_path, snapshot_every):
    gp = GatewayProcess(tmp_path, flush="group", snapshot_every=snapshot_every)
    try:
        await gp.astart()
        raw = await session(gp.port, "OPER1")
        first = await answer_of(raw, referenced(clearing_message("durable")))
        assert first.session_status == 0
        rej = await answer_of(raw, referenced(clearing_message("x"), REF + 1, flags=int(Flag.REFERENCED)))
        raw.writer.close()
        if snapshot_every:
            await asyncio.sleep(0.3)  # let the background snapshot reach the disk
        gp.kill()
        await gp.astart()
        raw = await session(gp.port, "OPER1")
        again = await answer_of(raw, referenced(clearing_message("durable")))
        assert (again.session_status, again.request_id, again.payload) == (St.ALREADY_ANSWERED, REF, first.payload)
        again = await answer_of(raw, referenced(clearing_message("x"), REF + 1))
        assert (again.kind, again.payload) == (rej.kind, rej.payload)
        raw.writer.close()
        assert await messages_sent(gp.port, "durable") == 1
        if snapshot_every:
            assert "snapshot at record" in str(gp.events(None, "journal_recovered"))
    finally:
        gp.cleanup()


async def test_applied_before_a_restart_without_its_answer_on_disk(tmp_path):
    """The process died between journaling the transaction and journaling its answer: the replay
    knows it was applied; a resend gets 'answer lost' with ALREADY_ANSWERED and runs nothing."""
    from gateway.clearing.core import SendClearingMessage
    from gateway.server import Gateway
    from tests.reliability.test_journal_recovery import op
    path = tmp_path / "j"
    gw = Gateway(settings(journal_path=str(path), snapshot_every=0))
    gw.current_reference = ("OPER1", REF, gw.streams.business_date)  # as dispatch sets it, then the crash
    gw.execute(SendClearingMessage(("lost answer",)), op(gw))
    gw.journal.close()
    gw = Gateway(settings(journal_path=str(path), snapshot_every=0))
    await gw.start()
    try:
        raw = await session(gw.port, "OPER1")
        f = await answer_of(raw, referenced(clearing_message("lost answer")))
        assert (f.kind, f.session_status, f.request_id) == (Kind.REPLY, St.ALREADY_ANSWERED, REF)
        assert Raw.decode(f).text == "applied; answer lost in a restart"
        raw.writer.close()
        assert await messages_sent(gw.port, "lost answer") == 1
    finally:
        await gw.stop()


async def test_a_transaction_answered_off_the_loop_is_answered_once(gateway):
    """UC500 hashes the new password in a thread and answers later: its answer is kept under the
    reference all the same, so a resend is not run again (no USER_EXISTS, no second user)."""
    from protocol.messages import admin as ad
    create = ad.CreateUserRequest(user="REFUSER1", password="Secret-123", profile=ad.UserProfile.FULL, functions=0)
    raw = await session(gateway.port, "CPA01ADM")
    first = await answer_of(raw, referenced(create))
    assert (first.kind, first.session_status) == (Kind.REPLY, 0), first
    raw.writer.transport.abort()
    raw = await session(gateway.port, "CPA01ADM")
    again = await answer_of(raw, referenced(create))
    assert (again.kind, again.session_status, again.payload) == (Kind.REPLY, St.ALREADY_ANSWERED, first.payload)
    raw.writer.close()
