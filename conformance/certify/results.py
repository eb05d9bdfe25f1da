"""Verdicts: of each step (passed, failed, not tested) and of each scenario, for the reports."""
from __future__ import annotations

from dataclasses import dataclass, field

from ..runner import CaseResult

PASSED, FAILED, NOT_TESTED = "passed", "failed", "not tested"


@dataclass
class StepResult:
    number: int
    action: str
    note: str
    verdict: str = NOT_TESTED
    reason: str = ""
    deadline: float | None = None
    elapsed: float = 0.0
    transcript: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"step": self.number, "action": self.action, "note": self.note, "verdict": self.verdict,
                "reason": self.reason, "deadline": self.deadline, "elapsed": round(self.elapsed, 3),
                "transcript": self.transcript}

    def line(self) -> str:
        dl = f" of {self.deadline:g}s" if self.deadline is not None else ""
        head = f"step {self.number} {self.action}{' (' + self.note + ')' if self.note else ''}: {self.verdict}"
        if self.verdict != NOT_TESTED:
            head += f" ({self.elapsed:.2f}s{dl})"
        return head + (f" - {self.reason}" if self.reason else "")


@dataclass
class ScenarioResult(CaseResult):
    steps: list[StepResult] = field(default_factory=list)

    def to_dict(self) -> dict:
        d = super().to_dict()
        d["verdict"] = {"pass": PASSED, "fail": FAILED, "skip": NOT_TESTED, "error": "error"}[self.status]
        d["steps"] = [s.to_dict() for s in self.steps]
        d["reference"] = self.case.reference
        return d
