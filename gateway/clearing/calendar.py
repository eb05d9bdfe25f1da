"""The one trading calendar: Hong Kong business days from holiday data the gateway loads
(``gateway.refdata.calendar``: the shipped ``data/hk_holidays.toml``)."""
from __future__ import annotations

from datetime import date, timedelta


class Calendar:
    def __init__(self, holidays: set[date]):
        self.holidays = frozenset(holidays)
        self._next: dict[date, date] = {}
        self._previous: dict[date, date] = {}

    @classmethod
    def from_doc(cls, doc: dict) -> "Calendar":
        """From the parsed holiday document: ``{"holidays": {"2026": ["2026-01-01", ...], ...}}``."""
        return cls({date.fromisoformat(d) for year in doc["holidays"].values() for d in year})

    def is_business_day(self, d: date) -> bool:
        return d.weekday() < 5 and d not in self.holidays

    def next_business_day(self, d: date) -> date:
        n = self._next.get(d)
        if n is None:
            n = d + timedelta(days=1)
            while not self.is_business_day(n):
                n += timedelta(days=1)
            self._next[d] = n  # derived from the immutable holiday set: safe to keep
        return n

    def previous_business_day(self, d: date) -> date:
        p = self._previous.get(d)
        if p is None:
            p = d - timedelta(days=1)
            while not self.is_business_day(p):
                p -= timedelta(days=1)
            self._previous[d] = p
        return p

    def on_or_after(self, d: date) -> date:
        """``d`` if it is a business day, else the next business day."""
        return d if self.is_business_day(d) else self.next_business_day(d)

    def add_business_days(self, d: date, n: int) -> date:
        for _ in range(n):
            d = self.next_business_day(d)
        return d
