"""State of the DCASS module and the helpers every function uses: authorisation, cut-offs,
position arithmetic, booking of deals, margin recomputation."""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from ..core import Context, Module
from ..errors import ACTING_FOR_OTHER, INVALID_VALUE, UNKNOWN_PARTICIPANT, ClearingError, ErrorCode
from . import errors as E
from . import margin as M
from .events import PositionChanged, TradeChanged, TradeEvent
from .model import (Account, AccountType, Deal, DealKind, OpenClose, Position, Side, Trade, TradeState)
from .refdata import ReferenceData, Series
from ..derived import DerivedStateMismatch
from .requirements import MarginState


@dataclass(slots=True)
class Leg:
    """One trade to book: who, where, which side, how much, and whether it reverses a trade."""

    participant: str
    account_id: str
    side: Side
    quantity: int
    open_close: OpenClose
    reversal: bool = False
    field: str = "quantity"


class Batch:
    """What one command changed: events so far, positions touched (ordered) and, per account
    touched, the combined commodities (underlyings) whose margin must be recomputed (None: all);
    ``told``: positions to tell whose margin inputs (long, short, covered) did not change."""

    def __init__(self) -> None:
        self.events: list = []
        self.positions: dict[tuple, None] = {}
        self.accounts: dict[tuple, dict[str, None] | None] = {}
        self.told: dict[tuple, None] = {}

    def touch(self, account: tuple, underlying: str | None) -> None:
        if underlying is None:
            self.accounts[account] = None
        elif account not in self.accounts:
            self.accounts[account] = {underlying: None}
        elif self.accounts[account] is not None:
            self.accounts[account][underlying] = None


_ABSENT = object()
_ACTIVE, _REVERSAL = TradeState.ACTIVE, TradeState.REVERSAL
_BUY, _OPEN = Side.BUY, OpenClose.OPEN   # an enum member read from its class costs a lookup per use


class SeriesFacts:
    """What the hot paths need of a series, looked up once (the reference data is immutable)."""

    __slots__ = ("series", "key", "name", "cls_id", "underlying", "clearing_house", "currency",
                 "is_option", "stock_call", "expiry")

    def __init__(self, s: Series) -> None:
        c = s.cls
        self.series, self.key, self.name = s, s.key, s.name
        self.cls_id, self.underlying, self.clearing_house, self.currency = c.id, c.underlying, c.clearing_house, \
            c.currency
        self.is_option, self.stock_call, self.expiry = c.is_option, s.stock_call, s.expiry


def cents(amount: Decimal) -> int:
    """Money rounding: half up to the cent (amounts are exact with the shipped data)."""
    return int(amount.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def value_cents(price_units: int, quantity: int, multiplier: int, decimals: int) -> Decimal:
    """price (in ``decimals``) x quantity x multiplier, in cents, unrounded."""
    return Decimal(price_units * quantity * multiplier * 100).scaleb(-decimals)


class DcassBase(Module):
    name = "dcass"

    def __init__(self, core, reference: ReferenceData | None = None):
        super().__init__(core)
        if reference is None:
            raise TypeError("DcassModule needs its reference data (gateway.refdata.dcass_reference())")
        self.ref = reference
        self.accounts: dict[tuple[str, str], Account] = {}
        for p in self.ref.participants.values():
            for a in p.accounts:
                self.accounts[(p.id, a.account_id)] = Account(p.id, a.account_id, a.account_type, a.clearing_house)
        self.positions: dict[tuple[str, str, bytes], Position] = {}
        self.account_positions: dict[tuple[str, str], dict[bytes, None]] = {}
        self.series_positions: dict[bytes, dict[tuple[str, str, bytes], None]] = {}   # index by series
        self.trades: dict[int, Trade] = {}
        self.deals: dict[int, Deal] = {}
        self.trade_log: dict[tuple[str, date], list[int]] = {}   # (participant, date) -> trade nos by sequence
        self.give_ups: dict = {}
        self.exercises: dict = {}
        self.deliveries: dict = {}
        self.settlement: dict[bytes, int] = {}        # today's, operator-set
        self.prev_settlement: dict[bytes, int] = {}   # previous business day's
        self.last_price: dict[bytes, int] = {}        # last exchange trade price today
        self.underlying_prices: dict[str, int] = {u.id: u.reference_price for u in self.ref.underlyings.values()}
        self.expired: set[bytes] = set()
        self.margins: dict[tuple[str, str], dict[str, int]] = {}  # (participant, account) -> {ccy: cents}
        self._margin_index: dict[str, dict[tuple[str, str], None]] = {}  # participant -> its keys of margins
        self._derived_prices: dict[bytes, tuple[int, int]] = {}   # series -> (underlying price, derived price)
        self._currency_of = {c.underlying: c.currency for c in self.ref.classes.values()}
        self._scale = {}
        for u in self.ref.underlyings.values():
            decimals = max([u.price_decimals] + [max(c.price_decimals, c.strike_decimals)
                                                 for c in self.ref.classes.values() if c.underlying == u.id])
            self._scale[u.id] = M.scale(self.ref.risk[u.id], decimals, self.ref.params.scenario_divisor)
        self.money: dict[tuple[date, str, str, str], Any] = {}  # (date, participant, account, ccy)
        self.money_dates: list[date] = []
        self.counters: dict[str, int] = {"trade": 0, "deal": 0, "give_up": 0, "exercise": 0, "delivery": 0}
        self.sequences: dict[tuple[str, str, date], int] = {}
        self.rng = random.Random(self.ref.params.assignment_seed)
        # caches of facts that never change (derived: not in snapshot() nor the state hash)
        self._facts: dict[bytes, SeriesFacts] = {k: SeriesFacts(v) for k, v in self.ref.series.items()}
        self._daily: dict[tuple[str, str], Account] = {}          # (participant, clearing house) -> DAILY
        self._gross: dict[tuple[str, str], bool] = {}             # account -> kept gross
        self._deadlines: dict[tuple[date, time], datetime] = {}   # cut-off datetimes
        self._rows: dict[str, tuple] = {}                         # margin_rows' layout per participant
        # the derived state: margin books and requirements, recomputed once per batch
        self.derived = MarginState(self)
        self._untold: dict[tuple[str, str, bytes], None] = {}   # positions changed, PositionChanged not yet sent

    # ------------------------------------------------------------ small helpers
    @property
    def business_date(self) -> date:
        return self.core.business_date

    def _next(self, counter: str) -> int:
        counters = self.counters
        n = counters[counter] + 1
        counters[counter] = n
        return n

    def _seq(self, stream: str, participant: str) -> int:
        k = (stream, participant, self.core.business_date)
        sequences = self.sequences
        n = sequences.get(k, 0) + 1
        sequences[k] = n
        return n

    @staticmethod
    def _enum(enum_type, value, field: str):
        if type(value) is enum_type:
            return value
        try:
            return value if isinstance(value, enum_type) else enum_type(value)
        except (ValueError, KeyError):
            raise ClearingError(INVALID_VALUE, f"{field}={value!r}", field=field) from None

    def _acting(self, ctx: Context, participant: str, account_field: str | None = None) -> None:
        """The caller may act for ``participant``? With ``account_field`` the command names an
        account of ``participant``: a mismatch is then ACCOUNT_NOT_OWN, else ACTING_FOR_OTHER."""
        if not ctx.operator and ctx.participant != participant:
            if account_field:
                raise ClearingError(E.ACCOUNT_NOT_OWN, f"{participant}/{account_field}", field="participant")
            raise ClearingError(ACTING_FOR_OTHER, f"{ctx.participant} for {participant}", field="participant")
        if participant not in self.ref.participants:
            raise ClearingError(UNKNOWN_PARTICIPANT, participant, field="participant")

    def _cutoff(self, ctx: Context, cutoff: time, error: ErrorCode) -> None:
        k = (self.core.business_date, cutoff)
        deadline = self._deadlines.get(k)
        if deadline is None:
            deadline = self._deadlines[k] = datetime.combine(k[0], cutoff)
        if ctx.now >= deadline:
            raise ClearingError(error, f"{ctx.now:%Y-%m-%d %H:%M:%S} >= {deadline:%Y-%m-%d %H:%M:%S}")

    def _input_cutoff(self, ctx: Context) -> None:
        self._cutoff(ctx, self.ref.params.input_cutoff, E.AFTER_INPUT_CUTOFF)

    def _give_up_cutoff(self, ctx: Context) -> None:
        self._cutoff(ctx, self.ref.params.give_up_cutoff, E.AFTER_GIVE_UP_CUTOFF)

    def _series(self, key: Any, field: str = "series_key", allow_expired: bool = False) -> Series:
        if type(key) is bytes:
            s = self.ref.series.get(key)
            if s is not None and (allow_expired or (key not in self.expired
                                                    and s.expiry >= self.core.business_date)):
                return s
        s = self.ref.series.get(bytes(key)) if isinstance(key, (bytes, bytearray)) else None
        if s is None:
            raise ClearingError(E.UNKNOWN_SERIES, key.hex() if isinstance(key, (bytes, bytearray)) else repr(key),
                                field=field)
        if not allow_expired and self._is_expired(s):
            raise ClearingError(E.SERIES_EXPIRED, s.name, field=field)
        return s

    def _is_expired(self, s: Series) -> bool:
        return s.key in self.expired or s.expiry < self.core.business_date

    def _account(self, participant: str, account_id: str, field: str = "account_id",
                 series: Series | None = None) -> Account:
        acct = self.accounts.get((participant, account_id))
        if acct is None:
            raise ClearingError(E.UNKNOWN_ACCOUNT, f"{participant}/{account_id}", field=field)
        if series is not None and acct.clearing_house != series.cls.clearing_house:
            raise ClearingError(E.WRONG_CLEARING_HOUSE, f"{account_id} is {acct.clearing_house}, "
                                f"{series.name} is {series.cls.clearing_house}", field=field)
        return acct

    def _member(self, participant: str, clearing_house: str, field: str) -> None:
        if participant not in self.ref.participants:
            raise ClearingError(UNKNOWN_PARTICIPANT, participant, field=field)
        if clearing_house not in self.ref.participants[participant].clearing_houses:
            raise ClearingError(E.NOT_CLEARING_MEMBER, f"{participant} in {clearing_house}", field=field)

    def _daily_account(self, participant: str, clearing_house: str, field: str | None = None) -> Account:
        a = self._daily.get((participant, clearing_house))
        if a is not None:
            return a
        for a in self.accounts.values():
            if a.participant == participant and a.clearing_house == clearing_house \
                    and a.account_type is AccountType.DAILY:
                self._daily[(participant, clearing_house)] = a   # daily accounts are never opened nor closed
                return a
        raise ClearingError(E.UNKNOWN_ACCOUNT, f"{participant} has no daily account in {clearing_house}", field=field)

    @staticmethod
    def _quantity(q: Any, field: str = "quantity") -> int:
        if type(q) is int and q > 0:
            return q
        if not isinstance(q, int) or isinstance(q, bool) or q <= 0:
            raise ClearingError(E.INVALID_QUANTITY, repr(q), field=field)
        return q

    def _own_trade(self, participant: str, trade_no: int, field: str = "trade_no") -> Trade:
        t = self.trades.get(trade_no)
        if t is None or t.participant != participant:   # another's trade is not found either
            raise ClearingError(E.TRADE_NOT_FOUND, str(trade_no), field=field)
        return t

    def _adjustable(self, t: Trade, quantity: int, field: str = "quantity") -> None:
        if t.state is TradeState.REVERSAL or t.business_date != self.core.business_date:
            raise ClearingError(E.TRADE_NOT_ADJUSTABLE, f"trade {t.trade_no}", field="trade_no")
        s = self.ref.series[t.series_key]
        if self._is_expired(s):
            raise ClearingError(E.SERIES_EXPIRED, s.name, field="trade_no")
        if quantity > t.available:
            raise ClearingError(E.QUANTITY_EXCEEDS_HELD, f"{quantity} > {t.available} available", field=field)

    # ------------------------------------------------------------ prices
    def _from_underlying(self, s: Series) -> int:
        und_price = self.underlying_prices[s.cls.underlying]
        hit = self._derived_prices.get(s.key)
        if hit is not None and hit[0] == und_price:
            return hit[1]
        value = self._derive_price(s)
        self._derived_prices[s.key] = (und_price, value)
        return value

    def _derive_price(self, s: Series) -> int:
        und = self.ref.underlyings[s.cls.underlying]
        u = Decimal(self.underlying_prices[und.id]).scaleb(-und.price_decimals)
        if s.is_option:
            k = Decimal(s.strike).scaleb(-s.cls.strike_decimals)
            u = max(Decimal(0), (u - k) if s.call_put.name == "CALL" else (k - u))
        return int(u.scaleb(s.cls.price_decimals).quantize(Decimal(1), rounding=ROUND_HALF_UP))

    def price_of(self, s: Series) -> int:
        """The price of the day: today's settlement price, else the last exchange trade price
        today, else the previous settlement price, else derived from the underlying price
        (futures: the underlying price; options: intrinsic value)."""
        k = s.key
        for table in (self.settlement, self.last_price, self.prev_settlement):
            if k in table:
                return table[k]
        return self._from_underlying(s)

    # ------------------------------------------------------------ positions
    def _position(self, participant: str, account_id: str, key: bytes) -> Position:
        k = (participant, account_id, key)
        p = self.positions.get(k)
        if p is None:
            p = Position(participant, account_id, key)
            self.positions[k] = p
            self.account_positions.setdefault((participant, account_id), {})[key] = None
            self.series_positions.setdefault(key, {})[k] = None
        return p

    @staticmethod
    def _moved(long: int, short: int, side: Side, qty: int, oc: OpenClose, gross: bool,
               strict: bool) -> tuple[int, int] | None:
        """New (long, short) after a trade; ``None`` if ``strict`` and a close exceeds the
        position of a gross account. Net accounts net buys against sells whatever the flag;
        in gross accounts a close beyond the position (exchange trades only) opens the rest."""
        if not gross:
            if side is _BUY:
                r = min(short, qty)
                return long + qty - r, short - r
            r = min(long, qty)
            return long - r, short + qty - r
        if oc is _OPEN:
            return (long + qty, short) if side is _BUY else (long, short + qty)
        if side is _BUY:
            if qty > short:
                return None if strict else (long + qty - short, 0)
            return long, short - qty
        if qty > long:
            return None if strict else (0, short + qty - long)
        return long - qty, short

    def _plan(self, key: bytes, legs: list[Leg]) -> None:
        """Check that the legs can be booked in order without closing more than held (gross
        accounts) or leaving less long than pending exercises. Changes nothing."""
        work: dict[tuple, list[int]] = {}
        positions = self.positions
        for leg in legs:
            k = (leg.participant, leg.account_id, key)
            w = work.get(k)
            if w is None:
                p = positions.get(k)
                w = work[k] = [p.long, p.short, p.exercise_pending] if p else [0, 0, 0]
            r = self._moved(w[0], w[1], leg.side, leg.quantity, leg.open_close,
                            self._is_gross((leg.participant, leg.account_id)), True)
            if r is None or r[0] < w[2]:
                raise ClearingError(E.QUANTITY_EXCEEDS_HELD,
                                    f"{leg.participant}/{leg.account_id}: {leg.side.name} {leg.open_close.name} "
                                    f"{leg.quantity} against long {w[0]} short {w[1]}", field=leg.field)
            w[0], w[1] = r

    def _is_gross(self, pa: tuple[str, str]) -> bool:
        g = self._gross.get(pa)
        if g is None:
            g = self._gross[pa] = self.accounts[pa].gross    # an account's type never changes
        return g

    def _touch(self, batch: Batch, p: Position) -> None:
        """Position ``p`` changed (long, short or covered): it is to be told and its account's
        margin recomputed."""
        if p.covered > p.short:
            p.covered = p.short
        if p.deny_exercise:
            p.deny_exercise = min(p.deny_exercise, max(0, p.long - p.exercise_pending))
        pa = (p.participant, p.account_id)
        batch.positions[(pa[0], pa[1], p.series_key)] = None
        u = self._facts[p.series_key].underlying
        accounts = batch.accounts
        unds = accounts.get(pa, _ABSENT)
        if unds is _ABSENT:
            accounts[pa] = {u: None}
        elif unds is not None:
            unds[u] = None

    @staticmethod
    def _tell(batch: Batch, p: Position) -> None:
        """Only what margin does not depend on changed in position ``p`` (its pending, denied
        exercise): it is to be told, its account's margin stays."""
        batch.told[(p.participant, p.account_id, p.series_key)] = None

    # ------------------------------------------------------------ deals
    def _book(self, batch: Batch, kind: DealKind, s: Series, price: int, legs: list[Leg], when: datetime,
              orig: Trade | None = None) -> Deal:
        """Create one deal with one trade per leg (positions already checked with _plan)."""
        counters = self.counters
        deal_no = counters["deal"] + 1
        counters["deal"] = deal_no
        today = self.core.business_date
        key = s.key
        f = self._facts[key]
        name, ch, cls_id, und = f.name, f.clearing_house, f.cls_id, f.underlying
        orig_no = orig.trade_no if orig is not None else 0
        trades, log, seqs, events = self.trades, self.trade_log, self.sequences, batch.events
        positions, gross, moved, touched, accounts = \
            self.positions, self._gross, self._moved, batch.positions, batch.accounts
        nos = []
        bought = 0
        for leg in legs:
            who, aid, side, qty, oc = leg.participant, leg.account_id, leg.side, leg.quantity, leg.open_close
            trade_no = counters["trade"] + 1
            counters["trade"] = trade_no
            sk = ("trade", who, today)
            seq = seqs.get(sk, 0) + 1
            seqs[sk] = seq
            state = _REVERSAL if leg.reversal else _ACTIVE
            trades[trade_no] = trade = Trade(trade_no, deal_no, who, aid, key, side, qty, price, oc, kind, today,
                                             when, seq, state, 0, 0, orig_no)
            day = log.get((who, today))
            if day is None:
                log[(who, today)] = [trade_no]
            else:
                day.append(trade_no)
            nos.append(trade_no)
            if side is _BUY:
                bought += qty
            # the position (as _touch)
            pk = (who, aid, key)
            p = positions.get(pk)
            if p is None:
                p = self._position(who, aid, key)
            pa = (who, aid)
            g = gross.get(pa)
            if g is None:
                g = self._is_gross(pa)
            p.long, p.short = moved(p.long, p.short, side, qty, oc, g, False)
            if p.covered > p.short:
                p.covered = p.short
            if p.deny_exercise:
                p.deny_exercise = min(p.deny_exercise, max(0, p.long - p.exercise_pending))
            touched[pk] = None
            unds = accounts.get(pa, _ABSENT)
            if unds is _ABSENT:
                accounts[pa] = {und: None}
            elif unds is not None:
                unds[und] = None
            events.append(TradeEvent(who, trade, state, name, aid, ch, cls_id, und))
        deal = Deal(deal_no, key, price, bought, kind, today, when, nos, orig_no)
        self.deals[deal_no] = deal
        if orig is not None:
            orig.children += tuple(nos)
        return deal

    def _take_from(self, batch: Batch, t: Trade, quantity: int, reserved: bool = False) -> None:
        """``quantity`` of trade ``t`` has been moved by a later deal."""
        if reserved:
            t.reserved -= quantity
        t.moved += quantity
        t.state = TradeState.ADJUSTED if t.moved >= t.quantity else TradeState.PARTLY_ADJUSTED
        batch.events.append(self._trade_changed(t))

    @staticmethod
    def _trade_changed(t: Trade) -> TradeChanged:
        return TradeChanged(owner=t.participant, trade_no=t.trade_no, state=t.state, available=t.available,
                            moved=t.moved, reserved=t.reserved)

    # ------------------------------------------------------------ finishing a command
    def _finish(self, batch: Batch) -> list:
        """The positions touched are to be told (PositionChanged, with their state then) and their
        accounts' margin recomputed (MarginChanged): now, unless the core is inside a batch of
        commands (then at its end, once for the whole batch)."""
        derived, untold = self.derived, self._untold
        for k in batch.positions:
            derived.moved[k] = None
            untold[k] = None
        for k in batch.told:
            untold[k] = None
        for pa, unds in batch.accounts.items():
            if unds is None:
                derived.mark(pa, None)
            else:
                for u in unds:
                    derived.mark(pa, u)
        return self._margin_events(batch.events)

    def _margin_events(self, events: list) -> list:
        """``events`` plus, outside a batch of commands, the positions to tell and the margin
        changes (the core settles them at the end of a batch otherwise)."""
        if not self.core.deferring:
            events += self.settle(None)
        return events

    def settle(self, ctx: Context | None) -> list:
        """PositionChanged for each position touched since the last settle, in the order touched,
        then the margin changes (``MarginState.settle``)."""
        untold = self._untold
        if not untold:
            return self.derived.settle()
        events = []
        positions, accounts, facts = self.positions, self.accounts, self._facts
        for k in untold:
            p = positions[k]
            acct = accounts[(p.participant, p.account_id)]
            f = facts[p.series_key]
            events.append(PositionChanged(p.participant, acct.clearing_house, p.account_id, acct.account_type,
                                          p.series_key, f.name, p.long, p.short, p.exercise_pending, p.exercised,
                                          p.assigned, p.covered, p.deny_exercise, f.cls_id, f.underlying))
        untold.clear()
        events += self.derived.settle()
        return events

    def verify(self) -> None:
        if self._untold:
            raise DerivedStateMismatch(f"positions not told at a batch boundary: {list(self._untold)}")
        self.derived.verify()

    # ------------------------------------------------------------ margin
    def margin_price(self, s: Series) -> int:
        """Reference price for margin: today's settlement price, else the previous settlement
        price, else derived from the underlying price. Not the last trade price: a trade between
        two participants must not move a third participant's margin."""
        k = s.key
        price = self.settlement.get(k)
        if price is None:
            price = self.prev_settlement.get(k)
            if price is None:
                price = self._from_underlying(s)
        return price

    def _prices_changed(self, underlying: str | None) -> None:
        """Margin inputs of ``underlying`` (None: every underlying) changed: the accounts holding it
        are to be recomputed."""
        self.derived.prices_changed(underlying)
        if underlying is not None:
            for pa in self._accounts_in(underlying):
                self.derived.mark(pa, underlying)

    def account_margin(self, participant: str, account_id: str) -> dict[str, int]:
        """Requirement per settlement currency (cents) of one account, computed afresh."""
        pa = (participant, account_id)
        out: dict[str, int] = {}
        for u in sorted({self.ref.series[k].cls.underlying for k in self.account_positions.get(pa, {})}):
            cents = M.books_requirement(self.derived.fresh_books(pa, u), self.ref.risk[u])
            if cents:
                out[self._currency_of[u]] = out.get(self._currency_of[u], 0) + cents
        return out

    def _accounts_in(self, underlying: str) -> list[tuple[str, str]]:
        out: dict[tuple[str, str], None] = {}
        for key, ks in self.series_positions.items():
            if self.ref.series[key].cls.underlying == underlying:
                for k in ks:
                    pos = self.positions[k]
                    if pos.long or pos.short:
                        out[(k[0], k[1])] = None
        return list(out)
