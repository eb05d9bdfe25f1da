"""Fuzz bookkeeping: every property test counts the inputs it tried; the totals are printed at the
end of the run (and written to .pytest_cache/fuzz-inputs.json) so the guide can quote them."""
from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

INPUTS: Counter = Counter()


def examples(default: int) -> int:
    """Examples per property: FUZZ_EXAMPLES=N in the environment runs longer campaigns."""
    return int(os.environ.get("FUZZ_EXAMPLES", default))


def tried(name: str, n: int = 1) -> None:
    INPUTS[name] += n


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not INPUTS:
        return
    tr = terminalreporter
    tr.section("fuzz inputs tried")
    for name, n in sorted(INPUTS.items()):
        tr.write_line(f"{name:<48} {n:>9}")
    tr.write_line(f"{'total':<48} {sum(INPUTS.values()):>9}")
    try:
        cache = Path(config.rootpath) / ".pytest_cache"
        cache.mkdir(exist_ok=True)
        (cache / "fuzz-inputs.json").write_text(json.dumps(dict(INPUTS, total=sum(INPUTS.values())), indent=1))
    except OSError:
        pass
