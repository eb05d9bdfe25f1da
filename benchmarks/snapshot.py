"""How long a snapshot blocks the gateway: ``python -m benchmarks.snapshot [--trades N ...] [--out F]``.

For the demo day (the state at start) and for days of N injected trades (CPA01 buys from CPB02 on
one futures series, each trade broadcast and logged in its streams), it times on the same process
what a snapshot costs: the parts that were built on the event loop before (state hash over the
core's JSON, the core's pickled state, the pickle of the stream logs, the encoding) and, for the
forked snapshot (``gateway.journal.durability``), the ``fork()`` call (the only part left on the
loop) and the child's whole run (build with the check of the rebuilt core, write, fsync), which the
loop no longer waits for.
Figures go to docs/guides/reliability.md.
"""
from __future__ import annotations

import argparse
import json
import os
import pickle
import tempfile
import time
from pathlib import Path


def fill(trades: int):
    from gateway.clearing.dcass import commands as dc
    from gateway.config import Settings
    from gateway.server import Gateway
    gw = Gateway(Settings(port=0, stream_heartbeat_seconds=0, start_business_time="2026-11-23T09:00:00",
                          freeze_clock=True, gc_freeze_seconds=0))
    if trades:
        from gateway.clearing.dcass.model import CallPut
        from gateway.clearing.dcass.queries import SeriesQuery
        rows = gw.core.query(SeriesQuery(), gw.context(None))
        series = next(s.series_key for s in rows if s.call_put is CallPut.NONE)
        for i in range(trades):
            gw.execute(dc.InjectDeal(series, 25000, 1 + i % 5, "CPA01", "CPB02"), None)
    return gw


def measure(gw) -> dict:
    from gateway.journal import snapshot as snap
    out: dict = {}
    t = time.perf_counter()
    gw.core.state_hash()
    out["state_hash_ms"] = (time.perf_counter() - t) * 1000
    t = time.perf_counter()
    core = snap.core_state(gw.core)
    out["core_state_ms"] = (time.perf_counter() - t) * 1000
    t = time.perf_counter()
    streams = pickle.dumps(gw.streams, protocol=pickle.HIGHEST_PROTOCOL)
    out["streams_pickle_ms"] = (time.perf_counter() - t) * 1000
    t = time.perf_counter()
    data = snap.encode({"format": snap.FORMAT, "core": core, "streams": streams})
    out["encode_ms"] = (time.perf_counter() - t) * 1000
    out["on_loop_before_ms"] = sum(out.values())
    out["snapshot_bytes"] = len(data)
    # the forked build: what the loop still waits for is fork() itself
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "bench.snapshot"
        t = time.perf_counter()
        pid = os.fork()
        if pid == 0:
            try:
                body = snap.build(gw.core, gw.streams, {"format": snap.FORMAT}, gw.module_factories)
                snap.write(path, snap.encode(body))
            finally:
                os._exit(0)
        out["fork_ms"] = (time.perf_counter() - t) * 1000
        os.waitpid(pid, 0)
        out["child_total_ms"] = (time.perf_counter() - t) * 1000
    return {k: round(v, 2) if isinstance(v, float) else v for k, v in out.items()}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--trades", type=int, nargs="*", default=[0, 20_000, 100_000])
    p.add_argument("--out", help="write the figures as JSON here")
    a = p.parse_args(argv)
    results = []
    for n in a.trades:
        t = time.perf_counter()
        gw = fill(n)
        filled = time.perf_counter() - t
        r = {"trades": n, "fill_seconds": round(filled, 2), **measure(gw)}
        print(json.dumps(r))
        results.append(r)
    if a.out:
        Path(a.out).write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
