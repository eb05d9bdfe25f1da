"""``python -m conformance --host H --port P``: certify whatever listens there.
``python -m conformance certify-client --participant CPA01``: certify a participant's client
(conformance/certify/, docs/guides/certify-your-client.md).

Exit code 0 when every selected case passed (or was skipped), 1 when one failed or errored,
2 on a usage error (bad option, bad case file, a reset not allowed), 3 when the target cannot be reached.
"""
from __future__ import annotations

import argparse
import asyncio
import sys
import tomllib
from pathlib import Path

from .casefiles import CaseError, load_cases, select
from .report import Console, list_cases, write_json, write_junit
from .runner import DEFAULT_USERS, Config, Runner


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="hkpost-conformance",
        description="Black-box conformance runner for the OAPI-style protocol (docs/protocol.md). "
                    "Every case starts from an operator reset (EC5) that discards all of the target's state: "
                    "give --allow-reset to agree to that; the target needs the operator role.")
    p.add_argument("--host", default="127.0.0.1", help="target host (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=7600, help="target port (default 7600)")
    p.add_argument("--include", "-i", action="append", default=[], metavar="PATTERN",
                   help="run only cases whose id contains PATTERN (ignoring case, as pytest -k), or matches it "
                        "when it is a glob with * ? [ (repeatable)")
    p.add_argument("--exclude", "-x", action="append", default=[], metavar="PATTERN",
                   help="skip cases selected the same way (repeatable)")
    p.add_argument("--allow-reset", action="store_true",
                   help="agree that every case resets the target (EC5: all of its state is discarded); "
                        "without it the runner refuses to run cases that reset")
    p.add_argument("--list", action="store_true", help="list the selected cases and exit")
    p.add_argument("--lint", action="store_true",
                   help="check the selected cases against this runner's message declarations and exit")
    p.add_argument("--strict", action="store_true", help="also run the cases that check recommendations")
    p.add_argument("--slow", action="store_true", help="also run cases that wait long on this server (heartbeats, idle)")
    p.add_argument("--destructive", action="store_true",
                   help="also run cases that leave state a reset does not restore (a user locked for minutes)")
    p.add_argument("--junit", metavar="PATH", help="write a JUnit XML report")
    p.add_argument("--json", metavar="PATH", help="write a JSON report")
    p.add_argument("--cases", action="append", default=[], metavar="DIR",
                   help="also load the *.toml cases under DIR (repeatable)")
    p.add_argument("--no-builtin", action="store_true", help="do not load the shipped cases")
    p.add_argument("--user-map", metavar="FILE",
                   help="TOML file: [users] role = \"USER\" and [passwords] USER = \"password\"")
    p.add_argument("--user", action="append", default=[], metavar="ROLE=USER",
                   help=f"user for a role (roles: {', '.join(DEFAULT_USERS)})")
    p.add_argument("--password", action="append", default=[], metavar="USER=PASSWORD",
                   help="password of a user (default: pass-<user>)")
    p.add_argument("--timeout", type=float, default=3.0, help="seconds to wait for one expected frame (default 3)")
    p.add_argument("--case-timeout", type=float, default=120.0, help="seconds for a whole case (default 120)")
    p.add_argument("--business-date", default="", metavar="YYYYMMDD",
                   help="business date every case starts on (default: the target's date at the start)")
    p.add_argument("--business-time", default="090000", metavar="HHMMSS", help="business time every case starts at")
    p.add_argument("--max-drive", type=int, default=20000,
                   help="most messages a case may generate to reach a limit (replay); beyond: skipped (default 20000)")
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", dest="variables",
                   help="set a case variable (overrides the [vars] defaults of the case files)")
    p.add_argument("--tls", action="store_true", help="connect with TLS")
    p.add_argument("--tls-ca", metavar="FILE", help="CA certificates to verify the server with (default: the system's)")
    p.add_argument("--tls-no-verify", action="store_true", help="do not verify the server's certificate")
    p.add_argument("--verbose", "-v", action="store_true", help="print every case's transcript")
    p.add_argument("--quiet", "-q", action="store_true", help="only the summary")
    return p


def _pairs(items: list[str], what: str) -> dict:
    out = {}
    for it in items:
        if "=" not in it:
            raise SystemExit(f"hkpost-conformance: {what} must be NAME=VALUE, got {it!r}")
        k, v = it.split("=", 1)
        out[k.strip()] = v
    return out


def config_from(args: argparse.Namespace) -> Config:
    users = dict(DEFAULT_USERS)
    passwords: dict = {}
    if args.user_map:
        data = tomllib.loads(Path(args.user_map).read_text(encoding="utf-8"))
        users.update({k: str(v) for k, v in data.get("users", {}).items()})
        passwords.update({k: str(v) for k, v in data.get("passwords", {}).items()})
    users.update(_pairs(args.user, "--user"))
    passwords.update(_pairs(args.password, "--password"))
    return Config(host=args.host, port=args.port, users=users, passwords=passwords, strict=args.strict,
                  slow=args.slow, destructive=args.destructive, timeout=args.timeout, case_timeout=args.case_timeout,
                  business_date=args.business_date, business_time=args.business_time, max_drive=args.max_drive,
                  verbose=args.verbose, variables=_variables(args.variables), tls=args.tls or bool(args.tls_ca),
                  tls_ca=args.tls_ca, tls_verify=not args.tls_no_verify)


def _variables(items: list[str]) -> dict:
    out = {}
    for k, v in _pairs(items, "--set").items():
        out[k] = int(v) if v.strip().lstrip("-").isdigit() else v
    return out


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["certify-client"]:  # certify a participant's client (conformance/certify/)
        from .certify.cli import main as certify_client
        return certify_client(argv[1:])
    args = parser().parse_args(argv)
    try:
        cases = load_cases(args.cases, builtin=not args.no_builtin)
    except CaseError as e:
        print(f"hkpost-conformance: bad case file: {e}", file=sys.stderr)
        return 2
    cases = select(cases, args.include, args.exclude)
    if args.list:
        list_cases(cases)
        return 0
    if args.lint:
        from .runner import lint
        problems = [p for c in cases for p in lint(c)]
        for p in problems:
            print(p)
        print(f"{len(cases)} case(s), {len(problems)} problem(s)")
        return 1 if problems else 0
    if not cases:
        print("hkpost-conformance: no case selected", file=sys.stderr)
        return 2
    resetting = [c.id for c in cases if c.setup.get("reset", True)]
    if resetting and not args.allow_reset:
        print(f"hkpost-conformance: {len(resetting)} selected case(s) reset the target to fresh demo data (EC5 "
              f"discards all of its state): give --allow-reset if {args.host}:{args.port} may be reset",
              file=sys.stderr)
        return 2
    config = config_from(args)
    console = Console(verbose=args.verbose, quiet=args.quiet)
    run = asyncio.run(Runner(config).run(cases, console.progress))
    if run.stopped and console.tty:
        console.out.write("\r\033[K")  # the progress line of the case that could not start
        console.out.flush()
    if run.stopped and not run.results:
        print(f"hkpost-conformance: {run.stopped}; no case run", file=sys.stderr)
        return 3
    console.summary(run)
    if run.stopped:
        print(f"hkpost-conformance: {run.stopped}; stopped after {len(run.results)} of {len(cases)} case(s)",
              file=sys.stderr)
    if args.junit:
        write_junit(run, args.junit)
    if args.json:
        write_json(run, args.json)
    return 3 if run.stopped else 0 if run.ok else 1


if __name__ == "__main__":
    sys.exit(main())
