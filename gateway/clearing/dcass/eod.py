"""End of day, in this order (docs/guides/dcass.md):

1. pending give-ups expire (returned to the giver) if the give-up cut-off has not done it already;
2. exercise requests are processed, automatic exercise of stock options expiring today,
   random assignment, delivery obligations;
3. what is left in each daily/transitory account moves to the participant's sink account of the
   same clearing house (one SINK deal per side, at the price of the day), gross;
4. money per account and currency: variation adjustment of futures, option premium, fees, cash
   settlement of index options expiring today; totals per participant, clearing house and currency;
5. series expiring today expire (remaining positions removed);
6. the price of the day becomes the previous settlement price; carried positions are reset;
7. margin is recomputed for every account holding positions.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from ..core import Context
from .base import Batch, DcassBase, Leg, cents, value_cents
from .events import MoneyObligationEvent
from .model import AccountType, CallPut, DealKind, MoneyObligation, OpenClose, Side


class EndOfDayMixin(DcassBase):
    def end_of_day(self, ctx: Context) -> list:
        batch = Batch()
        batch.events += self.expire_give_ups(ctx.now)          # from PostTradeMixin
        self.process_exercises(batch, ctx.now)                  # from ExerciseMixin
        self._sweep_daily(batch, ctx)
        day_prices = {k: self.price_of(s) for k, s in self.ref.series.items()
                      if k not in self.expired and (k in self.settlement or k in self.last_price
                                                    or k in self.prev_settlement or self._held(k))}
        self._money(batch, day_prices)
        self._expire(batch)
        self.prev_settlement.update(day_prices)
        self.settlement.clear()
        self.last_price.clear()
        for p in self.positions.values():
            p.carried = p.long - p.short
        self._prices_changed(None)
        for pa, pos in self.account_positions.items():
            if any(self.positions[(pa[0], pa[1], k)].long or self.positions[(pa[0], pa[1], k)].short for k in pos):
                batch.touch(pa, None)
        for pa, m in self.margins.items():
            if any(m.values()):
                batch.touch(pa, None)
        return self._finish(batch)

    def _held(self, key: bytes) -> bool:
        return any(self.positions[k].long or self.positions[k].short for k in self.series_positions.get(key, {}))

    # ------------------------------------------------------------ daily -> sink
    def _sweep_daily(self, batch: Batch, ctx: Context) -> None:
        today = self.business_date
        for (participant, account_id), keys in list(self.account_positions.items()):
            acct = self.accounts[(participant, account_id)]
            if acct.account_type is not AccountType.DAILY:
                continue
            sink = next(a for a in self.accounts.values() if a.participant == participant
                        and a.clearing_house == acct.clearing_house and a.account_type is AccountType.SINK)
            for key in list(keys):
                s = self.ref.series[key]
                p = self.positions[(participant, account_id, key)]
                if s.expiry == today or (p.long == 0 and p.short == 0):
                    continue   # expiring series leave with the expiry
                price = self.price_of(s)
                if p.long:
                    self._book(batch, DealKind.SINK, s, price, [
                        Leg(participant, account_id, Side.SELL, p.long, OpenClose.CLOSE, True),
                        Leg(participant, sink.account_id, Side.BUY, p.long, OpenClose.OPEN, False)], ctx.now)
                if p.short:
                    self._book(batch, DealKind.SINK, s, price, [
                        Leg(participant, account_id, Side.BUY, p.short, OpenClose.CLOSE, True),
                        Leg(participant, sink.account_id, Side.SELL, p.short, OpenClose.OPEN, False)], ctx.now)

    # ------------------------------------------------------------ money
    def _money_row(self, participant: str, account_id: str, currency: str) -> MoneyObligation:
        k = (self.business_date, participant, account_id, currency)
        m = self.money.get(k)
        if m is None:
            acct = self.accounts[(participant, account_id)]
            m = MoneyObligation(participant, account_id, acct.clearing_house, currency, self.business_date)
            self.money[k] = m
        return m

    def _money(self, batch: Batch, day_prices: dict[bytes, int]) -> None:
        today = self.business_date
        acc: dict[tuple, dict[str, Decimal]] = {}

        def add(participant, account_id, currency, what, amount: Decimal):
            row = acc.setdefault((participant, account_id, currency), {})
            row[what] = row.get(what, Decimal(0)) + amount

        participants = sorted({p for (p, d) in self.trade_log if d == today}
                              | {p for (p, _a, _k) in self.positions})
        for participant in participants:
            for no in self.trade_log.get((participant, today), []):
                t = self.trades[no]
                s = self.ref.series[t.series_key]
                c = s.cls
                sign = t.side.sign
                if s.is_option:
                    add(participant, t.account_id, c.currency, "premium",
                        -sign * value_cents(t.price, t.quantity, c.multiplier, c.price_decimals))
                else:
                    add(participant, t.account_id, c.currency, "variation",
                        sign * value_cents(day_prices[s.key] - t.price, t.quantity, c.multiplier, c.price_decimals))
                if t.kind is DealKind.EXCHANGE:
                    add(participant, t.account_id, c.currency, "fees",
                        Decimal(-self.ref.params.fee_per_contract(c.id, today) * t.quantity))
        for (participant, account_id, key), p in self.positions.items():
            s = self.ref.series[key]
            c = s.cls
            if p.carried and not s.is_option and key not in self.expired:
                prev = self.prev_settlement.get(key, day_prices[key])
                add(participant, account_id, c.currency, "variation",
                    value_cents(day_prices[key] - prev, p.carried, c.multiplier, c.price_decimals))
            if s.is_option and c.settlement == "CASH" and s.expiry == today and (p.long or p.short):
                intrinsic = self._intrinsic_units(s)
                if intrinsic > 0:
                    add(participant, account_id, c.currency, "cash_settlement",
                        value_cents(intrinsic, p.long - p.short, c.multiplier, c.strike_decimals))
                    p.exercised += p.long
                    p.assigned += p.short
        totals: dict[tuple, MoneyObligation] = {}
        for (participant, account_id, currency), parts in sorted(acc.items()):
            row = self._money_row(participant, account_id, currency)
            for what, amount in parts.items():
                setattr(row, what, getattr(row, what) + cents(amount))
            k = (participant, row.clearing_house, currency)
            tot = totals.setdefault(k, MoneyObligation(participant, "", row.clearing_house, currency, today))
            for what in ("variation", "premium", "fees", "cash_settlement"):
                setattr(tot, what, getattr(tot, what) + cents(parts.get(what, Decimal(0))))
        if acc and today not in self.money_dates:
            self.money_dates.append(today)
        for (participant, ch, currency), tot in sorted(totals.items()):
            batch.events.append(MoneyObligationEvent(
                owner=participant, clearing_house=ch, currency=currency, business_date=today,
                variation=tot.variation, premium=tot.premium, fees=tot.fees, cash_settlement=tot.cash_settlement,
                net=tot.net))

    def _intrinsic_units(self, s) -> int:
        """Intrinsic value of an option at the current underlying price, in strike decimals."""
        und = self.ref.underlyings[s.cls.underlying]
        u = Decimal(self.underlying_prices[und.id]).scaleb(s.cls.strike_decimals - und.price_decimals)
        u_int = int(u)
        return max(0, u_int - s.strike) if s.call_put is CallPut.CALL else max(0, s.strike - u_int)

    # ------------------------------------------------------------ expiry
    def _expire(self, batch: Batch) -> None:
        today = self.business_date
        for (participant, account_id, key), p in self.positions.items():
            s = self.ref.series[key]
            if s.expiry <= today and key not in self.expired:
                if p.long or p.short or p.exercise_pending or p.covered or p.deny_exercise:
                    p.long = p.short = p.exercise_pending = p.covered = p.deny_exercise = 0
                    self._touch(batch, p)
        for k, s in self.ref.series.items():
            if s.expiry <= today:
                self.expired.add(k)

    def deliveries_of_day(self, on: date) -> list:
        """Every stock delivery obligation from the exercises and assignments of business date ``on``
        (CCMS settles them in CCASS), by obligation number."""
        return [d for _, d in sorted(self.deliveries.items()) if d.exercise_date == on]

    def money_of_day(self, on: date) -> list[MoneyObligation]:
        """Every account's money of business date ``on`` (CCMS settles them), by participant,
        account and currency."""
        return [m for k, m in sorted(self.money.items()) if k[0] == on]

    def money_rows(self, participant: str, on: date) -> list[MoneyObligation]:
        return [m for (d, p, _a, _c), m in sorted(self.money.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2],
                                                                                     kv[0][3]))
                if d == on and p == participant]
