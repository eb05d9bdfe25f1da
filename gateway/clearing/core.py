"""The contract of the clearing core and the composition of its modules.

A module (``SystemModule`` here; DCASS, CCMS and OTC Clear in their packages) is a plain object
that declares which command and query classes it handles. :class:`ClearingCore` dispatches each
command to its module, lets every module react to time passing and to the events of the others
(in a fixed order), and returns an :class:`Outcome`. Same commands, same order, same times:
same state and same events. Nothing here touches I/O or the wall clock.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, fields, is_dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, Callable, ClassVar

from .calendar import Calendar
from .errors import ClearingError, OPERATOR_ONLY, UNSUPPORTED_COMMAND, TIME_BACKWARDS

OPERATOR = "__OPERATOR__"


@dataclass(frozen=True, slots=True)
class Context:
    """Who runs a command and when (business time, Hong Kong local, naive)."""

    now: datetime
    participant: str | None  # acting participant id; None for the operator
    user: str = ""
    operator: bool = False

    def require_operator(self) -> None:
        if not self.operator:
            raise ClearingError(OPERATOR_ONLY)


class Event:
    """Base of everything that became true. ``STREAM`` names the broadcast stream; ``owner`` is
    the participant whose dedicated stream carries it (``None``: public, every subscriber)."""

    STREAM: ClassVar[str] = "general"
    owner: str | None


@dataclass
class Outcome:
    reply: Any = None
    events: list = field(default_factory=list)


class Module:
    """Base for core modules. Subclasses fill ``handlers`` / ``query_handlers``."""

    name: ClassVar[str] = "module"
    reacts_to: ClassVar[tuple[type, ...] | None] = None
    """The event types :meth:`on_events` reacts to: the core calls it only for events that include
    one (None: for all events). A module that does not override ``on_events`` is never called."""

    def __init__(self, core: "ClearingCore"):
        self.core = core

    def commands(self) -> dict[type, Callable[[Any, Context], Outcome]]:
        return {}

    def queries(self) -> dict[type, Callable[[Any, Context], Any]]:
        return {}

    def on_time(self, now: datetime) -> list:
        """Business time moved forward to ``now``: run what became due (cut-offs, value dates)."""
        return []

    def on_events(self, events: list, ctx: Context) -> list:
        """React to other modules' events (e.g. CCMS to a margin change); return new events."""
        return []

    def end_of_day(self, ctx: Context) -> list:
        """End-of-day processing before the business date rolls."""
        return []

    def start_of_day(self, ctx: Context, business_date: date) -> list:
        return []

    def settle(self, ctx: Context) -> list:
        """End of a batch: recompute the module's dirty derived state; return the events of what
        changed (see ``gateway.clearing.derived``)."""
        return []

    @property
    def dirty(self) -> bool:
        """Some derived state is marked to be recomputed: ``settle`` may tell something. A module
        that keeps derived state says so from its derived object; this default (True, also for a
        module object that does not derive from Module) makes the core ask its ``settle`` again
        after every reaction."""
        return True

    def verify(self) -> None:
        """Recompute the derived state from scratch and compare (raises DerivedStateMismatch)."""

    def snapshot(self) -> Any:
        """Plain data (dicts, lists, str, int, Decimal, date) describing the whole state."""
        return None


# ---------------------------------------------------------------- system module
@dataclass(frozen=True, slots=True)
class Tick:
    """Gateway-internal: business time passes; emits a heartbeat on the general stream."""

    interval: int = 1


@dataclass(frozen=True, slots=True)
class SetBusinessTime:
    """Operator: set business date-time (forward only unless ``reset``)."""

    when: datetime
    reset: bool = False


@dataclass(frozen=True, slots=True)
class SendClearingMessage:
    """Operator: a free-text clearing-house message to every participant (BI27 style)."""

    lines: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class EndOfDay:
    """Operator: run end of day in every module, then roll to the next business date."""


@dataclass(frozen=True, slots=True)
class BusinessDateQuery:
    pass


@dataclass(frozen=True, slots=True)
class BusinessDateAnswer:
    business_date: date
    now: datetime
    previous_business_date: date
    next_business_date: date


@dataclass(slots=True)
class Heartbeat(Event):
    STREAM: ClassVar[str] = "general"
    interval: int
    now: datetime
    owner: str | None = None


@dataclass(slots=True)
class ClearingMessage(Event):
    STREAM: ClassVar[str] = "general"
    number: int
    now: datetime
    lines: tuple[str, ...]
    owner: str | None = None


@dataclass(slots=True)
class BusinessDateChanged(Event):
    STREAM: ClassVar[str] = "general"
    business_date: date
    previous_business_date: date
    now: datetime
    owner: str | None = None


class SystemModule(Module):
    name = "system"

    def __init__(self, core: "ClearingCore"):
        super().__init__(core)
        self.message_number = 0

    def commands(self):
        return {
            Tick: self._tick,
            SetBusinessTime: self._set_time,
            SendClearingMessage: self._message,
            EndOfDay: self._end_of_day,
        }

    def queries(self):
        return {BusinessDateQuery: self._business_date}

    def _tick(self, cmd: Tick, ctx: Context) -> Outcome:
        return Outcome(None, [Heartbeat(interval=cmd.interval, now=ctx.now)])

    def _set_time(self, cmd: SetBusinessTime, ctx: Context) -> Outcome:
        ctx.require_operator()
        return Outcome(None, [])  # the core applies the time itself (see ClearingCore.execute)

    def _message(self, cmd: SendClearingMessage, ctx: Context) -> Outcome:
        ctx.require_operator()
        self.message_number += 1
        return Outcome(self.message_number, [ClearingMessage(self.message_number, ctx.now, tuple(cmd.lines))])

    def _end_of_day(self, cmd: EndOfDay, ctx: Context) -> Outcome:
        ctx.require_operator()
        core = self.core
        events: list = []
        for m in core.modules:
            events += m.end_of_day(ctx)
        previous = core.business_date
        core.business_date = core.calendar.next_business_day(previous)
        events.append(BusinessDateChanged(core.business_date, previous, ctx.now))
        for m in core.modules:
            events += m.start_of_day(ctx, core.business_date)
        return Outcome(core.business_date, events)

    def _business_date(self, q: BusinessDateQuery, ctx: Context) -> BusinessDateAnswer:
        c = self.core
        return BusinessDateAnswer(c.business_date, c.now, c.calendar.previous_business_day(c.business_date),
                                  c.calendar.next_business_day(c.business_date))

    def snapshot(self):
        return {"message_number": self.message_number}


# ---------------------------------------------------------------- the core
class ModuleSet(list):
    """Module factories (``factory(core) -> Module``, in reaction order), each holding its module's
    data, with the calendar that data goes with: what the gateway's loader (``gateway.refdata``)
    hands a core. A list: ``ModuleSet + [factory]`` is a ModuleSet with the same calendar."""

    def __init__(self, factories=(), calendar: Calendar | None = None):
        super().__init__(factories)
        self.calendar = calendar

    def __add__(self, other) -> "ModuleSet":
        return ModuleSet([*self, *other], self.calendar)


class ClearingCore:
    """All modules, one business date, one business time. Single-threaded by design.

    The core reads no file: its calendar is ``calendar`` or the calendar of ``module_factories``
    (a :class:`ModuleSet`), and each module gets its data from its factory.

    Batches: between :meth:`begin_batch` and :meth:`end_batch` the commands change primary state
    and mark derived state (margin, coverage, calls) dirty; ``end_batch`` recomputes it once and
    returns its events, computed from the state after the whole batch. :meth:`execute` outside a
    batch is a batch of one: the command's events and then the end-of-batch events, exactly as a
    core without batches. Time passing (what falls due), end of day and business-time changes are
    never deferred: they settle what the batch left dirty first."""

    verify_batches: ClassVar[bool] = False
    """Run every module's ``verify()`` after every batch (the tests turn it on)."""

    def __init__(self, start: datetime, calendar: Calendar | None = None,
                 module_factories: list[Callable[["ClearingCore"], Module]] | None = None):
        calendar = calendar or getattr(module_factories, "calendar", None)
        if calendar is None:
            raise TypeError("ClearingCore needs a calendar: pass calendar= or a ModuleSet "
                            "(gateway.refdata.calendar(), gateway.refdata.module_factories())")
        self.calendar = calendar
        self.now = start
        self.business_date = self.calendar.on_or_after(start.date())
        self.modules: list[Module] = [SystemModule(self)]
        for factory in module_factories or []:
            self.modules.append(factory(self))
        self._commands: dict[type, Callable] = {}
        self._queries: dict[type, Callable] = {}
        self.in_batch = False      # between begin_batch and end_batch
        self.deferring = False     # a command of an open batch runs: derived state is only marked
        self._batch_ctx: Context | None = None   # the last command's context (the batch settles with it)
        self._reactors: list[tuple[Module, frozenset | None]] = [
            (m, None if getattr(m, "reacts_to", None) is None else frozenset(m.reacts_to))
            for m in self.modules if type(m).on_events is not Module.on_events]
        """The modules that react to events, with the event types they react to (None: all)."""
        kinds = [k for _, k in self._reactors]
        self._reacted: frozenset | None = None if None in kinds else frozenset().union(*kinds)
        """The event types some module reacts to (None: every type)."""
        self._timed = [m for m in self.modules if getattr(type(m), "on_time", Module.on_time) is not Module.on_time]
        """The modules that run what falls due (the others' ``on_time`` tells nothing), in order."""
        self._settlers = [m for m in self.modules if getattr(type(m), "settle", Module.settle) is not Module.settle]
        """The modules that keep derived state (the others' ``settle`` tells nothing), in order."""
        for m in self.modules:
            for t, h in m.commands().items():
                assert t not in self._commands, f"command {t.__name__} handled twice"
                self._commands[t] = h
            for t, h in m.queries().items():
                assert t not in self._queries, f"query {t.__name__} handled twice"
                self._queries[t] = h

    def module(self, name: str) -> Module:
        for m in self.modules:
            if m.name == name:
                return m
        raise KeyError(name)

    def handles(self, command_type: type) -> bool:
        return command_type in self._commands or command_type in self._queries

    def execute(self, cmd: Any, ctx: Context) -> Outcome:
        """Run one command. Raises :class:`ClearingError` with nothing changed on rejection.

        Outside a batch the outcome's events end with the end-of-batch events of this command;
        inside one they are the command's own (its derived events come from :meth:`end_batch`)."""
        handler = self._commands.get(type(cmd))
        if handler is None:
            raise ClearingError(UNSUPPORTED_COMMAND, type(cmd).__name__)
        barrier = type(cmd) in _UNBATCHED
        if isinstance(cmd, SetBusinessTime):
            ctx.require_operator()
            if cmd.when < self.now:
                if not cmd.reset:
                    raise ClearingError(TIME_BACKWARDS, f"{cmd.when} < {self.now}", field="when")
                self.now = cmd.when  # testing only: the clock goes back, nothing is undone
            ctx = Context(cmd.when, ctx.participant, ctx.user, ctx.operator)
        alone = not self.in_batch
        events = self.advance(ctx.now) if ctx.now > self.now else []   # (no call while business time stands)
        if not alone:
            if barrier:
                events += self.settle(self._batch_ctx or ctx)
            self._batch_ctx = ctx
        self.deferring = not barrier
        try:
            out = handler(cmd, ctx)
            events += out.events
            reacted = self._reacted
            if reacted is None or not reacted.isdisjoint(map(type, out.events)):   # (most commands: no call)
                events += self._react(out.events, ctx)
        except ClearingError as e:
            # the command changed nothing, but time did pass: what fell due is real and must be told
            e.events = events
            raise
        finally:
            self.deferring = False
        if alone:
            events += self._end(ctx)
        out.events = events
        return out

    @property
    def batch_pending(self) -> bool:
        """The open batch ran a command: its derived state may be unsettled."""
        return self._batch_ctx is not None

    def begin_batch(self) -> None:
        """Commands from now to :meth:`end_batch` form one batch."""
        self.in_batch = True

    def end_batch(self) -> list:
        """Close the batch: recompute the derived state the batch made dirty, once; its events."""
        if not self.in_batch:
            return []
        self.in_batch = False
        ctx, self._batch_ctx = self._batch_ctx, None
        if ctx is None:     # no command ran
            return []
        return self._end(ctx)

    def _end(self, ctx: Context) -> list:
        events = self.settle(ctx)
        self._batch_ctx = None
        if self.verify_batches:
            self.verify()
        return events

    def settle(self, ctx: Context) -> list:
        """Every module recomputes its dirty derived state, in module order; the other modules
        react to the events (CCMS to MarginChanged) before the next module settles; repeated
        while a reaction made something dirty again (bounded)."""
        events: list = []
        settlers = self._settlers
        for _ in range(8):
            new: list = []
            for m in settlers:
                ev = m.settle(ctx)
                if ev:
                    new += ev
                    new += self._react(ev, ctx)
            events += new
            if not new or not any(getattr(m, "dirty", True) for m in settlers):
                break
        return events

    def verify(self) -> None:
        """Every module's derived state recomputed cold equals what it keeps (DerivedStateMismatch)."""
        for m in self.modules:
            m.verify()

    def query(self, q: Any, ctx: Context) -> Any:
        handler = self._queries.get(type(q))
        if handler is None:
            raise ClearingError(UNSUPPORTED_COMMAND, type(q).__name__)
        return handler(q, ctx)

    def advance(self, now: datetime) -> list:
        """Move business time forward; modules run what became due (not deferred: what the batch
        so far left dirty settles with it). Never moves backwards."""
        if now <= self.now:
            return []
        self.now = now
        events: list = []
        for m in self._timed:
            events += m.on_time(now)
        if events:
            events += self._react(events, Context(now, None, "", True))
        return events

    def _react(self, events: list, ctx: Context) -> list:
        out: list = []
        pending = events
        for _ in range(8):  # bounded cascade
            new: list = []
            for m, kinds in self._reactors:
                if kinds is None or not kinds.isdisjoint(map(type, pending)):
                    new += m.on_events(pending, ctx)
            if not new:
                break
            out += new
            pending = new
        return out

    # ------------------------------------------------------------ state hash
    def snapshot(self) -> dict:
        return {"now": self.now, "business_date": self.business_date,
                "modules": {m.name: m.snapshot() for m in self.modules}}

    def state_hash(self) -> str:
        return hashlib.sha256(canonical_json(self.snapshot()).encode()).hexdigest()


_UNBATCHED = (EndOfDay, SetBusinessTime)
"""Commands that settle the batch so far first and run with nothing deferred."""


def _plain_generic(o: Any) -> Any:
    """The plain form of ``o`` (the definition; :func:`_plain` is the same, dispatched by type)."""
    if isinstance(o, (datetime, date)):
        return o.isoformat()
    if isinstance(o, Decimal):
        return str(o)
    if is_dataclass(o):
        return {f.name: _plain(getattr(o, f.name)) for f in fields(o)}
    if isinstance(o, dict):
        return {str(k): _plain(v) for k, v in o.items()}
    if isinstance(o, (list, tuple, set, frozenset)):
        items = [_plain(v) for v in o]
        return sorted(items, key=repr) if isinstance(o, (set, frozenset)) else items
    if hasattr(o, "value") and hasattr(o, "name"):  # enums
        return o.value
    return o


def _same(o):
    return o


def _dict(o):
    return {k if type(k) is str else str(k): _plain(v) for k, v in o.items()}


def _list(o):
    return [_plain(v) for v in o]


def _dataclass(names):
    return lambda o: {n: _plain(getattr(o, n)) for n in names}


def _value(o):
    return o.value


_BY_TYPE: dict = {str: _same, int: _same, bool: _same, float: _same, type(None): _same, dict: _dict, list: _list,
                  tuple: _list, datetime: datetime.isoformat, date: date.isoformat, Decimal: str}


def _handler(t: type):
    """How values of exactly type ``t`` become plain, decided once per type as ``_plain_generic``
    does (None: per value, through ``_plain_generic``)."""
    if issubclass(t, (datetime, date, Decimal, dict, list, tuple, set, frozenset)) or t in _BY_TYPE:
        return None   # subclasses of the built-ins and sets: the generic path
    if is_dataclass(t):
        return _dataclass(tuple(f.name for f in fields(t)))
    if issubclass(t, Enum):
        return _value
    return None


def _plain(o: Any) -> Any:
    f = _BY_TYPE.get(type(o))
    if f is None:
        t = type(o)
        if t not in _BY_TYPE:
            _BY_TYPE[t] = _handler(t)
        f = _BY_TYPE[t]
        if f is None:
            return _plain_generic(o)
    return f(o)


def canonical_json(o: Any) -> str:
    return json.dumps(_plain(o), sort_keys=True, separators=(",", ":"))
