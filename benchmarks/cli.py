"""``python -m benchmarks``: run the scenarios against our gateway (or any host) and the ceilings.

    python -m benchmarks --out benchmarks/results
    python -m benchmarks --host 127.0.0.1 --port 7600 --server-pid 1234 --out results
    python -m benchmarks --quick --scenarios query_pipelined_max,fanout_10

Without ``--host`` it starts our gateway itself, a fresh process on a free port for every scenario
(with ``benchmarks/data/gateway.toml`` and the benchmark users). The two ceiling servers always
run locally, fresh for every scenario too. The load generator runs in its own process. On a
machine with 2 or more CPUs the server is pinned to CPU 0 and the load generator to CPU 1.
"""
from __future__ import annotations

import argparse
import concurrent.futures as cf
import json
import multiprocessing
import os
import platform
import statistics
import sys
import time
from pathlib import Path

from . import report
from .scenarios import ALL, BY_NAME, Scenario
from .procstat import page_fault_cost, wait_quiet
from .targets import Target, start_ceiling, start_gateway
from .users import DEFAULT as DEFAULT_USERS
from .users import load as load_users

TARGETS = ("gateway", "codec", "bytes")


def _worker(spec: dict) -> dict:
    cpu = spec.get("cpu")
    if cpu is not None and hasattr(os, "sched_setaffinity"):
        try:
            os.sched_setaffinity(0, {cpu})
        except OSError:
            pass
    from .loadgen import run_scenario
    return run_scenario(spec)


def _median(values):
    vals = [v for v in values if v is not None]
    return statistics.median(vals) if vals else None


def summarise(runs: list[dict]) -> dict:
    """Median of the runs for every figure (throughput, each latency percentile, server CPU)."""
    if not runs:
        return {}
    out = {"runs": len(runs), "throughput": _median([r["throughput"] for r in runs]),
           "throughput_runs": [r["throughput"] for r in runs],
           "errors": sum(r.get("errors", 0) for r in runs)}
    lat = {}
    for k in ("p50", "p99", "p99_9", "max", "mean"):
        v = _median([r["latency_us"][k] for r in runs if r["latency_us"]["count"]])
        lat[k] = round(v, 1) if v is not None else None
    out["latency_us"] = lat
    for k in ("server_cpu_util", "server_cpu_us_per_op", "server_cpu_us_per_publish", "server_sys_share",
              "server_faults_per_op", "publish_rate", "loadgen_cpu_util", "other_cpu_util"):
        v = _median([r.get(k) for r in runs])
        if v is not None:
            out[k] = v
    peaks = [r.get("server_peak_rss_mib") for r in runs if r.get("server_peak_rss_mib") is not None]
    if peaks:
        out["server_peak_rss_mib"] = max(peaks)
    for k in ("finished", "projected_500k_trades_s", "deliveries", "participants"):
        if k in runs[0]:
            out[k] = runs[0][k] if len(runs) == 1 else [r.get(k) for r in runs]
    for k in ("unanswered", "missing"):
        if any(r.get(k) for r in runs):
            out[k] = sum(r.get(k) or 0 for r in runs)
    return out


def machine() -> dict:
    model = ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {}
    for mod in ("uvloop", "construct", "structlog"):
        try:
            versions[mod] = __import__(mod).__version__
        except Exception:  # noqa: BLE001
            versions[mod] = None
    mem = ""
    try:
        mem = next(line.split(":", 1)[1].strip() for line in open("/proc/meminfo") if line.startswith("MemTotal"))
    except (OSError, StopIteration):
        pass
    return {"cpu": model, "cpus": os.cpu_count(), "memory": mem, "load_average": os.getloadavg(), "python": platform.python_version(),
            "platform": platform.platform(), "page_fault": page_fault_cost(), **versions}


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="python -m benchmarks", description="Benchmarks of the emulator gateway")
    p.add_argument("--host", help="benchmark a running gateway here instead of starting one")
    p.add_argument("--port", type=int, default=7600)
    p.add_argument("--server-pid", type=int, help="pid of that gateway, to read its CPU and memory from /proc")
    p.add_argument("--users", default=str(DEFAULT_USERS), help="benchmark users file (see benchmarks/users.py)")
    p.add_argument("--out", default="benchmarks/results", help="directory for results.json and results.md")
    p.add_argument("--scenarios", default="", help="comma-separated names (default: all); see --list")
    p.add_argument("--targets", default=",".join(TARGETS), help="gateway,codec,bytes (the last two: ceilings)")
    p.add_argument("--runs", type=int, default=3, help="measured runs per scenario (figures: median)")
    p.add_argument("--duration", type=float, default=2.0, help="seconds of load per run")
    p.add_argument("--warmup", type=float, default=0.5, help="seconds of unmeasured load first")
    p.add_argument("--quick", action="store_true", help="tiny runs (seconds in all): checks the suite works")
    p.add_argument("--no-pin", action="store_true", help="do not pin the server and load generator to CPUs")
    p.add_argument("--quiet", type=float, default=0.3,
                   help="before each scenario and target, wait until the machine's busy CPUs are below this "
                        "(0: do not wait); other work on a shared machine would be measured as ours")
    p.add_argument("--max-wait", type=float, default=60.0, help="longest wait for a quiet machine, seconds")
    p.add_argument("--list", action="store_true", help="list the scenarios and exit")
    return p.parse_args(argv)


def run(a) -> dict:
    users = load_users(a.users)
    names = [n for n in a.scenarios.split(",") if n] or [s.name for s in ALL]
    unknown = [n for n in names if n not in BY_NAME]
    if unknown:
        raise SystemExit(f"unknown scenario(s): {', '.join(unknown)}; see --list")
    targets = [t for t in a.targets.split(",") if t]
    out_dir = Path(a.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    pin = not a.no_pin and (os.cpu_count() or 1) >= 2
    results = {"started": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "command": " ".join(["python -m benchmarks"] + sys.argv[1:]),
               "machine": machine(), "settings": {"runs": a.runs, "duration_s": a.duration, "warmup_s": a.warmup,
                                                  "quick": a.quick, "pinned": pin,
                                                  "gateway": a.host and f"{a.host}:{a.port}" or "started locally"},
               "scenarios": {}}
    ctx = multiprocessing.get_context("spawn")
    for name in names:
        sc: Scenario = BY_NAME[name]
        entry = {"title": sc.title, "unit": sc.unit, "target": sc.target_text, "params": dict(sc.params)}
        results["scenarios"][name] = entry
        why = sc.available()
        if why:
            entry["status"] = "not available"
            entry["reason"] = why
            print(f"{name}: not available ({why})", flush=True)
            continue
        params = dict(sc.params)
        params.update({"duration": a.duration, "warmup": a.warmup, "runs": a.runs})
        if a.quick:
            params.update(sc.scale)
        entry["params"] = params
        entry["results"] = {}
        for tname in [t for t in targets if t in sc.targets]:
            quiet = wait_quiet(a.quiet, a.max_wait) if a.quiet else {}
            t0 = time.monotonic()
            target = _start(tname, a, out_dir, pin)
            try:
                spec = {"kind": sc.kind, "host": target.host, "port": target.port, "server_pid": target.pid,
                        "target": tname, "params": params, "users": users, "cpu": 1 if pin else None,
                        "timeout": 300}
                with cf.ProcessPoolExecutor(1, mp_context=ctx) as ex:
                    raw = ex.submit(_worker, spec).result(timeout=360)
                res = summarise(raw["runs"])
                res["raw_runs"] = [{k: v for k, v in r.items() if k != "hist"} for r in raw["runs"]]
                for k, v in raw.items():
                    if k != "runs":
                        res[k] = v
                res["machine_before"] = quiet
                if not target.alive():
                    res["server_died"] = True
            except Exception as e:  # noqa: BLE001 - report and go on with the next
                res = {"error": f"{type(e).__name__}: {e}"}
            finally:
                if tname != "gateway" or not a.host:
                    target.stop()
            entry["results"][tname] = res
            print(f"{name} [{tname}]: {report.one_line(res, sc.unit)} ({time.monotonic() - t0:.1f} s)", flush=True)
        report.judge(entry, sc)
    results["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    (out_dir / "results.json").write_text(json.dumps(results, indent=1, default=str))
    (out_dir / "results.md").write_text(report.markdown(results))
    return results


def _start(tname: str, a, out_dir: Path, pin: bool) -> Target:
    cpu = 0 if pin else None
    if tname == "gateway":
        if a.host:
            return Target("gateway", a.host, a.port, a.server_pid)
        return start_gateway(out_dir / "logs", Path(a.users), cpu=cpu)
    return start_ceiling(tname, out_dir / "logs", cpu=cpu)


def main(argv=None) -> None:
    a = parse_args(argv)
    if a.list:
        for s in ALL:
            print(f"{s.name:22} {s.title}" + (f"  [{s.available()}]" if s.available() else ""))
        return
    if a.quick:
        a.duration = min(a.duration, 0.3)
        a.warmup = min(a.warmup, 0.1)
        a.quiet = 0.0
    res = run(a)
    print(report.markdown(res))
