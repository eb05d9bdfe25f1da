"""Scenarios are data: TOML files of ``[[case]]`` tables with ``[[case.step]]`` scripts, in the style
of the server cases (conformance/casefiles.py), one file per suite under ``cases/``.

Loading validates every scenario (id, keys, actions, parameter names), so that a typo in a file
is an error at load time, not a silent pass.
"""
from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path
from typing import Any, Iterable

from ..casefiles import ID, Case, CaseError, select, step_action

SUITES = ["session", "recovery", "posttrade", "money", "throttling"]
CASE_KEYS = {"id", "rule", "hkex", "doc", "timeout", "step"}
COMMON_STEP_KEYS = {"do", "note", "within"}
MATCH_KEYS = {"code", "count", "answered", "status", "detail", "reason"}
ACTIONS: dict[str, set[str]] = {
    # the certifier acts
    "operator": {"msg", "fields", "repeat", "save"},         # as the clearing house (operator role)
    "counterparty": {"msg", "fields", "save"},               # as the other participant of a trade
    "instruct": {"text"},                                     # tell the person (and BI27 "CERT ...")
    "mark": set(),                                            # judge only what the client does from here
    "wait": {"seconds"},
    "check": {"expr", "message"},
    # the client is judged
    "await_login": {"fresh", "status", "subscribed", "reason"},
    "expect_request": MATCH_KEYS,
    "expect_no_request": {"code", "except", "reason"},
    "expect_heartbeats": {"reason"},
    "expect_connected": {"reason"},
    "expect_logout": {"reason"},
    "expect_resume": {"reason"},
    "expect_recovery": {"reason"},
    "expect_paced": {"code", "count", "reason"},
}
JUDGED = {a for a in ACTIONS if a.startswith(("await_", "expect_"))}


def _check_step(cid: str, i: int, step: Any) -> None:
    where = f"{cid} step {i + 1}"
    action = step_action(where, step, ACTIONS, COMMON_STEP_KEYS)
    if action in ("operator", "counterparty") and "msg" not in step:
        raise CaseError(f"{where}: {action} needs msg (a message code such as EC101)")
    if action == "instruct" and not step.get("text"):
        raise CaseError(f"{where}: instruct needs text")
    if action == "check" and "expr" not in step:
        raise CaseError(f"{where}: check needs expr")
    if action in ("expect_request", "expect_paced") and "code" not in step:
        raise CaseError(f"{where}: {action} needs code (a message type or a list of them)")
    if action in JUDGED and "within" not in step:
        raise CaseError(f"{where}: {action} needs within (its deadline, seconds)")


def parse_scenario(data: dict, source: str, defaults: dict) -> Case:
    if not isinstance(data, dict):
        raise CaseError(f"{source}: a scenario is a table")
    cid = data.get("id", "")
    if not isinstance(cid, str) or not ID.match(cid):
        raise CaseError(f"{source}: bad scenario id {cid!r}: suite.section.name, e.g. recovery.2.gap")
    if cid.split(".", 1)[0] not in SUITES:
        raise CaseError(f"{cid}: unknown suite (one of {', '.join(SUITES)})")
    unknown = set(data) - CASE_KEYS
    if unknown:
        raise CaseError(f"{cid}: unknown key(s) {', '.join(sorted(unknown))}")
    rule = data.get("rule", "")
    if not isinstance(rule, str) or not rule.strip() or "\n" in rule.strip():
        raise CaseError(f"{cid}: rule (one line stating what the client must do) is required")
    steps = data.get("step", [])
    if not steps:
        raise CaseError(f"{cid}: no steps")
    for i, s in enumerate(steps):
        _check_step(cid, i, s)
    case = Case(id=cid, rule=rule.strip(), steps=steps, timeout=data.get("timeout"), doc=data.get("doc", ""),
                source=source, defaults=dict(defaults), setup={"reset": False})
    case.reference = f"docs/guides/certify-your-client.md ({cid.split('.')[0]} suite)" + \
        (f"; HKEX: {data['hkex']}" if data.get("hkex") else "")
    return case


def parse_file(text: str, source: str) -> list[Case]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise CaseError(f"{source}: {e}") from None
    unknown = set(data) - {"case", "vars"}
    if unknown:
        raise CaseError(f"{source}: top-level key(s) {', '.join(sorted(unknown))}: use [[case]] and [vars]")
    defaults = data.get("vars", {})
    if not isinstance(defaults, dict):
        raise CaseError(f"{source}: [vars] is a table of name = value")
    return [parse_scenario(c, source, defaults) for c in data.get("case", [])]


def load_scenarios(extra: Iterable[str | Path] = (), builtin: bool = True) -> list[Case]:
    """The shipped scenarios (``cases/<suite>.toml``) plus the ``*.toml`` files under ``extra``."""
    cases: list[Case] = []
    if builtin:
        root = resources.files("conformance.certify").joinpath("cases")
        for entry in sorted(root.iterdir(), key=lambda e: e.name):
            if entry.is_file() and entry.name.endswith(".toml"):
                cases += parse_file(entry.read_text(encoding="utf-8"), f"certify/cases/{entry.name}")
    for d in extra:
        p = Path(d)
        for f in ([p] if p.is_file() else sorted(p.rglob("*.toml"))):
            cases += parse_file(f.read_text(encoding="utf-8"), str(f))
    seen: dict[str, str] = {}
    for c in cases:
        if c.id in seen:
            raise CaseError(f"scenario id {c.id} declared twice ({seen[c.id]} and {c.source})")
        seen[c.id] = c.source
    return sorted(cases, key=lambda c: (SUITES.index(c.suite), tuple(int(x) for x in c.section.split("."))))


def pick(cases: list[Case], suites: list[str], include: list[str], exclude: list[str]) -> list[Case]:
    bad = [s for s in suites if s not in SUITES]
    if bad:
        raise CaseError(f"unknown suite(s) {', '.join(bad)} (one of {', '.join(SUITES)})")
    if suites:
        cases = [c for c in cases if c.suite in suites]
    return select(cases, include, exclude)
