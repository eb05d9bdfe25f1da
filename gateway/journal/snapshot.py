"""Snapshots: the whole gateway state at a journal position, so a restart replays only what follows.

File ``<journal>.snapshot`` (replaced atomically: written to ``.tmp``, fsync'ed, renamed)::

    magic   8 bytes  b"HKPSNAP\\x01"
    crc32   u32      zlib.crc32 of the body
    length  u64      body length
    body    three sections, each a u64 length then its bytes: the head, the core, the streams

The head is a pickle of a dict: format, journal_id, seq (last record covered), record_offset and
            record_crc (where that record is and its checksum), end_offset (where replay resumes),
            modules, data (the modules'
            data when not the shipped data: see ``gateway.clearing.modules``), core (the core's and
            every module's attributes, pickled with the core and modules as references: the second
            section), streams (the broadcast logs, see :func:`streams_state`: the third section),
            core_digest and streams_digest (SHA-256 of those two sections), passwords (password changes so far), users (users created or changed by
            an Administrator so far: their whole records), taken_at.

A snapshot is written only when the core rebuilt from its bytes has the state of the core it was
taken from (:func:`build`, checked where it is built: in the forked child while serving).
It is trusted only when its checksum matches, it belongs to this journal (same id), the journal
still holds the record it names at the same offset with the same checksum, and the core and stream
bytes have the SHA-256 digests recorded in the head: the bytes are those that were rebuilt
and checked, so loading does not compute the state hash (over a whole day's state that took
longer than the rest of the recovery together). Otherwise it is reported and the journal is
replayed from the start (always possible: the journal is never cut before a snapshot).

The core is not pickled whole: its dispatch tables hold closures. A fresh core is built by the
module factories and each module's attributes are put back; references between modules, to the
core and to the calendar are kept as references. Simple dataclasses are pickled as calls of their
``__init__``, and a module's large dicts of them (the day's trades and deals) as tables of columns
(:mod:`.tables`, format 4; slotted ones too, format 5); an older snapshot is refused (the journal is
then replayed: its records are commands, whatever the shape of the records they build). A module
whose state cannot be pickled makes snapshots unavailable (logged once); recovery then replays the
whole journal.
"""
from __future__ import annotations

import dataclasses
import functools
import hashlib
import inspect
import io
import os
import pickle
import struct
import zlib
from datetime import datetime
from pathlib import Path
from typing import Any

from gateway.clearing.core import ClearingCore

from . import tables
from .format import fsync_dir

MAGIC = b"HKPSNAP\x01"
HEADER = struct.Struct(">8sIQ")
FORMAT = 5   # 2: digests of the core and stream bytes, checked on load instead of the state hash;
            # 3: references to the core and modules as reductions, no state hash in the head,
            #    each stream log pickled on its own;
            # 4: large dicts of simple dataclasses as tables (gateway/journal/tables.py);
            # 5: DCASS trades and deals are slotted, a trade's children a tuple (a format 3 or 4
            #    snapshot would rebuild them with a list): refused, the journal replayed
READS = frozenset({FORMAT})
SKIP_CORE_ATTRS = frozenset({"modules", "_commands", "_queries", "calendar"})


class SnapshotError(Exception):
    pass


def snapshot_path(journal_path: str | os.PathLike) -> Path:
    p = Path(journal_path)
    return p.with_name(p.name + ".snapshot")


def _ref(*name):
    """Stands in the pickle for a live object of the gateway (the core, its calendar, a module):
    only the snapshot's own unpickler resolves it (to the fresh core's), anything else refuses."""
    raise pickle.UnpicklingError(f"a reference to the gateway's {name!r} outside a snapshot")


class _Pickler(pickle.Pickler):
    """Pickles module state with the core, the calendar and the modules as references.

    The references are found by ``reducer_override``, which the C pickler calls only for objects
    that are not ints, strings, bytes, floats, tuples, lists, dicts or sets, and only the first
    time it meets each; a ``persistent_id`` would be called for every object (every int of every
    trade), which made pickling a full day's core take 8 s instead of 2-3. The same hook pickles
    the objects of simple dataclasses as calls (:func:`_init_fields`)."""

    def __init__(self, f, core: ClearingCore, calls: bool = True, rows: tables.Rows | None = None):
        super().__init__(f, protocol=pickle.HIGHEST_PROTOCOL)
        self.calls = calls   # dataclasses as calls (see _init_fields); not for state with cycles
        self.rows = rows     # the objects put in tables: any other reference to one is refused
        self.refs = {id(core): ("core",), id(core.calendar): ("calendar",)}
        for m in core.modules:
            self.refs[id(m)] = ("module", m.name)
        self._keep = [core, core.calendar, *core.modules]
        self.plans: dict[type, tuple[str, ...]] = {}   # per class: _init_fields

    def reducer_override(self, obj):
        ref = self.refs.get(id(obj))
        if ref is not None:
            return (_ref, ref)
        if self.rows is not None:
            self.rows.check(obj)
        if not self.calls:
            return NotImplemented
        cls = type(obj)
        names = self.plans.get(cls)
        if names is None:
            names = self.plans[cls] = _init_fields(cls)
        if names:
            state = getattr(obj, "__dict__", None)
            if state is None:   # slotted: its slots are its fields (see _init_fields)
                return (cls, tuple(map(obj.__getattribute__, names)))
            if len(state) == len(names) and tuple(state) == names:
                return (cls, tuple(state.values()))
        return NotImplemented


def _init_fields(cls: type) -> tuple[str, ...]:
    """The fields of a dataclass that is rebuilt by calling it with its field values in order
    (its generated ``__init__`` takes them all and does nothing else), or ``()``.

    Such objects are pickled as that call: unpickling one then builds it as the gateway does, with
    its attributes in the compact form Python gives instances made by ``__init__``, instead of
    creating it empty and filling a dictionary. For a full day's 750,000 trades and deals that
    loads in about half the CPU time, and the restored process takes 14 % less memory."""
    if not dataclasses.is_dataclass(cls):
        return ()
    params = getattr(cls, "__dataclass_params__", None)
    fields = dataclasses.fields(cls)
    if (params is None or not params.init or hasattr(cls, "__post_init__") or not all(f.init for f in fields)
            or len(fields) != len(cls.__dataclass_fields__)):   # InitVar and ClassVar pseudo-fields
        return ()
    names = tuple(f.name for f in fields)
    try:
        takes = list(inspect.signature(cls).parameters.values())
    except (TypeError, ValueError):
        return ()
    if tuple(p.name for p in takes) != names or any(p.kind is not p.POSITIONAL_OR_KEYWORD for p in takes):
        return ()   # an __init__ of its own
    if cls.__dictoffset__ == 0 and slot_names(cls) != names:
        return ()   # slotted, with slots that are not its fields
    return names


def slot_names(cls: type) -> tuple[str, ...]:
    """The slots of ``cls`` and of its bases, base first (``__weakref__`` left out)."""
    return tuple(n for c in reversed(cls.__mro__) for n in c.__dict__.get("__slots__", ())
                 if n != "__weakref__")


class _Unpickler(pickle.Unpickler):
    """Resolves the references of :class:`_Pickler` to ``core``'s objects.

    What ``find_class`` hands out for them must not refer to the unpickler: the unpickler's memo
    holds every object it built and the argument tuples of every call, and a cycle through it (a
    bound method of the unpickler in its own memo) would keep all that alive after the load, with
    the garbage collector paused while recovering (146 MiB after a full day)."""

    def __init__(self, f, core: ClearingCore):
        super().__init__(f)
        self.core = core

    def find_class(self, module, name):
        if module == __name__ and name == "_ref":
            return functools.partial(_resolve, self.core)
        return super().find_class(module, name)


def _resolve(core: ClearingCore, *ref):
    if ref == ("core",):
        return core
    if ref == ("calendar",):
        return core.calendar
    if len(ref) == 2 and ref[0] == "module":
        return core.module(ref[1])
    raise pickle.UnpicklingError(f"unknown reference {ref!r}")


def core_state(core: ClearingCore) -> bytes:
    """The core's and its modules' attributes, pickled (raises SnapshotError when impossible).

    Pickled in the most compact form the state allows: large dicts of simple dataclasses as
    tables (:mod:`.tables`) and other simple dataclasses as calls (:func:`_init_fields`); without
    tables when a row is referred to from elsewhere, and without calls when a dataclass reaches
    itself through its fields (the call's arguments would contain the object being made)."""
    state: dict[str, Any] = {"core": {k: v for k, v in vars(core).items() if k not in SKIP_CORE_ATTRS},
                             "modules": []}
    for m in core.modules:
        if not hasattr(m, "__dict__"):
            raise SnapshotError(f"module {m.name} keeps its state in slots")
        state["modules"].append((m.name, {k: v for k, v in vars(m).items() if k != "core"}))
    shared: set = set()
    built: dict = {}
    while True:
        tabled, rows = _with_tables(state, shared, built)
        if not rows.tables:
            break
        try:
            return _pickle_state(tabled, rows, core, calls=True)
        except tables.SharedRow as e:
            shared.add(e.args[0])
        except RecursionError:
            break
    try:
        return _pickle_state(state, None, core, calls=True)
    except RecursionError:
        return _pickle_state(state, None, core, calls=False)


def _with_tables(state: dict, shared: set, built: dict) -> tuple[dict, tables.Rows]:
    """``state`` with the modules' large dicts of simple dataclasses as tables (except those named
    in ``shared``: a row of theirs is referred to from elsewhere), and their rows (``built``: the
    tables made by an earlier try, by name)."""
    rows, modules = tables.Rows(), []
    for name, attrs in state["modules"]:
        attrs = dict(attrs)
        for k, v in attrs.items():
            if (name, k) not in built:
                built[name, k] = tables.table(v, _init_fields)
            t = None if (name, k) in shared else built[name, k]
            if t is not None:
                attrs[k] = t
                rows.add((name, k), v)
        modules.append((name, attrs))
    return dict(state, modules=modules), rows


def _pickle_state(state: dict, rows: tables.Rows | None, core: ClearingCore, calls: bool) -> bytes:
    f = io.BytesIO()
    try:
        _Pickler(f, core, calls, rows).dump(state)
    except (RecursionError, tables.SharedRow):
        if calls:
            raise
        raise SnapshotError("module state cannot be pickled: it nests too deeply") from None
    except Exception as e:  # noqa: BLE001 - a closure or a lock somewhere in a module's state
        raise SnapshotError(f"module state cannot be pickled: {e}") from None
    return f.getvalue()


def _source(blob):
    return io.BytesIO(blob) if isinstance(blob, (bytes, bytearray, memoryview)) else blob


def restore_core(blob, start: datetime, module_factories: list) -> ClearingCore:
    """The core from :func:`core_state`'s bytes, or from a binary file positioned at them (read as
    it is unpickled, never held whole)."""
    core = ClearingCore(start, module_factories=module_factories)
    state = _Unpickler(_source(blob), core).load()
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
    """The broadcast logs: per log its business date, its number of entries and its own pickle of
    three columns (frames, codes, filter keys; see ``StreamLog.pack``), so that a restart unpacks a
    log only when it is used, and pickle does not store and rebuild an object per entry."""
    def logs(d: dict) -> dict:
        return {k: (lg.business_date, *lg.pack()) for k, lg in d.items()}
    state = (streams.business_date, streams.published, logs(streams.logs), logs(streams.previous))
    return pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)


def restore_streams(blob):
    from gateway.streams import StreamLog, StreamStore

    business_date, published, today, previous = pickle.load(_source(blob))

    def logs(d: dict) -> dict:
        return {k: StreamLog.restored(bdate, count, packed) for k, (bdate, count, packed) in d.items()}
    store = StreamStore(business_date)
    store.logs, store.previous, store.published = logs(today), logs(previous), published
    return store


def build(core: ClearingCore, streams, head: dict, module_factories: list) -> dict:
    """The snapshot body: ``head`` and the state. Raises :class:`SnapshotError` when the state cannot
    be pickled or does not survive it.

    The check: a core is rebuilt from the bytes and its state, as the modules describe it
    (``ClearingCore.snapshot()``), must equal the state of the core it was taken from. The two
    descriptions are compared as they are; only when they differ (a value that compares unequal
    to itself, say) are the state hashes compared, which also encode them as canonical JSON
    (30 s for a full day's two cores, against 5 s for the descriptions)."""
    blob = core_state(core)
    rebuilt = restore_core(blob, core.now, module_factories)
    if rebuilt.snapshot() != core.snapshot():
        want, got = core.state_hash(), rebuilt.state_hash()
        if got != want:
            raise SnapshotError(f"the core rebuilt from the snapshot has state hash {got[:16]}, the core "
                                f"{want[:16]}: a module's state does not survive pickling")
    del rebuilt
    logs = streams_state(streams)
    return dict(head, format=FORMAT, core=blob, core_digest=digest(blob), streams=logs,
                streams_digest=digest(logs))


PARTS = ("core", "streams")
_LEN = struct.Struct(">Q")
_CHUNK = 1 << 20


def encode(body: dict) -> bytes:
    head = pickle.dumps({k: v for k, v in body.items() if k not in PARTS}, protocol=pickle.HIGHEST_PROTOCOL)
    data = b"".join(_LEN.pack(len(x)) + x for x in (head, *(bytes(body[p]) for p in PARTS)))
    return HEADER.pack(MAGIC, zlib.crc32(data), len(data)) + data


class Reader:
    """An open snapshot file, checked in one streaming pass (checksum, layout, head, the digests of
    the core and stream sections) without holding the file in memory; then each section is
    unpickled from the file by :meth:`part`."""

    def __init__(self, path: Path):
        self.f = open(path, "rb")
        try:
            self.head, self.offsets = self._check()
        except BaseException:
            self.f.close()
            raise

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.f.close()

    def _check(self) -> tuple[dict, dict]:
        f = self.f
        raw = f.read(HEADER.size)
        if len(raw) < HEADER.size:
            raise SnapshotError(f"file of {len(raw)} bytes is shorter than the header")
        magic, crc, length = HEADER.unpack(raw)
        if magic != MAGIC:
            raise SnapshotError("bad magic")
        size = os.fstat(f.fileno()).st_size - HEADER.size
        if size != length:
            raise SnapshotError(f"length {size} differs from the {length} announced")
        # the sections' bounds, then one pass over the body: crc32 of all, SHA-256 of each section
        bounds, pos = [], HEADER.size
        for _ in range(1 + len(PARTS)):
            f.seek(pos)
            lb = f.read(_LEN.size)
            if len(lb) < _LEN.size:
                raise SnapshotError("a section is missing")
            n = _LEN.unpack(lb)[0]
            if pos + _LEN.size + n > HEADER.size + length:
                raise SnapshotError("a section runs past the end")
            bounds.append((pos + _LEN.size, pos + _LEN.size + n))
            pos += _LEN.size + n
        if pos != HEADER.size + length:
            raise SnapshotError("bytes after the last section")
        f.seek(HEADER.size)
        got, digests, at = 0, [hashlib.sha256() for _ in PARTS], HEADER.size
        while at < pos:
            chunk = f.read(min(_CHUNK, pos - at))
            if not chunk:
                raise SnapshotError("the file ended early")
            got = zlib.crc32(chunk, got)
            for (a, b), h in zip(bounds[1:], digests):
                lo, hi = max(a, at), min(b, at + len(chunk))
                if lo < hi:
                    h.update(memoryview(chunk)[lo - at:hi - at])
            at += len(chunk)
        if got != crc:
            raise SnapshotError("checksum mismatch")
        f.seek(bounds[0][0])
        try:
            head = pickle.loads(f.read(bounds[0][1] - bounds[0][0]))
        except Exception as e:  # noqa: BLE001
            raise SnapshotError(f"head does not load: {e}") from None
        if not isinstance(head, dict) or head.get("format") not in READS:
            raise SnapshotError(f"unknown snapshot format {head.get('format') if isinstance(head, dict) else '?'}")
        for part, h in zip(PARTS, digests):
            if h.hexdigest() != head.get(f"{part}_digest"):
                raise SnapshotError(f"the {part} bytes differ from their recorded digest")
        return head, {p: b for p, b in zip(PARTS, bounds[1:])}

    def part(self, name: str, load):
        """``load(file)`` with the file positioned at section ``name``."""
        self.f.seek(self.offsets[name][0])
        return load(self.f)

    def raw(self, name: str) -> bytes:
        a, b = self.offsets[name]
        self.f.seek(a)
        return self.f.read(b - a)


def open_snapshot(path: Path) -> Reader | None:
    """A checked :class:`Reader` on ``path``, None when there is no snapshot there."""
    try:
        return Reader(path)
    except FileNotFoundError:
        return None


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
    """The whole snapshot as a dict (the head's keys, and core and streams as bytes), checked."""
    r = open_snapshot(path)
    if r is None:
        return None
    with r:
        return dict(r.head, **{p: r.raw(p) for p in PARTS})
