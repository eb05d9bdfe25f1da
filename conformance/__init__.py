"""Black-box conformance runner for the OAPI-style protocol of docs/protocol.md.

``python -m conformance --host H --port P`` runs the cases (TOML scripts under
``conformance/cases/``) against whatever listens there. It uses ``protocol/`` only and never
imports the gateway. See docs/guides/conformance.md.
"""
from __future__ import annotations

from .casefiles import Case, CaseError, load_cases, select
from .runner import Config, RunResult, Runner

__all__ = ["Case", "CaseError", "Config", "RunResult", "Runner", "load_cases", "select"]
