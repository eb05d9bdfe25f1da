"""``python -m conformance certify-client --participant CPA01``: certify a participant's back office.

Exit code 0 when every selected scenario passed, 1 when one failed or could not run, 2 on a usage
error (bad option, bad scenario file), 3 when the gateway or the client command could not start.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TextIO

from ..casefiles import CaseError
from ..report import Console, list_cases, write_json, write_junit
from .judge import Certifier, CertifyConfig
from .scenarios import SUITES, load_scenarios, pick

CHILD_HEARTBEAT = 1.0     # seconds: the session suite watches a few intervals
CHILD_THROTTLE = 50       # requests per second: the throttling suite sends two seconds' worth


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="hkpost-conformance certify-client",
        description="Certify a participant's back office: the emulator plays the clearing house's certification "
                    "(fault injection as the operator) and judges what the client does, step by step. "
                    "See docs/guides/certify-your-client.md.")
    p.add_argument("--participant", required=True, help="participant code whose back office is certified (CPA01)")
    p.add_argument("--user", default="", help="the user the back office logs in as (default: the participant code)")
    p.add_argument("--password", default="", help="that user's password, told to the person (default pass-<user>)")
    p.add_argument("--gateway", metavar="HOST:PORT",
                   help="a running gateway to drive as its operator (default: start one on a free loopback port)")
    p.add_argument("--suite", action="append", default=[], metavar="NAME",
                   help=f"run only these suites (repeatable or comma-separated: {', '.join(SUITES)})")
    p.add_argument("--include", "-i", action="append", default=[], metavar="GLOB", help="scenario ids to run")
    p.add_argument("--exclude", "-x", action="append", default=[], metavar="GLOB", help="scenario ids to skip")
    p.add_argument("--cases", action="append", default=[], metavar="DIR", help="also load scenarios from DIR")
    p.add_argument("--list", action="store_true", help="list the selected scenarios and exit")
    p.add_argument("--operator", default="OPER1", help="operator user of the gateway (default OPER1)")
    p.add_argument("--operator-password", default="", help="its password (default pass-<operator>)")
    p.add_argument("--counterparty", default="CPB02", help="the other participant of give-ups (default CPB02)")
    p.add_argument("--counterparty-password", default="", help="its password (default pass-<counterparty>)")
    p.add_argument("--client-command", metavar="CMD",
                   help="start the back office with this command once the gateway is up ({host} {port} {user} "
                        "{password} {participant} and {python} are replaced; also in HKPOST_* environment variables)")
    p.add_argument("--login-timeout", type=float, default=120.0, help="seconds to wait for the first login")
    p.add_argument("--scale", type=float, default=1.0, help="multiply every deadline (a slow machine: 2)")
    p.add_argument("--heartbeat", type=float, default=CHILD_HEARTBEAT,
                   help=f"heartbeat interval of the started gateway (default {CHILD_HEARTBEAT:g}s)")
    p.add_argument("--throttle", type=int, default=CHILD_THROTTLE,
                   help=f"throttle_per_second of the started gateway (default {CHILD_THROTTLE})")
    p.add_argument("--business-time", default=None, metavar="HHMMSS",
                   help="set business time before the run (EC1; default 090000 on a started gateway, "
                        "left alone on --gateway)")
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", dest="variables",
                   help="set a scenario variable (overrides the [vars] of the scenario files)")
    p.add_argument("--tls", action="store_true", help="connect to --gateway with TLS")
    p.add_argument("--tls-ca", metavar="FILE", help="CA certificates to verify the gateway with (default: the system's)")
    p.add_argument("--tls-no-verify", action="store_true", help="do not verify the gateway's certificate")
    p.add_argument("--junit", metavar="PATH", help="write a JUnit XML report")
    p.add_argument("--json", metavar="PATH", help="write a JSON report (with every step's transcript)")
    p.add_argument("--verbose", "-v", action="store_true", help="print every scenario's steps")
    p.add_argument("--quiet", "-q", action="store_true", help="only the summary")
    return p


class ChildGateway:
    """``python -m gateway`` on a free loopback port, with the certification's session settings."""

    def __init__(self, heartbeat: float, throttle: int):
        self.dir = tempfile.TemporaryDirectory(prefix="hkpost-certify-")
        d = Path(self.dir.name)
        self.port_file = d / "port"
        self.config = d / "gateway.toml"
        self.config.write_text(f"heartbeat_interval = {heartbeat}\nthrottle_per_second = {throttle}\n"
                               f"log_level = \"warning\"\n", encoding="utf-8")
        self.log = d / "gateway.log"  # its output: a file, so that a chatty gateway never blocks on a pipe
        self.proc: subprocess.Popen | None = None
        self.port = 0

    def start(self, timeout: float = 20.0) -> int:
        with self.log.open("w") as out:  # the child keeps its own descriptor
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "gateway", "--host", "127.0.0.1", "--port", "0", "--port-file",
                 str(self.port_file), "--config", str(self.config), "--freeze-clock"],
                stdout=out, stderr=subprocess.STDOUT)
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                err = self.log.read_text(errors="replace")
                raise RuntimeError(f"the gateway exited with code {self.proc.returncode}: {err.strip()[-500:]}")
            if self.port_file.exists() and self.port_file.read_text().strip():
                self.port = int(self.port_file.read_text())
                return self.port
            time.sleep(0.05)
        raise RuntimeError(f"the gateway did not start listening within {timeout:g}s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.dir.cleanup()


def start_client(command: str, cfg: CertifyConfig) -> subprocess.Popen:
    values = {"host": cfg.host, "port": str(cfg.port), "user": cfg.user, "password": cfg.password,
              "participant": cfg.participant, "python": sys.executable}
    env = dict(os.environ, HKPOST_HOST=cfg.host, HKPOST_PORT=str(cfg.port), HKPOST_USER=cfg.user,
               HKPOST_PASSWORD=cfg.password, HKPOST_PARTICIPANT=cfg.participant)
    argv = [a.format(**values) for a in shlex.split(command)]
    return subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def ssl_context(args: argparse.Namespace):
    if not (args.tls or args.tls_ca):
        return None
    import ssl
    ctx = ssl.create_default_context(cafile=args.tls_ca or None)
    if args.tls_no_verify:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


def _pairs(items: list[str]) -> dict:
    out = {}
    for it in items:
        if "=" not in it:
            raise SystemExit(f"certify-client: --set must be NAME=VALUE, got {it!r}")
        k, v = it.split("=", 1)
        out[k.strip()] = int(v) if v.strip().lstrip("-").isdigit() else v
    return out


def teller(out: TextIO):
    def tell(text: str) -> None:
        out.write(f"  >> {text}\n")
        out.flush()
    return tell


async def set_business_time(cfg: CertifyConfig, hhmmss: str) -> None:
    from clients import Client
    from protocol.messages import system as sy
    op = Client(cfg.host, cfg.port, cfg.operator, cfg.operator_password, forced=True, ssl=cfg.ssl)
    await op.connect()
    try:
        await op.request(sy.SetBusinessTimeRequest(business_date="", business_time=hhmmss, reset=True))
    finally:
        await op.close()


def quiet_logs() -> None:
    """The SDK's sessions log at info level: the certification's own output is the report."""
    import logging

    import structlog
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))


def main(argv: list[str] | None = None, out: TextIO = sys.stdout) -> int:
    args = parser().parse_args(argv)
    quiet_logs()
    suites = [s.strip() for item in args.suite for s in item.split(",") if s.strip()]
    try:
        cases = pick(load_scenarios(args.cases), suites, args.include, args.exclude)
    except CaseError as e:
        print(f"certify-client: {e}", file=sys.stderr)
        return 2
    if args.list:
        list_cases(cases, out)
        return 0
    if not cases:
        print("certify-client: no scenario selected", file=sys.stderr)
        return 2
    child = None
    if args.gateway:
        host, _, port = args.gateway.rpartition(":")
        if not host or not port.isdigit():
            print(f"certify-client: --gateway must be HOST:PORT, got {args.gateway!r}", file=sys.stderr)
            return 2
        port_no = int(port)
    else:
        child = ChildGateway(args.heartbeat, args.throttle)
        try:
            host, port_no = "127.0.0.1", child.start()
        except RuntimeError as e:
            child.stop()
            print(f"certify-client: {e}", file=sys.stderr)
            return 3
        out.write(f"started a gateway on 127.0.0.1:{port_no} (heartbeat {args.heartbeat:g}s, "
                  f"throttle {args.throttle}/s)\n")
    cfg = CertifyConfig(host=host, port=port_no, participant=args.participant, user=args.user, password=args.password,
                        operator=args.operator, operator_password=args.operator_password,
                        counterparty=args.counterparty, counterparty_password=args.counterparty_password,
                        scale=args.scale, login_timeout=args.login_timeout, variables=_pairs(args.variables),
                        ssl=ssl_context(args))
    client = None
    try:
        when = args.business_time if args.business_time is not None else ("" if args.gateway else "090000")
        if when:
            asyncio.run(set_business_time(cfg, when))
        if args.client_command:
            try:
                client = start_client(args.client_command, cfg)
            except (OSError, KeyError, ValueError) as e:
                print(f"certify-client: the client command did not start: {e!r}", file=sys.stderr)
                return 3
        out.write(f"certifying the back office of {cfg.participant}: it logs in to {cfg.host}:{cfg.port} as "
                  f"{cfg.user} (password {cfg.password!r}); instructions come as BI27 messages starting "
                  f"with 'CERT' and are shown here after '>>'\n")
        console = Console(out=out, verbose=args.verbose, quiet=args.quiet)
        live = (lambda text: out.write(f"     .. {text}\n") or out.flush()) if args.verbose else None
        run = asyncio.run(Certifier(cfg, teller(out), live).run(cases, console.progress))
        console.summary(run)
        if args.junit:
            write_junit(run, args.junit)
        if args.json:
            write_json(run, args.json)
        return 0 if run.ok else 1
    finally:
        if client is not None and client.poll() is None:
            client.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                client.wait(10)
            if client.poll() is None:
                client.kill()
        if child is not None:
            child.stop()
