"""The gateway's modules and their narrow interfaces: handlers see ``GatewayServices`` only, the
journal a ``JournalHost``, and the journal's command-line tool stays below the server."""
from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path

from gateway.handlers import GatewayServices, RequestContext
from gateway.journal.host import JournalHost, LiveJournalHost
from gateway.journal.replica import Replica
from gateway.server import Gateway
from tests.conftest import settings

ROOT = Path(__file__).resolve().parents[2]


def _methods(protocol: type) -> set[str]:
    return {n for n, v in vars(protocol).items() if not n.startswith("_") and (callable(v) or isinstance(v, property))}


def test_the_gateway_provides_what_handlers_and_journal_ask_for():
    gw = Gateway(settings())
    for proto in (GatewayServices, JournalHost, LiveJournalHost):
        for name in _methods(proto) | set(getattr(proto, "__annotations__", {})):
            assert hasattr(gw, name), f"Gateway lacks {proto.__name__}.{name}"
    replica = Replica(settings())
    for name in _methods(JournalHost) | set(JournalHost.__annotations__):
        assert hasattr(replica, name), f"Replica lacks JournalHost.{name}"
    assert replica.core.state_hash() == gw.core.state_hash()  # the same state from the same settings


def test_a_request_context_exposes_no_core_and_no_untyped_gateway():
    fields = inspect.signature(RequestContext).parameters
    assert fields["services"].annotation in ("GatewayServices", GatewayServices)
    assert not hasattr(RequestContext, "core") and "gateway" not in fields


def test_handlers_do_not_read_the_core_directly():
    for path in (ROOT / "gateway" / "handlers").glob("*.py"):
        text = path.read_text()
        assert "ctx.core" not in text and "ctx.gateway" not in text, path.name


def test_the_journal_tool_imports_neither_the_server_nor_the_sdk(tmp_path):
    code = ("import sys; from gateway.journal.__main__ import main; "
            f"rc = main(['replay', {str(tmp_path / 'missing')!r}]); "
            "bad = [m for m in ('gateway.server', 'gateway.connection', 'clients', 'clients.sdk') if m in sys.modules]; "
            "print(rc, bad)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.stdout.strip().splitlines()[-1] == "2 []", out.stdout + out.stderr
    assert "no journal there" in out.stderr
