"""docs/guides/trading-day.md: its code blocks, joined in order, run as a user runs them (a separate
process) against a gateway on demo data, only the port changed."""
from __future__ import annotations

import asyncio
import re
import sys
from pathlib import Path

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "guides" / "trading-day.md"


def guide_code() -> str:
    return "\n".join(re.findall(r"```python\n(.*?)```", GUIDE.read_text(), re.S))


async def test_the_trading_day_guide_runs(gateway):
    code = guide_code()
    assert 'HOST, PORT = "127.0.0.1", 7600' in code
    code = code.replace('HOST, PORT = "127.0.0.1", 7600', f'HOST, PORT = "127.0.0.1", {gateway.port}')
    proc = await asyncio.create_subprocess_exec(sys.executable, "-c", code, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    text = out.decode()
    assert proc.returncode == 0, err.decode() + text
    assert err.decode() == ""
    lines = text.splitlines()
    assert lines[0] == "business date 20261123 time 090000"
    assert any(line.startswith("trade ") and " BUY 2 @ 25000 " in line for line in lines)
    assert any(line.startswith("deposit HKD ") and "COMPLETED" in line for line in lines)
    assert any(line.startswith("refused: ") for line in lines)
    assert "member ['OCM01']" in lines
    assert "business date 20261123 -> 20261124" in lines
    assert any(line.startswith("new day 20261124 positions") and "HSI DEC26" in line for line in lines)
