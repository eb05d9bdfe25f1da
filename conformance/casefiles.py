"""Cases are data: TOML files of ``[[case]]`` tables, each with ``[[case.step]]`` scripts.

The shipped cases live in ``conformance/cases/<suite>/*.toml`` (package data); more directories
can be given on the command line. Loading validates every case (id, keys, actions, parameter
names) so that a typo in a case file is an error at load time, not a silent pass.
"""
from __future__ import annotations

import fnmatch
import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Iterable

ID = re.compile(r"^(?P<suite>[a-z][a-z0-9]*)\.(?P<section>\d+(?:\.\d+)*)\.(?P<name>[a-z0-9][a-z0-9-]*)$")

CASE_KEYS = {"id", "rule", "recommendation", "tags", "setup", "witness", "timeout", "doc", "step"}
SETUP_KEYS = {"reset", "time", "date"}
COMMON_STEP_KEYS = {"do", "on", "repeat", "note"}
EXPECT_KEYS = {"kind", "code", "request_id", "session_status", "business_status", "field_offset", "flags", "stream",
               "sequence", "segment", "header", "fields", "where", "count", "within", "save"}
ACTIONS: dict[str, set[str]] = {
    "connect": {"heartbeat"},
    "login": {"as", "user", "password", "forced", "resume", "heartbeat", "application_id", "expect"},
    "send": {"msg", "fields", "kind", "request_id", "expect"},
    "raw": {"hex", "msg", "fields", "payload", "kind", "request_id", "header", "append", "truncate", "split", "pause",
            "copies", "expect"},
    "subscribe": {"streams", "expect"},
    "operator": {"msg", "fields", "expect"},
    "expect": EXPECT_KEYS,
    "expect_none": {"kind", "code", "stream", "request_id", "sequence", "where", "within"},
    "expect_closed": {"within"},
    "expect_sequence": {"stream", "first", "last", "business_date"},
    "wait": {"seconds"},
    "disconnect": {"logout"},
    "skip_if": {"expr", "reason"},
    "slow_if": {"expr", "reason"},
    "set": {"vars"},
    "check": {"expr", "message"},
}
KNOWN_TAGS = {"slow", "destructive"}


class CaseError(ValueError):
    pass


@dataclass
class Case:
    id: str
    rule: str
    steps: list[dict]
    recommendation: bool = False
    tags: list[str] = field(default_factory=list)
    setup: dict = field(default_factory=lambda: {"reset": True})
    witness: bool = False
    timeout: float | None = None
    doc: str = ""
    source: str = ""
    defaults: dict = field(default_factory=dict)  # the file's [vars], overridable with --set
    reference: str = ""  # where the rule is documented ("": docs/protocol.md, the case's section)

    @property
    def suite(self) -> str:
        return self.id.split(".", 1)[0]

    @property
    def section(self) -> str:
        return ID.match(self.id).group("section")

    def where(self) -> str:
        return self.reference or f"docs/protocol.md section {self.section}"

    def describe(self) -> dict:
        return {"id": self.id, "suite": self.suite, "section": self.section, "rule": self.rule,
                "recommendation": self.recommendation, "tags": list(self.tags), "source": self.source}


def step_action(where: str, step: Any, actions: dict[str, set[str]], common: set[str]) -> str:
    """The action of a case-file step, after checking its shape: a table, a known ``do``, and only
    the keys that action (``actions``) or every step (``common``) takes. Shared by the conformance
    cases and the client certification's scenarios, each with its own table of actions."""
    if not isinstance(step, dict):
        raise CaseError(f"{where}: a step is a table")
    action = step.get("do")
    if action not in actions:
        raise CaseError(f"{where}: unknown action {action!r} (one of: {', '.join(sorted(actions))})")
    allowed = actions[action] | common
    unknown = set(step) - allowed
    if unknown:
        raise CaseError(f"{where} ({action}): unknown key(s) {', '.join(sorted(unknown))}; "
                        f"allowed: {', '.join(sorted(allowed))}")
    return action


def _check_step(case_id: str, i: int, step: Any) -> None:
    where = f"{case_id} step {i + 1}"
    action = step_action(where, step, ACTIONS, COMMON_STEP_KEYS)
    exp = step.get("expect")
    if exp is not None and action != "expect":
        if not isinstance(exp, dict):
            raise CaseError(f"{where}: expect is a table")
        bad = set(exp) - EXPECT_KEYS
        if bad:
            raise CaseError(f"{where}: unknown expect key(s) {', '.join(sorted(bad))}")
    if action in ("send", "operator") and "msg" not in step:
        raise CaseError(f"{where}: {action} needs msg (a message code such as UQ12)")
    if action == "raw" and not ({"hex", "msg", "payload"} & set(step)):
        raise CaseError(f"{where}: raw needs hex, msg or payload")
    if action in ("skip_if", "slow_if", "check") and "expr" not in step:
        raise CaseError(f"{where}: {action} needs expr")


def parse_case(data: dict, source: str = "") -> Case:
    if not isinstance(data, dict):
        raise CaseError(f"{source}: a case is a table")
    cid = data.get("id", "")
    if not isinstance(cid, str) or not ID.match(cid):
        raise CaseError(f"{source}: bad case id {cid!r}: suite.section.name, e.g. session.3.4.forced-login")
    unknown = set(data) - CASE_KEYS
    if unknown:
        raise CaseError(f"{cid}: unknown key(s) {', '.join(sorted(unknown))}")
    rule = data.get("rule", "")
    if not isinstance(rule, str) or not rule.strip():
        raise CaseError(f"{cid}: rule (one line stating the rule checked) is required")
    if "\n" in rule.strip():
        raise CaseError(f"{cid}: rule must be one line")
    steps = data.get("step", [])
    if not steps:
        raise CaseError(f"{cid}: no steps")
    for i, s in enumerate(steps):
        _check_step(cid, i, s)
    tags = list(data.get("tags", []))
    bad_tags = set(tags) - KNOWN_TAGS
    if bad_tags:
        raise CaseError(f"{cid}: unknown tag(s) {', '.join(sorted(bad_tags))} (known: {', '.join(sorted(KNOWN_TAGS))})")
    setup = data.get("setup", {"reset": True})
    if not isinstance(setup, dict) or set(setup) - SETUP_KEYS:
        raise CaseError(f"{cid}: setup is a table with keys {', '.join(sorted(SETUP_KEYS))}")
    setup = {"reset": True, **setup}
    return Case(id=cid, rule=rule.strip(), steps=steps, recommendation=bool(data.get("recommendation", False)),
                tags=tags, setup=setup, witness=bool(data.get("witness", False)), timeout=data.get("timeout"),
                doc=data.get("doc", ""), source=source)


def parse_file(text: str, source: str) -> list[Case]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise CaseError(f"{source}: {e}") from None
    unknown = set(data) - {"case", "vars"}
    if unknown:
        raise CaseError(f"{source}: top-level key(s) {', '.join(sorted(unknown))}: use [[case]] tables "
                        "(and [vars] for defaults shared by the file's cases)")
    defaults = data.get("vars", {})
    if not isinstance(defaults, dict):
        raise CaseError(f"{source}: [vars] is a table of name = value")
    cases = [parse_case(c, source) for c in data.get("case", [])]
    for c in cases:
        c.defaults = dict(defaults)
    return cases


def _walk_resources(root) -> Iterable[tuple[str, str]]:
    for entry in sorted(root.iterdir(), key=lambda e: e.name):
        if entry.is_dir():
            for sub in sorted(entry.iterdir(), key=lambda e: e.name):
                if sub.is_file() and sub.name.endswith(".toml"):
                    yield f"cases/{entry.name}/{sub.name}", sub.read_text(encoding="utf-8")
        elif entry.is_file() and entry.name.endswith(".toml"):
            yield f"cases/{entry.name}", entry.read_text(encoding="utf-8")


def load_cases(extra_dirs: Iterable[str | Path] = (), builtin: bool = True) -> list[Case]:
    """The shipped cases (package data) plus the ``*.toml`` files under ``extra_dirs``."""
    cases: list[Case] = []
    if builtin:
        root = resources.files("conformance").joinpath("cases")
        for source, text in _walk_resources(root):
            cases += parse_file(text, source)
    for d in extra_dirs:
        p = Path(d)
        files = [p] if p.is_file() else sorted(p.rglob("*.toml"))
        for f in files:
            cases += parse_file(f.read_text(encoding="utf-8"), str(f))
    seen: dict[str, str] = {}
    for c in cases:
        if c.id in seen:
            raise CaseError(f"case id {c.id} declared twice ({seen[c.id]} and {c.source})")
        seen[c.id] = c.source
    return sorted(cases, key=_order)


SUITE_ORDER = ["session", "hostile", "certification", "collateral", "otc"]


def _order(c: Case) -> tuple:
    """Suites in a fixed order (unknown suites after, alphabetically), then by section number;
    within a section, the order of the case files."""
    rank = SUITE_ORDER.index(c.suite) if c.suite in SUITE_ORDER else len(SUITE_ORDER)
    return (rank, c.suite, tuple(int(x) for x in c.section.split(".")))


def select(cases: list[Case], include: list[str] | None = None, exclude: list[str] | None = None) -> list[Case]:
    """Cases whose id matches any include pattern (all when none) and no exclude pattern. A pattern
    with a wildcard (``*?[``) is a glob matched against the whole id (``session.3.4.*``); any other
    is a substring of the id, ignoring case, as with pytest ``-k`` (``give-up``, ``session``)."""
    def match(cid: str, pat: str) -> bool:
        if any(ch in pat for ch in "*?["):
            return fnmatch.fnmatchcase(cid, pat)
        return pat.lower() in cid.lower()
    out = []
    for c in cases:
        if include and not any(match(c.id, p) for p in include):
            continue
        if exclude and any(match(c.id, p) for p in exclude):
            continue
        out.append(c)
    return out
