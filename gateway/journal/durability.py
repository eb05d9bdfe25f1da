"""The gateway's side of the journal: recovery on start, journaling hooks, group commit, snapshots.

``attach(gateway)`` is called when ``journal_path`` is set. The journal reaches the gateway only
through the narrow interface of ``gateway.journal.host`` (install a recovered state, a fresh
state, a password, a user, publish, flush, fail-stop). It opens (or creates) the journal,
rebuilds the state (snapshot when a valid one exists, then the records after it; else every
record), re-publishes every replayed event into the broadcast logs without sending anything (so
every stream's sequence numbers resume exactly where they stopped), cuts a torn tail, and sets
``gateway.journal`` to a :class:`Durability`, which the gateway calls:

- ``append(command, ctx)`` in ``Gateway.execute`` before the core runs the command (write-ahead);
- ``reset(when)`` on an operator reset, ``password(...)`` when a user changes their password,
  ``user(u)`` when an Administrator creates a user or narrows its functions;
- ``holding()`` in ``Gateway.flush``: with the ``group`` policy, output waits until the records
  it depends on are on disk (a timer syncs every ``journal_group_ms`` and flushes);
- ``sync()`` before a connection is closed with data still queued;
- ``start(loop)`` once listening, ``close()`` on a clean stop (final snapshot).

Commands are journaled before they run, whether the core then accepts or rejects them: the core
rejects *before* changing anything and is deterministic, so a rejected command replays to the same
rejection and changes nothing (while the business time it carried still moves the clock exactly as
it did live). This keeps the write in front of every state change: a command that cannot be
written is refused and nothing changes; nothing runs that is not on disk.
"""
from __future__ import annotations

import gc
import os
import pickle
import signal
import threading
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import structlog

from gateway.clearing.core import ClearingCore, Context
from gateway.clearing.errors import ClearingError
from gateway.streams import ymd_int

from . import snapshot as snap
from gateway.references import decode_frames, encode_frames

from .codec import CodecError, context_from_plain, record_loads, registry
from .format import JournalCorrupt, JournalError, Reader
from .host import JournalHost, LiveJournalHost
from .schedule import OFF, SnapshotSchedule
from .users import user_from_plain, user_to_plain
from .writer import FORMAT, Journal, truncate

log = structlog.get_logger("journal")

_CHILD_FAILED, _CHILD_UNPICKLABLE = 1, 3   # exit codes of a snapshot child
_REAP_SECONDS = 0.05                        # how often the loop looks whether the child has ended
_MAX_FD = 1 << 20
_RETRY_SECONDS = 1.0                        # after a failed snapshot child, before the next one


# ================================================================== replay
@dataclass
class ReplayStats:
    records: int = 0
    commands: int = 0
    rejected: int = 0
    failed: int = 0
    resets: int = 0
    passwords: int = 0
    users: int = 0                # "user" records (users created or narrowed by an Administrator)
    operator_records: int = 0     # "op" records (session-level operator commands) skipped
    answers: int = 0              # "answer" records (answers of referenced transactions)
    batches: int = 0              # batches of several commands closed ("batch" records or implied)
    first: int = 0      # first record number applied (after the snapshot, if any)
    last: int = 0       # last record number
    snapshot_seq: int = 0
    torn_bytes: int = 0
    seconds: float = 0.0
    rejections: dict = field(default_factory=dict)
    phases: dict = field(default_factory=dict)   # seconds of each phase of the recovery (snapshot read, ...)

    def timed(self, phase: str, t0: float) -> float:
        """Add the time since ``t0`` to ``phase``; returns now (the next phase's start)."""
        now = time.perf_counter()
        self.phases[phase] = round(self.phases.get(phase, 0.0) + now - t0, 4)
        return now

    def as_dict(self) -> dict:
        return {k: v for k, v in vars(self).items() if k != "rejections"}


class Replayer:
    """Applies journal records to a gateway's core, broadcast logs and users (nothing is sent:
    there are no subscribers while recovering)."""

    def __init__(self, gw: JournalHost, stats: ReplayStats | None = None):
        self.gw = gw
        self.reg = registry()
        self.reg.add_core(gw.core)
        self.load = record_loads(self.reg)   # parses a record's body, rebuilding its command
        self.stats = stats or ReplayStats()
        self.passwords: dict[str, tuple[str, str]] = {}
        self.users: dict[str, dict] = {}

    def apply(self, p: dict) -> None:
        """Apply a record read with :attr:`load`."""
        k = p["k"]
        st = self.stats
        st.records += 1
        st.last = p["n"]
        if k == "cmd":
            st.commands += 1
            cmd = p["cmd"]     # rebuilt as the record was parsed (Replayer.load)
            try:
                ctx = context_from_plain(p["ctx"])
            except (KeyError, ValueError) as e:
                raise JournalError(f"record {p['n']}: cannot rebuild the command's context: {e}") from None
            gw = self.gw
            if p.get("b"):
                if not gw.core.in_batch:
                    gw.core.begin_batch()
            else:
                self.end_batch()
            if "ref" in p:  # a command of a referenced transaction: applied, whatever its outcome
                user, ref, bdate = p["ref"]
                gw.references.applied(user, ref, bdate)
            try:
                out = gw.core.execute(cmd, ctx)
            except ClearingError as e:
                # rejected live too (the core is deterministic): what fell due as time passed was
                # broadcast then, so it is re-published now (Gateway.execute does the same)
                st.rejected += 1
                st.rejections[e.error.name] = st.rejections.get(e.error.name, 0) + 1
                events = getattr(e, "events", None)
                if events:
                    gw.publish(events)
                return
            except Exception as e:  # noqa: BLE001 - it failed the same way live (answered INTERNAL_ERROR)
                st.failed += 1
                log.warning("replay_command_failed", record=p["n"], command=type(cmd).__name__, error=repr(e))
                return
            gw.publish(out.events)
        elif k == "batch":
            self.end_batch()
        elif k == "answer":
            st.answers += 1
            self.gw.references.answered(p["user"], p["ref"], p["date"], decode_frames(p["frames"]))
        elif k == "reset":
            st.resets += 1
            self.end_batch()
            self.reset(datetime.fromisoformat(p["when"]))
        elif k == "password":
            st.passwords += 1
            self.passwords[p["user"]] = (p["hash"], p["changed"])
            self.apply_password(p["user"], p["hash"], p["changed"])
        elif k == "user":
            st.users += 1
            self.apply_user(p["user"], p["n"])
        elif k == "op":
            st.operator_records += 1  # it acted on sessions of the journaled process only
        elif k == "open":
            raise JournalError(f"record {p['n']}: a second 'open' record")
        else:
            raise JournalError(f"record {p['n']}: unknown record kind {k!r}")

    def end_batch(self) -> None:
        """Close the open batch (at its ``batch`` record, or where the live gateway closed it):
        its derived events are published, as they were live."""
        core = self.gw.core
        if core.in_batch:
            self.stats.batches += 1
            events = core.end_batch()
            if events:
                self.gw.publish(events)

    def reset(self, when: datetime) -> None:
        """As ``Gateway.reset``: a fresh core, streams from 1, the users as shipped (password changes
        made before the reset are gone)."""
        self.gw.fresh_state(when)
        self.passwords.clear()
        self.users.clear()

    def apply_password(self, user: str, password_hash: str, changed: str) -> None:
        self.gw.set_password(user, password_hash, date.fromisoformat(changed))

    def apply_user(self, fields: dict, n: int | None = None) -> None:
        try:
            u = user_from_plain(fields)
        except (KeyError, TypeError, ValueError) as e:
            raise JournalError(f"record {n}: cannot rebuild the user: {e}") from None
        self.users[u.user] = fields
        self.gw.put_user(u)


def module_names(core: ClearingCore) -> list[str]:
    return [m.name for m in core.modules]


def data_identity(gw: JournalHost) -> dict:
    """The data of the gateway's modules when not the shipped data (e.g. the DCASS reference data
    file): recorded in the open record and snapshots, checked on recovery."""
    from gateway.clearing.modules import data_identity as identity
    return identity(getattr(gw, "module_factories", None))


def _digests(data: dict) -> dict:
    return {k: v.get("digest") if isinstance(v, dict) else v for k, v in (data or {}).items()}


def _describe(data: dict) -> str:
    if not data:
        return "the shipped data"
    return "; ".join(f"{k} {v.get('source', '?')} (digest {str(v.get('digest'))[:16]})" if isinstance(v, dict)
                     else f"{k} {v}" for k, v in sorted(data.items()))


@dataclass
class Recovered:
    journal_id: str
    start: datetime
    next_n: int
    end_offset: int
    last_offset: int
    last_crc: int
    stats: ReplayStats
    passwords: dict
    users: dict
    snapshot_note: str = ""
    created: bool = False
    snapshot_offset: int = 0    # where the records after the loaded snapshot begin (0: no snapshot loaded)


def recover(gw: JournalHost, path: str | Path, *, fd: int | None = None, use_snapshot: bool = True,
            policy: str = "always") -> Recovered:
    """Rebuild ``gw.core``, ``gw.streams`` and password changes from the journal at ``path``.

    With ``fd`` (the locked, writable journal) a torn tail is cut off and a missing or unusable
    journal is created; without it (the command-line tool) nothing is written and a torn tail is
    only reported.

    The cyclic garbage collector is paused while the snapshot is loaded: that creates millions of
    objects that all live on, and each collection it would trigger would walk every one of them
    again. Before the journal's tail is replayed they are moved out of its view (``gc.freeze``) and
    it runs again, so the tail's garbage is collected as it goes."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _recover(gw, path, fd, use_snapshot, enabled)
    finally:
        if enabled:
            gc.enable()


def _recover(gw: JournalHost, path: str | Path, fd: int | None, use_snapshot: bool, gc_on: bool) -> Recovered:
    t0 = time.perf_counter()
    path = Path(path)
    names = module_names(gw.core)
    if not path.exists() or path.stat().st_size == 0:
        if fd is None:
            raise JournalError(f"{path}: no journal there")
        return _create(gw, path, fd, names, t0, "")
    with Reader(path) as reader:
        records = reader.records()
        first = next(records, None)
        if first is None or first.kind != "open":
            d = reader.damage
            if d is not None and d.next_valid >= 0:
                raise JournalCorrupt(path, d.offset, 0, d.reason, d.next_valid)
            if fd is None:
                raise JournalError(f"{path}: no whole first record ({d.reason if d else 'empty'})")
            return _create(gw, path, fd, names, t0, d.reason if d else "no open record")
        head = first.payload
        if head.get("format") != FORMAT:
            raise JournalError(f"{path}: journal format {head.get('format')}, this gateway writes {FORMAT}")
        if head.get("modules") != names:
            raise JournalError(f"{path} was written by a gateway composed of modules {head.get('modules')}; this one "
                               f"has {names}. Replaying it would not rebuild the same state: start with another "
                               f"journal path, or with the gateway version that wrote it")
        data = data_identity(gw)
        if _digests(head.get("data", {})) != _digests(data):
            raise JournalError(f"{path} was written by a gateway with other reference data ({_describe(head.get('data', {}))}); "
                               f"this one has {_describe(data)}. Replaying it would not rebuild the same state: start "
                               f"with the data it was written with (setting dcass_reference), or with another journal path")
        start = datetime.fromisoformat(head["start"])
        stats = ReplayStats(last=first.n)
        rp = Replayer(gw, stats)
        note = ""
        last = first
        loaded = _load_snapshot(gw, path, reader, head, start, rp) if use_snapshot else None
        if loaded is not None:
            body, rec = loaded
            stats.snapshot_seq = stats.last = body["seq"]
            last = rec
            records = reader.records(body["end_offset"], rp.load)
            note = f"snapshot at record {body['seq']}"
        else:
            core = ClearingCore(start, module_factories=gw.module_factories)
            gw.install_state(core)
            gw.references.clear()
            gw.streams.reset(ymd_int(core.business_date))
            rp.reg.add_core(core)
            records = reader.records(first.end, rp.load)
        expected = last.n + 1
        stats.first = expected
        if gc_on:
            gc.freeze()
            gc.enable()
        t_replay = time.perf_counter()
        try:
            for rec in records:
                if rec.n != expected:
                    raise JournalError(f"{path}: record number {rec.n} at byte {rec.offset} where {expected} was "
                                       f"expected (records missing or repeated); refusing to guess")
                rp.apply(rec.payload)
                last = rec
                expected += 1
        except CodecError as e:   # raised while parsing the record after the last one applied
            raise JournalError(f"record {expected}: cannot rebuild the command: {e}") from None
        rp.end_batch()   # a crash between a batch's commands and its end: closed as it would have been
        stats.timed("replay", t_replay)
        d = reader.damage
        end = last.end
        if d is not None:
            if d.next_valid >= 0:
                raise JournalCorrupt(path, d.offset, last.n, d.reason, d.next_valid)
            stats.torn_bytes = d.size
            log.warning("journal_torn_tail", path=str(path), offset=d.offset, bytes=d.size, reason=d.reason,
                        last_record=last.n, action="truncated" if fd is not None else "ignored (read-only)")
    if d is not None and fd is not None:
        truncate(fd, end)
    stats.seconds = round(time.perf_counter() - t0, 6)
    passwords = dict(rp.passwords)
    return Recovered(head["journal_id"], start, expected, end, last.offset, last.crc, stats, passwords,
                     dict(rp.users), note, snapshot_offset=loaded[0]["end_offset"] if loaded is not None else 0)


def _create(gw: JournalHost, path: Path, fd: int, names: list[str], t0: float, why: str) -> Recovered:
    if why:
        log.warning("journal_reinitialised", path=str(path), reason=why)
    return Recovered("", gw.core.now, 1, 0, 0, 0, ReplayStats(seconds=round(time.perf_counter() - t0, 6)), {},
                     {}, "", created=True)


def _load_snapshot(gw: JournalHost, path: Path, reader: Reader, head: dict, start: datetime, rp: Replayer):
    sp = snap.snapshot_path(path)
    st = rp.stats
    t = time.perf_counter()
    try:
        # checked in one streaming pass (checksum, digests of the core and stream sections), then each
        # section is unpickled from the file: the snapshot is never held whole in memory
        with snap.open_snapshot(sp) or nullcontext() as sr:
            if sr is None:
                return None
            body = sr.head
            t = st.timed("verify", t)
            if body["journal_id"] != head["journal_id"]:
                raise snap.SnapshotError("it belongs to another journal")
            if body["modules"] != module_names(gw.core):
                raise snap.SnapshotError(f"modules {body['modules']} differ")
            if _digests(body.get("data", {})) != _digests(data_identity(gw)):
                raise snap.SnapshotError(f"it was taken with other reference data ({_describe(body.get('data', {}))})")
            rec = reader.record_at(body["record_offset"])
            if rec is None or rec.n != body["seq"] or rec.crc != body["record_crc"] or rec.end != body["end_offset"]:
                raise snap.SnapshotError(f"the journal does not hold record {body['seq']} where the snapshot says")
            core = sr.part("core", lambda f: snap.restore_core(f, start, gw.module_factories))
            t = st.timed("core_restore", t)
            streams = sr.part("streams", snap.restore_streams)
            t = st.timed("streams", t)
    except (snap.SnapshotError, KeyError, TypeError, ValueError, EOFError, pickle.UnpicklingError,
            AttributeError) as e:
        log.warning("snapshot_rejected", path=str(sp), reason=str(e), action="replaying the whole journal")
        return None
    gw.install_state(core, streams)
    gw.references.load(body.get("references"))
    rp.reg.add_core(core)
    for fields in body.get("users", {}).values():   # before the passwords: a later change wins
        rp.apply_user(fields)
    for user, (h, changed) in body.get("passwords", {}).items():
        rp.passwords[user] = (h, changed)
        rp.apply_password(user, h, changed)
    log.info("snapshot_loaded", path=str(sp), record=body["seq"], taken_at=body.get("taken_at"))
    return body, rec


# ================================================================== the gateway's hooks
class Durability:
    def __init__(self, gw: LiveJournalHost, journal: Journal, passwords: dict, schedule: SnapshotSchedule,
                 users: dict | None = None):
        self.gw = gw
        self.journal = journal
        self.passwords = passwords
        self.users = {} if users is None else users   # user id -> whole record (user_to_plain)
        self.schedule = schedule
        self.since_snapshot = 0            # records journaled since the last snapshot
        self.snapshot_seq = 0
        self.snapshot_offset = 0           # journal offset where the records after the last snapshot begin
        self.snapshot_time = 0.0           # loop time of the last snapshot (or of the start)
        self._written_offset = 0
        self._timer = None                 # wakes the schedule when snapshot_seconds have passed
        self.log_state = False             # log journal_state (the recovered state's hash) once serving
        self._state_child: tuple | None = None   # (pid, read end of its pipe, fields)
        self._snapshot_scheduled = False
        self._write_lock = threading.Lock()
        self._written_seq = 0
        self._child: tuple | None = None   # (pid, record, started) of the forked snapshot being built
        self.fork_seconds = 0.0
        self._retry_at = 0.0               # after a failed child: no new one before this loop time
        self.loop = None

    # ------------------------------------------------------------ hooks
    def append(self, command: Any, ctx: Context, ref: tuple | None = None, batched: bool = False) -> int:
        n = self.journal.append(command, ctx, ref, batched)
        self._count()
        return n

    def batch_end(self) -> None:
        """Journal the end of the open batch (its derived events are broadcast after this)."""
        try:
            self.journal.batch_end()
        except JournalError:
            return  # the journal failed: fail-stop dropped the output

    def answer(self, user: str, ref: int, business_date: int, frames: tuple) -> None:
        """Journal the answer of a referenced transaction (it is held until on disk, as any output)."""
        try:
            self.journal.answer(user, ref, business_date, encode_frames(frames))
        except JournalError:
            return  # the journal failed: fail-stop dropped the output, the answer never leaves
        self._count()

    def reset(self, when: datetime) -> int:
        n = self.journal.reset(when)
        self.passwords.clear()   # the reset restores the shipped users
        self.users.clear()
        self._count()
        return n

    def password(self, user: str, password_hash: str, changed: date) -> int:
        n = self.journal.password(user, password_hash, changed)
        self.passwords[user] = (password_hash, changed.isoformat())
        self._count()
        return n

    def user(self, user) -> int:
        """Journal a user (``gateway.auth.User``) created or changed by an Administrator."""
        fields = user_to_plain(user)
        n = self.journal.user(fields)
        self.users[user.user] = fields
        self._count()
        return n

    def operator(self, user: str, code: str, fields: dict) -> int:
        n = self.journal.operator(user, code, fields)
        self._count()
        return n

    def holding(self) -> bool:
        return self.journal.holding()

    def sync(self) -> None:
        try:
            self.journal.sync()
        except JournalError:
            pass  # already failed: every connection was aborted with its output dropped (fail-stop)

    def start(self, loop) -> None:
        self.loop = loop
        j = self.journal
        j.loop = loop
        j.on_group_synced = self.gw.flush
        j.on_failure = self._failed
        self.snapshot_time = loop.time()
        self._arm_timer()
        if self.log_state:
            self.log_state = False
            self._log_recovered_state()

    def _log_recovered_state(self) -> None:
        """Log ``journal_state``: the state hash of the recovered state (what an uninterrupted run of
        the same commands gives), the last record and the business date. The hash walks the whole
        state (seconds for a full day), so a forked child computes it from its copy-on-write image
        while the gateway serves and hands it back through a pipe; the gateway logs it when the child
        has ended (all logging stays in the gateway). Without ``fork`` it is computed here."""
        gw = self.gw
        fields = {"record": self.journal.next_n - 1, "business_date": str(gw.core.business_date)}
        if not hasattr(os, "fork"):
            log.info("journal_state", state_hash=gw.core.state_hash(), **fields)
            return
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            status = _CHILD_FAILED
            try:
                os.closerange(3, min(r, w))   # nothing the gateway holds, as a snapshot child
                os.closerange(min(r, w) + 1, max(r, w))
                os.closerange(max(r, w) + 1, _MAX_FD)
                os.write(w, gw.core.state_hash().encode())
                status = 0
            finally:
                os._exit(status)
        os.close(w)
        self._state_child = (pid, r, fields)
        self.loop.call_later(_REAP_SECONDS, self._reap_state_child)

    def _reap_state_child(self) -> None:
        if not self._state_child:
            return
        pid, r, fields = self._state_child
        try:
            done, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            done, status = pid, -1
        if not done:
            self.loop.call_later(_REAP_SECONDS, self._reap_state_child)
            return
        self._state_child = None
        try:
            state_hash = os.read(r, 256).decode() if status == 0 else ""
        finally:
            os.close(r)
        if state_hash:
            log.info("journal_state", state_hash=state_hash, **fields)
        else:
            log.warning("journal_state_unavailable", **fields, reason="the child computing the state hash failed")

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._state_child:   # its only work is a log line: a stop does not wait for it
            pid, r, _ = self._state_child
            self._state_child = None
            try:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            except (ChildProcessError, ProcessLookupError):
                pass
            os.close(r)
        if self._child is not None:  # a forked snapshot is being built: let it end (stopping anyway)
            pid, seq, _, _ = self._child
            try:
                _, status = os.waitpid(pid, 0)
                if os.waitstatus_to_exitcode(status) == 0:
                    self._written_seq = max(self._written_seq, seq)
            except ChildProcessError:
                pass
            self._child = None
            self.snapshot_seq = self._written_seq
        if self.journal.failed is None and self.schedule.enabled and self.journal.next_n - 1 > self.snapshot_seq:
            try:
                self.take_snapshot(background=False)
            except Exception as e:  # noqa: BLE001
                log.warning("snapshot_failed", error=str(e))
        self.journal.close()

    # ------------------------------------------------------------ snapshots
    def _count(self) -> None:
        self.since_snapshot += 1
        self._maybe_schedule()

    def due(self) -> str | None:
        """Why a snapshot is due now (``schedule.SnapshotSchedule.due``), or None."""
        if self.loop is None:
            return None
        return self.schedule.due(self.since_snapshot, self.loop.time() - self.snapshot_time,
                                 self.journal.offset - self.snapshot_offset)

    def _maybe_schedule(self) -> None:
        if not self._snapshot_scheduled and self.loop is not None and self._child is None \
                and self.loop.time() >= self._retry_at and self.due():
            self._snapshot_scheduled = True
            self.loop.call_soon(self._scheduled_snapshot)

    def _arm_timer(self) -> None:
        """With ``snapshot_seconds``: look again when the interval since the last snapshot is over
        (a quiet gateway snapshots what came before the quiet; a record after it triggers one at once)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self.schedule.seconds and self.loop is not None:
            self._timer = self.loop.call_at(self.snapshot_time + self.schedule.seconds, self._timer_fired)

    def _timer_fired(self) -> None:
        self._timer = None
        self._maybe_schedule()

    def _started(self, seq: int) -> None:
        """A snapshot covering records up to ``seq`` (ending at the journal's offset) was begun."""
        self.since_snapshot = 0
        self.snapshot_seq = seq
        self.snapshot_offset = self.journal.offset
        if self.loop is not None:
            self.snapshot_time = self.loop.time()
            self._arm_timer()

    def _scheduled_snapshot(self) -> None:
        self._snapshot_scheduled = False
        try:
            self.take_snapshot(background=True)
        except Exception as e:  # noqa: BLE001 - a snapshot is an optimisation; recovery replays instead
            log.warning("snapshot_failed", error=str(e))

    def take_snapshot(self, background: bool = True) -> int:
        """Snapshot the state now (at a callback boundary: every journaled command has run).
        Returns the record number it covers (0 when snapshots are unavailable or one is already
        being built).

        In the background (the gateway serving) a forked child builds and writes it from a
        copy-on-write image of the process, as Redis does: the event loop waits only for ``fork()``
        (docs/guides/reliability.md has the figures). Otherwise (a clean stop, or no ``fork``)
        it is built here and written by a thread (or here when not serving)."""
        gw, j = self.gw, self.journal
        if self._child is not None:
            return 0  # one at a time: the next is scheduled when this one has ended
        j.sync()
        seq = j.next_n - 1
        head = {"format": snap.FORMAT, "journal_id": j.journal_id, "seq": seq, "record_offset": j.last_offset,
                "record_crc": j.last_crc, "end_offset": j.offset, "modules": module_names(gw.core),
                "data": data_identity(gw), "passwords": dict(self.passwords), "users": dict(self.users)}
        path = snap.snapshot_path(j.path)
        if background and self.loop is not None and hasattr(os, "fork"):
            return self._fork(head, path, seq)
        t0 = time.perf_counter()
        try:
            data = snap.encode(self._body(head))
        except Exception as e:  # noqa: BLE001 - unpicklable state somewhere: snapshots off, replay still works
            log.warning("snapshot_unavailable", reason=str(e), action="snapshots off; recovery replays the whole journal")
            self.schedule = OFF
            return 0
        offset = j.offset
        self._started(seq)
        built = time.perf_counter() - t0

        def write() -> None:
            with self._write_lock:
                if seq <= self._written_seq:
                    return
                snap.write(path, data)
                self._written_seq = seq
                self._written_offset = offset
            log.info("snapshot_written", record=seq, bytes=len(data), build_seconds=round(built, 4))

        if background and self.loop is not None:
            fut = self.loop.run_in_executor(None, write)
            fut.add_done_callback(lambda f: f.exception() and log.warning("snapshot_failed", error=str(f.exception())))
        else:
            write()
        return seq

    def _body(self, head: dict) -> dict:
        """The snapshot's body: ``head`` and the state (the part that costs: hash, pickles, the
        rebuilt core's hash)."""
        gw = self.gw
        body = snap.build(gw.core, gw.streams, head, gw.module_factories)
        return dict(body, references=gw.references.dump(),
                    taken_at=datetime.now().astimezone().isoformat(timespec="seconds"))

    def _fork(self, head: dict, path: Path, seq: int) -> int:
        t0 = time.perf_counter()
        pid = os.fork()
        if pid == 0:  # the child: build, write, exit; it never returns into the parent's code
            status = _CHILD_FAILED
            try:
                # hold nothing the next gateway needs (the journal's lock, the listening socket),
                # so that a child outliving a killed parent delays no restart
                os.closerange(3, _MAX_FD)
                try:
                    data = snap.encode(self._body(head))
                except Exception:  # noqa: BLE001
                    status = _CHILD_UNPICKLABLE
                    raise
                snap.write(path, data, tmp_suffix=f".{os.getpid()}")
                status = 0
            finally:
                os._exit(status)
        self.fork_seconds = time.perf_counter() - t0
        self._child = (pid, seq, t0, self.journal.offset)
        self._started(seq)
        self.loop.call_later(_REAP_SECONDS, self._reap)
        return seq

    def _reap(self) -> None:
        if self._child is None:   # reaped by close() meanwhile
            return
        pid, seq, t0, offset = self._child
        try:
            done, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:  # reaped elsewhere: whether it wrote is unknown; the next one will
            done, status = pid, -1
        if not done:
            self.loop.call_later(_REAP_SECONDS, self._reap)
            return
        self._child = None
        code = os.waitstatus_to_exitcode(status) if status >= 0 else -1
        if code == 0:
            self._written_seq = max(self._written_seq, seq)
            self._written_offset = max(self._written_offset, offset)
            log.info("snapshot_written", record=seq, fork_ms=round(self.fork_seconds * 1000, 3),
                     child_seconds=round(time.perf_counter() - t0, 4))
            self._maybe_schedule()  # records went on counting while the child worked
            return
        self.snapshot_seq = self._written_seq  # not durable: the next snapshot covers these records
        self.since_snapshot = self.journal.next_n - 1 - self._written_seq
        self.snapshot_offset = self._written_offset
        if code == _CHILD_UNPICKLABLE:
            log.warning("snapshot_unavailable", reason="module state cannot be pickled",
                        action="snapshots off; recovery replays the whole journal")
            self.schedule = OFF
        else:
            log.warning("snapshot_failed", record=seq, exit_code=code,
                        action=f"serving on; retrying in {_RETRY_SECONDS:g} s")
            self._retry_at = self.loop.time() + _RETRY_SECONDS
            self.loop.call_later(_RETRY_SECONDS, self._maybe_schedule)

    # ------------------------------------------------------------ failure
    def _failed(self, exc: BaseException) -> None:
        """The disk refused a write or a sync: stop serving (fail-stop). Held output is dropped,
        so nothing that may not be on disk is acknowledged; restart once the disk is fixed."""
        log.critical("journal_failed", error=str(exc), action="closing every connection and the listener")
        self.gw.fail_stop()


def attach(gw: LiveJournalHost) -> Durability:
    """Open the journal named by ``gw.settings.journal_path``, recover, and hook it to ``gw``."""
    s = gw.settings
    schedule = SnapshotSchedule.from_settings(s)   # a bad value stops here, before the journal is touched
    path = Path(s.journal_path)
    policy = getattr(s, "journal_flush", "always")
    group_ms = getattr(s, "journal_group_ms", 2.0)
    registry().add_core(gw.core)  # commands of modules composed from outside gateway.clearing
    fd = Journal.lock(path)
    try:
        rec = recover(gw, path, fd=fd, policy=policy)
        if rec.created:
            journal = Journal.create(path, fd, gw.core.now, module_names(gw.core), data=data_identity(gw), policy=policy,
                                     group_ms=group_ms)
            log.info("journal_created", path=str(path), policy=policy, start=str(gw.core.now))
        else:
            journal = Journal(path, fd, rec.next_n, rec.journal_id, policy=policy, group_ms=group_ms)
            journal.last_offset, journal.last_crc = rec.last_offset, rec.last_crc
    except BaseException:
        os.close(fd)
        raise
    d = Durability(gw, journal, rec.passwords, schedule, rec.users)
    d.snapshot_seq = d._written_seq = rec.stats.snapshot_seq
    d.since_snapshot = rec.stats.records
    # bytes since the snapshot loaded (none loaded: the whole journal counts)
    d.snapshot_offset = d._written_offset = rec.snapshot_offset
    gw.journal = d
    gw.set_clock(gw.core.now, only_forward=True)
    if not rec.created:
        d.log_state = True   # journal_state, with the state hash, once serving (see Durability.start)
        log.info("journal_recovered", path=str(path), policy=policy, via=rec.snapshot_note or "full replay",
                 business_date=str(gw.core.business_date),
                 business_time=str(gw.core.now), streams=stream_positions(gw), **rec.stats.as_dict())
    return d


def stream_positions(gw: JournalHost) -> dict:
    return {f"{k[0]}{'/' + k[1] if k[1] else ''}": lg.last for k, lg in sorted(gw.streams.logs.items())}
