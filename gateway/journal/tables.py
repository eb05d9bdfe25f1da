"""Large dicts of one simple dataclass (a day's trades and deals) pickled as columns in a snapshot.

Pickled one by one, each of 750,000 trades and deals is a call with a tuple of its field values.
Two things then cost memory when the snapshot is loaded:

* the unpickler's memo holds every argument tuple until the load ends: about 100 MiB for a full
  day, freed only at the end and among the objects that stay, so the process keeps it;
* pickle writes integers by value, so an integer that the live state shares (a trade number that
  is both a dict key and a field, a price shared by a deal and its two trades) comes back as one
  object per place: 4.2 million integers instead of 1.5 million, 73 MiB more.

A :class:`Table` stands in such a dict in the pickled state. Each field is one column: its distinct
values (integers, strings and bytes by value, anything else by identity, so shared objects stay
shared and each distinct integer is one object) and, per row, the index of its value as a packed
array of the narrowest unsigned type (nothing when every row has the same value). A key that is always one of the fields is not stored: it is read back from
the rebuilt objects, so key and field are one object as in the live state. Loading maps the indexes
to the values and calls the class with them, row by row, with no per-row tuple in the memo.

A dict qualifies only when every value is of the same class, one that :func:`plan` says is rebuilt
by calling it with its fields (a slotted class: its slots are those fields), holds nothing beyond
those fields, and appears once in the dict. The
rows are not pickled as objects, so nothing else in the state may refer to them: the pickler tells
(:meth:`Rows.check`) and the snapshot is then pickled again without tables.
"""
from __future__ import annotations

import sys
from array import array
from itertools import repeat
from operator import attrgetter
from typing import Callable

MIN_ROWS = 512     # smaller dicts are pickled as they are


def _typecode(limit: int) -> str:
    for code in ("B", "H", "I", "L", "Q"):
        if (1 << (8 * array(code).itemsize)) > limit:
            return code
    raise OverflowError(limit)


class SharedRow(Exception):
    """A row of a table is referred to from elsewhere in the state: that table (its name, the
    exception's argument) cannot be used."""


class Table:
    """Stands in the pickled state for a dict of rows (see the module's docstring)."""

    __slots__ = ("args",)

    def __init__(self, args: tuple):
        self.args = args

    def __reduce__(self):
        return (rows, self.args)


_BY_VALUE = frozenset({int, str, bytes})
"""Immutable types whose equal values are interchangeable: a column of one of them is pooled by
value (a participant's id read from 500,000 messages is one string, not 500,000)."""


def encode_column(values: list) -> tuple:
    """``(pool, raw, typecode)``: the distinct values and the packed index of each value in the pool;
    ``raw`` None when every value is distinct (the pool is the column) or when there is one value
    (typecode ``"*"``: every row has it)."""
    types = set(map(type, values))
    by_value = len(types) == 1 and types <= _BY_VALUE
    keys = values if by_value else list(map(id, values))
    if len(set(keys)) == len(values):
        return (values, None, "")
    pool = list(dict.fromkeys(values)) if by_value else list(dict(zip(keys, values)).values())
    if len(pool) == 1:
        return (pool, None, "*")
    index = {k: i for i, k in enumerate(pool if by_value else map(id, pool))}
    code = _typecode(len(pool))
    return (pool, array(code, map(index.__getitem__, keys)).tobytes(), code)


def decode_column(column: tuple, byteorder: str, rows: int):
    pool, raw, code = column
    if raw is None:
        return repeat(pool[0], rows) if code == "*" else pool
    if byteorder == sys.byteorder:
        indexes = memoryview(raw).cast(code)
    else:
        indexes = array(code)
        indexes.frombytes(raw)
        indexes.byteswap()
    return map(pool.__getitem__, indexes)


def table(d: dict, plan: Callable[[type], tuple[str, ...]]) -> Table | None:
    """``d`` as a :class:`Table`, or None when it does not qualify."""
    if type(d) is not dict or len(d) < MIN_ROWS:
        return None
    values = list(d.values())
    cls = type(values[0])
    names = plan(cls)
    if not names or set(map(type, values)) != {cls} or len(set(map(id, values))) != len(values):
        return None
    try:
        rows = list(map(attrgetter(*names), values)) if len(names) > 1 else [(getattr(v, names[0]),) for v in values]
    except AttributeError:
        return None
    if cls.__dictoffset__:
        if set(map(len, map(vars, values))) != {len(names)}:
            return None     # attributes beyond the fields
    # else slotted: its slots are its fields (``plan`` says so), there is nothing else to hold
    columns = [list(c) for c in zip(*rows)]
    del rows
    keys = list(d)
    key_types = set(map(type, keys))
    key = next((("field", name) for name, column in zip(names, columns)
                if len(key_types) == 1 and set(map(type, column)) == key_types and column == keys), None)
    if key is None:
        key = ("keys", encode_column(keys))
    return Table((cls, key, sys.byteorder, len(values), *map(encode_column, columns)))


def rows(cls: type, key: tuple, byteorder: str, n: int, *columns: tuple) -> dict:
    """The dict of ``n`` rows a :class:`Table` stood for (called by the unpickler)."""
    objects = list(map(cls, *(decode_column(c, byteorder, n) for c in columns)))
    kind, spec = key
    keys = map(attrgetter(spec), objects) if kind == "field" else decode_column(spec, byteorder, n)
    out = dict(zip(keys, objects))
    if len(out) != n or len(objects) != n:
        raise ValueError(f"a table of {n} {cls.__name__} rows rebuilt {len(objects)} rows and {len(out)} keys")
    return out


class Rows:
    """The objects put in tables, for the pickler to refuse any other reference to one of them."""

    def __init__(self):
        self.tables: dict[int, object] = {}   # id of a row -> the name of its table
        self.classes: set[type] = set()

    def add(self, name, d: dict) -> None:
        self.tables.update(dict.fromkeys(map(id, d.values()), name))
        self.classes.add(type(next(iter(d.values()))))

    def check(self, obj) -> None:
        if type(obj) in self.classes:
            name = self.tables.get(id(obj))
            if name is not None:
                raise SharedRow(name)
