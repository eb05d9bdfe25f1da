"""Snapshots: the whole gateway state at a journal position, so a restart replays only what follows.

File ``<journal>.snapshot`` (replaced atomically: written to ``.tmp``, fsync'ed, renamed)::

    magic   8 bytes  b"HKPSNAP\\x01"
    crc32   u32      zlib.crc32 of the body
    length  u64      body length
    body    pickle of a dict: format, journal_id, seq (last record covered), record_offset and
            record_crc (where that record is and its checksum), end_offset (where replay resumes),
            state_hash (``ClearingCore.state_hash()`` at that point), modules, data (the modules'
            data when not the shipped data: see ``gateway.clearing.modules``), core (the core's and
            every module's attributes, pickled with the core and modules as references), streams
            (the broadcast logs, see :func:`streams_state`), core_digest and streams_digest (SHA-256
            of those two), passwords (password changes so far), users (users created or changed by
            an Administrator so far: their whole records), taken_at.

A snapshot is written only when the core rebuilt from its bytes gives the state hash of the core
it was taken from (:func:`build`, checked where it is built: in the forked child while serving).
It is trusted only when its checksum matches, it belongs to this journal (same id), the journal
still holds the record it names at the same offset with the same checksum, and the core and stream
bytes have the SHA-256 digests recorded next to that hash: the bytes are those that were rebuilt
and checked, so loading does not compute the state hash again (over a whole day's state that took
longer than the rest of the recovery together). Otherwise it is reported and the journal is
replayed from the start (always possible: the journal is never cut before a snapshot).

The core is not pickled whole: its dispatch tables hold closures. A fresh core is built by the
module factories and each module's attributes are put back; references between modules, to the
core and to the calendar are kept as references. A module whose state cannot be pickled makes
snapshots unavailable (logged once); recovery then replays the whole journal.
"""
from __future__ import annotations

import hashlib
import io
import os
import pickle
import struct
import zlib
from datetime import datetime
from pathlib import Path
from typing import Any

from gateway.clearing.core import ClearingCore

from .format import fsync_dir

MAGIC = b"HKPSNAP\x01"
HEADER = struct.Struct(">8sIQ")
FORMAT = 2   # 2: digests of the core and stream bytes, checked on load instead of the state hash
SKIP_CORE_ATTRS = frozenset({"modules", "_commands", "_queries", "calendar"})


class SnapshotError(Exception):
    pass


def snapshot_path(journal_path: str | os.PathLike) -> Path:
    p = Path(journal_path)
    return p.with_name(p.name + ".snapshot")


class _Pickler(pickle.Pickler):
    def __init__(self, f, core: ClearingCore):
        super().__init__(f, protocol=pickle.HIGHEST_PROTOCOL)
        self.refs = {id(core): ("core",), id(core.calendar): ("calendar",)}
        for m in core.modules:
            self.refs[id(m)] = ("module", m.name)
        self._keep = [core, core.calendar, *core.modules]

    def persistent_id(self, obj):
        return self.refs.get(id(obj))


class _Unpickler(pickle.Unpickler):
    def __init__(self, f, core: ClearingCore):
        super().__init__(f)
        self.core = core

    def persistent_load(self, pid):
        if pid == ("core",):
            return self.core
        if pid == ("calendar",):
            return self.core.calendar
        if pid[0] == "module":
            return self.core.module(pid[1])
        raise pickle.UnpicklingError(f"unknown reference {pid!r}")


def core_state(core: ClearingCore) -> bytes:
    """The core's and its modules' attributes, pickled (raises SnapshotError when impossible)."""
    state: dict[str, Any] = {"core": {k: v for k, v in vars(core).items() if k not in SKIP_CORE_ATTRS},
                             "modules": []}
    for m in core.modules:
        if not hasattr(m, "__dict__"):
            raise SnapshotError(f"module {m.name} keeps its state in slots")
        state["modules"].append((m.name, {k: v for k, v in vars(m).items() if k != "core"}))
    f = io.BytesIO()
    try:
        _Pickler(f, core).dump(state)
    except Exception as e:  # noqa: BLE001 - a closure or a lock somewhere in a module's state
        raise SnapshotError(f"module state cannot be pickled: {e}") from None
    return f.getvalue()


def restore_core(blob: bytes, start: datetime, module_factories: list) -> ClearingCore:
    core = ClearingCore(start, module_factories=module_factories)
    state = _Unpickler(io.BytesIO(blob), core).load()
    names = [m.name for m in core.modules]
    saved = [name for name, _ in state["modules"]]
    if names != saved:
        raise SnapshotError(f"snapshot modules {saved} differ from this gateway's {names}")
    for k, v in state["core"].items():
        setattr(core, k, v)
    for name, attrs in state["modules"]:
        core.module(name).__dict__.update(attrs)
    return core


def digest(blob: bytes) -> str:
    return hashlib.sha256(blob).hexdigest()


def streams_state(streams) -> bytes:
    """The broadcast logs, compactly: per log its business date and three columns (frames, codes,
    filter keys) instead of one object per entry, which pickle stores and rebuilds one by one."""
    def logs(d: dict) -> dict:
        return {k: (lg.business_date, [e.frame for e in lg.entries], [e.code for e in lg.entries],
                    [e.keys for e in lg.entries]) for k, lg in d.items()}
    state = (streams.business_date, streams.published, logs(streams.logs), logs(streams.previous))
    return pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)


def restore_streams(blob: bytes):
    from gateway.streams import Entry, StreamLog, StreamStore

    business_date, published, today, previous = pickle.loads(blob)

    def logs(d: dict) -> dict:
        out = {}
        for k, (bdate, frames, codes, keys) in d.items():
            out[k] = StreamLog(bdate, list(map(Entry, frames, codes, keys)))
        return out
    store = StreamStore(business_date)
    store.logs, store.previous, store.published = logs(today), logs(previous), published
    return store


def build(core: ClearingCore, streams, head: dict, module_factories: list) -> dict:
    """The snapshot body: ``head`` and the state. Raises :class:`SnapshotError` when the state cannot
    be pickled or the core rebuilt from the bytes differs from ``core`` (by state hash)."""
    state_hash = core.state_hash()
    blob = core_state(core)
    rebuilt = restore_core(blob, core.now, module_factories).state_hash()
    if rebuilt != state_hash:
        raise SnapshotError(f"the core rebuilt from the snapshot has state hash {rebuilt[:16]}, the core "
                            f"{state_hash[:16]}: a module's state does not survive pickling")
    logs = streams_state(streams)
    return dict(head, format=FORMAT, state_hash=state_hash, core=blob, core_digest=digest(blob), streams=logs,
                streams_digest=digest(logs))


def check_digests(body: dict) -> None:
    """The core and stream bytes are those that were checked when the snapshot was built."""
    for part in ("core", "streams"):
        if digest(body[part]) != body[f"{part}_digest"]:
            raise SnapshotError(f"the {part} bytes differ from their recorded digest")


def encode(body: dict) -> bytes:
    data = pickle.dumps(body, protocol=pickle.HIGHEST_PROTOCOL)
    return HEADER.pack(MAGIC, zlib.crc32(data), len(data)) + data


def decode(raw: bytes) -> dict:
    if len(raw) < HEADER.size:
        raise SnapshotError(f"file of {len(raw)} bytes is shorter than the header")
    magic, crc, length = HEADER.unpack_from(raw, 0)
    if magic != MAGIC:
        raise SnapshotError("bad magic")
    data = memoryview(raw)[HEADER.size:]   # not a copy: the file can be a large part of the memory
    if len(data) != length:
        raise SnapshotError(f"length {len(data)} differs from the {length} announced")
    if zlib.crc32(data) != crc:
        raise SnapshotError("checksum mismatch")
    try:
        body = pickle.loads(data)
    except Exception as e:  # noqa: BLE001
        raise SnapshotError(f"body does not load: {e}") from None
    if not isinstance(body, dict) or body.get("format") != FORMAT:
        raise SnapshotError(f"unknown snapshot format {body.get('format') if isinstance(body, dict) else '?'}")
    return body


def write(path: Path, data: bytes, tmp_suffix: str = "") -> None:
    """Write ``data`` to a temporary file, fsync it, rename it to ``path`` (``tmp_suffix``: a
    writer of its own, e.g. a forked child's pid, so that two writers never share the file)."""
    tmp = path.with_name(path.name + ".tmp" + tmp_suffix)
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    fsync_dir(path)


def read(path: Path) -> dict | None:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    return decode(raw)
