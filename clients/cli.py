"""Command-line client: ``hkpost-client`` (or ``python -m clients``).

    hkpost-client messages                              # every message type
    hkpost-client describe UQ12                         # its fields
    hkpost-client -u CPA01 -p pass-CPA01 send UQ12      # send any request by code or name
    hkpost-client -u OPER1 -p pass-OPER1 send EC3 'lines=[{"text": "hello"}]'
    hkpost-client -u CPA01 -p pass-CPA01 tail general trades --count 10

Fields are ``name=value``; nested records use dots (``series.commodity=12``); arrays take JSON.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys

from clients.errors import ClientError, RequestRejected
from clients.sdk import Client
from protocol.kinds import Kind
from protocol.registry import BY_CODE, BY_NAME, all_specs
from protocol.streams import BY_NAME as STREAMS
from protocol.values import from_dict, one_line, to_dict

DEFAULT_PORT = 7600


def _set(d: dict, dotted: str, value) -> None:
    parts = dotted.split(".")
    for p in parts[:-1]:
        d = d.setdefault(p, {})
    d[parts[-1]] = value


def parse_fields(pairs: list[str]) -> dict:
    out: dict = {}
    for pair in pairs:
        if "=" not in pair:
            raise SystemExit(f"field {pair!r} is not name=value")
        k, v = pair.split("=", 1)
        if v[:1] in "[{":
            v = json.loads(v)
        _set(out, k, v)
    return out


def find_spec(code_or_name: str):
    spec = BY_CODE.get(code_or_name.upper()) or BY_NAME.get(code_or_name)
    if spec is None:
        raise SystemExit(f"unknown message {code_or_name!r}; try: hkpost-client messages")
    return spec


def show(obj, as_json: bool) -> str:
    if as_json:
        return json.dumps({"code": obj.CODE, **to_dict(obj)})
    return one_line(obj)


async def _send(a) -> int:
    spec = find_spec(a.message)
    if spec.kind not in (Kind.TRANSACTION, Kind.QUERY, Kind.SUBSCRIBE):
        raise SystemExit(f"{spec.code} is a {spec.kind.name} message: it cannot be sent as a request")
    msg = from_dict(spec.cls, parse_fields(a.fields))
    c = Client(a.host, a.port, a.user, a.password, auto_reconnect=False)
    await c.connect()
    try:
        reply = await c.request(msg)
        if spec.code == "UQ20":
            answer, frames = reply
            for f in frames:
                print(f"{f.stream}:{f.sequence} " + show(f.message, a.json))
            reply = answer
        print(show(reply, a.json))
        return 0
    except RequestRejected as e:
        print(f"REJECTED session_status={e.session_status} ({e.session_text}) business_status={e.business_status} "
              f"field={e.field or '-'} offset={e.field_offset}: {e.text}", file=sys.stderr)
        return 2
    finally:
        await c.close()


async def _tail(a) -> int:
    c = Client(a.host, a.port, a.user, a.password)
    await c.connect()
    items = []
    for s in a.streams or ["general"]:
        stream = STREAMS.get(s.lower()) if not s.isdigit() else int(s)
        if stream is None:
            raise SystemExit(f"unknown stream {s!r}: {', '.join(STREAMS)}")
        items.append((stream, a.broadcast or "", a.filter or ""))
    for st in await c.subscribe(*items):
        if st.status:
            print(f"subscription to stream {st.stream} refused: status {st.status}", file=sys.stderr)
    n = 0
    loop = asyncio.get_running_loop()
    end = loop.time() + a.seconds if a.seconds else None
    try:
        while a.count == 0 or n < a.count:
            left = (end - loop.time()) if end else None
            if left is not None and left <= 0:
                break
            try:
                b = await c.next_broadcast(timeout=left if left is not None else 3600)
            except asyncio.TimeoutError:
                continue
            n += 1
            prefix = f"{b.business_date} {b.stream}:{b.sequence} "
            print(prefix + show(b.message, a.json), flush=True)
    finally:
        await c.close()
    return 0


def _messages(a) -> int:
    for s in all_specs():
        print(f"{s.code:6} {s.kind.name:11} {s.name:32} {'(operator) ' if s.operator else ''}{s.doc[:70]}")
    return 0


def _describe(a) -> int:
    s = find_spec(a.message)
    print(f"{s.code} {s.name} ({s.kind.name}{', answered by ' + s.answer if s.answer else ''}): {s.doc}")
    for f in s.record.fields:
        if f.kind == "filler":
            continue
        print(f"  {f.name:28} {f.type_name:30} {f.doc}")
        if f.kind in ("items", "record"):
            for g in f.record.fields:
                if g.kind != "filler":
                    print(f"      .{g.name:24} {g.type_name:30} {g.doc}")
    return 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="hkpost-client", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--host", default=os.environ.get("HKPOST_HOST", "127.0.0.1"))
    p.add_argument("--port", type=int, default=int(os.environ.get("HKPOST_PORT", DEFAULT_PORT)))
    p.add_argument("-u", "--user", default=os.environ.get("HKPOST_USER", "CPA01"))
    p.add_argument("-p", "--password", default=os.environ.get("HKPOST_PASSWORD"))
    p.add_argument("--json", action="store_true", help="print JSON lines instead of readable lines")
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("send", help="send a request by code or name with name=value fields")
    s.add_argument("message")
    s.add_argument("fields", nargs="*")
    t = sub.add_parser("tail", help="subscribe and print broadcasts")
    t.add_argument("streams", nargs="*", help="general, trades, clearing, collateral, settlement (default general)")
    t.add_argument("--broadcast", help="only this broadcast type, e.g. BD6")
    t.add_argument("--filter", help="filter key: account id, series symbol, currency ...")
    t.add_argument("--count", type=int, default=0, help="stop after N broadcasts (0: never)")
    t.add_argument("--seconds", type=float, default=0, help="stop after S seconds (0: never)")
    sub.add_parser("messages", help="list every message type")
    d = sub.add_parser("describe", help="show the fields of a message")
    d.add_argument("message")
    a = p.parse_args(argv)
    if a.cmd == "messages":
        return _messages(a)
    if a.cmd == "describe":
        return _describe(a)
    if a.password is None:
        a.password = f"pass-{a.user}"  # the demo convention
    try:
        return asyncio.run(_send(a) if a.cmd == "send" else _tail(a))
    except ClientError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
