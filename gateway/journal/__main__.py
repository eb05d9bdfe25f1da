"""Inspect a journal: ``python -m gateway.journal print|replay|verify PATH`` (and ``bench``).

- ``print PATH``: every record readably (``--json`` for the raw payloads, ``--from N`` / ``--count``).
- ``replay PATH``: replay into a fresh core (read-only: nothing is written) and print the state hash,
  counts and the last sequence number of every broadcast stream. ``--snapshot`` starts from the
  verified snapshot instead of from record 1 (both give the same hash).
- ``verify PATH``: check every record's checksum and numbering; exit 1 on a torn tail, 2 on
  corruption in the middle.
- ``bench``: what each flush policy costs on this disk (appends per second, fsyncs), written to a
  file; ``python -m benchmarks.journal`` adds the end-to-end figures through a gateway.

The tool imports neither the server nor the SDK: ``replay`` rebuilds the state in a
``gateway.journal.replica.Replica``.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path


def _replica(users_file: str | None = None, dcass_reference: str | None = None):
    """The state to replay into: no server, no sockets (``gateway.journal.replica``)."""
    from gateway.config import Settings

    from .replica import Replica
    return Replica(Settings(port=0, users_file=users_file, dcass_reference=dcass_reference or "",
                            stream_heartbeat_seconds=0))


def cmd_print(a) -> int:
    from .codec import readable
    from .format import Reader
    with Reader(a.path) as r:
        shown = 0
        for rec in r.records():
            p = rec.payload
            if rec.n < a.start:
                continue
            if a.count and shown >= a.count:
                break
            shown += 1
            if a.json:
                print(json.dumps(p, sort_keys=True))
                continue
            k = p["k"]
            if k == "open":
                text = (f"journal {p['journal_id']} format {p['format']} start {p['start']} "
                        f"modules {','.join(p['modules'])} created {p.get('created', '?')}"
                        + "".join(f" {name} {v.get('source', '?')} digest {v.get('digest', '?')[:16]}"
                                  for name, v in sorted(p.get("data", {}).items())))
            elif k == "cmd":
                c = p["ctx"]
                who = "operator" if c["operator"] and not c["participant"] else (c["participant"] or "-")
                text = f"{c['now']} {who:<8} {c['user'] or '-':<8} {readable(p['cmd'])}" \
                    + (f" ref {p['ref'][1]}" if "ref" in p else "") + (" (batch)" if p.get("b") else "")
            elif k == "reset":
                text = f"reset to {p['when']}"
            elif k == "password":
                text = f"user {p['user']} changed password on {p['changed']}"
            elif k == "user":
                u = p["user"]
                text = (f"user {u['user']} of {u['participant'] or '-'} profile {u['profile'] or 'full'} "
                        f"functions {'all' if u['functions'] is None else hex(u['functions'])}")
            elif k == "answer":
                text = f"user {p['user']} ref {p['ref']} on {p['date']}: answer of {len(p['frames'])} frame(s)"
            elif k == "batch":
                text = "end of batch"
            elif k == "op":
                text = f"operator {p['user']} {p['msg']} " + " ".join(f"{a}={v}" for a, v in sorted(p["fields"].items()))
            else:
                text = json.dumps(p, sort_keys=True)
            print(f"{rec.n:>8} @{rec.offset:<10} {k:<8} {text}")
        d = r.damage
    if d is not None:
        kind = "corruption" if d.next_valid >= 0 else "torn tail"
        print(f"-- {kind} at byte {d.offset}: {d.reason} ({d.size} bytes to the end"
              + (f"; next valid record at byte {d.next_valid})" if d.next_valid >= 0 else ")"), file=sys.stderr)
        return 2 if d.next_valid >= 0 else 1
    return 0


def cmd_replay(a) -> int:
    from .durability import recover, stream_positions
    from .format import JournalError
    from gateway.clearing.modules import ReferenceDataError
    try:
        gw = _replica(a.users, a.dcass_reference)
    except ReferenceDataError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    try:
        rec = recover(gw, a.path, fd=None, use_snapshot=a.snapshot)
    except JournalError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    st = rec.stats
    out = {"state_hash": gw.core.state_hash(), "business_date": str(gw.core.business_date),
           "business_time": str(gw.core.now), "via": rec.snapshot_note or "full replay",
           "records": st.records, "commands": st.commands, "rejected": st.rejected, "failed": st.failed,
           "resets": st.resets, "passwords": st.passwords, "users": st.users,
           "last_record": rec.next_n - 1,
           "torn_tail_bytes": st.torn_bytes, "seconds": st.seconds, "streams": stream_positions(gw),
           "rejections": st.rejections}
    if a.json:
        print(json.dumps(out, sort_keys=True))
    else:
        print(out["state_hash"])
        for k, v in out.items():
            if k != "state_hash":
                print(f"  {k}: {v}")
    return 0


def cmd_verify(a) -> int:
    from .format import Reader
    n = expected = 0
    with Reader(a.path) as r:
        for rec in r.records():
            expected = expected + 1
            if rec.n != expected:
                print(f"record number {rec.n} at byte {rec.offset}, {expected} expected", file=sys.stderr)
                return 2
            n += 1
        d = r.damage
    if d is None:
        print(f"ok: {n} records, {Path(a.path).stat().st_size} bytes")
        return 0
    if d.next_valid >= 0:
        print(f"corrupt at byte {d.offset} after record {n}: {d.reason}; valid record at byte {d.next_valid}",
              file=sys.stderr)
        return 2
    print(f"torn tail at byte {d.offset} after record {n}: {d.reason} ({d.size} bytes; the gateway cuts it on start)",
          file=sys.stderr)
    return 1


def cmd_bench(a) -> int:
    """Appends per second of each policy on the disk holding --dir (a real Journal, real fsyncs);
    end to end through a gateway: ``python -m benchmarks.journal``."""
    results = disk_bench(a.dir, a.records, a.batch)
    text = json.dumps(results, indent=2, sort_keys=True)
    print(text)
    if a.out:
        Path(a.out).write_text(text + "\n")
    return 0


def disk_bench(directory: str | None, records: int, batch_size: int) -> dict:
    """Appends per second of each flush policy on the disk holding ``directory``."""
    import tempfile
    from datetime import datetime, timedelta

    from gateway.clearing.core import Context, SendClearingMessage

    from .writer import Journal
    results = {}
    base = Path(directory) if directory else Path(tempfile.mkdtemp(prefix="journal-bench-"))
    base.mkdir(parents=True, exist_ok=True)
    start = datetime(2026, 11, 23, 9)
    for policy in ("always", "group"):
        path = base / f"bench-{policy}.journal"
        path.unlink(missing_ok=True)
        fd = Journal.lock(path)
        j = Journal.create(path, fd, start, ["system"], policy=policy)
        cmd = SendClearingMessage(("benchmark line " + "x" * 60,))
        n = records
        t0 = time.perf_counter()
        if policy == "always":
            for i in range(n):
                j.append(cmd, Context(start + timedelta(seconds=i), None, "OPER1", True))
        else:
            # group commit as the gateway does it: the records of one window, then one sync
            class _Manual:  # no event loop here: the window's timer is this loop's batch count
                def call_later(self, *_):
                    return None
            j.loop = _Manual()
            batch = max(1, batch_size)
            for i in range(n):
                j.append(cmd, Context(start + timedelta(seconds=i), None, "OPER1", True))
                if (i + 1) % batch == 0:
                    j.sync()
            j.sync()
        dt = time.perf_counter() - t0
        results[policy] = {"records": n, "seconds": round(dt, 4), "per_second": round(n / dt), "fsyncs": j.syncs,
                           "mean_fsync_ms": round(1000 * j.sync_seconds / max(1, j.syncs), 3),
                           "bytes_per_record": round((j.offset - 16) / (n + 1), 1)}
        j.close()
        path.unlink(missing_ok=True)
    results["group"]["batch"] = batch_size
    results["disk"] = str(base)
    return results


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m gateway.journal", description="Inspect or replay a gateway journal")
    sub = p.add_subparsers(dest="cmd", required=True)
    pr = sub.add_parser("print", help="print the records readably")
    pr.add_argument("path")
    pr.add_argument("--json", action="store_true", help="raw JSON payloads, one per line")
    pr.add_argument("--from", dest="start", type=int, default=0, help="first record number to print")
    pr.add_argument("--count", type=int, default=0, help="print at most this many records")
    rp = sub.add_parser("replay", help="replay into a fresh core (read-only) and print the state hash")
    rp.add_argument("path")
    rp.add_argument("--snapshot", action="store_true", help="start from the verified snapshot when there is one")
    rp.add_argument("--users", default=None, help="users file the gateway ran with (password records)")
    rp.add_argument("--dcass-reference", default=None, metavar="PATH",
                    help="DCASS reference data file the gateway ran with (setting dcass_reference)")
    rp.add_argument("--json", action="store_true", help="one JSON object")
    vf = sub.add_parser("verify", help="check checksums and numbering of every record")
    vf.add_argument("path")
    bn = sub.add_parser("bench", help="measure the flush policies on this disk")
    bn.add_argument("--dir", default=None, help="directory on the disk to measure (default: a temporary one)")
    bn.add_argument("--records", type=int, default=2000)
    bn.add_argument("--batch", type=int, default=50, help="records per group sync")
    bn.add_argument("--out", default=None, help="write the figures to this JSON file")
    a = p.parse_args(argv)
    from gateway.logs import configure
    configure("warning", "console")
    return {"print": cmd_print, "replay": cmd_replay, "verify": cmd_verify, "bench": cmd_bench}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
