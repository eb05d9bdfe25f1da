"""What the journal's flush policies cost: ``python -m benchmarks.journal [--gateway N] [--out F]``.

Raw appends per second of each policy on the disk holding ``--dir`` (``gateway.journal``'s own
``bench``), and with ``--gateway N``: N acknowledged EC3 transactions end to end through the SDK
and an in-process gateway, in memory and with each flush policy (loopback, ``--concurrency``
requests in flight). Lives here, not in ``gateway.journal``, because it needs the server and the
SDK, which sit above the journal.
"""
from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path


async def bench_gateway(base: Path, n: int, concurrency: int) -> dict:
    from clients import Client
    from gateway.config import Settings
    from gateway.server import Gateway
    from protocol.messages import system as sy
    out: dict = {}
    for mode in ("memory", "always", "group"):
        path = base / f"bench-gw-{mode}.journal"
        for p in (path, path.with_name(path.name + ".snapshot")):
            p.unlink(missing_ok=True)
        s = Settings(port=0, stream_heartbeat_seconds=0, start_business_time="2026-11-23T09:00:00", freeze_clock=True,
                     journal_path=None if mode == "memory" else str(path), journal_flush="group" if mode == "group"
                     else "always", snapshot_every=0, throttle_per_second=10**6)
        gw = Gateway(s)
        await gw.start()
        c = Client("127.0.0.1", gw.port, "OPER1", "pass-OPER1")
        await c.connect()
        msg = sy.SendClearingMessageRequest(lines=[sy.MessageLine(text="benchmark")])
        loop = asyncio.get_running_loop()
        latencies: list[float] = []

        async def worker(k: int) -> None:
            for _ in range(k):
                t = loop.time()
                await c.transact(msg)
                latencies.append(loop.time() - t)
        per = max(1, n // concurrency)
        t0 = loop.time()
        await asyncio.gather(*(worker(per) for _ in range(concurrency)))
        dt = loop.time() - t0
        latencies.sort()
        out[mode] = {"transactions": len(latencies), "per_second": round(len(latencies) / dt),
                     "p50_ms": round(1000 * latencies[len(latencies) // 2], 3),
                     "p99_ms": round(1000 * latencies[int(len(latencies) * 0.99)], 3)}
        if gw.journal is not None:
            out[mode]["fsyncs"] = gw.journal.journal.syncs
        await c.close()
        await gw.stop()
        for p in (path, path.with_name(path.name + ".snapshot")):
            p.unlink(missing_ok=True)
    out["concurrency"] = concurrency
    return out


def main(argv=None) -> int:
    from gateway.journal.__main__ import disk_bench
    from gateway.logs import configure
    p = argparse.ArgumentParser(prog="python -m benchmarks.journal", description=__doc__.split("\n")[0])
    p.add_argument("--dir", default=None, help="directory on the disk to measure (default: a temporary one)")
    p.add_argument("--records", type=int, default=2000)
    p.add_argument("--batch", type=int, default=50, help="records per group sync")
    p.add_argument("--gateway", type=int, default=0, metavar="N",
                   help="also measure N acknowledged transactions end to end through an in-process gateway")
    p.add_argument("--concurrency", type=int, default=16, help="requests in flight for --gateway")
    p.add_argument("--out", default=None, help="write the figures to this JSON file")
    a = p.parse_args(argv)
    configure("warning", "console")
    results = disk_bench(a.dir, a.records, a.batch)
    if a.gateway:
        results["gateway"] = asyncio.run(bench_gateway(Path(results["disk"]), a.gateway, a.concurrency))
    text = json.dumps(results, indent=2, sort_keys=True)
    print(text)
    if a.out:
        Path(a.out).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
