"""On the shipped demo data the gateway says at start where the demo users and the next steps are."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from gateway.config import Settings
from gateway.welcome import demo_hints

ROOT = Path(__file__).resolve().parents[2]


def test_hints_only_on_demo_data():
    h = demo_hints(Settings(), 7600, console_running=True)
    assert "Demo users" in h["demo_users"] and "pass-" in h["demo_users"]
    assert h["console"].startswith("http://127.0.0.1:8600/")
    assert "testing-your-back-office.md" in h["next_steps"]
    assert demo_hints(Settings(), 7600, console_running=False)["console"] == "not started (--no-console)"
    assert demo_hints(Settings(users_file="my-users.toml"), 7600, True) is None
    assert demo_hints(Settings(dcass_reference="my-ref.toml"), 7600, True) is None
    readme = (ROOT / "README.md").read_text()
    assert "## Demo users" in readme and (ROOT / "docs/guides/testing-your-back-office.md").exists()


def test_the_gateway_says_it_at_start(tmp_path):
    port_file = tmp_path / "port"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    p = subprocess.Popen([sys.executable, "-m", "gateway", "--port", "0", "--port-file", str(port_file),
                          "--no-console", "--log-format", "json"], cwd=ROOT, env=env, stderr=subprocess.PIPE,
                         text=True)
    try:
        for _ in range(200):  # bounded: until it listens
            if port_file.exists() and port_file.read_text():
                break
            time.sleep(0.05)
        port = int(port_file.read_text())
    finally:
        p.send_signal(signal.SIGTERM)
        _, err = p.communicate(timeout=30)
    events = [json.loads(x) for x in err.splitlines() if x.startswith("{")]
    (demo,) = [e for e in events if e["event"] == "demo_data"]
    assert demo["gateway"] == f"127.0.0.1:{port}" and "Demo users" in demo["demo_users"]
    assert demo["console"] == "not started (--no-console)"
