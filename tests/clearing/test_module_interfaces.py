"""Modules react to each other only through the events a module declares it publishes
(``<module>/published.py``): matched by type, never by class name."""
from __future__ import annotations

import ast
import dataclasses
from datetime import datetime
from pathlib import Path

from gateway.clearing import collateral
from gateway.clearing.collateral import module as ccms_module
from gateway.clearing.core import ClearingCore, Context
from gateway.clearing.dcass import published as dcass_published
from gateway.clearing.dcass.events import MarginChanged
from gateway.refdata import module_factories

CLEARING = Path(collateral.__file__).resolve().parent.parent


def test_ccms_reacts_to_the_margin_event_dcass_publishes():
    assert MarginChanged in dcass_published.PUBLISHED
    assert ccms_module.MarginChanged is MarginChanged  # the type itself, imported from the declaration
    read = {"owner", "clearing_house", "account_id", "account_type", "currency", "requirement"}
    assert read <= {f.name for f in dataclasses.fields(MarginChanged)}


def _core_and_account():
    core = ClearingCore(datetime(2026, 11, 23, 9), module_factories=module_factories())
    dcass = core.module("dcass")
    p = next(p for p in dcass.ref.participants.values() if any(a.clearing_house == "HKCC" for a in p.accounts))
    acc = next(a for a in p.accounts if a.clearing_house == "HKCC")
    ccms = core.module(collateral.CollateralModule.name)
    seen: list = []
    set_requirement = ccms._set_requirement
    ccms._set_requirement = lambda key, cents: (seen.append((key, cents)), set_requirement(key, cents))
    return core, p.id, acc, seen


def test_a_published_margin_change_reaches_ccms_through_the_core():
    core, participant, acc, seen = _core_and_account()
    event = MarginChanged(participant, "HKCC", acc.account_id, acc.account_type, "HKD", 1234567)
    core._react([event], Context(core.now, None, "", True))
    assert seen == [((participant, "HKCC", acc.account_id, "HKD"), 1234567)]


def test_an_event_of_the_same_name_and_fields_is_not_the_interface():
    """A look-alike (another class named MarginChanged) is ignored: only the declared type counts."""
    look_alike = dataclasses.make_dataclass("MarginChanged", [f.name for f in dataclasses.fields(MarginChanged)])
    core, participant, acc, seen = _core_and_account()
    core._react([look_alike(participant, "HKCC", acc.account_id, acc.account_type, "HKD", 99)],
                Context(core.now, None, "", True))
    assert seen == []


def _class_name_comparisons(tree: ast.AST) -> list[int]:
    """Lines comparing something's ``__name__`` with a string literal."""
    out = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Compare):
            continue
        sides = [node.left, *node.comparators]
        names = any(isinstance(s, ast.Attribute) and s.attr == "__name__" for s in sides)
        literal = any(isinstance(s, ast.Constant) and isinstance(s.value, str) for s in sides)
        if names and literal:
            out.append(node.lineno)
    return out


def test_no_module_of_the_core_recognises_a_type_by_its_name():
    found = {}
    for path in sorted(CLEARING.rglob("*.py")):
        lines = _class_name_comparisons(ast.parse(path.read_text(encoding="utf-8")))
        if lines:
            found[str(path.relative_to(CLEARING))] = lines
    assert found == {}, f"compare types, not their names: {found}"
    assert _class_name_comparisons(ast.parse('if type(e).__name__ != "MarginChanged": pass')) == [1]


def test_dcass_offers_ccms_the_interface_it_declares():
    """CCMS calls DCASS through DcassForCollateral (no getattr fallbacks): the real module
    provides every method it declares."""
    from gateway.clearing.dcass.module import DcassModule
    from gateway.clearing.dcass.published import DcassForCollateral

    declared = [n for n in vars(DcassForCollateral) if not n.startswith("_")]
    assert {"account", "money_of_day", "deliveries_of_day", "set_covered"} <= set(declared)
    for name in declared:
        assert callable(getattr(DcassModule, name)), name
