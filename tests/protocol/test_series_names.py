"""Series names to series keys (protocol/series_names.py), against a series list like DA102's."""
from __future__ import annotations

from decimal import Decimal

import pytest

from protocol.messages.dcass import SeriesItem, SeriesKey
from protocol.series_names import SeriesDirectory, SeriesName, SeriesNameError, parse_series_name

HSI_DEC26 = SeriesKey(country=1, market=1, instrument_group=3, modifier=0, commodity=10001, expiration_date=13512,
                      strike_price=0)
HKB_DEC26_100_C = SeriesKey(country=1, market=2, instrument_group=1, modifier=0, commodity=5, expiration_date=13512,
                            strike_price=10000)
ITEMS = [SeriesItem(series=HSI_DEC26, series_symbol="HSI DEC26"),
         SeriesItem(series=HKB_DEC26_100_C, series_symbol="HKB DEC26 100.00 C"),
         SeriesItem(series=SeriesKey(commodity=9), series_symbol="ODD-NAME")]


@pytest.mark.parametrize("text, want", [
    ("HSI DEC26", SeriesName("HSI", 2026, 12, None, "")),
    ("  hsi   dec2026 ", SeriesName("HSI", 2026, 12, None, "")),
    ("HKB DEC26 72.50 C", SeriesName("HKB", 2026, 12, Decimal("72.5"), "C")),
    ("hkb dec26 72.5 put", SeriesName("HKB", 2026, 12, Decimal("72.5"), "P")),
    ("HKB JAN27 100 CALL", SeriesName("HKB", 2027, 1, Decimal("100"), "C")),
])
def test_parse(text, want):
    assert parse_series_name(text) == want


@pytest.mark.parametrize("text, says", [
    ("HSI", "is not SYMBOL MONYY"),
    ("HSI DEC26 100", "is not SYMBOL MONYY"),
    ("HSI 12/26", "is not MONYY"),
    ("HSI DEC6", "is not MONYY"),
    ("HKB DEC26 abc C", "is not a decimal number"),
    ("HKB DEC26 -1 C", "is not a decimal number"),
    ("HKB DEC26 NaN C", "is not a decimal number"),
    ("HKB DEC26 100 X", "is not C or P"),
])
def test_malformed_names_say_why(text, says):
    with pytest.raises(SeriesNameError, match=says):
        parse_series_name(text)


def test_directory_and_series_key_parse():
    d = SeriesDirectory(ITEMS)
    assert d.key("hsi dec26") == HSI_DEC26
    assert d.key("HKB DEC26 100 c") == HKB_DEC26_100_C  # 100 = 100.00, c = C
    assert d.key("odd-name") == SeriesKey(commodity=9)  # a name that is not SYMBOL MONYY: matched as is
    assert SeriesKey.parse("HSI DEC26", ITEMS) == HSI_DEC26
    assert SeriesKey.parse("HSI DEC26", d) == HSI_DEC26
    with pytest.raises(SeriesNameError) as e:
        d.key("HKB DEC26 72.50 C")
    assert e.value.known == ("HKB DEC26 100.00 C",)
    assert "no series 'HKB DEC26 72.50 C'" in str(e.value)
    with pytest.raises(SeriesNameError) as e:
        d.key("HKB MAR27 100 C")  # no MAR27: other months of the symbol are suggested
    assert e.value.known == ("HKB DEC26 100.00 C",)
    with pytest.raises(SeriesNameError) as e:
        d.key("ZZZ DEC26")
    assert e.value.known == ()
