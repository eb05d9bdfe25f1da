"""Benchmark of the browser console: ``python -m benchmarks.console [--out benchmarks/results]``.

Starts a gateway (benchmark users and participants, no console of its own) and a console
(``python -m console``) as separate processes on loopback, then measures:

- the trades page of a participant holding 10,000 trades: the server's time (the console's
  ``Server-Timing`` header: filtering, paging and rendering; target < 300 ms), first page, a filtered
  page and the last page;
- 50 browser sessions (HTTP login + live WebSocket each, 50 different users) while the operator injects
  deals: the time from the injection's acknowledgement to the trade's push on every socket;
- the gateway's CPU while the console runs with nobody logged in (target: nothing measurable), and
  its connections per console session (one SDK session each).

Figures go to ``<out>/console.json`` and are printed.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path

from aiohttp import ClientSession, CookieJar

from benchmarks.procstat import cpu_seconds, memory
from benchmarks.targets import _spawn, start_gateway
from clients import connect
from protocol.messages import dcass as m

USERS = Path(__file__).resolve().parent / "data" / "users.toml"
BATCH = 500


def _ms(xs: list[float]) -> dict:
    xs = sorted(xs)
    return {"n": len(xs), "p50_ms": round(statistics.median(xs), 2), "p99_ms": round(xs[int(0.99 * (len(xs) - 1))], 2),
            "max_ms": round(xs[-1], 2)}


async def _login(base: str, user: str) -> ClientSession:
    http = ClientSession(cookie_jar=CookieJar(unsafe=True))
    r = await http.get(base + "/login")
    token = (await r.text()).split('name="csrf" value="')[1].split('"')[0]
    r = await http.post(base + "/login", data={"csrf": token, "user": user, "password": f"pass-{user}"})
    if "/login" in str(r.url):
        raise RuntimeError(f"console login of {user} refused: {(await r.text())[:300]}")
    return http


async def _server_ms(http: ClientSession, url: str, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        r = await http.get(url)
        await r.read()
        out.append(float(r.headers["Server-Timing"].split("dur=")[1]))
    return out


async def run(out: Path, trades: int, sessions: int, runs: int) -> dict:
    logs = out / "console-logs"
    gw = start_gateway(logs, USERS)
    con = _spawn("console", ["-m", "console", "--gateway", f"127.0.0.1:{gw.port}", "--port", "0",
                             "--log-level", "warning"], logs, None)
    base = f"http://127.0.0.1:{con.port}"
    results: dict = {"started": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "trades": trades, "sessions": sessions}
    try:
        # ---- the console costs the gateway nothing while nobody is logged in
        await asyncio.sleep(1.0)
        c0 = cpu_seconds(gw.pid)
        await asyncio.sleep(5.0)
        results["gateway_cpu_idle_console_5s"] = round(cpu_seconds(gw.pid) - c0, 3)
        op = await connect("127.0.0.1", gw.port, user="BOP01", password="pass-BOP01")
        series = (await op.query(m.SeriesQuery())).items
        fut = next(s for s in series if s.series_symbol.split()[0] == s.series_symbol.split()[0] and
                   len(s.series_symbol.split()) == 2)
        # ---- a participant with `trades` trades (BP001 buys from BP002)
        for start in range(0, trades, BATCH):
            n = min(BATCH, trades - start)
            await op.transact(m.InjectDealsRequest(deals=[m.DealItem(
                series=fut.series, price=25000 + (i % 50), quantity=1 + i % 5, buyer="BP001", seller="BP002")
                for i in range(n)]))
        t0 = time.perf_counter()
        http = await _login(base, "BP001")  # the login loads the day's trades through the SDK
        results["login_with_trades_ms"] = round((time.perf_counter() - t0) * 1000, 1)
        results["trades_page_server"] = {
            "first_page": _ms(await _server_ms(http, base + "/trades", runs)),
            "filtered": _ms(await _server_ms(http, base + "/trades?side=BUY&series=" + fut.series_symbol.split()[0],
                                             runs)),
            "last_page": _ms(await _server_ms(http, base + f"/trades?page={trades // 100}", runs)),
        }
        results["trades_page_target_ms"] = 300
        await http.close()
        # ---- `sessions` live sessions: the push latency of an injected trade
        users = [f"BP{i:03d}" for i in range(3, 3 + sessions)]
        https = await asyncio.gather(*(_login(base, u) for u in users))
        sockets = [await h.ws_connect(base.replace("http", "ws") + "/ws", origin=base) for h in https]
        for ws in sockets:  # the greeting (hello, clock, status)
            for _ in range(3):
                await ws.receive(timeout=10)
        lat: list[float] = []
        c0 = cpu_seconds(gw.pid)
        for k in range(runs * 4):
            sent = time.perf_counter()
            await op.transact(m.InjectDealsRequest(deals=[m.DealItem(
                series=fut.series, price=25000, quantity=1, buyer=u, seller="BP002") for u in users]))

            async def until_trade(ws):
                while True:
                    msg = json.loads((await ws.receive(timeout=10)).data)
                    if msg["type"] == "trade":
                        return (time.perf_counter() - sent) * 1000
            lat += await asyncio.gather(*(until_trade(ws) for ws in sockets))
        results["live_push_latency"] = _ms(lat)
        results["gateway_cpu_during_push_s"] = round(cpu_seconds(gw.pid) - c0, 3)
        results["console_memory"] = memory(con.pid)
        for ws in sockets:
            await ws.close()
        for h in https:
            await h.close()
        await op.close()
    finally:
        for t in (con, gw):
            t.proc.terminate()
            t.proc.wait(10)
    return results


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.console")
    p.add_argument("--out", default="benchmarks/results")
    p.add_argument("--trades", type=int, default=10_000)
    p.add_argument("--sessions", type=int, default=50)
    p.add_argument("--runs", type=int, default=10)
    a = p.parse_args(argv)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    results = asyncio.run(run(out, a.trades, a.sessions, a.runs))
    (out / "console.json").write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
