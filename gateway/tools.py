"""Operator tools: ``python -m gateway.tools hash-password`` prints a hash for users.toml;
``python -m gateway.tools dissector > hkpost.lua`` prints the Wireshark dissector."""
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
    d = sub.add_parser("dissector", help="print the Wireshark Lua dissector generated from the declarations "
                                          "(docs/guides/wireshark.md)")
    d.add_argument("-o", "--output", help="write it to this file instead of standard output")
    a = p.parse_args(argv)
    if a.cmd == "dissector":
        from gateway.dissector import render
        text = render()
        if a.output:
            with open(a.output, "w") as f:
                f.write(text)
        else:
            sys.stdout.write(text)
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
