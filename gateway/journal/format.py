"""The journal file: a 16-byte file header, then records.

File header::

    magic    8 bytes  b"HKPJRNL\\x00"
    version  u16      1
    flags    u16      0
    reserved u32      0

Record (big-endian)::

    mark     4 bytes  b"\\xfeJR\\x01"  (0xFE never occurs in the ASCII payload: a resync point)
    length   u32      payload length in bytes (1 .. MAX_RECORD)
    crc32    u32      zlib.crc32 of the 4 length bytes followed by the payload
    payload  length bytes of canonical JSON (see :mod:`gateway.journal.codec`)

Every payload has ``"k"`` (kind) and ``"n"`` (record number, 1, 2, 3 ... with no gap). Kinds:
``open`` (first record: journal id, start business time, composed modules), ``cmd`` (a command
and its context), ``reset`` (operator reset to a business time), ``password`` (a user changed
their password: the new salted hash), ``user`` (a user created or narrowed by its participant's
Administrator: the user's whole record, its password as a salted hash), ``op`` (an operator's command on sessions, such as a
certification fault: recorded, skipped by a replay), ``batch`` (the end of a batch of the core: the
``cmd`` records marked ``"b": 1`` since the previous one ran as one batch, their margin and coverage
recomputed once here; a replay that reaches the end of the journal, a ``reset`` or a ``cmd`` not
marked with a batch open closes it there, as the live gateway would have).

Reading distinguishes two kinds of damage. A record that is incomplete or fails its checksum and
is followed by nothing valid is a *torn tail* (a crash in the middle of a write): it is reported
and cut off. A damaged record followed by at least one valid record (found by scanning for the
next mark) is *corruption in the middle*: acknowledged records may be behind it, so reading
stops with :class:`JournalCorrupt` instead of guessing.
"""
from __future__ import annotations

import mmap
import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

from .codec import CodecError, dumps, loads

MAGIC = b"HKPJRNL\x00"
VERSION = 1
FILE_HEADER = struct.Struct(">8sHHI")
FILE_HEADER_SIZE = FILE_HEADER.size  # 16
MARK = b"\xfeJR\x01"
RECORD_HEADER = struct.Struct(">4sII")
RECORD_HEADER_SIZE = RECORD_HEADER.size  # 12
MAX_RECORD = 16 * 1024 * 1024


class JournalError(Exception):
    """The journal cannot be used (not a journal, locked, unwritable, wrong modules...)."""


class JournalCorrupt(JournalError):
    """Damage before the last record: the journal cannot be trusted past ``offset``."""

    def __init__(self, path, offset: int, record: int, reason: str, next_valid: int):
        super().__init__(
            f"journal {path} is corrupt at byte {offset} (after record {record}): {reason}; a valid record "
            f"follows at byte {next_valid}, so this is not a torn tail. Refusing to start: restore the file "
            f"from a copy, or inspect it with `python -m gateway.journal print {path}`")
        self.offset, self.record, self.reason, self.next_valid = offset, record, reason, next_valid


def file_header() -> bytes:
    return FILE_HEADER.pack(MAGIC, VERSION, 0, 0)


def encode_record(payload: dict) -> bytes:
    body = dumps(payload)
    if len(body) > MAX_RECORD:
        raise JournalError(f"record of {len(body)} bytes above the maximum {MAX_RECORD}")
    lb = len(body).to_bytes(4, "big")
    return MARK + lb + zlib.crc32(body, zlib.crc32(lb)).to_bytes(4, "big") + body


@dataclass(slots=True)
class Record:
    offset: int      # byte offset of the record's mark
    end: int         # byte offset just after it
    crc: int
    payload: dict

    @property
    def n(self) -> int:
        return self.payload["n"]

    @property
    def kind(self) -> str:
        return self.payload["k"]


@dataclass(slots=True)
class Damage:
    """What stopped the read: ``torn`` (safe to cut at ``offset``) or corruption (not)."""
    offset: int
    reason: str
    size: int          # bytes from offset to the end of the file
    next_valid: int    # offset of the next valid record, or -1


def _check_record(buf, pos: int, end: int, load: Callable[[bytes], Any] = loads) -> tuple[Record | None, str]:
    """Parse the record at ``pos``: (record, "") or (None, why not). ``load`` parses the body; what
    it raises beyond the errors of JSON itself (a value that cannot be rebuilt) is raised."""
    if end - pos < RECORD_HEADER_SIZE:
        return None, f"incomplete record header ({end - pos} bytes)"
    mark, length, crc = RECORD_HEADER.unpack_from(buf, pos)
    if mark != MARK:
        return None, f"no record mark (found {bytes(mark).hex()})"
    if length == 0 or length > MAX_RECORD:
        return None, f"record length {length} out of range"
    stop = pos + RECORD_HEADER_SIZE + length
    if stop > end:
        return None, f"incomplete record: {length} bytes announced, {end - pos - RECORD_HEADER_SIZE} present"
    body = bytes(buf[pos + RECORD_HEADER_SIZE:stop])
    if zlib.crc32(body, zlib.crc32(length.to_bytes(4, "big"))) != crc:
        return None, "checksum mismatch"
    try:
        payload = load(body)
        if not isinstance(payload, dict) or not isinstance(payload.get("n"), int) or "k" not in payload:
            return None, "payload is not a journal record"
    except CodecError:
        raise            # whole JSON whose value cannot be rebuilt: not damage
    except ValueError:
        return None, "payload is not JSON"
    return Record(pos, stop, crc, payload), ""


def _next_valid(buf, start: int, end: int) -> int:
    pos = start
    while True:
        pos = buf.find(MARK, pos, end)
        if pos < 0:
            return -1
        rec, _ = _check_record(buf, pos, end)
        if rec is not None:
            return pos
        pos += 1


_RELEASE = 8 << 20
"""Bytes of the journal's map read before their pages are handed back (``Reader.records``)."""


class Reader:
    """Reads a journal file (memory-mapped). ``records(start)`` yields whole records in order and
    stops at damage, leaving it in ``damage``."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.size = self.path.stat().st_size
        self._f = open(self.path, "rb")
        self._buf = mmap.mmap(self._f.fileno(), 0, access=mmap.ACCESS_READ) if self.size else b""
        self.damage: Damage | None = None
        self.header_ok = self.size >= FILE_HEADER_SIZE and FILE_HEADER.unpack_from(self._buf, 0)[0] == MAGIC
        if self.size >= FILE_HEADER_SIZE and not self.header_ok:
            self.close()
            raise JournalError(f"{path} is not a journal (bad magic); refusing to touch it")
        if self.header_ok:
            version = FILE_HEADER.unpack_from(self._buf, 0)[1]
            if version != VERSION:
                self.close()
                raise JournalError(f"{path}: journal format version {version}, this gateway reads {VERSION}")
        elif self.size and not MAGIC.startswith(bytes(self._buf[:self.size])):
            self.close()
            raise JournalError(f"{path} is not a journal (bad magic); refusing to touch it")

    def close(self) -> None:
        if isinstance(self._buf, mmap.mmap):
            self._buf.close()
        self._f.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def records(self, start: int = FILE_HEADER_SIZE, load: Callable[[bytes], Any] = loads) -> Iterator[Record]:
        """The records from ``start`` on, their bodies parsed by ``load`` (a replay's rebuilds the
        commands' objects as it parses: ``codec.record_loads``). The pages of the map already read
        are handed back to the kernel every few MiB (a record's body is copied out of the map): a
        replay does not keep the whole journal resident, which would count in the process's memory
        (96 MiB for a full day's journal)."""
        if not self.header_ok:
            return
        buf, end, pos = self._buf, self.size, start
        release = _RELEASE if isinstance(buf, mmap.mmap) and hasattr(buf, "madvise") else 0
        released = start - start % mmap.PAGESIZE
        while pos < end:
            rec, why = _check_record(buf, pos, end, load)
            if rec is None:
                nxt = _next_valid(buf, pos + 1, end)
                self.damage = Damage(pos, why, end - pos, nxt)
                return
            yield rec
            pos = rec.end
            if release and pos - released >= release:
                upto = pos - pos % mmap.PAGESIZE
                if upto > released:
                    buf.madvise(mmap.MADV_DONTNEED, released, upto - released)
                    released = upto

    def record_at(self, offset: int) -> Record | None:
        if not self.header_ok or offset < FILE_HEADER_SIZE or offset >= self.size:
            return None
        rec, _ = _check_record(self._buf, offset, self.size)
        return rec


def fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path.parent or ".", os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
