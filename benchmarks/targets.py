"""Servers under test, each in its own process: our gateway and the two ceiling servers."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from gateway.config import Settings

DATA = Path(__file__).parent / "data"
GATEWAY_CONFIG = DATA / "gateway.toml"
BUSINESS_TIME = "2026-11-23T09:00:00"  # a Monday, a business day


@dataclass
class Target:
    name: str              # gateway | codec | bytes
    host: str
    port: int
    pid: int | None        # server process id (None: external, CPU and memory not measured)
    proc: subprocess.Popen | None = None
    log: Path | None = None

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None

    def alive(self) -> bool:
        return self.proc is None or self.proc.poll() is None


def _spawn(name: str, args: list[str], log_dir: Path, cpu: int | None) -> Target:
    fd, port_file = tempfile.mkstemp(prefix=f"bench-{name}-", suffix=".port")
    os.close(fd)
    os.unlink(port_file)
    log_dir.mkdir(parents=True, exist_ok=True)
    log = log_dir / f"{name}.log"
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).resolve().parent.parent), env.get("PYTHONPATH", "")])
    with open(log, "ab") as lf:
        proc = subprocess.Popen([sys.executable, *args, "--port-file", port_file], stdout=lf, stderr=lf, env=env,
                                cwd=str(Path(__file__).resolve().parent.parent))
    if cpu is not None and hasattr(os, "sched_setaffinity"):
        try:
            os.sched_setaffinity(proc.pid, {cpu})
        except OSError:
            pass
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} server exited with {proc.returncode}; see {log}")
        try:
            port = int(Path(port_file).read_text().strip())
            break
        except (OSError, ValueError):
            time.sleep(0.02)
    else:
        proc.kill()
        raise RuntimeError(f"{name} server did not start; see {log}")
    os.unlink(port_file)
    return Target(name, "127.0.0.1", port, proc.pid, proc, log)


def start_gateway(log_dir: Path, users_file: Path, config: Path = GATEWAY_CONFIG, cpu: int | None = None) -> Target:
    return _spawn("gateway", ["-m", "gateway", "--host", "127.0.0.1", "--port", "0", "--config", str(config),
                              "--users", str(users_file), "--business-time", BUSINESS_TIME, "--freeze-clock",
                              "--log-level", "warning"], log_dir, cpu)


def start_ceiling(mode: str, log_dir: Path, cpu: int | None = None) -> Target:
    busy_poll_us = Settings.load(GATEWAY_CONFIG).busy_poll_us  # the ceilings wait for the network as the gateway does
    return _spawn(mode, ["-m", "benchmarks.ceiling", "--mode", mode, "--host", "127.0.0.1", "--port", "0",
                         "--busy-poll-us", str(busy_poll_us)], log_dir, cpu)
