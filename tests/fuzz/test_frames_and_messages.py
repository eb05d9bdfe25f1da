"""Hostile bytes against the frame decoder and every message decoder (hypothesis).

Properties: the only exceptions are the documented ones (``FramingError`` from the frame decoder,
``DecodeError`` and its subclass ``UnknownMessageType`` from ``decode_message``); the decoder's
buffer never holds a whole frame's worth (memory bounded by the maximum frame size); a frame
split anywhere decodes to the same frames; and whatever decodes re-encodes and decodes again to
the same message.
"""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from protocol.codec import DecodeError
from protocol.framing import HEADER_SIZE, FrameDecoder, FramingError, encode_frame
from protocol.golden import sample
from protocol.kinds import Kind
from protocol.registry import BY_TYPE, all_specs, decode_message, encode_message
from protocol.values import from_dict
from tests.fuzz.conftest import examples, tried

SPECS = all_specs()
MAX = 4096  # a small maximum frame size makes the limit easy to reach
FAST = settings(max_examples=examples(400), deadline=1000, suppress_health_check=[HealthCheck.too_slow])


def valid_payload(spec, salt: int = 0) -> bytes:
    return encode_message(from_dict(spec.cls, sample(spec.record, salt)))


VALID = {spec.code: valid_payload(spec) for spec in SPECS}

kinds = st.sampled_from([int(k) for k in Kind] + [0, 7, 15, 19, 255])
payloads = st.one_of(
    st.binary(max_size=300),
    st.sampled_from(list(VALID.values())),
    st.builds(lambda p, cut: p[:cut], st.sampled_from(list(VALID.values())), st.integers(0, 200)),
)


@st.composite
def frames(draw):
    """Whole frames, mostly valid, some with a lying length, a bad version, or oversize."""
    payload = draw(payloads)
    frame = bytearray(encode_frame(draw(kinds), payload, draw(st.integers(0, 2**64 - 1)),
                                   flags=draw(st.integers(0, 0xFFFF)), stream=draw(st.integers(0, 0xFFFF)),
                                   sequence=draw(st.integers(0, 2**32 - 1))))
    how = draw(st.sampled_from(["ok", "ok", "ok", "length", "version", "flip", "huge", "short"]))
    if how == "length":
        frame[0:4] = draw(st.integers(0, 2**32 - 1)).to_bytes(4, "big")
    elif how == "version":
        frame[4] = draw(st.integers(0, 255))
    elif how == "flip" and frame:
        i = draw(st.integers(0, len(frame) - 1))
        frame[i] ^= 1 << draw(st.integers(0, 7))
    elif how == "huge":
        frame[0:4] = (MAX + draw(st.integers(1, 2**20))).to_bytes(4, "big")
    elif how == "short":
        frame[0:4] = draw(st.integers(0, HEADER_SIZE - 1)).to_bytes(4, "big")
    return bytes(frame)


def chunks(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    out, prev = [], 0
    for p in points + [len(data)]:
        out.append(data[prev:p])
        prev = p
    return out


@FAST
@given(data=st.one_of(st.binary(max_size=2000), st.lists(frames(), max_size=8).map(b"".join)),
       cuts=st.lists(st.integers(0, 10**6), max_size=12))
def test_frame_decoder_only_framing_errors_and_bounded_buffer(data, cuts):
    tried("frame_decoder: random/mutated byte streams")
    dec = FrameDecoder(MAX)
    for part in chunks(data, cuts):
        try:
            got = dec.feed(part)
        except FramingError as e:
            assert e.status in (-45, -46, -47)
            return
        for f in got:
            assert HEADER_SIZE + len(f.payload) <= MAX
        assert dec.buffered < MAX, "never a whole maximum frame waiting in the buffer"


@FAST
@given(fs=st.lists(st.tuples(kinds, st.sampled_from(list(VALID.values()))), min_size=1, max_size=6),
       cuts=st.lists(st.integers(0, 10**6), max_size=20))
def test_split_anywhere_same_frames(fs, cuts):
    tried("frame_decoder: valid frames split anywhere")
    data = b"".join(encode_frame(k, p, i) for i, (k, p) in enumerate(fs))
    whole = FrameDecoder(1 << 20).feed(data)
    dec = FrameDecoder(1 << 20)
    parts = []
    for c in chunks(data, cuts):
        parts += dec.feed(c)
    assert parts == whole and len(whole) == len(fs)
    assert dec.buffered == 0


def _decode_ok_or_documented(payload: bytes):
    try:
        msg = decode_message(payload)
    except DecodeError as e:  # includes UnknownMessageType
        spec = BY_TYPE.get(bytes(payload[:4]))
        bound = max(len(payload), 4 + (spec.record.size if spec else 0))
        assert 0 <= e.offset <= bound
        return None
    again = encode_message(msg)       # whatever decodes, encodes
    assert decode_message(again) == msg
    return msg


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.code)
@settings(max_examples=max(5, examples(250) // 10), deadline=1000, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_message_decoder_on_hostile_payloads(spec, data):
    tried("decode_message: per message type")
    good = VALID[spec.code]
    how = data.draw(st.sampled_from(["random", "truncate", "extend", "flip", "splice", "counts"]))
    if how == "random":
        payload = spec.type + data.draw(st.binary(max_size=len(good) * 2 + 8))
    elif how == "truncate":
        payload = good[:data.draw(st.integers(0, len(good)))]
    elif how == "extend":
        payload = good + data.draw(st.binary(min_size=1, max_size=64))
    elif how == "flip":
        b = bytearray(good)
        for _ in range(data.draw(st.integers(1, 6))):
            i = data.draw(st.integers(0, len(b) - 1))
            b[i] = data.draw(st.integers(0, 255))
        payload = bytes(b)
    elif how == "splice":
        other = data.draw(st.sampled_from(list(VALID.values())))
        payload = good[:data.draw(st.integers(4, len(good)))] + other[4:]
    else:  # item counts that lie: every u16 position set to a large value
        b = bytearray(good)
        if len(b) > 6:
            i = data.draw(st.integers(4, len(b) - 2))
            b[i:i + 2] = data.draw(st.sampled_from([0xFFFF, 0x8000, 1000, 2])).to_bytes(2, "big")
        payload = bytes(b)
    _decode_ok_or_documented(payload)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.code)
def test_valid_samples_decode(spec):
    tried("decode_message: valid samples")
    assert _decode_ok_or_documented(VALID[spec.code]) is not None


@FAST
@given(payload=st.binary(max_size=64))
def test_unknown_types_and_short_payloads(payload):
    tried("decode_message: arbitrary payloads")
    _decode_ok_or_documented(payload)


def test_truncated_in_trailing_filler_reports_the_cut():
    """A payload cut inside a trailing filler is reported as too short, at an offset inside the payload."""
    spec = next(s for s in SPECS if s.code == "BF200")
    payload = VALID["BF200"][:-3]
    with pytest.raises(DecodeError) as e:
        decode_message(payload)
    assert e.value.offset <= len(payload) and "short" in str(e.value)
