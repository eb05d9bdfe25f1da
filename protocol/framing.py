"""The frame: a 40-byte header, then the payload (which starts with the 4-byte message type).

Big-endian, packed. ``length`` counts the whole frame, header included. A frame longer than the
maximum frame size, shorter than the header, or of an unknown version cannot be framed: the
connection ends with an error. Everything else that is wrong is answered with a REJECT.
"""
from __future__ import annotations

import struct
from typing import Any, Callable, NamedTuple

from .codec import I32, U8, U16, U32, U64, DateInt, Filler, Record, Struct
from .kinds import Flag, Kind
from .status import SessionStatus

VERSION = 1
MAX_FRAME_SIZE = 64000

HEADER = Record("frame_header", Struct(
    "length" / U32 * "Total frame length in bytes, this header included",
    "version" / U8 * "Protocol version; 1",
    "kind" / U8 * "Frame kind (see Frame kinds)",
    "flags" / U16 * "Flags: 0x0001 last segment, 0x0002 recovery, 0x0004 replay, 0x0008 referenced",
    "request_id" / U64 * ("Chosen by the client for each request and echoed in its answer; 0 on broadcasts. On a "
                          "TRANSACTION flagged referenced (0x0008) it is also the client reference: unique per "
                          "user and business date, a resend with it is answered once"),
    "session_status" / I32 * "Session status code (0 = normal completion)",
    "business_status" / I32 * "Business status code from the clearing system (0 when not applicable)",
    "field_offset" / U16 * "On a field error: byte offset of the bad field from the payload start",
    "segment" / U16 * "REPLY: answer segment number, 1..n",
    "stream" / U16 * "BROADCAST: stream id (see Streams); 0 otherwise",
    Filler(2),
    "sequence" / U32 * "BROADCAST: sequence number within the stream and business date",
    "business_date" / DateInt * "Business date (broadcasts and replies)",
), "Every frame starts with this header.")

HEADER_SIZE = HEADER.size
_pack = HEADER.struct.pack
_unpack = HEADER.struct.unpack_from
_len_at = struct.Struct(">" + HEADER.field_types["length"].fmt).unpack_from
_LEN_SIZE = HEADER.field_types["length"].size
assert HEADER.offsets()["length"] == 0
assert HEADER_SIZE == 40


_OFFSETS = HEADER.offsets()
_FLAGS_OFF = _OFFSETS["flags"]
_RID_END = _OFFSETS["request_id"] + HEADER.field_types["request_id"].size
_VERSION_OFF = _OFFSETS["version"]
assert _OFFSETS["request_id"] == _FLAGS_OFF + HEADER.field_types["flags"].size  # patched together below
_FLAGS_RID = struct.Struct(">" + HEADER.field_types["flags"].fmt + HEADER.field_types["request_id"].fmt)


_FIELD_AT = {f.name: (_OFFSETS[f.name], struct.Struct(">" + f.fmt)) for f in HEADER.fields if f.kind == "int"}


def header_field(frame: bytes, name: str) -> int | None:
    """One header field of an encoded frame (or of its first bytes), read at its declared offset;
    None when the bytes end before the field does."""
    off, st = _FIELD_AT[name]
    if len(frame) < off + st.size:
        return None
    return st.unpack_from(frame, off)[0]


class FramingError(Exception):
    """The byte stream cannot be framed; the connection must end. ``status`` says why."""

    def __init__(self, status: int, message: str, raw: bytes = b""):
        super().__init__(message)
        self.status = int(status)
        self.raw = raw


_HEADER_VALUES = [f.name for f in HEADER.fields if f.kind != "filler"]  # what the header unpacks to, in order


class Frame(NamedTuple("FrameFields", [(name, int) for name in _HEADER_VALUES] + [("payload", bytes)])):
    """A decoded frame: the header's fields (``length`` and ``version`` included) and the payload
    (the message type and the fields). A tuple: :class:`FrameDecoder` makes one from the unpacked
    header and the payload in one call, with no ``__init__`` (a frame is made for every request)."""

    __slots__ = ()

    @property
    def code(self) -> str:
        from .registry import code_of
        return code_of(self.payload[:4]) if len(self.payload) >= 4 else ""


_new_frame = tuple.__new__  # _new_frame(Frame, header values + (payload,))


def encode_frame(kind: int, payload: bytes, request_id: int = 0, *, flags: int = 0, session_status: int = 0,
                 business_status: int = 0, field_offset: int = 0, segment: int = 0, stream: int = 0,
                 sequence: int = 0, business_date: int = 0) -> bytes:
    return _pack(HEADER_SIZE + len(payload), VERSION, kind, flags, request_id, session_status, business_status,
                 field_offset, segment, stream, sequence, business_date) + payload


def broadcast_frame(payload: bytes, stream: int, sequence: int, business_date: int,
                    _kind: int = int(Kind.BROADCAST)) -> bytes:
    """``encode_frame`` of a BROADCAST, positional (the hot path of publishing; the kind as a
    plain int: ``Kind.BROADCAST`` read per call costs ~0.2 us, half the cost of the framing)."""
    return _pack(HEADER_SIZE + len(payload), VERSION, _kind, 0, 0, 0, 0, 0, 0, stream, sequence,
                 business_date) + payload


def broadcast_encoder(message_type: bytes, record: Record, view: dict) -> Callable[[Any, int, int, int], bytes] | None:
    """The BROADCAST frame of a message encoded straight from an object (``Record.encoder`` with
    ``view``), header and message type packed in the same call: ``frame(e, stream, sequence,
    business_date)`` gives the bytes of ``broadcast_frame(message_type + encoder(e), stream,
    sequence, business_date)``. None for a message with items (its length varies)."""
    if record.has_items:
        return None
    values = {"length": HEADER_SIZE + len(message_type) + record.size, "version": VERSION,
              "kind": int(Kind.BROADCAST), "stream": "stream", "sequence": "sequence", "business_date": "business_date"}
    names = [f.name for f in HEADER.fields if f.kind != "filler"]
    assert values.keys() <= set(names)
    head = [values.get(name, 0) for name in names] + [message_type]
    return record.encoder(view, head=(HEADER.fmt + f"{len(message_type)}s", head))


def reply_frame(payload: bytes, request_id: int, segment: int, flags: int, business_date: int,
                _kind: int = int(Kind.REPLY)) -> bytes:
    """``encode_frame`` of a REPLY, positional (the hot path of answering; the kind as a plain int,
    as in :func:`broadcast_frame`)."""
    return _pack(HEADER_SIZE + len(payload), VERSION, _kind, flags, request_id, 0, 0, 0, segment, 0, 0,
                 business_date) + payload


def reply_encoder(message_type: bytes, record: Record) -> Callable[[Any, int, int], bytes] | None:
    """The REPLY frame of one segment (the last) of a message object, header, message type and
    fields packed in one call: ``frame(answer, request_id, business_date)`` gives the bytes of
    ``reply_frame(message_type + record.encode(answer), request_id, 1, LAST_SEGMENT,
    business_date)``. None for a message with items (its length varies)."""
    if record.has_items:
        return None
    values = {"length": HEADER_SIZE + len(message_type) + record.size, "version": VERSION, "kind": int(Kind.REPLY),
              "flags": int(Flag.LAST_SEGMENT), "request_id": "request_id", "segment": 1,
              "business_date": "business_date"}
    assert values.keys() <= set(_HEADER_VALUES)
    head = [values.get(name, 0) for name in _HEADER_VALUES] + [message_type]
    return record.head_encoder((HEADER.fmt + f"{len(message_type)}s", head))


def with_request(frame: bytes, request_id: int, add_flags: int) -> bytes:
    """A copy of an encoded frame with another request id and extra flags (recovery answers)."""
    (flags, _) = _FLAGS_RID.unpack_from(frame, _FLAGS_OFF)
    return frame[:_FLAGS_OFF] + _FLAGS_RID.pack(flags | add_flags, request_id) + frame[_RID_END:]


_STATUS_OFF, _STATUS = _FIELD_AT["session_status"]


def with_status(frame: bytes, session_status: int) -> bytes:
    """A copy of an encoded frame with another session status (an answer given again)."""
    return frame[:_STATUS_OFF] + _STATUS.pack(session_status) + frame[_STATUS_OFF + _STATUS.size:]


def with_request_many(frames: list, request_id: int, add_flags: int) -> bytes:
    """``with_request`` applied to many encoded frames at once, returned joined (one copy of the
    whole, then the two header fields patched in place: replays of thousands of broadcasts)."""
    buf = bytearray().join(frames)
    unpack, pack = _FLAGS_RID.unpack_from, _FLAGS_RID.pack_into
    add = int(add_flags)  # a plain int: IntFlag arithmetic would cost more than the rest
    off = _FLAGS_OFF
    for f in frames:
        pack(buf, off, unpack(buf, off)[0] | add, request_id)
        off += len(f)
    return bytes(buf)


class FrameDecoder:
    """Incremental decoder: feed bytes as they come; get whole frames, split or merged."""

    __slots__ = ("_buf", "max_frame_size")

    def __init__(self, max_frame_size: int = MAX_FRAME_SIZE):
        self._buf = bytearray()
        self.max_frame_size = max_frame_size

    def feed(self, data: bytes) -> list[Frame]:
        buf = self._buf
        maxsize = self.max_frame_size
        if buf:  # a frame was split: continue it once it is whole
            buf += data
            if not _whole(buf, maxsize):
                return []
            data = bytes(buf)
            buf.clear()
        elif type(data) is not bytes:
            data = bytes(data)
        # the common case: parse the received bytes in place, keep only an incomplete tail
        frames: list[Frame] = []
        pos = 0
        n = len(data)
        while n - pos >= HEADER_SIZE:
            head = _unpack(data, pos)
            length = head[0]
            if length < HEADER_SIZE or length > maxsize or head[1] != VERSION:
                _check_head(data, pos, n, maxsize)  # raises, in the order of the checks
            end = pos + length
            if end > n:
                break
            frames.append(_new_frame(Frame, head + (data[pos + HEADER_SIZE:end],)))
            pos = end
        if pos < n:
            _check_head(data, pos, n, maxsize)
            buf += data[pos:]
        return frames

    @property
    def buffered(self) -> int:
        return len(self._buf)


def _check_head(src, pos: int, n: int, maxsize: int) -> None:
    """Raise the FramingError of the frame starting at ``pos`` as far as its ``n - pos`` bytes
    show: its length first (as soon as the length field is there), then its version."""
    if n - pos < _LEN_SIZE:
        return
    length = _len_at(src, pos)[0]
    if length < HEADER_SIZE:
        raise FramingError(SessionStatus.BAD_LENGTH, f"frame length {length} shorter than the {HEADER_SIZE}-byte header",
                           bytes(src[pos:pos + HEADER_SIZE]))
    if length > maxsize:
        raise FramingError(SessionStatus.FRAME_TOO_LARGE, f"frame length {length} above the maximum {maxsize}",
                           bytes(src[pos:pos + HEADER_SIZE]))
    if n - pos > _VERSION_OFF and src[pos + _VERSION_OFF] != VERSION:
        raise FramingError(SessionStatus.BAD_VERSION, f"unsupported version {src[pos + _VERSION_OFF]}",
                           bytes(src[pos:pos + 8]))


def _whole(buf: bytearray, maxsize: int) -> bool:
    """Whether ``buf`` holds its first frame whole (the head checked as far as it goes)."""
    n = len(buf)
    _check_head(buf, 0, n, maxsize)
    return n >= HEADER_SIZE and n >= _len_at(buf, 0)[0]


def kind_name(kind: int) -> str:
    try:
        return Kind(kind).name
    except ValueError:
        return f"KIND_{kind}"
