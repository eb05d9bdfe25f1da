"""Broadcasts encoded straight from the core's events (``gateway.handlers.broadcast_view``, code
generated from the message declarations by ``protocol.codec.Record.encoder``) give the bytes of the
message object built from the same facts, field for field."""
from __future__ import annotations

import dataclasses
from datetime import datetime

import pytest

import gateway.handlers as H
from gateway.clearing import dcass as dc
from gateway.clearing.core import ClearingCore, Context
from gateway.handlers import dcass as hd
from gateway.refdata import module_factories
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


def test_a_view_naming_no_field_or_of_a_record_with_items_is_refused():
    with pytest.raises(ValueError, match="no field"):
        m.MarginBroadcast.__message__.record.encoder({"margin.acount_type": "account_type"})
    with pytest.raises(ValueError, match="items"):
        m.InjectDealsRequest.__message__.record.encoder({})
