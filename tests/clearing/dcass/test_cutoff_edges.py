"""The DCASS cut-offs at their exact second (issue 13, item 8): a request stamped 18:14:59 / 18:44:59
is in time, one stamped 18:15:00 / 18:45:00 itself is late. The requests here are sent at exactly
the given time (the fixture's ``cp`` helper would add a second)."""
from datetime import datetime

import pytest

from gateway.clearing.core import Context
from gateway.clearing.dcass import (AccountType, Allocation, ConfirmGiveUp, GiveUpTrade, OpenAccount,
                                    RectifyTrade)
from gateway.clearing.dcass import errors as E

DAY = (2026, 11, 2)


def at(env, participant, cmd, hh, mm, ss):
    return env.core.execute(cmd, Context(datetime(*DAY, hh, mm, ss), participant, participant.lower()))


def test_input_cutoff_18_45_00_itself_is_late(env):
    at(env, "CPB02", OpenAccount("CPB02", "X1", AccountType.HOUSE, "HKCC"), 18, 44, 59)
    env.now = datetime(*DAY, 18, 45, 0)
    env.rejects(E.AFTER_INPUT_CUTOFF, at, env, "CPB02", OpenAccount("CPB02", "X2", AccountType.HOUSE, "HKCC"),
                18, 45, 0)


def test_rectify_at_18_44_59_in_time_and_at_18_45_00_late(env):
    b = env.deal("HSI NOV26", 25000, 4, "CPB02", "CPC03", "HKCC-HOUSE")
    t = b.trade_nos[0]
    at(env, "CPB02", RectifyTrade("CPB02", t, (Allocation("HKCC-CLIENT01", 1),)), 18, 44, 59)
    env.rejects(E.AFTER_INPUT_CUTOFF, at, env, "CPB02", RectifyTrade("CPB02", t, (Allocation("HKCC-CLIENT01", 1),)),
                18, 45, 0)


@pytest.mark.parametrize("second, late", [(59, False), (60, True)])
def test_give_up_cutoff_18_15_00_itself_is_late(env, second, late):
    b = env.deal("HSI NOV26", 25000, 2, "CPA01", "CPC03", "HKCC-HOUSE")
    hh, mm, ss = (18, 14, 59) if second == 59 else (18, 15, 0)
    cmd = GiveUpTrade("CPA01", b.trade_nos[0], 1, "CPB02")
    if late:
        env.rejects(E.AFTER_GIVE_UP_CUTOFF, at, env, "CPA01", cmd, hh, mm, ss)
    else:
        assert at(env, "CPA01", cmd, hh, mm, ss).reply


def test_take_up_at_18_15_00_itself_is_late(env):
    b = env.deal("HSI NOV26", 25000, 2, "CPA01", "CPC03", "HKCC-HOUSE")
    gno = at(env, "CPA01", GiveUpTrade("CPA01", b.trade_nos[0], 2, "CPB02"), 18, 14, 58).reply
    events = env.core.advance(datetime(*DAY, 18, 15, 0))      # the cut-off itself: the give-up expires
    assert {(e.owner, e.state.name) for e in events if type(e).__name__ == "GiveUpEvent"} == {
        ("CPA01", "EXPIRED"), ("CPB02", "EXPIRED")}
    env.rejects(E.AFTER_GIVE_UP_CUTOFF, at, env, "CPB02", ConfirmGiveUp("CPB02", gno, (Allocation("HKCC-HOUSE", 2),)),
                18, 15, 0)
