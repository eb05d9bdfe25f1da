"""Batch boundaries in the journal: a replay rebuilds the same state and the same broadcasts as the
batched live run, and a crash between a batch's commands and its end (its derived events never
computed, its ``batch`` record never written) recovers to the state of an uninterrupted run."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

from gateway.clearing.collateral.messages import DepositCash, WithdrawCash
from gateway.clearing.dcass import InjectDeal
from gateway.clearing.errors import ClearingError
from gateway.handlers import RequestContext
from gateway.journal.format import Reader
from gateway.server import Gateway
from tests.conftest import settings


def make(path: Path | None) -> Gateway:
    if path is None:
        return Gateway(settings())
    return Gateway(settings(journal_path=str(path), snapshot_every=0))


def op(gw: Gateway) -> RequestContext:
    return RequestContext(gw, "OPER1", None, True, "operator", gw.now())


def cp(gw: Gateway, who: str) -> RequestContext:
    return RequestContext(gw, who, who, False, "participant", gw.now())


def state(gw: Gateway):
    return (gw.core.state_hash(),
            {k: [e.frame for e in lg.entries] for k, lg in gw.streams.logs.items()})


def key(gw: Gateway, name: str) -> bytes:
    return gw.core.module("dcass").ref.by_name[name].key


def batch_commands(gw: Gateway, i: int) -> list:
    """Deals both ways (the requirement rises, falls, changes sign), a deposit and a withdrawal
    that the requirement left by the deals before it decides."""
    k = key(gw, "HSI NOV26")
    return [
        (op, InjectDeal(k, 25_000 + i, 3, "CPA01", "CPB02", "HKCC-HOUSE", "HKCC-HOUSE")),
        (op, InjectDeal(k, 25_010 + i, 2, "CPB02", "CPA01", "HKCC-HOUSE", "HKCC-CLIENT01")),
        (lambda g: cp(g, "CPA01"), DepositCash("HKCC", "HOUSE", "HKD", 20_000_00)),
        (op, InjectDeal(key(gw, "HSI NOV26 25000 C"), 300 + i, 4, "CPB02", "CPA01", "", "HKCC-HOUSE")),
        (lambda g: cp(g, "CPA01"), WithdrawCash("HKCC", "HOUSE", "HKD", 1_500_000_00)),
    ]


def run_commands(gw: Gateway, i: int) -> list[str]:
    """The commands of batch ``i`` one after another; the names of the errors of those refused
    (a withdrawal beyond the excess is refused, and journaled, as live)."""
    refused = []
    for ctx, cmd in batch_commands(gw, i):
        try:
            gw.execute(cmd, ctx(gw))
        except ClearingError as e:
            refused.append(e.error.name)
    return refused


def run_batch(gw: Gateway, i: int, end: bool = True) -> list[str]:
    gw.begin_batch()
    refused = run_commands(gw, i)
    if end:
        gw.end_batch()
    return refused


def setup(gw: Gateway) -> None:
    gw.execute(DepositCash("HKCC", "HOUSE", "HKD", 2_000_000_00, "CPA01"), op(gw))
    gw.execute(DepositCash("HKCC", "HOUSE", "HKD", 2_000_000_00, "CPB02"), op(gw))


def test_replay_keeps_the_batches_of_the_live_run(tmp_path):
    path = tmp_path / "j"
    gw = make(path)
    setup(gw)
    for i in range(4):
        run_batch(gw, i)
    live = state(gw)
    gw.journal.close()
    with Reader(path) as r:
        payloads = [rec.payload for rec in r.records()]
    assert [p["k"] for p in payloads].count("batch") == 4
    assert sum(1 for p in payloads if p.get("b")) == 20
    assert not any(p.get("b") for p in payloads[:3])     # the setup ran outside any batch
    gw2 = make(path)
    assert state(gw2) == live
    assert gw2.core.in_batch is False
    gw2.core.verify()
    gw2.journal.close()


def test_batches_differ_from_commands_one_by_one_only_in_what_was_told():
    """Batched: fewer MarginChanged broadcasts than one by one, the same final requirements."""
    batched, alone = make(None), make(None)
    setup(batched)
    setup(alone)
    for i in range(3):
        assert run_batch(batched, i) == run_commands(alone, i)   # the same commands refused
    d1, d2 = batched.core.module("dcass"), alone.core.module("dcass")
    for pa in d1.accounts:
        assert {c: v for c, v in d1.margins.get(pa, {}).items() if v} == \
               {c: v for c, v in d2.margins.get(pa, {}).items() if v}
    margin_frames = lambda gw: sum(1 for (s, o), lg in gw.streams.logs.items() for e in lg.entries  # noqa: E731
                                   if e.code == "BD101")
    assert 0 < margin_frames(batched) < margin_frames(alone)


def test_a_crash_inside_a_batch_recovers_as_the_uninterrupted_run(tmp_path):
    """SIGKILL after the batch's commands were journaled, before its end: the recovery closes the
    batch where the journal ends, with the state and the broadcasts of a run that was not killed."""
    path = tmp_path / "j"
    gw = make(path)
    setup(gw)
    run_batch(gw, 0)
    run_batch(gw, 1, end=False)    # killed here: commands journaled, derived events never computed
    crashed = tmp_path / "crashed"
    shutil.copyfile(path, crashed)  # the journal as the killed process left it
    os.sync()
    gw.end_batch()                  # the same process, not killed: the batch ends
    uninterrupted = state(gw)
    gw.journal.close()
    with Reader(crashed) as r:
        kinds = [rec.kind for rec in r.records()]
    assert kinds[-1] == "cmd" and kinds.count("batch") == 1
    recovered = make(crashed)
    assert state(recovered) == uninterrupted
    recovered.core.verify()
    # and it carries on as the uninterrupted one does
    run_batch(recovered, 2)
    gw2 = make(path)
    run_batch(gw2, 2)
    assert state(recovered) == state(gw2)
    recovered.journal.close()
    gw2.journal.close()
