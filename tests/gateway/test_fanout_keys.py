"""The filter keys a broadcast is logged and routed with: ``Fanout.publish`` reads them per event
class (``filter_values_of``, ``filter_keys_by_values``) and must give the key set of the general
reader, ``filter_keys``, for every kind of event."""
from __future__ import annotations

from dataclasses import dataclass

from gateway.fanout import Fanout, filter_keys, filter_keys_by_values, filter_keys_of, filter_values_of
from gateway.streams import StreamStore


@dataclass
class _Two:
    account_id: str
    series_symbol: str
    price: int = 0


@dataclass
class _One:
    currency: str


@dataclass
class _NoFilter:
    price: int


@dataclass
class _Odd:
    account_id: object      # not text: no key; unhashable: the general path
    underlying: str = ""


class _Plain:               # not a dataclass: its filter fields are whatever attributes it has
    def __init__(self, **kw):
        self.__dict__.update(kw)


CASES = [_Two("HKCC-HOUSE", "HSI Z26"), _Two("", "HSI Z26"), _Two("A", "A"), _One("HKD"), _One(""),
         _NoFilter(3), _Odd(7, "HSI"), _Odd(["x"], "HSI"), _Odd(None), _Plain(account_id="A1", currency="HKD"),
         _Plain(price=1), _Plain(series_symbol=["x"], currency="CNY")]


def test_the_keys_read_per_class_are_those_of_the_general_reader():
    for e in CASES:
        want = filter_keys(e)
        assert filter_keys_of(type(e))(e) == want, e
        assert filter_keys_by_values(_values(e), e) == want, e
        assert filter_keys_by_values(_values(e), e) is filter_keys_of(type(e))(e)   # one shared set
    assert filter_values_of(_NoFilter) is None
    assert filter_keys(_Two("A", "B")) is filter_keys(_Two("A", "B"))


def _values(e):
    get = filter_values_of(type(e))
    return None if get is None else get(e)


def test_publish_logs_each_broadcast_with_the_keys_of_its_event():
    """Through the fan-out's inline path: the first sight of a key set, then the remembered one."""
    logged = []

    class _Store(StreamStore):
        def publish(self, stream, owner, payload, code, keys, frame=None):
            logged.append(keys)
            return (stream, owner or ""), b"", len(logged)

    fan = Fanout(set())
    plan = (1, "BX1", None, None, False)
    for e in CASES * 2:
        fan._plans[type(e)] = plan[:3] + (filter_values_of(type(e)),) + plan[4:]
        e.owner = "CPA01"
    fan.publish(CASES * 2, _Store(20261203))
    assert logged == [filter_keys(e) for e in CASES * 2]

