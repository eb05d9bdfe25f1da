"""Operator tools: ``python -m gateway.tools hash-password`` prints a hash for users.toml."""
from __future__ import annotations

import argparse
import getpass
import sys

from gateway.auth import hash_password, password_policy_error


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m gateway.tools")
    sub = p.add_subparsers(dest="cmd", required=True)
    h = sub.add_parser("hash-password", help="print a salted scrypt hash for users.toml")
    h.add_argument("--password", help="the password (default: prompt)")
    a = p.parse_args(argv)
    if a.cmd == "hash-password":
        pw = a.password or getpass.getpass("password: ")
        err = password_policy_error("", pw)
        if err:
            print(f"password rejected: {err}", file=sys.stderr)
            return 2
        print(hash_password(pw))
    return 0


if __name__ == "__main__":
    sys.exit(main())
