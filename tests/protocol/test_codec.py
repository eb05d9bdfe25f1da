"""The generated codec against construct itself, round trips, golden vectors, field offsets."""
from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from protocol.codec import _INT_RANGES, DecodeError, EncodeError
from protocol.golden import DEFAULT_PATH, render
from protocol.framing import reply_frame
from protocol.kinds import Flag
from protocol.registry import UnknownMessageType, all_specs, decode_message, encode_message, encode_reply
from protocol.values import from_dict, to_dict

SPECS = all_specs()
IDS = [s.code for s in SPECS]


def strategy(rec, depth=0):
    fields = {}
    for f in rec.fields:
        if f.kind == "filler":
            continue
        if f.kind == "int":
            lo, hi = _INT_RANGES[f.fmt]
            fields[f.name] = st.integers(lo, hi)
        elif f.kind == "text":
            fields[f.name] = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=f.length).map(
                lambda s: s)
        elif f.kind == "bool":
            fields[f.name] = st.booleans()
        elif f.kind == "code":
            fields[f.name] = st.sampled_from(list(f.enum_cls))
        elif f.kind == "record":
            fields[f.name] = strategy(f.record, depth + 1)
        elif f.kind == "items":
            fields[f.name] = st.lists(strategy(f.record, depth + 1), max_size=4)
    return st.builds(rec.cls, **fields)


def construct_build(obj):
    rec = type(obj).__record__
    return rec.layout.build({f.name: getattr(obj, f.name) for f in rec.fields if f.kind != "filler"})


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_round_trip_and_construct_agree(spec):
    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(strategy(spec.record))
    def check(obj):
        payload = encode_message(obj)
        assert payload[:4] == spec.type
        # the generated fast path and construct's own builder produce the same bytes
        assert payload[4:] == construct_build(obj)
        # a reply framed in one call (fixed size) is the payload framed apart
        assert encode_reply(obj, 2**64 - 1, 20261123) == reply_frame(payload, 2**64 - 1, 1, Flag.LAST_SEGMENT, 20261123)
        back = decode_message(payload)
        assert back == obj
        # and construct parses our bytes to the same values
        parsed = spec.record.layout.parse(payload[4:])
        assert {k: parsed[k] for k in spec.record.field_types} == {k: getattr(obj, k) for k in spec.record.field_types}
    check()


def test_golden_vectors_are_current_and_decode():
    assert DEFAULT_PATH.read_text() == render(), "run python -m protocol.golden --write"
    data = json.loads(DEFAULT_PATH.read_text())
    codes = {v["code"] for v in data["vectors"]}
    assert codes == set(IDS), "every message has a golden vector"
    by_code = {s.code: s for s in SPECS}
    for v in data["vectors"]:
        spec = by_code[v["code"]]
        payload = bytes.fromhex(v["payload_hex"])
        obj = decode_message(payload)
        assert to_dict(obj) == v["values"]
        assert encode_message(from_dict(spec.cls, v["values"])) == payload


def test_unknown_type_and_short_payload():
    with pytest.raises(UnknownMessageType):
        decode_message(b"ZZ\x00\x01")
    with pytest.raises(DecodeError) as e:
        decode_message(b"UQ")
    assert e.value.offset == 0


def test_field_error_offset_points_at_the_bad_field():
    from protocol.messages.session import LoginRequest
    good = encode_message(LoginRequest(user="CPA01", password="pass-CPA01"))
    # forced flag (offset 4 + 96) set to 7: not a boolean
    bad = bytearray(good)
    bad[100] = 7
    with pytest.raises(DecodeError) as e:
        decode_message(bytes(bad))
    assert (e.value.offset, e.value.field) == (100, "forced")
    # non-ASCII byte in the password (offset 36)
    bad = bytearray(good)
    bad[40] = 0xFF
    with pytest.raises(DecodeError) as e:
        decode_message(bytes(bad))
    assert (e.value.offset, e.value.field) == (36, "password")
    # wrong length: a byte too many
    with pytest.raises(DecodeError):
        decode_message(good + b"\x00")
    # items running past the end
    with pytest.raises(DecodeError):
        decode_message(good[:-2] + b"\x00\x05")


def test_encode_rejects_what_does_not_fit():
    from protocol.messages.session import Ack, LoginRequest
    with pytest.raises(EncodeError):
        encode_message(LoginRequest(user="X" * 33))
    with pytest.raises(EncodeError):
        encode_message(Ack(reference=-1))
    with pytest.raises(EncodeError):   # framed as a reply in one call: the same error
        encode_reply(Ack(reference=-1), 1, 20261123)
    with pytest.raises(EncodeError):
        encode_reply(LoginRequest(user="X" * 33), 1, 20261123)


def test_docs_are_current():
    from gateway.docgen import CONFIG_OUT, OUT, render as render_docs, render_configuration
    assert OUT.read_text() == render_docs(), "docs/protocol.md is stale: run python -m gateway.docgen"
    assert CONFIG_OUT.read_text() == render_configuration(), "docs/configuration.md is stale"
