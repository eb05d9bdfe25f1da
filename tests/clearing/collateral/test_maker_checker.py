"""The maker-checker part of the collateral core (module "maker_checker"), at unit level: entry,
authorisation by another user only, rules at authorisation, rejection, expiry at end of day, the
same state from the same commands, and journaling of the nested withdrawal command."""
from __future__ import annotations

from datetime import datetime

import pytest

from gateway.clearing.collateral import DepositCash, HoldingsQuery, TransferCollateral, WithdrawCash, WithdrawSecurities
from gateway.clearing.collateral import authorisation as a
from gateway.clearing.core import ClearingCore, Context, EndOfDay
from gateway.clearing.errors import ClearingError
from gateway.refdata import module_factories
from gateway.journal.codec import from_plain, to_plain

T0 = datetime(2026, 11, 23, 9, 0)


def ctx(user: str, participant: str | None = "CPC03", now: datetime = T0) -> Context:
    return Context(now, participant, user, participant is None)


def core_with_cash(amount: int = 1_000) -> ClearingCore:
    core = ClearingCore(T0, module_factories=module_factories())
    core.execute(DepositCash("HKCC", "HOUSE", "HKD", amount), ctx("CPC03"))
    return core


def held(core, participant="CPC03") -> int:
    rows = core.query(HoldingsQuery("HKCC", "HOUSE"), ctx("CPC03", participant))
    return sum(r.quantity for r in rows.holdings if r.asset == "HKD")


def test_entry_waits_and_only_another_user_of_the_participant_decides():
    core = core_with_cash()
    out = core.execute(a.EnterWithdrawal(WithdrawCash("HKCC", "HOUSE", "HKD", 400)), ctx("CPC03"))
    info = out.reply
    assert (info.pending_id, info.state, info.maker, info.asset_class) == (1, "PENDING", "CPC03", "CASH")
    assert [type(e).__name__ for e in out.events] == ["WithdrawalAuthorisationChanged"]
    assert held(core) == 1_000
    with pytest.raises(ClearingError) as e:
        core.execute(a.AuthoriseWithdrawal(1), ctx("CPC03"))
    assert e.value.error is a.OWN_ENTRY and e.value.field == "pending_id"
    with pytest.raises(ClearingError) as e:
        core.execute(a.AuthoriseWithdrawal(1), ctx("CPA01", "CPA01"))
    assert e.value.error is a.PENDING_NOT_FOUND
    done = core.execute(a.AuthoriseWithdrawal(1), ctx("CPC03B"))
    assert done.reply.instruction_id and held(core) == 600
    rows = core.query(a.PendingWithdrawalsQuery(), ctx("CPC03"))
    assert [(r.state, r.checker, r.instruction_id) for r in rows] == [("AUTHORISED", "CPC03B", done.reply.instruction_id)]
    with pytest.raises(ClearingError) as e:
        core.execute(a.RejectWithdrawal(1, "x"), ctx("CPC03B"))
    assert e.value.error is a.ALREADY_DECIDED


def test_rules_apply_at_authorisation_and_a_refusal_leaves_it_pending():
    core = core_with_cash(100)
    core.execute(a.EnterWithdrawal(WithdrawCash("HKCC", "HOUSE", "HKD", 100)), ctx("CPC03"))
    core.execute(a.EnterWithdrawal(WithdrawCash("HKCC", "HOUSE", "HKD", 100)), ctx("CPC03"))
    core.execute(a.AuthoriseWithdrawal(1), ctx("CPC03B"))
    before = core.state_hash()
    with pytest.raises(ClearingError) as e:  # the exact edge: 100 held, 100 withdrawn, 100 more asked
        core.execute(a.AuthoriseWithdrawal(2), ctx("CPC03B"))
    assert e.value.error.name == "CCMS_INSUFFICIENT_HOLDING"
    assert core.state_hash() == before
    assert [r.state for r in core.query(a.PendingWithdrawalsQuery(only_pending=True), ctx("CPC03"))] == ["PENDING"]


def test_invalid_entries_are_refused_at_once():
    core = core_with_cash()
    for cmd, field in [(WithdrawCash("HKCC", "HOUSE", "HKD", 0), "amount"),
                       (WithdrawCash("HKCC", "NOPE", "HKD", 1), "account"),
                       (WithdrawSecurities("HKCC", "HOUSE", "NOT-A-BOND", 1), "instrument")]:
        with pytest.raises(ClearingError) as e:
            core.execute(a.EnterWithdrawal(cmd), ctx("CPC03"))
        assert (e.value.error, e.value.field) == (a.ENTRY_INVALID, field)
    with pytest.raises(ClearingError):
        core.execute(a.EnterWithdrawal(WithdrawCash("HKCC", "HOUSE", "HKD", 1)), ctx("OPER1", None))
    assert core.query(a.PendingWithdrawalsQuery(), ctx("OPER1", None)) == []


def test_expiry_at_end_of_day_and_determinism():
    def play() -> ClearingCore:
        core = core_with_cash()
        core.execute(a.EnterWithdrawal(WithdrawCash("HKCC", "HOUSE", "HKD", 10)), ctx("CPC03"))
        core.execute(a.EnterWithdrawal(WithdrawCash("HKCC", "HOUSE", "HKD", 20)), ctx("CPC03"))
        core.execute(a.RejectWithdrawal(2, "wrong amount"), ctx("CPC03B"))
        return core
    one, two = play(), play()
    assert one.state_hash() == two.state_hash()
    out = one.execute(EndOfDay(), ctx("OPER1", None, datetime(2026, 11, 23, 20, 0)))
    expired = [e.withdrawal for e in out.events if isinstance(e, a.WithdrawalAuthorisationChanged)]
    assert [(w.pending_id, w.state, w.reason) for w in expired] == [(1, "REJECTED", a.EXPIRED_REASON)]
    assert one.query(a.PendingWithdrawalsQuery(), ctx("CPC03")) == []  # a new business date


def test_the_nested_withdrawal_is_journaled():
    cmd = a.EnterWithdrawal(WithdrawSecurities("HKCC", "HOUSE", "700", 5, True))
    assert from_plain(to_plain(cmd)) == cmd


# ------------------------------------------------------------------ transfers between clearing houses (FC251)
def holding(core, ch: str, participant="CPC03") -> int:
    rows = core.query(HoldingsQuery(ch, "HOUSE"), ctx("CPC03", participant))
    return sum(r.quantity for r in rows.holdings if r.asset == "HKD")


def test_a_transfer_waits_for_a_second_user_then_moves_under_its_own_rules():
    core = core_with_cash(1_000)
    out = core.execute(a.EnterWithdrawal(TransferCollateral("HKCC", "HOUSE", "SEOCH", "HOUSE", "HKD", 300)),
                       ctx("CPC03"))
    info = out.reply
    assert (info.kind, info.state, info.asset_class, info.clearing_house, info.to_clearing_house,
            info.to_account, info.quantity) == (a.TRANSFER, "PENDING", "CASH", "HKCC", "SEOCH", "HOUSE", 300)
    assert (holding(core, "HKCC"), holding(core, "SEOCH")) == (1_000, 0)   # nothing moved yet
    with pytest.raises(ClearingError) as e:
        core.execute(a.AuthoriseWithdrawal(info.pending_id), ctx("CPC03"))
    assert e.value.error is a.OWN_ENTRY
    done = core.execute(a.AuthoriseWithdrawal(info.pending_id), ctx("CPC03B"))
    assert done.reply.action == "TRANSFER_OUT" and done.reply.instruction_id
    assert (holding(core, "HKCC"), holding(core, "SEOCH")) == (700, 300)
    row = core.query(a.PendingWithdrawalsQuery(), ctx("CPC03"))[0]
    assert (row.kind, row.state, row.checker, row.instruction_id) == (a.TRANSFER, "AUTHORISED", "CPC03B",
                                                                      done.reply.instruction_id)


def test_a_transfer_refused_at_authorisation_stays_pending_at_the_cutoff_edge():
    core = core_with_cash(1_000)
    core.execute(a.EnterWithdrawal(TransferCollateral("HKCC", "HOUSE", "SEOCH", "HOUSE", "HKD", 1_001)),
                 ctx("CPC03"))
    before = core.state_hash()
    with pytest.raises(ClearingError) as e:   # the exact edge: 1,000 held, 1,001 asked
        core.execute(a.AuthoriseWithdrawal(1), ctx("CPC03B"))
    assert e.value.error.name == "CCMS_INSUFFICIENT_HOLDING" and core.state_hash() == before
    core.execute(a.EnterWithdrawal(TransferCollateral("HKCC", "HOUSE", "SEOCH", "HOUSE", "HKD", 1_000)),
                 ctx("CPC03"))
    late = datetime(2026, 11, 23, 16, 0)   # 16:00:00 is late for a transfer
    with pytest.raises(ClearingError) as e:
        core.execute(a.AuthoriseWithdrawal(2), ctx("CPC03B", now=late))
    assert e.value.error.name == "CCMS_AFTER_CUTOFF"
    assert [r.state for r in core.query(a.PendingWithdrawalsQuery(only_pending=True), ctx("CPC03"))] == \
        ["PENDING", "PENDING"]
    core.execute(a.AuthoriseWithdrawal(2), ctx("CPC03B", now=datetime(2026, 11, 23, 15, 59, 59)))
    assert (holding(core, "HKCC"), holding(core, "SEOCH")) == (0, 1_000)   # the whole holding, a second early


def test_invalid_transfers_are_refused_at_entry_and_the_transfer_is_journaled():
    core = core_with_cash()
    for cmd, field in [(TransferCollateral("HKCC", "HOUSE", "SEOCH", "HOUSE", "HKD", 0), "quantity"),
                       (TransferCollateral("HKCC", "NOPE", "SEOCH", "HOUSE", "HKD", 1), "from_account"),
                       (TransferCollateral("HKCC", "HOUSE", "SEOCH", "NOPE", "HKD", 1), "to_account"),
                       (TransferCollateral("HKCC", "HOUSE", "SEOCH", "HOUSE", "NOT-A-BOND", 1), "instrument")]:
        with pytest.raises(ClearingError) as e:
            core.execute(a.EnterWithdrawal(cmd), ctx("CPC03"))
        assert (e.value.error, e.value.field) == (a.ENTRY_INVALID, field)
    assert core.query(a.PendingWithdrawalsQuery(), ctx("CPC03")) == []
    cmd = a.EnterWithdrawal(TransferCollateral("HKCC", "HOUSE", "SEOCH", "HOUSE", "HKD", 5))
    assert from_plain(to_plain(cmd)) == cmd
