from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.framing import HEADER_SIZE, FrameDecoder, FramingError, encode_frame, with_request
from protocol.kinds import Flag, Kind


def frames(n):
    return [encode_frame(Kind.QUERY, b"UQ\x00\x0c\x00\x00\x00\x00", i + 1, segment=i) for i in range(n)]


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 8), st.lists(st.integers(1, 200), min_size=1, max_size=20))
def test_split_and_merged_reads(n, cuts):
    data = b"".join(frames(n))
    d = FrameDecoder()
    got, pos, i = [], 0, 0
    while pos < len(data):
        step = cuts[i % len(cuts)]
        got += d.feed(data[pos:pos + step])
        pos += step
        i += 1
    assert [f.request_id for f in got] == list(range(1, n + 1))
    assert d.buffered == 0


def test_header_fields_round_trip():
    f = encode_frame(Kind.BROADCAST, b"BI\x00\x09", 0, flags=Flag.REPLAY, stream=3, sequence=99,
                     business_date=20261123, session_status=-5, business_status=-700070, field_offset=12, segment=2)
    (fr,) = FrameDecoder().feed(f)
    assert (fr.kind, fr.flags, fr.stream, fr.sequence, fr.business_date) == (Kind.BROADCAST, Flag.REPLAY, 3, 99, 20261123)
    assert (fr.session_status, fr.business_status, fr.field_offset, fr.segment) == (-5, -700070, 12, 2)
    assert len(f) == HEADER_SIZE + 4


def test_recovery_copy_changes_only_request_and_flags():
    f = encode_frame(Kind.BROADCAST, b"BI\x00\x09", 0, stream=1, sequence=5)
    (fr,) = FrameDecoder().feed(with_request(f, 77, Flag.RECOVERY))
    assert (fr.request_id, fr.flags, fr.sequence) == (77, Flag.RECOVERY, 5)


@pytest.mark.parametrize("mutate,status", [
    (lambda b: (10).to_bytes(4, "big") + b[4:], -47),         # shorter than the header
    (lambda b: (70000).to_bytes(4, "big") + b[4:], -45),      # above the maximum frame size
    (lambda b: b[:4] + b"\x09" + b[5:], -46),                 # unknown version
])
def test_unframeable_input(mutate, status):
    with pytest.raises(FramingError) as e:
        FrameDecoder().feed(mutate(frames(1)[0]))
    assert e.value.status == status


def test_oversize_detected_before_the_body_arrives():
    d = FrameDecoder(max_frame_size=1000)
    with pytest.raises(FramingError):
        d.feed((5000).to_bytes(4, "big") + b"\x01")
