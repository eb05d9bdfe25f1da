"""Placeholders and small expressions in case files.

``${...}`` in any string of a step is replaced when the step runs. What is inside is a small,
safe expression: dotted names (``last.reply.max_replay``, ``a.login.heartbeat_interval_ms``,
``business_date``), integer and string literals, ``+ - * / // %``, comparisons, ``and or not``,
``x if c else y`` and a few functions (``min max int str len hex abs sum sorted``; ``find(items,
key, value)`` the first table of a list with that value, ``where(items, key, value)`` all of them,
``pluck(items, key)`` one field of each; and the byte helpers ``u8 u16 u32 u64 i8 i16 i32 i64
text code`` that return hex text for raw frames). A string that
is exactly one placeholder keeps the value's type (``"${a.login.max_replay}"`` is an int);
placeholders inside longer text are replaced by their text. A leading ``=`` (``${= x + 1}``) is
accepted and means the same.
"""
from __future__ import annotations

import ast
import operator
import re
import struct
from typing import Any

PLACEHOLDER = re.compile(r"\$\{([^{}]*)\}")
_INDEX = re.compile(r"((?<!\w)[A-Za-z_]\w*|\])\.(\d+)\b")


class ExprError(ValueError):
    pass


def _int_hex(fmt: str):
    def f(v) -> str:
        return struct.pack(">" + fmt, int(v)).hex()
    return f


def _text_hex(s, n) -> str:
    b = str(s).encode("ascii")
    n = int(n)
    if len(b) > n:
        raise ExprError(f"text {s!r} longer than {n}")
    return b.ljust(n).hex()


def _code_hex(code: str) -> str:
    m = re.fullmatch(r"([A-Z]{2})(\d{1,5})", str(code))
    if not m:
        raise ExprError(f"bad message code {code!r}")
    return (m.group(1).encode("ascii") + struct.pack(">H", int(m.group(2)))).hex()


def _find(items, key, value):
    """The first item (a table) whose ``key`` equals ``value``."""
    for it in items or []:
        if isinstance(it, dict) and it.get(key) == value:
            return it
    raise ExprError(f"no item with {key} = {value!r} among {len(items or [])}")


def _where(items, key, value) -> list:
    return [it for it in items or [] if isinstance(it, dict) and it.get(key) == value]


def _pluck(items, key) -> list:
    return [it.get(key) for it in items or [] if isinstance(it, dict)]


FUNCTIONS = {
    "find": _find, "where": _where, "pluck": _pluck, "sum": sum, "sorted": sorted,
    "min": min, "max": max, "int": int, "str": str, "len": len, "hex": hex, "abs": abs,
    "u8": _int_hex("B"), "u16": _int_hex("H"), "u32": _int_hex("I"), "u64": _int_hex("Q"),
    "i8": _int_hex("b"), "i16": _int_hex("h"), "i32": _int_hex("i"), "i64": _int_hex("q"),
    "text": _text_hex, "code": _code_hex,
}

_BIN = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
        ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod}
_CMP = {ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
        ast.Gt: operator.gt, ast.GtE: operator.ge, ast.In: lambda a, b: a in b, ast.NotIn: lambda a, b: a not in b}


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


MISSING = _Missing()


def lookup(variables: dict, path: list[str]) -> Any:
    cur: Any = variables
    for i, part in enumerate(path):
        if isinstance(cur, dict) and part in cur:
            cur = cur[part]
        elif isinstance(cur, (list, tuple)) and part.lstrip("-").isdigit() and -len(cur) <= int(part) < len(cur):
            cur = cur[int(part)]
        elif isinstance(cur, dict) and part.lstrip("-").isdigit() and int(part) in cur:
            cur = cur[int(part)]
        else:
            where = ".".join(path[:i]) or "(top)"
            have = ", ".join(sorted(map(str, cur))[:20]) if isinstance(cur, dict) else type(cur).__name__
            raise ExprError(f"unknown name {'.'.join(path)!r}: {where} has no {part!r} (has: {have})")
    return cur


def _path(node: ast.AST) -> list[str] | None:
    if isinstance(node, ast.Name):
        return [node.id]
    if isinstance(node, ast.Attribute):
        p = _path(node.value)
        return None if p is None else p + [node.attr]
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
        p = _path(node.value)
        return None if p is None else p + [str(node.slice.value)]
    return None


def evaluate(text: str, variables: dict) -> Any:
    src = text.strip()
    if src.startswith("="):
        src = src[1:].strip()
    # dotted paths may contain integer parts (items.0.status): make them subscripts
    while True:
        new = _INDEX.sub(r"\1[\2]", src)
        if new == src:
            break
        src = new
    try:
        tree = ast.parse(src, mode="eval")
    except SyntaxError as e:
        raise ExprError(f"bad expression {text!r}: {e.msg}") from None
    return _eval(tree.body, variables, text)


def _eval(node: ast.AST, v: dict, text: str) -> Any:
    p = _path(node)
    if p is not None:
        return lookup(v, p)
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.BinOp) and type(node.op) in _BIN:
        return _BIN[type(node.op)](_eval(node.left, v, text), _eval(node.right, v, text))
    if isinstance(node, ast.UnaryOp):
        x = _eval(node.operand, v, text)
        if isinstance(node.op, ast.USub):
            return -x
        if isinstance(node.op, ast.UAdd):
            return +x
        if isinstance(node.op, ast.Not):
            return not x
    if isinstance(node, ast.BoolOp):
        vals = (_eval(x, v, text) for x in node.values)
        return all(vals) if isinstance(node.op, ast.And) else any(vals)
    if isinstance(node, ast.Compare):
        left = _eval(node.left, v, text)
        for op, right_node in zip(node.ops, node.comparators):
            right = _eval(right_node, v, text)
            if type(op) not in _CMP or not _CMP[type(op)](left, right):
                return False
            left = right
        return True
    if isinstance(node, ast.IfExp):
        return _eval(node.body, v, text) if _eval(node.test, v, text) else _eval(node.orelse, v, text)
    if isinstance(node, (ast.List, ast.Tuple)):
        return [_eval(x, v, text) for x in node.elts]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS and not node.keywords:
        return FUNCTIONS[node.func.id](*[_eval(a, v, text) for a in node.args])
    if isinstance(node, ast.Attribute):      # a field of a computed value: find(...).series
        return lookup(_eval(node.value, v, text), [node.attr])
    if isinstance(node, ast.Subscript):
        return lookup(_eval(node.value, v, text), [str(_eval(node.slice, v, text))])
    raise ExprError(f"not allowed in an expression: {ast.dump(node)[:60]} (in {text!r})")


def substitute(value: Any, variables: dict) -> Any:
    """Replace placeholders in strings, recursively through tables and arrays."""
    if isinstance(value, str):
        m = PLACEHOLDER.fullmatch(value.strip()) if "${" in value else None
        if m is not None:
            return evaluate(m.group(1), variables)
        if "${" not in value:
            return value
        return PLACEHOLDER.sub(lambda mm: _as_text(evaluate(mm.group(1), variables)), value)
    if isinstance(value, dict):
        return {k: substitute(x, variables) for k, x in value.items()}
    if isinstance(value, list):
        return [substitute(x, variables) for x in value]
    return value


def _as_text(x: Any) -> str:
    if isinstance(x, bool):
        return "1" if x else "0"
    return str(x)
