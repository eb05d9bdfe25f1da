"""The ``dcass_reference`` setting: a gateway started with a reference data file of its own (3
participants that exist only there) serves them end to end: login, deal injection, positions,
margin and CCMS; a file the gateway cannot use stops the start, naming the file and the problem."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.refdata import render
from clients import RequestRejected
from gateway.auth import hash_password
from gateway.refdata import ReferenceDataError, module_factories
from gateway.server import Gateway
from protocol.messages import collateral as cm
from protocol.messages import dcass as m
from protocol.streams import Stream
from tests.conftest import settings

from .test_dcass_trade_information import deal, next_of, series

ROOT = Path(__file__).resolve().parents[2]
PARTICIPANTS = ["RDA01", "RDB02", "RDC03"]


def write_files(d: Path, participants=PARTICIPANTS) -> tuple[Path, Path]:
    """A reference data file (the shipped classes and series, these participants) and a users file
    (an operator and one user per participant; passwords 'pass-' + user)."""
    ref = d / "reference.toml"
    ref.write_text(render(list(participants)))
    lines = []
    for name, role, part in [("OPER1", "operator", "")] + [(p, "participant", p) for p in participants]:
        lines += [f"[users.{name}]", f'role = "{role}"'] + ([f'participant = "{part}"'] if part else []) + [
            f'password_hash = "{hash_password("pass-" + name, n=2**10)}"', ""]
    users = d / "users.toml"
    users.write_text("\n".join(lines))
    return ref, users


@pytest.fixture
def gateway_settings(tmp_path):
    ref, users = write_files(tmp_path)
    return settings(dcass_reference=str(ref), users_file=str(users))


async def test_participant_only_in_the_file_clears_a_deal(gateway, connect, operator):
    parts = (await operator.query(m.ParticipantsQuery())).items
    assert [(p.participant, p.hkcc, p.seoch) for p in parts] == [(p, True, True) for p in PARTICIPANTS]
    a = await connect("RDA01")
    await a.subscribe(Stream.TRADES)
    await a.subscribe(Stream.CLEARING)
    key = await series(a, "HSI DEC26")
    booked = await deal(operator, key, 25000, 2, "RDA01", "RDB02", "HKCC-HOUSE", "HKCC-CLIENT01")
    assert len(booked.trades) == 2
    t = (await next_of(a, "BD6")).trade
    assert (t.side, t.quantity, t.account_id, t.series_symbol) == (m.Side.BUY, 2, "HKCC-HOUSE", "HSI DEC26")
    rows = (await a.query(m.PositionsQuery())).items
    assert [(p.account_id, p.series_symbol, p.long, p.short) for p in rows] == [("HKCC-HOUSE", "HSI DEC26", 2, 0)]
    # 2 contracts x 25,000 x 10% scanning range x HKD 50 = HKD 250,000.00
    margins = {x.account_id: x.requirement for x in (await a.query(m.MarginQuery())).items}
    assert margins["HKCC-HOUSE"] == 25_000_000

    # CCMS knows the file's participants through DCASS: the account with margin maps, its margin is covered
    mapping = (await a.query(cm.AccountMappingQuery(clearing_house="HKCC"))).items
    mapped = {x.dcass_account: x.account for x in mapping}
    assert "HKCC-HOUSE" in mapped
    cov = await a.query(cm.CoverageQuery(clearing_house="HKCC", account=mapped["HKCC-HOUSE"]))
    assert [(x.currency, x.requirement, x.shortfall) for x in cov.items] == [("HKD", 25_000_000, 25_000_000)]
    await a.transact(cm.MapDcassAccountRequest(dcass_account="SEOCH-CLIENT01", account="CLIENT"))
    mapping = (await a.query(cm.AccountMappingQuery(clearing_house="SEOCH"))).items
    assert ("SEOCH-CLIENT01", "CLIENT", True) in [(x.dcass_account, x.account, x.explicit) for x in mapping]
    with pytest.raises(RequestRejected):   # not one of its DCASS accounts
        await a.transact(cm.MapDcassAccountRequest(dcass_account="SEOCH-MM", account="MM"))

    # the shipped demo participants are not there
    with pytest.raises(RequestRejected):
        await deal(operator, key, 25000, 1, "CPA01", "RDB02")
    with pytest.raises(RequestRejected):
        await a.query(m.PositionsQuery(participant="RDB02"))


def _bad(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def test_unusable_files_are_refused_naming_file_and_problem(tmp_path):
    good = render(PARTICIPANTS)
    cases = {
        tmp_path / "missing.toml": "cannot read it",
        _bad(tmp_path, "syntax.toml", "participants = [\n"): "not valid TOML",
        _bad(tmp_path, "empty.toml", 'country = 1\n'): "no [[participants]]",
        _bad(tmp_path, "dup.toml", good + good[good.index("[[participants]]"):]): "RDA01 is declared twice",
        _bad(tmp_path, "house.toml", good.replace('clearing_houses = ["HKCC", "SEOCH"]',
                                                  'clearing_houses = ["HKCC", "SGX"]', 1)): "unknown clearing house 'SGX'",
        _bad(tmp_path, "noclasses.toml", good.replace("[[classes]]", "[[klasses]]")): "missing or unknown key 'classes'",
        _bad(tmp_path, "long.toml", good.replace('id = "RDA01"', 'id = "RDA01XXXXX"')): "1 to 8 ASCII characters",
    }
    for path, problem in cases.items():
        with pytest.raises(ReferenceDataError) as e:
            Gateway(settings(dcass_reference=str(path)))
        assert str(path) in str(e.value) and problem in str(e.value), (path, str(e.value))


def test_shipped_data_in_a_file_is_the_shipped_data(tmp_path):
    from importlib import resources
    shipped = resources.files("gateway.clearing").joinpath("data/dcass/reference.toml").read_text()
    p = _bad(tmp_path, "copy.toml", "# a copy with another comment\n" + shipped)
    f = module_factories(settings(dcass_reference=str(p)))[0]
    assert f.reference is None and f.journal_identity == {}
    f = module_factories(settings(dcass_reference=str(write_files(tmp_path)[0])))[0]
    assert sorted(f.reference.participants) == PARTICIPANTS
    assert f.journal_identity["dcass_reference"]["digest"] == f.digest and len(f.digest) == 64


def test_command_line_and_config_file(tmp_path):
    from gateway.config import Settings
    ref, _ = write_files(tmp_path)
    cfg = _bad(tmp_path, "gw.toml", f'[gateway]\ndcass_reference = "{ref}"\n')
    assert Settings.load(cfg).dcass_reference == str(ref)
    bad = _bad(tmp_path, "bad.toml", "participants = [\n")
    p = subprocess.run([sys.executable, "-m", "gateway", "--port", "0", "--config", str(cfg), "--dcass-reference",
                        str(bad), "--log-format", "console"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert p.returncode == 2, p.stderr[-2000:]
    assert f"hkpost-gateway: DCASS reference data {bad}: not valid TOML" in p.stderr
