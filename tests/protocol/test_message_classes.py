"""Message and record classes carry the name and module they are imported by: the repr names an
importable object, and instances (golden samples, with every field set) round-trip through pickle."""
from __future__ import annotations

import importlib
import pickle
import pkgutil
import re
from pathlib import Path

import pytest

from protocol.golden import sample
from protocol.values import from_dict
import protocol.messages
from protocol.registry import all_specs

SPECS = all_specs()


def _records(cls, seen: set) -> None:
    if cls in seen:
        return
    seen.add(cls)
    for f in cls.__record__.fields:
        if f.kind in ("record", "items"):
            _records(f.record.cls, seen)


def _all_record_classes() -> list[type]:
    seen: set = set()
    for s in SPECS:
        _records(s.cls, seen)
    return sorted(seen, key=lambda c: (c.__module__, c.__qualname__))


@pytest.mark.parametrize("cls", _all_record_classes(), ids=lambda c: f"{c.__module__}.{c.__qualname__}")
def test_the_class_is_importable_by_its_name(cls):
    assert cls.__module__.startswith("protocol.messages.")
    assert getattr(importlib.import_module(cls.__module__), cls.__qualname__) is cls
    assert "." not in cls.__qualname__ and cls.__name__ == cls.__qualname__


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.code)
def test_a_message_pickles_and_its_repr_names_an_importable_object(spec):
    obj = from_dict(spec.cls, sample(spec.record))
    assert pickle.loads(pickle.dumps(obj)) == obj
    name = re.match(r"^(\w+)\(", repr(obj)).group(1)
    assert name == type(obj).__name__
    assert getattr(importlib.import_module(type(obj).__module__), name) is type(obj)


def _importable() -> dict[str, set[str]]:
    """Every message or record class name a messages module binds -> the fields of each."""
    out: dict[str, set[str]] = {}
    for m in pkgutil.iter_modules(protocol.messages.__path__):
        for name, obj in vars(importlib.import_module(f"protocol.messages.{m.name}")).items():
            if isinstance(obj, type) and hasattr(obj, "__record__"):
                out.setdefault(name, set()).update(f.name for f in obj.__record__.fields)
    return out


GUIDES = sorted((Path(__file__).resolve().parents[2] / "docs" / "guides").rglob("*.md"))
WIRE_NAME = re.compile(r"`([A-Z][A-Za-z0-9]+(?:Request|Query|Answer|Broadcast|Reply))(?:\(([^()`]*)\))?`")


@pytest.mark.parametrize("guide", GUIDES, ids=lambda p: p.name)
def test_the_guides_name_importable_messages_and_their_fields(guide):
    """A message named in a guide (``InjectDealRequest(series, price, ...)``) is importable and the
    arguments shown are its fields."""
    known = _importable()
    for m in WIRE_NAME.finditer(guide.read_text()):
        name, args = m.group(1), m.group(2)
        assert name in known, f"{guide.name}: {name} is not a message class"
        for arg in filter(None, (a.split("=")[0].strip() for a in (args or "").split(","))):
            if re.fullmatch(r"[a-z_]+", arg):
                assert arg in known[name], f"{guide.name}: {name} has no field {arg}"
