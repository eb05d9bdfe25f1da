"""Golden byte vectors for every message: ``python -m protocol.golden --write``.

Each vector holds deterministic sample field values and the exact payload bytes they encode to, so
other implementations can test their codecs against ours. Sample values exercise every field
(signed values negative, text non-empty, enums a non-zero member, two items per array).

The frame of each vector carries the header a live frame of that message carries (:func:`header`),
so a client can compare whole frames: a request has only its request id; an answer (REPLY) echoes
it, is segment 1 flagged LAST_SEGMENT and carries the business date; a broadcast carries its stream,
sequence number 1 and the business date; a REJECT carries the session status and the offset of
the field at fault, and no segment, flag or date; the logout notice answers a logout request with
its id and the reason as session status; a heartbeat's header is all zero. A field that is zero in
a vector is zero on the wire for that kind of frame. tests/e2e/test_golden_headers.py checks the
layout against a live gateway.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .codec import _INT_RANGES, Record
from .framing import HEADER, encode_frame
from .kinds import REQUEST_KINDS, Flag, Kind
from .streams import Stream
from .status import TEXTS, SessionStatus
from .registry import BY_CODE, MessageSpec, all_specs, encode_message, field_offset
from .values import from_dict, to_dict

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "tests" / "golden" / "vectors.json"


def sample(rec: Record, salt: int = 0) -> dict:
    out: dict = {}
    for i, f in enumerate(rec.fields):
        k = i + salt
        if f.kind == "filler":
            continue
        if f.kind == "int":
            lo, hi = _INT_RANGES[f.fmt]
            v = (k * 7919 + 17) % min(hi, 10**9)
            out[f.name] = -v if lo < 0 and k % 2 else v
        elif f.kind == "text":
            base = (f.name.upper().replace("_", "") + "0123456789")
            out[f.name] = base[: max(1, min(f.length, (k % f.length) + 1))]
        elif f.kind == "bool":
            out[f.name] = True
        elif f.kind == "code":
            out[f.name] = list(f.enum_cls)[-1].name
        elif f.kind == "record":
            out[f.name] = sample(f.record, k)
        elif f.kind == "items":
            out[f.name] = [sample(f.record, k), sample(f.record, k + 3)]
    return out


SAMPLE_REQUEST_ID = 0x0102030405060708
SAMPLE_BUSINESS_DATE = 20261123     # the business date of the test suite's gateways (tests/conftest.py)
# the REJECT vector: what a live gateway answers to CC101 with an account_type it does not know
REJECTED_REQUEST, REJECTED_FIELD = "CC101", "account_type"


def header(spec: MessageSpec) -> dict:
    """The header fields (besides length, version and kind) a live frame of ``spec`` carries."""
    h = {f.name: 0 for f in HEADER.fields if f.kind == "int" and f.name not in ("length", "version", "kind")}
    if spec.kind == Kind.HEARTBEAT:
        return h                                        # either way, request id 0
    if spec.kind in REQUEST_KINDS and spec.answer:      # a request: a client sets the request id only
        h["request_id"] = SAMPLE_REQUEST_ID
    elif spec.kind == Kind.REPLY:
        h.update(request_id=SAMPLE_REQUEST_ID, flags=int(Flag.LAST_SEGMENT), segment=1,
                 business_date=SAMPLE_BUSINESS_DATE)
    elif spec.kind == Kind.BROADCAST:
        h.update(stream=int(Stream[spec.stream.upper()]), sequence=1, business_date=SAMPLE_BUSINESS_DATE)
    elif spec.kind == Kind.REJECT:
        h.update(request_id=SAMPLE_REQUEST_ID, session_status=int(SessionStatus.FIELD_ERROR),
                 field_offset=field_offset(BY_CODE[REJECTED_REQUEST].cls, REJECTED_FIELD))
    elif spec.kind == Kind.LOGOUT:                      # the server's notice, here answering UO1
        h.update(request_id=SAMPLE_REQUEST_ID, session_status=int(SessionStatus.LOGGED_OUT))
    return h


def _values(spec: MessageSpec) -> dict:
    """Sample values; the REJECT and the logout notice say what their header says."""
    values = sample(spec.record)
    if spec.kind == Kind.REJECT:
        values.update(request_code=REJECTED_REQUEST, field=REJECTED_FIELD,
                      text=TEXTS[SessionStatus.FIELD_ERROR][:80])
    elif spec.kind == Kind.LOGOUT and not spec.answer:
        values.update(reason=int(SessionStatus.LOGGED_OUT), text=TEXTS[SessionStatus.LOGGED_OUT])
    return values


def vectors() -> list[dict]:
    vs = []
    for spec in all_specs():
        obj = from_dict(spec.cls, _values(spec))
        payload = encode_message(obj)
        h = header(spec)
        frame = encode_frame(int(spec.kind), payload, **h)
        vs.append({"code": spec.code, "name": spec.name, "kind": spec.kind.name, "values": to_dict(obj),
                   "header": h, "payload_hex": payload.hex(), "frame_hex": frame.hex()})
    return vs


# a client reference as the SDK makes them: microseconds since 1970 when the client started, counted up
SAMPLE_REFERENCE = 1_796_284_800_000_001


def exactly_once() -> dict:
    """A referenced TRANSACTION (flag REFERENCED, the request id is the client reference), its first
    answer and the answer to a resend of it (the same frame, session status ALREADY_ANSWERED)."""
    specs = {s.code: s for s in all_specs()}
    tx = next(s for s in all_specs() if s.kind == Kind.TRANSACTION)
    request = encode_frame(int(Kind.TRANSACTION), encode_message(from_dict(tx.cls, sample(tx.record))),
                           SAMPLE_REFERENCE, flags=int(Flag.REFERENCED))
    ack = encode_message(from_dict(specs["UR1"].cls, {"reference": 0, "text": "accepted"}))
    first = encode_frame(int(Kind.REPLY), ack, SAMPLE_REFERENCE, flags=int(Flag.LAST_SEGMENT), segment=1,
                         business_date=SAMPLE_BUSINESS_DATE)
    again = encode_frame(int(Kind.REPLY), ack, SAMPLE_REFERENCE, flags=int(Flag.LAST_SEGMENT), segment=1,
                         session_status=int(SessionStatus.ALREADY_ANSWERED), business_date=SAMPLE_BUSINESS_DATE)
    return {"note": "a transaction sent twice with one client reference: applied once, answered twice",
            "request_frame_hex": request.hex(), "answer_frame_hex": first.hex(), "resend_answer_frame_hex": again.hex()}


def render() -> str:
    return json.dumps({"note": "payload_hex starts with the 4-byte message type; frame_hex is a whole frame whose "
                               "header (also in 'header') is the one a live frame of that message carries: "
                               "requests carry request id 0x0102030405060708 and nothing else; a REPLY echoes it, "
                               "is segment 1 flagged LAST_SEGMENT (0x0001) with business date 20261123; a "
                               "BROADCAST carries its stream, sequence 1 and the business date, request id 0; "
                               "the REJECT answers CC101 with an unknown account_type (session status -18, the "
                               "field's offset; no segment, flag or date); the logout notice answers a logout "
                               "request (its id, session status -2061); a heartbeat's header is all zero. A "
                               "zero field is zero on the wire for that kind of frame. A client's TRANSACTION "
                               "may also carry REFERENCED (see exactly_once).",
                       "vectors": vectors(), "exactly_once": exactly_once()}, indent=1, sort_keys=True) + "\n"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--write", action="store_true")
    p.add_argument("--check", action="store_true")
    p.add_argument("--path", default=str(DEFAULT_PATH))
    a = p.parse_args(argv)
    text = render()
    path = Path(a.path)
    if a.check:
        return 0 if path.exists() and path.read_text() == text else 1
    if a.write:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        print(f"wrote {path}")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
