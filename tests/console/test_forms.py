"""Forms derived from the message declarations: every value converted by the wire's rules, or
refused at its field before anything is sent."""
from __future__ import annotations

import pytest

from console import forms
from protocol.messages import collateral as col
from protocol.messages import dcass as d

SERIES = {"HSI DEC26": {"country": 1, "market": 2, "instrument_group": 3, "modifier": 0, "commodity": 5,
                        "expiration_date": 6, "strike_price": 0}}


def test_inputs_follow_the_declaration():
    names = [(i.name, i.kind) for i in forms.inputs("EC101")]
    assert names[:3] == [("series", "series"), ("price", "int"), ("quantity", "int")]
    assert ("buyer_open_close", "code") in names
    assert [(i.name, i.kind) for i in forms.inputs("CC38")] == [("give_up_number", "int"), ("items", "items")]


def test_build_converts_like_the_wire():
    msg = forms.build("FC202", {"clearing_house": "HKCC", "account": "HOUSE", "currency": "HKD",
                                "amount": "1,000,000"}, {})
    assert msg == col.DepositCashRequest(clearing_house="HKCC", account="HOUSE", currency="HKD", amount=1_000_000)
    msg = forms.build("EC101", {"series": "HSI DEC26", "price": "25000", "quantity": "3", "buyer": "CPA01",
                                "seller": "CPB02", "buyer_open_close": "OPEN"}, SERIES)
    assert msg.series.commodity == 5 and msg.buyer_open_close is d.OpenClose.OPEN and msg.price == 25000
    msg = forms.build("CC38", {"give_up_number": "4", "items": '[{"account_id": "HKCC-HOUSE", "quantity": 7, '
                                                                '"open_close": "OPEN"}]'}, SERIES)
    assert msg.items == [d.AllocationItem(account_id="HKCC-HOUSE", quantity=7, open_close=d.OpenClose.OPEN)]


@pytest.mark.parametrize("code, values, field, text", [
    ("FC202", {"amount": "1.50"}, "amount", "whole number"),
    ("FC202", {"amount": "ten"}, "amount", "whole number"),
    ("FC202", {"account": "A" * 13}, "account", "at most 12"),
    ("FC202", {"account": "HOUSÉ"}, "account", "ASCII"),
    ("EC101", {"series": "NOPE JAN99"}, "series", "unknown series"),
    ("CC38", {"items": "[{"}, "items", "not JSON"),
    ("CC38", {"items": '{"a": 1}'}, "items", "JSON list"),
    ("EC101", {"buyer_open_close": "MAYBE"}, "buyer_open_close", "MAYBE"),
])
def test_bad_values_are_refused_at_their_field(code, values, field, text):
    with pytest.raises(forms.FormError) as e:
        forms.build(code, values, SERIES)
    assert e.value.field == field and text in e.value.text
