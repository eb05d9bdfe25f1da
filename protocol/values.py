"""Messages to and from plain values: dicts for JSON and the command line, readable one-liners."""
from __future__ import annotations

import enum
from typing import Any


def to_dict(obj: Any) -> Any:
    rec = getattr(type(obj), "__record__", None)
    if rec is None:
        if isinstance(obj, list):
            return [to_dict(x) for x in obj]
        if isinstance(obj, enum.Enum):
            return obj.name
        return obj
    return {f.name: to_dict(getattr(obj, f.name)) for f in rec.fields if f.kind != "filler"}


class FieldValueError(ValueError):
    """A value that does not fit its field, raised by :func:`from_dict` before anything is encoded.

    ``field`` is the dotted path of the field (``series.commodity``, ``lines[0].text``; the record's
    name for an unknown field), ``expected`` says what the field takes, ``allowed`` lists the accepted
    names (enumerations and field names) and ``value`` is what was given."""

    def __init__(self, field: str, expected: str, value: Any, allowed: tuple[str, ...] = ()):
        self.field = field
        self.expected = expected
        self.value = value
        self.allowed = allowed
        tail = f"; allowed: {', '.join(allowed)}" if allowed else ""
        super().__init__(f"{field}: expected {expected}, got {value!r}{tail}")


class UnknownFieldError(FieldValueError):
    """A field name the record does not have; ``allowed`` lists the names it has."""

    def __init__(self, field: str, record: str, allowed: tuple[str, ...]):
        name = field.rsplit(".", 1)[-1]
        ValueError.__init__(self, f"{field}: {record} has no field {name!r}; fields: {', '.join(allowed)}")
        self.field, self.expected, self.value, self.allowed = field, f"a field of {record}", field, allowed


def from_dict(cls: type, data: dict, _path: str = "") -> Any:
    """Build a message or record from a mapping; strings are converted to the field's type.
    Raises :class:`FieldValueError` naming the field when a name or a value does not fit."""
    rec = cls.__record__
    if not isinstance(data, dict):
        raise FieldValueError(_path or rec.name, f"a record {rec.name} (name=value fields or a JSON object)", data)
    kwargs = {}
    for name, value in data.items():
        f = rec.field_types.get(name)
        if f is None:
            raise UnknownFieldError(f"{_path}{name}", rec.name, tuple(rec.field_types))
        kwargs[name] = _convert(f, value, f"{_path}{name}")
    return cls(**kwargs)


def check(obj: Any, _path: str = "") -> None:
    """Raise :class:`FieldValueError` for the first field of a built message or record whose value does
    not fit its declaration (the SDK names the field this way when a message does not encode)."""
    rec = type(obj).__record__
    for f in rec.fields:
        if f.kind == "filler":
            continue
        v, path = getattr(obj, f.name), f"{_path}{f.name}"
        if f.kind == "record" and isinstance(v, f.record.cls):
            check(v, path + ".")
        elif f.kind == "items" and isinstance(v, list):
            for i, x in enumerate(v):
                if not isinstance(x, f.record.cls):
                    raise FieldValueError(f"{path}[{i}]", f"a record {f.record.name}", x)
                check(x, f"{path}[{i}].")
        else:
            _convert(f, v, path)


def expected_of(f) -> str:
    """What a field takes, in words (error messages and the CLI's ``describe``)."""
    if f.kind == "int":
        lo, hi = int_range(f.fmt)
        return f"an integer {lo}..{hi} ({f.type_name})"
    if f.kind == "text":
        return f"text of at most {f.length} ASCII characters"
    if f.kind == "bool":
        return "a boolean (1/0, true/false, yes/no)"
    if f.kind == "code":
        return f"one of the {f.enum_cls.__name__} names or numbers"
    if f.kind == "record":
        return f"a record {f.record.name}"
    if f.kind == "items":
        return f"a JSON list of {f.record.name} objects"
    return f.kind


def allowed_of(f) -> tuple[str, ...]:
    """Accepted names of an enumerated field: ``NAME (value)``; empty for other fields."""
    if f.kind == "code":
        return tuple(f"{m.name} ({int(m)})" for m in f.enum_cls)
    return ()


def int_range(fmt: str) -> tuple[int, int]:
    bits = {"b": 8, "h": 16, "i": 32, "q": 64}[fmt.lower()]
    return (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if fmt.islower() else (0, 2 ** bits - 1)


_BOOL_WORDS = {"1": True, "true": True, "yes": True, "y": True, "0": False, "false": False, "no": False, "n": False}


def _convert(f, v, path: str):
    if f.kind == "int":
        try:
            n = int(v, 0) if isinstance(v, str) else v
        except ValueError:
            raise FieldValueError(path, expected_of(f), v) from None
        if isinstance(n, bool) or not isinstance(n, int):
            raise FieldValueError(path, expected_of(f), v)
        lo, hi = int_range(f.fmt)
        if not lo <= n <= hi:
            raise FieldValueError(path, expected_of(f), v)
        return n
    if f.kind == "text":
        if not isinstance(v, (str, int)) or isinstance(v, bool):
            raise FieldValueError(path, expected_of(f), v)
        s = str(v)
        if not s.isascii() or len(s) > f.length:
            raise FieldValueError(path, expected_of(f), s)
        return s
    if f.kind == "bool":
        if isinstance(v, str):
            b = _BOOL_WORDS.get(v.strip().lower())
            if b is None:
                raise FieldValueError(path, expected_of(f), v)
            return b
        if v in (0, 1):
            return bool(v)
        raise FieldValueError(path, expected_of(f), v)
    if f.kind == "code":
        try:
            if isinstance(v, str):
                return f.enum_cls[v.upper()] if not v.lstrip("-").isdigit() else f.enum_cls(int(v))
            return f.enum_cls(v)
        except (KeyError, ValueError, TypeError):
            raise FieldValueError(path, f"one of {f.enum_cls.__name__}", v, allowed_of(f)) from None
    if f.kind == "record":
        return v if isinstance(v, f.record.cls) else from_dict(f.record.cls, v, path + ".")
    if f.kind == "items":
        if not isinstance(v, list):
            raise FieldValueError(path, expected_of(f), v)
        return [x if isinstance(x, f.record.cls) else from_dict(f.record.cls, x, f"{path}[{i}].")
                for i, x in enumerate(v)]
    raise TypeError(f.kind)


def one_line(obj: Any) -> str:
    d = to_dict(obj)
    code = getattr(obj, "CODE", "")
    return f"{code} {type(obj).__name__} " + " ".join(f"{k}={v!r}" if isinstance(v, str) else f"{k}={v}" for k, v in d.items())
