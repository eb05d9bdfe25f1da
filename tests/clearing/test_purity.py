"""The clearing core is pure: it imports no file I/O, no settings, no clock, no network and nothing
of the gateway or the protocol; the gateway loads its data (``gateway.refdata``) and hands it in."""
from __future__ import annotations

import ast
from datetime import datetime
from pathlib import Path

import pytest

import gateway.clearing
from gateway.clearing.core import ClearingCore, ModuleSet
from gateway.clearing.dcass import DcassModule
from gateway.clearing.collateral import CollateralModule
from gateway.clearing.otc import OtcClearModule
from gateway.refdata import calendar, module_factories

CORE = Path(gateway.clearing.__file__).resolve().parent

# the standard library the core may use: computation only
ALLOWED = {"__future__", "dataclasses", "datetime", "decimal", "typing", "enum", "fractions", "functools",
           "hashlib", "json", "random", "re", "string", "struct", "collections", "operator", "itertools", "math",
           "bisect", "heapq", "abc", "copy"}
BUILTINS = {"open", "input", "__import__", "breakpoint"}  # file and console I/O, hidden imports
CLOCK = {("datetime", "now"), ("datetime", "today"), ("datetime", "utcnow"), ("date", "today"), ("time", "time"),
         ("time", "monotonic")}


def _violations(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names = [node.module or ""]
        for n in names:
            if n.split(".")[0] not in ALLOWED and not n.startswith("gateway.clearing"):
                out.append(f"{node.lineno}: import {n}")
        if isinstance(node, ast.Call):
            f = node.func
            if isinstance(f, ast.Name) and f.id in BUILTINS:
                out.append(f"{node.lineno}: {f.id}()")
            if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and (f.value.id, f.attr) in CLOCK:
                out.append(f"{node.lineno}: {f.value.id}.{f.attr}()")
        if isinstance(node, ast.Name) and node.id == "settings":
            out.append(f"{node.lineno}: settings")
    return out


def test_the_core_imports_no_io_no_settings_no_clock():
    found = {}
    for path in sorted(CORE.rglob("*.py")):
        v = _violations(path)
        if v:
            found[str(path.relative_to(CORE))] = v
    assert found == {}


@pytest.mark.parametrize("src, bad", [
    ("import tomllib", "import tomllib"), ("from importlib import resources", "import importlib"),
    ("from pathlib import Path", "import pathlib"), ("import os", "import os"),
    ("from gateway.config import Settings", "import gateway.config"), ("x = open('f')", "open()"),
    ("t = datetime.now()", "datetime.now()"), ("def f(settings): return settings.x", "settings"),
])
def test_the_scan_finds_each_kind_of_violation(tmp_path, src, bad):
    p = tmp_path / "m.py"
    p.write_text(src + "\n")
    assert any(bad in v for v in _violations(p))


def test_modules_and_the_core_are_handed_their_data():
    mf = module_factories()
    assert isinstance(mf, ModuleSet) and mf.calendar is calendar()
    core = ClearingCore(datetime(2026, 11, 23, 9), module_factories=mf)
    assert core.calendar is calendar()
    assert [m.name for m in core.modules] == ["system", "dcass", "ccms", "otc", "maker_checker"]
    assert isinstance(mf + [], ModuleSet) and (mf + []).calendar is mf.calendar
    with pytest.raises(TypeError, match="calendar"):
        ClearingCore(datetime(2026, 11, 23, 9), module_factories=[])
    bare = ClearingCore(datetime(2026, 11, 23, 9), calendar())
    for module in (DcassModule, CollateralModule, OtcClearModule):
        with pytest.raises(TypeError, match="gateway.refdata"):
            module(bare)
