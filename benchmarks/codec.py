"""Per-message cost of the generated codec: ``python -m benchmarks.codec``.

Every declared message is built from its golden-vector sample values (``protocol.golden.sample``)
and encoded and decoded ``-n`` times through the registry (``encode_message`` / ``decode_message``,
the calls the gateway and the SDK make). Each figure is the best of ``--repeat`` timings, in
microseconds per message; the summary gives the median and the maximum over all messages and the
figures of a few hot messages. ``--json FILE`` writes every figure.
"""
from __future__ import annotations

import argparse
import json
import statistics
import time

from protocol.golden import sample
from protocol.registry import all_specs, decode_message, encode_message
from protocol.values import from_dict

HOT = ("BD6", "UA12", "BI27", "BF206", "CA10")


def _best(fn, arg, n: int, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(n):
            fn(arg)
        best = min(best, time.perf_counter() - t0)
    return best / n * 1e6


def measure(n: int, repeat: int) -> dict[str, tuple[float, float]]:
    """Message code -> (encode us, decode us)."""
    out = {}
    for spec in all_specs():
        obj = from_dict(spec.cls, sample(spec.record))
        payload = encode_message(obj)
        out[spec.code] = (_best(encode_message, obj, n, repeat), _best(decode_message, payload, n, repeat))
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.codec", description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=20000, help="messages per timing")
    ap.add_argument("--repeat", type=int, default=5, help="timings per figure (the best is kept)")
    ap.add_argument("--json", help="write every figure to this file")
    a = ap.parse_args(argv)
    figs = measure(a.n, a.repeat)
    enc = [e for e, _ in figs.values()]
    dec = [d for _, d in figs.values()]
    print(f"{len(figs)} messages, best of {a.repeat} x {a.n}, microseconds per message")
    print(f"  encode: median {statistics.median(enc):.2f}  max {max(enc):.2f}")
    print(f"  decode: median {statistics.median(dec):.2f}  max {max(dec):.2f}")
    for code in HOT:
        if code in figs:
            e, d = figs[code]
            print(f"  {code:6} encode {e:.2f}  decode {d:.2f}")
    if a.json:
        with open(a.json, "w") as fh:
            json.dump({c: {"encode_us": e, "decode_us": d} for c, (e, d) in figs.items()}, fh, indent=1)


if __name__ == "__main__":
    main()
