"""Snapshots by record count, by time and by journal size (gateway/journal/schedule.py): each
trigger at its exact edge, each off at 0, bad values refused with the key named."""
from __future__ import annotations

import asyncio

import pytest

from gateway.clearing.core import SendClearingMessage
from gateway.config import ConfigError, Settings
from gateway.journal import snapshot as snap
from gateway.journal.schedule import SnapshotSchedule
from gateway.server import Gateway
from tests.conftest import settings
from tests.reliability.test_journal_recovery import op, state


# ------------------------------------------------------------------ the rule
def test_record_count_due_when_reached_exactly():
    s = SnapshotSchedule(records=100)
    assert s.due(99, 10**6, 10**9) is None
    assert s.due(100, 0.0, 0) == "records"


def test_time_due_when_the_interval_is_reached_exactly():
    s = SnapshotSchedule(seconds=30.0)
    assert s.due(1, 29.999999, 10**9) is None
    assert s.due(1, 30.0, 0) == "time"


def test_size_due_when_the_size_is_reached_exactly():
    s = SnapshotSchedule(bytes=4096)
    assert s.due(10**6, 10**6, 4095) is None
    assert s.due(1, 0.0, 4096) == "size"


def test_nothing_journaled_since_the_last_snapshot_is_never_due():
    s = SnapshotSchedule(records=1, seconds=1.0, bytes=1)
    assert s.due(0, 10**6, 10**9) is None


def test_zero_turns_each_trigger_off_and_all_zero_turns_snapshots_off():
    assert SnapshotSchedule(0, 0.0, 0).due(10**9, 10**9, 10**12) is None
    assert not SnapshotSchedule(0, 0.0, 0).enabled
    assert SnapshotSchedule(0, 0.0, 1).enabled and SnapshotSchedule(0, 1.0, 0).enabled
    assert SnapshotSchedule(records=5).due(5, 10**9, 10**12) == "records"   # the others off


@pytest.mark.parametrize("key", ["snapshot_every", "snapshot_seconds", "snapshot_bytes"])
def test_a_negative_setting_is_refused_with_its_key(tmp_path, key):
    cfg = tmp_path / "g.toml"
    cfg.write_text(f"{key} = -1\n")
    with pytest.raises(ConfigError, match=f"'{key}'.*0 \\(off\\) or more, got -1"):
        Settings.load(cfg)
    with pytest.raises(ConfigError, match=key):   # built in code, not loaded: refused at attach
        Gateway(settings(journal_path=str(tmp_path / "j"), **{key: -1}))
    assert not (tmp_path / "j").exists(), "nothing touched"


def test_the_defaults_take_snapshots_by_all_three():
    s = SnapshotSchedule.from_settings(Settings())
    assert s.records == 10000 and s.seconds == 60.0 and s.bytes == 16 * 1024 * 1024


# ------------------------------------------------------------------ in the gateway
class _FakeTimeLoop:
    """The running loop with a clock the test sets (the schedule reads ``loop.time()``)."""

    def __init__(self, loop, now: float):
        self._loop, self.now = loop, now

    def time(self) -> float:
        return self.now

    def __getattr__(self, name):
        return getattr(self._loop, name)


async def _until(cond, seconds: float = 20.0) -> None:
    for _ in range(int(seconds / 0.01)):
        if cond():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not reached in time")


def only(**kw) -> dict:
    base = {"snapshot_every": 0, "snapshot_seconds": 0.0, "snapshot_bytes": 0}
    base.update(kw)
    return base


async def test_a_snapshot_when_the_journal_grew_by_exactly_snapshot_bytes(tmp_path):
    path = tmp_path / "j"
    gw = Gateway(settings(journal_path=str(path), **only(snapshot_bytes=10**9)))
    await gw.start()
    try:
        d = gw.journal
        o0 = d.journal.offset
        gw.execute(SendClearingMessage(("m0",)), op(gw))
        size = d.journal.offset - o0               # one record; "m1", "m2" make records of the same size
        d.schedule = SnapshotSchedule(bytes=d.journal.offset + 2 * size - d.snapshot_offset)
        gw.execute(SendClearingMessage(("m1",)), op(gw))
        assert d.due() is None and d._child is None          # one byte short
        gw.execute(SendClearingMessage(("m2",)), op(gw))
        assert d.due() == "size"                               # reached exactly
        await _until(lambda: d._written_seq > 0)
        body = snap.read(snap.snapshot_path(path))
        assert body["seq"] == d.journal.next_n - 1 and body["end_offset"] == d.journal.offset
        assert d.due() is None and d.since_snapshot == 0
    finally:
        await gw.stop()


async def test_a_snapshot_when_exactly_snapshot_seconds_have_passed(tmp_path):
    path = tmp_path / "j"
    gw = Gateway(settings(journal_path=str(path), **only(snapshot_seconds=30.0)))
    await gw.start()
    try:
        d = gw.journal
        fake = _FakeTimeLoop(d.loop, d.snapshot_time)
        d.loop = fake
        fake.now = d.snapshot_time + 29.999
        gw.execute(SendClearingMessage(("early",)), op(gw))
        assert d.due() is None and not d._snapshot_scheduled
        fake.now = d.snapshot_time + 30.0
        assert d.due() == "time"
        gw.execute(SendClearingMessage(("on time",)), op(gw))
        assert d._snapshot_scheduled
        await _until(lambda: d._written_seq > 0)
        assert snap.read(snap.snapshot_path(path))["seq"] == d.journal.next_n - 1
        assert d.snapshot_time == fake.now and d.due() is None   # the interval starts again
    finally:
        d.loop = fake._loop
        await gw.stop()


async def test_a_quiet_gateway_snapshots_what_came_before_the_quiet(tmp_path):
    """The timer: records journaled, then nothing; the interval ends and the snapshot is taken
    without waiting for another record. Nothing journaled since: no further snapshot."""
    path = tmp_path / "j"
    gw = Gateway(settings(journal_path=str(path), **only(snapshot_seconds=0.3)))
    await gw.start()
    try:
        d = gw.journal
        gw.execute(SendClearingMessage(("before the quiet",)), op(gw))
        seq = d.journal.next_n - 1
        await _until(lambda: d._written_seq == seq)
        first = snap.snapshot_path(path).stat().st_mtime_ns
        await asyncio.sleep(0.8)                            # two more intervals, nothing journaled
        assert d._written_seq == seq and snap.snapshot_path(path).stat().st_mtime_ns == first
        before = state(gw)
    finally:
        await gw.stop()
    gw2 = Gateway(settings(journal_path=str(path), **only()))
    try:
        assert state(gw2) == before
    finally:
        gw2.journal.close()


def test_the_bytes_after_a_loaded_snapshot_count_towards_the_next(tmp_path):
    path = tmp_path / "j"
    gw = Gateway(settings(journal_path=str(path), **only(snapshot_bytes=10**9)))
    gw.execute(SendClearingMessage(("a",)), op(gw))
    assert gw.journal.take_snapshot(background=False) > 0
    gw.execute(SendClearingMessage(("b",)), op(gw))
    end = gw.journal.journal.offset
    gw.journal.journal.close()   # as a crash after "b": no final snapshot
    body = snap.read(snap.snapshot_path(path))
    gw2 = Gateway(settings(journal_path=str(path), **only(snapshot_bytes=10**9)))
    try:
        d = gw2.journal
        assert d.snapshot_offset == body["end_offset"] and d.since_snapshot == 1
        assert d.journal.offset - d.snapshot_offset == end - body["end_offset"] > 0
    finally:
        d.journal.close()
