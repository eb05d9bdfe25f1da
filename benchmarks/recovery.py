"""Recovery time after a crash: ``python -m benchmarks.recovery [--days demo,full] [--trades N] [--out DIR]``.

Each day is filled through a real gateway process on a group-commit journal (``python -m gateway
--journal``, its snapshot settings as configured: by records, time and size), over the wire, as an
operator's trade feed (EC104 injections through the SDK, a few in flight); every trade is
broadcast and logged in its streams as on a live day. Then the gateway is killed with SIGKILL and
started again on the same journal, and the benchmark times:

- start -> listening: from the restart's ``exec`` to the port file the gateway writes once it listens;
- start -> first answer: to the answer of the first query (DQ102) of a client that logs in at once;
- the recovery itself as the gateway logs it (``journal_recovered``: how, records replayed, and the
  time of each phase: snapshot read, core restore, verification, stream logs, journal tail);
- peak memory (VmHWM) of the restarted process up to its first answer, against the peak of the
  process that lived through the day.

The kill comes either at once after the day's last acknowledgement (``--kill at-once``: whatever
snapshot the gateway had taken by then, the rest replayed; a snapshot child still running when its
parent dies finishes on its own) or once a snapshot covers the whole day (``--kill snapshotted``).

Python's bytecode cache is filled first (``compileall`` of the project's packages, as ``pip``
does when it installs a package): a start then loads compiled modules, as an installed gateway
does, instead of compiling every source file, which costs another 0.15-0.2 s per start where the
cache is never written (an environment with ``PYTHONDONTWRITEBYTECODE`` set).

Days (``DAYS``): ``demo``, the shipped demo data and the console's demo day (console/data/demo_day.toml,
one EC104), target start -> first answer <= 1 s; ``full``, 500,000 trades among the 200 benchmark
participants (benchmarks/data/gateway.toml), target <= 2 s and the recovery's peak memory within the
day's own. ``--trades`` makes the full day smaller for a quick run. Figures: ``recovery.json`` and
``recovery.md`` in ``--out``; docs/guides/reliability.md quotes the latest.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

from .procstat import memory
from .targets import BUSINESS_TIME, GATEWAY_CONFIG
from .users import DEFAULT as BENCH_USERS

ROOT = Path(__file__).resolve().parent.parent
DEMO_DAY = ROOT / "console" / "data" / "demo_day.toml"


@dataclass(frozen=True)
class Day:
    name: str
    title: str
    trades: int                 # 0: the demo day's deals
    participants: int
    operator: tuple[str, str]
    config: Path | None         # gateway settings file (None: the defaults, i.e. the shipped demo data)
    users: Path | None
    target_s: float             # start -> first answer
    batch: int = 500            # deals per EC104
    window: int = 4             # injections in flight


DAYS = {
    "demo": Day("demo", "the demo day: shipped demo data and the console's demo deals (one EC104)", 0, 0,
                ("OPER1", "pass-OPER1"), None, None, 1.0),
    "full": Day("full", "a full day: 500,000 trades among 200 participants, EC104 of 500 deals", 500_000, 200,
                ("BOP01", "pass-BOP01"), GATEWAY_CONFIG, BENCH_USERS, 2.0),
}


class Gateway:
    """One run of ``python -m gateway`` on the benchmark's journal."""

    def __init__(self, day: Day, journal: Path, work: Path, extra: list[str], port: int = 0):
        self.day, self.journal, self.work, self.extra, self.port = day, journal, work, extra, port
        self.port_file = work / "port"
        self.proc: subprocess.Popen | None = None
        self.runs = 0
        self.log: Path | None = None

    def start(self) -> float:
        """Start the gateway; returns the monotonic time just before the process was created."""
        self.port_file.unlink(missing_ok=True)
        cmd = [sys.executable, "-m", "gateway", "--host", "127.0.0.1", "--port", str(self.port), "--port-file", str(self.port_file),
               "--business-time", BUSINESS_TIME, "--freeze-clock", "--no-console", "--journal", str(self.journal),
               "--journal-flush", "group", "--log-level", "info", "--log-format", "json"]
        if self.day.config:
            cmd += ["--config", str(self.day.config)]
        if self.day.users:
            cmd += ["--users", str(self.day.users)]
        self.runs += 1
        self.log = self.work / f"gateway-{self.runs}.log"
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
        with open(self.log, "wb") as lf:
            t0 = time.monotonic()
            self.proc = subprocess.Popen(cmd + self.extra, cwd=ROOT, env=env, stdout=lf, stderr=lf)
        return t0

    def wait_listening(self, timeout: float = 600.0) -> tuple[float, int]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                text = self.port_file.read_text().strip()
                if text:
                    return time.monotonic(), int(text)
            except (OSError, ValueError):
                pass
            if self.proc.poll() is not None:
                raise RuntimeError(f"gateway exited with {self.proc.returncode}; see {self.log}")
            time.sleep(0.001)
        raise TimeoutError("gateway did not listen in time")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(120)
            except subprocess.TimeoutExpired:
                self.kill()

    def events(self, name: str) -> list[dict]:
        out = []
        for line in self.log.read_text(errors="replace").splitlines():
            if f'"{name}"' in line:
                try:
                    ev = json.loads(line)
                except ValueError:
                    continue
                if ev.get("event") == name:
                    out.append(ev)
        return out


async def _series(client, m) -> dict:
    answer = await client.query(m.SeriesQuery(class_id="", include_expired=False))
    return {it.series_symbol.strip(): it for it in answer.items}


def _deals(day: Day, series: dict, members: list[str], m) -> list[list]:
    """The day's EC104 injections (lists of DealItem)."""
    if not day.trades:
        deals = tomllib.loads(DEMO_DAY.read_text())["deals"]
        return [[m.DealItem(series=series[d["series"]].series, price=d["price"], quantity=d["quantity"], buyer=d["buyer"],
                            seller=d["seller"], buyer_account=d.get("buyer_account", ""),
                            seller_account=d.get("seller_account", "")) for d in deals]]
    key = next(it.series for it in series.values() if it.class_id.strip() == "HSI-F")
    n = len(members)
    total = day.trades // 2
    out, batch = [], []
    for i in range(total):
        batch.append(m.DealItem(series=key, price=25000 + i % 50, quantity=1 + i % 5, buyer=members[i % n],
                                seller=members[(i + 1) % n]))
        if len(batch) == day.batch:
            out.append(batch)
            batch = []
    if batch:
        out.append(batch)
    return out


async def fill(day: Day, port: int) -> dict:
    """The day's trade feed through the SDK; returns what was sent and acknowledged."""
    from clients import Client
    from protocol.messages import dcass as m
    client = Client("127.0.0.1", port, *day.operator, request_timeout=120.0, auto_reconnect=False)
    await client.connect()
    try:
        series = await _series(client, m)
        members = []
        if day.trades:
            parts = await client.query(m.ParticipantsQuery())
            members = [it.participant.strip() for it in parts.items if it.hkcc][:day.participants]
        injections = _deals(day, series, members, m)
        t0 = time.monotonic()
        queue = list(reversed(injections))
        booked = 0

        async def worker() -> None:
            nonlocal booked
            while queue:
                deals = queue.pop()
                answer = await client.transact(m.InjectDealsRequest(deals=deals))
                booked += len(answer.trades)
        await asyncio.gather(*(worker() for _ in range(day.window)))
        return {"injections": len(injections), "trades": booked, "participants": len(members) or None,
                "fill_seconds": round(time.monotonic() - t0, 2)}
    finally:
        await client.close()


async def first_answer(day: Day, port: int) -> tuple[float, float]:
    """Log in and ask DQ102 at once; returns the monotonic times of the login reply and of the answer."""
    from clients import Client
    from protocol.messages import dcass as m
    client = Client("127.0.0.1", port, *day.operator, request_timeout=120.0, auto_reconnect=False)
    await client.connect()
    logged_in = time.monotonic()
    try:
        await client.query(m.SeriesQuery(class_id="HSI-F", include_expired=False))
        return logged_in, time.monotonic()
    finally:
        await client.close()


def _snapshot_seq(journal: Path) -> int:
    from gateway.journal import snapshot as snap
    try:
        body = snap.read(snap.snapshot_path(journal))
    except snap.SnapshotError:
        return 0
    return body["seq"] if body else 0


def _last_record(journal: Path) -> int:
    from gateway.journal.format import Reader
    with Reader(journal) as r:
        last = 0
        for rec in r.records():
            last = rec.n
    return last


def compile_bytecode() -> None:
    """Fill the bytecode cache of the project's packages, those pyproject.toml installs
    (``__pycache__``, ignored by git)."""
    import compileall
    found = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    for pattern in found["include"]:
        pkg = ROOT / pattern.rstrip("*")
        if pkg.is_dir():
            compileall.compile_dir(str(pkg), quiet=1)


def run_day(day: Day, kill: str, work: Path, extra: list[str]) -> dict:
    journal = work / "journal"
    gw = Gateway(day, journal, work, extra)
    out: dict = {"day": day.name, "title": day.title, "kill": kill, "target_s": day.target_s}
    try:
        gw.start()
        _, port = gw.wait_listening()
        out["filled"] = asyncio.run(fill(day, port))
        out["day_peak_rss_mib"] = (memory(gw.proc.pid) or {}).get("peak_rss_mib")
        last = _last_record(journal)
        if kill == "snapshotted":   # until a snapshot covers every record (bounded)
            deadline = time.monotonic() + 1800
            while _snapshot_seq(journal) < last and time.monotonic() < deadline:
                time.sleep(0.2)
        gw.kill()
        out["journal_bytes"] = journal.stat().st_size
        out["journal_records"] = _last_record(journal)
        out["snapshot_record_at_kill"] = _snapshot_seq(journal)
        t0 = gw.start()
        listening, port = gw.wait_listening()
        logged_in, answered = asyncio.run(first_answer(day, port))
        mem = memory(gw.proc.pid) or {}
        out.update(listening_s=round(listening - t0, 3), login_s=round(logged_in - t0, 3),
                   first_answer_s=round(answered - t0, 3), recovery_peak_rss_mib=mem.get("peak_rss_mib"),
                   rss_after_mib=mem.get("rss_mib"))
        rec = gw.events("journal_recovered")
        if rec:
            r = rec[-1]
            out["recovered"] = {k: r.get(k) for k in ("via", "records", "commands", "snapshot_seq", "seconds", "phases")}
        rejected = gw.events("snapshot_rejected")
        if rejected:
            out["snapshot_rejected"] = rejected[-1].get("reason")
        out["met"] = out["first_answer_s"] <= day.target_s and (
            day.name != "full" or out["recovery_peak_rss_mib"] is None or out["day_peak_rss_mib"] is None
            or out["recovery_peak_rss_mib"] <= out["day_peak_rss_mib"])
    finally:
        gw.kill()   # not a clean stop: its final snapshot (minutes for a full day) measures nothing here
    return out


def markdown(results: dict) -> str:
    lines = [f"# Recovery after SIGKILL ({results['started']})", "", f"Command: `{results['command']}`", "",
             "| day | kill | trades | journal | records (snapshot at kill) | recovered via | start -> listening | "
             "start -> first answer | target | recovery peak RSS / the day's | met |",
             "|---|---|---:|---:|---|---|---:|---:|---:|---|---|"]
    for r in results["runs"]:
        if "error" in r:
            lines.append(f"| {r['day']} | {r['kill']} | ERROR {r['error']} | | | | | | | | |")
            continue
        rec = r.get("recovered", {})
        lines.append(
            f"| {r['day']} | {r['kill']} | {r['filled']['trades']:,} | {r['journal_bytes'] / 2**20:.1f} MiB | "
            f"{r['journal_records']:,} ({r['snapshot_record_at_kill']:,}) | {rec.get('via', '?')} | "
            f"{r['listening_s']:.2f} s | {r['first_answer_s']:.2f} s | <= {r['target_s']:g} s | "
            f"{r['recovery_peak_rss_mib']} / {r['day_peak_rss_mib']} MiB | {'yes' if r['met'] else 'NO'} |")
    lines += ["", "Phases of the recovery as the gateway logs them (journal_recovered), seconds:", ""]
    for r in results["runs"]:
        rec = r.get("recovered") or {}
        if rec.get("phases"):
            lines.append(f"- {r['day']} ({r['kill']}): " + ", ".join(f"{k} {v}" for k, v in rec["phases"].items()))
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.recovery", description=__doc__.split("\n")[0])
    p.add_argument("--days", default="demo,full", help="comma-separated: " + ", ".join(DAYS))
    p.add_argument("--trades", type=int, default=None, help="trades of the full day (default 500,000)")
    p.add_argument("--kill", default="at-once", help="at-once, snapshotted, or both (comma-separated)")
    p.add_argument("--out", default="benchmarks/results", help="directory for recovery.json and recovery.md")
    p.add_argument("--gateway-arg", action="append", default=[], help="extra argument for python -m gateway")
    a = p.parse_args(argv)
    results = {"started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
               "command": " ".join(["python -m benchmarks.recovery"] + (argv if argv is not None else sys.argv[1:])),
               "cpus": os.cpu_count(), "runs": []}
    compile_bytecode()
    for name in [d for d in a.days.split(",") if d]:
        day = DAYS[name]
        if name == "full" and a.trades is not None:
            day = Day(**{**vars(day), "trades": a.trades, "title": f"{a.trades:,} trades among 200 participants"})
        for kill in [k for k in a.kill.split(",") if k]:
            with tempfile.TemporaryDirectory(prefix="bench-recovery-") as d:
                try:
                    r = run_day(day, kill, Path(d), a.gateway_arg)
                except Exception as e:  # noqa: BLE001 - reported, the next day still runs
                    r = {"day": name, "kill": kill, "error": f"{type(e).__name__}: {e}"}
            print(json.dumps(r), flush=True)
            results["runs"].append(r)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "recovery.json").write_text(json.dumps(results, indent=1) + "\n")
    (out / "recovery.md").write_text(markdown(results))
    print(markdown(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
