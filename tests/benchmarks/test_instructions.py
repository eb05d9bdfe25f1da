"""The instruction-count tool (benchmarks/instructions.py): its workloads run on this tree, and its
table reads per-operation counts right. Counting itself needs valgrind, which CI does not install."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import instructions

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("workload", list(instructions.WORKLOADS))
def test_each_workload_runs_on_this_tree(tmp_path, workload):
    script = tmp_path / "workload.py"
    script.write_text(instructions._WORKLOAD + "\nprint('done', which, n)\n")
    p = subprocess.run([sys.executable, str(script), workload, "2"], cwd=ROOT, capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == 0, p.stderr[-2000:]
    assert p.stdout.strip().endswith(f"done {workload} 2")


def test_table_gives_counts_and_the_change():
    t = instructions.table({"eeee7db": {"query": 75_372}, "this tree": {"query": 85_166}}, ["query"])
    assert "| query (per query) | 75,372 | 85,166 | +13.0% |" in t


def test_unknown_workload_is_refused(capsys):
    with pytest.raises(SystemExit) as e:
        instructions.main(["--workloads", "quer"])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "unknown workload 'quer'" in err and "query100" in err
