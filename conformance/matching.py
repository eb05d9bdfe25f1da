"""Comparing what came with what a case expects.

An expected value is either a literal (compared for equality; ints and numeric text compare as
numbers, a session status may be written by name, e.g. ``"SESSION_IN_USE"``), or a table of
operators: ``{ ne = 0 }``, ``{ gt = 0 }``, ``{ ge = .. }``, ``{ lt = .. }``, ``{ le = .. }``,
``{ in = [..] }``, ``{ not_in = [..] }``, ``{ contains = "text" }``, ``{ bits = 0x0002 }`` (all
these bits set), ``{ no_bits = 0x0004 }``, ``{ any = true }`` (present, any value),
``{ len = 3 }`` (a list of that length). A list expected against a list compares item by item
(same length; each item a partial table). Message fields may be addressed with dotted paths
(``"items.0.status"``).
"""
from __future__ import annotations

import enum
from typing import Any

from protocol.status import SessionStatus

OPS = {"eq", "ne", "gt", "ge", "lt", "le", "in", "not_in", "contains", "bits", "no_bits", "any", "len"}


def _norm(x: Any) -> Any:
    if isinstance(x, enum.Enum):
        return x.name
    return x


def _num(x: Any) -> Any:
    """A number from an int, a numeric text or a session status name; else the value itself."""
    if isinstance(x, bool):
        return int(x)
    if isinstance(x, int):
        return x
    if isinstance(x, str):
        s = x.strip()
        if s.lstrip("-").isdigit():
            return int(s)
        if s.lower().startswith(("0x", "-0x")):
            try:
                return int(s, 16)
            except ValueError:
                return x
        if s in SessionStatus.__members__:
            return int(SessionStatus[s])
    return x


def equal(expected: Any, actual: Any) -> bool:
    actual = _norm(actual)
    if isinstance(expected, str) and isinstance(actual, str):
        return expected == actual
    e, a = _num(expected), _num(actual)
    if isinstance(e, int) and isinstance(a, int):
        return e == a
    return expected == actual


def check(expected: Any, actual: Any, path: str, problems: list[str]) -> None:
    """Append a readable problem for every mismatch."""
    if isinstance(expected, dict) and expected and set(expected) <= OPS:
        for op, arg in expected.items():
            if not _op(op, arg, actual):
                problems.append(f"{path}: expected {op} {arg!r}, got {_show(actual)}")
        return
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            problems.append(f"{path}: expected a record {expected!r}, got {_show(actual)}")
            return
        for k, v in expected.items():
            sub = f"{path}.{k}" if path else k
            try:
                got = get_path(actual, k)
            except KeyError as e:
                problems.append(f"{sub}: no such field ({e.args[0]})")
                continue
            check(v, got, sub, problems)
        return
    if isinstance(expected, list):
        if not isinstance(actual, list):
            problems.append(f"{path}: expected a list, got {_show(actual)}")
            return
        if len(expected) != len(actual):
            problems.append(f"{path}: expected {len(expected)} item(s), got {len(actual)}: {_show(actual)}")
            return
        for i, (e, a) in enumerate(zip(expected, actual)):
            check(e, a, f"{path}[{i}]", problems)
        return
    if not equal(expected, actual):
        problems.append(f"{path}: expected {expected!r}{_name_of(expected)}, got {_show(actual)}{_name_of(actual)}")


def _op(op: str, arg: Any, actual: Any) -> bool:
    a = _norm(actual)
    try:
        if op == "eq":
            return equal(arg, a)
        if op == "ne":
            return not equal(arg, a)
        if op == "any":
            return bool(arg) == (a is not None)
        if op == "in":
            return any(equal(x, a) for x in arg)
        if op == "not_in":
            return not any(equal(x, a) for x in arg)
        if op == "contains":
            return str(arg) in str(a)
        if op == "len":
            return len(a) == int(arg)
        if op == "bits":
            return (int(a) & _num(arg)) == _num(arg)
        if op == "no_bits":
            return (int(a) & _num(arg)) == 0
        x, y = _num(a), _num(arg)
        return {"gt": x > y, "ge": x >= y, "lt": x < y, "le": x <= y}[op]
    except (TypeError, ValueError):
        return False


def get_path(obj: Any, path: str) -> Any:
    cur = obj
    for part in path.split("."):
        if isinstance(cur, dict):
            if part not in cur:
                raise KeyError(f"{part!r} not in {sorted(cur)}")
            cur = cur[part]
        elif isinstance(cur, list):
            if not part.lstrip("-").isdigit() or not -len(cur) <= int(part) < len(cur):
                raise KeyError(f"index {part} out of {len(cur)} item(s)")
            cur = cur[int(part)]
        else:
            raise KeyError(f"{part!r} under a {type(cur).__name__}")
    return cur


def _show(x: Any) -> str:
    s = repr(_norm(x))
    return s if len(s) <= 300 else s[:300] + "..."


def _name_of(x: Any) -> str:
    if isinstance(x, int) and not isinstance(x, bool):
        try:
            return f" ({SessionStatus(x).name})" if x < 0 or x >= 2000 else ""
        except ValueError:
            return ""
    return ""
