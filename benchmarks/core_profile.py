"""In-process profile of the clearing core (no sockets, no gateway): injected deals and
post-trade transactions through ``ClearingCore.execute`` with every module of the gateway.

    python -m benchmarks.core_profile                 # deals/s, post-trade tx/s, digests
    python -m benchmarks.core_profile --profile 25    # plus the top 25 functions (cProfile)
    python -m benchmarks.core_profile --deals 5000 --posttrade 2000
    python -m benchmarks.core_profile --batch 50      # commands in batches of 50 (as pipelined reads)

The digests (state hash, a hash of every event in order) let a change be checked for identical
results: same commands, same digests (with ``--batch 1``, the same digests as without batches; with
larger batches fewer derived events are told, and what records them differs: the zero records of
requirements that fell back, when a call was issued). Times are the process CPU time
(the machine is shared).
"""
from __future__ import annotations

import argparse
import cProfile
import hashlib
import pstats
import time
from datetime import datetime, timedelta

from gateway.clearing import dcass as dc
from gateway.clearing.collateral.messages import DepositCash
from gateway.clearing.core import ClearingCore, Context
from gateway.refdata import module_factories

START = datetime(2026, 11, 2, 9, 0)   # Monday
SERIES = ["HSI NOV26", "HSI DEC26", "HSI NOV26 25000 C", "HSI NOV26 24000 P", "HSI DEC26 26000 C"]
PRICES = {"HSI NOV26": 25000, "HSI DEC26": 25100, "HSI NOV26 25000 C": 300, "HSI NOV26 24000 P": 150,
          "HSI DEC26 26000 C": 120}


class Run:
    def __init__(self) -> None:
        self.core = ClearingCore(START, module_factories=module_factories())
        self.d = self.core.module("dcass")
        self.now = START.replace(hour=10)
        self.log: list = []   # events of every command, hashed after the timed part
        self.batch = 0        # commands per batch (0: each alone, no batch)
        self.in_batch = 0

    def end_batch(self) -> None:
        if self.in_batch:
            self.log.append(self.core.end_batch())
            self.in_batch = 0

    def ctx(self, participant: str | None) -> Context:
        self.now += timedelta(milliseconds=1)
        if participant is None:
            return Context(self.now, None, "op", True)
        return Context(self.now, participant, participant.lower())

    def run(self, cmd, participant: str | None = None):
        if self.batch and not self.in_batch:
            self.core.begin_batch()
        try:
            out = self.core.execute(cmd, self.ctx(participant))
            self.log.append(out.events)
        finally:
            if self.batch:
                self.in_batch += 1
                if self.in_batch >= self.batch:
                    self.end_batch()
        return out

    def setup(self) -> None:
        """Some collateral, so coverage allocates (partly covered, then short as positions grow)."""
        for p, acc, ccy, amount in (("CPA01", "HOUSE", "HKD", 50_000_000), ("CPA01", "HOUSE", "USD", 2_000_000),
                                    ("CPA01", "CLIENT", "HKD", 30_000_000), ("CPB02", "HOUSE", "HKD", 40_000_000),
                                    ("CPB02", "CLIENT", "EUR", 10_000_000)):
            self.run(DepositCash("HKCC", acc, ccy, amount, p), None)

    def deal_cmds(self, n: int) -> list:
        keys = [self.d.ref.by_name[s].key for s in SERIES]
        cmds = []
        for i in range(n):
            j = i % len(SERIES)
            buyer, seller = ("CPA01", "CPB02") if (i // len(SERIES)) % 3 else ("CPB02", "CPA01")
            acct_b = "HKCC-HOUSE" if i % 4 else ""
            acct_s = "HKCC-CLIENT01" if i % 5 else ""
            cmds.append(dc.InjectDeal(keys[j], PRICES[SERIES[j]], 1 + i % 7, buyer, seller, acct_b, acct_s))
        return cmds


def posttrade_cmds(r: Run, n: int) -> list:
    """Transfers between own accounts and open/close adjustments of the day's trades."""
    keys = [r.d.ref.by_name[s].key for s in SERIES]
    cmds = []
    trades = [t for _, t in sorted(r.d.trades.items()) if t.available >= 1 and t.account_id == "HKCC-HOUSE"]
    ti = 0
    for i in range(n):
        if i % 2 == 0:
            k = keys[i % len(keys)]
            src, dst = ("HKCC-HOUSE", "HKCC-MM") if (i // 2) % 2 == 0 else ("HKCC-MM", "HKCC-HOUSE")
            cmds.append(("CPA01", ("transfer", k, src, dst)))
        else:
            while ti < len(trades) and trades[ti].participant != "CPA01":
                ti += 1
            if ti >= len(trades):
                ti = 0
                continue
            cmds.append(("CPA01", ("oc", trades[ti].trade_no)))
            ti += 1
    return cmds


def run_posttrade(r: Run, items: list) -> int:
    from gateway.clearing.errors import ClearingError
    done = 0
    for participant, item in items:
        if item[0] == "transfer":
            _, k, src, dst = item
            p = r.d.positions.get((participant, src, k))
            if p is None or not (p.long or p.short):
                continue
            cmd = dc.TransferPosition(participant, k, src, dst, min(p.long, 1), min(p.short, 1) if not p.long else 0)
        else:
            t = r.d.trades[item[1]]
            if t.available < 1:
                continue
            cmd = dc.OpenCloseAdjustment(participant, t.trade_no, 1,
                                         dc.OpenClose.CLOSE if t.open_close is dc.OpenClose.OPEN else dc.OpenClose.OPEN)
        try:
            r.run(cmd, participant)
            done += 1
        except ClearingError:
            pass
    return done


def main(argv=None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--deals", type=int, default=5000)
    ap.add_argument("--posttrade", type=int, default=2000)
    ap.add_argument("--profile", type=int, default=0, help="print the top N functions by cumulative time")
    ap.add_argument("--sort", default="tottime")
    ap.add_argument("--batch", type=int, default=0, help="commands per batch of the core (0: no batches)")
    a = ap.parse_args(argv)

    r = Run()
    r.setup()
    r.batch = a.batch
    cmds = r.deal_cmds(a.deals)
    prof = cProfile.Profile() if a.profile else None
    if prof:
        prof.enable()
    t0 = time.process_time()
    for c in cmds:
        r.run(c)
    r.end_batch()
    t1 = time.process_time()
    items = posttrade_cmds(r, a.posttrade)
    t2 = time.process_time()
    done = run_posttrade(r, items)
    r.end_batch()
    t3 = time.process_time()
    if prof:
        prof.disable()
    print(f"deals: {a.deals} in {t1 - t0:.3f} s = {a.deals / (t1 - t0):,.0f} deals/s "
          f"({(t1 - t0) / a.deals * 1e6:.0f} us each)")
    print(f"post-trade: {done} in {t3 - t2:.3f} s = {done / (t3 - t2):,.0f} tx/s "
          f"({(t3 - t2) / max(done, 1) * 1e6:.0f} us each)")
    h = hashlib.sha256()
    n = 0
    for evs in r.log:
        for e in evs:
            h.update(repr(e).encode())
            n += 1
    print(f"events: {n}  events digest: {h.hexdigest()[:16]}  state hash: "
          f"{r.core.state_hash()[:16]}")
    if prof:
        pstats.Stats(prof).sort_stats(a.sort).print_stats(a.profile)


if __name__ == "__main__":
    main()
