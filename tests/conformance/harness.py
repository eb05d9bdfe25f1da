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
_USERS: list[str] = []


def cheap_users_file() -> str:
    """The demo users with the same passwords hashed at a tiny scrypt cost: the suite logs in a
    hundred times, and the default cost (tens of ms each) would dominate the run."""
    if not _USERS:
        import re
        import tempfile
        from importlib import resources

        from gateway.auth import hash_password
        text = resources.files("gateway").joinpath("data/users.toml").read_text()
        out, user = [], None
        for line in text.splitlines():
            m = re.match(r"\[users\.(\w+)\]", line)
            if m:
                user = m.group(1)
            if line.startswith("password_hash") and user:
                line = f'password_hash = "{hash_password("pass-" + user, n=16)}"'
            out.append(line)
        f = tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False)
        f.write("\n".join(out) + "\n")
        f.close()
        _USERS.append(f.name)
    return _USERS[0]


def fast_settings(**kw):
    return settings(**{**FAST, "users_file": cheap_users_file(), **kw})


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
