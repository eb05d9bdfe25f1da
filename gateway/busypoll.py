"""Busy polling: after traffic, keep the event loop polling the sockets instead of sleeping.

An event loop with nothing to do blocks in the kernel (``epoll_wait``); the next request wakes the
process, and on a virtual machine whose CPU has gone idle meanwhile that wake-up can take several
milliseconds. Under steady traffic at a few thousand requests a second the gaps between requests are
short, so those wake-ups, not the work, make the tail of the latency: the benchmark's codec ceiling,
a server that does no work, answers 5,000 requests a second with a p99 of 3-6 ms when it sleeps
between them and 0.3 ms when it polls (docs/performance.md).

:class:`BusyPoll` keeps the loop polling (a callback that schedules itself, so each turn of the
loop polls the sockets without blocking) for ``window`` seconds after the last read, then lets it
sleep again: an idle gateway costs nothing, a busy one spends the gaps of its core polling. It is
what a latency-sensitive service does with a core to itself, and is off by default (setting
``busy_poll_us``)."""
from __future__ import annotations

import asyncio


class BusyPoll:
    """Polls the loop for ``window`` seconds after each :meth:`touch` (called on every read)."""

    __slots__ = ("loop", "window", "until", "seen", "spinning", "turns")

    def __init__(self, loop: asyncio.AbstractEventLoop, window: float):
        if window <= 0:
            raise ValueError(f"busy polling needs a window above 0 seconds, got {window!r}")
        self.loop = loop
        self.window = window
        self.until = 0.0      # loop time until which it polls
        self.seen = False     # a read since the last turn: the window starts again
        self.spinning = False
        self.turns = 0        # turns of the loop spent polling (for tests and the operator)

    def touch(self) -> None:
        """Traffic: poll for another ``window`` seconds from the next turn."""
        self.seen = True
        if not self.spinning:
            self.spinning = True
            self.loop.call_soon(self._turn)

    def _turn(self) -> None:
        now = self.loop.time()
        if self.seen:
            self.seen = False
            self.until = now + self.window
        if now < self.until:
            self.turns += 1
            self.loop.call_soon(self._turn)
        else:
            self.spinning = False
