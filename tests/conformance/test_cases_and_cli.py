"""The case files (valid, traceable to docs/protocol.md), selection, and the command line end to end."""
from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conformance.casefiles import ACTIONS, CaseError, load_cases, parse_file, select
from tests.conformance.harness import serving

ROOT = Path(__file__).resolve().parents[2]


def doc_sections() -> set[str]:
    """Section numbers of docs/protocol.md: '## 3. Session rules' and paragraphs '3.4 **One live...**'."""
    text = (ROOT / "docs" / "protocol.md").read_text()
    out = set(re.findall(r"^## (\d+)\.", text, re.M))
    out |= set(re.findall(r"^(\d+\.\d+) \*\*", text, re.M))
    return out


def test_every_case_loads_and_traces_to_a_section_of_the_protocol_reference():
    cases = load_cases()
    assert len(cases) >= 40
    sections = doc_sections()
    for c in cases:
        assert c.section in sections, f"{c.id}: docs/protocol.md has no section {c.section}"
        assert c.rule and "\n" not in c.rule
    assert {c.suite for c in cases} >= {"session", "hostile"}
    assert all(c.witness for c in cases if c.suite == "hostile"), "every hostile case checks another session"


def test_case_files_are_checked_strictly():
    good = '[[case]]\nid = "session.3.3.x"\nrule = "r"\n[[case.step]]\ndo = "login"\n'
    assert parse_file(good, "t")[0].id == "session.3.3.x"
    bad = {
        "bad id": good.replace("session.3.3.x", "session-x"),
        "no rule": good.replace('rule = "r"\n', ""),
        "unknown action": good.replace('do = "login"', 'do = "logon"'),
        "unknown step key": good + 'passwrd = "x"\n',
        "unknown case key": good.replace('rule = "r"', 'rule = "r"\nstrict = true'),
        "unknown expect key": good + 'expect = { kind = "reply", sesion_status = 0 }\n',
        "unknown tag": good.replace('rule = "r"', 'rule = "r"\ntags = ["fast"]'),
        "send without msg": good.replace('do = "login"', 'do = "send"'),
    }
    for what, text in bad.items():
        with pytest.raises(CaseError):
            parse_file(text, what)


def test_selection_by_glob():
    cases = load_cases()
    ids = [c.id for c in select(cases, ["session.3.4.*"])]
    assert ids and all(i.startswith("session.3.4.") for i in ids)
    assert {c.suite for c in select(cases, ["hostile."])} == {"hostile"}
    ids = [c.id for c in select(cases, ["session.*"], ["session.3.1*"])]
    assert ids and not any(i.startswith(("session.3.10", "session.3.11")) for i in ids)
    # sections sort numerically: 3.9 before 3.10
    order = [c.section for c in cases if c.suite == "session"]
    assert order.index("3.9") < order.index("3.10")


def test_the_runner_never_imports_the_gateway():
    for path in (ROOT / "conformance").rglob("*.py"):
        src = path.read_text()
        assert not re.search(r"^\s*(from|import)\s+gateway\b", src, re.M), path
    code = "import sys, conformance.__main__, conformance.runner; sys.exit('gateway' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT).returncode == 0


def test_list_does_not_connect():
    p = subprocess.run([sys.executable, "-m", "conformance", "--list", "--include", "hostile.*", "--port", "1"],
                       cwd=ROOT, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert "hostile.3.2.oversize-frame" in p.stdout and "session.3.3.login" not in p.stdout


def test_actions_are_documented():
    guide = (ROOT / "docs" / "guides" / "conformance.md").read_text()
    for action in ACTIONS:
        assert f"`{action}`" in guide, f"action {action} is not described in docs/guides/conformance.md"


def test_selection_by_substring_as_pytest_k():
    cases = load_cases()
    ids = [c.id for c in select(cases, ["give-up"])]
    assert "certification.5.give-up-confirmed" in ids and all("give-up" in i for i in ids)
    assert [c.id for c in select(cases, ["GIVE-UP"])] == ids  # case ignored, as -k
    assert {c.suite for c in select(cases, ["session"])} >= {"session"}
    assert all("session" in c.id for c in select(cases, ["session"]))
    rest = [c.id for c in select(cases, ["give-up"], ["rejected"])]
    assert rest and not any("rejected" in i for i in rest) and len(rest) < len(ids)
    assert select(cases, ["no-such-case-anywhere"]) == []


async def _cli(*args: str, allow_reset: bool = True) -> tuple[int, str]:
    args = ("--allow-reset",) + args if allow_reset else args
    p = await asyncio.create_subprocess_exec(sys.executable, "-m", "conformance", *args, cwd=ROOT,
                                             stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await p.communicate()
    return p.returncode, out.decode()


async def test_command_line_reports_and_exit_codes(tmp_path):
    junit, js = tmp_path / "r.xml", tmp_path / "r.json"
    async with serving() as gw:
        rc, out = await _cli("--port", str(gw.port), "--include", "session.3.3.*", "--include", "hostile.3.3.*",
                             "--junit", str(junit), "--json", str(js))
    assert rc == 0, out
    assert "PASS:" in out and "session.3.3.login" in out
    report = json.loads(js.read_text())
    assert report["ok"] and report["summary"]["fail"] == 0 and report["summary"]["pass"] >= 5
    case = next(c for c in report["cases"] if c["id"] == "session.3.3.login")
    assert case["status"] == "pass" and case["section"] == "3.3" and case["rule"] and case["transcript"]
    suites = ET.parse(junit).getroot()
    assert suites.tag == "testsuites" and {s.get("name") for s in suites} == {"session", "hostile"}
    names = [tc.get("name") for tc in suites.iter("testcase")]
    assert "session.3.3.login" in names
    assert any(tc.find("skipped") is not None for tc in suites.iter("testcase"))


async def test_command_line_failure_says_expected_got_and_bytes(tmp_path):
    from tests.conformance.test_broken_variants import UnknownUserTold
    junit, js = tmp_path / "r.xml", tmp_path / "r.json"
    async with serving(UnknownUserTold) as gw:
        rc, out = await _cli("--port", str(gw.port), "--include", "session.3.3.unknown-user", "--junit", str(junit),
                             "--json", str(js), "--timeout", "1")
    assert rc == 1, out
    assert "FAIL session.3.3.unknown-user" in out
    assert "expected: REJECT" in out and "got:      REJECT" in out and "bytes:" in out
    failure = json.loads(js.read_text())["cases"][0]["failure"]
    assert failure["expected"] and failure["got"] and failure["hex"]
    tc = next(ET.parse(junit).getroot().iter("testcase"))
    assert tc.find("failure") is not None and "-2002" in tc.find("failure").text


async def test_unreachable_target_is_one_error_and_a_stop(tmp_path):
    js = tmp_path / "r.json"
    rc, out = await _cli("--port", "1", "--include", "session.3.3.*", "--timeout", "0.5", "--json", str(js))
    assert rc == 3
    assert out.strip().splitlines() == ["hkpost-conformance: cannot reach 127.0.0.1:1: Connection refused; no case run"]
    assert not js.exists()


async def test_a_target_that_goes_away_stops_the_run(tmp_path):
    # the target dies between cases (its port closes): one error, what ran so far is reported
    js = tmp_path / "r.json"
    async with serving() as gw:
        port = gw.port
        task = asyncio.create_task(_cli("--port", str(port), "--include", "session.3.3.*", "--json", str(js)))
        for _ in range(300):  # bounded: until the run has logged in to the target
            await asyncio.sleep(0.05)
            if gw.sessions or task.done():
                break
    rc, out = await asyncio.wait_for(task, 60)
    report = json.loads(js.read_text())
    assert rc == 3, out
    assert report["stopped"].startswith(f"cannot reach 127.0.0.1:{port}") and not report["ok"]
    assert 0 < len(report["cases"]) < len(select(load_cases(), ["session.3.3.*"]))
    assert out.count("cannot reach") == 1 and "stopped after" in out


async def test_resetting_needs_allow_reset():
    rc, out = await _cli("--port", "1", "--include", "session.3.3.login", allow_reset=False)
    assert rc == 2 and len(out.strip().splitlines()) == 1
    assert "reset the target" in out and "--allow-reset" in out and "cannot reach" not in out  # nothing connected


async def test_user_map_overrides_credentials(tmp_path):
    umap = tmp_path / "users.toml"
    umap.write_text('[users]\nparticipant = "CPB02"\n[passwords]\nCPB02 = "wrong-on-purpose"\n')
    async with serving() as gw:
        rc, out = await _cli("--port", str(gw.port), "--include", "session.3.3.login", "--user-map", str(umap))
        assert rc == 1 and "-2001" in out, out
        rc, out = await _cli("--port", str(gw.port), "--include", "session.3.3.login", "--user", "participant=CPC03")
        assert rc == 0, out


def test_a_case_needing_messages_this_runner_does_not_declare_is_skipped():
    from conformance.runner import Config, Runner
    case = parse_file('[[case]]\nid = "certification.5.x"\nrule = "r"\n[[case.step]]\ndo = "send"\nmsg = "ZZ77"\n',
                      "t")[0]
    assert Runner(Config())._skip_reason(case) == "this runner's protocol/ declares no ZZ77"


def test_shipped_cases_lint_clean_and_lint_finds_field_typos():
    from conformance.runner import lint
    assert [p for c in load_cases() for p in lint(c)] == []
    bad = parse_file('[[case]]\nid = "session.3.11.x"\nrule = "r"\n'
                     '[[case.step]]\ndo = "send"\nmsg = "UB1"\nfields = { items = [{ strem = 1 }] }\n'
                     '[[case.step]]\ndo = "operator"\nmsg = "UQ20"\n'
                     '[[case.step]]\ndo = "expect"\ncode = "UA99"\n', "t")[0]
    problems = lint(bad)
    assert len(problems) == 2 and "no field 'strem'" in problems[0] and "UA99" in problems[1]


async def test_a_setup_the_target_refuses_is_an_error():
    async with serving() as gw:
        rc, out = await _cli("--port", str(gw.port), "--include", "session.3.3.login", "--password", "OPER1=wrong-1")
    assert rc == 1 and "ERROR session.3.3.login" in out and "setup failed: operator login as OPER1 failed" in out, out
