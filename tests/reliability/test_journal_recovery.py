"""Journal files and recovery, in process: records, rejections, resets, snapshots, damage, refusals."""
from __future__ import annotations

import asyncio
import os
from datetime import datetime
from pathlib import Path

import pytest

from gateway.clearing.core import EndOfDay, SendClearingMessage, SetBusinessTime, Tick
from gateway.clearing.errors import ClearingError
from gateway.handlers import RequestContext
from gateway.journal import JournalCorrupt, JournalError
from gateway.journal import snapshot as snap
from gateway.journal.format import FILE_HEADER_SIZE, MARK, Reader
from gateway.journal.writer import Journal
from gateway.server import Gateway
from protocol.kinds import Kind
from protocol.messages import session as ms
from protocol.messages import system as m
from protocol.streams import Stream
from tests.conftest import settings
from tests.raw import Raw


def make(path: Path, **kw) -> Gateway:
    return Gateway(settings(journal_path=str(path), snapshot_every=0, **kw))


def op(gw: Gateway) -> RequestContext:
    return RequestContext(gw, "OPER1", None, True, "operator", gw.now())


def state(gw: Gateway):
    return (gw.core.state_hash(), gw.streams.business_date,
            {k: [e.frame for e in lg.entries] for k, lg in gw.streams.logs.items()},
            {k: [e.frame for e in lg.entries] for k, lg in gw.streams.previous.items()})


def drive(gw: Gateway, n: int = 5) -> None:
    for i in range(n):
        gw.execute(SendClearingMessage((f"m{i}",)), op(gw))
    gw.execute(Tick(10), None)
    gw.execute(SetBusinessTime(datetime(2026, 11, 23, 18, 30)), op(gw))
    gw.execute(EndOfDay(), op(gw))
    gw.execute(SendClearingMessage(("next day",)), op(gw))


def reopen(gw: Gateway, path: Path, **kw) -> Gateway:
    gw.journal.close()
    return make(path, **kw)


def test_replay_rebuilds_core_streams_and_rejections(tmp_path):
    path = tmp_path / "j"
    gw = make(path)
    drive(gw)
    with pytest.raises(ClearingError):  # rejected: journaled (write-ahead) and replays to the same rejection
        gw.execute(SetBusinessTime(datetime(2026, 1, 1)), op(gw))
    with pytest.raises(ClearingError):  # a participant may not send operator commands
        gw.execute(SendClearingMessage(("x",)), RequestContext(gw, "CPA01", "CPA01", False, "participant", gw.now()))
    before = state(gw)
    gw2 = reopen(gw, path)
    assert state(gw2) == before
    assert gw2.core.now == datetime(2026, 11, 23, 18, 30)
    assert gw2.clock.now() == gw2.core.now  # the business clock resumes at the recovered time
    gw2.journal.close()
    with Reader(path) as r:
        kinds = [rec.kind for rec in r.records()]
    assert kinds[0] == "open" and kinds.count("cmd") == 11


def test_operator_reset_is_journaled(tmp_path):
    path = tmp_path / "j"
    gw = make(path)
    drive(gw, 3)
    gw.reset(datetime(2026, 12, 1, 8), op(gw))
    gw.execute(SendClearingMessage(("after reset",)), op(gw))
    before = state(gw)
    gw2 = reopen(gw, path)
    assert state(gw2) == before
    assert str(gw2.core.business_date) == "2026-12-01"
    gw2.journal.close()


def test_snapshot_used_then_corrupt_snapshot_rejected(tmp_path):
    path = tmp_path / "j"
    gw = make(path)
    drive(gw)
    assert gw.journal.take_snapshot(background=False) > 0
    gw.execute(SendClearingMessage(("after the snapshot",)), op(gw))
    before = state(gw)
    gw2 = reopen(gw, path)
    assert state(gw2) == before
    gw2.journal.close()
    # a snapshot whose bytes were damaged is not trusted: full replay, same state
    sp = snap.snapshot_path(path)
    raw = bytearray(sp.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    sp.write_bytes(bytes(raw))
    gw3 = make(path)
    assert state(gw3) == before
    gw3.journal.close()


@pytest.mark.parametrize("written, used", [(snap.FORMAT, True), (snap.FORMAT + 1, False), (4, False), (3, False),
                                           (2, False)])
def test_snapshot_formats_read_and_refused(tmp_path, monkeypatch, written, used):
    path = tmp_path / "j"
    gw = make(path)
    drive(gw, 2)
    monkeypatch.setattr(snap, "FORMAT", written)
    assert gw.journal.take_snapshot(background=False) > 0
    monkeypatch.undo()
    before = state(gw)
    gw2 = reopen(gw, path)
    assert state(gw2) == before
    assert (gw2.journal.snapshot_seq > 0) is used   # else refused: the whole journal replayed
    gw2.journal.close()


def test_a_snapshot_that_would_rebuild_another_state_is_never_written(tmp_path, monkeypatch):
    path = tmp_path / "j"
    gw = make(path)
    assert gw.journal.schedule.enabled   # by time and size
    drive(gw)
    real = snap.core_state

    def tampered(core):  # bytes that rebuild a different state than the core they were taken from
        n = core.module("system").message_number
        core.module("system").message_number = 999
        try:
            return real(core)
        finally:
            core.module("system").message_number = n
    monkeypatch.setattr(snap, "core_state", tampered)
    import structlog
    with structlog.testing.capture_logs() as events:
        assert gw.journal.take_snapshot(background=False) == 0
    assert not snap.snapshot_path(path).exists() and not gw.journal.schedule.enabled
    assert any(e["event"] == "snapshot_unavailable" and "rebuilt from the snapshot" in e["reason"] for e in events)
    before = state(gw)
    gw.journal.close()
    gw2 = make(path)
    assert state(gw2) == before
    gw2.journal.close()


def test_snapshot_bytes_that_differ_from_their_digest_are_rejected(tmp_path):
    """A snapshot whose core bytes are not those that were checked when it was built (here: another
    state's, under a valid file checksum) is not used: full replay, same state."""
    path = tmp_path / "j"
    gw = make(path)
    drive(gw)
    other = snap.core_state(gw.core)
    gw.execute(SendClearingMessage(("after",)), op(gw))
    assert gw.journal.take_snapshot(background=False) > 0
    before = state(gw)
    gw.journal.close()
    sp = snap.snapshot_path(path)
    body = snap.read(sp)
    body["core"] = other
    sp.write_bytes(snap.encode(body))
    import structlog
    with structlog.testing.capture_logs() as events:
        gw2 = make(path)
    assert state(gw2) == before
    assert any(e["event"] == "snapshot_rejected" and "digest" in e["reason"] for e in events)
    gw2.journal.close()


def test_periodic_snapshots_in_the_background(tmp_path):
    async def main():
        path = tmp_path / "j"
        gw = Gateway(settings(journal_path=str(path), snapshot_every=5))
        await gw.start()
        for i in range(12):
            gw.execute(SendClearingMessage((f"m{i}",)), op(gw))
            await asyncio.sleep(0)
        for _ in range(100):
            await asyncio.sleep(0.01)
            body = snap.read(snap.snapshot_path(path))
            if body and body["seq"] >= 11:
                break
        assert body["seq"] >= 11
        before = state(gw)
        await gw.stop()   # final snapshot at the last record
        assert snap.read(snap.snapshot_path(path))["seq"] == 13
        gw2 = make(path)
        assert state(gw2) == before
        gw2.journal.close()
    asyncio.run(main())


def _records(path: Path):
    with Reader(path) as r:
        return list(r.records())


def test_torn_tail_is_cut_and_reported(tmp_path):
    path = tmp_path / "j"
    gw = make(path)
    drive(gw, 3)
    gw.journal.close()
    recs = _records(path)
    last = recs[-1]
    good = state(make_readonly(path, upto=len(recs) - 1))
    for cut in (1, 5, 12, (last.end - last.offset) - 1):
        data = path.read_bytes()[:last.end]
        path.write_bytes(data[:last.end - cut])
        gw2 = make(path)
        assert state(gw2) == good, f"cut {cut}"
        gw2.journal.close()
        assert path.stat().st_size == last.offset, "truncated to the last whole record"
        path.write_bytes(data)
    # zeros after the last record (preallocated space): torn tail too
    with open(path, "ab") as f:
        f.write(b"\x00" * 100)
    gw3 = make(path)
    gw3.journal.close()
    assert path.stat().st_size == last.end


def make_readonly(path: Path, upto: int) -> Gateway:
    """The state after records 1..upto (a copy of the journal cut there)."""
    recs = _records(path)
    copy = path.with_name("copy")
    copy.write_bytes(path.read_bytes()[:recs[upto - 1].end])
    gw = make(copy)
    gw.journal.close()
    return gw


def test_corruption_in_the_middle_stops_the_start(tmp_path):
    path = tmp_path / "j"
    gw = make(path)
    drive(gw, 5)
    gw.journal.close()
    recs = _records(path)
    size = path.stat().st_size
    mid = recs[len(recs) // 2]
    for where in (mid.offset + 14, mid.offset + 5, mid.offset):   # payload, length, mark
        data = bytearray(path.read_bytes())
        data[where] ^= 0x5A
        bad = tmp_path / f"bad{where}"
        bad.write_bytes(bytes(data))
        with pytest.raises(JournalCorrupt) as e:
            make(bad)
        assert f"corrupt at byte {mid.offset}" in str(e.value) and "not a torn tail" in str(e.value)
        assert bad.stat().st_size == size, "nothing was cut"


def test_not_a_journal_is_left_alone(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("my precious notes, not a journal\n")
    with pytest.raises(JournalError, match="not a journal"):
        make(path)
    assert path.read_text() == "my precious notes, not a journal\n"


def test_journal_in_use_by_another_process_is_refused(tmp_path):
    path = tmp_path / "j"
    gw = make(path)
    with pytest.raises(JournalError, match="in use"):
        make(path)
    gw.journal.close()


def test_journal_of_other_modules_is_refused(tmp_path):
    path = tmp_path / "j"
    fd = Journal.lock(path)
    Journal.create(path, fd, datetime(2026, 11, 23, 9), ["system", "something-else"]).close()
    with pytest.raises(JournalError, match="modules"):
        make(path)


def test_torn_first_record_starts_a_new_journal(tmp_path):
    path = tmp_path / "j"
    gw = make(path)
    gw.journal.close()
    path.write_bytes(path.read_bytes()[:FILE_HEADER_SIZE + 20])
    gw2 = make(path)
    gw2.execute(SendClearingMessage(("x",)), op(gw2))
    gw2.journal.close()
    assert [r.kind for r in _records(path)] == ["open", "cmd"]


def test_missing_record_number_stops_the_start(tmp_path):
    path = tmp_path / "j"
    gw = make(path)
    drive(gw, 3)
    gw.journal.close()
    recs = _records(path)
    data = path.read_bytes()
    path.write_bytes(data[:recs[2].offset] + data[recs[3].offset:])   # drop record 3 cleanly
    with pytest.raises(JournalError, match="record number 4"):
        make(path)


def test_a_whole_record_whose_command_cannot_be_rebuilt_stops_the_start_and_is_not_cut(tmp_path):
    from gateway.journal.format import encode_record
    path = tmp_path / "j"
    gw = make(path)
    drive(gw, 2)
    gw.journal.close()
    recs = _records(path)
    # a whole record (its checksum right) naming a class this gateway does not have: not damage
    bad = {"k": "cmd", "n": recs[-1].n + 1, "ctx": recs[1].payload["ctx"],
           "cmd": {"$c": "gateway.clearing.core:NoSuchCommand", "f": {}}}
    with open(path, "ab") as f:
        f.write(encode_record(bad))
    size = path.stat().st_size
    with pytest.raises(JournalError, match=f"record {bad['n']}: cannot rebuild the command"):
        make(path)
    assert path.stat().st_size == size        # not taken for a torn tail: nothing cut
    assert [r.n for r in _records(path)][-1] == bad["n"]


def test_a_command_that_cannot_be_journaled_is_refused_before_it_runs(tmp_path):
    from dataclasses import dataclass

    @dataclass(frozen=True)
    class Local:  # not findable by name in a fresh process
        x: int = 1
    path = tmp_path / "j"
    gw = make(path)
    h = gw.core.state_hash()
    with pytest.raises(Exception):
        gw.execute(SendClearingMessage((Local(),)), op(gw))
    assert gw.core.state_hash() == h
    gw.journal.close()
    assert [r.kind for r in _records(path)] == ["open"]


# ---------------------------------------------------------------- over the socket, in process
def _hold_check(gw: Gateway, seen: list) -> None:
    """Wrap every socket write: nothing may leave while journal records are not on disk."""
    import gateway.server as srv
    orig = srv.Connection.write_now

    def write_now(conn, *a, **kw):
        if conn.machine._out:
            seen.append(gw.journal.journal.unsynced)
        return orig(conn, *a, **kw)
    srv.Connection.write_now = write_now
    return orig


@pytest.mark.parametrize("flush", ["always", "group"])
async def test_nothing_leaves_before_it_is_on_disk(tmp_path, flush):
    import gateway.server as srv
    from clients import Client
    gw = Gateway(settings(journal_path=str(tmp_path / "j"), journal_flush=flush, journal_group_ms=30.0))
    await gw.start()
    seen: list = []
    orig = _hold_check(gw, seen)
    try:
        sub = Client("127.0.0.1", gw.port, "CPA01", "pass-CPA01")
        await sub.connect()
        await sub.subscribe(Stream.GENERAL)
        opc = Client("127.0.0.1", gw.port, "OPER1", "pass-OPER1")
        await opc.connect()
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        await asyncio.gather(*(opc.transact(m.SendClearingMessageRequest(lines=[m.MessageLine(text=f"g{i}")]))
                               for i in range(20)))
        dt = loop.time() - t0
        got = [await sub.next_broadcast(2) for _ in range(20)]
        assert [b.message.lines[0].text for b in got] == [f"g{i}" for i in range(20)]
        assert seen and all(u == 0 for u in seen), "every write happened with every journal record synced"
        j = gw.journal.journal
        if flush == "group":
            assert j.syncs < j.appended, "records were synced in groups"
            assert dt >= 0.025, "the acknowledgements waited for the group's sync"
        else:
            assert j.syncs >= j.appended
        await opc.close()
        await sub.close()
    finally:
        srv.Connection.write_now = orig
        await gw.stop()


async def test_password_change_survives_a_restart(tmp_path):
    from clients import Client
    from clients.errors import LoginRejected
    path = tmp_path / "j"
    gw = Gateway(settings(journal_path=str(path)))
    await gw.start()
    c = Client("127.0.0.1", gw.port, "CPB02", "pass-CPB02")
    await c.connect()
    await c.request(ms.ChangePasswordRequest(old_password="pass-CPB02", new_password="n3w-Secret"))
    await c.close()
    await gw.stop()
    gw2 = Gateway(settings(journal_path=str(path)))
    await gw2.start()
    try:
        c2 = Client("127.0.0.1", gw2.port, "CPB02", "n3w-Secret")
        await c2.connect()
        await c2.close()
        with pytest.raises(LoginRejected):
            await Client("127.0.0.1", gw2.port, "CPB02", "pass-CPB02", auto_reconnect=False).connect()
    finally:
        await gw2.stop()
    with Reader(path) as r:
        pw = [rec.payload for rec in r.records() if rec.kind == "password"]
    assert pw and pw[0]["hash"].startswith("scrypt$") and "n3w-Secret" not in str(pw)


async def test_resume_after_restart_has_no_gap_and_no_duplicate(tmp_path):
    """In process: a client that saw broadcasts 1..k resumes after a restart and gets k+1.. exactly."""
    path = tmp_path / "j"
    gw = Gateway(settings(journal_path=str(path)))
    await gw.start()
    port = gw.port
    for i in range(10):
        gw.execute(SendClearingMessage((f"a{i}",)), op(gw))
    await gw.stop()
    gw2 = Gateway(settings(journal_path=str(path), port=port))
    await gw2.start()
    try:
        raw = await Raw.open(gw2.port)
        f = await raw.login("CPA01", resume=[ms.ResumePoint(stream=Stream.GENERAL, business_date=20261123,
                                                            last_sequence=4)])
        assert f.kind == Kind.REPLY
        raw.send_msg(ms.SubscribeRequest(items=[ms.SubscriptionItem(stream=Stream.GENERAL)]), 2)
        seqs = []
        while len(seqs) < 6:
            fr = await raw.next()
            if fr.kind == Kind.BROADCAST:
                seqs.append((fr.sequence, raw.decode(fr).lines[0].text))
        assert seqs == [(i + 1, f"a{i}") for i in range(4, 10)]
        raw.close()
    finally:
        await gw2.stop()


class Ticker:
    """A test module: every business hour that passes is announced (a general-stream heartbeat)."""

    name = "ticker"

    def __init__(self, core):
        self.core = core
        self.hours = 0

    def commands(self):
        return {}

    def queries(self):
        return {}

    def on_time(self, now):
        from gateway.clearing.core import Heartbeat
        h = now.hour
        out = [Heartbeat(interval=h, now=now)] if h != self.hours else []
        self.hours = h
        return out

    def on_events(self, events, ctx):
        return []

    def end_of_day(self, ctx):
        return []

    def start_of_day(self, ctx, d):
        return []

    def snapshot(self):
        return {"hours": self.hours}


def test_rejected_command_replays_the_time_that_passed(tmp_path):
    """A rejected command still moved business time: what fell due was broadcast live, and the replay
    of the (journaled) rejected command publishes it again at the same sequence numbers."""
    path = tmp_path / "j"

    def mk():
        from gateway.refdata import module_factories
        return Gateway(settings(journal_path=str(path), snapshot_every=0), module_factories=module_factories() + [Ticker])
    gw = mk()
    gw.clock.set(datetime(2026, 11, 23, 11, 30))
    cpa = RequestContext(gw, "CPA01", "CPA01", False, "participant", gw.now())
    with pytest.raises(ClearingError):
        gw.execute(SendClearingMessage(("not yours",)), cpa)   # OPERATOR_ONLY, after time passed to 11:30
    assert gw.streams.last_sequence(Stream.GENERAL, None) >= 1
    before = state(gw)
    gw.journal.close()
    gw2 = mk()
    assert state(gw2) == before
    gw2.journal.close()


async def test_users_after_a_reset_recover_as_they_were_live(tmp_path):
    """A password change, then an operator reset (EC5): the recovered users are the live users."""
    from clients import Client
    path = tmp_path / "j"
    gw = Gateway(settings(journal_path=str(path)))
    await gw.start()
    c = Client("127.0.0.1", gw.port, "CPB02", "pass-CPB02", auto_reconnect=False)
    await c.connect()
    await c.request(ms.ChangePasswordRequest(old_password="pass-CPB02", new_password="before-reset-1"))
    await c.close()
    opc = Client("127.0.0.1", gw.port, "OPER1", "pass-OPER1", auto_reconnect=False)
    await opc.connect()
    await opc.transact(m.ResetEmulatorRequest(business_date="20261124", business_time="090000"))
    await opc.close()
    live = {u: (x.password_hash, x.password_changed) for u, x in gw.users.users.items()}
    await gw.stop()
    for snapshot in (True, False):   # from the final snapshot, then by a full replay
        if not snapshot:
            snap.snapshot_path(path).unlink()
        gw2 = make(path)
        assert {u: (x.password_hash, x.password_changed) for u, x in gw2.users.users.items()} == live
        assert str(gw2.core.business_date) == "2026-11-24"
        gw2.journal.close()


def test_unpicklable_state_turns_snapshots_off_and_replay_still_works(tmp_path):
    path = tmp_path / "j"
    gw = make(path)
    drive(gw, 2)
    gw.core.module("system").hook = lambda: None      # state a snapshot cannot hold
    assert gw.journal.take_snapshot(background=False) == 0
    assert not gw.journal.schedule.enabled and not snap.snapshot_path(path).exists()
    del gw.core.module("system").hook
    before = state(gw)
    gw2 = reopen(gw, path)
    assert state(gw2) == before
    gw2.journal.close()


def test_a_truncated_snapshot_is_rejected_and_the_journal_replayed(tmp_path):
    path = tmp_path / "j"
    gw = make(path)
    drive(gw)
    assert gw.journal.take_snapshot(background=False) > 0
    before = state(gw)
    gw.journal.close()
    sp = snap.snapshot_path(path)
    sp.write_bytes(sp.read_bytes()[:-1])   # one byte short
    import structlog
    with structlog.testing.capture_logs() as events:
        gw2 = make(path)
    assert state(gw2) == before
    assert any(e["event"] == "snapshot_rejected" and "length" in e["reason"] for e in events)
    gw2.journal.close()
