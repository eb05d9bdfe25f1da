"""The long chaos soak: ``python -m benchmarks.soak [--trades 100000] [--kill-every 3,6] [--out DIR]``.

A day of trades fed as EC104 injections by an operator through the SDK at a steady pace (``--rate``), back offices subscribed to
their trade streams through the SDK, and the gateway (a real process on a group-commit journal
with its default snapshot settings) killed with SIGKILL every few seconds of serving and restarted
at once on the same port, as a supervisor would. The bounded version of this run is in the test
suite (tests/reliability/test_chaos.py); this one runs a whole day.

- The operator is a blind sender: every injection carries its own client reference (exactly
  once, docs/guides/sessions.md); when its answer does not come it sends the same injection with
  the same reference again until answered, and after every restart it also resends one it already
  had answered, which must come back ALREADY_ANSWERED.
- Each back office (``BO<participant>`` of the benchmark users) checks its trade stream: sequence
  numbers 1, 2, 3 ... with no gap and no duplicate across every reconnect (and the SDK's own gap
  list stays empty), and at the end it has exactly one BD6 per trade of its participant.
- The same injections are then sent to a second gateway that is never killed, and the two
  journals are replayed (``python -m gateway.journal replay``): the state hashes must be equal.

Figures (``soak.json``/``soak.md`` in ``--out``): kills, restarts, restart time start -> listening
(median, max), resends and their answers, trades, wall time, and the verdicts;
docs/guides/reliability.md quotes the latest.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .recovery import DAYS, ROOT, Day, Gateway

BASE_REFERENCE = 1_796_284_800_000_000   # client references: this + the injection's index


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Soak:
    def __init__(self, a, work: Path):
        self.a = a
        self.work = work
        self.rnd = random.Random(a.seed)
        self.day = Day(**{**vars(DAYS["full"]), "trades": a.trades})
        self.port = _free_port()
        self.gw = Gateway(self.day, work / "journal", work, [], port=self.port)
        self.restarts: list[float] = []     # start -> listening of every restart, seconds
        self.kills = 0
        self.resends = {"blind": 0, "answered_again": 0, "already_answered": 0, "other": 0}
        self.done = False

    # ------------------------------------------------------------ the killer
    async def killer(self) -> None:
        lo, hi = self.a.kill_every
        while not self.done:
            await asyncio.sleep(self.rnd.uniform(lo, hi))
            if self.done:
                return
            self.gw.kill()
            self.kills += 1
            t0 = self.gw.start()
            listening, _ = await asyncio.to_thread(self.gw.wait_listening)
            self.restarts.append(listening - t0)

    # ------------------------------------------------------------ the feed
    def injections(self, members: list[str], key, m) -> list:
        n, total, batch = len(members), self.day.trades // 2, self.a.batch
        return [[m.DealItem(series=key, price=25000 + (j * batch + k) % 50, quantity=1 + (j * batch + k) % 5,
                            buyer=members[(j * batch + k) % n], seller=members[(j * batch + k + 1) % n])
                 for k in range(min(batch, total - j * batch))] for j in range((total + batch - 1) // batch)]

    async def feed(self, port: int, injections: list, chaos: bool) -> None:
        from clients import Client
        from clients.errors import ConnectionLost, RequestTimeout, SessionEnded
        from protocol.messages import dcass as m
        from protocol.status import SessionStatus as St
        lost = (ConnectionLost, SessionEnded, RequestTimeout, ConnectionError, OSError, asyncio.TimeoutError)
        op = Client("127.0.0.1", port, *self.day.operator, reconnect_delay=0.05, max_reconnect_delay=0.5,
                    max_reconnect_attempts=100_000, request_timeout=10.0)
        await op.connect()
        runs_seen = self.gw.runs
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        try:
            for j, deals in enumerate(injections):
                if chaos and self.a.rate:   # the day's pace: trades per second offered
                    await asyncio.sleep(max(0.0, t0 + j * 2 * self.a.batch / self.a.rate - loop.time()))
                msg = m.InjectDealsRequest(deals=deals)
                for attempt in range(10_000):   # blind: same transaction, same reference, until answered
                    try:
                        await op._request(msg, reference=BASE_REFERENCE + j)
                        break
                    except lost:
                        if chaos:
                            self.resends["blind"] += 1
                        await asyncio.sleep(0.05)
                else:
                    raise RuntimeError(f"injection {j} never answered")
                if chaos and self.gw.runs != runs_seen and j:   # after a restart: resend an answered one
                    runs_seen = self.gw.runs
                    k = self.rnd.randrange(j)
                    try:
                        _, frame = await op._request(m.InjectDealsRequest(deals=injections[k]), want_frame=True,
                                                     reference=BASE_REFERENCE + k)
                    except lost:
                        continue
                    self.resends["answered_again"] += 1
                    key = "already_answered" if frame.session_status == St.ALREADY_ANSWERED else "other"
                    self.resends[key] += 1
        finally:
            await op.close()

    # ------------------------------------------------------------ the back offices
    async def back_office(self, port: int, participant: str, seen: dict) -> tuple:
        from clients import Client
        from protocol.streams import Stream
        c = Client("127.0.0.1", port, f"BO{participant}", f"pass-BO{participant}", reconnect_delay=0.05,
                   max_reconnect_delay=0.5, max_reconnect_attempts=100_000, request_timeout=10.0)
        await c.connect()
        await c.subscribe(Stream.TRADES)
        seqs = seen[participant] = []

        async def collect() -> None:
            async for b in c.broadcasts():
                if b.code == "BD6":
                    seqs.append(b.sequence)
        return c, asyncio.create_task(collect())

    # ------------------------------------------------------------ the run
    async def main(self) -> dict:
        from clients import Client
        from protocol.messages import dcass as m
        t_start = time.monotonic()
        self.gw.start()
        await asyncio.to_thread(self.gw.wait_listening)
        probe = Client("127.0.0.1", self.port, *self.day.operator, auto_reconnect=False)
        await probe.connect()
        series = await probe.query(m.SeriesQuery(class_id="HSI-F", include_expired=False))
        parts = await probe.query(m.ParticipantsQuery())
        await probe.close()
        key = series.items[0].series
        members = [it.participant.strip() for it in parts.items if it.hkcc][:self.a.participants]
        injections = self.injections(members, key, m)
        seen: dict[str, list[int]] = {}
        bos = [await self.back_office(self.port, p, seen) for p in members]
        killer = asyncio.create_task(self.killer())
        t_feed = time.monotonic()
        try:
            await self.feed(self.port, injections, chaos=True)
        finally:
            self.done = True
            await killer
        fed = time.monotonic() - t_feed
        expected = {p: 0 for p in members}
        for deals in injections:
            for d in deals:
                expected[d.buyer] += 1
                expected[d.seller] += 1
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline and any(len(seen[p]) < expected[p] for p in members):
            await asyncio.sleep(0.1)
        bad_streams = {p: {"received": len(s), "expected": expected[p]} for p, s in seen.items()
                       if s != list(range(1, expected[p] + 1))}
        sdk_gaps = sum(len(c.gaps) for c, _ in bos)
        for c, task in bos:
            task.cancel()
            await c.close()
        self.gw.stop()
        soak_hash = replay_hash(self.gw.journal)
        # the uninterrupted run of the same injections
        calm_work = self.work / "calm"
        calm_work.mkdir()
        calm = Gateway(self.day, calm_work / "journal", calm_work, [])
        calm.start()
        _, calm_port = await asyncio.to_thread(calm.wait_listening)
        await self.feed(calm_port, injections, chaos=False)
        calm.stop()
        calm_hash = replay_hash(calm.journal)
        r = sorted(self.restarts)
        return {"trades": self.day.trades, "injections": len(injections), "deals_per_injection": self.a.batch,
                "participants": len(members), "kill_every_s": list(self.a.kill_every), "kills": self.kills,
                "restarts": len(r), "restart_listening_s": {"median": round(statistics.median(r), 3) if r else None,
                                                            "max": round(r[-1], 3) if r else None},
                "feed_seconds": round(fed, 1), "wall_seconds": round(time.monotonic() - t_start, 1),
                "resends": self.resends, "sdk_gaps": sdk_gaps, "bad_streams": bad_streams,
                "state_hash": soak_hash, "uninterrupted_state_hash": calm_hash,
                "ok": {"digest_equal": soak_hash == calm_hash, "no_gap_or_duplicate": not bad_streams and not sdk_gaps,
                       "resends_already_answered": self.resends["other"] == 0}}


def replay_hash(journal: Path) -> str:
    """The state hash of a journal replayed read-only from record 1 (``python -m gateway.journal replay``)."""
    day = DAYS["full"]
    cmd = [sys.executable, "-m", "gateway.journal", "replay", "--json", str(journal), "--users", str(day.users),
           "--dcass-reference", "benchmarks/data/dcass_reference_200.toml"]
    p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=3600)
    if p.returncode != 0:
        raise RuntimeError(f"replay failed: {p.stderr[-2000:]}")
    return json.loads(p.stdout)["state_hash"]


def markdown(r: dict) -> str:
    ok = r["ok"]
    return "\n".join([
        f"# Chaos soak ({r['started']})", "", f"Command: `{r['command']}`", "",
        "| trades | injections | back offices | kills (every s) | restart start -> listening median / max | "
        "blind resends | answered ones resent (ALREADY_ANSWERED) | gaps or duplicates | digest = uninterrupted | wall |",
        "|---:|---:|---:|---|---|---:|---|---|---|---:|",
        f"| {r['trades']:,} | {r['injections']:,} | {r['participants']} | {r['kills']} ({r['kill_every_s'][0]:g}-"
        f"{r['kill_every_s'][1]:g}) | {r['restart_listening_s']['median']} / {r['restart_listening_s']['max']} s | "
        f"{r['resends']['blind']} | {r['resends']['answered_again']} ({r['resends']['already_answered']}) | "
        f"{'none' if ok['no_gap_or_duplicate'] else r['bad_streams'] or r['sdk_gaps']} | "
        f"{'yes' if ok['digest_equal'] else 'NO'} | {r['wall_seconds']} s |", ""])


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.soak", description=__doc__.split("\n")[0])
    p.add_argument("--trades", type=int, default=100_000, help="trades of the day (2 per deal)")
    p.add_argument("--batch", type=int, default=100, help="deals per EC104 injection")
    p.add_argument("--participants", type=int, default=20, help="participants, each with a subscribed back office")
    p.add_argument("--rate", type=float, default=1000.0, help="trades per second offered (0: as fast as answered)")
    p.add_argument("--kill-every", default="3,6", help="seconds of serving between kills: LOW,HIGH (uniform)")
    p.add_argument("--seed", type=int, default=19)
    p.add_argument("--out", default="benchmarks/results", help="directory for soak.json and soak.md")
    a = p.parse_args(argv)
    a.kill_every = tuple(float(x) for x in a.kill_every.split(","))
    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    with tempfile.TemporaryDirectory(prefix="bench-soak-") as d:
        soak = Soak(a, Path(d))
        try:
            r = asyncio.run(soak.main())
        finally:
            soak.gw.kill()
    r.update(started=started, command=" ".join(["python -m benchmarks.soak"] + (argv if argv is not None else sys.argv[1:])))
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "soak.json").write_text(json.dumps(r, indent=1) + "\n")
    (out / "soak.md").write_text(markdown(r))
    print(json.dumps(r))
    return 0 if all(r["ok"].values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
