"""The benchmark DCASS reference data: generated from the shipped data and the benchmark
participant list, current, and matched by a back-office user per participant."""
from __future__ import annotations

from benchmarks import refdata, users
from gateway.refdata import load_dcass_reference
from gateway.config import Settings


def test_committed_reference_file_is_current_and_loads():
    ids = [users.participant_id(i) for i in range(1, users.PARTICIPANTS + 1)]
    assert refdata.DEFAULT.read_text() == refdata.render(ids), "stale: run python -m benchmarks.users"
    ref, digest = load_dcass_reference(refdata.DEFAULT)
    assert sorted(ref.participants) == ids
    assert all(p.clearing_houses == ("HKCC", "SEOCH") for p in ref.participants.values())
    shipped = load_dcass_reference(refdata.DEFAULT.parents[2] / "gateway/clearing/data/dcass/reference.toml")[0]
    assert ref.series.keys() == shipped.series.keys() and ref.classes.keys() == shipped.classes.keys()


def test_every_benchmark_participant_has_a_back_office_and_the_gateway_uses_the_file():
    u = users.load()
    back_offices = {p for _, _, p in u["dcass"]}
    assert {users.participant_id(i) for i in range(1, users.PARTICIPANTS + 1)} <= back_offices
    s = Settings.load(refdata.DEFAULT.parent / "gateway.toml")
    assert s.dcass_reference == "benchmarks/data/dcass_reference_200.toml"
