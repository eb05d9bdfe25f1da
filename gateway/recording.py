"""Session recording: every connection's traffic, both directions, as a pcapng capture file.

The gateway writes the file itself from the bytes it reads and writes (no capture privileges, no
capture library): one pcapng section with one interface of link type RAW (IPv4 or IPv6 packets),
and for each connection one TCP conversation between the real peer and listening addresses and
ports, with synthesized IPv4/IPv6 and TCP headers: a three-way handshake when the connection is
made, data segments with the sequence and acknowledgement numbers of each direction (at most 65,495
bytes of data each, so every IP packet is at most 65,535 bytes), FINs when it ends. Timestamps are
the wall clock, in nanoseconds (``if_tsresol`` 9). Checksums are not computed (zero), which
Wireshark does not verify by default. Under TLS the bytes are those of the decrypted stream: the
file holds the session in the clear.

Off the hot path: recording a write or a read appends a tuple to a list; the packets are built and
written in batches (by a timer, by volume, and at close). Bounded: when a file would exceed
``record_max_bytes`` it is closed and renamed ``NAME.1.pcapng`` (the older ones shifting to
``.2``, ...; ``record_files`` files are kept in all) and a new file starts, in which each open
connection first gets a handshake again so that every file opens on its own in Wireshark. A gateway
started again with the same path shifts the previous recording the same way first.
Docs: docs/guides/wireshark.md.
"""
from __future__ import annotations

import ipaddress
import os
import struct
import time
from pathlib import Path
from typing import Any, Iterator

import structlog

log = structlog.get_logger("gateway.recording")

LINKTYPE_RAW = 101          # raw IP: the version nibble tells IPv4 from IPv6
MAX_SEGMENT = 65535 - 40    # data bytes per segment: an IPv4 packet (20 + 20 header bytes) of at most 65,535
FLUSH_ENTRIES = 2048        # pending reads/writes that trigger a batch...
FLUSH_BYTES = 1 << 20       # ...or pending bytes
FLUSH_SECONDS = 0.25        # ...or this much time

_SYN, _ACK, _PSH, _FIN = 0x02, 0x10, 0x08, 0x01
_PSH_ACK = _PSH | _ACK
_OPEN, _CLIENT, _SERVER, _CLOSE = 0, 1, 2, 3

# The file is big-endian (pcapng allows either; its byte-order magic says which), like the IP and
# TCP headers: the Enhanced Packet Block's header and both packet headers are one pack.
_EPB = "7I"                      # block type, total length, interface, ts high, ts low, captured, original
_IPV4 = "BBHHHBBH4s4s"
_IPV6 = "IHBB16s16s"
_TCP = "HHIIBBHHH"
_HEAD4 = struct.Struct(">" + _EPB + _IPV4 + _TCP)
_HEAD6 = struct.Struct(">" + _EPB + _IPV6 + _TCP)
_PADS = (b"", b"\0", b"\0\0", b"\0\0\0")
_IPV4_CONST = 0x4500 + 0x4000 + ((64 << 8) | 6)  # version/IHL/TOS, DF, TTL/protocol: their checksum words


class RecordingError(ValueError):
    """The recording settings or the file cannot be used (the message says which)."""


def check_settings(path: str | None, max_bytes: int, files: int) -> None:
    """Raise :class:`RecordingError` for unusable recording settings."""
    if not path:
        return
    if not isinstance(max_bytes, int) or max_bytes <= 0:
        raise RecordingError(f"record_max_bytes must be a positive number of bytes, got {max_bytes!r}")
    if not isinstance(files, int) or files < 1:
        raise RecordingError(f"record_files must be at least 1, got {files!r}")
    if not str(path).endswith(".pcapng"):
        raise RecordingError(f"record path {path!r} must end with .pcapng")
    parent = Path(path).resolve().parent
    if not parent.is_dir():
        raise RecordingError(f"record path {path!r}: directory {parent} does not exist")


def rotated_name(path: Path, index: int) -> Path:
    """``trace.pcapng`` -> ``trace.1.pcapng`` (index 0: the file itself)."""
    if index == 0:
        return path
    return path.with_name(f"{path.name[:-len('.pcapng')]}.{index}.pcapng")


def _option(code: int, value: bytes) -> bytes:
    pad = (-len(value)) % 4
    return struct.pack(">HH", code, len(value)) + value + b"\0" * pad


def _block(block_type: int, body: bytes) -> bytes:
    total = 12 + len(body)
    return struct.pack(">II", block_type, total) + body + struct.pack(">I", total)


def file_header(application: str = "hkpost-gateway") -> bytes:
    """Section Header Block and Interface Description Block (raw IP, nanosecond timestamps)."""
    shb = _block(0x0A0D0D0A, struct.pack(">IHHq", 0x1A2B3C4D, 1, 0, -1)
                 + _option(4, application.encode()) + _option(0, b""))
    idb = _block(0x00000001, struct.pack(">HHI", LINKTYPE_RAW, 0, 0)
                 + _option(2, b"hkpost-gateway") + _option(9, bytes([9])) + _option(0, b""))
    return shb + idb


def _address(peer: Any) -> tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, int]:
    try:
        return ipaddress.ip_address(peer[0].split("%")[0]), int(peer[1])
    except (ValueError, TypeError, IndexError, AttributeError):
        return ipaddress.IPv4Address(0), 0


class Conversation:
    """One connection's TCP conversation: its addresses and each direction's next sequence number."""

    __slots__ = ("recorder", "client", "server", "cport", "sport", "cseq", "sseq", "v6", "ip_id", "open", "base")

    def __init__(self, recorder: "Recorder", client: Any, server: Any):
        self.recorder = recorder
        (c, self.cport), (s, self.sport) = _address(client), _address(server)
        self.v6 = c.version == 6 or s.version == 6
        if self.v6:  # one family for both ends
            c = c if c.version == 6 else ipaddress.IPv6Address(f"::ffff:{c}")
            s = s if s.version == 6 else ipaddress.IPv6Address(f"::ffff:{s}")
        self.client, self.server = c.packed, s.packed
        # the IPv4 header checksum's constant words (the addresses' sum is the same both ways)
        self.base = _IPV4_CONST + sum(struct.unpack(">4H", self.client + self.server)) if not self.v6 else 0
        n = next(recorder._ids)
        self.cseq = (n * 0x9E3779B1) & 0xFFFFFFFF       # initial sequence numbers: distinct per connection
        self.sseq = (n * 0x85EBCA6B + 1) & 0xFFFFFFFF
        self.ip_id = 0
        self.open = True
        recorder._open.add(self)
        recorder._pending.append((time.time_ns(), self, _OPEN, b""))

    def received(self, data: bytes) -> None:
        """Bytes the gateway read from the peer."""
        r = self.recorder
        r._pending.append((time.time_ns(), self, _CLIENT, data))
        r._pending_bytes += len(data)
        if r._pending_bytes > FLUSH_BYTES or len(r._pending) > FLUSH_ENTRIES:
            r.flush()

    def sent(self, data: bytes) -> None:
        """Bytes the gateway wrote to the peer."""
        r = self.recorder
        r._pending.append((time.time_ns(), self, _SERVER, data))
        r._pending_bytes += len(data)
        if r._pending_bytes > FLUSH_BYTES or len(r._pending) > FLUSH_ENTRIES:
            r.flush()

    def closed(self) -> None:
        """The connection ended (either side): FINs both ways."""
        if self.open:
            self.open = False
            self.recorder._open.discard(self)
            self.recorder._pending.append((time.time_ns(), self, _CLOSE, b""))

    # ------------------------------------------------------------ packets
    def _packet(self, ts: int, from_client: bool, flags: int, data: bytes = b"") -> bytes:
        """One Enhanced Packet Block: IPv4 or IPv6, TCP, ``data``."""
        if from_client:
            src, dst, sp, dp, seq, ack = self.client, self.server, self.cport, self.sport, self.cseq, self.sseq
        else:
            src, dst, sp, dp, seq, ack = self.server, self.client, self.sport, self.cport, self.sseq, self.cseq
        if not flags & _ACK:
            ack = 0
        n = len(data)
        if self.v6:
            caplen = 60 + n
            pad = -caplen & 3
            total = 32 + caplen + pad
            head = _HEAD6.pack(6, total, 0, ts >> 32, ts & 0xFFFFFFFF, caplen, caplen,
                               0x60000000, 20 + n, 6, 64, src, dst, sp, dp, seq, ack, 0x50, flags, 65535, 0, 0)
        else:
            caplen = 40 + n
            pad = -caplen & 3
            total = 32 + caplen + pad
            ip_id = self.ip_id = (self.ip_id + 1) & 0xFFFF
            c = self.base + caplen + ip_id
            c = (c & 0xFFFF) + (c >> 16)
            c = (c & 0xFFFF) + (c >> 16)
            head = _HEAD4.pack(6, total, 0, ts >> 32, ts & 0xFFFFFFFF, caplen, caplen,
                               0x45, 0, caplen, ip_id, 0x4000, 64, 6, ~c & 0xFFFF, src, dst,
                               sp, dp, seq, ack, 0x50, flags, 65535, 0, 0)
        return b"".join((head, data, _PADS[pad], total.to_bytes(4, "big")))

    # Generators: the sequence number advances after each packet is taken, so that a rotation
    # between two packets (Recorder._write) replays the handshake at the right point.
    def handshake(self, ts: int) -> Iterator[bytes]:
        self.cseq = (self.cseq - 1) & 0xFFFFFFFF  # the SYNs take the sequence number before the data
        self.sseq = (self.sseq - 1) & 0xFFFFFFFF
        syn = self._packet(ts, True, _SYN)
        self.cseq = (self.cseq + 1) & 0xFFFFFFFF
        syn_ack = self._packet(ts, False, _SYN | _ACK)
        self.sseq = (self.sseq + 1) & 0xFFFFFFFF
        yield syn
        yield syn_ack
        yield self._packet(ts, True, _ACK)

    def data(self, ts: int, from_client: bool, data: bytes) -> Iterator[bytes]:
        for i in range(0, len(data), MAX_SEGMENT):
            chunk = data if len(data) <= MAX_SEGMENT else data[i:i + MAX_SEGMENT]
            yield self._packet(ts, from_client, _PSH | _ACK, chunk)
            if from_client:
                self.cseq = (self.cseq + len(chunk)) & 0xFFFFFFFF
            else:
                self.sseq = (self.sseq + len(chunk)) & 0xFFFFFFFF

    def finish(self, ts: int) -> Iterator[bytes]:
        yield self._packet(ts, False, _FIN | _ACK)
        self.sseq = (self.sseq + 1) & 0xFFFFFFFF
        yield self._packet(ts, True, _FIN | _ACK)
        self.cseq = (self.cseq + 1) & 0xFFFFFFFF
        yield self._packet(ts, False, _ACK)


class Recorder:
    """A pcapng file of every connection, bounded by size with rotation."""

    def __init__(self, path: str | os.PathLike, max_bytes: int, files: int):
        check_settings(str(path), max_bytes, files)
        self.path = Path(path)
        self.max_bytes = max_bytes
        self.files = files
        self._pending: list[tuple] = []
        self._pending_bytes = 0
        self._ids = iter(range(1, 1 << 62))
        self._open: set[Conversation] = set()  # connections not closed yet
        self._live: set[Conversation] = set()  # conversations whose handshake is in the current file
        self._file = None
        self._size = 0
        self._timer = None
        self.failed: str | None = None
        self.rotations = 0
        if self.path.exists():  # a restarted gateway keeps the previous recording (as FILE.1.pcapng)
            self._shift()
        self._open_file()

    def connection(self, client: Any, server: Any) -> Conversation:
        """A new connection: ``client`` the peer's address, ``server`` the listening socket's."""
        return Conversation(self, client, server)

    # ------------------------------------------------------------ writing
    def _open_file(self) -> None:
        try:
            self._file = open(self.path, "wb")  # noqa: SIM115 - closed by close() / rotation
        except OSError as e:
            raise RecordingError(f"cannot write the recording {self.path}: {e.strerror or e}") from None
        head = file_header()
        self._file.write(head)
        self._size = len(head)
        self._header_size = len(head)

    def _shift(self) -> None:
        """FILE.pcapng -> FILE.1.pcapng -> ... ; the oldest beyond ``files`` is deleted."""
        if self.files < 2:
            return  # the one file is started again
        oldest = rotated_name(self.path, self.files - 1)
        if oldest.exists():
            oldest.unlink()
        for i in range(self.files - 2, -1, -1):
            src = rotated_name(self.path, i)
            if src.exists():
                src.rename(rotated_name(self.path, i + 1))

    def _rotate(self, ts: int) -> list[bytes]:
        self._file.close()
        self._shift()
        self._open_file()
        self.rotations += 1
        out = []  # every open conversation starts again in the new file
        for conv in self._live:
            out += conv.handshake(ts)
        return out

    def flush(self) -> None:
        """Build and write the pending packets."""
        pending = self._pending
        if not pending or self._file is None:
            pending.clear()
            self._pending_bytes = 0
            return
        self._pending = []
        self._pending_bytes = 0
        try:
            self._write(pending)
        except OSError as e:  # recording never takes the gateway down: it stops, and says so
            self.failed = str(e)
            log.error("recording_failed", path=str(self.path), error=str(e))
            self._stop_file()

    def _write(self, pending: list[tuple]) -> None:
        buf: list[bytes] = []
        size = self._size
        limit = self.max_bytes
        live = self._live
        packet = Conversation._packet
        for ts, conv, what, data in pending:
            if what == _SERVER and len(data) <= MAX_SEGMENT:  # the common case, without a generator
                p = packet(conv, ts, False, _PSH_ACK, data)
                if size + len(p) > limit and size > self._header_size:
                    self._file.write(b"".join(buf))
                    buf = self._rotate(ts)
                    size = self._size + sum(map(len, buf))
                buf.append(p)
                size += len(p)
                conv.sseq = (conv.sseq + len(data)) & 0xFFFFFFFF
                continue
            if what == _CLIENT or what == _SERVER:
                packets = conv.data(ts, what == _CLIENT, data)
            elif what == _OPEN:
                packets = conv.handshake(ts)
            else:
                packets = conv.finish(ts)
            for p in packets:
                if size + len(p) > limit and size > self._header_size:
                    self._file.write(b"".join(buf))
                    buf = []
                    replay = self._rotate(ts)
                    size = self._size + sum(map(len, replay))
                    buf += replay
                buf.append(p)
                size += len(p)
            if what == _OPEN:
                live.add(conv)
            elif what == _CLOSE:
                live.discard(conv)
        self._file.write(b"".join(buf))
        self._file.flush()
        self._size = size

    def _stop_file(self) -> None:
        if self._file is not None:
            try:
                self._file.close()
            except OSError:
                pass
        self._file = None

    # ------------------------------------------------------------ lifecycle
    def start(self, loop: Any, period: float = FLUSH_SECONDS) -> None:
        """Flush every ``period`` seconds on ``loop`` until :meth:`close`."""
        def tick():
            self.flush()
            self._timer = loop.call_later(period, tick)
        self._timer = loop.call_later(period, tick)

    def close(self) -> None:
        """End every open conversation, write everything, close the file."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        for conv in list(self._open):
            conv.closed()
        self.flush()
        self._stop_file()


def from_settings(settings: Any) -> Recorder | None:
    """The recorder the settings ask for (``record_path``), or None."""
    if not getattr(settings, "record_path", None):
        return None
    return Recorder(settings.record_path, settings.record_max_bytes, settings.record_files)
