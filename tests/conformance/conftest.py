"""Run the conformance runner in-process against our gateway (and broken variants of it).

The gateway listens on a free loopback port with short heartbeats, a small replay limit, a small
throttle and few subscriptions, so that every case can reach every limit in well under a second.
The runner talks to it only over the socket, as it would to any other implementation.
"""
from __future__ import annotations

import contextlib

from conformance import Config, Runner, RunResult, load_cases, select
from tests.conftest import settings

FAST = dict(heartbeat_interval=0.2, idle_heartbeats=3, max_replay=4, throttle_per_second=50, max_subscriptions=4)


def fast_settings(**kw):
    return settings(**{**FAST, **kw})


@contextlib.asynccontextmanager
async def serving(gateway_cls=None, **kw):
    """A gateway (or a subclass: a deliberately broken variant) on a free port."""
    from gateway.server import Gateway
    gw = (gateway_cls or Gateway)(fast_settings(**kw))
    await gw.start()
    try:
        yield gw
    finally:
        await gw.stop()


async def run_cases(port: int, include: list[str] | None = None, exclude: list[str] | None = None,
                    **config) -> RunResult:
    cases = select(load_cases(), include, exclude)
    assert cases, f"no case selected by {include}"
    return await Runner(Config(port=port, timeout=config.pop("timeout", 1.5), **config)).run(cases)


def outcome(run: RunResult) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {"pass": set(), "fail": set(), "skip": set(), "error": set()}
    for r in run.results:
        out[r.status].add(r.case.id)
    return out


def explain(run: RunResult) -> str:
    """Failure details for assertion messages."""
    lines = []
    for r in run.results:
        if r.status in ("fail", "error"):
            lines.append(f"{r.status.upper()} {r.case.id}: {r.failure.text() if r.failure else r.reason}")
    return "\n".join(lines) or "(no failure)"
