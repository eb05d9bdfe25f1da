"""A journal written by a gateway with a DCASS reference data file (setting ``dcass_reference``):
it restarts with the same data (from the journal or its snapshot) and is refused, clearly, by a
gateway with other data (another file, or the shipped data), and vice versa."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.refdata import render
from gateway.clearing.dcass.commands import InjectDeal
from gateway.handlers import RequestContext
from gateway.journal import JournalError
from gateway.journal import snapshot as snap
from gateway.journal.format import Reader
from gateway.server import Gateway
from tests.conftest import settings

ROOT = Path(__file__).resolve().parents[2]


def ref_file(d: Path, name: str, participants: list[str]) -> Path:
    p = d / name
    p.write_text(render(participants))
    return p


def make(path: Path, ref: Path | None, **kw) -> Gateway:
    kw.setdefault("snapshot_every", 0)
    return Gateway(settings(journal_path=str(path), dcass_reference=str(ref) if ref else "", **kw))


def op(gw: Gateway) -> RequestContext:
    return RequestContext(gw, "OPER1", None, True, "operator", gw.now())


def trade(gw: Gateway, buyer: str, seller: str, qty: int = 1) -> None:
    key = gw.core.module("dcass").ref.series_named("HSI DEC26").key
    gw.execute(InjectDeal(key, 25000, qty, buyer, seller, "HKCC-HOUSE", "HKCC-HOUSE"), op(gw))


def positions(gw: Gateway) -> dict:
    return {k[:2]: (p.long, p.short) for k, p in gw.core.module("dcass").positions.items()}


def test_restart_with_the_same_file_rebuilds_the_state(tmp_path):
    ref = ref_file(tmp_path, "ref.toml", ["RJA01", "RJB02", "RJC03"])
    path = tmp_path / "j"
    gw = make(path, ref)
    trade(gw, "RJA01", "RJB02", 3)
    trade(gw, "RJC03", "RJA01", 1)
    before, held = gw.core.state_hash(), positions(gw)
    assert held == {("RJA01", "HKCC-HOUSE"): (2, 0), ("RJB02", "HKCC-HOUSE"): (0, 3), ("RJC03", "HKCC-HOUSE"): (1, 0)}
    gw.journal.close()
    with Reader(path) as r:
        head = next(r.records()).payload
    assert head["data"]["dcass_reference"]["source"] == str(ref.resolve())
    assert len(head["data"]["dcass_reference"]["digest"]) == 64

    gw2 = make(path, ref)
    assert gw2.core.state_hash() == before
    assert positions(gw2) == held
    trade(gw2, "RJB02", "RJC03")   # and it goes on
    after = positions(gw2)
    gw2.journal.close()

    # the same data under another path (a copy) is the same data
    copy = tmp_path / "copy.toml"
    copy.write_text(ref.read_text())
    gw3 = make(path, copy)
    assert positions(gw3) == after != held
    gw3.journal.close()


def test_restart_from_a_snapshot_with_the_same_file(tmp_path):
    ref = ref_file(tmp_path, "ref.toml", ["RJA01", "RJB02"])
    path = tmp_path / "j"
    gw = make(path, ref, snapshot_every=1000)
    trade(gw, "RJA01", "RJB02", 2)
    before = gw.core.state_hash()
    gw.journal.close()   # a final snapshot
    body = snap.read(snap.snapshot_path(path))
    assert body["data"]["dcass_reference"]["digest"] == make_digest(ref)
    gw2 = make(path, ref, snapshot_every=1000)
    assert gw2.core.state_hash() == before and gw2.journal.snapshot_seq == body["seq"]
    assert sorted(gw2.core.module("dcass").ref.participants) == ["RJA01", "RJB02"]
    gw2.journal.close()


def make_digest(ref: Path) -> str:
    from gateway.refdata import load_dcass_reference
    return load_dcass_reference(ref)[1]


def test_other_data_is_refused(tmp_path):
    ref = ref_file(tmp_path, "ref.toml", ["RJA01", "RJB02"])
    other = ref_file(tmp_path, "other.toml", ["RJA01", "RJB02", "RJC03"])
    path = tmp_path / "j"
    gw = make(path, ref)
    trade(gw, "RJA01", "RJB02")
    gw.journal.close()
    for wrong, named in ((other, str(other.resolve())), (None, "the shipped data")):
        with pytest.raises(JournalError) as e:
            make(path, wrong)
        msg = str(e.value)
        assert "other reference data" in msg and str(ref.resolve()) in msg and named in msg, msg
        assert "dcass_reference" in msg
    make(path, ref).journal.close()   # the refusals changed nothing

    shipped = tmp_path / "shipped.j"   # a journal of the shipped data refuses a file
    make(shipped, None).journal.close()
    with pytest.raises(JournalError) as e:
        make(shipped, ref)
    assert "the shipped data" in str(e.value) and str(ref.resolve()) in str(e.value)


def test_journal_tool_replays_with_the_file(tmp_path):
    ref = ref_file(tmp_path, "ref.toml", ["RJA01", "RJB02"])
    path = tmp_path / "j"
    gw = make(path, ref)
    trade(gw, "RJA01", "RJB02", 5)
    want = gw.core.state_hash()
    gw.journal.close()
    tool = [sys.executable, "-m", "gateway.journal", "replay", str(path), "--json"]
    p = subprocess.run(tool + ["--dcass-reference", str(ref)], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["state_hash"] == want
    p = subprocess.run(tool, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert p.returncode == 2 and "other reference data" in p.stderr
    p = subprocess.run([sys.executable, "-m", "gateway.journal", "print", str(path), "--count", "1"], cwd=ROOT,
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0 and f"dcass_reference {ref.resolve()} digest" in p.stdout
