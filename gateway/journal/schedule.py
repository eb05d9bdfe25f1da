"""When a snapshot is due: after so many journal records, so many seconds or so many journal bytes.

The three triggers come from the settings ``snapshot_every`` (records), ``snapshot_seconds`` and
``snapshot_bytes`` (docs/configuration.md); each is off at 0, and snapshots are off when all three
are. Each counts from the last snapshot (or from the start when there is none yet): records and
bytes journaled since, seconds of the gateway's monotonic clock since. A trigger fires when its
threshold is reached exactly or passed, and only when at least one record was journaled since the
last snapshot: a snapshot of the state the previous one already holds would be work repeated.
"""
from __future__ import annotations

from dataclasses import dataclass

from gateway.config import ConfigError


@dataclass(frozen=True)
class SnapshotSchedule:
    records: int = 0      # journal records since the last snapshot (0: not by count)
    seconds: float = 0.0  # seconds since the last snapshot (0: not by time)
    bytes: int = 0        # journal bytes since the last snapshot (0: not by size)

    def __post_init__(self) -> None:
        for key, value in (("snapshot_every", self.records), ("snapshot_seconds", self.seconds),
                           ("snapshot_bytes", self.bytes)):
            if value < 0:
                raise ConfigError(f"setting {key!r}: expected 0 (off) or more, got {value!r}")

    @classmethod
    def from_settings(cls, s) -> "SnapshotSchedule":
        return cls(getattr(s, "snapshot_every", 0), getattr(s, "snapshot_seconds", 0.0),
                   getattr(s, "snapshot_bytes", 0))

    @property
    def enabled(self) -> bool:
        return bool(self.records or self.seconds or self.bytes)

    def due(self, records: int, seconds: float, size: int) -> str | None:
        """Why a snapshot is due ("records", "time" or "size") after ``records`` journal records,
        ``seconds`` and ``size`` journal bytes since the last one; None when it is not."""
        if records <= 0:
            return None
        if self.records and records >= self.records:
            return "records"
        if self.seconds and seconds >= self.seconds:
            return "time"
        if self.bytes and size >= self.bytes:
            return "size"
        return None


OFF = SnapshotSchedule()
