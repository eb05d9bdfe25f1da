"""Command-line client: ``hkpost-client`` (or ``python -m clients``).

    hkpost-client messages                              # every message type
    hkpost-client describe CD35                         # its fields, their types and allowed values
    hkpost-client -u CPA01 -p pass-CPA01 send UQ12      # send any request by code or name
    hkpost-client send CQ105 series="HSI DEC26" -u CPA01 -p pass-CPA01
    hkpost-client -u OPER1 -p pass-OPER1 send EC3 'lines=[{"text": "hello"}]'
    hkpost-client -u CPA01 -p pass-CPA01 tail general trades --count 10
    hkpost-client -u CPA01 -p pass-CPA01 series HSI     # series names the server knows

Fields are ``name=value``; nested records use dots (``series.commodity=10001``); arrays take JSON. A
series field also takes a series name (``series="HKB DEC26 100.00 C"``), looked up in the server's
series list (DQ102). Options go before or after the subcommand. Without ``-p`` the password comes
from HKPOST_PASSWORD, else from a prompt when on a terminal; there is no default password.

Exit codes: 0 done, 1 the request was rejected, 2 a usage error (bad option, field or value),
3 the gateway cannot be reached or refused the login or ended the session, 130 interrupted.
"""
from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import logging
import os
import sys

from clients.errors import ClientError, LoginRejected, RequestRejected
from clients.sdk import Client
from protocol.codec import EncodeError
from protocol.kinds import Kind
from protocol.registry import BY_CODE, BY_NAME, all_specs
from protocol.series_names import FORMAT as SERIES_FORMAT
from protocol.series_names import SeriesDirectory, SeriesNameError
from protocol.streams import BY_NAME as STREAMS
from protocol.values import FieldValueError, allowed_of, from_dict, one_line, to_dict

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7600
DEFAULT_USER = "CPA01"
SERIES_RECORD = "series_key"

# the environment variables read, with what they set (shown by --help)
ENVIRONMENT = {
    "HKPOST_HOST": f"gateway host (--host; default {DEFAULT_HOST})",
    "HKPOST_PORT": f"gateway port (--port; default {DEFAULT_PORT})",
    "HKPOST_USER": f"user id (--user; default {DEFAULT_USER})",
    "HKPOST_PASSWORD": "password (--password; else a prompt on a terminal)",
}

EXIT_REJECTED, EXIT_USAGE, EXIT_UNREACHABLE, EXIT_INTERRUPTED, EXIT_BROKEN_PIPE = 1, 2, 3, 130, 141


class UsageError(Exception):
    """A mistake on the command line: one line on stderr, exit code 2."""


class Unreachable(Exception):
    """The gateway cannot be reached, refused the login or ended the session: exit code 3."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line instead of usage + message
        raise UsageError(f"{message} (see {self.prog} --help)")


# ------------------------------------------------------------------ fields
def _set(d: dict, dotted: str, value) -> None:
    parts = dotted.split(".")
    for p in parts[:-1]:
        nxt = d.setdefault(p, {})
        if not isinstance(nxt, dict):
            raise UsageError(f"field {dotted}: {p} is given both as a value and as a record")
        d = nxt
    d[parts[-1]] = value


def parse_fields(pairs: list[str]) -> dict:
    """``name=value`` pairs to a mapping (dots nest, ``[``/``{`` values are JSON)."""
    out: dict = {}
    for pair in pairs:
        name, eq, value = pair.partition("=")
        if not eq or not name:
            raise UsageError(f"field {pair!r} is not name=value")
        if value[:1] in ("[", "{"):
            try:
                value = json.loads(value)
            except json.JSONDecodeError as e:
                raise UsageError(f"field {name}: value is not valid JSON ({e.msg} at character {e.pos})") from None
        _set(out, name, value)
    return out


def series_names_in(rec, data: dict, path: str = "") -> list[tuple[str, str]]:
    """(field path, name) of every series field given as a name instead of a record."""
    out = []
    for name, value in data.items():
        f = rec.field_types.get(name)
        if f is None:
            continue
        if f.kind == "record" and f.record.name == SERIES_RECORD and isinstance(value, str):
            out.append((path + name, value))
        elif f.kind == "record" and isinstance(value, dict):
            out += series_names_in(f.record, value, f"{path}{name}.")
        elif f.kind == "items" and isinstance(value, list):
            for i, x in enumerate(value):
                if isinstance(x, dict):
                    out += series_names_in(f.record, x, f"{path}{name}[{i}].")
    return out


def _replace(data, path: str, value) -> None:
    """Set ``path`` (``a.b``, ``items[2].series``) in nested dicts and lists."""
    cur = data
    parts = path.replace("[", ".[").split(".")
    for p in parts[:-1]:
        cur = cur[int(p[1:-1])] if p.startswith("[") else cur[p]
    cur[parts[-1]] = value


def build_message(spec, data: dict, series: SeriesDirectory | None = None):
    """The message of ``spec`` from parsed fields; series names are checked, and resolved through
    ``series`` when given (else a zero key stands in: validation only)."""
    for path, name in series_names_in(spec.record, data):
        try:
            key = series.key(name) if series is not None else {}  # names are checked by the server's list
        except SeriesNameError as e:
            raise UsageError(f"{spec.code} field {path}: {e}") from None
        _replace(data, path, key)
    try:
        return from_dict(spec.cls, data)
    except FieldValueError as e:
        raise UsageError(f"{spec.code} field {e}") from None


def find_spec(code_or_name: str):
    spec = BY_CODE.get(code_or_name.upper()) or BY_NAME.get(code_or_name.lower())
    if spec is None:
        raise UsageError(f"unknown message {code_or_name!r}; list them with: hkpost-client messages")
    return spec


def show(obj, as_json: bool) -> str:
    if as_json:
        return json.dumps({"code": obj.CODE, **to_dict(obj)})
    return one_line(obj)


# ------------------------------------------------------------------ commands that connect
async def _client(a, **kw) -> Client:
    c = Client(a.host, a.port, a.user, a.password, **kw)
    try:
        await asyncio.wait_for(c.connect(), a.timeout)
    except LoginRejected as e:
        raise Unreachable(f"login of {a.user} refused: {e.session_text or e.text} (session status "
                          f"{e.session_status})") from None
    except (OSError, asyncio.TimeoutError) as e:
        why = os.strerror(e.errno) if isinstance(e, OSError) and e.errno else (str(e) or "no answer in time")
        raise Unreachable(f"cannot connect to {a.host}:{a.port}: {why} (is the gateway running? "
                          f"start one with: python -m gateway)") from None
    return c


async def _send(a) -> int:
    spec = find_spec(a.message)
    if spec.kind not in (Kind.TRANSACTION, Kind.QUERY, Kind.SUBSCRIBE):
        raise UsageError(f"{spec.code} is a {spec.kind.name} message: it cannot be sent as a request")
    data = parse_fields(a.fields)
    c = await _client(a, auto_reconnect=False)
    try:
        directory = None
        if series_names_in(spec.record, data):
            directory = await _series(c)
        msg = build_message(spec, data, directory)
        try:
            reply = await c.request(msg)
        except EncodeError as e:
            raise UsageError(f"{spec.code}: {e}") from None
        except RequestRejected as e:
            print(f"REJECTED session_status={e.session_status} ({e.session_text}) business_status="
                  f"{e.business_status} field={e.field or '-'} offset={e.field_offset}: {e.text}", file=sys.stderr)
            return EXIT_REJECTED
        if spec.code == "UQ20":
            answer, frames = reply
            for f in frames:
                print(f"{f.stream}:{f.sequence} " + show(f.message, a.json))
            reply = answer
        print(show(reply, a.json), flush=True)
        return 0
    finally:
        await c.close()


async def _series(c: Client) -> SeriesDirectory:
    from clients.series import series_directory
    return await series_directory(c)


async def _series_cmd(a) -> int:
    c = await _client(a, auto_reconnect=False)
    try:
        directory = await _series(c)
    finally:
        await c.close()
    want = [s.upper() for s in a.symbols]
    for name in directory.names:
        if not want or name.split()[0] in want:
            print(name, flush=True)
    return 0


def _stream_items(a) -> list:
    items = []
    for s in a.streams or ["general"]:
        stream = int(s) if s.isdigit() else STREAMS.get(s.lower())
        if stream is None:
            raise UsageError(f"unknown stream {s!r}; allowed: {', '.join(STREAMS)} (or a stream number)")
        items.append((stream, (a.broadcast or "").upper(), a.filter or ""))
    return items


async def _tail(a) -> int:
    items = _stream_items(a)
    c = await _client(a)
    try:
        for st in await c.subscribe(*items):
            if st.status:
                print(f"subscription to stream {st.stream} refused: status {st.status}", file=sys.stderr)
        n = 0
        loop = asyncio.get_running_loop()
        end = loop.time() + a.seconds if a.seconds else None
        while a.count == 0 or n < a.count:
            left = (end - loop.time()) if end else None
            if left is not None and left <= 0:
                break
            try:
                b = await c.next_broadcast(timeout=left if left is not None else 3600)
            except asyncio.TimeoutError:
                continue
            n += 1
            print(f"{b.business_date} {b.stream}:{b.sequence} " + show(b.message, a.json), flush=True)
    finally:
        await c.close()
    return 0


# ------------------------------------------------------------------ commands that do not connect
def _messages(a) -> int:
    for s in all_specs():
        print(f"{s.code:6} {s.kind.name:11} {s.name:32} {'(operator) ' if s.operator else ''}{s.doc[:70]}")
    return 0


def _describe_fields(rec, depth: int = 0) -> None:
    pad = "  " + "    " * depth
    note = pad + "    "
    for f in rec.fields:
        if f.kind == "filler":
            continue
        name = ("." if depth else "") + f.name
        print(f"{pad}{name:{max(8, 30 - len(pad))}} {f.type_name:30} {f.doc}")
        if f.kind == "code":
            print(f"{note}allowed: {', '.join(allowed_of(f))}")
        if f.kind == "record" and f.record.name == SERIES_RECORD:
            print(f"{note}or a series name: {SERIES_FORMAT}")
        if f.kind in ("items", "record"):
            _describe_fields(f.record, depth + 1)


def _describe(a) -> int:
    s = find_spec(a.message)
    print(f"{s.code} {s.name} ({s.kind.name}{', answered by ' + s.answer if s.answer else ''}): {s.doc}")
    print(f"  Python: from {s.cls.__module__} import {s.cls.__name__}")
    _describe_fields(s.record)
    return 0


# ------------------------------------------------------------------ arguments
def _port(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"expected an integer 1..65535, got {text!r}")
    return int(text)


def _count(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text!r}")
    return int(text)


def _seconds(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        v = -1.0
    if not v >= 0:
        raise argparse.ArgumentTypeError(f"expected a number of seconds >= 0, got {text!r}")
    return v


def _common(p: argparse.ArgumentParser, top: bool) -> None:
    """The connection options, on the main parser and on every subcommand (so they go before or
    after it); a subcommand's copy leaves unset what was not given after it."""
    d = {} if top else {"default": argparse.SUPPRESS}
    g = p.add_argument_group("connection (also from the environment, see below)")
    g.add_argument("--host", help=f"gateway host (default {DEFAULT_HOST})", **d)
    g.add_argument("--port", type=_port, help=f"gateway port (default {DEFAULT_PORT})", **d)
    g.add_argument("-u", "--user", help=f"user id (default {DEFAULT_USER})", **d)
    g.add_argument("-p", "--password", help="password (else HKPOST_PASSWORD, else a prompt on a terminal)", **d)
    g.add_argument("--timeout", type=_seconds, help="seconds to wait for the connection and login (default 10)", **d)
    p.add_argument("--json", action="store_true", help="print JSON lines instead of readable lines", **d)


def parser() -> argparse.ArgumentParser:
    env = "environment variables:\n" + "\n".join(f"  {k:16} {v}" for k, v in ENVIRONMENT.items())
    kw = dict(formatter_class=argparse.RawDescriptionHelpFormatter, epilog=env)
    p = _Parser(prog="hkpost-client", description=__doc__, **kw)
    _common(p, top=True)
    sub = p.add_subparsers(dest="cmd", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    s = sub.add_parser("send", help="send a request by code or name with name=value fields", **kw)
    s.add_argument("message", help="message code or name, e.g. UQ12 or business_date_query")
    s.add_argument("fields", nargs="*", help="name=value; dots nest (series.commodity=10001); JSON for lists")
    t = sub.add_parser("tail", help="subscribe and print broadcasts", **kw)
    t.add_argument("streams", nargs="*", help=f"{', '.join(STREAMS)} (default general)")
    t.add_argument("--broadcast", help="only this broadcast type, e.g. BD6")
    t.add_argument("--filter", help="filter key: account id, series symbol, currency ...")
    t.add_argument("--count", type=_count, default=0, help="stop after N broadcasts (0: never)")
    t.add_argument("--seconds", type=_seconds, default=0, help="stop after S seconds (0: never)")
    r = sub.add_parser("series", help="list the series names the server knows (DQ102)", **kw)
    r.add_argument("symbols", nargs="*", help="only these symbols, e.g. HSI TCH")
    sub.add_parser("messages", help="list every message type", **kw)
    d = sub.add_parser("describe", help="show the fields of a message, their types and allowed values", **kw)
    d.add_argument("message")
    for sp in (s, t, r, d):
        _common(sp, top=False)
    return p


def _resolve_connection(a) -> None:
    """Options, then environment, then defaults; the password never defaults."""
    a.host = a.host or os.environ.get("HKPOST_HOST") or DEFAULT_HOST
    if a.port is None:
        env = os.environ.get("HKPOST_PORT")
        try:
            a.port = _port(env) if env else DEFAULT_PORT
        except argparse.ArgumentTypeError as e:
            raise UsageError(f"HKPOST_PORT: {e}") from None
    a.user = a.user or os.environ.get("HKPOST_USER") or DEFAULT_USER
    a.timeout = a.timeout or 10.0
    if a.password is None:
        a.password = os.environ.get("HKPOST_PASSWORD") or None  # set but empty: not given
    if a.password is None:
        if not sys.stdin.isatty():
            raise UsageError(f"no password for {a.user}: give -p PASSWORD or set HKPOST_PASSWORD "
                             f"(a prompt needs a terminal)")
        try:
            a.password = getpass.getpass(f"password for {a.user}@{a.host}:{a.port}: ")
        except EOFError:  # Ctrl-D at the prompt
            raise UsageError(f"no password for {a.user} given at the prompt") from None


def _quiet_sdk_logs() -> None:
    """When run as a program: SDK log lines at warning and above, on stderr (stdout is for answers)."""
    import structlog
    if not structlog.is_configured():
        structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
                            logger_factory=structlog.PrintLoggerFactory(sys.stderr))


def main(argv=None) -> int:
    try:
        a = parser().parse_args(argv)
        if a.cmd == "messages":
            return _messages(a)
        if a.cmd == "describe":
            return _describe(a)
        if a.cmd == "send":  # every field mistake is reported before asking for a password
            build_message(find_spec(a.message), parse_fields(a.fields))
        if a.cmd == "tail":
            _stream_items(a)
        _resolve_connection(a)
        _quiet_sdk_logs()
        run = {"send": _send, "tail": _tail, "series": _series_cmd}[a.cmd]
        return asyncio.run(run(a))
    except UsageError as e:
        print(f"hkpost-client: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except Unreachable as e:
        print(f"hkpost-client: error: {e}", file=sys.stderr)
        return EXIT_UNREACHABLE
    except ClientError as e:  # the session ended, the connection dropped, no answer in time
        print(f"hkpost-client: error: {e}", file=sys.stderr)
        return EXIT_UNREACHABLE
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # the reader went away (| head): nothing more to say; stop Python's flush at exit complaining
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError, AttributeError):
            pass
        return EXIT_BROKEN_PIPE


if __name__ == "__main__":
    sys.exit(main())
