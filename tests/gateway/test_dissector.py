"""The Wireshark dissector generated from the declarations (gateway/dissector.py), run in tshark.

Every golden vector decodes to its documented values; what the gateway would refuse is marked
malformed with an expert info and no Lua error; frames split across TCP segments and packed in one
are each decoded; fixed-point and temporal field descriptors are shown scaled and as dates.
"""
from __future__ import annotations

import json
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.dissector import SHIPPED, lua_str, render
from gateway.recording import Recorder
from protocol.codec import I32, I64, U32, Record, Struct, Text
from protocol.framing import HEADER, HEADER_SIZE, encode_frame
from protocol.kinds import Kind
from protocol.registry import BY_CODE, MessageSpec, all_specs, type_bytes
from tests import tshark

VECTORS = Path(__file__).resolve().parents[1] / "golden" / "vectors.json"
CLIENT, SERVER = ("127.0.0.1", 51000), ("127.0.0.1", 7600)


def capture(path: Path, segments: list[tuple[bool, bytes]], server=SERVER) -> Path:
    """A pcapng of one connection carrying ``segments`` (from_client, bytes) as they are."""
    rec = Recorder(path, 1 << 30, 1)
    conv = rec.connection(CLIENT, server)
    for from_client, data in segments:
        (conv.received if from_client else conv.sent)(data)
    conv.closed()
    rec.close()
    return path


def expected_fields(rec: Record, values: dict, prefix: str) -> list[tuple[str, str | None]]:
    """(field abbreviation, tshark's show value or None for subtrees) in tree order, from the
    declaration and the documented values of a golden vector."""
    out: list[tuple[str, str | None]] = []
    for f in rec.fields:
        if f.kind == "filler":
            out.append(("hkpost.filler", None))
            continue
        v = values[f.name]
        name = f"{prefix}.{f.name}"
        if f.kind == "int":
            out.append((name, str(v)))
        elif f.kind == "text":
            out.append((name, v))
        elif f.kind == "code":
            out.append((name, str(int(f.enum_cls[v]))))
        elif f.kind == "bool":
            out.append((name, "1" if v else "0"))
        elif f.kind == "record":
            out.append((name, None))
            out += expected_fields(f.record, v, "hkpost." + f.record.name)
        elif f.kind == "items":
            out.append((name + "_count", str(len(v))))
            for item in v:
                out.append((name, None))
                out += expected_fields(f.record, item, "hkpost." + f.record.name)
    return out


def test_shipped_dissector_is_current():
    assert SHIPPED.read_text() == render(), "stale: run python -m gateway.tools dissector -o gateway/data/hkpost.lua"


def test_the_documented_command_prints_it():
    done = subprocess.run([sys.executable, "-m", "gateway.tools", "dissector"], capture_output=True, text=True,
                          timeout=120, cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0, done.stderr
    assert done.stdout == SHIPPED.read_text()


def test_every_message_and_record_field_is_declared_once():
    text = SHIPPED.read_text()
    for sp in all_specs():
        assert f'M["{sp.code}"]' in text
        for f in sp.record.fields:
            if f.kind != "filler":
                assert f'"hkpost.{sp.code.lower()}.{f.name}' in text
    assert lua_str('a"b\\c\né') == '"a\\"b\\\\c\\010\\195\\169"'


def test_golden_vectors_decode_to_their_documented_values(tmp_path):
    tshark.require_tshark()
    vectors = json.loads(VECTORS.read_text())["vectors"]
    assert len(vectors) == len(all_specs())
    segs = [(Kind[v["kind"]] < Kind.REPLY, bytes.fromhex(v["frame_hex"])) for v in vectors]
    packets = [p for p in tshark.pdml(capture(tmp_path / "golden.pcapng", segs)) if p.frames]
    assert len(packets) == len(vectors)
    for v, pkt in zip(vectors, packets):
        assert pkt.lua_errors == [] and tshark.malformed(pkt) == [], (v["code"], pkt)
        assert len(pkt.frames) == 1
        got = [(f.name, f.show) for f in tshark.values(pkt.frames[0])]
        frame = bytes.fromhex(v["frame_hex"])
        header = HEADER.decode(frame)[0]
        want: list[tuple[str, str | None]] = [("hkpost.header", None)]
        for f in HEADER.fields:
            value = getattr(header, f.name, None)
            show = f"0x{value:04x}" if f.name == "flags" else str(value)  # flags are shown in hex
            want.append(("hkpost.filler", None) if f.kind == "filler" else (f"hkpost.{f.name}", show))
        want += [("hkpost.message", None), ("hkpost.type", v["code"]), ("hkpost.name", v["name"])]
        want += expected_fields(BY_CODE[v["code"]].record, v["values"], "hkpost." + v["code"].lower())
        assert [n for n, _ in got] == [n for n, _ in want], v["code"]
        assert [(n, s) for (n, s), (_, w) in zip(got, want) if w is not None] == \
               [(n, w) for n, w in want if w is not None], v["code"]


def test_enumerated_values_by_name_and_the_trade_broadcast(tmp_path):
    tshark.require_tshark()
    v = next(x for x in json.loads(VECTORS.read_text())["vectors"] if x["code"] == "BD6")
    out = tshark.run(capture(tmp_path / "bd6.pcapng", [(False, bytes.fromhex(v["frame_hex"]))]), "-V")
    trade = v["values"]["trade"]
    assert "BROADCAST BD6 trade" in out
    assert f"side: {trade['side']} (2)" in out
    assert f"series_symbol: {trade['series_symbol']}" in out
    assert "kind: BROADCAST (17)" in out


def _frame(code: str, body: bytes, kind: int = Kind.BROADCAST, **kw) -> bytes:
    return encode_frame(kind, type_bytes(code) + body, **kw)


def test_frames_split_across_segments_and_packed_in_one(tmp_path):
    tshark.require_tshark()
    vectors = {v["code"]: bytes.fromhex(v["frame_hex"]) for v in json.loads(VECTORS.read_text())["vectors"]}
    bd6, bd39, ua20 = vectors["BD6"], vectors["BD39"], vectors["UA20"]
    segs = [(False, bd6[:3]), (False, bd6[3:50]), (False, bd6[50:] + bd39 + ua20[:10]), (False, ua20[10:]),
            (False, bd39 + bd6 + bd39)]
    packets = [p for p in tshark.pdml(capture(tmp_path / "split.pcapng", segs)) if p.frames]
    codes = [[next(f.show for f in fr if f.name == "hkpost.type") for fr in p.frames] for p in packets]
    assert codes == [["BD6", "BD39"], ["UA20"], ["BD39", "BD6", "BD39"]]
    for p in packets:
        assert tshark.malformed(p) == [] and p.lua_errors == []


BAD = {
    "truncated message": lambda v: _frame("BD6", v["BD6"][HEADER_SIZE + 4:HEADER_SIZE + 30]),
    "bytes after the message": lambda v: _frame("BD39", v["BD39"][HEADER_SIZE + 4:] + b"\0\0"),
    "unknown message type": lambda v: _frame("ZZ9", b"\0" * 8),
    "payload shorter than the type": lambda v: encode_frame(Kind.BROADCAST, b"BD"),
    "no payload": lambda v: encode_frame(Kind.HEARTBEAT, b""),
    "bad code": lambda v: _patch(v["BD39"], HEADER_SIZE + 4 + BY_CODE["BD39"].record.offsets()["state"], 99),
    "bad boolean": lambda v: _patch_bool(v),
    "items past the end": lambda v: _frame("UA20", struct.pack(">H", 3) + b"\0" * 4),
    "text not ASCII": lambda v: _patch(v["BD6"], HEADER_SIZE + 4 + BY_CODE["BD6"].record.fields[0].record.offsets()["account_id"], 0xE9),
    "bad version": lambda v: _patch(v["BD6"], HEADER.offsets()["version"], 7),
    "length below the header": lambda v: struct.pack(">I", 12) + b"\1" * 8,
    "length above the maximum": lambda v: struct.pack(">I", 70000) + b"\1" * 60,
}


def _patch(frame: bytes, offset: int, byte: int) -> bytes:
    b = bytearray(frame)
    b[offset] = byte
    return bytes(b)


def _patch_bool(vectors: dict) -> bytes:
    for sp in all_specs():  # the first message with a top-level bool field
        for f in sp.record.fields:
            if f.kind == "bool":
                return _patch(vectors[sp.code], HEADER_SIZE + 4 + sp.record.offsets()[f.name], 2)
    raise AssertionError("no message has a bool field")


@pytest.mark.parametrize("case", sorted(BAD))
def test_truncated_and_corrupted_frames_are_malformed_without_lua_errors(tmp_path, case):
    tshark.require_tshark()
    vectors = {v["code"]: bytes.fromhex(v["frame_hex"]) for v in json.loads(VECTORS.read_text())["vectors"]}
    bad = BAD[case](vectors)
    after = vectors["BD39"]  # a good frame after the bad one (not after an unframeable one: the stream is lost)
    framable = not case.startswith("length")
    segs = [(False, bad + after)] if framable else [(False, bad)]
    packets = [p for p in tshark.pdml(capture(tmp_path / "bad.pcapng", segs)) if p.frames]
    assert len(packets) == 1
    p = packets[0]
    assert p.lua_errors == []
    assert len(tshark.malformed(p)) == 1, tshark.malformed(p)
    assert any("Error/Malformed" in e for e in p.experts)
    if framable:
        assert len(p.frames) == 2 and tshark.malformed(type(p)(0, p.frames[1:], [], [])) == []


def test_a_reject_shows_its_statuses(tmp_path):
    tshark.require_tshark()
    from protocol.registry import encode_message
    spec = BY_CODE["UR2"]
    payload = encode_message(spec.cls())
    frame = encode_frame(Kind.REJECT, payload, 7, session_status=-2100, business_status=-700013, field_offset=12)
    out = tshark.run(capture(tmp_path / "reject.pcapng", [(False, frame)]), "-V")
    assert "session_status: BUSINESS_REJECT (-2100)" in out
    assert "business_status: INVALID_PRICE (-700013)" in out
    assert "Expert Info (Note/Response): BUSINESS_REJECT" in out


def test_fixed_point_and_temporal_descriptors(tmp_path):
    """A field descriptor carrying ``decimals`` is shown scaled, one carrying ``temporal`` as a
    date or time (the contract with the codec's decimal and date field types)."""
    tshark.require_tshark()
    rec = Record("probe", Struct("price" / I32 * "Price", "amount" / I64 * "Amount", "fee" / U32 * "Fee",
                                  "trade_date" / U32 * "Date", "trade_time" / Text(6) * "Time",
                                  "stamp" / Text(14) * "Date and time", "blank_date" / Text(8) * "No date"))
    for name, dec, tmp in [("price", 2, None), ("amount", 4, None), ("fee", 3, None), ("trade_date", None, "date"),
                           ("trade_time", None, "time"), ("stamp", None, "datetime"), ("blank_date", None, "date")]:
        f = rec.field_types[name]
        f.decimals, f.temporal = dec, tmp
    spec = MessageSpec("ZP1", "probe", Kind.BROADCAST, rec, type=type_bytes("ZP1"))
    lua = tmp_path / "probe.lua"
    lua.write_text(render([spec]))
    body = struct.pack(">iqII", -5, -123456789012, 1234567, 20261123) + b"093005" + b"20261123170000" + b" " * 8
    out = tshark.run(capture(tmp_path / "probe.pcapng", [(False, _frame("ZP1", body))]), "-V", lua=lua)
    assert "price: -0.05" in out
    assert "amount: -12345678.9012" in out
    assert "fee: 1234.567" in out
    assert "trade_date: 2026-11-23" in out
    assert "trade_time: 09:30:05" in out
    assert "stamp: 2026-11-23 17:00:00" in out
    assert "blank_date: (none)" in out
    fields = tshark.run(capture(tmp_path / "probe2.pcapng", [(False, _frame("ZP1", body))]), "-T", "fields",
                        "-e", "hkpost.zp1.price", "-e", "hkpost.zp1.trade_date", lua=lua)
    assert fields.split() == ["-5", "20261123"]  # the filter values stay those of the wire


def test_a_text_form_reads_as_temporal_and_a_bad_one_is_refused():
    from gateway.dissector import temporal_of
    rec = Record("probe3", Struct("d" / Text(8), "t" / Text(6), "x" / Text(2)))
    d, t, x = rec.fields
    d.form, t.form = "YYYYMMDD", "HHMMSS"
    assert (temporal_of(d), temporal_of(t), temporal_of(x)) == ("date", "time", None)
    x.temporal = "week"
    with pytest.raises(ValueError, match="none of"):
        temporal_of(x)


def test_a_descriptor_kind_the_generator_does_not_know_is_read_from_its_format():
    rec = Record("probe2", Struct("a" / U32, "b" / Text(4)))
    rec.fields[0].kind, rec.fields[1].kind = "decimal", "date"
    spec = MessageSpec("ZP2", "probe2", Kind.BROADCAST, rec, type=type_bytes("ZP2"))
    text = render([spec])
    assert 'ProtoField.uint32("hkpost.zp2.a"' in text and 'ProtoField.string("hkpost.zp2.b"' in text
    rec.fields[0].fmt = "7x"
    with pytest.raises(TypeError, match="no dissector rendering"):
        render([spec])


def test_other_ports_by_preference(tmp_path):
    tshark.require_tshark()
    v = next(x for x in json.loads(VECTORS.read_text())["vectors"] if x["code"] == "BD6")
    cap = capture(tmp_path / "port.pcapng", [(False, bytes.fromhex(v["frame_hex"]))], server=("127.0.0.1", 9123))
    assert not any(p.frames for p in tshark.pdml(cap))
    assert [len(p.frames) for p in tshark.pdml(cap, ports="9123") if p.frames] == [1]


def test_loaded_from_the_personal_plugins_folder(tmp_path):
    """The other documented way: the file copied into Wireshark's personal Lua plugins folder."""
    tshark.require_tshark()
    v = next(x for x in json.loads(VECTORS.read_text())["vectors"] if x["code"] == "BD6")
    cap = capture(tmp_path / "p.pcapng", [(False, bytes.fromhex(v["frame_hex"]))])
    assert "HKPOST" not in tshark.run(cap, lua=None)
    plugins = tmp_path / ".local" / "lib" / "wireshark" / "plugins"
    plugins.mkdir(parents=True)
    (plugins / "hkpost.lua").write_text(SHIPPED.read_text())
    assert "BROADCAST BD6 trade" in tshark.run(cap, lua=None)
