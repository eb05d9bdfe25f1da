"""Codec field types that carry a wire fact: fixed-point decimals, dates, times, text cut to fit;
and the facts derived from the declarations (header offsets, payload field offsets, heartbeat)."""
from __future__ import annotations

import re
from datetime import date, datetime, time
from decimal import ROUND_HALF_UP, Decimal

import pytest

import protocol.messages  # noqa: F401 - registers every declaration
import protocol.registry
from protocol.codec import I32, I64, U8, U32, Date, DateInt, EncodeError, Fixed, Record, Struct, Text, Time
from protocol.framing import HEADER, FrameDecoder, FramingError, encode_frame, header_field, with_request
from protocol.kinds import Kind
from protocol.messages import collateral as mc
from protocol.messages import dcass as md
from protocol.messages import session as ms
from protocol.registry import TYPE_SIZE, all_specs, decode_message, encode_message, field_offset
from protocol.status import SessionStatus
from protocol.units import COLLATERAL_PRICE, RATE

_REC = Record("field_types_sample", Struct(
    "rate" / Fixed(I64, 8) * "a rate",
    "price" / Fixed(I32, 4) * "a price",
    "day" / Date * "a date",
    "at" / Time * "a time",
    "note" / Text(6, truncate=True) * "cut to fit",
    "code" / Text(4) * "refused when too long",
))


def test_fixed_point_is_an_integer_on_the_wire_with_its_decimals_declared():
    f = _REC.field_types["rate"]
    assert (f.kind, f.decimals, f.fmt) == ("int", 8, "q")
    assert f.type_name == "i64 fixed point, 8 decimals"
    plain = Record("field_types_plain", Struct("rate" / I64, "price" / I32, "rest" / Text(26)))
    obj = _REC.cls(rate=-3650000, price=1234567)
    assert _REC.encode(obj)[:12] == plain.encode(plain.cls(rate=-3650000, price=1234567))[:12]
    assert _REC.layout.build({"rate": -3650000, "price": 1234567, "day": "", "at": "", "note": "", "code": ""}) \
        == _REC.encode(obj)
    assert _REC.decode(_REC.encode(obj))[0] == obj


def test_fixed_point_conversions_round_at_the_declared_decimals():
    assert RATE.to_decimal(3650000) == Decimal("0.0365")
    assert str(RATE.to_decimal(3650000)) == "0.03650000"
    assert RATE.from_decimal(Decimal("0.0365")) == 3650000
    assert RATE.from_decimal(Decimal("0.000000005")) == 0                       # half to even
    assert RATE.from_decimal(Decimal("0.000000015")) == 2
    assert RATE.from_decimal(Decimal("0.000000005"), ROUND_HALF_UP) == 1
    assert RATE.scale == Decimal(10) ** 8
    assert COLLATERAL_PRICE.from_decimal(Decimal("101.25")) == 1012500
    with pytest.raises(TypeError):
        Fixed(Text(8), 2)
    with pytest.raises(TypeError):
        Fixed(I64, -1)


def test_dates_and_times_are_text_with_their_form():
    assert _REC.field_types["day"].type_name == "date YYYYMMDD (text(8))"
    assert _REC.field_types["at"].type_name == "time HHMMSS (text(6))"
    assert Date.to_text(date(2026, 11, 23)) == "20261123"
    assert Date.to_text(date(999, 1, 2)) == date(999, 1, 2).strftime("%Y%m%d")
    assert Date.from_text("20261123") == date(2026, 11, 23)
    assert Time.to_text(datetime(2026, 11, 23, 9, 5, 7)) == "090507"
    assert Time.to_text(time(23, 59, 59)) == "235959"
    assert Time.from_text("090507") == time(9, 5, 7)
    for bad in ("20261131", "abcdefgh", "2026-11-2"):
        with pytest.raises(ValueError):
            Date.from_text(bad)
    with pytest.raises(ValueError):
        Time.from_text("246000")
    obj = _REC.cls(day="20261123", at="090507")
    assert _REC.decode(_REC.encode(obj))[0] == obj


def test_text_cut_to_fit_only_where_declared():
    assert _REC.field_types["note"].type_name == "text(6), cut to fit at a word boundary, marked ..."
    assert _REC.field_types["code"].type_name == "text(4)"
    out = _REC.encode(_REC.cls(note="abcdefghij", code="ab"))
    assert _REC.decode(out)[0].note == "abc..."  # one word longer than the field: cut and marked
    assert _REC.layout.build({"rate": 0, "price": 0, "day": "", "at": "", "note": "abcdefghij", "code": "ab"}) == out
    assert _REC.decode(_REC.encode(_REC.cls(note="abcdef")))[0].note == "abcdef"  # the edge: exactly full
    with pytest.raises(EncodeError):
        _REC.encode(_REC.cls(code="abcde"))
    assert _REC.decode(_REC.encode(_REC.cls(code="abcd")))[0].code == "abcd"


def test_text_is_cut_at_a_word_boundary():
    from protocol.codec import _cut_text
    assert _cut_text("cut-off before 18:45:00", 23) == b"cut-off before 18:45:00"  # exactly full: as is
    assert _cut_text("cut-off before 18:45:00", 22) == b"cut-off before...     "  # never "18:45:0"
    assert _cut_text("value_date: 20261123", 16) == b"value_date...   "
    assert _cut_text("ab cd", 4) == b"ab c"  # too narrow for the marker: the first bytes
    # a space right after the room is a boundary: the whole first word stays
    assert _cut_text("abcdefg hij", 10) == b"abcdefg..."
    assert _cut_text("abcdefgh ij", 10) == b"abcdefg..."  # one word wider than the room: marked


def test_a_detail_is_kept_whole_and_the_generic_text_gives_way():
    from protocol.codec import fit_detail
    head = "The request arrived after the cut-off time"
    assert fit_detail(head, "", 80) == head
    exact = "before 18:45:" + "0" * (80 - len(head) - 2 - len("before 18:45:"))
    assert len(f"{head}: {exact}") == 80
    assert fit_detail(head, exact, 80) == f"{head}: {exact}"  # exactly 80: as is
    over = fit_detail(head, exact + "y", 80)
    assert len(over) <= 80 and over.endswith(": " + exact + "y") and over.startswith("The request arrived")
    assert "..." in over
    huge = "z " * 50  # a detail that cannot fit alone: left whole for the codec to cut at a word
    assert fit_detail(head, huge, 80) == f"{head}: {huge}"


def test_reject_texts_never_end_mid_word():
    detail = "deposit refused: the CCMS cut-off for same-day collateral instructions is before 18:45:00"
    text = decode_message(encode_message(ms.Reject(request_code="CT1", text=detail))).text
    assert len(detail) > 80 and len(text) <= 80 and text.endswith("...")
    assert detail.startswith(text[:-3]) and detail[len(text) - 3] == " "


def test_messages_cut_their_free_text_to_the_field_width():
    long = "x" * 100
    ack = decode_message(encode_message(ms.Ack(text=long)))
    assert ack.text == "x" * 37 + "..."
    item = md.GiveUpItem(text=long, reason=long)
    back = md.GiveUpItem.__record__.decode(md.GiveUpItem.__record__.encode(item))[0]
    assert (back.text, back.reason) == ("x" * 29 + "...", "x" * 29 + "...")
    with pytest.raises(EncodeError):  # identifiers are refused, never cut
        encode_message(ms.LoginRequest(user=long))


def test_no_declaration_writes_decimals_or_a_text_form_in_prose():
    """Rates and collateral prices are Fixed fields, dates and times Date and Time fields: a field
    whose documentation says "8 decimals" or "YYYYMMDD" on a plain type states the fact twice."""
    for spec in all_specs():
        for rec in [spec.record] + [f.record for f in spec.record.fields if f.record is not None]:
            for f in rec.fields:
                if f.decimals is None:
                    assert not re.search(r"\b\d+ decimals\b", f.doc), f"{spec.code} {f.name}: use Fixed"
                if f.kind in ("text", "int"):
                    assert not re.search(r"YYYYMMDD|HHMMSS", f.doc), f"{spec.code} {f.name}: use Date, Time or DateInt"
    assert mc.EligibleItem.__record__.field_types["price"].decimals == COLLATERAL_PRICE.decimals


def test_header_fields_are_read_at_their_declared_offsets():
    frame = encode_frame(Kind.QUERY, b"UQ\x00\x0c", 0x0102030405060708, flags=3, session_status=-18,
                         segment=2, stream=5, sequence=77, business_date=20261123)
    assert header_field(frame, "request_id") == 0x0102030405060708
    assert header_field(frame, "session_status") == -18
    assert header_field(frame, "business_date") == 20261123
    assert header_field(frame, "length") == len(frame)
    end = HEADER.offsets()["request_id"] + 8
    assert header_field(frame[:end], "request_id") == 0x0102030405060708
    assert header_field(frame[:end - 1], "request_id") is None
    again = with_request(frame, 9, 4)
    assert (header_field(again, "request_id"), header_field(again, "flags")) == (9, 7)
    assert again[end:] == frame[end:]


def test_framing_errors_carry_the_declared_session_status():
    cases = [((64001).to_bytes(4, "big") + bytes(36), SessionStatus.FRAME_TOO_LARGE),
             ((39).to_bytes(4, "big") + bytes(36), SessionStatus.BAD_LENGTH),
             (encode_frame(Kind.QUERY, b"UQ\x00\x0c")[:4] + b"\x07" + bytes(39), SessionStatus.BAD_VERSION)]
    for raw, status in cases:
        with pytest.raises(FramingError) as e:
            FrameDecoder().feed(raw)
        assert e.value.status == status and type(e.value.status) is int


def test_payload_field_offsets_count_from_the_message_type():
    assert TYPE_SIZE == 4
    assert field_offset(ms.ChangePasswordRequest, "old_password") == 4
    assert field_offset(ms.ChangePasswordRequest, "new_password") == 4 + 32
    assert field_offset(ms.RecoveryQuery, "stream") == 4
    assert field_offset(ms.LoginRequest, "nonexistent") == 0
    deals = md.InjectDealsRequest.__record__
    item = deals.field_types["deals"].record
    assert field_offset(md.InjectDealsRequest, "deals[2].price") == 4 + deals.size + 2 * item.size \
        + item.offsets()["price"]


def test_the_heartbeat_payload_is_its_declaration_encoded():
    from protocol import session
    assert ms.HEARTBEAT_PAYLOAD == encode_message(ms.Heartbeat())
    assert session.HEARTBEAT_PAYLOAD == ms.HEARTBEAT_PAYLOAD
    assert decode_message(ms.HEARTBEAT_PAYLOAD) == ms.Heartbeat()


def test_unused_plain_types_stay_plain():
    rec = Record("field_types_plain_u8", Struct("n" / U8))
    assert (rec.fields[0].decimals, rec.fields[0].form, rec.fields[0].truncate) == (None, "", False)


def test_a_bad_field_after_dates_and_times_is_located_at_its_offset():
    from protocol.codec import DecodeError
    payload = protocol.registry.type_bytes("EC1") + b" " * 8 + b"100000" + b"\x02\x00"
    with pytest.raises(DecodeError) as e:
        decode_message(payload)
    assert (e.value.offset, e.value.field) == (18, "reset")
    assert _REC.locate_error(_REC.encode(_REC.cls(day="20261123", at="090507"))) == (0, "", "")


def test_integer_dates_are_u32_with_their_form():
    rec = Record("field_types_date_int", Struct("day" / DateInt * "a date", "n" / U32 * "a count"))
    f = rec.field_types["day"]
    assert (f.kind, f.fmt, f.form, f.type_name) == ("int", "I", "YYYYMMDD", "date YYYYMMDD (u32)")
    assert rec.field_types["n"].type_name == "u32"
    assert DateInt.to_int(date(2026, 11, 23)) == 20261123
    assert DateInt.from_int(20261123) == date(2026, 11, 23)
    for bad in (0, 20261131, 20261301):
        with pytest.raises(ValueError):
            DateInt.from_int(bad)
    assert rec.decode(rec.encode(rec.cls(day=20261123, n=5)))[0] == rec.cls(day=20261123, n=5)
    assert rec.layout.build({"day": 20261123, "n": 5}) == rec.encode(rec.cls(day=20261123, n=5))
    assert HEADER.field_types["business_date"].form == "YYYYMMDD"
    assert ms.RecoveryQuery.__record__.field_types["business_date"].type_name == "date YYYYMMDD (u32)"
