"""Golden byte vectors for every message: ``python -m protocol.golden --write``.

Each vector holds deterministic sample field values and the exact payload bytes they encode to, so
other implementations can test their codecs against ours. Sample values exercise every field
(signed values negative, text non-empty, enums a non-zero member, two items per array).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .codec import _INT_RANGES, Record
from .framing import encode_frame
from .kinds import Flag, Kind
from .status import SessionStatus
from .registry import all_specs, encode_message
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


def vectors() -> list[dict]:
    vs = []
    for spec in all_specs():
        values = sample(spec.record)
        obj = from_dict(spec.cls, values)
        payload = encode_message(obj)
        frame = encode_frame(int(spec.kind), payload, 0x0102030405060708 if spec.kind < 16 else 0)
        vs.append({"code": spec.code, "name": spec.name, "kind": spec.kind.name, "values": to_dict(obj),
                   "payload_hex": payload.hex(), "frame_hex": frame.hex()})
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
                         business_date=20260302)
    again = encode_frame(int(Kind.REPLY), ack, SAMPLE_REFERENCE, flags=int(Flag.LAST_SEGMENT), segment=1,
                         session_status=int(SessionStatus.ALREADY_ANSWERED), business_date=20260302)
    return {"note": "a transaction sent twice with one client reference: applied once, answered twice",
            "request_frame_hex": request.hex(), "answer_frame_hex": first.hex(), "resend_answer_frame_hex": again.hex()}


def render() -> str:
    return json.dumps({"note": "payload_hex starts with the 4-byte message type; frame_hex is a whole frame "
                               "(request id 0x0102030405060708 on client kinds, 0 otherwise)",
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
