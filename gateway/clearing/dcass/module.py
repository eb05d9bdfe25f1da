"""The DCASS module: listed-derivatives clearing for HKCC (futures/options) and SEOCH (stock
options). See docs/guides/dcass.md for the functions, accounts, series key, margin and cut-offs."""
from __future__ import annotations

from datetime import date, datetime

from ..core import Context
from ..errors import ClearingError
from . import errors as E
from .base import Batch
from .commands import (AnnulExercise, CloseOut, ConfirmGiveUp, DenyExercise, GiveUpTrade, InjectDeal, InjectDeals,
                       OpenAccount,
                       OpenCloseAdjustment, RectifyTrade, RejectGiveUp, RequestExercise, SetSettlementPrice,
                       SetUnderlyingPrice, TransferFromTransitory, TransferPosition)
from .eod import EndOfDayMixin
from .events import MarginChanged
from .exercise import ExerciseMixin
from .model import Account, GiveUpState, Position, Trade
from .posttrade import PostTradeMixin
from .queries import (AccountInfo, AccountsQuery, ClearingHouseInfo, ClearingHousesQuery, DeliveryInfo,
                      DeliveryObligationsQuery, ExerciseInfo, ExercisesQuery, GiveUpInfo, GiveUpsQuery,
                      InstrumentClassesQuery, InstrumentClassInfo, MarginQuery, MissingTradesQuery,
                      MoneyObligationInfo, MoneyObligationsQuery, ParticipantInfo, ParticipantsQuery, PositionInfo,
                      PositionsQuery, SeriesInfo, SeriesQuery, SettlementPriceInfo, SettlementPricesQuery,
                      ShortCallPosition, TradeHistoryQuery, TradeInfo, TradesQuery, UnderlyingInfo, UnderlyingsQuery)
from .refdata import Series


class DcassModule(PostTradeMixin, ExerciseMixin, EndOfDayMixin):
    name = "dcass"

    def commands(self):
        return {
            InjectDeal: self._inject_deal,
            InjectDeals: self._inject_deals,
            SetSettlementPrice: self._set_settlement_price,
            SetUnderlyingPrice: self._set_underlying_price,
            OpenAccount: self._open_account,
            GiveUpTrade: self._give_up,
            ConfirmGiveUp: self._confirm_give_up,
            RejectGiveUp: self._reject_give_up,
            RectifyTrade: self._rectify,
            TransferFromTransitory: self._from_transitory,
            TransferPosition: self._transfer_position,
            OpenCloseAdjustment: self._open_close,
            CloseOut: self._close_out,
            RequestExercise: self._request_exercise,
            AnnulExercise: self._annul_exercise,
            DenyExercise: self._deny_exercise,
        }

    def queries(self):
        return {
            ClearingHousesQuery: self._q_clearing_houses,
            InstrumentClassesQuery: self._q_classes,
            SeriesQuery: self._q_series,
            UnderlyingsQuery: self._q_underlyings,
            ParticipantsQuery: self._q_participants,
            AccountsQuery: self._q_accounts,
            TradesQuery: self._q_trades,
            MissingTradesQuery: self._q_missing_trades,
            TradeHistoryQuery: self._q_trade_history,
            GiveUpsQuery: self._q_give_ups,
            PositionsQuery: self._q_positions,
            ExercisesQuery: self._q_exercises,
            DeliveryObligationsQuery: self._q_deliveries,
            MarginQuery: self._q_margin,
            MoneyObligationsQuery: self._q_money,
            SettlementPricesQuery: self._q_prices,
        }

    # ------------------------------------------------------------ time
    def on_time(self, now: datetime) -> list:
        k = (self.core.business_date, self.ref.params.give_up_cutoff)
        deadline = self._deadlines.get(k)
        if deadline is None:
            deadline = self._deadlines[k] = datetime.combine(k[0], k[1])
        if now >= deadline and any(
                g.state is GiveUpState.PENDING for g in self.give_ups.values()):
            return self.expire_give_ups(now)
        return []

    # ------------------------------------------------------------ interface used by CCMS
    def input_cutoff(self):
        """The DCASS System Input Cutoff Time: inputs at or after it are late (CCMS covered calls too)."""
        return self.ref.params.input_cutoff

    def account(self, participant: str, account_id: str) -> Account:
        """The account (``.account_type``, ``.clearing_house``); ClearingError UNKNOWN_ACCOUNT if none."""
        return self._account(participant, account_id)

    def margin_requirements(self, participant: str) -> list[MarginChanged]:
        """Current requirement of every account of ``participant`` per currency (zero once an
        account's requirement has fallen back to zero); between the commands of a batch, as the
        commands so far left it."""
        return [MarginChanged(owner=self.accounts[(participant, a)].participant, clearing_house=ch, account_id=a,
                              account_type=self.accounts[(participant, a)].account_type, currency=ccy,
                              requirement=value)
                for ch, a, _t, ccy, value in self.margin_rows(participant)]

    @property
    def dirty(self) -> bool:
        """Positions to tell or margin to recompute at the end of the batch."""
        return bool(self._untold) or self.derived.dirty

    def margin_rows(self, participant: str) -> list[tuple[str, str, str, str, int]]:
        """``margin_requirements`` as plain (clearing house, account id, account type name,
        currency, requirement) tuples, same order, no event objects (CCMS's hot path). Which rows
        there are, in which order, is remembered per participant until an account or a currency
        is added; the requirements are read afresh."""
        current = self.derived.current(participant)
        if current is not None:     # inside a batch, the participant's margin not yet settled
            out = []
            for pa in sorted(current):
                acct = self.accounts[pa]
                by_ccy = current[pa]
                for ccy in sorted(by_ccy):
                    out.append((acct.clearing_house, pa[1], acct.account_type.name, ccy, by_ccy[ccy]))
            return out
        layout = self._rows.get(participant)
        if layout is None:
            out = []
            margins = self.margins
            accounts = self.accounts
            for pa in sorted(self._margin_index.get(participant, ())):
                acct = accounts[pa]
                by_ccy = margins[pa]
                for ccy in sorted(by_ccy):
                    out.append((acct.clearing_house, pa[1], acct.account_type.name, ccy, by_ccy))
            layout = self._rows[participant] = tuple(out)
        return [(ch, a, t, ccy, by_ccy[ccy]) for ch, a, t, ccy, by_ccy in layout]

    def short_call_positions(self, participant: str, account_id: str) -> list[ShortCallPosition]:
        """Short positions in stock call options (the ones a covered call can cover)."""
        self._account(participant, account_id)
        out = []
        for key in self.account_positions.get((participant, account_id), {}):
            p = self.positions[(participant, account_id, key)]
            s = self.ref.series[key]
            if s.stock_call and (p.short or p.covered):
                out.append(ShortCallPosition(key, self.ref.underlyings[s.cls.underlying].stock_code,
                                             s.cls.contract_size, p.short, p.covered))
        return sorted(out, key=lambda x: x.series_key)

    def set_covered(self, participant: str, account_id: str, series_key: bytes, covered_qty: int,
                    ctx: Context) -> list:
        """Set the covered quantity of a short stock call position (CCMS checked the stock).
        Covered contracts carry no margin; returns the position and margin events. Raises
        ClearingError before changing anything if the request is invalid. The cut-off for cover
        requests is CCMS's business (effective next day after 18:45)."""
        s = self._series(series_key, allow_expired=False)
        self._account(participant, account_id, "account_id", s)
        if not s.stock_call:
            raise ClearingError(E.NOT_A_STOCK_CALL, s.name, field="series_key")
        if not isinstance(covered_qty, int) or isinstance(covered_qty, bool) or covered_qty < 0:
            raise ClearingError(E.INVALID_QUANTITY, repr(covered_qty), field="quantity")
        p = self.positions.get((participant, account_id, s.key))
        short = p.short if p else 0
        if covered_qty > short:
            raise ClearingError(E.COVER_EXCEEDS_SHORT, f"{covered_qty} > short {short}", field="quantity")
        if p is None:
            return []   # covered 0 of nothing: nothing to do
        batch = Batch()
        p.covered = covered_qty
        self._touch(batch, p)
        return self._finish(batch)

    # ------------------------------------------------------------ records
    def trade_info(self, t: Trade) -> TradeInfo:
        return TradeInfo(t.trade_no, t.deal_no, t.sequence, t.business_date, t.created, t.participant, t.account_id,
                         t.series_key, self.ref.series[t.series_key].name, t.side, t.quantity, t.price,
                         t.open_close, t.kind, t.state, t.available, t.moved, t.reserved, t.orig_trade_no,
                         tuple(t.children))

    def position_info(self, p: Position) -> PositionInfo:
        acct = self.accounts[(p.participant, p.account_id)]
        return PositionInfo(p.participant, p.account_id, acct.account_type, acct.clearing_house, p.series_key,
                            self.ref.series[p.series_key].name, p.long, p.short, p.long - p.short,
                            p.exercise_pending, p.exercised, p.assigned, p.covered, p.deny_exercise)

    def series_info(self, s: Series) -> SeriesInfo:
        return SeriesInfo(s.key, s.name, s.cls.id, s.expiry, s.strike, s.call_put, s.cls.price_decimals,
                          s.cls.strike_decimals, self._is_expired(s))

    # ------------------------------------------------------------ reference-data queries
    def _q_clearing_houses(self, q, ctx):
        return [ClearingHouseInfo(h.id, h.name, h.market) for h in self.ref.clearing_houses.values()]

    def _q_classes(self, q: InstrumentClassesQuery, ctx):
        out = []
        for c in self.ref.classes.values():
            if q.clearing_house and c.clearing_house != q.clearing_house:
                continue
            und = self.ref.underlyings[c.underlying]
            out.append(InstrumentClassInfo(c.id, c.symbol, c.name, c.kind, c.asset, c.underlying, und.stock_code,
                                           c.clearing_house, c.currency, c.multiplier, c.price_decimals,
                                           c.strike_decimals, und.price_decimals, c.settlement, c.exercise_style))
        return out

    def _q_series(self, q: SeriesQuery, ctx):
        if q.series_key is not None:
            return [self.series_info(self._series(q.series_key, allow_expired=True))]
        return [self.series_info(s) for s in self.ref.series.values()
                if (not q.class_id or s.cls.id == q.class_id) and (q.include_expired or not self._is_expired(s))]

    def _q_underlyings(self, q, ctx):
        return [UnderlyingInfo(u.id, u.name, u.kind, u.commodity, u.stock_code, u.price_decimals,
                               self.underlying_prices[u.id]) for u in self.ref.underlyings.values()]

    def _q_participants(self, q, ctx):
        return [ParticipantInfo(p.id, p.name, p.clearing_houses) for p in self.ref.participants.values()]

    def _q_accounts(self, q: AccountsQuery, ctx):
        self._acting(ctx, q.participant)
        return [AccountInfo(a.participant, a.account_id, a.account_type, a.clearing_house, a.gross)
                for a in self.accounts.values() if a.participant == q.participant]

    # ------------------------------------------------------------ trade queries
    def _q_trades(self, q: TradesQuery, ctx):
        self._acting(ctx, q.participant, q.account_id or None)
        if q.account_id:
            self._account(q.participant, q.account_id)
        out = []
        for (p, d), nos in sorted(self.trade_log.items()):
            if p != q.participant or (q.business_date is not None and d != q.business_date):
                continue
            for no in nos:
                t = self.trades[no]
                if q.account_id and t.account_id != q.account_id:
                    continue
                if q.series_key is not None and t.series_key != q.series_key:
                    continue
                if (q.from_time is not None and t.created < q.from_time) or \
                        (q.to_time is not None and t.created > q.to_time):
                    continue
                out.append(self.trade_info(t))
        return out

    def _q_missing_trades(self, q: MissingTradesQuery, ctx):
        self._acting(ctx, q.participant)
        if not (isinstance(q.first_sequence, int) and isinstance(q.last_sequence, int)
                and 1 <= q.first_sequence <= q.last_sequence):
            raise ClearingError(E.INVALID_SEQUENCE_RANGE, f"{q.first_sequence}..{q.last_sequence}",
                                field="first_sequence")
        nos = self.trade_log.get((q.participant, q.business_date or self.business_date), [])
        return [self.trade_info(self.trades[n]) for n in nos[q.first_sequence - 1:q.last_sequence]]

    def _q_trade_history(self, q: TradeHistoryQuery, ctx):
        self._acting(ctx, q.participant)
        t = self._own_trade(q.participant, q.trade_no)
        seen: dict[int, None] = {}
        if t.orig_trade_no and self.trades[t.orig_trade_no].participant == q.participant:
            seen[t.orig_trade_no] = None
        stack = [t.trade_no]
        while stack:
            n = stack.pop()
            if n not in seen:
                seen[n] = None
                stack += [c for c in self.trades[n].children if self.trades[c].participant == q.participant]
        return [self.trade_info(self.trades[n]) for n in sorted(seen)]

    def _q_give_ups(self, q: GiveUpsQuery, ctx):
        self._acting(ctx, q.participant)
        out = []
        for g in self.give_ups.values():
            if q.participant not in (g.giver, g.receiver):
                continue
            if (q.state is not None and g.state != q.state) or \
                    (q.business_date is not None and g.business_date != q.business_date):
                continue
            t = self.trades[g.trade_no]
            out.append(GiveUpInfo(g.give_up_no, g.state, g.giver, g.receiver, g.trade_no, g.series_key,
                                  self.ref.series[g.series_key].name, t.side, t.price, g.quantity, g.text, g.reason,
                                  g.business_date, g.created, g.answered, tuple(g.new_trade_nos)))
        return out

    # ------------------------------------------------------------ position / exercise queries
    def _q_positions(self, q: PositionsQuery, ctx):
        self._acting(ctx, q.participant, q.account_id or None)
        if q.account_id:
            self._account(q.participant, q.account_id)
        out = []
        for (p, a, k), pos in self.positions.items():
            if p != q.participant or (q.account_id and a != q.account_id) or \
                    (q.series_key is not None and k != q.series_key):
                continue
            if any(pos.quantities()):
                out.append(self.position_info(pos))
        return sorted(out, key=lambda i: (i.account_id, i.series_key))

    def _q_exercises(self, q: ExercisesQuery, ctx):
        self._acting(ctx, q.participant)
        return [ExerciseInfo(r.exercise_no, r.state, r.participant, r.account_id, r.series_key,
                             self.ref.series[r.series_key].name, r.quantity, r.processed_quantity, r.automatic,
                             r.business_date, r.created)
                for r in self.exercises.values()
                if r.participant == q.participant and (q.business_date is None or r.business_date == q.business_date)]

    def _q_deliveries(self, q: DeliveryObligationsQuery, ctx):
        self._acting(ctx, q.participant)
        return [DeliveryInfo(d.obligation_no, d.participant, d.account_id, d.series_key,
                             self.ref.series[d.series_key].name, d.stock_code, d.direction, d.shares, d.amount,
                             d.currency, d.exercise_date, d.settlement_date, d.origin, d.lots, d.covered_lots)
                for d in self.deliveries.values()
                if d.participant == q.participant and (q.business_date is None or d.exercise_date == q.business_date)]

    # ------------------------------------------------------------ risk / money queries
    def _q_margin(self, q: MarginQuery, ctx):
        self._acting(ctx, q.participant, q.account_id or None)
        if q.account_id:
            self._account(q.participant, q.account_id)
        return [m for m in self.margin_requirements(q.participant) if not q.account_id or m.account_id == q.account_id]

    def _q_money(self, q: MoneyObligationsQuery, ctx):
        self._acting(ctx, q.participant)
        on: date | None = q.business_date or (self.money_dates[-1] if self.money_dates else None)
        if on is None:
            return []
        rows = self.money_rows(q.participant, on)
        if q.by_account:
            return [MoneyObligationInfo(m.participant, m.account_id, m.clearing_house, m.currency, m.business_date,
                                        m.variation, m.premium, m.fees, m.cash_settlement, m.net) for m in rows]
        tot: dict[tuple[str, str], list[int]] = {}
        for m in rows:
            t = tot.setdefault((m.clearing_house, m.currency), [0, 0, 0, 0])
            t[0] += m.variation
            t[1] += m.premium
            t[2] += m.fees
            t[3] += m.cash_settlement
        return [MoneyObligationInfo(q.participant, "", ch, ccy, on, v, p, f, c, v + p + f + c)
                for (ch, ccy), (v, p, f, c) in sorted(tot.items())]

    def _q_prices(self, q: SettlementPricesQuery, ctx):
        keys = [self._series(q.series_key, allow_expired=True).key] if q.series_key is not None else \
            [k for k in self.ref.series if k in self.settlement or k in self.prev_settlement or k in self.last_price]
        return [SettlementPriceInfo(k, self.ref.series[k].name, self.settlement.get(k), self.prev_settlement.get(k),
                                    self.last_price.get(k)) for k in keys]

    # ------------------------------------------------------------ snapshot
    def snapshot(self):
        def rec(obj):
            d = {}
            for f in obj.__dataclass_fields__:
                v = getattr(obj, f)
                d[f] = v.hex() if isinstance(v, bytes) else v
            return d

        return {
            "accounts": [rec(a) for a in self.accounts.values()],
            "positions": [rec(p) for p in self.positions.values()],
            "trades": [rec(t) for t in self.trades.values()],
            "deals": [rec(d) for d in self.deals.values()],
            "give_ups": [rec(g) for g in self.give_ups.values()],
            "exercises": [rec(r) for r in self.exercises.values()],
            "deliveries": [rec(d) for d in self.deliveries.values()],
            "settlement": {k.hex(): v for k, v in self.settlement.items()},
            "prev_settlement": {k.hex(): v for k, v in self.prev_settlement.items()},
            "last_price": {k.hex(): v for k, v in self.last_price.items()},
            "underlying_prices": dict(self.underlying_prices),
            "expired": sorted(k.hex() for k in self.expired),
            "margins": {f"{p}/{a}": dict(m) for (p, a), m in self.margins.items()},
            "money": [rec(m) for m in self.money.values()],
            "counters": dict(self.counters),
            "sequences": {f"{s}/{p}/{d.isoformat()}": n for (s, p, d), n in self.sequences.items()},
            "rng": list(self.rng.getstate()[1]) + [self.rng.getstate()[0]],
        }
