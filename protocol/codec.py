"""Message declarations and the codec generated from them.

Each message is declared once, as a ``construct.Struct`` built from the field types below. From
that one declaration this module derives:

* a typed Python class (a slotted dataclass) with one attribute per field;
* a fast encoder/decoder generated as Python source over one ``struct.Struct`` per record (the
  hot path: construct's own ``.compile()`` silently keeps interpreted code for string adapters);
* the construct parser/builder itself (used to cross-check the fast path and for golden vectors);
* field offsets (for "field error at byte N" statuses) and the documentation tables.

Field types: unsigned/signed big-endian integers (``U8``..``I64``), ``Fixed(I64, 8)`` (an integer
read as a fixed-point decimal with that many decimals), ``Text(n)`` (fixed width, space padded
ASCII; too long a value is an :class:`EncodeError`, or with ``Text(n, truncate=True)`` it is cut to
fit at a word boundary and marked ``...``), ``Date`` (YYYYMMDD) and ``Time`` (HHMMSS) as text, blank for none, ``DateInt`` (the integer
YYYYMMDD in a u32), ``Filler(n)`` (zero bytes), ``Code(IntEnum, U8)`` (an enumerated code),
``Bool`` (one byte, 0 or 1), a nested :func:`record`, and ``Items(U16, record)``: a counted array
of fixed-size records, allowed only as the last field.

Message objects hold the wire values (ints for fixed-point fields, text for dates and times); the
field types convert between those and ``Decimal``, ``date`` and ``time`` (``RATE.to_decimal(n)``,
``Date.from_text(text)``, ``Date.to_text(d)``), so the number of decimals and the text forms are
declared once, here and in the declarations, and the generated codec stays as fast as plain ints
and text.
"""
from __future__ import annotations

import dataclasses
import enum
import functools
import struct
import sys
from datetime import date, datetime, time
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, Callable

import construct as cs

__all__ = [
    "U8", "U16", "U32", "U64", "I8", "I16", "I32", "I64", "Fixed", "Text", "Date", "Time", "DateInt", "Filler",
    "Code", "Bool", "Items", "Nested", "record", "Record", "DecodeError", "EncodeError", "Struct",
]

Struct = cs.Struct

U8, U16, U32, U64 = cs.Int8ub, cs.Int16ub, cs.Int32ub, cs.Int64ub
I8, I16, I32, I64 = cs.Int8sb, cs.Int16sb, cs.Int32sb, cs.Int64sb
_INT_RANGES = {
    "B": (0, 2**8 - 1), "H": (0, 2**16 - 1), "I": (0, 2**32 - 1), "Q": (0, 2**64 - 1),
    "b": (-(2**7), 2**7 - 1), "h": (-(2**15), 2**15 - 1), "i": (-(2**31), 2**31 - 1), "q": (-(2**63), 2**63 - 1),
}


class DecodeError(ValueError):
    """A well-framed payload that does not decode; ``offset`` is the byte offset of the bad field
    from the start of the payload (the message type is at offset 0)."""

    def __init__(self, message: str, offset: int = 0, field: str = ""):
        super().__init__(message)
        self.offset = offset
        self.field = field


class EncodeError(ValueError):
    pass


# ------------------------------------------------------------------ field types (construct side)
class FixedCon(cs.Subconstruct):
    """An integer on the wire that stands for a decimal with ``decimals`` decimals (a rate of 8
    decimals: 0.0365 is 3650000). Parsed and built as its integer; converted by the handlers with
    :meth:`to_decimal` and :meth:`from_decimal`."""

    def __init__(self, subcon: cs.FormatField, decimals: int):
        if not isinstance(subcon, cs.FormatField) or decimals < 0:
            raise TypeError("Fixed(integer field, decimals >= 0)")
        super().__init__(subcon)
        self.decimals = decimals
        self.scale = Decimal(10) ** decimals  # the integer of 1.0

    def to_decimal(self, n: int) -> Decimal:
        """The decimal an integer stands for, at the field's exponent (3650000 -> 0.03650000)."""
        return Decimal(n).scaleb(-self.decimals)

    def from_decimal(self, d: Decimal, rounding: str = ROUND_HALF_EVEN) -> int:
        """The integer of a decimal, rounded to the field's decimals."""
        return int(d.scaleb(self.decimals).to_integral_value(rounding=rounding))


def Fixed(subcon: cs.FormatField, decimals: int) -> FixedCon:
    return FixedCon(subcon, decimals)


class TextAdapter(cs.Adapter):
    """Fixed-width ASCII text, padded with spaces on the right, not NUL terminated. A longer value
    is an :class:`EncodeError`, or cut to ``length`` bytes at a word boundary, marked ``...``, when
    the field says ``truncate``."""

    form = ""  # the text form of a date or time field

    def __init__(self, length: int, truncate: bool = False):
        super().__init__(cs.Bytes(length))
        self.length = length
        self.truncate = truncate

    def _decode(self, obj, context, path):
        return bytes(obj).rstrip(b" ").decode("ascii")

    def _encode(self, obj, context, path):
        return (_cut_text if self.truncate else _pad_text)(obj, self.length)


def _pad_text(s: str, n: int) -> bytes:
    b = s.encode("ascii")
    if len(b) > n:
        raise EncodeError(f"text {s!r} longer than {n} bytes")
    return b.ljust(n)


ELLIPSIS = b"..."


def _cut_text(s: str, n: int) -> bytes:
    """``s`` fitted to ``n`` bytes: when it is longer, cut at the last word boundary that leaves room
    for ``...`` (never mid-word; a single word longer than the field is cut and marked)."""
    b = s.encode("ascii")
    if len(b) <= n:
        return b.ljust(n)
    room = n - len(ELLIPSIS)
    if room < len(ELLIPSIS):  # too narrow for a marker: the first n bytes
        return b[:n]
    cut = b.rfind(b" ", 0, room + 1)  # a space just past the room is a boundary too
    head = b[:cut].rstrip(b" ,;:-") if cut > 0 else b""
    return ((head or b[:room]) + ELLIPSIS).ljust(n)


def fit_detail(head: str, detail: str, n: int) -> str:
    """``head: detail`` in ``n`` characters, keeping the detail whole: when it is too long, the head
    (a code's generic text, which the code itself identifies) is shortened at a word boundary first.
    The detail is cut (at a word boundary) only when it alone does not fit."""
    if not detail:
        return head
    full = f"{head}: {detail}"
    room = n - len(detail) - 2
    if len(full) <= n or room < 2 * len(ELLIPSIS):
        return full
    return f"{_cut_text(head, room).decode('ascii').rstrip()}: {detail}"


def Text(length: int, truncate: bool = False) -> TextAdapter:
    return TextAdapter(length, truncate)


class DateText(TextAdapter):
    """A date as text, YYYYMMDD; blank: no date."""

    form = "YYYYMMDD"
    pattern = "%Y%m%d"

    def __init__(self):
        super().__init__(8)

    @staticmethod
    def to_text(d: date) -> str:
        # an f-string: strftime costs ~3.7 us a call; strftime only for years below 1000
        return f"{d.year}{d.month:02d}{d.day:02d}" if d.year >= 1000 else d.strftime(DateText.pattern)

    @classmethod
    def from_text(cls, text: str) -> date:
        """The date of a text; ``ValueError`` when it is not YYYYMMDD."""
        return datetime.strptime(text, cls.pattern).date()


class TimeText(TextAdapter):
    """A time of day as text, HHMMSS; blank: no time."""

    form = "HHMMSS"
    pattern = "%H%M%S"

    def __init__(self):
        super().__init__(6)

    @staticmethod
    def to_text(t: time | datetime) -> str:
        return f"{t.hour:02d}{t.minute:02d}{t.second:02d}"

    @classmethod
    def from_text(cls, text: str) -> time:
        """The time of a text; ``ValueError`` when it is not HHMMSS."""
        return datetime.strptime(text, cls.pattern).time()


class DateIntCon(cs.Subconstruct):
    """A date as the integer YYYYMMDD in a u32 (20261123); 0: none or the current date, as the
    field says. Parsed and built as its integer."""

    form = "YYYYMMDD"

    def __init__(self):
        super().__init__(cs.Int32ub)

    @staticmethod
    def to_int(d: date) -> int:
        return d.year * 10000 + d.month * 100 + d.day

    @staticmethod
    def from_int(n: int) -> date:
        """The date of an integer; ``ValueError`` when it is not YYYYMMDD."""
        return date(n // 10000, n // 100 % 100, n % 100)


Date = DateText()
Time = TimeText()
DateInt = DateIntCon()


def Filler(length: int):
    return cs.Padding(length)


class CodeAdapter(cs.Adapter):
    def __init__(self, enum_cls: type[enum.IntEnum], subcon=cs.Int8ub):
        super().__init__(subcon)
        self.enum_cls = enum_cls

    def _decode(self, obj, context, path):
        return self.enum_cls(obj)

    def _encode(self, obj, context, path):
        if isinstance(obj, str):
            obj = self.enum_cls[obj]
        return int(self.enum_cls(obj))


def Code(enum_cls: type[enum.IntEnum], subcon=cs.Int8ub) -> CodeAdapter:
    return CodeAdapter(enum_cls, subcon)


class BoolAdapter(cs.Adapter):
    def __init__(self):
        super().__init__(cs.Int8ub)

    def _decode(self, obj, context, path):
        if obj not in (0, 1):
            raise cs.ValidationError(f"boolean byte must be 0 or 1, got {obj}")
        return bool(obj)

    def _encode(self, obj, context, path):
        return 1 if obj else 0


Bool = BoolAdapter()


class RecordCon(cs.Adapter):
    """A nested record inside a message: parses to the record's dataclass."""

    def __init__(self, rec: "Record"):
        super().__init__(rec.layout)
        self.rec = rec

    def _decode(self, obj, context, path):
        return self.rec.cls(**{f: obj[f] for f in self.rec.field_types})

    def _encode(self, obj, context, path):
        return {f: getattr(obj, f) for f in self.rec.field_types}


class ItemsCon(cs.Adapter):
    def __init__(self, count, rec: "Record"):
        super().__init__(cs.PrefixedArray(count, RecordCon(rec)))
        self.rec = rec
        self.count = count

    def _decode(self, obj, context, path):
        return list(obj)

    def _encode(self, obj, context, path):
        return list(obj)


def _rec(x) -> "Record":
    return x if isinstance(x, Record) else x.__record__


def Items(count, rec) -> ItemsCon:
    """A counted array of records (a class returned by :func:`record`); last field only."""
    return ItemsCon(count, _rec(rec))


def Nested(rec) -> "RecordCon":
    """A record (a class returned by :func:`record`) used as one field."""
    return RecordCon(_rec(rec))


# ------------------------------------------------------------------ analysis of a declaration
@dataclasses.dataclass
class _Field:
    name: str
    kind: str  # int, text, filler, code, bool, record, items
    fmt: str  # struct format (without byte order); "" for items
    size: int
    doc: str
    subcon: Any
    enum_cls: type | None = None
    record: "Record | None" = None
    length: int = 0  # text length
    decimals: int | None = None  # fixed point: an int standing for a decimal
    form: str = ""  # date or time text: its form (YYYYMMDD, HHMMSS)
    truncate: bool = False  # text: cut to fit instead of refused

    @property
    def default(self):
        if self.kind == "int":
            return 0
        if self.kind == "text":
            return ""
        if self.kind == "bool":
            return False
        if self.kind == "code":
            members = list(self.enum_cls)
            return next((m for m in members if m.value == 0), members[0])
        return None

    @property
    def type_name(self) -> str:
        if self.kind == "int":
            if self.decimals is not None:
                return f"{_INTFMT_NAME[self.fmt]} fixed point, {self.decimals} decimals"
            if self.form:
                return f"date {self.form} ({_INTFMT_NAME[self.fmt]})"
            return _INTFMT_NAME[self.fmt]
        if self.kind == "text":
            if self.form:
                return f"{'date' if isinstance(self.subcon, DateText) else 'time'} {self.form} (text({self.length}))"
            return f"text({self.length}){', cut to fit at a word boundary, marked ...' if self.truncate else ''}"
        if self.kind == "filler":
            return f"filler({self.size})"
        if self.kind == "code":
            return f"code {self.enum_cls.__name__} ({_INTFMT_NAME[self.fmt]})"
        if self.kind == "bool":
            return "bool (u8)"
        if self.kind == "record":
            return f"record {self.record.name}"
        if self.kind == "items":
            return f"items of {self.record.name} (u16 count + {self.record.size} bytes each)"
        return self.kind


_INTFMT_NAME = {"B": "u8", "H": "u16", "I": "u32", "Q": "u64", "b": "i8", "h": "i16", "i": "i32", "q": "i64"}


def _norm(fmtstr: str) -> str:
    return fmtstr[1:].replace("L", "I").replace("l", "i")


def _analyse(layout: cs.Struct) -> list[_Field]:
    out: list[_Field] = []
    for sc in layout.subcons:
        name = getattr(sc, "name", None)
        doc = getattr(sc, "docs", "") or ""
        inner = sc
        while isinstance(inner, cs.Renamed):
            name = name or inner.name
            doc = doc or (inner.docs or "")
            inner = inner.subcon
        if isinstance(inner, cs.Padded) and isinstance(inner.subcon, cs.Pass.__class__):
            out.append(_Field(name or "filler", "filler", f"{inner.length}x", inner.length, doc, inner))
            continue
        if name is None:
            raise TypeError(f"unnamed field {sc!r}: only Filler(n) may be unnamed")
        if isinstance(inner, cs.FormatField):
            f = _norm(inner.fmtstr)
            out.append(_Field(name, "int", f, struct.calcsize(">" + f), doc, inner))
        elif isinstance(inner, FixedCon):
            f = _norm(inner.subcon.fmtstr)
            out.append(_Field(name, "int", f, struct.calcsize(">" + f), doc, inner, decimals=inner.decimals))
        elif isinstance(inner, DateIntCon):
            f = _norm(inner.subcon.fmtstr)
            out.append(_Field(name, "int", f, struct.calcsize(">" + f), doc, inner, form=inner.form))
        elif isinstance(inner, TextAdapter):
            out.append(_Field(name, "text", f"{inner.length}s", inner.length, doc, inner, length=inner.length,
                              form=inner.form, truncate=inner.truncate))
        elif isinstance(inner, CodeAdapter):
            f = _norm(inner.subcon.fmtstr)
            out.append(_Field(name, "code", f, struct.calcsize(">" + f), doc, inner, enum_cls=inner.enum_cls))
        elif isinstance(inner, BoolAdapter):
            out.append(_Field(name, "bool", "B", 1, doc, inner))
        elif isinstance(inner, RecordCon):
            out.append(_Field(name, "record", inner.rec.fmt, inner.rec.size, doc, inner, record=inner.rec))
        elif isinstance(inner, ItemsCon):
            f = _norm(inner.count.fmtstr)
            out.append(_Field(name, "items", f, struct.calcsize(">" + f), doc, inner, record=inner.rec))
        else:
            raise TypeError(f"field {name}: unsupported construct {inner!r}")
    for f in out[:-1]:
        if f.kind == "items":
            raise TypeError(f"Items field {f.name} must be the last field")
    return out


# ------------------------------------------------------------------ code generation
@dataclasses.dataclass(frozen=True)
class Constant:
    """A view's value of a field that is the same in every encoding (see :meth:`Record.encoder`):
    ``{"instances": Constant(1)}``."""

    value: Any


@functools.cache
def _text_memo(n: int, truncate: bool, convert: Callable | None = None) -> Callable[[Any], bytes]:
    """The bytes of a text field of ``n`` bytes (``_pad_text``, or ``_cut_text`` for a field that
    cuts to fit), remembered: a broadcast view calls it for each text field, and series names,
    account ids, participants and dates recur in every broadcast (a remembered text costs ~700
    instructions, padding it inline ~1,600). With ``convert`` (itself remembered: pure), the bytes
    of ``convert(value)``. Bounded (4,096 values per width: free texts come and go); a text too
    long or not ASCII raises as ``_pad_text`` does, and is not remembered."""
    pad = _cut_text if truncate else _pad_text
    if convert is None:
        return functools.lru_cache(maxsize=4096)(functools.partial(pad, n=n))
    return functools.lru_cache(maxsize=4096)(lambda value: pad(convert(value), n))


class _Gen:
    """Generates decode/encode expressions for a list of fields over unpacked variables; with
    ``texts`` (a broadcast view's encoder) each text field through :func:`_text_memo`."""

    def __init__(self, ns: dict, texts: bool = False):
        self.ns = ns
        self.texts = texts
        self.n = 0
        self.groups: dict[tuple, str] = {}   # (source, a view's group of fields) -> its local
        self.reads: dict[tuple, str] = {}    # (source, dotted attribute's head) -> its local

    def head(self, head: tuple[str, list] | None) -> tuple[list[str], list[str], list[str]]:
        """A head packed before a record (``(struct format, values)``, see ``Record.encoder``): the
        formats to start with, the expressions of its values (a constant inline, a parameter by
        its name) and the encoder's parameters, in their order."""
        if head is None:
            return [], [], []
        fmt, values = head
        lead = [v if isinstance(v, str) else repr(v) if type(v) is int else self.sym(v) for v in values]
        return [fmt], lead, [v for v in values if isinstance(v, str)]

    def var(self) -> str:
        self.n += 1
        return f"v{self.n}"

    def sym(self, obj, prefix="k") -> str:
        name = f"_{prefix}{len(self.ns)}"
        self.ns[name] = obj
        return name

    def decode(self, fields: list[_Field], cls: type, out: str, lines: list[str], indent: str) -> list[str]:
        """Statements (appended to ``lines``, at ``indent``) that make ``out`` an instance of ``cls``
        with each field decoded from its unpacked variable; returns those variable names, in
        order. The instance is made with ``object.__new__`` and its slots set one by one: a record
        class's ``__init__`` only sets its fields, and calling it costs a frame per record and per
        nested record (the items of a trade feed are hundreds per request). The items field, if
        any, is left to the caller."""
        vars_: list[str] = []
        lines.append(f"{indent}{out} = _new({self.sym(cls, 'C')})")
        for f in fields:
            if f.kind in ("filler", "items"):
                continue
            if f.kind == "record":
                r = self.var()
                vars_ += self.decode(f.record.fields, f.record.cls, r, lines, indent)
                lines.append(f"{indent}{out}.{f.name} = {r}")
                continue
            v = self.var()
            vars_.append(v)
            if f.kind == "int":
                value = v
            elif f.kind == "text":
                value = f"{v}.rstrip(b' ').decode('ascii')"
            elif f.kind == "code":  # a dict of the members by value; the enum call only to raise
                d = self.sym({int(m): m for m in f.enum_cls}, "D")
                value = f"({d}[{v}] if {v} in {d} else {self.sym(f.enum_cls, 'E')}({v}))"
            else:  # bool
                value = f"_bool({v})"
            lines.append(f"{indent}{out}.{f.name} = {value}")
        return vars_

    def encode(self, fields: list[_Field], src: str, pre: list[str], view: dict | None = None,
               prefix: str = "", used: set | None = None, fmts: list | None = None) -> list[str]:
        """Expressions of the packed values, reading ``src``; ``pre`` receives the assignments they
        need first: a nested record and every text field are read once into a local (a text
        field's value is used three times, and ``o.trade.x`` would cost two lookups per use).

        With a ``view`` (see :meth:`Record.encoder`) ``src`` is another object, not an instance of
        the record: a field is read from the attribute the view names for its path, or converted
        from it, or else from the attribute of the field's own name; a nested record the view does
        not name is read from the same object, field by field; one it names as ``(bytes, attribute)``
        is that attribute, the record's bytes already encoded; one it names as ``(attribute,
        {...})`` is read from that attribute with its own view (paths relative to the record). A
        :class:`Constant` is its value. A tuple of field paths as one key, ``(paths): (convert,
        attribute)``, computes those fields together: ``convert`` gives a tuple of their values,
        in the key's order, called once per encoding. ``fmts`` (a view's) receives the
        struct format of each field, the items count included."""
        exprs: list[str] = []
        groups = {p: k for k in view if type(k) is tuple for p in k} if view else {}
        if groups and not prefix:     # a view's root: its groups name fields, each field once
            self._check_groups(fields, view, groups, used)
        for f in fields:
            if f.kind in ("filler", "items"):
                if fmts is not None:
                    fmts.append(f.fmt)
                continue
            e = f"{src}.{f.name}"
            if view is not None:
                path = prefix + f.name
                how = view.get(path)
                if how is not None:
                    used.add(path)
                elif path in groups:
                    e = self._group(groups[path], path, view, src, pre)
                elif f.kind == "record":
                    exprs += self.encode(f.record.fields, src, pre, view, path + ".", used, fmts)
                    continue
                if isinstance(how, str):
                    e = self._read(src, how, pre)
                elif isinstance(how, Constant):
                    e = self.sym(how.value, "K")
                elif isinstance(how, tuple) and isinstance(how[0], str) and f.kind == "record":
                    attr, sub = how        # the record read from an attribute, with its own view
                    r = self.var()
                    pre.append(f"{r} = {src}.{attr}")
                    sub_used: set = set()
                    exprs += self.encode(f.record.fields, r, pre, sub, "", sub_used, fmts)
                    unknown = set(sub) - sub_used
                    if unknown:
                        raise ValueError(f"{path}: no field {sorted(map(str, unknown))}")
                    continue
                elif how is not None:
                    convert, attr = how
                    arg = self._read(src, attr, pre) if attr else src
                    if convert is bytes and f.kind == "record":    # the record's bytes, as they are
                        fmts.append(f"{f.size}s")
                        exprs.append(arg)
                        continue
                    if isinstance(convert, dict) and f.kind == "code":
                        # a table of the code's members: looked up straight to their values
                        table = {k: int(f.enum_cls(v)) for k, v in convert.items()}
                        fmts.append(f.fmt)
                        exprs.append(f"{self.sym(table, 'D')}[{arg}]")
                        continue
                    if self.texts and f.kind == "text" and hasattr(convert, "cache_info"):
                        # a remembered conversion (functools.lru_cache: the text of a date) is
                        # remembered with its padding, in one lookup
                        fmts.append(f.fmt)
                        exprs.append(f"{self.sym(_text_memo(f.length, f.truncate, convert), 'T')}({arg})")
                        continue
                    e = f"{self.sym(convert, 'F')}[{arg}]" if isinstance(convert, dict) else \
                        f"{self.sym(convert, 'F')}({arg})"
            if f.kind == "record":
                r = self.var()
                pre.append(f"{r} = {e}")
                exprs += self.encode(f.record.fields, r, pre, fmts=fmts)
                continue
            if fmts is not None:
                fmts.append(f.fmt)
            if f.kind == "text" and self.texts:
                exprs.append(f"{self.sym(_text_memo(f.length, f.truncate), 'T')}({e})")
            elif f.kind == "text":
                # inline for the common case (a call per text field cost more than the padding);
                # too long or not text: _text raises as before
                n = f.length
                t = self.var()
                pre.append(f"{t} = {e}")
                if f.truncate:
                    exprs.append(f"({t}.encode('ascii').ljust({n}) if len({t}) <= {n} else _cut({t}, {n}))")
                else:
                    exprs.append(f"({t}.encode('ascii').ljust({n}) if len({t}) <= {n} else _text({t}, {n}))")
            elif f.kind == "code":  # members and their values as ints; the enum call only to raise
                d = self.sym({int(m): int(m) for m in f.enum_cls}, "D")
                c = self.var()
                pre.append(f"{c} = {e}")
                exprs.append(f"({d}[{c}] if {c} in {d} else {self.sym(f.enum_cls, 'E')}({c}))")
            elif f.kind == "bool":
                exprs.append(f"(1 if {e} else 0)")
            else:
                exprs.append(e)
        return exprs

    def _read(self, src: str, attr: str, pre: list[str]) -> str:
        """The expression of attribute ``attr`` of ``src``; a dotted one (``trade.price``: an
        attribute of an attribute) reads the object before its last dot once, into a local."""
        head, dot, name = attr.rpartition(".")
        if not dot:
            return f"{src}.{attr}"
        local = self.reads.get((src, head))
        if local is None:
            local = self.reads[src, head] = self.var()
            pre.append(f"{local} = {src}.{head}")
        return f"{local}.{name}"

    def _group(self, key: tuple, path: str, view: dict, src: str, pre: list[str]) -> str:
        """The expression of field ``path`` of a view's group ``key``: its item of the tuple that
        the group's conversion gives, computed into a local the first time."""
        local = self.groups.get((src, key))
        if local is None:
            convert, attr = view[key]
            local = self.groups[src, key] = self.var()
            pre.append(f"{local} = {self.sym(convert, 'F')}({f'{src}.{attr}' if attr else src})")
        return f"{local}[{key.index(path)}]"

    @staticmethod
    def _check_groups(fields: list[_Field], view: dict, groups: dict, used: set) -> None:
        """A view's groups of fields (tuple keys) name fields of the record (a ValueError for a
        typo), none of which the view also names alone (a ValueError: named twice)."""
        paths: set[str] = set()

        def walk(fs: list[_Field], prefix: str) -> None:
            for f in fs:
                paths.add(prefix + f.name)
                if f.kind == "record":
                    walk(f.record.fields, prefix + f.name + ".")
        walk(fields, "")
        for path, key in groups.items():
            if path not in paths:
                raise ValueError(f"no field {path!r} (in {key})")
            if path in view:
                raise ValueError(f"field {path!r} named twice (alone and in {key})")
        used.update(set(groups.values()))


def _bool(v: int) -> bool:
    if v > 1:
        raise ValueError(f"boolean byte must be 0 or 1, got {v}")
    return v == 1


def _make_class(name: str, fields: list[_Field], bases=()) -> type:
    spec = []
    for f in fields:
        if f.kind == "filler":
            continue
        if f.kind == "record":
            rec = f.record
            spec.append((f.name, rec.cls, dataclasses.field(default_factory=rec.cls)))
        elif f.kind == "items":
            spec.append((f.name, list, dataclasses.field(default_factory=list)))
        else:
            py = {"int": int, "text": str, "bool": bool, "code": f.enum_cls}[f.kind]
            spec.append((f.name, py, dataclasses.field(default=f.default)))
    return dataclasses.make_dataclass(name, spec, bases=bases, slots=True)


def _camel(snake: str) -> str:
    return "".join(p.capitalize() for p in snake.split("_"))


class Record:
    """A fixed-size record: the unit of the generated codec (messages, items, nested records)."""

    def __init__(self, name: str, layout: cs.Struct, doc: str = "", bases=()):
        self.name = name
        self.doc = doc
        self.layout = layout
        self.fields = _analyse(layout)
        self.has_items = bool(self.fields) and self.fields[-1].kind == "items"
        self.items = self.fields[-1] if self.has_items else None
        self.fmt = "".join(f.fmt for f in self.fields)  # head incl. items count
        self.struct = struct.Struct(">" + self.fmt)
        self.size = self.struct.size  # fixed head size (with items count, without items)
        self.field_types = {f.name: f for f in self.fields if f.kind != "filler"}
        self.cls = _make_class(_camel(name), self.fields, bases)
        self.cls.__record__ = self

    _GENERATED = frozenset({"decode", "encode", "decode_values", "encode_values"})

    def __getattr__(self, name: str):
        # the codec functions are generated at their first use (see _compile), not at import: a
        # process imports some 300 records and most use a few of them
        if name in Record._GENERATED:
            self._compile()
            return self.__dict__[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    # offsets of top-level fields from the record start
    def offsets(self) -> dict[str, int]:
        out, off = {}, 0
        for f in self.fields:
            out[f.name] = off
            off += f.size
        return out

    def path_offset(self, path: str) -> int | None:
        """Byte offset from the record start of a field path: ``price``, ``series.commodity``,
        ``deals[3].price`` (item 3 of the items field); None if the path names no field."""
        head, _, rest = path.partition(".")
        name, bracket, index = head.partition("[")
        f = self.field_types.get(name)
        if f is None:
            return None
        if bracket:
            if f.kind != "items" or not index.rstrip("]").isdigit():
                return None
            item = f.record
            base = self.size + int(index.rstrip("]")) * item.size
            inner = item.path_offset(rest) if rest else 0
            return base + (inner or 0)
        base = self.offsets()[name]
        if rest and f.kind == "record":
            inner = f.record.path_offset(rest)
            return base + (inner or 0)
        return base

    def _compile(self) -> None:
        ns: dict[str, Any] = {"_text": _pad_text, "_cut": _cut_text, "_bool": _bool, "_S": self.struct,
                              "_new": object.__new__}
        g = _Gen(ns)
        build: list[str] = []
        vars_ = g.decode(self.fields, self.cls, "o", build, "    ")
        pre: list[str] = []
        enc = g.encode(self.fields, "o", pre)
        prelude = [f"    {a}" for a in pre]
        size = self.size
        lines = []
        if self.has_items:
            item = self.items.record
            ns["_IS"] = item.struct
            ns["_ISIZE"] = item.size
            cnt = g.var()
            item_build: list[str] = []
            item_vars = g.decode(item.fields, item.cls, "i", item_build, "        ")
            item_pre: list[str] = []
            item_enc = g.encode(item.fields, "i", item_pre)
            lines.append("def decode(buf, off=0):")
            lines.append(f"    ({', '.join(vars_ + [cnt])},) = _S.unpack_from(buf, off)")
            lines.append(f"    end = off + {size} + {cnt} * _ISIZE")
            lines.append("    if end > len(buf): raise ValueError('items run past the end')")
            lines.append("    items = []")
            lines.append("    append = items.append")
            lines.append(f"    for ({', '.join(item_vars)},) in (_IS.iter_unpack(buf[off + {size}:end]) if {cnt} else ()):")
            lines += item_build
            lines.append("        append(i)")
            lines += build
            lines.append(f"    o.{self.items.name} = items")
            lines.append("    return o, end")
            lines.append("def encode(o):")
            lines += prelude
            lines.append(f"    items = o.{self.items.name}")
            lines.append(f"    head = _S.pack({', '.join(enc + ['len(items)'])})")
            lines.append("    if not items: return head")
            lines.append("    p = _IS.pack")
            lines.append("    out = [head]")
            lines.append("    append = out.append")
            lines.append("    for i in items:")
            lines += [f"        {a}" for a in item_pre]
            lines.append(f"        append(p({', '.join(item_enc)}))")
            lines.append("    return b''.join(out)")
        else:
            lines.append("def decode(buf, off=0):")
            if vars_:
                lines.append(f"    ({', '.join(vars_)},) = _S.unpack_from(buf, off)")
            else:
                lines.append("    _S.unpack_from(buf, off)")
            lines += build
            lines.append(f"    return o, off + {size}")
            lines.append("def encode(o):")
            lines += prelude
            lines.append(f"    return _S.pack({', '.join(enc)})")
        # helpers used for items: from raw values / to raw values
        lines.append(f"def decode_values({', '.join(vars_)}):")
        lines += build
        if self.has_items:
            lines.append(f"    o.{self.items.name} = []")
        lines.append("    return o")
        lines.append("def encode_values(o):")
        lines += prelude
        lines.append(f"    return ({', '.join(enc)}{',' if len(enc) == 1 else ''})")
        src = "\n".join(lines)
        exec(compile(src, f"<codec {self.name}>", "exec"), ns)
        self.decode: Callable = ns["decode"]
        self.encode: Callable = ns["encode"]
        self.decode_values: Callable = ns["decode_values"]
        self.encode_values: Callable = ns["encode_values"]
        self.source = src

    def head_encoder(self, head: tuple[str, list]) -> Callable[..., bytes]:
        """An encoder of an instance of this record (of fixed size) with ``head`` packed before it
        in the same call: ``(struct format, values)``, each value a constant (an int or bytes) or
        the name of a parameter the encoder then takes after the instance, in their order (a frame
        header and the message type: ``protocol.framing.reply_encoder`` gives
        ``encode(o, request_id, business_date)``). The fields are encoded as :meth:`encode` does."""
        if self.has_items:
            raise ValueError(f"{self.name}: a head goes before a record of fixed size only")
        ns: dict[str, Any] = {"_text": _pad_text, "_cut": _cut_text}
        g = _Gen(ns)
        pre: list[str] = []
        fmts, lead, params = g.head(head)
        enc = lead + g.encode(self.fields, "o", pre, fmts=fmts)
        ns["_S"] = struct.Struct(">" + "".join(fmts))
        lines = [f"def encode({', '.join(['o'] + params)}):", *(f"    {a}" for a in pre),
                 f"    return _S.pack({', '.join(enc)})"]
        src = "\n".join(lines)
        exec(compile(src, f"<codec {self.name} with head>", "exec"), ns)
        fn = ns["encode"]
        fn.source = src
        return fn

    def encoder(self, view: dict[str, Any], head: tuple[str, list] | None = None) -> Callable[..., bytes]:
        """An encoder of this record's bytes straight from another object (a core event), with no
        instance of the record in between: code generated from the declaration, as
        :meth:`encode`. ``view`` maps a field's path (``trade.series``) to the attribute it is read
        from (dotted: an attribute of an attribute, ``trade.price``, the first read once), or to ``(convert, attribute)``: ``convert(obj.attribute)`` (attribute None:
        ``convert(obj)``); ``convert`` a dict: ``convert[obj.attribute]``, for a code field a table
        of its members looked up straight to their values; ``convert`` ``bytes`` for a nested
        record: the attribute holds the record's bytes, encoded already. A field the view does not
        name is read from the attribute of its own name, and a nested record it does not name
        field by field from the same object; one it names as ``(attribute, {...})`` from that
        attribute, with its own view. A field named as a :class:`Constant` is its value; a key
        ``(path, path, ...)`` to ``(convert, attribute)`` computes several fields in one call
        (``convert`` gives their values in that order). The items of a record with items are read from the
        attribute the view names for the items field with the item record's own view,
        ``"items": ("lines", {...})`` (not named: the attribute of the field's name, each item read
        by its field names). A view naming no field (a typo) is a ValueError.

        ``head`` (a record without items only): ``(struct format, values)`` packed before the
        record in the same call (a frame header and the message type: see
        ``protocol.framing.broadcast_encoder``); each value is a constant (an int or bytes) or the
        name of a parameter the encoder then takes after the object, in their order:
        ``encode(e, stream, sequence, business_date)``."""
        ns: dict[str, Any] = {"_text": _pad_text, "_cut": _cut_text}
        g = _Gen(ns, texts=True)
        pre: list[str] = []
        used: set = set()
        fmts, lead, params = g.head(head)
        if head and self.has_items:
            raise ValueError(f"{self.name}: a head goes before a record of fixed size only")
        enc = lead + g.encode(self.fields, "e", pre, view, "", used, fmts)
        ns["_S"] = struct.Struct(">" + "".join(fmts))   # the record's, but a record given as its bytes
        if self.has_items:
            name = self.items.name
            attr, item_view = view.get(name, (name, {}))
            used.add(name)
            ns["_I"] = self.items.record.encoder(item_view)
            body = [f"items = e.{attr}", f"head = _S.pack({', '.join(enc + ['len(items)'])})",
                    "return head + b''.join([_I(i) for i in items]) if items else head"]
        else:
            body = [f"return _S.pack({', '.join(enc)})"]
        unknown = set(view) - used
        if unknown:
            raise ValueError(f"{self.name}: no field {sorted(unknown)}")
        lines = [f"def encode({', '.join(['e'] + params)}):", *(f"    {a}" for a in pre + body)]
        src = "\n".join(lines)
        exec(compile(src, f"<codec {self.name} view>", "exec"), ns)
        fn = ns["encode"]
        fn.source = src
        return fn

    # ---------------------------------------------------------- slow, precise paths
    def locate_error(self, buf: bytes, off: int = 0) -> tuple[int, str, str]:
        """Decode field by field to find the first bad field: (offset, field name, reason)."""
        pos = off
        for f in self.fields:
            if f.kind == "filler":
                if pos + f.size > len(buf):
                    return pos, "filler", "message too short"
                pos += f.size
                continue
            if pos + f.size > len(buf):
                return pos, f.name, "message too short"
            raw = bytes(buf[pos:pos + f.size])
            try:
                if f.kind == "record":
                    o, n, r = f.record.locate_error(raw)
                    if r:
                        return pos + o, f"{f.name}.{n}", r
                elif f.kind == "items":
                    (count,) = struct.unpack(">" + f.fmt, raw)
                    start = pos + f.size
                    for i in range(count):
                        if start + f.record.size > len(buf):
                            return start, f"{f.name}[{i}]", "items run past the end"
                        o, n, r = f.record.locate_error(buf[start:start + f.record.size])
                        if r:
                            return start + o, f"{f.name}[{i}].{n}", r
                        start += f.record.size
                    if start != len(buf):
                        return start, f.name, "bytes after the last item"
                    return 0, "", ""
                else:
                    f.subcon.parse(raw)
            except Exception as e:  # noqa: BLE001 - we report the reason
                return pos, f.name, str(e).splitlines()[0][:80] or type(e).__name__
            pos += f.size
        if pos != len(buf) and not self.has_items:
            return pos, "", "bytes after the end of the message"
        return 0, "", ""


def record(name: str, layout: cs.Struct, doc: str = "") -> type:
    """Declare a record type usable as an item (``Items``) or a field (``Nested``); returns its class."""
    if name in RECORDS:
        raise ValueError(f"record {name} declared twice")
    rec = Record(name, layout, doc)
    RECORDS[name] = rec
    rec.cls.__module__ = sys._getframe(1).f_globals["__name__"]  # the declaring module (named by name_classes)
    return rec.cls


def name_classes(module) -> None:
    """Give the record and message classes a module declares the name it binds them to, so that their
    repr shows the importable name and instances pickle (``module.Name`` is where pickle finds them)."""
    for attr, obj in vars(module).items():
        if isinstance(obj, type) and hasattr(obj, "__record__") and obj.__module__ == module.__name__ \
                and not getattr(obj, "_named", False):
            obj.__name__ = obj.__qualname__ = attr
            obj._named = True


RECORDS: dict[str, Record] = {}


def validate_int_ranges(obj, rec: Record) -> None:
    """Raise EncodeError naming the field when an int does not fit its width."""
    for f in rec.fields:
        if f.kind == "int":
            lo, hi = _INT_RANGES[f.fmt]
            v = getattr(obj, f.name)
            if not isinstance(v, int) or not lo <= v <= hi:
                raise EncodeError(f"{rec.name}.{f.name}={v!r} outside {f.type_name}")
        elif f.kind == "record":
            validate_int_ranges(getattr(obj, f.name), f.record)
        elif f.kind == "items":
            for it in getattr(obj, f.name):
                validate_int_ranges(it, f.record)
