"""A gateway in a child process (real journal file, real SIGKILL), for crash-recovery tests."""
from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
START = "2026-11-23T09:00:00"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class GatewayProcess:
    def __init__(self, tmp: Path, *, journal: str | None = "journal", flush: str = "always", snapshot_every: int = 0,
                 extra: dict | None = None, args: list[str] | None = None):
        self.tmp = Path(tmp)
        self.journal = self.tmp / journal if journal else None
        self.port = free_port()
        self.flush = flush
        self.snapshot_every = snapshot_every
        self.config = self.tmp / "gateway.toml"
        settings = {"stream_heartbeat_seconds": 0, "heartbeat_interval": 2.0}
        if not snapshot_every:  # no snapshots at all: nor by time or size
            settings.update(snapshot_seconds=0, snapshot_bytes=0)
        settings.update(extra or {})
        self.config.write_text("".join(f"{k} = {json.dumps(v)}\n" for k, v in settings.items()))
        self.args = args or []
        self.proc: subprocess.Popen | None = None
        self.runs = 0
        self.logs: list[str] = []   # stderr of every run, in order

    def command(self) -> list[str]:
        cmd = [sys.executable, "-m", "gateway", "--port", str(self.port), "--port-file", str(self.tmp / "port"),
               "--config", str(self.config), "--business-time", START, "--freeze-clock", "--log-format", "json",
               "--no-uvloop", "--no-console"]
        if self.journal is not None:
            cmd += ["--journal", str(self.journal), "--journal-flush", self.flush,
                    "--snapshot-every", str(self.snapshot_every)]
        return cmd + self.args

    def start(self, wait: bool = True) -> None:
        port_file = self.tmp / "port"
        port_file.unlink(missing_ok=True)
        self._err = open(self.tmp / f"stderr-{self.runs}.log", "w+")
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        self.proc = subprocess.Popen(self.command(), cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=self._err)
        self.runs += 1
        if wait:
            self.wait_listening()

    def wait_listening(self, timeout: float = 15.0) -> None:
        port_file = self.tmp / "port"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if port_file.exists() and port_file.read_text().strip():
                return
            if self.proc.poll() is not None:
                raise RuntimeError(f"gateway exited with {self.proc.returncode}: {self.stderr()[-2000:]}")
            time.sleep(0.02)
        raise TimeoutError("gateway did not start listening")

    async def astart(self) -> None:
        self.start(wait=False)
        await self.alistening()

    def restart_now(self) -> None:
        """SIGKILL, then start again at once without waiting (a supervisor's restart)."""
        self.kill()
        self.start(wait=False)

    async def alistening(self) -> None:
        port_file = self.tmp / "port"
        for _ in range(1500):
            if port_file.exists() and port_file.read_text().strip():
                return
            if self.proc.poll() is not None:
                raise RuntimeError(f"gateway exited with {self.proc.returncode}: {self.stderr()[-2000:]}")
            await asyncio.sleep(0.01)
        raise TimeoutError("gateway did not start listening")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)
            self._collect()

    def stop(self) -> int:
        """SIGTERM and wait: a clean stop."""
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(15)
        self._collect()
        return rc

    def run_to_exit(self, timeout: float = 20.0) -> int:
        """Start and wait for the process to end by itself (a start that must fail)."""
        self.start(wait=False)
        rc = self.proc.wait(timeout)
        self._collect()
        return rc

    def _collect(self) -> None:
        self._err.seek(0)
        self.logs.append(self._err.read())
        self._err.close()

    def stderr(self) -> str:
        self._err.flush()
        self._err.seek(0)
        return self._err.read()

    def state_event(self, timeout: float = 30.0) -> dict:
        """The running gateway's ``journal_state`` (the recovered state's hash, logged by a forked
        child once it serves): waits for it, bounded."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.events(None, "journal_state")
            if found:
                return found[-1]
            time.sleep(0.02)
        raise TimeoutError("no journal_state logged")

    def events(self, run: int | None = -1, name: str | None = None) -> list[dict]:
        """Log events of a finished run (index into ``logs``), or of the running one (``run=None``)."""
        text = self.stderr() if run is None else self.logs[run]
        out = []
        for line in text.splitlines():
            try:
                e = json.loads(line)
            except ValueError:
                continue
            if name is None or e.get("event") == name:
                out.append(e)
        return out

    def cleanup(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
            self._collect()


def journal_cli(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "gateway.journal", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)


class CliResult:
    def __init__(self, returncode: int, stdout: str, stderr: str):
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


def journal_tool(*args: str) -> CliResult:
    """``python -m gateway.journal ARGS`` run in this process (fast); see journal_cli for a real one."""
    import contextlib
    import io
    from gateway.journal.__main__ import main
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(list(args))
    return CliResult(rc, out.getvalue(), err.getvalue())
