"""Reports: a console progress line and summary, JUnit XML, JSON."""
from __future__ import annotations

import json
import sys
import time
import xml.etree.ElementTree as ET
from typing import TextIO

from .casefiles import Case
from .runner import CaseResult, RunResult

MARK = {"pass": "PASS", "fail": "FAIL", "skip": "SKIP", "error": "ERROR"}


class Console:
    """One progress line per case (rewritten in place on a terminal), then a summary."""

    def __init__(self, out: TextIO = sys.stdout, verbose: bool = False, quiet: bool = False):
        self.out = out
        self.verbose = verbose
        self.quiet = quiet
        self.tty = hasattr(out, "isatty") and out.isatty()
        self.counts = {"pass": 0, "fail": 0, "skip": 0, "error": 0}

    def progress(self, n: int, total: int, result: CaseResult | None, case: Case) -> None:
        if self.quiet:
            return
        width = len(str(total))
        tally = f"{self.counts['pass']} pass, {self.counts['fail']} fail, {self.counts['error']} error, " \
                f"{self.counts['skip']} skip"
        if result is None:
            if self.tty:
                self.out.write(f"\r\033[K[{n:>{width}}/{total}] {case.id} ... ({tally})")
                self.out.flush()
            return
        self.counts[result.status] += 1
        line = f"[{n:>{width}}/{total}] {MARK[result.status]:<5} {case.id} ({result.duration:.2f}s)"
        if result.status == "skip":
            line += f" - {result.reason}"
        elif result.status in ("fail", "error"):
            line += f" - {result.reason}"
        if self.tty:
            self.out.write("\r\033[K")
        self.out.write(line + "\n")
        if self.verbose and result.transcript:
            for t in result.transcript:
                self.out.write(f"      {t}\n")
        self.out.flush()

    def summary(self, run: RunResult) -> None:
        c = run.counts()
        w = self.out
        failed = [r for r in run.results if r.status in ("fail", "error")]
        if failed:
            w.write("\nFailures\n========\n")
            for r in failed:
                w.write(f"\n{MARK[r.status]} {r.case.id}: {r.case.rule}\n")
                w.write(f"  {r.case.where()}; case file {r.case.source}\n")
                if r.failure:
                    for line in r.failure.text().splitlines():
                        w.write(f"  {line}\n")
                if r.transcript:
                    w.write("  transcript (last steps):\n")
                    for t in r.transcript[-8:]:
                        w.write(f"    {t}\n")
        skipped = {}
        for r in run.results:
            if r.status == "skip":
                skipped.setdefault(r.reason, []).append(r.case.id)
        if skipped and not self.quiet:
            w.write("\nSkipped\n")
            for reason, ids in skipped.items():
                w.write(f"  {reason}: {', '.join(ids)}\n")
        verdict = "PASS" if run.ok else "FAIL"
        w.write(f"\n{verdict}: {c['pass']} passed, {c['fail']} failed, {c['error']} errors, {c['skip']} skipped "
                f"of {c['total']} cases against {run.target} in {run.duration:.1f}s"
                f"{' (strict)' if run.strict else ''}\n")
        w.flush()


def list_cases(cases: list[Case], out: TextIO = sys.stdout) -> None:
    width = max((len(c.id) for c in cases), default=10)
    for c in cases:
        flags = []
        if c.recommendation:
            flags.append("strict")
        flags += c.tags
        tag = f" [{', '.join(flags)}]" if flags else ""
        out.write(f"{c.id:<{width}}  {c.rule}{tag}\n")
    out.write(f"\n{len(cases)} case(s)\n")


def to_json(run: RunResult) -> dict:
    return {
        "target": run.target,
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(run.started)),
        "duration": round(run.duration, 3),
        "strict": run.strict,
        "summary": run.counts(),
        "ok": run.ok,
        "stopped": run.stopped,
        "server": run.info,
        "cases": [r.to_dict() for r in run.results],
    }


def write_json(run: RunResult, path: str) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(to_json(run), f, indent=2, default=str)
        f.write("\n")


def to_junit(run: RunResult) -> ET.Element:
    suites = ET.Element("testsuites", name="hkpost-conformance", tests=str(len(run.results)),
                        failures=str(run.counts()["fail"]), errors=str(run.counts()["error"]),
                        skipped=str(run.counts()["skip"]), time=f"{run.duration:.3f}")
    by_suite: dict[str, list[CaseResult]] = {}
    for r in run.results:
        by_suite.setdefault(r.case.suite, []).append(r)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(run.started))
    for name, results in by_suite.items():
        counts = {"fail": 0, "error": 0, "skip": 0}
        for r in results:
            if r.status in counts:
                counts[r.status] += 1
        s = ET.SubElement(suites, "testsuite", name=name, tests=str(len(results)), failures=str(counts["fail"]),
                          errors=str(counts["error"]), skipped=str(counts["skip"]), timestamp=stamp,
                          hostname=run.target, time=f"{sum(r.duration for r in results):.3f}")
        for r in results:
            tc = ET.SubElement(s, "testcase", classname=f"conformance.{name}", name=r.case.id,
                               time=f"{r.duration:.3f}")
            props = ET.SubElement(tc, "properties")
            ET.SubElement(props, "property", name="rule", value=r.case.rule)
            ET.SubElement(props, "property", name="section", value=r.case.section)
            ET.SubElement(props, "property", name="source", value=r.case.source)
            if r.status == "skip":
                ET.SubElement(tc, "skipped", message=r.reason)
            elif r.status in ("fail", "error"):
                el = ET.SubElement(tc, "failure" if r.status == "fail" else "error", message=r.reason[:500])
                body = [f"rule: {r.case.rule}", r.case.where()]
                if r.failure:
                    body.append(r.failure.text())
                if r.transcript:
                    body.append("transcript:")
                    body += [f"  {t}" for t in r.transcript]
                el.text = "\n".join(body)
    return suites


def write_junit(run: RunResult, path: str) -> None:
    tree = ET.ElementTree(to_junit(run))
    ET.indent(tree)
    tree.write(path, encoding="utf-8", xml_declaration=True)
