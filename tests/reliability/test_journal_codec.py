"""The journal's command codec: generic over every module's commands, deterministic, lossless."""
from __future__ import annotations

import dataclasses
import enum
import json
import typing
from datetime import date, datetime
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.clearing.core import ClearingCore, Context, SendClearingMessage
from gateway.refdata import module_factories
from gateway.journal.codec import (CodecError, Registry, context_from_plain, context_to_plain, dumps, from_plain,
                                   is_named_tuple, readable, record_loads, registry, to_plain)

CORE = ClearingCore(datetime(2026, 11, 23, 9), module_factories=module_factories())
COMMANDS = sorted(CORE._commands, key=lambda t: (t.__module__, t.__qualname__))
REG = registry()
REG.add_core(CORE)
TRIED = {"instances": 0}


def _value(hint) -> st.SearchStrategy:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if hint is Decimal:
        return st.decimals(allow_nan=False, allow_infinity=False, places=6, min_value=-10**12, max_value=10**12)
    if hint is datetime:
        return st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1))
    if hint is str:
        return st.text(max_size=20)
    if hint is bytes:
        return st.binary(max_size=16)
    if hint is int:
        return st.integers(min_value=-2**63, max_value=2**63 - 1)
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        return st.lists(_value(args[0]), max_size=4).map(tuple)
    if origin is tuple:
        return st.tuples(*(_value(a) for a in args))
    if origin in (list,):
        return st.lists(_value(args[0]), max_size=4)
    if origin is dict:
        return st.dictionaries(_value(args[0]), _value(args[1]), max_size=3)
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        return st.one_of(*(st.none() if a is type(None) else _value(a) for a in args))
    if isinstance(hint, type) and (dataclasses.is_dataclass(hint) or is_named_tuple(hint)):
        return _instances(hint)
    return st.from_type(hint)


def _instances(cls) -> st.SearchStrategy:
    hints = typing.get_type_hints(cls)
    names = cls._fields if is_named_tuple(cls) else [f.name for f in dataclasses.fields(cls) if f.init]
    return st.builds(cls, **{name: _value(hints[name]) for name in names})


def _canon(o) -> bytes:
    return dumps(to_plain(o, REG))


def test_every_command_class_of_the_composed_core_is_known():
    assert COMMANDS, "the core has commands"
    for t in COMMANDS:
        assert REG.known(t), t


@pytest.mark.parametrize("cls", COMMANDS, ids=lambda c: c.__qualname__)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(data=st.data())
def test_round_trip_is_lossless_and_canonical(cls, data):
    cmd = data.draw(_instances(cls))
    TRIED["instances"] += 1
    plain = to_plain(cmd, REG)
    back = from_plain(plain, REG)
    assert type(back) is cls
    assert back == cmd
    assert _canon(back) == _canon(cmd)                    # deterministic bytes
    assert dumps(plain) == dumps(to_plain(cmd, REG))      # same command, same bytes, every time
    readable(plain)


def test_tagged_values_round_trip():
    class Colour(enum.IntEnum):
        RED = 1
    reg = Registry(())
    for v in [None, True, 0, -5, "x", Decimal("1.2500"), date(2026, 1, 2), datetime(2026, 1, 2, 3, 4, 5, 6), b"\x00\xff",
              (1, "a"), [1, (2,)], {"k": (1, 2), 3: None}, frozenset({1, 2}), {3, 4}, 1.5]:
        assert from_plain(to_plain(v, reg), reg) == v
        assert record_loads(reg)(dumps(to_plain(v, reg))) == v     # rebuilt while parsed, as replay does
    for v in [{"$m": 1}, {"$c": "x", "f": 2}, [{"$t": 1}]]:        # user data that looks like a tag
        assert from_plain(to_plain(v, reg), reg) == v == record_loads(reg)(dumps(to_plain(v, reg)))
    with pytest.raises(CodecError):  # a local enum cannot be found again by name: refused at append time
        to_plain(Colour.RED, reg)


def test_unknown_or_foreign_class_names_are_refused():
    with pytest.raises(CodecError):
        from_plain({"$c": "os:system", "f": {}}, REG)
    with pytest.raises(CodecError):
        from_plain({"$c": "gateway.clearing.core:NoSuchThing", "f": {}}, REG)
    with pytest.raises(CodecError):
        from_plain({"$zz": 1}, REG)
    for not_plain in [{"x": 1}, 1.5, {"a": 1, "b": 2, "c": 3}, {"$c": "gateway.clearing.core:Tick", "f": 5}]:
        with pytest.raises(CodecError):
            from_plain(not_plain, REG)
    with pytest.raises(CodecError, match="NoSuchThing"):
        record_loads(REG)(b'{"k":"cmd","n":2,"cmd":{"$c":"gateway.clearing.core:NoSuchThing","f":{}}}')


def test_context_round_trip():
    ctx = Context(datetime(2026, 11, 23, 9, 30), "CPA01", "CPA01B", False)
    assert context_from_plain(context_to_plain(ctx)) == ctx
    assert readable(to_plain(SendClearingMessage(("hi",)), REG)) == "SendClearingMessage(lines=('hi',))"


def test_aware_datetimes_refused():
    from datetime import timezone
    with pytest.raises(CodecError):
        to_plain(datetime(2026, 1, 1, tzinfo=timezone.utc), REG)


def test_plain_forms_are_those_of_the_first_matching_kind():
    """Each type's form is decided once; a value of a subclass takes its own kind's form, and a class
    refused now is not remembered as refused."""
    class Text(str):
        pass
    reg = Registry(())
    assert to_plain(Text("x"), reg) == "x" and to_plain(True, reg) is True and to_plain(3, reg) == 3
    assert to_plain(datetime(2026, 1, 2, 3), reg) == {"$dt": "2026-01-02T03:00:00"}
    assert to_plain(date(2026, 1, 2), reg) == {"$date": "2026-01-02"}
    assert to_plain([(1, b"\x01")], reg) == [{"$t": [1, {"$b": "01"}]}]

    @dataclasses.dataclass(frozen=True)
    class Local:
        n: int
    with pytest.raises(CodecError):
        to_plain(Local(1), reg)
    reg.add(Local)
    assert to_plain(Local(1), reg) == {"$c": f"{Local.__module__}:{Local.__qualname__}", "f": {"n": 1}}


def test_an_injection_journals_the_same_bytes_as_its_definition():
    """The bytes of an EC104 command, written out from the definition of the plain forms."""
    from gateway.clearing.dcass import InjectDeal, InjectDeals, OpenClose
    cmd = InjectDeals((InjectDeal(b"\x00\x0a", 25_000, 2, "CPA01", "CPB02", "", "HKCC-HOUSE", OpenClose.OPEN,
                                  OpenClose.CLOSE, datetime(2026, 11, 23, 9, 30)),))
    deal = ('{"$c":"gateway.clearing.dcass.commands:InjectDeal","f":{"buyer":"CPA01","buyer_account":"",'
            '"buyer_open_close":{"$e":"gateway.clearing.dcass.model:OpenClose","v":"OPEN"},"price":25000,'
            '"quantity":2,"seller":"CPB02","seller_account":"HKCC-HOUSE",'
            '"seller_open_close":{"$e":"gateway.clearing.dcass.model:OpenClose","v":"CLOSE"},'
            '"series_key":{"$b":"000a"},"trade_time":{"$dt":"2026-11-23T09:30:00"}}}')
    want = '{"$c":"gateway.clearing.dcass.commands:InjectDeals","f":{"deals":{"$t":[' + deal + ']}}}'
    assert dumps(to_plain(cmd, REG)).decode() == want
    assert from_plain(to_plain(cmd, REG), REG) == cmd


def test_a_named_tuple_command_journals_as_the_dataclass_it_was():
    """InjectDeal became a named tuple (a trade feed builds hundreds per request): it journals the
    very bytes it did as a frozen dataclass, and the journals written then replay to it."""
    from gateway.clearing.dcass import InjectDeal, InjectDeals, OpenClose
    deal = InjectDeal(bytes.fromhex("0102"), 25000, 3, "CPA01", "CPB02", "", "HKCC-HOUSE",
                      OpenClose.OPEN, OpenClose.CLOSE, datetime(2026, 11, 23, 9, 30))
    written = (b'{"$c":"gateway.clearing.dcass.commands:InjectDeal","f":{"buyer":"CPA01","buyer_account":"",'
               b'"buyer_open_close":{"$e":"gateway.clearing.dcass.model:OpenClose","v":"OPEN"},"price":25000,'
               b'"quantity":3,"seller":"CPB02","seller_account":"HKCC-HOUSE","seller_open_close":'
               b'{"$e":"gateway.clearing.dcass.model:OpenClose","v":"CLOSE"},"series_key":{"$b":"0102"},'
               b'"trade_time":{"$dt":"2026-11-23T09:30:00"}}}')   # as the frozen dataclass journaled it
    assert _canon(deal) == written
    for load in (lambda b: from_plain(json.loads(b), REG), record_loads(REG)):
        back = load(written)
        assert type(back) is InjectDeal and back == deal
        feed = load(b'{"$c":"gateway.clearing.dcass.commands:InjectDeals","f":{"deals":{"$t":[' + written + b']}}}')
        assert type(feed) is InjectDeals and feed.deals == (deal,) and type(feed.deals[0]) is InjectDeal
    # an old record without the defaulted fields
    old = from_plain(json.loads(b'{"$c":"gateway.clearing.dcass.commands:InjectDeal","f":{"buyer":"CPA01",'
                                b'"price":1,"quantity":1,"seller":"CPB02","series_key":{"$b":"0102"}}}'), REG)
    assert old == InjectDeal(bytes.fromhex("0102"), 1, 1, "CPA01", "CPB02")
    assert readable(to_plain(deal, REG)).startswith("InjectDeal(series_key=0x0102, price=25000")


def test_the_post_trade_commands_journal_as_the_dataclasses_they_were():
    """GiveUpTrade, TransferPosition and RequestExercise became named tuples (one per post-trade
    transaction): they journal the very bytes they did as frozen dataclasses, and the journals
    written then replay to them."""
    from gateway.clearing.dcass import GiveUpTrade, RequestExercise, TransferPosition
    key = bytes.fromhex("0102")
    cases = [
        (GiveUpTrade("CPA01", 7, 2, "CPB02", "benchmark"),
         b'{"$c":"gateway.clearing.dcass.commands:GiveUpTrade","f":{"participant":"CPA01","quantity":2,'
         b'"text":"benchmark","to_participant":"CPB02","trade_no":7}}'),
        (TransferPosition("CPA01", key, "HKCC-HOUSE", "HKCC-CLIENT01", 3, 1, 25000),
         b'{"$c":"gateway.clearing.dcass.commands:TransferPosition","f":{"from_account":"HKCC-HOUSE",'
         b'"long_quantity":3,"participant":"CPA01","price":25000,"series_key":{"$b":"0102"},"short_quantity":1,'
         b'"to_account":"HKCC-CLIENT01"}}'),
        (TransferPosition("CPA01", key, "HKCC-HOUSE", "HKCC-CLIENT01", 3),
         b'{"$c":"gateway.clearing.dcass.commands:TransferPosition","f":{"from_account":"HKCC-HOUSE",'
         b'"long_quantity":3,"participant":"CPA01","price":null,"series_key":{"$b":"0102"},"short_quantity":0,'
         b'"to_account":"HKCC-CLIENT01"}}'),
        (RequestExercise("CPA01", "SEOCH-HOUSE", key, 2),
         b'{"$c":"gateway.clearing.dcass.commands:RequestExercise","f":{"account_id":"SEOCH-HOUSE",'
         b'"participant":"CPA01","quantity":2,"series_key":{"$b":"0102"}}}'),
    ]
    for cmd, written in cases:    # the bytes the frozen dataclasses journaled (commit c88d01d)
        assert _canon(cmd) == written
        for load in (lambda b: from_plain(json.loads(b), REG), record_loads(REG)):
            back = load(written)
            assert type(back) is type(cmd) and back == cmd
    # an old record without the defaulted fields
    old = from_plain(json.loads(b'{"$c":"gateway.clearing.dcass.commands:GiveUpTrade","f":{"participant":"CPA01",'
                                b'"quantity":2,"to_participant":"CPB02","trade_no":7}}'), REG)
    assert old == GiveUpTrade("CPA01", 7, 2, "CPB02")
