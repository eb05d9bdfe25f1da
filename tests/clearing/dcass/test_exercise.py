from datetime import date, datetime

import pytest

from gateway.clearing.core import Context
from gateway.clearing.dcass import (AnnulExercise, AssignmentEvent, DeliveryDirection, DeliveryObligationEvent,
                                    DeliveryObligationsQuery, DenyExercise, ExerciseEvent, ExercisesQuery,
                                    ExerciseState, MoneyObligationEvent, RequestExercise, SetUnderlyingPrice)
from gateway.clearing.dcass import errors as E

from .conftest import Env, events_of

CALL = "TCH NOV26 480.00 C"
PUT = "TCH NOV26 480.00 P"


def expiry_env() -> Env:
    env = Env(datetime(2026, 11, 27, 9))       # expiry day of the NOV26 series
    env.at(10)
    return env


def test_exercise_request_processed_at_end_of_day_with_random_assignment(env):
    name = "TCH DEC26 460.00 C"
    env.deal(name, 2500, 5, "CPA01", "CPD04", "SEOCH-HOUSE", "SEOCH-HOUSE")
    env.deal(name, 2500, 5, "CPB02", "CPF06", "SEOCH-CLIENT01", "SEOCH-OMNIBUS")
    out = env.cp("CPA01", RequestExercise("CPA01", "SEOCH-HOUSE", env.key(name), 4))
    xno = out.reply
    assert events_of(out, ExerciseEvent)[0].state is ExerciseState.PENDING
    assert env.pos("CPA01", "SEOCH-HOUSE", name).exercise_pending == 4
    out = env.eod()
    assert [(e.exercise_no, e.state, e.processed_quantity) for e in events_of(out, ExerciseEvent)] == [
        (xno, ExerciseState.PROCESSED, 4)]
    assigned = {e.owner: e.quantity for e in events_of(out, AssignmentEvent)}
    assert sum(assigned.values()) == 4 and set(assigned) <= {"CPD04", "CPF06"}
    p = env.pos("CPA01", "SEOCH-HOUSE", name)
    assert (p.long, p.exercised, p.exercise_pending) == (1, 4, 0)
    shorts = {pid: env.pos(pid, acct, name) for pid, acct in (("CPD04", "SEOCH-HOUSE"), ("CPF06", "SEOCH-OMNIBUS"))}
    assert sum(s.short for s in shorts.values()) == 6 and sum(s.assigned for s in shorts.values()) == 4
    dels = events_of(out, DeliveryObligationEvent)
    rec = [d for d in dels if d.owner == "CPA01"][0]
    # call exercised: receive 4 x 100 shares of 0700, pay 460.00 x 400 = HKD 184,000.00 on T+2
    assert (rec.direction, rec.stock_code, rec.shares, rec.amount, rec.settlement_date, rec.origin) == (
        DeliveryDirection.RECEIVE, "0700", 400, 18_400_000, date(2026, 11, 4), "EXERCISE")
    writers = [d for d in dels if d.origin == "ASSIGNMENT"]
    assert all(d.direction is DeliveryDirection.DELIVER for d in writers) and sum(d.shares for d in writers) == 400
    q = env.q(DeliveryObligationsQuery("CPA01"), "CPA01")
    assert [(d.shares, d.series_name) for d in q] == [(400, name)]


def test_assignment_draw_is_reproducible():
    def run():
        env = Env()
        env.at(10)
        name = "HKB DEC26 100.00 C"
        for seller, acct in (("CPD04", "SEOCH-HOUSE"), ("CPF06", "SEOCH-HOUSE"), ("CPB02", "SEOCH-OMNIBUS")):
            env.deal(name, 300, 10, "CPA01", seller, "SEOCH-HOUSE", acct)
        env.cp("CPA01", RequestExercise("CPA01", "SEOCH-HOUSE", env.key(name), 7))
        out = env.eod()
        return [(e.owner, e.quantity) for e in events_of(out, AssignmentEvent)], env.core.state_hash()
    first, second = run(), run()
    assert first == second and sum(q for _, q in first[0]) == 7


def test_annul_exercise(env):
    name = "TCH DEC26 460.00 C"
    env.deal(name, 2500, 5, "CPA01", "CPD04", "SEOCH-HOUSE", "SEOCH-HOUSE")
    xno = env.cp("CPA01", RequestExercise("CPA01", "SEOCH-HOUSE", env.key(name), 2)).reply
    out = env.cp("CPA01", AnnulExercise("CPA01", xno))
    assert events_of(out, ExerciseEvent)[0].state is ExerciseState.ANNULLED
    assert env.pos("CPA01", "SEOCH-HOUSE", name).exercise_pending == 0
    env.rejects(E.EXERCISE_NOT_PENDING, env.cp, "CPA01", AnnulExercise("CPA01", xno))
    env.rejects(E.EXERCISE_NOT_FOUND, env.cp, "CPA01", AnnulExercise("CPA01", 999))
    env.rejects(E.EXERCISE_NOT_FOUND, env.cp, "CPD04", AnnulExercise("CPD04", xno))
    out = env.eod()
    assert events_of(out, AssignmentEvent) == []
    assert [x.state for x in env.q(ExercisesQuery("CPA01"), "CPA01")] == [ExerciseState.ANNULLED]


def test_exercise_rejections(env):
    name = "TCH DEC26 460.00 C"
    k = env.key(name)
    env.deal(name, 2500, 5, "CPA01", "CPD04", "SEOCH-HOUSE", "SEOCH-HOUSE")
    env.deal("HSI DEC26 25000 C", 500, 1, "CPA01", "CPC03", "HKCC-HOUSE", "HKCC-HOUSE")
    env.rejects(E.QUANTITY_EXCEEDS_HELD, env.cp, "CPA01", RequestExercise("CPA01", "SEOCH-HOUSE", k, 6))
    env.rejects(E.NO_POSITION, env.cp, "CPD04", RequestExercise("CPD04", "SEOCH-HOUSE", k, 1))   # short only
    env.rejects(E.EXERCISE_NOT_ALLOWED, env.cp, "CPA01",
                RequestExercise("CPA01", "HKCC-HOUSE", env.key("HSI DEC26 25000 C"), 1))   # European
    env.rejects(E.EXERCISE_NOT_ALLOWED, env.cp, "CPA01", RequestExercise("CPA01", "HKCC-HOUSE",
                                                                        env.key("HSI DEC26"), 1))
    env.rejects(E.ACCOUNT_NOT_OWN, env.cp, "CPD04", RequestExercise("CPA01", "SEOCH-HOUSE", k, 1))
    env.rejects(E.INVALID_QUANTITY, env.cp, "CPA01", RequestExercise("CPA01", "SEOCH-HOUSE", k, 0))
    env.rejects(E.WRONG_CLEARING_HOUSE, env.cp, "CPA01", RequestExercise("CPA01", "HKCC-HOUSE", k, 1))
    env.cp("CPA01", DenyExercise("CPA01", "SEOCH-HOUSE", k, 2))
    env.rejects(E.QUANTITY_EXCEEDS_HELD, env.cp, "CPA01", RequestExercise("CPA01", "SEOCH-HOUSE", k, 4))
    env.rejects(E.QUANTITY_EXCEEDS_HELD, env.cp, "CPA01", DenyExercise("CPA01", "SEOCH-HOUSE", k, 6))
    env.rejects(E.INVALID_QUANTITY, env.cp, "CPA01", DenyExercise("CPA01", "SEOCH-HOUSE", k, -1))
    env.at(18, 45)
    env.rejects(E.AFTER_INPUT_CUTOFF, env.cp, "CPA01", RequestExercise("CPA01", "SEOCH-HOUSE", k, 1))
    env.rejects(E.AFTER_INPUT_CUTOFF, env.cp, "CPA01", DenyExercise("CPA01", "SEOCH-HOUSE", k, 0))
    env.at(18, 44, 58)
    env.cp("CPA01", RequestExercise("CPA01", "SEOCH-HOUSE", k, 1))     # 18:44:59: still in time


@pytest.mark.parametrize("underlying, exercised", [(48720, True), (48719, False)])
def test_auto_exercise_threshold_edge_for_calls(underlying, exercised):
    env = expiry_env()
    env.deal(CALL, 800, 3, "CPA01", "CPD04", "SEOCH-HOUSE", "SEOCH-HOUSE")
    env.op(SetUnderlyingPrice("0700", underlying))     # 487.20 = 480.00 + 1.5% exactly
    out = env.eod()
    auto = [e for e in events_of(out, ExerciseEvent) if e.automatic]
    if exercised:
        assert [(e.owner, e.processed_quantity, e.state) for e in auto] == [("CPA01", 3, ExerciseState.PROCESSED)]
        assert [(e.owner, e.quantity) for e in events_of(out, AssignmentEvent)] == [("CPD04", 3)]
    else:
        assert auto == [] and events_of(out, AssignmentEvent) == []
    p = env.pos("CPA01", "SEOCH-HOUSE", CALL)      # expired either way: no long left
    assert (p.long, p.exercised) == (0, 3) if exercised else p is None


@pytest.mark.parametrize("underlying, exercised", [(47280, True), (47281, False)])
def test_auto_exercise_threshold_edge_for_puts(underlying, exercised):
    env = expiry_env()
    env.deal(PUT, 800, 2, "CPA01", "CPD04", "SEOCH-OMNIBUS", "SEOCH-HOUSE")
    env.op(SetUnderlyingPrice("0700", underlying))     # 472.80 = 480.00 - 1.5%
    out = env.eod()
    dels = {(d.owner, d.direction, d.shares) for d in events_of(out, DeliveryObligationEvent)}
    if exercised:
        assert dels == {("CPA01", DeliveryDirection.DELIVER, 200), ("CPD04", DeliveryDirection.RECEIVE, 200)}
    else:
        assert dels == set()


def test_deny_exercise_keeps_quantity_out_of_auto_exercise():
    env = expiry_env()
    env.deal(CALL, 800, 5, "CPA01", "CPD04", "SEOCH-HOUSE", "SEOCH-HOUSE")
    env.op(SetUnderlyingPrice("0700", 50000))
    env.cp("CPA01", DenyExercise("CPA01", "SEOCH-HOUSE", env.key(CALL), 2))
    assert env.pos("CPA01", "SEOCH-HOUSE", CALL).deny_exercise == 2
    env.cp("CPA01", RequestExercise("CPA01", "SEOCH-HOUSE", env.key(CALL), 1))
    out = env.eod()
    ex = sorted((e.automatic, e.processed_quantity) for e in events_of(out, ExerciseEvent))
    assert ex == [(False, 1), (True, 2)]       # 5 long - 1 requested - 2 denied = 2 automatic
    assert sum(e.quantity for e in events_of(out, AssignmentEvent)) == 3


def test_assigned_covered_calls_report_covered_lots():
    env = expiry_env()
    env.deal(CALL, 800, 2, "CPA01", "CPD04", "SEOCH-HOUSE", "SEOCH-HOUSE")
    env.d.set_covered("CPD04", "SEOCH-HOUSE", env.key(CALL), 2, Context(env.now, None, "ccms", True))
    env.op(SetUnderlyingPrice("0700", 50000))
    out = env.eod()
    d = [x for x in events_of(out, DeliveryObligationEvent) if x.owner == "CPD04"][0]
    assert (d.direction, d.lots, d.covered_lots, d.shares, d.amount) == (DeliveryDirection.DELIVER, 2, 2, 200,
                                                                          9_600_000)
    p = env.pos("CPD04", "SEOCH-HOUSE", CALL)
    assert (p.short, p.assigned, p.covered) == (0, 2, 0)


def test_index_options_cash_settle_at_expiry():
    env = expiry_env()
    env.deal("HSI NOV26 24000 C", 900, 1, "CPA01", "CPC03", "HKCC-HOUSE", "HKCC-HOUSE")
    env.deal("HSI NOV26 26000 C", 50, 1, "CPA01", "CPC03", "HKCC-HOUSE", "HKCC-HOUSE")
    env.op(SetUnderlyingPrice("HSI", 25000))
    out = env.eod()
    m = {e.owner: e for e in events_of(out, MoneyObligationEvent)}
    # 24000 call: intrinsic 1,000 points x HKD 50 = 50,000.00; the 26000 call expires worthless
    assert m["CPA01"].cash_settlement == 5_000_000 and m["CPC03"].cash_settlement == -5_000_000
    assert m["CPA01"].premium == -(900 + 50) * 50 * 100
    assert env.pos("CPA01", "HKCC-HOUSE", "HSI NOV26 24000 C").exercised == 1
    assert env.pos("CPA01", "HKCC-HOUSE", "HSI NOV26 26000 C") is None
    env.at(10)
    env.rejects(E.SERIES_EXPIRED, env.cp, "CPA01",
                RequestExercise("CPA01", "SEOCH-HOUSE", env.key(CALL), 1))


def test_exercise_functions_tell_the_position_without_recomputing_margin(env):
    """Pending, annulled and denied exercise are no margin input (margin follows long, short and
    covered): the position is told at the end of the batch, no account's margin is marked."""
    name = "TCH DEC26 460.00 C"
    env.deal(name, 2500, 5, "CPA01", "CPD04", "SEOCH-HOUSE", "SEOCH-HOUSE")
    key = env.key(name)
    margin_before = env.d.account_margin("CPA01", "SEOCH-HOUSE")
    for cmd in (RequestExercise("CPA01", "SEOCH-HOUSE", key, 2), DenyExercise("CPA01", "SEOCH-HOUSE", key, 1),
                AnnulExercise("CPA01", 1)):
        env.core.begin_batch()
        env.cp("CPA01", cmd)
        assert not env.d.derived.dirty                       # nothing to recompute
        assert list(env.d._untold) == [("CPA01", "SEOCH-HOUSE", key)]   # the position to tell
        out = env.core.end_batch()
        assert [(type(e).__name__, e.exercise_pending, e.deny_exercise) for e in out] == [
            ("PositionChanged", *{RequestExercise: (2, 0), DenyExercise: (2, 1), AnnulExercise: (0, 1)}[type(cmd)])]
    assert env.d.account_margin("CPA01", "SEOCH-HOUSE") == margin_before
