"""The handlers convert through the declarations: no text width, number of decimals or date form of
their own (the field types of protocol/codec.py and protocol/units.py say them once)."""
from __future__ import annotations

import ast
from pathlib import Path

import gateway.handlers

HANDLERS = Path(gateway.handlers.__file__).resolve().parent


def _own_wire_facts(source: str) -> list[str]:
    out = []
    for node in ast.walk(ast.parse(source)):
        # s[:40]: a text width written by hand (the field says truncate=True)
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Slice):
            sl = node.slice
            if sl.lower is None and isinstance(sl.upper, ast.Constant) and isinstance(sl.upper.value, int):
                out.append(f"{node.lineno}: [:{sl.upper.value}]")
        # "%Y%m%d" / "%H%M%S": a date or time form written by hand (Date, Time)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and ("%Y%m%d" in node.value
                                                                              or "%H%M%S" in node.value):
            out.append(f"{node.lineno}: {node.value!r}")
        # RATE_DECIMALS = 8 and the like: a number of decimals of its own (protocol/units.py)
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id.endswith("DECIMALS")
                                                for t in node.targets):
            out.append(f"{node.lineno}: {ast.unparse(node)}")
    return out


def test_handlers_write_no_wire_fact_of_their_own():
    found = {p.name: v for p in sorted(HANDLERS.glob("*.py"))
             if (v := _own_wire_facts(p.read_text(encoding="utf-8")))}
    assert found == {}


def test_the_scan_sees_each_kind():
    assert _own_wire_facts('Ack(text=f"x {y}"[:40])') == ["1: [:40]"]
    assert _own_wire_facts('d.strftime("%Y%m%d")') == ["1: '%Y%m%d'"]
    assert _own_wire_facts("RATE_DECIMALS = 8") == ["1: RATE_DECIMALS = 8"]
    assert _own_wire_facts("x = items[:n]") == []
