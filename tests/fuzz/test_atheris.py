"""A bounded atheris (libFuzzer) campaign over the decoders and session machines, when atheris is
installed (it is optional: ``pip install atheris``); otherwise skipped with the reason."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fuzz.conftest import examples, tried

HARNESS = Path(__file__).with_name("atheris_harness.py")


def test_atheris_campaign(tmp_path):
    try:
        import atheris  # noqa: F401
    except ImportError:
        pytest.skip("atheris is not installed (optional: pip install atheris); the hypothesis fuzz tests still run")
    runs = examples(8000)
    p = subprocess.run([sys.executable, str(HARNESS), f"-runs={runs}", "-seed=20261123", "-max_len=4096",
                        f"-artifact_prefix={tmp_path}/"], capture_output=True, text=True, timeout=600,
                       env=dict(os.environ, PYTHONHASHSEED="0"))
    m = re.search(r"Done (\d+) runs", p.stderr)
    assert p.returncode == 0 and m, p.stderr[-3000:]
    tried("atheris: libFuzzer inputs", int(m.group(1)))
