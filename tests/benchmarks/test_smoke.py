"""Smoke run of the benchmark suite: seconds, not minutes. Checks the figures are produced, not
how fast they are."""
from __future__ import annotations

import json
import mmap
import os
import subprocess
import sys
from pathlib import Path

from benchmarks.hist import Histogram, index, lower, upper
from benchmarks.procstat import cpu_times

ROOT = Path(__file__).resolve().parents[2]


def test_histogram_buckets_and_percentiles():
    for v in (0, 1, 127, 128, 129, 255, 256, 1000, 123456789):
        assert lower(index(v)) <= v <= upper(index(v))
    h, g = Histogram(), Histogram()
    for v in range(100_000):
        h.record(v)
    g.record_linear(0, 99_999, 100_000)
    for p in (50, 99, 99.9):
        assert abs(h.percentile(p) - p * 1000) <= p * 1000 / 64 + 1
        assert abs(g.percentile(p) - h.percentile(p)) <= h.percentile(p) / 32
    m = Histogram.from_dict(json.loads(json.dumps(h.to_dict())))
    m.merge(g)
    assert m.total == 200_000 and m.percentile(50) == h.percentile(50)


def test_page_faults_are_the_first_touches_of_memory():
    """The sampler's page faults: touching 32 MiB of new memory, one write per 4 KiB page, counts
    (nearly) a fault per page; touching it again counts (nearly) none."""
    pages = 8192
    before = cpu_times(os.getpid())
    buf = mmap.mmap(-1, pages * 4096)       # anonymous memory: no page is there before its first write
    for off in range(0, pages * 4096, 4096):
        buf[off] = 1
    first = cpu_times(os.getpid())
    for off in range(0, pages * 4096, 4096):
        buf[off] = 2
    again = cpu_times(os.getpid())
    buf.close()
    assert first[2] - before[2] >= pages * 0.9
    assert again[2] - first[2] < pages * 0.1
    assert again[0] >= before[0] and again[1] >= before[1]   # user and system seconds only grow


def test_quick_run_produces_every_figure(tmp_path):
    out = tmp_path / "results"
    cmd = [sys.executable, "-m", "benchmarks", "--quick", "--runs", "3", "--duration", "0.15", "--warmup", "0.05",
           "--scenarios", "query_pipelined_max,fanout_10,replay_resume,posttrade",
           "--out", str(out)]
    p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    res = json.loads((out / "results.json").read_text())
    assert res["machine"]["cpus"]
    pf = res["machine"]["page_fault"]     # the machine's cost of a page fault, measured before the run
    assert pf["first_touch_us_per_page"] > 0 and pf["again_us_per_page"] > 0
    shares = []
    for name in ("query_pipelined_max", "fanout_10", "replay_resume"):
        e = res["scenarios"][name]
        assert e["status"] == "measured", e
        for target in ("gateway", "codec", "bytes"):
            r = e["results"][target]
            assert "error" not in r, (name, target, r)
            assert r["runs"] == 3
            assert r["throughput"] > 0, (name, target, r)
            assert set(r["latency_us"]) >= {"p50", "p99", "p99_9"}
            assert r["latency_us"]["p50"] is not None
            assert r["server_cpu_util"] is not None and r["server_peak_rss_mib"] > 0
            assert r["server_faults_per_op"] >= 0, (name, target, r)
            share = r.get("server_sys_share")     # none when the runs were too short to use a CPU tick
            assert share is None or 0 <= share <= 1, (name, target, r)
            shares.append(share)
        assert set(e["ratios"]) == {"codec", "bytes"}
        assert e["ratios"]["codec"]["throughput"] > 0
        assert e["met"] in (True, False, None)
    assert any(s is not None for s in shares), shares
    assert res["scenarios"]["posttrade"]["status"] in ("measured", "not available")
    md = (out / "results.md").read_text()
    assert "| query_pipelined_max |" in md and "| fanout_10 |" in md


def test_recovery_benchmark_measures_a_killed_demo_day(tmp_path):
    """benchmarks/recovery.py on the demo day: filled, killed with SIGKILL, restarted; figures written."""
    cmd = [sys.executable, "-m", "benchmarks.recovery", "--days", "demo", "--out", str(tmp_path)]
    p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    run = json.loads((tmp_path / "recovery.json").read_text())["runs"][0]
    assert "error" not in run, run
    assert run["filled"]["trades"] > 0 and run["journal_records"] >= 2
    assert 0 < run["listening_s"] <= run["first_answer_s"]
    assert run["recovered"]["via"] == "full replay" and run["recovered"]["commands"] >= 1
    assert run["recovery_peak_rss_mib"] > 0 and run["met"] in (True, False)
    assert "| demo | at-once |" in (tmp_path / "recovery.md").read_text()
