"""What a snapshot holds and the check it passes before it is written (gateway/journal/snapshot.py):
the core rebuilt from the bytes must describe the same state as the core it was taken from;
references to the core, its calendar and other modules come back as the fresh core's; stream logs
come back packed and unpack their entries only when used."""
from __future__ import annotations

import pickle
import sys
from dataclasses import dataclass
from datetime import datetime

import pytest

from gateway.clearing.core import ClearingCore, Context, Module, ModuleSet, SendClearingMessage
from gateway.journal import snapshot as snap
from gateway.refdata import module_factories
from gateway.streams import StreamLog, StreamStore

START = datetime(2026, 11, 2, 10, 0)
OPERATOR = Context(START, None, "OP", operator=True)


class Counter:
    """Pickles as a fresh counter: its count does not survive (a lossy ``__reduce__``)."""

    def __init__(self, count: int = 0):
        self.count = count

    def __reduce__(self):
        return (Counter, ())


class Probe(Module):
    """A test module with a piece of state of each kind the check must tell apart."""

    name = "probe"

    def __init__(self, core):
        super().__init__(core)
        self.counter = Counter()
        self.unknown = False    # described as a new NaN each time: unequal to itself, one JSON text
        self.peer = core.module("system")
        self.here = core

    def snapshot(self):
        return {"count": self.counter.count, "unknown": float("nan") if self.unknown else None}


def factories() -> ModuleSet:
    base = module_factories()
    return ModuleSet([*base, Probe], base.calendar)


FACTORIES = factories()


def core_with_probe() -> ClearingCore:
    return ClearingCore(START, module_factories=FACTORIES)


def rebuild(blob: bytes) -> ClearingCore:
    return snap.restore_core(blob, START, FACTORIES)


def build(core: ClearingCore) -> dict:
    return snap.build(core, StreamStore(20261102), {}, FACTORIES)


def test_state_that_does_not_survive_pickling_is_refused():
    core = core_with_probe()
    core.module("probe").counter.count = 3
    with pytest.raises(snap.SnapshotError, match="does not survive pickling"):
        build(core)


def test_a_description_that_compares_unequal_falls_back_to_the_state_hash_and_passes():
    core = core_with_probe()
    core.module("probe").unknown = True   # nan != nan: the descriptions differ, the hashes agree
    assert core.snapshot() != core.snapshot()
    body = build(core)
    assert rebuild(body["core"]).state_hash() == core.state_hash()


def test_references_to_the_core_and_modules_come_back_as_the_fresh_cores():
    core = core_with_probe()
    core.execute(SendClearingMessage(("hello",)), OPERATOR)
    body = build(core)
    rebuilt = rebuild(body["core"])
    probe = rebuilt.module("probe")
    assert probe.here is rebuilt and probe.peer is rebuilt.module("system") and probe.core is rebuilt
    assert rebuilt.module("system").message_number == 1
    assert rebuilt.state_hash() == core.state_hash()


def test_a_reference_outside_the_snapshot_unpickler_is_refused():
    core = core_with_probe()
    blob = snap.core_state(core)
    with pytest.raises(pickle.UnpicklingError, match="outside a snapshot"):
        pickle.loads(blob)


def test_stream_logs_come_back_packed_and_unpack_their_entries_when_used():
    store = StreamStore(20261102)
    for i in range(3):
        store.publish(2, "BP001", b"payload%d" % i, "BD6", frozenset({"BP001-H"}))
    store.publish(1, None, b"hb", "BI27", frozenset())
    store.publish(2, "BP002", b"other", "BD6", frozenset({"BP002-H"}))
    restored = snap.restore_streams(snap.streams_state(store))
    lg = restored.logs[(2, "BP001")]
    assert lg.last == 3 and lg._packed is not None          # nothing built yet
    assert restored.last_sequence(2, "BP001") == 3 and lg._packed is not None
    entries, first, last = restored.range(2, "BP001", 0, 2, None)
    assert (first, last) == (2, 3) and lg._packed is None     # built at the first replay
    assert [e.frame for e in entries] == [e.frame for e in store.logs[(2, "BP001")].entries[1:]]
    assert lg == store.logs[(2, "BP001")]
    _, _, seq = restored.publish(1, None, b"hb2", "BI27", frozenset())   # appended behind the packed part
    general = restored.logs[(1, "")]
    assert seq == 2 and general.last == 2 and general._packed is not None
    assert restored.range(1, None, 0, 2, None)[1:] == (2, 2)
    assert [e.frame for e in restored.range(1, None, 0, 1, None)[0]] == [store.logs[(1, "")].entries[0].frame,
                                                                        general.entries[1].frame]
    assert general._packed is None and general.last == 2     # read: unpacked in front of what followed
    # a restored log that was never used goes into the next snapshot as it came
    unused = restored.logs[(2, "BP002")]
    packed = unused._packed
    assert unused.pack() is packed and unused._packed is packed
    again = snap.restore_streams(snap.streams_state(restored))
    assert all(again.logs[k] == restored.logs[k] for k in restored.logs)
    assert StreamLog(20261102) == StreamLog(20261102, [])
    # a snapshot of a log with a packed part and entries after it holds them all, in order
    fresh = snap.restore_streams(snap.streams_state(store))
    fresh.publish(2, "BP002", b"more", "BD6", frozenset())
    assert fresh.logs[(2, "BP002")]._packed is not None
    again = snap.restore_streams(snap.streams_state(fresh))
    assert again.logs[(2, "BP002")].last == 2
    assert [e.frame for e in again.logs[(2, "BP002")].entries] == [e.frame for e in fresh.logs[(2, "BP002")].entries]
    assert fresh.logs[(2, "BP002")].entries[1].frame.endswith(b"more")


@dataclass
class Node:
    name: str
    next: object = None


@dataclass
class Tagged:
    name: str

    def __init__(self, name: str, tag: str = "x"):   # an __init__ of its own
        self.name = name + tag


def test_dataclasses_are_pickled_as_calls_unless_that_cannot_rebuild_them():
    core = core_with_probe()
    probe = core.module("probe")
    loop = Node("a")
    loop.next = Node("b", loop)      # a cycle through fields: not a call with them (falls back)
    extra = Node("c")
    extra.note = "kept"              # an attribute that is not a field
    probe.nodes = [loop, extra, Tagged.__new__(Tagged)]
    probe.nodes[2].name = "t"
    assert snap._init_fields(Node) == ("name", "next") and snap._init_fields(Tagged) == ()
    rebuilt = rebuild(snap.core_state(core)).module("probe")
    a, c, t = rebuilt.nodes
    assert a.next.next is a and a.next.name == "b"
    assert c.note == "kept" and t.name == "t"
    # without the cycle every field value comes back through the call
    probe.nodes = [Node("d", Node("e")), extra]
    d, c = rebuild(snap.core_state(core)).module("probe").nodes
    assert (d.name, d.next.name, d.next.next) == ("d", "e", None) and c.note == "kept"


@dataclass
class Row:
    no: int
    price: int
    when: datetime
    tags: list


def rows_of(n: int, shared_tags: list | None = None) -> dict[int, Row]:
    """``n`` rows keyed by their number: a few prices (integers above the small ones Python shares
    anyway), two times, and a list of tags each (all one list when ``shared_tags``)."""
    times = [datetime(2026, 11, 2, 10, 0), datetime(2026, 11, 2, 11, 0)]
    return {1000 + i: Row(1000 + i, 50_000 + i % 3, times[i % 2],
                          shared_tags if shared_tags is not None else [i]) for i in range(n)}


def test_large_dicts_of_dataclass_rows_are_pickled_as_tables_and_share_what_the_live_state_shares():
    core = core_with_probe()
    probe = core.module("probe")
    n = snap.tables.MIN_ROWS
    probe.rows = rows_of(n)
    probe.few = rows_of(3)                                 # below MIN_ROWS: pickled as it is
    probe.by_text = {f"r{k}": v for k, v in rows_of(n).items()}   # keys that are no field
    blob = snap.core_state(core)
    assert b"gateway.journal.tables" in blob
    got = rebuild(blob).module("probe")
    assert got.rows == probe.rows and list(got.rows) == list(probe.rows)
    assert got.few == probe.few and got.by_text == probe.by_text and list(got.by_text) == list(probe.by_text)
    rows = list(got.rows.values())
    assert all(k is r.no for k, r in got.rows.items())                      # the key is the field
    assert len({id(r.price) for r in rows}) == 3                             # one object per price
    assert len({id(r.when) for r in rows}) == 2
    assert len({id(r.tags) for r in rows}) == n                              # each row its own list
    rows[0].tags.append("x")
    assert rows[1].tags == [1001 - 1000]


def test_a_table_keeps_one_object_shared_by_its_rows():
    core = core_with_probe()
    probe = core.module("probe")
    probe.rows = rows_of(snap.tables.MIN_ROWS, shared_tags=[])
    got = rebuild(snap.core_state(core)).module("probe")
    first, *others = got.rows.values()
    assert all(r.tags is first.tags for r in others)
    first.tags.append("seen by all")
    assert others[-1].tags == ["seen by all"]


def test_a_row_referred_to_from_elsewhere_keeps_its_identity_without_a_table():
    core = core_with_probe()
    probe = core.module("probe")
    probe.rows = rows_of(snap.tables.MIN_ROWS)
    probe.other = rows_of(snap.tables.MIN_ROWS)
    probe.favourite = probe.rows[1007]                     # a second reference to one row
    blob = snap.core_state(core)
    got = rebuild(blob).module("probe")
    assert got.favourite is got.rows[1007] and got.rows == probe.rows
    assert got.other == probe.other and all(k is r.no for k, r in got.other.items())   # still a table
    # a row that refers to another row of its table
    probe.favourite = None
    probe.rows[1000].tags = probe.rows[1001]
    got = rebuild(snap.core_state(core)).module("probe")
    assert got.rows[1000].tags is got.rows[1001] and got.rows == probe.rows


@dataclass(slots=True)
class Slotted:
    no: int
    tags: list


@dataclass
class SlottedPlus(Slotted):   # a slot that is not a field
    __slots__ = ("note",)


def test_what_does_not_qualify_as_a_table():
    n = snap.tables.MIN_ROWS
    plan = snap._init_fields
    assert snap.tables.table(rows_of(n), plan) is not None
    assert snap.tables.table(rows_of(n - 1), plan) is None
    mixed = rows_of(n)
    mixed[1000] = Node("other")                            # rows of two classes
    assert snap.tables.table(mixed, plan) is None
    extra = rows_of(n)
    extra[1000].note = "not a field"
    assert snap.tables.table(extra, plan) is None
    twice = rows_of(n)
    twice[5] = twice[1000]                                 # one object under two keys
    assert snap.tables.table(twice, plan) is None
    assert snap.tables.table({i: Tagged(str(i)) for i in range(n)}, plan) is None   # own __init__
    assert snap.tables.table({i: SlottedPlus(i, []) for i in range(n)}, plan) is None   # a slot beyond the fields
    core = core_with_probe()
    core.module("probe").plus = {i: SlottedPlus(i, []) for i in range(n)}
    got = rebuild(snap.core_state(core)).module("probe").plus
    assert got == core.module("probe").plus


def test_slotted_dataclass_rows_are_tables_and_calls_too():
    n = snap.tables.MIN_ROWS
    assert snap._init_fields(Slotted) == ("no", "tags") and snap._init_fields(SlottedPlus) == ()
    core = core_with_probe()
    probe = core.module("probe")
    shared = ["shared"]
    probe.slotted = {i: Slotted(i, shared if i % 2 else [i]) for i in range(n)}
    probe.few = [Slotted(1, shared), Slotted(2, [])]      # below MIN_ROWS: each a call
    blob = snap.core_state(core)
    assert b"gateway.journal.tables" in blob
    got = rebuild(blob).module("probe")
    assert got.slotted == probe.slotted and all(k is r.no for k, r in got.slotted.items())
    assert got.slotted[1].tags is got.slotted[3].tags and got.few == probe.few


def test_a_column_packs_indexes_narrowly_and_reads_them_in_either_byte_order():
    from array import array
    values = [70_000 + i % 300 for i in range(1000)]
    pool, raw, code = snap.tables.encode_column(values)
    assert len(pool) == 300 and code == "H" and len(raw) == 2000
    assert list(snap.tables.decode_column((pool, raw, code), sys.byteorder, 1000)) == values
    swapped = array(code, raw)
    swapped.byteswap()
    other = "big" if sys.byteorder == "little" else "little"
    assert list(snap.tables.decode_column((pool, swapped.tobytes(), code), other, 1000)) == values
    distinct = [[i] for i in range(10)]
    assert snap.tables.encode_column(distinct) == (distinct, None, "")
    # strings and bytes are pooled by value (equal ones become one object), other objects by identity
    texts = [str(i % 2) + "x" for i in range(600)]
    assert len({id(t) for t in texts}) == 600
    pool, raw, code = snap.tables.encode_column(texts)
    assert pool == ["0x", "1x"] and code == "B"
    same_value = [[0] for _ in range(600)]
    assert snap.tables.encode_column(same_value)[0] == same_value     # 600 lists: 600 objects
    # one value in every row: nothing per row
    stamp = datetime(2026, 11, 2, 10, 0)
    column = snap.tables.encode_column([stamp] * 600)
    assert column == ([stamp], None, "*")
    assert list(snap.tables.decode_column(column, sys.byteorder, 600)) == [stamp] * 600
    with pytest.raises(ValueError, match="a table of 2 Row rows rebuilt 2 rows and 1 keys"):
        snap.tables.rows(Row, ("keys", ([7], None, "*")), sys.byteorder, 2,
                         ([1, 2], None, ""), ([3], None, "*"), ([START], None, "*"), ([[]], None, "*"))
