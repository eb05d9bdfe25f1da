"""Broadcasts encoded straight from the core's events (``gateway.handlers.broadcast_view``, code
generated from the message declarations by ``protocol.codec.Record.encoder``) give the bytes of the
message object built from the same facts, field for field: every declared view is checked against
the mapper it replaced (kept here as the reference), with events whose values sit at their edges."""
from __future__ import annotations

import dataclasses
import struct
from datetime import date, datetime
from decimal import Decimal

import pytest

import gateway.handlers as H
from gateway.clearing import collateral as cc
from gateway.clearing import core as c
from gateway.clearing import dcass as dc
from gateway.clearing.dcass.model import Trade
from gateway.clearing import otc
from gateway.clearing.collateral import authorisation as au
from gateway.clearing.core import ClearingCore, Context
from gateway.handlers import authorisation as hau
from gateway.handlers import collateral as hco
from gateway.handlers import dcass as hd
from gateway.handlers import otc as hot
from gateway.handlers.system import hms, ymd
from gateway.refdata import module_factories
from protocol.codec import Constant, EncodeError
from protocol.messages import authorisation as ma
from protocol.messages import collateral as mc
from protocol.messages import dcass as m
from protocol.messages import otc as mo
from protocol.messages import system as ms
from protocol.registry import decode_message, encode_message

H.load_all()
START = datetime(2026, 11, 2, 10, 0)


def booked():
    core = ClearingCore(START, module_factories=module_factories())
    d = core.module("dcass")
    key = d.ref.by_name["TCH NOV26 460.00 C"].key
    out = core.execute(dc.InjectDeal(key, 1_250, 7, "CPA01", "CPB02", "SEOCH-HOUSE", ""),
                       Context(START.replace(second=30), None, "op", True))
    return d, out.events


def payload(e) -> bytes:
    return H.ENCODERS[type(e)][1](e)


def test_trade_position_and_margin_views_give_the_message_objects_bytes():
    d, events = booked()
    seen = {type(e) for e in events}
    assert {dc.TradeEvent, dc.PositionChanged, dc.MarginChanged} <= seen
    for e in events:
        if type(e) is dc.TradeEvent:
            info = d.trade_info(d.trades[e.trade_no])
            want = m.TradeBroadcast(trade=hd.trade_item(info))
        elif type(e) is dc.PositionChanged:
            want = m.PositionBroadcast(position=hd.position_item(e))
        elif type(e) is dc.MarginChanged:
            want = m.MarginBroadcast(margin=hd.margin_item(e))
        else:
            continue
        assert payload(e) == encode_message(want), type(e).__name__
        assert H.BROADCASTS[type(e)](e) == want      # the message object, for whoever needs one


def test_a_reversal_trade_is_broadcast_with_nothing_available():
    _, events = booked()
    e = next(e for e in events if type(e) is dc.TradeEvent)
    assert decode_message(payload(e)).trade.available_quantity == e.quantity
    rev = dataclasses.replace(e, state=dc.TradeState.REVERSAL)
    got = decode_message(payload(rev)).trade
    assert (got.available_quantity, got.state) == (0, m.TradeState.REVERSAL)


def test_trade_change_view():
    e = dc.TradeChanged("CPA01", 12, dc.TradeState.ACTIVE, 5, 2, 1)
    assert payload(e) == encode_message(m.TradeChangeBroadcast(
        trade_number=12, state=m.TradeState.ACTIVE, available_quantity=5, moved_quantity=2, reserved_quantity=1))


def test_give_up_and_exercise_views_give_the_message_objects_bytes():
    d, _ = booked()
    core = d.core
    ctx = Context(START.replace(second=40), "CPA01", "cpa01")
    trade = next(t for t in d.trades.values() if t.participant == "CPA01")
    events = core.execute(dc.GiveUpTrade("CPA01", trade.trade_no, 2, "CPB02", "x" * 40 + " long text"), ctx).events
    give_ups = [e for e in events if type(e) is dc.GiveUpEvent]
    rejected = core.execute(dc.RejectGiveUp("CPB02", give_ups[0].give_up_no, "no " * 20),
                            Context(START.replace(second=50), "CPB02", "cpb02")).events
    give_ups += [e for e in rejected if type(e) is dc.GiveUpEvent]
    events = core.execute(dc.RequestExercise("CPA01", "SEOCH-HOUSE", trade.series_key, 3), ctx).events
    exercises = [e for e in events if type(e) is dc.ExerciseEvent]
    assert len(give_ups) == 4 and give_ups[-1].answered and len(exercises) == 1
    for e in give_ups:
        want = m.GiveUpBroadcast(give_up=hd.give_up_item(e, e.sequence))
        assert payload(e) == encode_message(want)   # texts cut and padded alike
    for e in exercises:
        want = m.ExerciseBroadcast(exercise=hd.exercise_item(e))
        assert payload(e) == encode_message(want)
        assert H.BROADCASTS[type(e)](e) == want


@pytest.mark.parametrize("lines", [0, 1, 2])
def test_coverage_view_gives_its_lines_as_items(lines):
    line = cc.CoverageLine("HKD", 1_000, 500, 500, 0, 300, 200, 100, 400)
    e = cc.CoverageChanged("CPA01", "HKCC", "CPA01-HKCC", (line, dataclasses.replace(line, currency="CNY"))[:lines],
                           12_345)
    want = mc.CoverageChangedBroadcast(clearing_house="HKCC", account="CPA01-HKCC", excess_hkd=12_345,
                                       items=[hco.coverage_line(x) for x in e.lines])
    assert payload(e) == encode_message(want)
    assert H.BROADCASTS[type(e)](e) == want


@pytest.mark.parametrize("status", ["ISSUED", "AMENDED", "MET"])
def test_margin_call_view(status):
    called, due = datetime(2026, 11, 2, 10, 0, 1), datetime(2026, 11, 2, 11, 0, 1)
    e = cc.MarginCallChanged("CPA01", "HKCC", "CPA01-HKCC", "HKD", 500, status, called, due)
    assert payload(e) == encode_message(mc.MarginCallBroadcast(
        clearing_house="HKCC", account="CPA01-HKCC", currency="HKD", amount=500, status=mc.CallStatus[status],
        called_date="20261102", called_time="100001", due_date="20261102", due_time="110001"))


def test_a_view_reads_items_from_the_attribute_it_names():
    deal = m.DealItem(series=m.SeriesKey(country=1, market=1, commodity=10001), price=25_000, quantity=3,
                      buyer="CPA01", seller="CPB02")
    source = dataclasses.make_dataclass("Source", ["matches"])([deal, deal])
    encode = m.InjectDealsRequest.__message__.record.encoder({"deals": ("matches", {"series": "series"})})
    assert encode(source) == m.InjectDealsRequest.__message__.record.encode(m.InjectDealsRequest(deals=[deal, deal]))


def test_a_view_naming_no_field_is_refused():
    with pytest.raises(ValueError, match="no field"):
        m.MarginBroadcast.__message__.record.encoder({"margin.acount_type": "account_type"})


def test_a_view_converts_through_a_table():
    """A dict converts by lookup: for a code field, to the member's value straight away."""
    source = dataclasses.make_dataclass("Source", ["no", "how", "who"])(7, "IN", "a")
    encode = m.TradeChangeBroadcast.__message__.record.encoder({
        "trade_number": ({7: 12}, "no"), "state": ({"IN": m.TradeState.ACTIVE}, "how"),
        "available_quantity": ({"a": 5}, "who"), "moved_quantity": ({"a": 2}, "who"),
        "reserved_quantity": ({"a": 1}, "who")})
    assert encode(source) == encode_message(m.TradeChangeBroadcast(
        trade_number=12, state=m.TradeState.ACTIVE, available_quantity=5, moved_quantity=2,
        reserved_quantity=1))[4:]
    with pytest.raises(ValueError):   # a table to values that are not the code's members
        m.TradeChangeBroadcast.__message__.record.encoder({"state": ({"IN": 99}, "how")})


def test_a_view_packs_a_nested_record_given_as_its_bytes():
    """``(bytes, attribute)`` for a nested record: the attribute is the record's encoding (the core's
    series keys are the wire's), packed as it is."""
    _, events = booked()
    e = next(e for e in events if type(e) is dc.TradeEvent)
    by_fields = m.TradeBroadcast.__message__.record.encoder({**_TRADE_VIEW, "trade.series": (hd.key_out, "series_key")})
    as_bytes = m.TradeBroadcast.__message__.record.encoder({**_TRADE_VIEW, "trade.series": (bytes, "series_key")})
    assert as_bytes(e) == by_fields(e) and e.series_key in as_bytes(e)


_TRADE_VIEW = {"trade.trade_number": "trade_no", "trade.deal_number": "deal_no", "trade.sequence_number": "sequence",
               "trade.orig_trade_number": "orig_trade_no", "trade.series_symbol": "series_name",
               "trade.deal_price": "price", "trade.side": (hd.enum_map(m.Side, dc.Side), "side"),
               "trade.open_close": (hd.enum_map(m.OpenClose, dc.OpenClose), "open_close"),
               "trade.deal_source": (hd.enum_map(m.DealSource, dc.DealKind), "kind"),
               "trade.state": (hd.enum_map(m.TradeState, dc.TradeState), "state"),
               "trade.available_quantity": "quantity", "trade.business_date": (hd.ymd, "business_date"),
               "trade.created_date": (hd.ymd, "created"), "trade.created_time": (hd.hms, "created")}


# ------------------------------------------------------------------ every view, against the mapper it replaced
def longest(message_cls, path: str) -> str:
    """A text as long as the message's text field at ``path`` takes (its declared length)."""
    rec = message_cls.__message__.record
    *outer, name = path.split(".")
    for part in outer:
        rec = next(f.record for f in rec.fields if f.name == part)
    n = next(f.length for f in rec.fields if f.name == name)
    return ("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789" * 4)[:n]


KEY = hd.key_in(m.SeriesKey(country=1, market=2, instrument_group=3, modifier=4, commodity=65_535,
                            expiration_date=65_535, strike_price=-2_147_483_648))
DAY, NEXT = date(2026, 11, 2), date(2026, 11, 3)
MIDNIGHT, LAST = datetime(2026, 11, 2, 0, 0, 0), datetime(2026, 11, 2, 23, 59, 59)
U32, I32, I64 = 4_294_967_295, 2_147_483_647, 9_223_372_036_854_775_807


def _trade_reference(e: dc.TradeEvent):
    return m.TradeBroadcast(trade=m.TradeItem(
        trade_number=e.trade_no, deal_number=e.deal_no, sequence_number=e.sequence, orig_trade_number=e.orig_trade_no,
        series=hd.key_out(e.series_key), series_symbol=e.series_name, account_id=e.account_id, deal_price=e.price,
        quantity=e.quantity, side=m.Side[e.side.name], open_close=m.OpenClose[e.open_close.name],
        deal_source=m.DealSource[e.kind.name], state=m.TradeState[e.state.name],
        available_quantity=0 if e.state is dc.TradeState.REVERSAL else e.quantity,
        business_date=ymd(e.business_date), created_date=ymd(e.created), created_time=hms(e.created)))


# Event class -> the @broadcast mapper its view replaced (the message object the old code built). The
# row functions of the handlers (give_up_item, delivery_item, trade_row, instruction_row, ...) build
# the queries' rows still: a view that drifted from its query's row fails here.
REFERENCE = {
    # ---- system
    c.Heartbeat: lambda e: ms.HeartbeatBroadcast(interval=e.interval, instance=1, instances=1,
                                                 business_time=hms(e.now), description="hkpost emulator gateway"),
    c.ClearingMessage: lambda e: ms.ClearingMessageBroadcast(number=e.number, business_time=hms(e.now),
                                                             lines=[ms.MessageLine(text=t) for t in e.lines]),
    c.BusinessDateChanged: lambda e: ms.BusinessDateChangeBroadcast(
        business_date=ymd(e.business_date), previous_business_date=ymd(e.previous_business_date),
        business_time=hms(e.now)),
    # ---- DCASS
    dc.TradeEvent: _trade_reference,
    dc.TradeChanged: lambda e: m.TradeChangeBroadcast(
        trade_number=e.trade_no, state=m.TradeState[e.state.name], available_quantity=e.available,
        moved_quantity=e.moved, reserved_quantity=e.reserved),
    dc.GiveUpEvent: lambda e: m.GiveUpBroadcast(give_up=hd.give_up_item(e, e.sequence)),
    dc.PositionChanged: lambda e: m.PositionBroadcast(position=hd.position_item(e)),
    dc.MarginChanged: lambda e: m.MarginBroadcast(margin=hd.margin_item(e)),
    dc.ExerciseEvent: lambda e: m.ExerciseBroadcast(exercise=hd.exercise_item(e)),
    dc.AssignmentEvent: lambda e: m.AssignmentBroadcast(
        account_id=e.account_id, series=hd.key_out(e.series_key), series_symbol=e.series_name, quantity=e.quantity,
        business_date=ymd(e.business_date)),
    dc.DeliveryObligationEvent: lambda e: m.DeliveryBroadcast(delivery=hd.delivery_item(e)),
    dc.MoneyObligationEvent: lambda e: m.MoneyBroadcast(money=hd.money_item(e)),
    dc.AccountOpened: lambda e: m.AccountOpenedBroadcast(account=hd.account_item(e)),
    dc.SettlementPriceSet: lambda e: m.SettlementPriceBroadcast(
        series=hd.key_out(e.series_key), series_symbol=e.series_name, price=e.price,
        business_date=ymd(e.business_date)),
    dc.UnderlyingPriceSet: lambda e: m.UnderlyingPriceBroadcast(underlying=e.underlying, price=e.price,
                                                                business_date=ymd(e.business_date)),
    # ---- CCMS
    cc.CollateralAccountOpened: lambda e: mc.CollateralAccountOpenedBroadcast(
        clearing_house=e.clearing_house, account=e.account, kind=mc.AccountKind[e.kind]),
    cc.DcassAccountMapped: lambda e: mc.DcassAccountMappedBroadcast(
        clearing_house=e.clearing_house, dcass_account=e.dcass_account, account=e.account,
        previous_account=e.previous_account, explicit=e.explicit),
    cc.InstructionAccepted: lambda e: mc.InstructionAcceptedBroadcast(
        instruction_id=e.instruction_id, clearing_house=e.clearing_house, account=e.account,
        action=mc.InstructionAction[e.action], asset_class=mc.AssetClass[e.asset_class], specific=e.specific,
        asset=e.asset, quantity=e.quantity, value_date=ymd(e.value_date)),
    cc.InstructionCompleted: lambda e: mc.InstructionCompletedBroadcast(
        instruction_id=e.instruction_id, clearing_house=e.clearing_house, account=e.account,
        action=mc.InstructionAction[e.action], asset_class=mc.AssetClass[e.asset_class], specific=e.specific,
        asset=e.asset, quantity=e.quantity, value_date=ymd(e.value_date), completed_date=ymd(e.completed_at),
        completed_time=hms(e.completed_at)),
    cc.CoverageChanged: lambda e: mc.CoverageChangedBroadcast(
        clearing_house=e.clearing_house, account=e.account, excess_hkd=e.excess_hkd,
        items=[hco.coverage_line(x) for x in e.lines]),
    cc.MarginCallChanged: lambda e: mc.MarginCallBroadcast(
        clearing_house=e.clearing_house, account=e.account, currency=e.currency, amount=e.amount,
        status=mc.CallStatus[e.status], called_date=ymd(e.called_at), called_time=hms(e.called_at),
        due_date=ymd(e.due), due_time=hms(e.due)),
    cc.CoveredCallChanged: lambda e: mc.CoveredCallChangedBroadcast(
        clearing_house=e.clearing_house, dcass_account=e.dcass_account, account=e.account,
        series=hd.key_out(e.series_key), underlying=e.underlying, contracts=e.contracts, shares=e.shares,
        reason=mc.CoverReason[e.reason]),
    cc.ReserveFundContributed: lambda e: mc.ReserveFundContributedBroadcast(
        clearing_house=e.clearing_house, contribution=mc.Contribution[e.contribution],
        asset_class=mc.AssetClass[e.asset_class], asset=e.asset, quantity=e.quantity),
    cc.InterestPosted: lambda e: mc.InterestPostedBroadcast(
        clearing_house=e.clearing_house, account=e.account, currency=e.currency, period_end=ymd(e.period_end),
        interest=e.interest, accommodation=e.accommodation, net=e.net, balance=e.balance),
    cc.FxRateSet: lambda e: mc.FxRateBroadcast(currency=e.currency, rate=hco.rate_out(e.rate)),
    cc.CollateralPriceSet: lambda e: mc.CollateralPriceBroadcast(instrument=e.instrument,
                                                                 price=hco.price_out(e.price)),
    cc.InterestRateSet: lambda e: mc.InterestRateBroadcast(currency=e.currency, rate=hco.rate_out(e.rate)),
    cc.StockHaircutSet: lambda e: mc.StockHaircutBroadcast(stock=e.stock, rate=hco.rate_out(e.rate),
                                                           applied=hco.rate_out(e.applied)),
    cc.CollectionFailed: lambda e: mc.CollectionFailedBroadcast(
        instruction_id=e.instruction_id, clearing_house=e.clearing_house, account=e.account, currency=e.currency,
        amount=e.amount, bank=e.bank, reason=mc.CollectionFailure[e.reason], failed_date=ymd(e.at),
        failed_time=hms(e.at)),
    cc.SettlementChanged: lambda e: mc.SettlementBroadcast(
        settlement_id=e.settlement_id, clearing_house=e.clearing_house, account=e.account, currency=e.currency,
        business_date=ymd(e.business_date), amount=e.amount, due_date=ymd(e.due), due_time=hms(e.due),
        status=mc.SettlementStatus[e.status], consequence=mc.Consequence[e.consequence or "NONE"],
        at_date=ymd(e.at), at_time=hms(e.at)),
    cc.BankMandateSet: lambda e: mc.BankMandateBroadcast(currency=e.currency, bank=e.bank,
                                                         bank_account=e.bank_account),
    cc.ReserveFundCallChanged: lambda e: mc.ReserveFundCallBroadcast(
        clearing_house=e.clearing_house, amount=e.amount, status=mc.CallStatus[e.status],
        called_date=ymd(e.called_at), called_time=hms(e.called_at), due_date=ymd(e.due), due_time=hms(e.due)),
    cc.ReserveFundWithdrawn: lambda e: mc.ReserveFundWithdrawnBroadcast(
        clearing_house=e.clearing_house, contribution=mc.Contribution[e.contribution],
        asset_class=mc.AssetClass[e.asset_class], asset=e.asset, quantity=e.quantity),
    cc.ReserveFundRequirementSet: lambda e: mc.ReserveFundRequirementBroadcast(clearing_house=e.clearing_house,
                                                                               amount=e.amount),
    cc.CcassDeliveryChanged: lambda e: mc.CcassDeliveryBroadcast(
        obligation_no=e.obligation_no, stock=e.stock, direction=mc.DeliveryDirection[e.direction],
        status=mc.DeliveryStatus[e.status], reason=mc.DeliveryFailure[e.reason or "NONE"], shares=e.shares,
        covered_shares=e.covered_shares, amount=e.amount, currency=e.currency,
        settlement_date=ymd(e.settlement_date), at_date=ymd(e.at), at_time=hms(e.at)),
    au.WithdrawalAuthorisationChanged: lambda e: ma.WithdrawalAuthorisationBroadcast(withdrawal=hau.item(e.withdrawal)),
    # ---- OTC Clear
    otc.OtcTradeRegistered: lambda e: mo.TradeRegisteredBroadcast(trade=hot.trade_row(e.trade, 0)),
    otc.RateFixingSet: lambda e: mo.RateFixingBroadcast(
        trade_id=e.fixing.trade_id, leg=mo.SwapLeg[e.fixing.leg] if e.fixing.leg else mo.SwapLeg.NONE,
        fixing_date=ymd(e.fixing.fixing_date), rate_e8=hot.rate_out(e.fixing.rate)),
    otc.MtmSet: lambda e: mo.MtmBroadcast(trade_id=e.trade_id, currency=e.currency, mtm=e.mtm,
                                          business_time=hms(e.now)),
    otc.SettlementItemCreated: lambda e: mo.SettlementItemBroadcast(item=hot.item_row(e.item)),
    otc.PaymentInstructionIssued: lambda e: mo.PaymentInstructionIssuedBroadcast(
        instruction=hot.instruction_row(e.instruction)),
    otc.PaymentSettled: lambda e: mo.PaymentSettledBroadcast(instruction=hot.instruction_row(e.instruction)),
    otc.PaymentLate: lambda e: mo.PaymentLateBroadcast(instruction=hot.instruction_row(e.instruction)),
    otc.PvpStatusChanged: lambda e: mo.PvpStatusBroadcast(pvp=hot.pvp_row(e.pvp)),
    otc.MarginRequirementSet: lambda e: mo.MarginRequirementBroadcast(
        account=e.account, currency=e.currency, im_requirement=e.im_requirement, holiday_margin=e.holiday_margin),
    otc.NonCashCollateralMoved: lambda e: mo.NonCashMovedBroadcast(
        account=e.account, security=e.security, nominal=e.nominal, holding=e.holding, business_time=hms(e.now)),
    otc.GuaranteeFundRequirementSet: lambda e: mo.GuaranteeFundRequirementBroadcast(currency=e.currency,
                                                                                    requirement=e.requirement),
    otc.PaiRateSet: lambda e: mo.PaiRateBroadcast(currency=e.currency, effective_date=ymd(e.effective_from),
                                                  rate_e8=hot.rate_out(e.rate)),
    otc.FxRateSet: lambda e: mo.FxRateBroadcast(currency=e.currency, effective_date=ymd(e.effective_from),
                                                rate_e8=hot.rate_out(e.rate)),
    otc.PvpFundingSet: lambda e: mo.PvpFundingBroadcast(currency=e.currency, funded=e.funded),
}


def every(*enums) -> list[tuple]:
    """Tuples that together name every member of each enum (or list of names) at least once."""
    lists = [list(e) for e in enums]
    return [tuple(x[i % len(x)] for x in lists) for i in range(max(len(x) for x in lists))]


def _names(wire_enum) -> list[str]:
    return [member.name for member in wire_enum]


def _system() -> dict:
    lines = (longest(ms.ClearingMessageBroadcast, "lines.text"), "", "a line longer than its field is cut " * 4)
    return {
        c.Heartbeat: [c.Heartbeat(0, MIDNIGHT), c.Heartbeat(65_535, LAST, "CPA01")],
        c.ClearingMessage: [c.ClearingMessage(0, MIDNIGHT, ()), c.ClearingMessage(U32, LAST, lines)],
        c.BusinessDateChanged: [c.BusinessDateChanged(NEXT, DAY, MIDNIGHT), c.BusinessDateChanged(DAY, DAY, LAST)],
    }


def _trade_event(owner, sequence, business_date, trade_no, deal_no, created, account_id, series_key, series_name,
                 side, quantity, price, open_close, kind, state, orig_trade_no, clearing_house, instrument_class,
                 underlying) -> dc.TradeEvent:
    """A TradeEvent of these values (its trade booked with them; the event's state is its own)."""
    trade = Trade(trade_no, deal_no, owner, account_id, series_key, side, quantity, price, open_close, kind,
                     business_date, created, sequence, dc.TradeState.ACTIVE, 0, 0, orig_trade_no)
    e = dc.TradeEvent(owner, trade, state, series_name, account_id, clearing_house, instrument_class, underlying)
    assert e.values() == (owner, sequence, business_date, trade_no, deal_no, created, account_id, series_key,
                          series_name, side, quantity, price, open_close, kind, state, orig_trade_no, clearing_house,
                          instrument_class, underlying)
    return e


def _dcass() -> dict:
    T = m.TradeBroadcast
    trades = [_trade_event("CPA01", U32 if i % 2 else 0, DAY, U32 - i, i, LAST if i % 2 else MIDNIGHT,
                           longest(T, "trade.account_id") if i % 2 else "", KEY,
                           longest(T, "trade.series_symbol") if i % 2 else "", side, I64 if i % 2 else 0,
                           -I32 - 1 if i % 2 else I32, oc, kind, state, i, "SEOCH", "TCH", "700")
              for i, (side, oc, kind, state) in enumerate(every(dc.Side, dc.OpenClose, dc.DealKind, dc.TradeState))]
    G = m.GiveUpBroadcast
    give_ups = [dc.GiveUpEvent("CPA01", i, U32 - i, state, longest(G, "give_up.giver") if i % 2 else "",
                               longest(G, "give_up.receiver") if i % 2 else "", i, KEY,
                               longest(G, "give_up.series_symbol") if i % 2 else "", side, -I32 - 1 if i % 2 else 0,
                               I64 if i % 2 else 0, longest(G, "give_up.text") if i % 2 else "",
                               longest(G, "give_up.reason") if i % 2 else "", DAY, (1, 2),
                               MIDNIGHT if i % 2 else None, LAST if i % 2 else None, "SEOCH", "TCH", "700")
                for i, (state, side) in enumerate(every(dc.GiveUpState, dc.Side))]
    P = m.PositionBroadcast
    positions = [dc.PositionChanged("CPA01", longest(P, "position.clearing_house") if i % 2 else "",
                                    longest(P, "position.account_id") if i % 2 else "", kind, KEY,
                                    longest(P, "position.series_symbol") if i % 2 else "",
                                    *((I64, 0, 1, 2, 3, 4, 5) if i % 2 else (0,) * 7), "TCH", "700")
                 for i, (kind,) in enumerate(every(dc.AccountType))]
    margins = [dc.MarginChanged("CPA01", "HKCC", longest(m.MarginBroadcast, "margin.account_id") if i % 2 else "",
                                kind, "HKD" if i % 2 else "", (-I64 - 1, 0, I64)[i % 3])
               for i, (kind,) in enumerate(every(dc.AccountType))]
    X = m.ExerciseBroadcast
    exercises = [dc.ExerciseEvent("CPA01", U32 - i, state, longest(X, "exercise.account_id") if i % 2 else "", KEY,
                                  longest(X, "exercise.series_symbol") if i % 2 else "", I64 if i % 2 else 0, i,
                                  bool(i % 2), DAY, "SEOCH", "TCH", "700")
                 for i, (state,) in enumerate(every(dc.ExerciseState))]
    A = m.AssignmentBroadcast
    D = m.DeliveryBroadcast
    deliveries = [dc.DeliveryObligationEvent(
        "CPA01", U32, longest(D, "delivery.account_id"), KEY, longest(D, "delivery.stock_code"), direction, I64,
        -I64 - 1, longest(D, "delivery.currency"), DAY, NEXT, longest(D, "delivery.origin"), I64, 0,
        longest(D, "delivery.series_symbol"), "SEOCH", "TCH", "700") for direction in dc.DeliveryDirection]
    deliveries.append(dc.DeliveryObligationEvent("CPA01", 0, "", KEY, "", dc.DeliveryDirection.RECEIVE, 0, 0, "",
                                                 DAY, DAY, "", 0, 0, "", "SEOCH", "TCH", "700"))
    O = m.AccountOpenedBroadcast
    S = m.SettlementPriceBroadcast
    return {
        dc.TradeEvent: trades,
        dc.TradeChanged: [dc.TradeChanged("CPA01", U32 - i, state, I64 if i % 2 else 0, i, -i)
                          for i, (state,) in enumerate(every(dc.TradeState))],
        dc.GiveUpEvent: give_ups,
        dc.PositionChanged: positions,
        dc.MarginChanged: margins,
        dc.ExerciseEvent: exercises,
        dc.AssignmentEvent: [
            dc.AssignmentEvent("CPA01", longest(A, "account_id"), KEY, longest(A, "series_symbol"), I64, DAY, "SEOCH",
                               "TCH", "700"),
            dc.AssignmentEvent("CPA01", "", KEY, "", 0, DAY, "SEOCH", "TCH", "700")],
        dc.DeliveryObligationEvent: deliveries,
        dc.MoneyObligationEvent: [
            dc.MoneyObligationEvent("CPA01", longest(m.MoneyBroadcast, "money.clearing_house"), "HKD", DAY,
                                    -I64 - 1, I64, -1, 0, -I64 - 1),
            dc.MoneyObligationEvent("CPA01", "", "", DAY, 0, 0, 0, 0, 0)],
        dc.AccountOpened: [dc.AccountOpened("CPA01", longest(O, "account.account_id") if i % 2 else "", kind,
                                           longest(O, "account.clearing_house") if i % 2 else "")
                           for i, (kind,) in enumerate(every(dc.AccountType))],
        dc.SettlementPriceSet: [dc.SettlementPriceSet(KEY, longest(S, "series_symbol"), -I32 - 1, DAY),
                                dc.SettlementPriceSet(KEY, "", 0, DAY, "CPA01"),
                                dc.SettlementPriceSet(KEY, "TCH NOV26 460.00 C", I32, NEXT)],
        dc.UnderlyingPriceSet: [dc.UnderlyingPriceSet(longest(m.UnderlyingPriceBroadcast, "underlying"), I32, DAY),
                                dc.UnderlyingPriceSet("", -I32 - 1, NEXT), dc.UnderlyingPriceSet("700", 0, DAY)],
    }


def _ccms() -> dict:
    I = mc.InstructionCompletedBroadcast
    accepted = [cc.InstructionAccepted("CPA01", U32 - i, longest(I, "clearing_house") if i % 2 else "",
                                       longest(I, "account") if i % 2 else "", action, asset_class,
                                       longest(I, "asset") if i % 2 else "", (I64, 0, -I64 - 1)[i % 3],
                                       bool(i % 2), DAY)
                for i, (action, asset_class) in enumerate(every(_names(mc.InstructionAction), _names(mc.AssetClass)))]
    completed = [cc.InstructionCompleted(*dataclasses.astuple(e), MIDNIGHT if i % 2 else LAST)
                 for i, e in enumerate(accepted)]
    line = cc.CoverageLine(longest(mc.CoverageChangedBroadcast, "items.currency"), I64, -I64 - 1, 0, 1, 2, 3, 4, -5)
    C = mc.CollectionFailedBroadcast
    S = mc.SettlementBroadcast
    R = mc.ReserveFundContributedBroadcast
    V = mc.CcassDeliveryBroadcast
    deliveries = [cc.CcassDeliveryChanged("CPA01", U32 - i, longest(V, "stock") if i % 2 else "", direction, I64,
                                          i, -I64 - 1 if i % 2 else 0, longest(V, "currency") if i % 2 else "",
                                          DAY, status, reason, LAST if i % 2 else MIDNIGHT)
                  for i, (direction, status, reason) in enumerate(every(
                      _names(mc.DeliveryDirection), _names(mc.DeliveryStatus), ["", "INSUFFICIENT_SHARES",
                                                                                "MONEY_NOT_COLLECTED", "NONE"]))]
    return {
        cc.CollateralAccountOpened: [
            cc.CollateralAccountOpened("CPA01", longest(mc.CollateralAccountOpenedBroadcast, "clearing_house")
                                       if i % 2 else "", longest(mc.CollateralAccountOpenedBroadcast, "account")
                                       if i % 2 else "", kind) for i, kind in enumerate(_names(mc.AccountKind))],
        cc.DcassAccountMapped: [
            cc.DcassAccountMapped("CPA01", *(longest(mc.DcassAccountMappedBroadcast, f) for f in
                                             ("clearing_house", "dcass_account", "account", "previous_account")), True),
            cc.DcassAccountMapped("CPA01", "", "", "", "", False)],
        cc.InstructionAccepted: accepted,
        cc.InstructionCompleted: completed,
        cc.CoverageChanged: [cc.CoverageChanged("CPA01", "HKCC", "CPA01-HKCC", (line, line)[:n], (-I64 - 1, 0, I64)[n])
                             for n in range(3)],
        cc.MarginCallChanged: [cc.MarginCallChanged("CPA01", "", "", "", (0, I64, -1)[i], status, MIDNIGHT, LAST)
                               for i, status in enumerate(_names(mc.CallStatus))],
        cc.CoveredCallChanged: [
            cc.CoveredCallChanged("CPA01", *(longest(mc.CoveredCallChangedBroadcast, f) if i % 2 else "" for f in
                                             ("clearing_house", "dcass_account", "account")), KEY,
                                  longest(mc.CoveredCallChangedBroadcast, "underlying") if i % 2 else "",
                                  I64 if i % 2 else 0, -I64 - 1 if i % 2 else 0, reason)
            for i, reason in enumerate(_names(mc.CoverReason))],
        cc.ReserveFundContributed: [
            cc.ReserveFundContributed("CPA01", longest(R, "clearing_house") if i % 2 else "", contribution,
                                      asset_class, longest(R, "asset") if i % 2 else "", (I64, 0, -I64 - 1)[i % 3])
            for i, (contribution, asset_class) in enumerate(every(_names(mc.Contribution), _names(mc.AssetClass)))],
        cc.InterestPosted: [
            cc.InterestPosted("CPA01", *(longest(mc.InterestPostedBroadcast, f) for f in
                                         ("clearing_house", "account", "currency")), DAY, -I64 - 1, I64, -1, 0),
            cc.InterestPosted("CPA01", "", "", "", NEXT, 0, 0, 0, 0)],
        cc.FxRateSet: [cc.FxRateSet("", Decimal(0)), cc.FxRateSet("CNY", Decimal("1.08345678"), "CPA01"),
                       cc.FxRateSet("USD", Decimal("7.8"))],
        cc.CollateralPriceSet: [cc.CollateralPriceSet(longest(mc.CollateralPriceBroadcast, "instrument"),
                                                      Decimal("0.0001")),
                                cc.CollateralPriceSet("", Decimal(0)), cc.CollateralPriceSet("700", Decimal("123.45"))],
        cc.InterestRateSet: [cc.InterestRateSet("HKD", Decimal("-0.005")), cc.InterestRateSet("", Decimal(0))],
        cc.StockHaircutSet: [cc.StockHaircutSet(longest(mc.StockHaircutBroadcast, "stock"), Decimal("0.25"),
                                                Decimal("0.3")),
                             cc.StockHaircutSet("", Decimal(0), Decimal(1))],
        cc.CollectionFailed: [
            cc.CollectionFailed("CPA01", U32, longest(C, "clearing_house"), longest(C, "account"), longest(C, "currency"),
                                I64, longest(C, "bank"), "INSUFFICIENT_BANK_BALANCE", LAST),
            cc.CollectionFailed("CPA01", 0, "", "", "", -I64 - 1, "", "NO_MANDATE", MIDNIGHT)],
        cc.SettlementChanged: [
            cc.SettlementChanged("CPA01", U32 - i, longest(S, "clearing_house") if i % 2 else "",
                                 longest(S, "account") if i % 2 else "", longest(S, "currency") if i % 2 else "",
                                 DAY, (-I64 - 1, 0, I64)[i % 3], LAST, status, consequence,
                                 MIDNIGHT if i % 2 else LAST)
            for i, (status, consequence) in enumerate(every(_names(mc.SettlementStatus),
                                                            ["", "DEBIT_CASH_COLLATERAL", "NONE"]))],
        cc.BankMandateSet: [
            cc.BankMandateSet("CPA01", *(longest(mc.BankMandateBroadcast, f) for f in
                                         ("currency", "bank", "bank_account"))),
            cc.BankMandateSet("CPA01", "HKD", "", "")],
        cc.ReserveFundCallChanged: [
            cc.ReserveFundCallChanged("CPA01", longest(mc.ReserveFundCallBroadcast, "clearing_house") if i % 2 else "",
                                      (I64, 0, -1)[i], status, MIDNIGHT, LAST)
            for i, status in enumerate(_names(mc.CallStatus))],
        cc.ReserveFundWithdrawn: [
            cc.ReserveFundWithdrawn("CPA01", longest(R, "clearing_house") if i % 2 else "", contribution, asset_class,
                                    longest(R, "asset") if i % 2 else "", (I64, 0, -I64 - 1)[i % 3])
            for i, (contribution, asset_class) in enumerate(every(_names(mc.Contribution), _names(mc.AssetClass)))],
        cc.ReserveFundRequirementSet: [
            cc.ReserveFundRequirementSet("CPA01", longest(mc.ReserveFundRequirementBroadcast, "clearing_house"), I64),
            cc.ReserveFundRequirementSet("CPA01", "", 0)],
        cc.CcassDeliveryChanged: deliveries,
    }


def _authorisation() -> dict:
    W = ma.WithdrawalAuthorisationBroadcast
    full = {f: longest(W, "withdrawal." + f) for f in ("participant", "clearing_house", "account", "asset", "maker",
                                                         "checker", "reason", "to_clearing_house", "to_account")}
    empty = dict.fromkeys(full, "")
    infos = [au.PendingWithdrawalInfo(
        pending_id=U32 - i, asset_class=asset_class, quantity=(I64, 0, -I64 - 1)[i % 3], specific=bool(i % 2),
        state=state, entered=MIDNIGHT, decided=LAST if i % 2 else None, instruction_id=i, business_date=DAY, kind=kind,
        **(full if i % 2 else empty))
        for i, (asset_class, state, kind) in enumerate(every(_names(mc.AssetClass), _names(ma.AuthorisationState),
                                                             _names(ma.PendingKind)))]
    return {au.WithdrawalAuthorisationChanged: [au.WithdrawalAuthorisationChanged("CPA01", i) for i in infos]}


def _otc() -> dict:
    T = mo.TradeRegisteredBroadcast
    trade_id, member, account = (longest(T, "trade." + f) for f in ("trade_id", "member", "account"))
    ndf = otc.RegisterNdf(trade_id, member, account, "BUY", "USD", "CNY", I64, Decimal("7.12345678"), DAY, NEXT, "USD")
    irs = otc.RegisterIrs("", "", "", "PAY_FIXED", "HKD", 0, Decimal("-0.0125"), DAY, (NEXT, date(2027, 11, 3)))
    ccs_floating = otc.RegisterCcs("CCS1", "CPA01", "H", "USD", -I64 - 1, "HKD", I64, DAY, (NEXT,), "HKD")
    ccs_fixed = dataclasses.replace(ccs_floating, pay_fixed_rate=Decimal("0.03650000"))
    trades = [otc.Trade(t.trade_id, product, t.member, t.account, currency, at, t)
              for t, product, currency, at in ((ndf, "NDF", "USD", LAST), (irs, "IRS", "", MIDNIGHT),
                                               (ccs_floating, "CCS", "HKD", LAST), (ccs_fixed, "CCS", "USD", LAST))]
    I = mo.SettlementItemBroadcast
    items = [otc.SettlementItem(
        U32 - i, kind, longest(I, "item.member") if i % 2 else "", longest(I, "item.account") if i % 2 else "",
        longest(I, "item.currency") if i % 2 else "", (-I64 - 1, 0, I64)[i % 3], DAY, MIDNIGHT if i % 2 else LAST,
        LAST, longest(I, "item.trade_id") if i % 2 else "",
        ("", longest(I, "item.description"), "a description longer than its field is cut " * 3)[i % 3], i,
        bool(i % 2)) for i, kind in enumerate(otc.SettlementType)]
    P = mo.PaymentInstructionIssuedBroadcast
    texts = ("member", "account", "currency", "bank_code", "bank", "sub_account", "sub_account_name", "beneficiary",
             "settled_by", "member_bank")
    full = {f: longest(P, "instruction." + f) for f in texts}
    instructions = [otc.PaymentInstruction(
        instruction_id=U32 - i, account_kind=account_kind, types=tuple(otc.SettlementType)[:i * 5], amount=(I64, 1)[i % 2],
        direction=direction, settlement_date=DAY, available_at=MIDNIGHT, due_at=LAST, items=(1, 2), created_at=MIDNIGHT,
        state=state, late=bool(i % 2), settled_at=LAST if i % 2 else None, pvp_id=i,
        **(full if i % 2 else dict.fromkeys(full, "")))
        for i, (account_kind, direction, state) in enumerate(every(["", "HOUSE", "CLIENT"], otc.Direction,
                                                                   otc.PaymentState))]
    V = mo.PvpStatusBroadcast
    pvps = [otc.Pvp(U32 - i, longest(V, "pvp.trade_id") if i % 2 else "", exchange,
                    longest(V, "pvp.member") if i % 2 else "", longest(V, "pvp.account") if i % 2 else "", DAY,
                    "USD" if i % 2 else "", I64, "HKD", -I64 - 1 if i % 2 else 0, i, U32, state,
                    LAST if i % 2 else None)
            for i, (exchange, state) in enumerate(every(_names(mo.CcsExchange), otc.PvpState))]
    return {
        otc.OtcTradeRegistered: [otc.OtcTradeRegistered(None, t) for t in trades],
        otc.RateFixingSet: [otc.RateFixingSet(None, otc.Fixing(t, leg, DAY, rate, LAST)) for t, leg, rate in
                            ((longest(mo.RateFixingBroadcast, "trade_id"), "", Decimal("-0.00125")),
                             ("IRS1", "PAY", Decimal(0)), ("", "RECEIVE", Decimal("0.04")))],
        otc.MtmSet: [otc.MtmSet("CPA01", longest(mo.MtmBroadcast, "trade_id"), longest(mo.MtmBroadcast, "currency"),
                                -I64 - 1, LAST),
                     otc.MtmSet(None, "", "", 0, MIDNIGHT)],
        otc.SettlementItemCreated: [otc.SettlementItemCreated("CPA01", i) for i in items],
        otc.PaymentInstructionIssued: [otc.PaymentInstructionIssued("CPA01", i) for i in instructions],
        otc.PaymentSettled: [otc.PaymentSettled("CPA01", i) for i in instructions],
        otc.PaymentLate: [otc.PaymentLate(None, i) for i in instructions],
        otc.PvpStatusChanged: [otc.PvpStatusChanged("CPA01", p) for p in pvps],
        otc.MarginRequirementSet: [
            otc.MarginRequirementSet("CPA01", longest(mo.MarginRequirementBroadcast, "account"), "USD", I64, -1),
            otc.MarginRequirementSet(None, "", "", 0, 0)],
        otc.NonCashCollateralMoved: [
            otc.NonCashCollateralMoved("CPA01", longest(mo.NonCashMovedBroadcast, "account"),
                                       longest(mo.NonCashMovedBroadcast, "security"), -I64 - 1, 0, LAST),
            otc.NonCashCollateralMoved(None, "", "", I64, I64, MIDNIGHT)],
        otc.GuaranteeFundRequirementSet: [otc.GuaranteeFundRequirementSet("CPA01", "HKD", I64),
                                          otc.GuaranteeFundRequirementSet(None, "", 0)],
        otc.PaiRateSet: [otc.PaiRateSet("EUR", Decimal("-0.0045"), DAY), otc.PaiRateSet("", Decimal(0), NEXT, "CPA01")],
        otc.FxRateSet: [otc.FxRateSet("CNH", Decimal("0.92345678"), DAY), otc.FxRateSet("", Decimal(0), NEXT)],
        otc.PvpFundingSet: [otc.PvpFundingSet("CPA01", "USD", True), otc.PvpFundingSet("CPA01", "", False)],
    }


SAMPLES = {**_system(), **_dcass(), **_ccms(), **_authorisation(), **_otc()}


def test_every_broadcast_is_a_view():
    """No broadcast goes through a message object: every event class with a broadcast has a view."""
    assert set(H.BROADCASTS) == set(H.ENCODERS)
    assert set(REFERENCE) == set(H.ENCODERS)     # and each view is checked against its old mapper below
    # the fan-out logs a broadcast in its message's stream: the one the core declared for the event
    assert {cls.__name__: spec.stream for cls, (spec, *_) in H.ENCODERS.items() if spec.stream != cls.STREAM} == {}


@pytest.mark.parametrize("cls", sorted(H.ENCODERS, key=lambda k: H.ENCODERS[k][0].code),
                         ids=lambda k: f"{H.ENCODERS[k][0].code}-{k.__name__}")
def test_every_view_gives_the_bytes_of_the_message_its_mapper_built(cls):
    assert SAMPLES.get(cls), "no sample event"
    for e in SAMPLES[cls]:
        want = encode_message(REFERENCE[cls](e))
        assert payload(e) == want, e
        assert H.BROADCASTS[cls](e) == decode_message(want)   # the message object, for whoever needs one


@pytest.mark.parametrize("e", [
    cc.BankMandateSet("CPA01", "HKD", longest(mc.BankMandateBroadcast, "bank") + "X", ""),
    otc.MtmSet(None, longest(mo.MtmBroadcast, "trade_id") + "X", "HKD", 0, LAST),
    au.WithdrawalAuthorisationChanged("CPA01", SAMPLES[au.WithdrawalAuthorisationChanged][0].withdrawal.__class__(
        **{**dataclasses.asdict(SAMPLES[au.WithdrawalAuthorisationChanged][1].withdrawal),
           "maker": longest(ma.WithdrawalAuthorisationBroadcast, "withdrawal.maker") + "X"})),
], ids=["text", "nested-text", "text-of-a-record-read-from-an-attribute"])
def test_a_text_one_character_too_long_is_refused_by_the_view_as_by_the_message_object(e):
    with pytest.raises(EncodeError):
        encode_message(REFERENCE[type(e)](e))
    with pytest.raises(EncodeError):
        payload(e)


@pytest.mark.parametrize("e", [
    dc.MoneyObligationEvent("CPA01", "HKCC", "HKD", DAY, I64 + 1, 0, 0, 0, 0),
    cc.InterestPosted("CPA01", "HKCC", "CPA01-HKCC", "HKD", DAY, 0, 0, 0, -I64 - 2),
], ids=["over", "under"])
def test_an_amount_past_64_bits_is_refused_by_the_view_as_by_the_message_object(e):
    """The message object's encoding names the field (EncodeError); a view's generated code leaves it
    to ``struct`` (struct.error): both refuse, neither writes a wrapped value."""
    with pytest.raises(EncodeError):
        encode_message(REFERENCE[type(e)](e))
    with pytest.raises(struct.error):
        payload(e)


_MARGIN = m.MarginBroadcast.__message__.record
Row = dataclasses.make_dataclass("Row", ["acct", "kind", "clearing_house", "currency", "requirement"])
Holder = dataclasses.make_dataclass("Holder", ["row"])


def _margin(**fields) -> bytes:
    item = dict(account_id="CPA01-H", account_type=m.AccountType.HOUSE, clearing_house="HKCC", currency="HKD",
                requirement=-5)
    return encode_message(m.MarginBroadcast(margin=m.MarginItem(**{**item, **fields})))[4:]


def test_a_view_reads_a_nested_record_from_an_attribute_with_its_own_view():
    """``(attribute, {...})`` for a nested record: read from that attribute, paths relative to the record;
    a field its view does not name is the attribute of its own name."""
    encode = _MARGIN.encoder({"margin": ("row", {"account_id": "acct", "account_type": (hd._ACCOUNT_TYPE, "kind")})})
    src = Holder(Row("CPA01-H", dc.AccountType.HOUSE, "HKCC", "HKD", -5))
    assert encode(src) == _margin()
    with pytest.raises(ValueError, match=r"margin: no field \['acount_id'\]"):
        _MARGIN.encoder({"margin": ("row", {"acount_id": "acct"})})


def test_a_view_names_a_constant():
    Source = dataclasses.make_dataclass("Source", ["account_id", "clearing_house"])
    encode = _MARGIN.encoder({"margin.account_type": Constant(m.AccountType.HOUSE),
                              "margin.currency": Constant("HKD"), "margin.requirement": Constant(-5)})
    assert encode(Source("CPA01-H", "HKCC")) == _margin()
    assert encode(Source("", "")) == _margin(account_id="", clearing_house="")


def test_a_view_computes_several_fields_in_one_call():
    """A tuple of paths as one key: its conversion gives their values in order, once per encoding."""
    calls = []

    def currency_and_requirement(src):
        calls.append(src)
        return src.pair
    Source = dataclasses.make_dataclass("Source", ["account_id", "account_type", "clearing_house", "pair"])
    encode = _MARGIN.encoder({("margin.currency", "margin.requirement"): (currency_and_requirement, None)})
    assert encode(Source("CPA01-H", m.AccountType.HOUSE, "HKCC", ("HKD", -5))) == _margin()
    assert encode(Source("CPA01-H", m.AccountType.HOUSE, "HKCC", ("", 0))) == _margin(currency="", requirement=0)
    assert len(calls) == 2
    from_attribute = _MARGIN.encoder({("margin.currency", "margin.requirement"): (tuple, "pair")})
    assert from_attribute(Source("CPA01-H", m.AccountType.HOUSE, "HKCC", ["HKD", -5])) == _margin()


@pytest.mark.parametrize(("view", "error"), [
    ({("margin.currency", "margin.requirment"): (tuple, "pair")}, "no field 'margin.requirment'"),
    ({("margin.currency", "margin.requirement"): (tuple, "pair"), "margin.currency": "ccy"},
     "'margin.currency' named twice"),
    ({"margin": ("row", {("currency", "requirment"): (tuple, "pair")})}, "no field 'requirment'"),
], ids=["typo", "twice", "typo-in-a-nested-view"])
def test_a_group_naming_no_field_or_a_field_named_twice_is_refused(view, error):
    with pytest.raises(ValueError, match=error):
        _MARGIN.encoder(view)


def test_a_fixed_size_view_frames_its_broadcast_in_one_pack():
    """The frame encoder gives the bytes of the payload framed as a broadcast; a view with items has none."""
    from protocol.framing import broadcast_frame
    _, events = booked()
    seen = set()
    for e in events:
        spec, _, frame = H.ENCODERS[type(e)]
        if frame is None:
            assert spec.record.has_items
            continue
        seen.add(type(e))
        for stream, seq, bdate in ((2, 1, 20261102), (3, 4_000_000_000, 20991231)):
            assert frame(e, stream, seq, bdate) == broadcast_frame(payload(e), stream, seq, bdate)
    assert {dc.TradeEvent, dc.PositionChanged, dc.MarginChanged} <= seen
    assert H.ENCODERS[cc.CoverageChanged][2] is None


def test_a_trade_event_reports_the_trade_as_booked_after_the_trade_changes():
    """A TradeEvent reads the booked trade itself (nothing of it changes but its state and moved and
    reserved quantities) and keeps the state of the booking: an adjustment of the trade later
    changes neither the event nor its broadcast."""
    d, events = booked()
    e = next(e for e in events if type(e) is dc.TradeEvent and e.owner == "CPA01")
    before, frame = repr(e), payload(e)
    out = d.core.execute(dc.OpenCloseAdjustment("CPA01", e.trade_no, 7, dc.OpenClose.CLOSE),
                         Context(START.replace(minute=5), "CPA01", "cpa01"))
    assert d.trades[e.trade_no].state is dc.TradeState.ADJUSTED and d.trades[e.trade_no].moved == 7
    assert e.trade is d.trades[e.trade_no] and e.state is dc.TradeState.ACTIVE
    assert repr(e) == before and payload(e) == frame
    assert decode_message(frame).trade.state == m.TradeState.ACTIVE
    new = [x for x in out.events if type(x) is dc.TradeEvent]
    assert [x.state for x in new] == [dc.TradeState.REVERSAL, dc.TradeState.ACTIVE]
    assert new[0] != e and new[0] == dataclasses.replace(new[0]) and new[0].values()[3] == new[0].trade_no
