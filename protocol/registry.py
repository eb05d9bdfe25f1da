"""The registry: 4-byte message type -> declaration, Python class and name.

A message type is two ASCII letters and a big-endian u16 number, written ``UQ12`` (family ``UQ``,
number 12). Queries ``xQn`` are answered by ``xAn``.
"""
from __future__ import annotations

import re
import struct
import sys
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import construct as cs

from .codec import DecodeError, Record, validate_int_ranges
from .framing import reply_encoder, reply_frame
from .kinds import Flag, Kind

_CODE = re.compile(r"^([A-Z]{2})(\d{1,5})$")
_TYPE = struct.Struct(">2sH")  # family letters, number
TYPE_SIZE = _TYPE.size  # the message type opens every payload: field offsets count from it


def type_bytes(code: str) -> bytes:
    m = _CODE.match(code)
    if not m:
        raise ValueError(f"bad message code {code!r}")
    return _TYPE.pack(m.group(1).encode("ascii"), int(m.group(2)))


def code_of(tb: bytes) -> str:
    try:
        family, number = _TYPE.unpack_from(tb)
        return family.decode("ascii") + str(number)
    except Exception:  # noqa: BLE001
        return tb[:TYPE_SIZE].hex()


@dataclass
class MessageSpec:
    code: str
    name: str
    kind: Kind
    record: Record
    doc: str = ""
    answer: str | None = None       # code of the reply message for requests
    stream: str | None = None       # broadcast stream name for broadcasts
    operator: bool = False          # operator-only request
    section: str = "session"        # docs section
    type: bytes = b""
    cls: Any = None
    errors: list[str] = field(default_factory=list)  # business code names it may reject with

    @cached_property
    def reply(self):
        """``reply(answer, request_id, business_date)``: the whole REPLY frame of one segment of a
        message of this type, in one call (``protocol.framing.reply_encoder``; made at its first
        use); None for a message with items."""
        return reply_encoder(self.type, self.record)


BY_TYPE: dict[bytes, MessageSpec] = {}
BY_CODE: dict[str, MessageSpec] = {}
BY_NAME: dict[str, MessageSpec] = {}


def message(code: str, name: str, kind: Kind, layout: cs.Struct, doc: str = "", *, answer: str | None = None,
            stream: str | None = None, operator: bool = False, section: str = "session") -> type:
    """Declare a message and register it. Returns its generated class."""
    tb = type_bytes(code)
    if tb in BY_TYPE:
        raise ValueError(f"message type {code} declared twice")
    if name in BY_NAME:
        raise ValueError(f"message name {name} declared twice")
    rec = Record(name, layout, doc)
    spec = MessageSpec(code, name, kind, rec, doc, answer, stream, operator, section, tb, rec.cls)
    cls = rec.cls
    cls.__module__ = sys._getframe(1).f_globals["__name__"]  # the declaring module (named by name_classes)
    cls.__message__ = spec
    cls.CODE = code
    cls.TYPE = tb
    BY_TYPE[tb] = spec
    BY_CODE[code] = spec
    BY_NAME[name] = spec
    return cls


def field_offset(obj_or_cls, path: str) -> int:
    """Byte offset from the payload start (the message type at 0) of a field path of a message
    (``new_password``, ``deals[3].price``): the ``field_offset`` of a REJECT; 0 if no such field."""
    at = obj_or_cls.__message__.record.path_offset(path)
    return 0 if at is None else TYPE_SIZE + at


def encode_message(obj) -> bytes:
    """Payload bytes: the 4-byte type then the fields."""
    spec: MessageSpec = obj.__message__
    try:
        return spec.type + spec.record.encode(obj)
    except struct.error:
        validate_int_ranges(obj, spec.record)
        raise


_LAST_SEGMENT = int(Flag.LAST_SEGMENT)


def encode_reply(answer, request_id: int, business_date: int) -> bytes:
    """The REPLY frame of ``answer`` in one segment (the last): ``reply_frame(encode_message(answer),
    request_id, 1, LAST_SEGMENT, business_date)``, packed in one call for a message of fixed size."""
    spec: MessageSpec = answer.__message__
    frame = spec.reply
    try:
        if frame is not None:
            return frame(answer, request_id, business_date)
        return reply_frame(spec.type + spec.record.encode(answer), request_id, 1, _LAST_SEGMENT, business_date)
    except struct.error:
        validate_int_ranges(answer, spec.record)
        raise


def decode_message(payload: bytes | memoryview) -> Any:
    """Decode a payload. Raises :class:`DecodeError` with the status to answer and the offset."""
    if len(payload) < TYPE_SIZE:
        raise DecodeError("payload shorter than the message type", 0, "type")
    spec = BY_TYPE.get(bytes(payload[:TYPE_SIZE]))
    if spec is None:
        raise UnknownMessageType(code_of(bytes(payload[:TYPE_SIZE])))
    rec = spec.record
    try:
        obj, end = rec.decode(payload, TYPE_SIZE)
    except Exception:  # noqa: BLE001 - locate the field precisely on the slow path
        off, fname, reason = rec.locate_error(bytes(payload[TYPE_SIZE:]))
        raise DecodeError(f"{spec.code} {fname}: {reason}", TYPE_SIZE + off, fname) from None
    if end != len(payload):
        off, fname, reason = rec.locate_error(bytes(payload[TYPE_SIZE:]))
        raise DecodeError(f"{spec.code}: length {len(payload)} does not match the layout ({reason or 'extra bytes'})",
                          TYPE_SIZE + (off or (end - TYPE_SIZE)), fname)
    return obj


class UnknownMessageType(DecodeError):
    def __init__(self, code: str):
        super().__init__(f"unknown message type {code}", 0, "type")
        self.code = code


# The Python class of a message is named for what the frame does, the same in every family: a request
# ends in ``Request``, a query in ``Query``, a query's answer in ``Answer``, the specific answer of any
# other request in ``Reply``, a broadcast in ``Broadcast``. Session frames that are none of these are
# named for what they are. docs/protocol.md section 5 states it; tests/protocol/test_message_names.py
# holds every declaration to it.
NAMED_FOR_WHAT_THEY_ARE = {"UR1": "Ack", "UR2": "Reject", "UH1": "Heartbeat", "UO2": "LogoutNotice"}


def class_suffix(spec: MessageSpec) -> str:
    """The ending the class name of ``spec`` takes (the whole name for NAMED_FOR_WHAT_THEY_ARE)."""
    if spec.code in NAMED_FOR_WHAT_THEY_ARE:
        return NAMED_FOR_WHAT_THEY_ARE[spec.code]
    if spec.kind == Kind.QUERY:
        return "Query"
    if spec.kind == Kind.BROADCAST:
        return "Broadcast"
    if spec.kind == Kind.REPLY:
        answers_a_query = any(s.kind == Kind.QUERY and s.answer == spec.code for s in BY_CODE.values())
        return "Answer" if answers_a_query else "Reply"
    return "Request"


def all_specs() -> list[MessageSpec]:
    import protocol.messages  # noqa: F401 - registers every declaration
    return sorted(BY_TYPE.values(), key=lambda s: (s.section, s.code[:2], int(s.code[2:])))
