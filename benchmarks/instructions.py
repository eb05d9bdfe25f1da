"""Instructions per operation on the gateway's hot paths, counted by valgrind (callgrind):
``python -m benchmarks.instructions [--against COMMIT]``.

The socket benchmarks and ``benchmarks.micro`` time the server; on a shared machine their figures
swing with the other work of the machine (2-6x between runs were seen). Counting the CPU
instructions the server executes for an operation does not depend on the machine's load: the same
code and the same workload give the same count, run after run. That makes it the measure to judge
whether a change made a hot path cheaper or dearer, and by how much; the socket benchmarks say what
that is worth in throughput on a given machine.

Each workload is the in-process one of :mod:`benchmarks.micro` (a real ``Gateway``, logged-in
``Connection`` objects, a transport that only counts bytes). It runs twice under callgrind, with
``0`` and with ``n`` reads after the same set-up; the difference divided by ``n`` and by the
operations of a read is the cost of one operation, start-up and set-up excluded. With
``--against COMMIT`` the same workloads run on that commit too (checked out into a temporary git worktree) and the table gives both.

Workloads:

- ``query``: UQ12 (business date), one request per read: one reply, one write each.
- ``query100``: UQ12, 100 requests per read: 100 replies, one write.
- ``publish``: EC3 from the operator, one per read, to 100 subscribers of BI27: 100 writes each.
- ``publish50``: EC3, 50 per read: the broadcasts coalesced into one write per subscriber.
- ``deal50``: EC101 deal injections, 50 per read (one batch of the core), between two participants
  whose back offices subscribe to their trades and clearing streams: per deal.
- ``feed``: EC104 injections of 100 such deals, 5 per read: per deal.
- ``posttrade50``: the post-trade transactions of the ``posttrade`` socket scenario
  (``benchmarks.dcass.posttrade``), 50 per read (one batch of the core): a give-up (CD35) of 1 of a
  futures trade, a position transfer (CD34) of 1 long from HKCC-HOUSE to HKCC-CLIENT01 and an
  exercise request (CC13) of 1 stock option, in turn, by one participant whose position the
  operator first booked with two large deals (as the scenario, no back office subscribed): per
  transaction.
- ``posttrade1``: the same transactions in the same turn, one per read (a batch of one: what a read
  costs when the offered rate is low, the derived work of margin and coverage included): per
  transaction.

Needs ``valgrind`` on the PATH (Debian: ``apt install valgrind``). Each count takes a minute or so
(valgrind runs Python about 50 times slower); the runs of one tree go two at a time.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

WORKLOADS = {"query": 3000, "query100": 300, "publish": 300, "publish50": 40, "deal50": 20, "feed": 2,
             "posttrade50": 20, "posttrade1": 600}
UNIT = {"query": "per query", "query100": "per query", "publish": "per broadcast (100 writes)",
        "publish50": "per broadcast", "deal50": "per deal", "feed": "per deal", "posttrade50": "per transaction",
        "posttrade1": "per transaction"}
PER_RUN = {"query100": 100, "publish50": 50, "deal50": 50, "feed": 500, "posttrade50": 50, "posttrade1": 1}
"""Operations per ``n`` of a workload (requests of a read, deals of the requests of a read)."""

# Runs inside the tree under test (its own gateway and benchmarks.micro), so that an older commit
# is measured with its own code; only micro's small set-up helpers are used.
_WORKLOAD = r'''
import asyncio, inspect, sys
sys.path.insert(0, ".")
from gateway.logs import configure
configure("warning", "console")
from benchmarks import micro
from benchmarks.loadgen import TEXT
from protocol.framing import encode_frame
from protocol.kinds import Kind
from protocol.messages import session as ms
from protocol.messages import system as msys
from protocol.registry import encode_message
from protocol.streams import Stream

which, n = sys.argv[1], int(sys.argv[2])


async def main():
    gw, User = micro._gateway(*([None] if inspect.signature(micro._gateway).parameters else []))
    gw.loop = asyncio.get_running_loop()
    threshold = getattr(gw.settings, "gc_threshold", 0)  # as Gateway.start sets it (older trees: none)
    if threshold:
        import gc
        gc.set_threshold(threshold, *gc.get_threshold()[1:])
    if which.startswith("query"):
        c = micro._connect(gw, User, "Q1", "participant")
        q = encode_frame(Kind.QUERY, encode_message(ms.BusinessDateQuery()), 1)
        chunk = q * (100 if which == "query100" else 1)
        send = c.data_received
    elif which in ("deal50", "feed"):
        from protocol.messages import dcass as md
        op = micro._connect(gw, User, "OP", "operator")
        parts = ["CPA01", "CPB02"]
        for p in parts:
            bo = micro._connect(gw, User, p, "participant")
            bo.data_received(encode_frame(Kind.SUBSCRIBE, encode_message(ms.SubscribeRequest(items=[
                ms.SubscriptionItem(stream=int(Stream.TRADES)), ms.SubscriptionItem(stream=int(Stream.CLEARING))])), 1))
        key = gw.core.module("dcass").ref.by_name["HSI NOV26"].key
        series = md.SeriesKey.__record__.decode(key, 0)[0]
        def deal(i, cls):
            return cls(series=series, price=25000, quantity=1, buyer=parts[i % 2], seller=parts[(i + 1) % 2])
        if which == "deal50":
            chunk = b"".join(encode_frame(Kind.TRANSACTION, encode_message(deal(i, md.InjectDealRequest)), 1)
                             for i in range(50))
        else:
            chunk = encode_frame(Kind.TRANSACTION, encode_message(md.InjectDealsRequest(
                deals=[deal(i, md.DealItem) for i in range(100)])), 1) * 5
        send = op.data_received
    elif which.startswith("posttrade"):
        from protocol.messages import dcass as md
        op = micro._connect(gw, User, "OP", "operator")
        me, other = "CPA01", "CPB02"
        bo = micro._connect(gw, User, me, "participant")
        d = gw.core.module("dcass")
        def first_series(class_id):
            s = next(s for s in d.ref.series.values() if s.cls.id == class_id and not d._is_expired(s))
            return md.SeriesKey.__record__.decode(s.key, 0)[0]
        fut, opt = first_series("HSI-F"), first_series("HKB-O")
        for series, acct in ((fut, "HKCC-HOUSE"), (opt, "SEOCH-HOUSE")):
            op.data_received(encode_frame(Kind.TRANSACTION, encode_message(md.InjectDealRequest(
                series=series, price=100, quantity=10_000_000, buyer=me, seller=other, buyer_account=acct)), 1))
        trade = min(t.trade_no for t in d.trades.values() if t.participant == me and t.account_id == "HKCC-HOUSE")
        cycle = [md.GiveUpRequest(trade_number=trade, quantity=1, to_participant=other, text="benchmark"),
                 md.TransferPositionRequest(series=fut, from_account="HKCC-HOUSE", to_account="HKCC-CLIENT01",
                                            long_quantity=1),
                 md.ExerciseRequest(series=opt, account_id="SEOCH-HOUSE", quantity=1)]
        frames = [encode_frame(Kind.TRANSACTION, encode_message(c), 1) for c in cycle]
        if which == "posttrade50":
            chunks = [b"".join(frames[i % 3] for i in range(50))]
        else:   # one transaction per read, in the same turn
            chunks = frames
        send = bo.data_received
    else:
        op = micro._connect(gw, User, "OP", "operator")
        for i in range(100):
            s = micro._connect(gw, User, f"S{i}", "participant")
            s.data_received(encode_frame(Kind.SUBSCRIBE, encode_message(ms.SubscribeRequest(items=[
                ms.SubscriptionItem(stream=int(Stream.GENERAL), broadcast="BI27")])), 1))
        send_message = getattr(msys, "SendClearingMessageRequest", None) or msys.SendClearingMessage  # older name
        e = encode_frame(Kind.TRANSACTION, encode_message(send_message(lines=[msys.MessageLine(text=TEXT)])), 1)
        chunk = e * (50 if which == "publish50" else 1)
        send = op.data_received
    if not which.startswith("posttrade"):
        chunks = [chunk]
    for i in range(21 if which == "posttrade1" else 20):  # warm: caches, routes, first allocations
        send(chunks[i % len(chunks)])
    if which.startswith("posttrade"):  # every transaction was accepted (a reject costs far less than a booking)
        give_ups, exercises = (20 * 17, 20 * 16) if which == "posttrade50" else (7, 7)   # of the warm-up
        assert (len(d.give_ups), len(d.exercises), len(d.deals)) == (give_ups, exercises, 2 + give_ups), \
            "post-trade transactions rejected"
    for i in range(n):
        send(chunks[i % len(chunks)])

asyncio.run(main())
'''


def count(tree: Path, workload: str, n: int) -> int:
    """Instructions executed by a whole run of ``workload`` with ``n`` operations in ``tree``."""
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "workload.py"
        script.write_text(_WORKLOAD)
        out = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={tmp}/cg.out",
                              sys.executable, str(script), workload, str(n)],
                             cwd=tree, capture_output=True, text=True, check=True,
                             env=dict(os.environ, PYTHONHASHSEED="0"))  # the same hashing in every run
    m = re.search(r"Collected : (\d+)", out.stderr)
    if m is None:
        raise RuntimeError(f"callgrind gave no count for {workload} in {tree}: {out.stderr[-500:]}")
    return int(m.group(1))


def per_operation(tree: Path, workloads: list[str], jobs: int) -> dict[str, int]:
    """Instructions of one operation of each workload: (count(n reads) - count(0)) / n / its
    operations per read."""
    runs = [(w, k) for w in workloads for k in (0, WORKLOADS[w])]
    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        totals = dict(zip(runs, pool.map(lambda r: count(tree, *r), runs)))
    return {w: round((totals[w, WORKLOADS[w]] - totals[w, 0]) / (WORKLOADS[w] * PER_RUN.get(w, 1)))
            for w in workloads}


def _worktree(commit: str, where: Path) -> Path:
    path = where / "tree"
    subprocess.run(["git", "worktree", "add", "--detach", str(path), commit], check=True, capture_output=True)
    return path


def table(results: dict[str, dict[str, int]], workloads: list[str]) -> str:
    names = list(results)
    head = "| workload | " + " | ".join(names) + (" | change |" if len(names) == 2 else " |")
    lines = [head, "|---|" + "---:|" * (len(names) + (1 if len(names) == 2 else 0))]
    for w in workloads:
        cells = [f"{results[n][w]:,}" for n in names]
        row = f"| {w} ({UNIT[w]}) | " + " | ".join(cells)
        if len(names) == 2:
            a, b = results[names[0]][w], results[names[1]][w]
            row += f" | {(b - a) / a:+.1%}"
        lines.append(row + " |")
    return "\n".join(lines)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.instructions", description=__doc__.split("\n\n")[0])
    ap.add_argument("--against", metavar="COMMIT", help="also count the same workloads on this commit")
    ap.add_argument("--workloads", default=",".join(WORKLOADS), help="comma-separated: " + ", ".join(WORKLOADS))
    ap.add_argument("--jobs", type=int, default=2, help="valgrind runs at once")
    a = ap.parse_args(argv)
    workloads = [w for w in a.workloads.split(",") if w]
    unknown = [w for w in workloads if w not in WORKLOADS]
    if unknown:
        ap.error(f"unknown workload {unknown[0]!r}; choose among {', '.join(WORKLOADS)}")
    if shutil.which("valgrind") is None:
        ap.error("valgrind is not on the PATH (Debian: apt install valgrind)")
    here = Path.cwd()
    results: dict[str, dict[str, int]] = {}
    if a.against:
        with tempfile.TemporaryDirectory() as tmp:
            tree = _worktree(a.against, Path(tmp))
            try:
                results[a.against[:10]] = per_operation(tree, workloads, a.jobs)
            finally:
                subprocess.run(["git", "worktree", "remove", "--force", str(tree)], capture_output=True)
    results["this tree"] = per_operation(here, workloads, a.jobs)
    print(table(results, workloads))


if __name__ == "__main__":
    main()
