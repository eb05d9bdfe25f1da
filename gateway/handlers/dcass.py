"""DCASS requests and broadcasts: wire messages (protocol/messages/dcass.py) <-> core commands,
queries and events (gateway/clearing/dcass). Validation lives in the core; this module only
converts (series keys, enums by name, dates and times)."""
from __future__ import annotations

import functools

from gateway.clearing import dcass as dc
from gateway.clearing.core import BusinessDateQuery
from gateway.clearing.errors import INVALID_VALUE, ClearingError
from gateway.handlers.system import date_in, hms, time_in, ymd  # noqa: F401 - one declaration of the wire date/time form
from gateway.handlers import RequestContext, broadcast_view, handler
from protocol.codec import Constant
from protocol.messages import dcass as m
from protocol.messages.session import Ack

_KEY = m.SeriesKey.__record__
_ZERO_KEY = bytes(_KEY.size)


# ------------------------------------------------------------------ conversions
def key_in(series) -> bytes:
    return _KEY.encode(series)


def key_or_none(series) -> bytes | None:
    k = key_in(series)
    return None if k == _ZERO_KEY else k


@functools.lru_cache(maxsize=100_000)
def key_out(key: bytes):
    """The wire SeriesKey of a core series key: decoded once per key and shared (messages only
    read it: every query row about a series carries it; a broadcast packs the key's bytes)."""
    return _KEY.decode(bytes(key), 0)[0]


_ENUM_TO: dict[tuple, object] = {}


def enum_to(target, value):
    """Map an enum member to the member of the same name in ``target`` (remembered per pair:
    ``target[value.name]`` costs ~1 us through the enum machinery, on every broadcast; a dict, not
    ``functools.cache``: two arguments cost the cache ~0.2 us more per call, four calls per trade)."""
    try:
        return _ENUM_TO[target, value]
    except KeyError:
        r = _ENUM_TO[target, value] = target[value.name]
        return r


def enum_map(target, source) -> dict:
    """``enum_to(target, .)`` for the members of ``source`` as one table (a broadcast view's
    conversion, see :func:`gateway.handlers.broadcast_view`: looked up straight to the codes)."""
    return {member: target[member.name] for member in source}


# core field names -> request field names (for the byte offset of a rejected field)
_FIELDS = {"give_up_no": "give_up_number", "trade_no": "trade_number", "exercise_no": "exercise_number",
           "series_key": "series", "allocations": "items"}


def _mapped(e: ClearingError) -> ClearingError:
    """The core's field path in the request's names: ``deals[3].series_key`` -> ``deals[3].series``."""
    if e.field:
        parts = []
        for part in e.field.split("."):
            name, bracket, index = part.partition("[")
            parts.append(_FIELDS.get(name, name) + bracket + index)
        e.field = ".".join(parts)
    return e


def _exec(ctx: RequestContext, command):
    try:
        return ctx.execute(command)
    except ClearingError as e:
        raise _mapped(e) from None


def _ask(ctx: RequestContext, query):
    try:
        return ctx.query(query)
    except ClearingError as e:
        raise _mapped(e) from None


def _who(msg, ctx: RequestContext) -> str | None:
    return msg.participant or ctx.participant


def _allocations(items) -> tuple:
    return tuple(dc.Allocation(i.account_id, i.quantity, enum_to(dc.OpenClose, i.open_close)) for i in items)


def _booked(out, ctx: RequestContext, _trade_event=dc.TradeEvent, _item=m.TradeNumberItem) -> m.DealBookedReply:
    # every booked trade is announced by a TradeEvent of the outcome, with its deal number
    deal_of = {e.trade.trade_no: e.trade.deal_no for e in out.events if type(e) is _trade_event}
    return m.DealBookedReply(trades=[_item(deal_of[n], n) for n in out.reply.trade_nos])   # deal_number, trade_number


# ------------------------------------------------------------------ records
def trade_item(t: dc.TradeInfo) -> m.TradeItem:
    """From a TradeInfo (query); a TradeEvent is broadcast through its view (below)."""
    return m.TradeItem(
        trade_number=t.trade_no, deal_number=t.deal_no, sequence_number=t.sequence, orig_trade_number=t.orig_trade_no,
        series=key_out(t.series_key), series_symbol=t.series_name, account_id=t.account_id, deal_price=t.price,
        quantity=t.quantity, side=enum_to(m.Side, t.side), open_close=enum_to(m.OpenClose, t.open_close),
        deal_source=enum_to(m.DealSource, t.kind), state=enum_to(m.TradeState, t.state),
        available_quantity=t.available, business_date=ymd(t.business_date), created_date=ymd(t.created),
        created_time=hms(t.created))


def give_up_item(g, sequence: int = 0) -> m.GiveUpItem:
    return m.GiveUpItem(
        give_up_number=g.give_up_no, trade_number=g.trade_no, sequence_number=sequence,
        state=enum_to(m.GiveUpState, g.state), side=enum_to(m.Side, g.side), series=key_out(g.series_key),
        series_symbol=g.series_name, giver=g.giver, receiver=g.receiver, deal_price=g.price, quantity=g.quantity,
        text=g.text, reason=g.reason, business_date=ymd(g.business_date), created_time=hms(g.created),
        answered_time=hms(g.answered))


def position_item(p) -> m.PositionItem:
    return m.PositionItem(
        account_id=p.account_id, account_type=enum_to(m.AccountType, p.account_type), clearing_house=p.clearing_house,
        series=key_out(p.series_key), series_symbol=p.series_name, long=p.long, short=p.short,
        exercise_pending=p.exercise_pending, exercised=p.exercised, assigned=p.assigned, covered=p.covered,
        deny_exercise=p.deny_exercise)


def margin_item(r) -> m.MarginItem:
    return m.MarginItem(account_id=r.account_id, account_type=enum_to(m.AccountType, r.account_type),
                        clearing_house=r.clearing_house, currency=r.currency, requirement=r.requirement)


def exercise_item(r) -> m.ExerciseItem:
    return m.ExerciseItem(
        exercise_number=r.exercise_no, state=enum_to(m.ExerciseState, r.state), automatic=r.automatic,
        account_id=r.account_id, series=key_out(r.series_key), series_symbol=r.series_name, quantity=r.quantity,
        processed_quantity=r.processed_quantity, business_date=ymd(r.business_date))


def delivery_item(d) -> m.DeliveryItem:
    return m.DeliveryItem(
        obligation_number=d.obligation_no, direction=enum_to(m.DeliveryDirection, d.direction),
        account_id=d.account_id, series=key_out(d.series_key), series_symbol=d.series_name,
        stock_code=d.stock_code, shares=d.shares, amount=d.amount, currency=d.currency, origin=d.origin,
        lots=d.lots, covered_lots=d.covered_lots, exercise_date=ymd(d.exercise_date),
        settlement_date=ymd(d.settlement_date))


def money_item(r) -> m.MoneyItem:
    return m.MoneyItem(account_id=getattr(r, "account_id", ""), clearing_house=r.clearing_house, currency=r.currency,
                       business_date=ymd(r.business_date), variation=r.variation, premium=r.premium, fees=r.fees,
                       cash_settlement=r.cash_settlement, net=r.net)


def account_item(a) -> m.AccountItem:
    return m.AccountItem(account_id=a.account_id, account_type=enum_to(m.AccountType, a.account_type),
                         gross=dc.AccountType[a.account_type.name].gross, clearing_house=a.clearing_house)


# ------------------------------------------------------------------ participant transactions
@handler(m.OpenAccountRequest)
def open_account(msg: m.OpenAccountRequest, ctx: RequestContext):
    _exec(ctx, dc.OpenAccount(ctx.participant, msg.account_id, enum_to(dc.AccountType, msg.account_type),
                               msg.clearing_house))
    return Ack(text=f"account {msg.account_id} opened")


@handler(m.GiveUpRequest)
def give_up(msg: m.GiveUpRequest, ctx: RequestContext):
    out = _exec(ctx, dc.GiveUpTrade(ctx.participant, msg.trade_number, msg.quantity, msg.to_participant, msg.text))
    return Ack(reference=out.reply, text=f"give-up {out.reply} pending")


@handler(m.ConfirmGiveUpRequest)
def confirm_give_up(msg: m.ConfirmGiveUpRequest, ctx: RequestContext):
    if len(msg.items) > 50:
        raise ClearingError(dc.errors.TOO_MANY_ITEMS, f"{len(msg.items)} > 50", field="items")
    out = _exec(ctx, dc.ConfirmGiveUp(ctx.participant, msg.give_up_number, _allocations(msg.items)))
    return _booked(out, ctx)


@handler(m.RejectGiveUpRequest)
def reject_give_up(msg: m.RejectGiveUpRequest, ctx: RequestContext):
    out = _exec(ctx, dc.RejectGiveUp(ctx.participant, msg.give_up_number, msg.reason))
    return Ack(reference=out.reply, text=f"give-up {out.reply} rejected")


@handler(m.RectifyTradeRequest)
def rectify_trade(msg: m.RectifyTradeRequest, ctx: RequestContext):
    return _booked(_exec(ctx, dc.RectifyTrade(ctx.participant, msg.trade_number, _allocations(msg.items))), ctx)


@handler(m.TransferFromTransitoryRequest)
def transfer_from_transitory(msg: m.TransferFromTransitoryRequest, ctx: RequestContext):
    out = _exec(ctx, dc.TransferFromTransitory(ctx.participant, msg.trade_number, msg.account_id, msg.quantity,
                                                enum_to(dc.OpenClose, msg.open_close)))
    return _booked(out, ctx)


@handler(m.TransferPositionRequest)
def transfer_position(msg: m.TransferPositionRequest, ctx: RequestContext):
    out = _exec(ctx, dc.TransferPosition(ctx.participant, key_in(msg.series), msg.from_account, msg.to_account,
                                          msg.long_quantity, msg.short_quantity,
                                          msg.price if msg.use_price else None))
    return _booked(out, ctx)


@handler(m.OpenCloseAdjustmentRequest)
def open_close_adjustment(msg: m.OpenCloseAdjustmentRequest, ctx: RequestContext):
    out = _exec(ctx, dc.OpenCloseAdjustment(ctx.participant, msg.trade_number, msg.quantity,
                                             enum_to(dc.OpenClose, msg.open_close)))
    return _booked(out, ctx)


@handler(m.CloseOutRequest)
def close_out(msg: m.CloseOutRequest, ctx: RequestContext):
    out = _exec(ctx, dc.CloseOut(ctx.participant, msg.account_id, key_in(msg.series), msg.quantity))
    return _booked(out, ctx)


@handler(m.ExerciseRequest)
def exercise(msg: m.ExerciseRequest, ctx: RequestContext):
    out = _exec(ctx, dc.RequestExercise(ctx.participant, msg.account_id, key_in(msg.series), msg.quantity))
    return Ack(reference=out.reply, text=f"exercise {out.reply} pending")


@handler(m.AnnulExerciseRequest)
def annul_exercise(msg: m.AnnulExerciseRequest, ctx: RequestContext):
    out = _exec(ctx, dc.AnnulExercise(ctx.participant, msg.exercise_number))
    return Ack(reference=out.reply, text=f"exercise {out.reply} annulled")


@handler(m.DenyExerciseRequest)
def deny_exercise(msg: m.DenyExerciseRequest, ctx: RequestContext):
    out = _exec(ctx, dc.DenyExercise(ctx.participant, msg.account_id, key_in(msg.series), msg.quantity))
    return Ack(reference=out.reply, text=f"deny exercise {out.reply}")


# ------------------------------------------------------------------ operator transactions
_OPEN_CLOSE = enum_map(dc.OpenClose, m.OpenClose)


def _deal(d) -> dc.InjectDeal:
    """An EC101 request or an EC104 item as the core's deal."""
    return dc.InjectDeal(key_in(d.series), d.price, d.quantity, d.buyer, d.seller, d.buyer_account, d.seller_account,
                         _OPEN_CLOSE[d.buyer_open_close], _OPEN_CLOSE[d.seller_open_close])


@handler(m.InjectDealRequest)
def inject_deal(msg: m.InjectDealRequest, ctx: RequestContext):
    return _booked(_exec(ctx, _deal(msg)), ctx)


@handler(m.InjectDealsRequest)
def inject_deals(msg: m.InjectDealsRequest, ctx: RequestContext):
    return _booked(_exec(ctx, dc.InjectDeals(tuple([_deal(d) for d in msg.deals]))), ctx)


@handler(m.SetSettlementPriceRequest)
def set_settlement_price(msg: m.SetSettlementPriceRequest, ctx: RequestContext):
    _exec(ctx, dc.SetSettlementPrice(key_in(msg.series), msg.price))
    return Ack(text=f"settlement price {msg.price}")


@handler(m.SetUnderlyingPriceRequest)
def set_underlying_price(msg: m.SetUnderlyingPriceRequest, ctx: RequestContext):
    _exec(ctx, dc.SetUnderlyingPrice(msg.underlying, msg.price))
    return Ack(text=f"{msg.underlying} {msg.price}")


# ------------------------------------------------------------------ queries
@handler(m.PositionsQuery)
def positions(msg: m.PositionsQuery, ctx: RequestContext):
    rows = _ask(ctx, dc.PositionsQuery(_who(msg, ctx), msg.account_id, key_or_none(msg.series)))
    return m.PositionsAnswer(items=[position_item(p) for p in rows])


@handler(m.MissingTradesQuery)
def missing_trades(msg: m.MissingTradesQuery, ctx: RequestContext):
    rows = _ask(ctx, dc.MissingTradesQuery(_who(msg, ctx), msg.first_sequence, msg.last_sequence,
                                           date_in(msg.business_date, "business_date")))
    return m.MissingTradesAnswer(items=[trade_item(t) for t in rows])


@handler(m.TradesQuery)
def trades(msg: m.TradesQuery, ctx: RequestContext):
    bdate = date_in(msg.business_date, "business_date")
    on = bdate or ctx.query(BusinessDateQuery()).business_date
    rows = _ask(ctx, dc.TradesQuery(_who(msg, ctx), msg.account_id, key_or_none(msg.series),
                                    time_in(msg.from_time, on, "from_time"), time_in(msg.to_time, on, "to_time"),
                                    bdate))
    return m.TradesAnswer(items=[trade_item(t) for t in rows])


@handler(m.TradeHistoryQuery)
def trade_history(msg: m.TradeHistoryQuery, ctx: RequestContext):
    rows = _ask(ctx, dc.TradeHistoryQuery(_who(msg, ctx), msg.trade_number))
    return m.TradeHistoryAnswer(items=[trade_item(t) for t in rows])


@handler(m.GiveUpsQuery)
def give_ups(msg: m.GiveUpsQuery, ctx: RequestContext):
    state = None
    if msg.state:
        try:
            state = dc.GiveUpState(msg.state)
        except ValueError:
            raise ClearingError(INVALID_VALUE, f"state {msg.state}", field="state") from None
    rows = _ask(ctx, dc.GiveUpsQuery(_who(msg, ctx), state, date_in(msg.business_date, "business_date")))
    return m.GiveUpsAnswer(items=[give_up_item(g) for g in rows])


@handler(m.ExercisesQuery)
def exercises(msg: m.ExercisesQuery, ctx: RequestContext):
    rows = _ask(ctx, dc.ExercisesQuery(_who(msg, ctx), date_in(msg.business_date, "business_date")))
    return m.ExercisesAnswer(items=[exercise_item(r) for r in rows])


@handler(m.AccountsQuery)
def accounts(msg: m.AccountsQuery, ctx: RequestContext):
    rows = _ask(ctx, dc.AccountsQuery(_who(msg, ctx)))
    return m.AccountsAnswer(items=[account_item(a) for a in rows])


@handler(m.MarginQuery)
def margin(msg: m.MarginQuery, ctx: RequestContext):
    rows = _ask(ctx, dc.MarginQuery(_who(msg, ctx), msg.account_id))
    return m.MarginAnswer(items=[margin_item(r) for r in rows])


@handler(m.MoneyObligationsQuery)
def money_obligations(msg: m.MoneyObligationsQuery, ctx: RequestContext):
    rows = _ask(ctx, dc.MoneyObligationsQuery(_who(msg, ctx), date_in(msg.business_date, "business_date"),
                                              msg.by_account))
    return m.MoneyObligationsAnswer(items=[money_item(r) for r in rows])


@handler(m.DeliveryObligationsQuery)
def delivery_obligations(msg: m.DeliveryObligationsQuery, ctx: RequestContext):
    rows = _ask(ctx, dc.DeliveryObligationsQuery(_who(msg, ctx), date_in(msg.business_date, "business_date")))
    return m.DeliveryObligationsAnswer(items=[delivery_item(d) for d in rows])


@handler(m.SettlementPricesQuery)
def settlement_prices(msg: m.SettlementPricesQuery, ctx: RequestContext):
    rows = _ask(ctx, dc.SettlementPricesQuery(key_or_none(msg.series)))
    return m.SettlementPricesAnswer(items=[m.SettlementPriceItem(
        series=key_out(r.series_key), series_symbol=r.series_name, price=r.price or 0, previous=r.previous or 0,
        last_trade=r.last_trade or 0, has_price=r.price is not None, has_previous=r.previous is not None,
        has_last_trade=r.last_trade is not None) for r in rows])


@handler(m.ClassesQuery)
def classes(msg: m.ClassesQuery, ctx: RequestContext):
    market = {h.id: h.market for h in _ask(ctx, dc.ClearingHousesQuery())}
    commodity = {u.underlying: u.commodity for u in _ask(ctx, dc.UnderlyingsQuery())}
    out = []
    for c in _ask(ctx, dc.InstrumentClassesQuery(msg.clearing_house)):
        out.append(m.ClassItem(
            class_id=c.class_id, symbol=c.symbol, name=c.name, kind=enum_to(m.InstrumentKind, c.kind),
            market=market[c.clearing_house], commodity=commodity[c.underlying],
            exercise_style=c.exercise_style, settlement=c.settlement, clearing_house=c.clearing_house,
            currency=c.currency, underlying=c.underlying, stock_code=c.stock_code, asset=c.asset,
            multiplier=c.multiplier, price_decimals=c.price_decimals, strike_decimals=c.strike_decimals,
            underlying_price_decimals=c.underlying_price_decimals, money_decimals=c.money_decimals))
    return m.ClassesAnswer(items=out)


@handler(m.SeriesQuery)
def series(msg: m.SeriesQuery, ctx: RequestContext):
    rows = _ask(ctx, dc.SeriesQuery(msg.class_id, None, msg.include_expired))
    return m.SeriesAnswer(items=[m.SeriesItem(
        series=key_out(s.series_key), series_symbol=s.name, class_id=s.class_id, expiry_date=ymd(s.expiry),
        strike_price=s.strike, call_put=enum_to(m.CallPut, s.call_put), price_decimals=s.price_decimals,
        strike_decimals=s.strike_decimals, expired=s.expired) for s in rows])


@handler(m.UnderlyingsQuery)
def underlyings(msg: m.UnderlyingsQuery, ctx: RequestContext):
    return m.UnderlyingsAnswer(items=[m.UnderlyingItem(
        underlying=u.underlying, name=u.name, kind=u.kind, stock_code=u.stock_code, commodity=u.commodity,
        price_decimals=u.price_decimals, price=u.price) for u in _ask(ctx, dc.UnderlyingsQuery())])


@handler(m.ParticipantsQuery)
def participants(msg: m.ParticipantsQuery, ctx: RequestContext):
    return m.ParticipantsAnswer(items=[m.ParticipantItem(
        participant=p.participant, name=p.name, hkcc="HKCC" in p.clearing_houses,
        seoch="SEOCH" in p.clearing_houses) for p in _ask(ctx, dc.ParticipantsQuery())])


# ------------------------------------------------------------------ broadcasts
# Every broadcast is a view: its bytes are encoded straight from the event
# (gateway.handlers.broadcast_view), with no message object in between.
def _new_trade_available(e: dc.TradeEvent, _reversal=dc.TradeState.REVERSAL) -> int:
    """A new trade can be adjusted in full, a reversal not at all."""
    return 0 if e.state is _reversal else e.trade.quantity


_TRADE_STATE = enum_map(m.TradeState, dc.TradeState)
_ACCOUNT_TYPE = enum_map(m.AccountType, dc.AccountType)

# the event's state is the trade's at booking; the rest is read from the booked trade itself
broadcast_view(dc.TradeEvent, m.TradeBroadcast, {
    "trade.trade_number": "trade.trade_no", "trade.deal_number": "trade.deal_no",
    "trade.sequence_number": "trade.sequence", "trade.orig_trade_number": "trade.orig_trade_no",
    "trade.series": (bytes, "trade.series_key"), "trade.series_symbol": "series_name",
    "trade.account_id": "account_id", "trade.deal_price": "trade.price", "trade.quantity": "trade.quantity",
    "trade.side": (enum_map(m.Side, dc.Side), "trade.side"),
    "trade.open_close": (enum_map(m.OpenClose, dc.OpenClose), "trade.open_close"),
    "trade.deal_source": (enum_map(m.DealSource, dc.DealKind), "trade.kind"), "trade.state": (_TRADE_STATE, "state"),
    "trade.available_quantity": (_new_trade_available, None), "trade.business_date": (ymd, "trade.business_date"),
    "trade.created_date": (ymd, "trade.created"), "trade.created_time": (hms, "trade.created"),
})

broadcast_view(dc.TradeChanged, m.TradeChangeBroadcast, {
    "trade_number": "trade_no", "state": (_TRADE_STATE, "state"), "available_quantity": "available",
    "moved_quantity": "moved", "reserved_quantity": "reserved",
})


broadcast_view(dc.GiveUpEvent, m.GiveUpBroadcast, {
    "give_up.give_up_number": "give_up_no", "give_up.trade_number": "trade_no",
    "give_up.sequence_number": "sequence", "give_up.state": (enum_map(m.GiveUpState, dc.GiveUpState), "state"),
    "give_up.side": (enum_map(m.Side, dc.Side), "side"), "give_up.series": (bytes, "series_key"),
    "give_up.series_symbol": "series_name", "give_up.deal_price": "price",
    "give_up.business_date": (ymd, "business_date"), "give_up.created_time": (hms, "created"),
    "give_up.answered_time": (hms, "answered"),
})


broadcast_view(dc.PositionChanged, m.PositionBroadcast, {
    "position.account_type": (_ACCOUNT_TYPE, "account_type"), "position.series": (bytes, "series_key"),
    "position.series_symbol": "series_name",
})

broadcast_view(dc.MarginChanged, m.MarginBroadcast, {"margin.account_type": (_ACCOUNT_TYPE, "account_type")})


broadcast_view(dc.ExerciseEvent, m.ExerciseBroadcast, {
    "exercise.exercise_number": "exercise_no",
    "exercise.state": (enum_map(m.ExerciseState, dc.ExerciseState), "state"),
    "exercise.series": (bytes, "series_key"), "exercise.series_symbol": "series_name",
    "exercise.business_date": (ymd, "business_date"),
})


broadcast_view(dc.AssignmentEvent, m.AssignmentBroadcast, {
    "series": (bytes, "series_key"), "series_symbol": "series_name", "business_date": (ymd, "business_date"),
})

broadcast_view(dc.DeliveryObligationEvent, m.DeliveryBroadcast, {
    "delivery.obligation_number": "obligation_no",
    "delivery.direction": (enum_map(m.DeliveryDirection, dc.DeliveryDirection), "direction"),
    "delivery.series": (bytes, "series_key"), "delivery.series_symbol": "series_name",
    "delivery.exercise_date": (ymd, "exercise_date"), "delivery.settlement_date": (ymd, "settlement_date"),
})

# the event is a participant's total per clearing house and currency: no account (blank)
broadcast_view(dc.MoneyObligationEvent, m.MoneyBroadcast, {
    "money.account_id": Constant(""), "money.business_date": (ymd, "business_date"),
})

broadcast_view(dc.AccountOpened, m.AccountOpenedBroadcast, {
    "account.account_type": (_ACCOUNT_TYPE, "account_type"),
    "account.gross": ({t: t.gross for t in dc.AccountType}, "account_type"),
})

broadcast_view(dc.SettlementPriceSet, m.SettlementPriceBroadcast, {
    "series": (bytes, "series_key"), "series_symbol": "series_name", "business_date": (ymd, "business_date"),
})

broadcast_view(dc.UnderlyingPriceSet, m.UnderlyingPriceBroadcast, {"business_date": (ymd, "business_date")})
