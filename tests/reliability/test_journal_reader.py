"""The journal reader hands the pages it has read back to the kernel as it goes
(gateway/journal/format.py ``Reader.records``); what it yields, and the damage it finds after pages
were handed back, are as when it keeps them all."""
from __future__ import annotations

import pytest

from gateway.journal import format as jf


def write_journal(path, n: int, text: str = "x" * 3000) -> list[int]:
    """A journal of ``n`` records; returns the offset of each."""
    offsets, data = [], jf.file_header()
    for i in range(1, n + 1):
        offsets.append(len(data))
        data += jf.encode_record({"n": i, "k": "cmd", "text": text})
    path.write_bytes(data)
    return offsets


def read_all(path, start: int = jf.FILE_HEADER_SIZE):
    with jf.Reader(path) as r:
        return [(rec.n, rec.offset, rec.end, rec.payload["text"]) for rec in r.records(start)], r.damage


@pytest.mark.parametrize("release", [1, 4096, 10_000, jf._RELEASE])
def test_records_are_the_same_whatever_is_handed_back(tmp_path, monkeypatch, release):
    path = tmp_path / "j"
    offsets = write_journal(path, 40)
    monkeypatch.setattr(jf, "_RELEASE", 1 << 40)     # never: the reference
    want, damage = read_all(path)
    assert damage is None and [n for n, *_ in want] == list(range(1, 41))
    monkeypatch.setattr(jf, "_RELEASE", release)
    assert read_all(path) == (want, None)
    assert read_all(path, offsets[7]) == (want[7:], None)          # from a snapshot's offset


def test_damage_after_handed_back_pages_is_found_as_before(tmp_path, monkeypatch):
    path = tmp_path / "j"
    offsets = write_journal(path, 30)
    raw = bytearray(path.read_bytes())
    raw[offsets[20] + jf.RECORD_HEADER_SIZE + 5] ^= 0xFF           # corrupt record 21's body
    path.write_bytes(bytes(raw))
    monkeypatch.setattr(jf, "_RELEASE", 1)
    got, damage = read_all(path)
    assert [n for n, *_ in got] == list(range(1, 21))
    assert damage.offset == offsets[20] and damage.reason == "checksum mismatch"
    assert damage.next_valid == offsets[21]                         # a valid record after it: corruption
    with jf.Reader(path) as r:                                      # a record before is still readable
        assert r.record_at(offsets[3]).n == 4
