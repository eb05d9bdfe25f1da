from datetime import date
from decimal import Decimal

from gateway.clearing.dcass import (AccountsQuery, AccountType, CallPut, ClearingHousesQuery, InstrumentClassesQuery,
                                    InstrumentKind, ParticipantsQuery, SeriesQuery, UnderlyingsQuery,
                                    pack_series_key, unpack_series_key)
from gateway.refdata import calendar
from gateway.refdata import dcass_reference as load


def test_series_key_layout_round_trip():
    key = pack_series_key(1, 2, 1, 0, 700, date(2026, 11, 27), 48000)
    assert len(key) == 12
    assert key.hex() == "01020100" + "02bc" + "34a7" + "0000bb80"
    f = unpack_series_key(key)
    assert (f.country, f.market, f.instrument_group, f.modifier, f.commodity, f.expiry, f.strike) == \
        (1, 2, 1, 0, 700, date(2026, 11, 27), 48000)
    assert (date(2026, 11, 27) - date(1990, 1, 1)).days == 0x34A7


def test_every_series_expires_on_a_business_day_and_keys_decode():
    ref = load()
    cal = calendar()
    for key, s in ref.series.items():
        assert cal.is_business_day(s.expiry), s.name
        f = unpack_series_key(key)
        assert f.expiry == s.expiry and f.strike == s.strike
        assert f.market == ref.clearing_houses[s.cls.clearing_house].market
        assert f.instrument_group == {CallPut.CALL: 1, CallPut.PUT: 2, CallPut.NONE: 3}[s.call_put]
    expiries = sorted({s.expiry for s in ref.series.values()})
    assert [d for d in expiries if d.year == 2026 and d.month in (11, 12)]
    assert [d for d in expiries if d.year == 2027]


def test_contract_values_are_exact_cents():
    """price x multiplier in cents is an integer for one tick of every class (no rounding)."""
    for c in load().classes.values():
        assert (Decimal(1).scaleb(-c.price_decimals) * c.multiplier * 100) % 1 == 0, c.id


def test_reference_data_queries(env):
    houses = env.q(ClearingHousesQuery())
    assert {h.id for h in houses} == {"HKCC", "SEOCH"}
    classes = {c.class_id: c for c in env.q(InstrumentClassesQuery())}
    assert {"HSI-F", "HSI-O", "HHI-F", "CUS-F", "HIB-F", "GDU-F", "TCH-O", "HKB-O", "CHT-O", "AIA-O",
            "HEX-O"} <= set(classes)
    tch = classes["TCH-O"]
    assert (tch.stock_code, tch.multiplier, tch.price_decimals, tch.strike_decimals, tch.clearing_house,
            tch.exercise_style) == ("0700", 100, 2, 2, "SEOCH", "AMERICAN")
    assert classes["HKB-O"].multiplier == 400 and classes["CHT-O"].multiplier == 500
    assert classes["AIA-O"].multiplier == 1000 and classes["HEX-O"].multiplier == 100
    assert classes["CUS-F"].currency == "RMB" and classes["CUS-F"].price_decimals == 4
    assert classes["HSI-F"].kind is InstrumentKind.FUTURE and classes["HSI-F"].money_decimals == 2
    assert {c.class_id for c in env.q(InstrumentClassesQuery("SEOCH"))} == {"TCH-O", "HKB-O", "CHT-O", "AIA-O",
                                                                             "HEX-O"}
    series = env.q(SeriesQuery("TCH-O"))
    assert len(series) == 3 * 5 * 2
    one = env.q(SeriesQuery(series_key=env.key("TCH NOV26 480.00 C")))[0]
    assert one.strike == 48000 and one.call_put is CallPut.CALL and one.strike_decimals == 2
    assert {u.underlying for u in env.q(UnderlyingsQuery())} >= {"HSI", "0700", "USDCNH"}


def test_participants_membership_mix_and_default_accounts(env):
    parts = {p.participant: p for p in env.q(ParticipantsQuery())}
    assert 5 <= len(parts) <= 8
    kinds = {p.clearing_houses for p in parts.values()}
    assert ("HKCC",) in kinds and ("SEOCH",) in kinds and ("HKCC", "SEOCH") in kinds
    accts = env.q(AccountsQuery("CPA01"), "CPA01")
    types = {(a.clearing_house, a.account_type) for a in accts}
    for ch in ("HKCC", "SEOCH"):
        for t in AccountType:
            assert (ch, t) in types
    gross = {a.account_type: a.gross for a in accts}
    assert gross[AccountType.OMNIBUS_CLIENT] and gross[AccountType.DAILY] and gross[AccountType.SINK]
    assert not gross[AccountType.HOUSE] and not gross[AccountType.INDIVIDUAL_CLIENT]
