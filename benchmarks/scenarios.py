"""The scenarios: what each one runs, what it counts, and the target it is judged against.

A scenario names a load generator function (``benchmarks.loadgen.SCENARIOS``) and its parameters.
Scenarios that need messages another part of the project provides (the DCASS transactions and
trade injection) declare ``requires``: a module that must exist; when it does not, the scenario is
reported as "not available" with the reason instead of being run.
"""
from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field


@dataclass
class Scenario:
    name: str
    kind: str                    # loadgen function
    title: str
    unit: str                    # what the throughput counts, per second
    params: dict
    target: float | None = None  # minimum throughput
    target_text: str = ""
    p99_target_us: float | None = None
    requires: tuple = ()         # modules that must exist
    scale: dict = field(default_factory=dict)  # parameters that shrink in a quick run
    max_rss_mib: float | None = None  # server peak memory limit
    targets: tuple = ("gateway", "codec", "bytes")  # where it runs (the ceilings cannot run a DCASS day)

    def available(self) -> str | None:
        """None when it can run, else why not."""
        for mod in self.requires:
            if importlib.util.find_spec(mod) is None:
                return f"needs {mod} (not written yet)"
        from .loadgen import SCENARIOS
        if self.kind not in SCENARIOS:
            return f"load generator {self.kind!r} not written yet"
        return None


_DCASS = ("protocol.messages.dcass", "gateway.handlers.dcass")


def _q(name, title, conns, window, rate, target=None, target_text="", p99=None):
    return Scenario(name, "query", title, "replies/s", {"conns": conns, "window": window, "rate": rate},
                    target, target_text, p99)


ALL: list[Scenario] = [
    _q("query_pipelined_max", "UQ12 round trips, 4 pipelining clients (window 200), closed loop: capacity",
       4, 200, 0, 50_000, ">= 50,000/s"),
    _q("query_pipelined_50k", "UQ12 round trips, 4 pipelining clients, offered 50,000/s", 4, 200, 50_000,
       50_000, ">= 50,000/s at the offered rate"),
    _q("query_inflight1_max", "UQ12 round trips, 20 clients with 1 request in flight, closed loop: capacity",
       20, 1, 0, 30_000, ">= 30,000/s"),
    _q("query_inflight1_30k", "UQ12 round trips, 20 clients with 1 request in flight, offered 30,000/s",
       20, 1, 30_000, 30_000, ">= 30,000/s at the offered rate"),
    _q("query_inflight1_10k", "UQ12 round trips, 20 clients with 1 request in flight, offered 10,000/s",
       20, 1, 10_000, None, "latency at light load", None),
    Scenario("fanout_1", "fanout", "EC3 -> BI27 broadcast fan-out to 1 subscriber, publisher window 200 (capacity)",
             "deliveries/s", {"subs": 1, "window": 200, "rate": 0}),
    Scenario("fanout_10", "fanout", "Broadcast fan-out to 10 subscribers (capacity)", "deliveries/s",
             {"subs": 10, "window": 200, "rate": 0}),
    Scenario("fanout_100", "fanout", "Broadcast fan-out to 100 subscribers (capacity)", "deliveries/s",
             {"subs": 100, "window": 200, "rate": 0}, 2_000_000, ">= 2,000,000 deliveries/s"),
    Scenario("fanout_100_20k", "fanout", "Broadcast fan-out to 100 subscribers, offered 20,000 broadcasts/s "
             "(2,000,000 deliveries/s)", "deliveries/s", {"subs": 100, "window": 500, "rate": 20_000},
             2_000_000, ">= 2,000,000 deliveries/s at the offered rate"),
    Scenario("replay_resume", "replay", "Reconnect with a resume point and replay the whole day's general stream "
             "(100,000 broadcasts) in one subscription", "msgs/s", {"messages": 100_000, "mode": "resume"},
             1_000_000, ">= 1,000,000 msgs/s", scale={"messages": 5_000}),
    Scenario("replay_recovery", "replay", "Replay the same day by recovery queries (UQ20) of 10,000 broadcasts, "
             "2 in flight", "msgs/s", {"messages": 100_000, "mode": "recovery", "range": 10_000, "window": 2},
             1_000_000, ">= 1,000,000 msgs/s", scale={"messages": 5_000, "range": 1_000}),
    Scenario("posttrade", "dcass_posttrade", "DCASS post-trade transactions of one participant: give-up (CD35), "
             "position transfer (CD34), exercise (CC13) in turn, window 50 (capacity)", "transactions/s",
             {"window": 50, "rate": 0}, 20_000, ">= 20,000/s", requires=_DCASS),
    Scenario("posttrade_5k", "dcass_posttrade", "The same transactions offered at 5,000/s", "transactions/s",
             {"window": 500, "rate": 5_000}, 5_000, "p99 < 2 ms at 5,000/s", 2000.0, requires=_DCASS),
    Scenario("posttrade_10k", "dcass_posttrade", "The same transactions offered at 10,000/s", "transactions/s",
             {"window": 500, "rate": 10_000}, 10_000, "p99 < 5 ms at 10,000/s", 5000.0, requires=_DCASS),
    Scenario("trade_injection", "dcass_trades", "Operator trade injection (EC101) rotating over 4 HKCC "
             "participants, each back office subscribed to trades and clearing streams, window 50 (capacity); "
             "latency to each BD6 delivery", "deals/s", {"window": 50, "rate": 0, "participants": 4}, 10_000,
             ">= 10,000/s", requires=_DCASS),
    Scenario("trade_injection_10k", "dcass_trades", "Trade injection offered at 10,000 deals/s", "deals/s",
             {"window": 500, "rate": 10_000, "participants": 4}, 10_000, "p99 < 2 ms at 10,000/s", 2000.0,
             requires=_DCASS),
    Scenario("trade_injection_batch", "dcass_trades", "Operator trade injection by EC104, 100 deals per "
             "injection, rotating over 4 HKCC participants, each back office subscribed, window 8 injections "
             "(capacity); latency to each BD6 delivery", "deals/s",
             {"window": 8, "rate": 0, "participants": 4, "batch": 100}, 50_000, ">= 50,000/s", requires=_DCASS),
    Scenario("trade_injection_batch_10k", "dcass_trades", "EC104 injections of 100 deals offered at 10,000 "
             "deals/s (100 injections/s)", "deals/s", {"window": 50, "rate": 100, "participants": 4, "batch": 100},
             10_000, "p99 < 2 ms at 10,000/s", 2000.0, requires=_DCASS),
    Scenario("full_day", "dcass_day", "A trading day: 500,000 trades among 200 HKCC participants (the benchmark "
             "DCASS reference data), each with a subscribed back office, injected as a trade feed: EC104 of 500 "
             "deals, 4 in flight; first injection to last BD6 (bounded at 120 s)", "trades/s",
             {"trades": 500_000, "participants": 200, "window": 4, "batch": 500, "max_seconds": 120.0},
             500_000 / 15, "<= 15 s (33,333 trades/s), <= 512 MiB", requires=_DCASS, targets=("gateway",),
             max_rss_mib=512,
             scale={"trades": 2_000, "max_seconds": 20.0}),
]

BY_NAME = {s.name: s for s in ALL}
