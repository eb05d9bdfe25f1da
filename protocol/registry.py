"""The registry: 4-byte message type -> declaration, Python class and name.

A message type is two ASCII letters and a big-endian u16 number, written ``UQ12`` (family ``UQ``,
number 12). Queries ``xQn`` are answered by ``xAn``.
"""
from __future__ import annotations

import re
import struct
from dataclasses import dataclass, field
from typing import Any

import construct as cs

from .codec import DecodeError, Record, validate_int_ranges
from .kinds import Kind

_CODE = re.compile(r"^([A-Z]{2})(\d{1,5})$")


def type_bytes(code: str) -> bytes:
    m = _CODE.match(code)
    if not m:
        raise ValueError(f"bad message code {code!r}")
    return m.group(1).encode("ascii") + struct.pack(">H", int(m.group(2)))


def code_of(tb: bytes) -> str:
    try:
        return tb[:2].decode("ascii") + str(struct.unpack(">H", tb[2:4])[0])
    except Exception:  # noqa: BLE001
        return tb[:4].hex()


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
    cls.__message__ = spec
    cls.CODE = code
    cls.TYPE = tb
    BY_TYPE[tb] = spec
    BY_CODE[code] = spec
    BY_NAME[name] = spec
    return cls


def spec_of(obj_or_cls) -> MessageSpec:
    return obj_or_cls.__message__


def encode_message(obj) -> bytes:
    """Payload bytes: the 4-byte type then the fields."""
    spec: MessageSpec = obj.__message__
    try:
        return spec.type + spec.record.encode(obj)
    except struct.error:
        validate_int_ranges(obj, spec.record)
        raise


def decode_message(payload: bytes | memoryview) -> Any:
    """Decode a payload. Raises :class:`DecodeError` with the status to answer and the offset."""
    if len(payload) < 4:
        raise DecodeError("payload shorter than the message type", 0, "type")
    spec = BY_TYPE.get(bytes(payload[:4]))
    if spec is None:
        raise UnknownMessageType(code_of(bytes(payload[:4])))
    rec = spec.record
    try:
        obj, end = rec.decode(payload, 4)
    except Exception:  # noqa: BLE001 - locate the field precisely on the slow path
        off, fname, reason = rec.locate_error(bytes(payload[4:]))
        raise DecodeError(f"{spec.code} {fname}: {reason}", 4 + off, fname) from None
    if end != len(payload):
        off, fname, reason = rec.locate_error(bytes(payload[4:]))
        raise DecodeError(f"{spec.code}: length {len(payload)} does not match the layout ({reason or 'extra bytes'})",
                          4 + (off or (end - 4)), fname)
    return obj


class UnknownMessageType(DecodeError):
    def __init__(self, code: str):
        super().__init__(f"unknown message type {code}", 0, "type")
        self.code = code


def all_specs() -> list[MessageSpec]:
    import protocol.messages  # noqa: F401 - registers every declaration
    return sorted(BY_TYPE.values(), key=lambda s: (s.section, s.code[:2], int(s.code[2:])))
