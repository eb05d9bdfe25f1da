"""Exercise and assignment of SEOCH stock options (American style, physical delivery).

Requests entered during the day are PENDING and processed at end of day (after the input
cut-off): the long position shrinks by the exercised quantity and the same number of short
contracts of the series, over every account of every participant, is assigned by a seeded random
draw (each short contract equally likely; the generator's state is module state). On the expiry
date, long positions in the money by at least the threshold (``parameters.toml``, 1.5%) are
exercised automatically, except the quantity set by deny-exercise. Every exercise and assignment
creates stock delivery obligations settled in CCASS on T+2.
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from ..core import Context, Outcome
from ..errors import ClearingError
from . import errors as E
from .base import Batch, DcassBase, value_cents
from .commands import AnnulExercise, DenyExercise, RequestExercise
from .events import AssignmentEvent, DeliveryObligationEvent, ExerciseEvent
from .model import CallPut, DeliveryDirection, DeliveryObligation, ExerciseRequest, ExerciseState, Position
from .refdata import Series


class ExerciseMixin(DcassBase):
    def _exercisable(self, s: Series, field: str = "series_key") -> None:
        if not (s.is_option and s.cls.exercise_style == "AMERICAN"):
            raise ClearingError(E.EXERCISE_NOT_ALLOWED, s.name, field=field)

    def _exercise_event(self, r: ExerciseRequest) -> ExerciseEvent:
        f = self._facts[r.series_key]
        return ExerciseEvent(r.participant, r.exercise_no, r.state, r.account_id, r.series_key, f.name, r.quantity,
                             r.processed_quantity, r.automatic, r.business_date, f.clearing_house, f.cls_id,
                             f.underlying)

    def _long_position(self, participant: str, account_id: str, s: Series) -> Position:
        p = self.positions.get((participant, account_id, s.key))
        if p is None or p.long == 0:
            raise ClearingError(E.NO_POSITION, f"no long position in {account_id} {s.name}", field="series_key")
        return p

    def _request_exercise(self, cmd: RequestExercise, ctx: Context) -> Outcome:
        self._acting(ctx, cmd.participant, cmd.account_id)
        self._input_cutoff(ctx)
        s = self._series(cmd.series_key)
        self._exercisable(s)
        self._account(cmd.participant, cmd.account_id, "account_id", s)
        qty = self._quantity(cmd.quantity)
        p = self._long_position(cmd.participant, cmd.account_id, s)
        free = p.long - p.exercise_pending - p.deny_exercise
        if qty > free:
            raise ClearingError(E.QUANTITY_EXCEEDS_HELD, f"{qty} > {free} exercisable", field="quantity")
        r = ExerciseRequest(self._next("exercise"), cmd.participant, cmd.account_id, s.key, qty,
                            self.core.business_date, ctx.now)
        self.exercises[r.exercise_no] = r
        p.exercise_pending += qty
        batch = Batch()
        batch.events.append(self._exercise_event(r))
        self._tell(batch, p)   # exercise quantities are no margin input
        return Outcome(r.exercise_no, self._finish(batch))

    def _annul_exercise(self, cmd: AnnulExercise, ctx: Context) -> Outcome:
        self._acting(ctx, cmd.participant)
        self._input_cutoff(ctx)
        r = self.exercises.get(cmd.exercise_no)
        if r is None or r.participant != cmd.participant:
            raise ClearingError(E.EXERCISE_NOT_FOUND, str(cmd.exercise_no), field="exercise_no")
        if r.state is not ExerciseState.PENDING:
            raise ClearingError(E.EXERCISE_NOT_PENDING, f"{r.exercise_no} is {r.state.name}", field="exercise_no")
        r.state = ExerciseState.ANNULLED
        p = self.positions[(r.participant, r.account_id, r.series_key)]
        p.exercise_pending -= r.quantity
        batch = Batch()
        batch.events.append(self._exercise_event(r))
        self._tell(batch, p)   # exercise quantities are no margin input
        return Outcome(r.exercise_no, self._finish(batch))

    def _deny_exercise(self, cmd: DenyExercise, ctx: Context) -> Outcome:
        self._acting(ctx, cmd.participant, cmd.account_id)
        self._input_cutoff(ctx)
        s = self._series(cmd.series_key)
        self._exercisable(s)
        self._account(cmd.participant, cmd.account_id, "account_id", s)
        q = cmd.quantity
        if not isinstance(q, int) or isinstance(q, bool) or q < 0:
            raise ClearingError(E.INVALID_QUANTITY, repr(q), field="quantity")
        p = self._long_position(cmd.participant, cmd.account_id, s)
        if q > p.long - p.exercise_pending:
            raise ClearingError(E.QUANTITY_EXCEEDS_HELD, f"{q} > {p.long - p.exercise_pending} not exercised",
                                field="quantity")
        p.deny_exercise = q
        batch = Batch()
        self._tell(batch, p)   # exercise quantities are no margin input
        return Outcome(q, self._finish(batch))

    # ------------------------------------------------------------ end of day
    def in_the_money_by(self, s: Series) -> Decimal:
        """(S - K) / K for calls, (K - S) / K for puts, S the current underlying price."""
        und = self.ref.underlyings[s.cls.underlying]
        u = Decimal(self.underlying_prices[und.id]).scaleb(-und.price_decimals)
        k = Decimal(s.strike).scaleb(-s.cls.strike_decimals)
        return ((u - k) if s.call_put is CallPut.CALL else (k - u)) / k

    def _series_positions(self, key: bytes) -> list[Position]:
        return sorted((self.positions[k] for k in self.series_positions.get(key, {})),
                      key=lambda p: (p.participant, p.account_id))

    def process_exercises(self, batch: Batch, when: datetime) -> None:
        """Exercise pending requests (and automatic exercise of series expiring today), assign
        by random draw, create delivery obligations."""
        today = self.business_date
        pending: dict[bytes, list[ExerciseRequest]] = {}
        for r in self.exercises.values():
            if r.state is ExerciseState.PENDING:
                pending.setdefault(r.series_key, []).append(r)
        expiring = {k for k, s in self.ref.series.items()
                    if s.expiry == today and s.is_option and s.cls.exercise_style == "AMERICAN"
                    and k not in self.expired}
        for key in sorted(set(pending) | expiring):
            self._exercise_series(batch, self.ref.series[key], pending.get(key, []), key in expiring, when)

    def _exercise_series(self, batch: Batch, s: Series, requests: list[ExerciseRequest], expiring: bool,
                         when: datetime) -> None:
        today = self.business_date
        positions = self._series_positions(s.key)
        used: dict[tuple, int] = {}
        done: list[tuple[ExerciseRequest, int]] = []
        for r in sorted(requests, key=lambda r: r.exercise_no):
            p = self.positions[(r.participant, r.account_id, s.key)]
            k = (r.participant, r.account_id)
            q = min(r.quantity, max(0, p.long - used.get(k, 0)))
            p.exercise_pending -= r.quantity
            used[k] = used.get(k, 0) + q
            done.append((r, q))
        if expiring and self.in_the_money_by(s) >= self.ref.params.auto_exercise_threshold(today):
            for p in positions:
                k = (p.participant, p.account_id)
                q = p.long - used.get(k, 0) - p.deny_exercise
                if q > 0:
                    r = ExerciseRequest(self._next("exercise"), p.participant, p.account_id, s.key, q, today, when,
                                        automatic=True)
                    self.exercises[r.exercise_no] = r
                    used[k] = used.get(k, 0) + q
                    done.append((r, q))
        shorts = [p for p in positions if p.short > 0]
        capacity = sum(p.short for p in shorts)
        total = 0
        for i, (r, q) in enumerate(done):   # never exercise more than is written (cannot happen: deals balance)
            q = min(q, capacity - total)
            done[i] = (r, q)
            total += q
        for r, q in done:
            r.processed_quantity = q
            r.state = ExerciseState.PROCESSED if q > 0 else ExerciseState.REJECTED
            batch.events.append(self._exercise_event(r))
            if q:
                p = self.positions[(r.participant, r.account_id, s.key)]
                p.long -= q
                p.exercised += q
                self._touch(batch, p)
                direction = DeliveryDirection.RECEIVE if s.call_put is CallPut.CALL else DeliveryDirection.DELIVER
                self._deliver(batch, p, s, direction, q, "EXERCISE", 0)
        if total == 0:
            return
        picks = sorted(self.rng.sample(range(capacity), total))
        assigned = [0] * len(shorts)
        i, upper = 0, shorts[0].short if shorts else 0
        for n in picks:
            while n >= upper:
                i += 1
                upper += shorts[i].short
            assigned[i] += 1
        for p, a in zip(shorts, assigned):
            if not a:
                continue
            covered_before = p.covered
            p.short -= a
            p.assigned += a
            self._touch(batch, p)
            f = self._facts[s.key]
            batch.events.append(AssignmentEvent(p.participant, p.account_id, s.key, s.name, a, today,
                                                f.clearing_house, f.cls_id, f.underlying))
            direction = DeliveryDirection.DELIVER if s.call_put is CallPut.CALL else DeliveryDirection.RECEIVE
            self._deliver(batch, p, s, direction, a, "ASSIGNMENT", covered_before - p.covered)

    def _deliver(self, batch: Batch, p: Position, s: Series, direction: DeliveryDirection, lots: int,
                 origin: str, covered_lots: int) -> None:
        today = self.business_date
        und = self.ref.underlyings[s.cls.underlying]
        shares = lots * s.cls.contract_size
        amount = int(value_cents(s.strike, lots, s.cls.contract_size, s.cls.strike_decimals))
        d = DeliveryObligation(self._next("delivery"), p.participant, p.account_id, s.key, und.stock_code,
                               direction, shares, amount, s.cls.currency, today,
                               self.core.calendar.add_business_days(today, self.ref.params.delivery_lag_days),
                               origin, lots, covered_lots)
        self.deliveries[d.obligation_no] = d
        batch.events.append(DeliveryObligationEvent(
            owner=d.participant, obligation_no=d.obligation_no, account_id=d.account_id, series_key=d.series_key,
            stock_code=d.stock_code, direction=d.direction, shares=d.shares, amount=d.amount, currency=d.currency,
            exercise_date=d.exercise_date, settlement_date=d.settlement_date, origin=d.origin, lots=d.lots,
            covered_lots=d.covered_lots, series_name=s.name, clearing_house=s.cls.clearing_house,
            instrument_class=s.cls.id, underlying=s.cls.underlying))
