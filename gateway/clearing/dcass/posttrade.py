"""Trade capture and post-trade functions: exchange deals, accounts, give-up/take-up, rectify,
transfers, open/close adjustment, close-out, prices.

Every adjustment books NEW deals with new trade numbers: a *reversal* trade in the source account
(opposite side and opposite open/close flag, at the original price) and a trade in the
destination account (original side). The original trade keeps its numbers; its ``moved``
quantity, state and ``children`` record what happened to it, and each new trade carries
``orig_trade_no``.
"""
from __future__ import annotations

from datetime import datetime

from ..core import Context, Outcome
from ..errors import INVALID_VALUE, ClearingError
from . import errors as E
from .base import Batch, DcassBase, Leg
from .commands import (Allocation, CloseOut, ConfirmGiveUp, GiveUpTrade, InjectDeal, InjectDeals, OpenAccount,
                       OpenCloseAdjustment, RectifyTrade, RejectGiveUp, SetSettlementPrice, SetUnderlyingPrice,
                       TransferFromTransitory, TransferPosition)
from .events import AccountOpened, GiveUpEvent, SettlementPriceSet, UnderlyingPriceSet
from .model import (OPENABLE_ACCOUNT_TYPES, Account, AccountType, DealKind, GiveUp, GiveUpState, OpenClose, Side,
                    Trade)
from .queries import AccountInfo, Booked
from .refdata import Series

_BUY, _SELL, _EXCHANGE = Side.BUY, Side.SELL, DealKind.EXCHANGE   # read once: an enum member's lookup costs


def _at(item: int | None) -> str:
    """The prefix of a field name of a trade feed's item (``deals[3].``); "" for a single deal."""
    return "" if item is None else f"deals[{item}]."


class PostTradeMixin(DcassBase):
    # ------------------------------------------------------------ operator
    def _deal_legs(self, cmd: InjectDeal, item: int | None = None) -> tuple[Series, list[Leg]]:
        """Check one exchange match (``item``: its index in a trade feed, whose field names are then
        prefixed ``deals[item].``); its series and two legs. Changes nothing. The checks run in the
        order of the fields; the common case is tested inline and only a failing value goes through
        the helper that raises its code (the field prefix is made only then)."""
        key, price, qty, buyer, seller, buyer_account, seller_account, buyer_oc, seller_oc, _ = cmd
        s = self.ref.series.get(key) if type(key) is bytes else None
        if s is None or key in self.expired or s.expiry < self.core.business_date:
            s = self._series(key, _at(item) + "series_key")
        if type(qty) is not int or qty <= 0:
            qty = self._quantity(qty, _at(item) + "quantity")
        if not isinstance(price, int) or price <= 0:
            raise ClearingError(E.INVALID_PRICE, repr(price), field=_at(item) + "price")
        ch = self._facts[s.key].clearing_house
        buyer, buy_account, buy_oc = self._deal_side(buyer, buyer_account, buyer_oc, s, ch, item, "buyer")
        seller, sell_account, sell_oc = self._deal_side(seller, seller_account, seller_oc, s, ch, item, "seller")
        return s, [Leg(buyer, buy_account, _BUY, qty, buy_oc), Leg(seller, sell_account, _SELL, qty, sell_oc)]

    def _deal_side(self, who: str, account_id: str, oc, s: Series, ch: str, item: int | None,
                   role: str) -> tuple[str, str, OpenClose]:
        """One side of an exchange match, checked: the participant id (the reference data's own
        string: the day's trades share it instead of each keeping the copy its request decoded,
        a hundred bytes a deal), its account id and open/close flag."""
        p = self.ref.participants.get(who)
        if p is None or ch not in p.clearing_houses:
            self._member(who, ch, _at(item) + role)
        who = p.id
        if account_id:
            acct = self.accounts.get((who, account_id))
            if acct is None or acct.clearing_house != ch:
                acct = self._account(who, account_id, _at(item) + role + "_account", s)
        else:
            acct = self._daily.get((who, ch))
            if acct is None:
                acct = self._daily_account(who, ch, None if item is None else _at(item) + role + "_account")
        if type(oc) is not OpenClose:
            oc = self._enum(OpenClose, oc, _at(item) + role + "_open_close")
        return who, acct.account_id, oc

    def _inject_deal(self, cmd: InjectDeal, ctx: Context) -> Outcome:
        ctx.require_operator()
        s, legs = self._deal_legs(cmd)
        batch = Batch()
        deal = self._book(batch, _EXCHANGE, s, cmd.price, legs, cmd.trade_time or ctx.now)
        self.last_price[s.key] = cmd.price
        return Outcome(Booked((deal.deal_no,), tuple(deal.trade_nos)), self._finish(batch))

    def _inject_deals(self, cmd: InjectDeals, ctx: Context) -> Outcome:
        """Every deal is checked first (nothing changes on a rejection, whose field names the
        item, e.g. ``deals[3].price``); then all are booked in order into one batch, so positions
        and margin are reported once each, with their final state."""
        ctx.require_operator()
        deals = cmd.deals
        limit = self.ref.params.max_deals_per_injection
        if not isinstance(deals, (tuple, list)):
            raise ClearingError(INVALID_VALUE, f"deals={type(deals).__name__}", field="deals")
        if not 1 <= len(deals) <= limit:
            raise ClearingError(E.INVALID_DEAL_COUNT, f"{len(deals)} deals, 1 to {limit} allowed", field="deals")
        deal_legs = self._deal_legs
        planned = []
        for i, d in enumerate(deals):
            if type(d) is not InjectDeal and not isinstance(d, InjectDeal):
                raise ClearingError(INVALID_VALUE, f"deals[{i}] is a {type(d).__name__}", field=f"deals[{i}]")
            planned.append(deal_legs(d, i))
        batch = Batch()
        deal_nos: list[int] = []
        trade_nos: list[int] = []
        last_price = self.last_price
        book = self._book
        now = ctx.now
        for d, (s, legs) in zip(deals, planned):
            price = d.price
            deal = book(batch, _EXCHANGE, s, price, legs, d.trade_time or now)
            last_price[s.key] = price
            deal_nos.append(deal.deal_no)
            trade_nos += deal.trade_nos
        return Outcome(Booked(tuple(deal_nos), tuple(trade_nos)), self._finish(batch))

    def _set_settlement_price(self, cmd: SetSettlementPrice, ctx: Context) -> Outcome:
        ctx.require_operator()
        s = self._series(cmd.series_key)
        if not isinstance(cmd.price, int) or cmd.price < 0 or (cmd.price == 0 and not s.is_option):
            raise ClearingError(E.INVALID_PRICE, repr(cmd.price), field="price")
        self.settlement[s.key] = cmd.price
        self._prices_changed(s.cls.underlying)
        events = [SettlementPriceSet(s.key, s.name, cmd.price, self.business_date)]
        return Outcome(None, self._margin_events(events))

    def _set_underlying_price(self, cmd: SetUnderlyingPrice, ctx: Context) -> Outcome:
        ctx.require_operator()
        if cmd.underlying not in self.ref.underlyings:
            raise ClearingError(E.UNKNOWN_UNDERLYING, repr(cmd.underlying), field="underlying")
        if not isinstance(cmd.price, int) or cmd.price <= 0:
            raise ClearingError(E.INVALID_PRICE, repr(cmd.price), field="price")
        self.underlying_prices[cmd.underlying] = cmd.price
        self._prices_changed(cmd.underlying)
        events = [UnderlyingPriceSet(cmd.underlying, cmd.price, self.business_date)]
        return Outcome(None, self._margin_events(events))

    # ------------------------------------------------------------ accounts
    def _open_account(self, cmd: OpenAccount, ctx: Context) -> Outcome:
        self._acting(ctx, cmd.participant)
        self._input_cutoff(ctx)
        if cmd.clearing_house not in self.ref.clearing_houses:
            raise ClearingError(E.UNKNOWN_CLEARING_HOUSE, repr(cmd.clearing_house), field="clearing_house")
        self._member(cmd.participant, cmd.clearing_house, "clearing_house")
        aid = cmd.account_id
        if not isinstance(aid, str) or not 1 <= len(aid) <= 16 or not aid.isascii() or not aid.isprintable() \
                or aid != aid.strip() or " " in aid:
            raise ClearingError(E.INVALID_ACCOUNT_ID, repr(aid), field="account_id")
        if (cmd.participant, aid) in self.accounts:
            raise ClearingError(E.ACCOUNT_EXISTS, aid, field="account_id")
        atype = self._enum(AccountType, cmd.account_type, "account_type")
        if atype not in OPENABLE_ACCOUNT_TYPES:
            raise ClearingError(E.ACCOUNT_TYPE_NOT_ALLOWED, atype.name, field="account_type")
        acct = Account(cmd.participant, aid, atype, cmd.clearing_house, opened=self.business_date)
        self.accounts[(cmd.participant, aid)] = acct
        info = AccountInfo(acct.participant, aid, atype, acct.clearing_house, acct.gross)
        return Outcome(info, [AccountOpened(cmd.participant, aid, atype, acct.clearing_house)])

    # ------------------------------------------------------------ give-up / take-up
    def _give_up_event(self, g: GiveUp, owner: str) -> GiveUpEvent:
        t = self.trades[g.trade_no]
        f = self._facts[g.series_key]
        return GiveUpEvent(owner, self._seq("give_up", owner), g.give_up_no, g.state, g.giver, g.receiver, g.trade_no,
                           g.series_key, f.name, t.side, t.price, g.quantity, g.text, g.reason, g.business_date,
                           tuple(g.new_trade_nos), g.created, g.answered, f.clearing_house, f.cls_id, f.underlying)

    def _give_up(self, cmd: GiveUpTrade, ctx: Context) -> Outcome:
        self._acting(ctx, cmd.participant)
        self._give_up_cutoff(ctx)
        t = self._own_trade(cmd.participant, cmd.trade_no)
        qty = self._quantity(cmd.quantity)
        self._adjustable(t, qty)
        s = self.ref.series[t.series_key]
        if cmd.to_participant == cmd.participant:
            raise ClearingError(E.GIVE_UP_TO_SELF, cmd.participant, field="to_participant")
        self._member(cmd.to_participant, s.cls.clearing_house, "to_participant")
        g = GiveUp(self._next("give_up"), cmd.participant, cmd.to_participant, t.trade_no, t.series_key, qty,
                   str(cmd.text)[:30], self.core.business_date, ctx.now)
        self.give_ups[g.give_up_no] = g
        t.reserved += qty
        events = [self._give_up_event(g, g.giver), self._give_up_event(g, g.receiver), self._trade_changed(t)]
        return Outcome(g.give_up_no, events)

    def _pending_give_up(self, participant: str, give_up_no: int) -> GiveUp:
        g = self.give_ups.get(give_up_no)
        if g is None or g.receiver != participant:
            raise ClearingError(E.GIVE_UP_NOT_FOUND, str(give_up_no), field="give_up_no")
        if g.state is not GiveUpState.PENDING:
            raise ClearingError(E.GIVE_UP_NOT_PENDING, f"{give_up_no} is {g.state.name}", field="give_up_no")
        return g

    def _allocations(self, participant: str, items: tuple, s, field: str) -> list[Allocation]:
        if not isinstance(items, (tuple, list)) or not items:
            raise ClearingError(E.ALLOCATION_MISMATCH, "no items", field=field)
        if len(items) > self.ref.params.max_items:
            raise ClearingError(E.TOO_MANY_ITEMS, f"{len(items)} > {self.ref.params.max_items}", field=field)
        out = []
        for it in items:
            self._quantity(it.quantity, field)
            self._account(participant, it.account_id, field, s)
            out.append(Allocation(it.account_id, it.quantity, self._enum(OpenClose, it.open_close, field)))
        return out

    def _confirm_give_up(self, cmd: ConfirmGiveUp, ctx: Context) -> Outcome:
        self._acting(ctx, cmd.participant)
        self._give_up_cutoff(ctx)
        g = self._pending_give_up(cmd.participant, cmd.give_up_no)
        t = self.trades[g.trade_no]
        s = self.ref.series[t.series_key]
        allocs = self._allocations(cmd.participant, cmd.allocations, s, "allocations")
        total = sum(a.quantity for a in allocs)
        if total != g.quantity:
            raise ClearingError(E.ALLOCATION_MISMATCH, f"{total} != {g.quantity}", field="allocations")
        pairs = [self._move_legs(t, a.quantity, cmd.participant, a.account_id, a.open_close, "allocations")
                 for a in allocs]
        self._plan(s.key, [leg for pair in pairs for leg in pair])
        batch = Batch()
        deals = []
        for pair in pairs:
            deal = self._book(batch, DealKind.GIVE_UP, s, t.price, pair, ctx.now, orig=t)
            deals.append(deal.deal_no)
            g.new_trade_nos.extend(deal.trade_nos)
        self._take_from(batch, t, g.quantity, reserved=True)
        g.state, g.answered = GiveUpState.CONFIRMED, ctx.now
        batch.events += [self._give_up_event(g, g.giver), self._give_up_event(g, g.receiver)]
        return Outcome(Booked(tuple(deals), tuple(g.new_trade_nos)), self._finish(batch))

    def _reject_give_up(self, cmd: RejectGiveUp, ctx: Context) -> Outcome:
        self._acting(ctx, cmd.participant)
        self._give_up_cutoff(ctx)
        g = self._pending_give_up(cmd.participant, cmd.give_up_no)
        return Outcome(g.give_up_no, self._close_give_up(g, GiveUpState.REJECTED, str(cmd.reason)[:30], ctx.now))

    def _close_give_up(self, g: GiveUp, state: GiveUpState, reason: str, when: datetime) -> list:
        t = self.trades[g.trade_no]
        t.reserved -= g.quantity
        g.state, g.reason, g.answered = state, reason, when
        return [self._give_up_event(g, g.giver), self._give_up_event(g, g.receiver), self._trade_changed(t)]

    def expire_give_ups(self, when: datetime) -> list:
        """Give-up cut-off: every pending give-up EXPIRES and returns to the giver's trade."""
        events = []
        for g in self.give_ups.values():
            if g.state is GiveUpState.PENDING:
                events += self._close_give_up(g, GiveUpState.EXPIRED, "give-up cut-off", when)
        return events

    @staticmethod
    def _move_legs(t: Trade, qty: int, to_participant: str, to_account: str, oc: OpenClose,
                   field: str) -> list[Leg]:
        return [Leg(t.participant, t.account_id, t.side.opposite, qty, t.open_close.opposite, True, field),
                Leg(to_participant, to_account, t.side, qty, oc, False, field)]

    # ------------------------------------------------------------ rectify / transitory / open-close
    def _rectify(self, cmd: RectifyTrade, ctx: Context) -> Outcome:
        self._acting(ctx, cmd.participant)
        self._input_cutoff(ctx)
        t = self._own_trade(cmd.participant, cmd.trade_no)
        s = self.ref.series[t.series_key]
        items = self._allocations(cmd.participant, cmd.items, s, "items")
        moving = [a for a in items if (a.account_id, a.open_close) != (t.account_id, t.open_close)]
        self._adjustable(t, sum(a.quantity for a in moving), "items")
        pairs = [self._move_legs(t, a.quantity, t.participant, a.account_id, a.open_close, "items") for a in moving]
        self._plan(s.key, [leg for pair in pairs for leg in pair])
        batch = Batch()
        booked = [self._book(batch, DealKind.RECTIFY, s, t.price, pair, ctx.now, orig=t) for pair in pairs]
        if moving:
            self._take_from(batch, t, sum(a.quantity for a in moving))
        return Outcome(Booked.of(booked), self._finish(batch))

    def _from_transitory(self, cmd: TransferFromTransitory, ctx: Context) -> Outcome:
        self._acting(ctx, cmd.participant)
        self._input_cutoff(ctx)
        t = self._own_trade(cmd.participant, cmd.trade_no)
        if self.accounts[(t.participant, t.account_id)].account_type is not AccountType.DAILY:
            raise ClearingError(E.NOT_TRANSITORY_ACCOUNT, f"trade {t.trade_no} is in {t.account_id}",
                                field="trade_no")
        qty = self._quantity(cmd.quantity)
        self._adjustable(t, qty)
        s = self.ref.series[t.series_key]
        self._account(cmd.participant, cmd.account_id, "account_id", s)
        if cmd.account_id == t.account_id:
            raise ClearingError(E.SAME_ACCOUNT, cmd.account_id, field="account_id")
        oc = self._enum(OpenClose, cmd.open_close, "open_close")
        legs = self._move_legs(t, qty, t.participant, cmd.account_id, oc, "quantity")
        self._plan(s.key, legs)
        batch = Batch()
        deal = self._book(batch, DealKind.TRANSITORY, s, t.price, legs, ctx.now, orig=t)
        self._take_from(batch, t, qty)
        return Outcome(Booked((deal.deal_no,), tuple(deal.trade_nos)), self._finish(batch))

    def _open_close(self, cmd: OpenCloseAdjustment, ctx: Context) -> Outcome:
        self._acting(ctx, cmd.participant)
        self._input_cutoff(ctx)
        t = self._own_trade(cmd.participant, cmd.trade_no)
        qty = self._quantity(cmd.quantity)
        oc = self._enum(OpenClose, cmd.open_close, "open_close")
        if oc is t.open_close:
            raise ClearingError(E.SAME_OPEN_CLOSE, oc.name, field="open_close")
        self._adjustable(t, qty)
        s = self.ref.series[t.series_key]
        legs = self._move_legs(t, qty, t.participant, t.account_id, oc, "quantity")
        self._plan(s.key, legs)
        batch = Batch()
        deal = self._book(batch, DealKind.OPEN_CLOSE, s, t.price, legs, ctx.now, orig=t)
        self._take_from(batch, t, qty)
        return Outcome(Booked((deal.deal_no,), tuple(deal.trade_nos)), self._finish(batch))

    # ------------------------------------------------------------ position functions
    def _transfer_position(self, cmd: TransferPosition, ctx: Context) -> Outcome:
        self._acting(ctx, cmd.participant, cmd.from_account)
        self._input_cutoff(ctx)
        s = self._series(cmd.series_key)
        self._account(cmd.participant, cmd.from_account, "from_account", s)
        self._account(cmd.participant, cmd.to_account, "to_account", s)
        if cmd.from_account == cmd.to_account:
            raise ClearingError(E.SAME_ACCOUNT, cmd.to_account, field="to_account")
        lq, sq = cmd.long_quantity, cmd.short_quantity
        for q, f in ((lq, "long_quantity"), (sq, "short_quantity")):
            if not isinstance(q, int) or isinstance(q, bool) or q < 0:
                raise ClearingError(E.INVALID_QUANTITY, repr(q), field=f)
        if lq == 0 and sq == 0:
            raise ClearingError(E.INVALID_QUANTITY, "nothing to transfer", field="long_quantity")
        p = self.positions.get((cmd.participant, cmd.from_account, s.key))
        if p is None or (p.long == 0 and p.short == 0):
            raise ClearingError(E.NO_POSITION, f"{cmd.from_account} {s.name}", field="series_key")
        if lq > p.long - p.exercise_pending:
            raise ClearingError(E.QUANTITY_EXCEEDS_HELD, f"long {lq} > {p.long - p.exercise_pending}",
                                field="long_quantity")
        if sq > p.short:
            raise ClearingError(E.QUANTITY_EXCEEDS_HELD, f"short {sq} > {p.short}", field="short_quantity")
        if cmd.price is not None and (not isinstance(cmd.price, int) or cmd.price < 0):
            raise ClearingError(E.INVALID_PRICE, repr(cmd.price), field="price")
        price = self.price_of(s) if cmd.price is None else cmd.price
        deals = self._transfer_legs(cmd.participant, cmd.from_account, cmd.to_account, lq, sq)
        self._plan(s.key, [leg for d in deals for leg in d])
        batch = Batch()
        booked = [self._book(batch, DealKind.POSITION_TRANSFER, s, price, legs, ctx.now) for legs in deals]
        return Outcome(Booked.of(booked), self._finish(batch))

    @staticmethod
    def _transfer_legs(participant: str, src: str, dst: str, long_qty: int, short_qty: int) -> list[list[Leg]]:
        deals = []
        if long_qty:
            deals.append([Leg(participant, src, Side.SELL, long_qty, OpenClose.CLOSE, True, "long_quantity"),
                          Leg(participant, dst, Side.BUY, long_qty, OpenClose.OPEN, False, "long_quantity")])
        if short_qty:
            deals.append([Leg(participant, src, Side.BUY, short_qty, OpenClose.CLOSE, True, "short_quantity"),
                          Leg(participant, dst, Side.SELL, short_qty, OpenClose.OPEN, False, "short_quantity")])
        return deals

    def _close_out(self, cmd: CloseOut, ctx: Context) -> Outcome:
        self._acting(ctx, cmd.participant, cmd.account_id)
        self._input_cutoff(ctx)
        s = self._series(cmd.series_key)
        acct = self._account(cmd.participant, cmd.account_id, "account_id", s)
        if not acct.gross:
            raise ClearingError(E.NOT_GROSS_ACCOUNT, f"{acct.account_id} is {acct.account_type.name}",
                                field="account_id")
        qty = self._quantity(cmd.quantity)
        p = self.positions.get((cmd.participant, cmd.account_id, s.key))
        if p is None or (p.long == 0 and p.short == 0):
            raise ClearingError(E.NO_POSITION, f"{cmd.account_id} {s.name}", field="series_key")
        if qty > min(p.long - p.exercise_pending, p.short):
            raise ClearingError(E.QUANTITY_EXCEEDS_HELD, f"{qty} > min(long {p.long - p.exercise_pending}, "
                                f"short {p.short})", field="quantity")
        legs = [Leg(cmd.participant, cmd.account_id, Side.SELL, qty, OpenClose.CLOSE, True),
                Leg(cmd.participant, cmd.account_id, Side.BUY, qty, OpenClose.CLOSE, True)]
        self._plan(s.key, legs)
        batch = Batch()
        deal = self._book(batch, DealKind.CLOSE_OUT, s, self.price_of(s), legs, ctx.now)
        return Outcome(Booked((deal.deal_no,), tuple(deal.trade_nos)), self._finish(batch))
