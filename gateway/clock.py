"""Business time, owned by the gateway: Hong Kong local time, from the wall clock or set by the operator."""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

HKT = timezone(timedelta(hours=8), "Asia/Hong_Kong")
UTC_OFFSET_SECONDS = 8 * 3600


class BusinessClock:
    """``now()`` is naive Hong Kong time. Following the wall clock, or frozen at an operator-set time."""

    def __init__(self, start: datetime | None = None, frozen: bool = False, wall=time.time):
        self._wall = wall
        base = start or datetime.fromtimestamp(wall(), HKT).replace(tzinfo=None, microsecond=0)
        self._set(base, frozen)

    def _set(self, when: datetime, frozen: bool) -> None:
        self.frozen = frozen
        self._base = when
        self._wall_at_base = self._wall()

    def now(self) -> datetime:
        if self.frozen:
            return self._base
        return self._base + timedelta(seconds=int(self._wall() - self._wall_at_base))

    def set(self, when: datetime, follow_wall_clock: bool = False) -> None:
        self._set(when, not follow_wall_clock)

    def advance(self, seconds: int) -> datetime:
        self._set(self.now() + timedelta(seconds=seconds), self.frozen)
        return self.now()
