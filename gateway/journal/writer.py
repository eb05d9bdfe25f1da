"""Appending to the journal: one ``write`` per record, then ``fdatasync`` now (policy ``always``) or
within a few milliseconds for a whole group of records (policy ``group``).

With ``group`` the caller must hold back every reply and broadcast while :meth:`Journal.holding`
is true: nothing leaves the process before the records it depends on are on disk. The gateway
does that in ``Gateway.flush`` (see :mod:`gateway.journal.durability`).
"""
from __future__ import annotations

import fcntl
import os
import time
import uuid
from datetime import date, datetime
from pathlib import Path
from typing import Any, Callable

from gateway.clearing.core import Context

from .codec import Registry, context_to_plain, registry, to_plain
from .format import FILE_HEADER_SIZE, JournalError, encode_record, file_header, fsync_dir

POLICIES = ("always", "group")
FORMAT = 1


def _fdatasync(fd: int) -> None:
    (getattr(os, "fdatasync", None) or os.fsync)(fd)


class Journal:
    """An open journal file positioned after its last whole record."""

    def __init__(self, path: str | os.PathLike, fd: int, next_n: int, journal_id: str, *, policy: str = "always",
                 group_ms: float = 2.0, reg: Registry | None = None):
        if policy not in POLICIES:
            raise JournalError(f"journal flush policy {policy!r}: use one of {', '.join(POLICIES)}")
        self.path = Path(path)
        self.fd = fd
        self.next_n = next_n
        self.journal_id = journal_id
        self.policy = policy
        self.group_seconds = max(0.0, group_ms) / 1000.0
        self.reg = reg or registry()
        self.offset = os.lseek(fd, 0, os.SEEK_END)
        self.last_offset = 0       # offset of the last record written
        self.last_crc = 0
        self.unsynced = 0          # records written but not yet fdatasync'ed
        self.failed: BaseException | None = None
        self.on_group_synced: Callable[[], None] | None = None   # called after a group sync (flush output)
        self.on_failure: Callable[[BaseException], None] | None = None
        self.loop = None
        self._timer = None
        self.appended = 0
        self.syncs = 0
        self.sync_seconds = 0.0

    # ------------------------------------------------------------ opening
    @staticmethod
    def lock(path: str | os.PathLike) -> int:
        """Open (creating) the file for appending and take an exclusive lock on it."""
        p = Path(path)
        if p.parent and not p.parent.exists():
            p.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(p, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise JournalError(f"journal {p} is in use by another process") from None
        return fd

    @classmethod
    def create(cls, path: str | os.PathLike, fd: int, start: datetime, modules: list[str], data: dict | None = None,
               **kw) -> "Journal":
        """Start a new journal in the (locked, empty or unusable-prefix) file ``fd``. ``data``: the
        modules' data when it is not the shipped data (``gateway.clearing.modules.data_identity``)."""
        journal_id = uuid.uuid4().hex
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        _write_all(fd, file_header())
        j = cls(path, fd, 1, journal_id, **kw)
        head = {"k": "open", "format": FORMAT, "journal_id": journal_id, "start": start.isoformat(),
                "modules": list(modules), "created": datetime.now().astimezone().isoformat(timespec="seconds")}
        if data:
            head["data"] = data
        j._write(head)
        j.sync()
        fsync_dir(Path(path))
        return j

    # ------------------------------------------------------------ appending
    def append(self, command: Any, ctx: Context, ref: tuple | None = None, batched: bool = False) -> int:
        """Journal a command about to run; returns its record number. Raises before anything runs
        when it cannot be written (the command is then refused). ``ref``: (user, client reference,
        business date) of the referenced transaction it belongs to (gateway/references.py).
        ``batched``: it runs in a batch of the core, closed by a later ``batch`` record."""
        p = {"k": "cmd", "ctx": context_to_plain(ctx), "cmd": to_plain(command, self.reg)}
        if ref is not None:
            p["ref"] = list(ref)
        if batched:
            p["b"] = 1
        return self._write(p)

    def batch_end(self) -> int:
        """The batch of the ``cmd`` records marked ``"b"`` before this one ends here."""
        return self._write({"k": "batch"})

    def answer(self, user: str, ref: int, business_date: int, frames: list[str]) -> int:
        """The answer of a referenced transaction (its frames, base64), written before it is sent."""
        return self._write({"k": "answer", "user": user, "ref": ref, "date": business_date, "frames": frames})

    def reset(self, when: datetime) -> int:
        return self._write({"k": "reset", "when": when.isoformat()})

    def password(self, user: str, password_hash: str, changed: date) -> int:
        return self._write({"k": "password", "user": user, "hash": password_hash, "changed": changed.isoformat()})

    def user(self, fields: dict) -> int:
        """A user created or changed by its participant's Administrator (UC500, UC502): the user's
        whole record as it now is (see ``gateway.journal.users``)."""
        return self._write({"k": "user", "user": fields})

    def operator(self, user: str, code: str, fields: dict) -> int:
        """An operator's command on sessions (certification faults, EC600-EC607): kept for the record;
        a replay skips it (the sessions it acted on ended with the process)."""
        return self._write({"k": "op", "user": user, "msg": code, "fields": fields})

    def _write(self, payload: dict) -> int:
        if self.failed is not None:
            raise JournalError(f"journal unusable since an earlier failure: {self.failed}")
        n = self.next_n
        payload["n"] = n
        data = encode_record(payload)   # may raise (value not journalable): nothing written
        try:
            _write_all(self.fd, data)
        except OSError as e:
            self._fail(e)
            raise JournalError(f"journal write failed: {e}") from e
        self.next_n = n + 1
        self.last_offset = self.offset
        self.last_crc = int.from_bytes(data[8:12], "big")
        self.offset += len(data)
        self.unsynced += 1
        self.appended += 1
        if self.policy == "always" or self.loop is None:
            self.sync()
        elif self._timer is None:
            self._timer = self.loop.call_later(self.group_seconds, self._group_sync)
        return n

    # ------------------------------------------------------------ syncing
    def sync(self) -> None:
        """Make every written record durable now."""
        if not self.unsynced:
            return
        if self.failed is not None:
            raise JournalError(f"journal unusable since an earlier failure: {self.failed}")
        t = time.perf_counter()
        try:
            _fdatasync(self.fd)
        except OSError as e:
            self._fail(e)
            raise JournalError(f"journal sync failed: {e}") from e
        self.sync_seconds += time.perf_counter() - t
        self.syncs += 1
        self.unsynced = 0

    def holding(self) -> bool:
        """True while written records are not yet on disk: output must wait (group policy)."""
        return self.unsynced > 0 or self.failed is not None

    def _group_sync(self) -> None:
        self._timer = None
        try:
            self.sync()
        except JournalError:
            return
        if self.on_group_synced is not None:
            self.on_group_synced()

    def _fail(self, exc: BaseException) -> None:
        if self.failed is None:
            self.failed = exc
            if self.on_failure is not None:
                self.on_failure(exc)

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self.failed is None:
            try:
                self.sync()
            except JournalError:
                pass
        if self.fd >= 0:
            os.close(self.fd)  # releases the lock
            self.fd = -1


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def truncate(fd: int, offset: int) -> None:
    os.ftruncate(fd, max(offset, FILE_HEADER_SIZE))
    os.fsync(fd)
