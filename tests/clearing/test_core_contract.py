"""The core's contract: dispatch, time passing, rejections change nothing, determinism."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import ClassVar

import pytest

from gateway.clearing.core import (ClearingCore, Context, EndOfDay, Event, Module, Outcome, SendClearingMessage,
                                   SetBusinessTime)
from gateway.clearing.errors import INVALID_VALUE, OPERATOR_ONLY, TIME_BACKWARDS, ClearingError
from gateway.refdata import calendar

T0 = datetime(2026, 11, 23, 9, 0)


@dataclass(slots=True)
class Due(Event):
    STREAM: ClassVar[str] = "general"
    at: datetime
    owner: str | None = None


@dataclass(frozen=True)
class Poke:
    ok: bool


class Timed(Module):
    """Emits ``Due`` once business time passes 18:15; ``Poke(ok=False)`` is rejected."""
    name = "timed"

    def __init__(self, core):
        super().__init__(core)
        self.fired = False
        self.pokes = 0

    def commands(self):
        return {Poke: self.poke}

    def poke(self, cmd, ctx):
        if not cmd.ok:
            raise ClearingError(INVALID_VALUE, "no", field="ok")
        self.pokes += 1
        return Outcome(self.pokes, [])

    def on_time(self, now):
        if not self.fired and now.hour * 60 + now.minute >= 18 * 60 + 15:
            self.fired = True
            return [Due(now)]
        return []

    def snapshot(self):
        return {"fired": self.fired, "pokes": self.pokes}


def ctx(now, operator=False):
    return Context(now, None if operator else "CPA01", "u", operator)


def test_rejected_command_keeps_the_events_of_time_passing():
    core = ClearingCore(T0, calendar=calendar(), module_factories=[Timed])
    with pytest.raises(ClearingError) as e:
        core.execute(Poke(False), ctx(T0.replace(hour=18, minute=15)))
    assert [type(x) for x in e.value.events] == [Due]  # handed to the gateway to broadcast
    assert core.module("timed").pokes == 0              # the command itself changed nothing
    out = core.execute(Poke(True), ctx(T0.replace(hour=18, minute=16)))
    assert out.events == [] and out.reply == 1           # not emitted twice


def test_time_never_moves_backwards_and_operator_only():
    core = ClearingCore(T0, calendar=calendar(), module_factories=[Timed])
    with pytest.raises(ClearingError) as e:
        core.execute(SetBusinessTime(T0 - timedelta(minutes=1)), ctx(T0, operator=True))
    assert e.value.error is TIME_BACKWARDS and core.now == T0
    with pytest.raises(ClearingError) as e:
        core.execute(SendClearingMessage(("x",)), ctx(T0))
    assert e.value.error is OPERATOR_ONLY
    core.execute(SetBusinessTime(T0 - timedelta(minutes=1), reset=True), ctx(T0, operator=True))
    assert core.now == T0 - timedelta(minutes=1)


def test_end_of_day_rolls_to_next_business_day_and_same_commands_same_hash():
    def run():
        core = ClearingCore(datetime(2026, 12, 24, 17, 0), calendar=calendar(), module_factories=[Timed])
        core.execute(Poke(True), ctx(datetime(2026, 12, 24, 17, 1)))
        out = core.execute(EndOfDay(), ctx(datetime(2026, 12, 24, 19, 0), operator=True))
        return core, out
    a, out = run()
    assert a.business_date.isoformat() == "2026-12-28"  # 25 Dec holiday, then the weekend
    b, _ = run()
    assert a.state_hash() == b.state_hash()
