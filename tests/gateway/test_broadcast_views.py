"""Broadcasts encoded straight from the core's events (``gateway.handlers.broadcast_view``, code
generated from the message declarations by ``protocol.codec.Record.encoder``) give the bytes of the
message object built from the same facts, field for field."""
from __future__ import annotations

import dataclasses
from datetime import datetime

import pytest

import gateway.handlers as H
from gateway.clearing import collateral as cc
from gateway.clearing import dcass as dc
from gateway.clearing.core import ClearingCore, Context
from gateway.handlers import collateral as hco
from gateway.handlers import dcass as hd
from gateway.refdata import module_factories
from protocol.messages import collateral as mc
from protocol.messages import dcass as m
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
