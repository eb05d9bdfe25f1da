"""Client certification: the reference back office passes every suite; broken ones fail the right
step with a clear reason. Loopback only, an in-process gateway with short session timings."""
from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from conformance.casefiles import CaseError
from conformance.certify.instructions import cert_text, parse_instruction
from conformance.certify.judge import Certifier, CertifyConfig, _covers
from conformance.certify.scenarios import load_scenarios, parse_file, pick
from conformance.reference_client import ReferenceBackOffice
from conformance.report import to_json, to_junit
from tests.conftest import settings


@pytest.fixture
def gateway_settings():
    return settings(heartbeat_interval=0.5, throttle_per_second=20)


async def certify(port: int, ids: list[str], flaws: set[str] = frozenset(), scale: float = 1.0):
    cases = pick(load_scenarios(), [], ids, [])
    assert cases, ids
    bo = ReferenceBackOffice("127.0.0.1", port, "CPA01", "pass-CPA01", flaws=flaws)
    tasks: list[asyncio.Task] = []
    told: list[str] = []

    def tell(text: str) -> None:  # the person starts the back office when told to log in
        told.append(text)
        if not tasks:
            tasks.append(asyncio.get_running_loop().create_task(bo.run()))

    try:
        cfg = CertifyConfig(port=port, participant="CPA01", login_timeout=10, scale=scale)
        run = await Certifier(cfg, tell).run(cases)
    finally:
        bo.stop()
        for task in tasks:
            with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(task, 3)
            task.cancel()
    return run, told


def only(run, cid: str):
    (r,) = [r for r in run.results if r.case.id == cid]
    return r


async def test_reference_back_office_passes_every_suite(gateway):
    run, told = await certify(gateway.port, [])
    bad = [(r.case.id, r.reason) for r in run.results if r.status != "pass"]
    assert bad == [] and len(run.results) == 16
    assert {r.case.suite for r in run.results} == {"session", "recovery", "posttrade", "money", "throttling"}
    assert "user CPA01" in told[0] and "RELOGIN" in told
    for r in run.results:
        assert all(s.verdict == "passed" for s in r.steps), r.case.id
    doc = to_json(run)
    steps = doc["cases"][0]["steps"]
    assert doc["ok"] and steps[0]["verdict"] == "passed" and steps[0]["deadline"] == 10
    assert doc["cases"][0]["reference"].startswith("docs/guides/certify-your-client.md")


async def test_never_resumes_fails_the_resume_step(gateway):
    run, _ = await certify(gateway.port, ["recovery.1.resume-after-cut"], {"never-resumes"}, scale=0.3)
    r = only(run, "recovery.1.resume-after-cut")
    assert r.status == "fail" and r.failure.step == 8 and r.failure.action == "expect_resume"
    assert "naming no resume point and asked for nothing by UQ20" in r.reason
    assert [s.verdict for s in r.steps][:8] == ["passed"] * 7 + ["failed"]


async def test_ignoring_gaps_fails_the_recovery_step(gateway):
    run, _ = await certify(gateway.port, ["recovery.2.gap"], {"ignores-gaps"}, scale=0.3)
    r = only(run, "recovery.2.gap")
    assert r.status == "fail" and r.failure.action == "expect_recovery"
    assert "did not recover the broadcasts withheld from it (stream trades sequences" in r.reason
    assert "it asked for nothing" in r.reason


async def test_ignoring_give_ups_fails_the_give_up_step_and_the_rest_is_not_tested(gateway):
    run, _ = await certify(gateway.port, ["posttrade.1.give-up"], {"ignores-give-ups"}, scale=0.3)
    r = only(run, "posttrade.1.give-up")
    assert r.status == "fail" and r.failure.step == 5
    assert "no CC38 or CC40 from the client within 3s" in r.reason
    assert [s.verdict for s in r.steps] == ["passed"] * 4 + ["failed", "not tested", "not tested"]
    assert r.steps[5].reason == "step 5 did not pass"
    junit = to_junit(run)
    failure = junit.find(".//testcase/failure")
    assert failure is not None and "no CC38 or CC40" in failure.get("message")
    assert "step 6 counterparty: not tested" in failure.text


async def test_flooding_fails_the_throttle_step(gateway):
    run, _ = await certify(gateway.port, ["throttling.1.paced-burst"], {"floods"}, scale=0.3)
    r = only(run, "throttling.1.paced-burst")
    assert r.status == "fail" and r.failure.action == "expect_paced"
    assert "refused by the throttle" in r.reason and "published 20 requests per second" in r.reason


async def test_a_silent_client_fails_the_heartbeat_step(gateway):
    run, _ = await certify(gateway.port, ["session.2.heartbeats"], {"silent"})
    r = only(run, "session.2.heartbeats")
    assert r.status == "fail" and r.failure.action == "expect_heartbeats"
    assert "it must send a heartbeat (UH1) after 0.5s without sending anything (limit 0.75s)" in r.reason


async def test_a_client_that_never_logs_in_fails_the_first_step(gateway):
    cases = pick(load_scenarios(), [], ["session.1.login-and-subscribe"], [])
    run = await Certifier(CertifyConfig(port=gateway.port, participant="CPA01", login_timeout=0.5)).run(cases)
    r = run.results[0]
    assert r.status == "fail" and "no session of user CPA01 logged in within" in r.reason
    assert [s.verdict for s in r.steps] == ["failed", "not tested"] and r.steps[0].deadline == 0.5


def test_instructions_round_trip_through_clearing_message_lines():
    text = 'EXERCISE series="TCH DEC26 460.00 C" account=SEOCH-HOUSE quantity=5 ' + "items=" + "A:1," * 15 + "B:2"
    lines = cert_text(text)
    assert all(len(line) <= 80 for line in lines) and len(lines) == 2 and lines[1] == "items=" + "A:1," * 15 + "B:2"
    action, params = parse_instruction(lines)
    assert action == "EXERCISE" and params["series"] == "TCH DEC26 460.00 C" and params["quantity"] == "5"
    assert params["items"].endswith("A:1,B:2")
    assert parse_instruction(["Market notice"]) is None


def test_recovery_ranges():
    assert _covers("2:20261123:5-7", 2, 5, 7) and _covers("2:20261123:1-0", 2, 5, 9)
    assert not _covers("2:20261123:6-7", 2, 5, 7) and not _covers("3:20261123:5-7", 2, 5, 7)
    assert not _covers("2:20261123:5-6", 2, 5, 7) and not _covers("", 2, 1, 1)


@pytest.mark.parametrize("text, problem", [
    ('[[case]]\nid = "session.1.x"\nrule = "r"\n[[case.step]]\ndo = "dance"\n', "unknown action 'dance'"),
    ('[[case]]\nid = "session.1.x"\nrule = "r"\n[[case.step]]\ndo = "expect_request"\ncode = "UB1"\n',
     "needs within"),
    ('[[case]]\nid = "session.1.x"\nrule = "r"\n[[case.step]]\ndo = "mark"\nwhat = 1\n', "unknown key(s) what"),
    ('[[case]]\nid = "nosuite.1.x"\nrule = "r"\n[[case.step]]\ndo = "mark"\n', "unknown suite"),
    ('[[case]]\nid = "session.1.x"\n[[case.step]]\ndo = "mark"\n', "rule"),
])
def test_scenario_files_are_checked_when_loaded(text, problem):
    with pytest.raises(CaseError) as e:
        parse_file(text, "t.toml")
    assert problem in str(e.value)


def test_unknown_suite_is_a_usage_error():
    with pytest.raises(CaseError):
        pick(load_scenarios(), ["sessions"], [], [])


def test_cli_starts_a_gateway_and_the_client_and_writes_reports(tmp_path):
    js, xml = tmp_path / "r.json", tmp_path / "r.xml"
    p = subprocess.run(
        [sys.executable, "-m", "conformance", "certify-client", "--participant", "CPA01", "--heartbeat", "0.5",
         "--include", "session.1*", "--include", "recovery.2*", "--login-timeout", "20",
         "--client-command", "{python} -m conformance.reference_client --port {port} --user {user} --password {password}",
         "--json", str(js), "--junit", str(xml)], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "started a gateway on 127.0.0.1:" in p.stdout and "as CPA01 (password 'pass-CPA01')" in p.stdout
    assert "PASS: 2 passed" in p.stdout
    doc = json.loads(js.read_text())
    assert [c["id"] for c in doc["cases"]] == ["session.1.login-and-subscribe", "recovery.2.gap"]
    assert ET.parse(xml).getroot().get("tests") == "2"
    bad = subprocess.run([sys.executable, "-m", "conformance", "certify-client", "--participant", "CPA01",
                          "--suite", "nosuch"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "unknown suite" in bad.stderr


async def test_a_client_logged_in_before_the_certification_is_judged_from_then_on(gateway):
    bo = ReferenceBackOffice("127.0.0.1", gateway.port, "CPA01", "pass-CPA01")
    task = asyncio.create_task(bo.run())
    try:
        for _ in range(100):
            if bo.client is not None and bo.client.connected and bo.ref.house:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.2)  # subscribed too
        cases = pick(load_scenarios(), [], ["session.2.heartbeats", "recovery.2.gap"], [])
        run = await Certifier(CertifyConfig(port=gateway.port, participant="CPA01", login_timeout=5)).run(cases)
        assert [(r.case.id, r.status) for r in run.results] == [("session.2.heartbeats", "pass"),
                                                                ("recovery.2.gap", "pass")], [r.reason for r in run.results]
    finally:
        bo.stop()
        with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(task, 3)


def test_shipped_scenarios_name_declared_messages_and_fields():
    import protocol.messages  # noqa: F401 - registers every declaration
    from protocol.registry import BY_CODE
    for case in load_scenarios():
        for i, step in enumerate(case.steps, 1):
            if step["do"] in ("operator", "counterparty"):
                spec = BY_CODE.get(step["msg"])
                assert spec is not None, (case.id, i, step["msg"])
                names = {f.name for f in spec.record.fields}
                assert set(step.get("fields", {})) <= names, (case.id, i, set(step["fields"]) - names)
            if step["do"] in ("expect_request", "expect_paced", "expect_no_request") and "code" in step:
                codes = [step["code"]] if isinstance(step["code"], str) else step["code"]
                assert all(c in BY_CODE for c in codes), (case.id, i, codes)
