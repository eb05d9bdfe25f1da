"""Session recording as pcapng (gateway/recording.py): the file read back block by block, TCP
sequence and acknowledgement numbers per direction, segment sizes, rotation, bad settings."""
from __future__ import annotations

import struct
from pathlib import Path

import pytest

from gateway import recording
from gateway.recording import MAX_SEGMENT, Recorder, RecordingError, check_settings, rotated_name
from tests import tshark

C4, S4 = ("10.1.2.3", 40001), ("10.9.8.7", 7600)


def blocks(path: Path) -> list[tuple[int, bytes]]:
    """(block type, body) of every pcapng block, checking both length fields (in the byte order the
    section header's magic gives)."""
    data = path.read_bytes()
    bo = ">" if data[8:12] == bytes.fromhex("1a2b3c4d") else "<"
    assert struct.unpack_from(bo + "I", data, 8)[0] == 0x1A2B3C4D
    out, pos = [], 0
    while pos < len(data):
        btype, total = struct.unpack_from(bo + "II", data, pos)
        assert total % 4 == 0 and pos + total <= len(data)
        assert struct.unpack_from(bo + "I", data, pos + total - 4)[0] == total
        out.append((btype, data[pos + 8:pos + total - 4]))
        pos += total
    return out


def packets(path: Path) -> list[dict]:
    """The packets of the Enhanced Packet Blocks, with their IPv4/IPv6 and TCP headers decoded."""
    out = []
    for btype, body in blocks(path):
        if btype != 6:
            continue
        iface, hi, lo, caplen, origlen = struct.unpack_from(">IIIII", body)
        pkt = body[20:20 + caplen]
        assert caplen == origlen and iface == 0
        if pkt[0] >> 4 == 4:
            ihl = (pkt[0] & 15) * 4
            total = struct.unpack_from(">H", pkt, 2)[0]
            assert total == len(pkt) <= 65535
            s = sum(struct.unpack(">10H", pkt[:20]))
            while s >> 16:
                s = (s & 0xFFFF) + (s >> 16)
            assert s == 0xFFFF, "IPv4 header checksum"
            src, dst, tcp = pkt[12:16], pkt[16:20], pkt[ihl:]
        else:
            assert struct.unpack_from(">H", pkt, 4)[0] == len(pkt) - 40
            src, dst, tcp = pkt[8:24], pkt[24:40], pkt[40:]
        sp, dp, seq, ack, off, flags = struct.unpack_from(">HHIIBB", tcp)
        out.append({"ts": (hi << 32) | lo, "src": src, "dst": dst, "sport": sp, "dport": dp, "seq": seq, "ack": ack,
                    "flags": flags, "data": tcp[(off >> 4) * 4:]})
    return out


def test_file_layout_handshake_data_and_close(tmp_path):
    path = tmp_path / "s.pcapng"
    rec = Recorder(path, 1 << 30, 1)
    conv = rec.connection(C4, S4)
    conv.received(b"hello")
    conv.sent(b"world!")
    conv.sent(b"")  # nothing written: no packet... but harmless
    conv.received(b"x" * 10)
    conv.closed()
    conv.closed()  # once only
    rec.close()
    kinds = [b for b, _ in blocks(path)]
    assert kinds[:2] == [0x0A0D0D0A, 1]
    shb = blocks(path)[0][1]
    assert struct.unpack_from(">IHH", shb) == (0x1A2B3C4D, 1, 0)
    assert struct.unpack_from(">HH", blocks(path)[1][1]) == (recording.LINKTYPE_RAW, 0)
    ps = [p for p in packets(path) if p["data"] or p["flags"] & 0x07]
    c_isn, s_isn = ps[0]["seq"], ps[1]["seq"]
    flags = [p["flags"] for p in packets(path)]
    assert flags[:3] == [0x02, 0x12, 0x10]                        # SYN, SYN-ACK, ACK
    assert flags[-3:] == [0x11, 0x11, 0x10]                       # FIN-ACK both ways, ACK
    data = [p for p in packets(path) if p["data"]]
    assert [(p["data"], p["sport"]) for p in data] == [(b"hello", 40001), (b"world!", 7600), (b"x" * 10, 40001)]
    assert (data[0]["seq"], data[0]["ack"]) == (c_isn + 1, s_isn + 1)
    assert (data[1]["seq"], data[1]["ack"]) == (s_isn + 1, c_isn + 6)
    assert (data[2]["seq"], data[2]["ack"]) == (c_isn + 6, s_isn + 7)
    fin = packets(path)[-3:]
    assert (fin[0]["seq"], fin[0]["ack"]) == (s_isn + 7, c_isn + 16)
    assert (fin[1]["seq"], fin[1]["ack"]) == (c_isn + 16, s_isn + 8)
    assert (fin[2]["seq"], fin[2]["ack"]) == (s_isn + 8, c_isn + 17)
    assert data[0]["src"] == bytes([10, 1, 2, 3]) and data[0]["dst"] == bytes([10, 9, 8, 7])
    ts = [p["ts"] for p in packets(path)]
    assert ts == sorted(ts) and ts[0] > 1_600_000_000 * 10**9     # wall clock, nanoseconds


def test_segments_are_at_most_65535_bytes_and_carry_everything(tmp_path):
    path = tmp_path / "big.pcapng"
    rec = Recorder(path, 1 << 30, 1)
    conv = rec.connection(C4, S4)
    blob = bytes(range(256)) * 1000  # 256,000 bytes in one write
    conv.sent(blob)
    rec.close()
    data = [p for p in packets(path) if p["data"]]
    assert len(data) == -(-len(blob) // MAX_SEGMENT)
    assert all(len(p["data"]) <= MAX_SEGMENT for p in data)
    assert b"".join(p["data"] for p in data) == blob
    assert all(b["seq"] == a["seq"] + len(a["data"]) for a, b in zip(data, data[1:]))


def test_one_conversation_per_connection_and_ipv6(tmp_path):
    path = tmp_path / "two.pcapng"
    rec = Recorder(path, 1 << 30, 1)
    a = rec.connection(C4, S4)
    b = rec.connection(("::1", 40002, 0, 0), ("::1", 7600, 0, 0))
    a.received(b"a1")
    b.received(b"b1")
    a.sent(b"a2")
    rec.close()  # closes both
    ps = packets(path)
    v6 = [p for p in ps if len(p["src"]) == 16]
    assert {p["sport"] for p in v6} == {40002, 7600} and v6[0]["src"] == bytes(15) + b"\1"
    assert sum(1 for p in ps if p["flags"] == 0x02) == 2 and sum(1 for p in ps if p["flags"] == 0x11) == 4


def test_rotation_bounds_the_files_and_each_file_opens_alone(tmp_path):
    path = tmp_path / "rot.pcapng"
    rec = Recorder(path, 20_000, 3)
    conv = rec.connection(C4, S4)
    for i in range(60):
        conv.sent(bytes([i]) * 1000)
        rec.flush()
    conv.closed()
    rec.close()
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["rot.1.pcapng", "rot.2.pcapng", "rot.pcapng"]
    assert rec.rotations > 2
    for p in tmp_path.iterdir():
        assert p.stat().st_size <= 20_000
        ps = packets(p)
        assert ps[0]["flags"] == 0x02 and ps[1]["flags"] == 0x12      # the conversation opens in each file
        data = [x for x in ps if x["data"]]
        assert data[0]["seq"] == ps[1]["seq"] + 1                       # and the data follows the server SYN
        assert all(b["seq"] == a["seq"] + len(a["data"]) for a, b in zip(data, data[1:]))
    last = [x["data"][0] for x in packets(path) if x["data"]]
    assert last[-1] == 59                                               # the newest data is in the current file
    assert rotated_name(path, 2).name == "rot.2.pcapng"


def test_a_restart_keeps_the_previous_recording(tmp_path):
    path = tmp_path / "r.pcapng"
    for run in range(3):
        rec = Recorder(path, 1 << 20, 2)
        rec.connection(C4, S4).sent(bytes([run]) * 10)
        rec.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.1.pcapng", "r.pcapng"]
    assert [x["data"][0] for x in packets(path) if x["data"]] == [2]
    assert [x["data"][0] for x in packets(rotated_name(path, 1)) if x["data"]] == [1]


def test_a_single_file_is_truncated_and_restarted(tmp_path):
    path = tmp_path / "one.pcapng"
    rec = Recorder(path, 5_000, 1)
    conv = rec.connection(C4, S4)
    for i in range(20):
        conv.sent(bytes([i]) * 1000)
    rec.close()
    assert [p.name for p in tmp_path.iterdir()] == ["one.pcapng"]
    assert path.stat().st_size <= 5_000
    assert [x["data"][0] for x in packets(path) if x["data"]][-1] == 19


@pytest.mark.parametrize("args, message", [
    (("x.pcapng", 0, 1), "record_max_bytes"),
    (("x.pcapng", 1000, 0), "record_files"),
    (("x.pcap", 1000, 1), "must end with .pcapng"),
    (("/nonexistent/dir/x.pcapng", 1000, 1), "does not exist"),
])
def test_bad_settings_are_refused_with_the_reason(args, message):
    with pytest.raises(RecordingError, match=message):
        check_settings(*args)
    check_settings(None, 0, 0)  # not recording: nothing to check


def test_a_failing_disk_stops_the_recording_not_the_gateway(tmp_path):
    path = tmp_path / "f.pcapng"
    rec = Recorder(path, 1 << 30, 1)
    conv = rec.connection(C4, S4)

    class Broken:
        def write(self, data):
            raise OSError(28, "No space left on device")

        def flush(self):
            pass

        def close(self):
            pass

    rec._file = Broken()
    conv.sent(b"data")
    rec.flush()
    assert rec.failed and "No space" in rec.failed
    conv.sent(b"more")  # ignored from now on
    rec.close()


def test_the_gateway_flag_and_settings(tmp_path):
    from gateway.__main__ import parse_args
    from gateway.config import Settings
    assert parse_args(["--record", "x.pcapng"]).record == "x.pcapng"
    s = Settings.load(None, record_path=str(tmp_path / "a.pcapng"))
    assert s.record_max_bytes > 0 and s.record_files >= 1
    assert recording.from_settings(Settings()) is None
    rec = recording.from_settings(s)
    rec.close()
    assert (tmp_path / "a.pcapng").exists()


def test_tshark_reads_a_recording_with_rotation(tmp_path):
    tshark.require_tshark()
    path = tmp_path / "t.pcapng"
    rec = Recorder(path, 1 << 30, 1)
    conv = rec.connection(C4, S4)
    conv.sent(b"abc")
    rec.close()
    out = tshark.run(path, "-T", "fields", "-e", "tcp.stream", "-e", "tcp.len", "-e", "tcp.analysis.flags")
    rows = [line.split("\t") for line in out.splitlines()]
    assert {r[0] for r in rows} == {"0"}
    assert ["0", "3", ""] in rows
    assert all(r[2] == "" for r in rows), rows                          # no TCP analysis warnings


def test_the_gateway_refuses_to_start_with_a_bad_recording_path(tmp_path):
    from gateway.__main__ import main
    with pytest.raises(SystemExit, match="must end with .pcapng"):
        main(["--record", str(tmp_path / "x.pcap"), "--port", "0"])
    assert list(tmp_path.iterdir()) == []


def test_missing_tshark_skips_locally_and_fails_under_ci(monkeypatch):
    monkeypatch.setattr(tshark.shutil, "which", lambda name: None)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="apt-get install tshark"):
        tshark.require_tshark()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI must run"):
        tshark.require_tshark()
