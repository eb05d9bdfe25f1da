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


def from_dict(cls: type, data: dict) -> Any:
    """Build a message or record from a mapping; strings are converted to the field's type."""
    rec = cls.__record__
    kwargs = {}
    for name, value in data.items():
        f = rec.field_types.get(name)
        if f is None:
            raise KeyError(f"{rec.name} has no field {name!r} (fields: {', '.join(rec.field_types)})")
        kwargs[name] = _convert(f, value)
    return cls(**kwargs)


def _convert(f, v):
    if f.kind == "int":
        return int(v, 0) if isinstance(v, str) else int(v)
    if f.kind == "text":
        return str(v)
    if f.kind == "bool":
        if isinstance(v, str):
            return v.strip().lower() in ("1", "true", "yes", "y")
        return bool(v)
    if f.kind == "code":
        if isinstance(v, str):
            return f.enum_cls[v.upper()] if not v.lstrip("-").isdigit() else f.enum_cls(int(v))
        return f.enum_cls(v)
    if f.kind == "record":
        return v if isinstance(v, f.record.cls) else from_dict(f.record.cls, v)
    if f.kind == "items":
        return [x if isinstance(x, f.record.cls) else from_dict(f.record.cls, x) for x in v]
    raise TypeError(f.kind)


def one_line(obj: Any) -> str:
    d = to_dict(obj)
    code = getattr(obj, "CODE", "")
    return f"{code} {type(obj).__name__} " + " ".join(f"{k}={v!r}" if isinstance(v, str) else f"{k}={v}" for k, v in d.items())
