"""Exactly-once transactions: the client references seen on the current business date.

A TRANSACTION frame with the header flag ``REFERENCED`` names its request id as its client
reference (docs/guides/sessions.md, "Exactly-once transactions"). The first transaction with a
reference runs as usual and its answer (the REPLY or REJECT frames exactly as sent) is kept here;
a later one with the same reference from the same user on the same business date runs nothing and
gets those frames again, marked with the session status ``ALREADY_ANSWERED``.

The book is part of the durable state: the journal records a reference in the command records
of the transaction (so that a replay knows it was applied) and its answer in an ``answer`` record;
snapshots carry the book (:meth:`ReferenceBook.dump`). It holds one business date: the first
reference seen on a new business date drops the previous date's. Memory is bounded by
``limit`` references per user and business date; beyond it a referenced transaction is refused
with ``REFERENCE_LIMIT`` (a transaction without a reference still runs).
"""
from __future__ import annotations

import base64
from dataclasses import dataclass

from gateway.clearing.errors import code

M = "gateway"
REFERENCE_LIMIT = code(-600530, "REFERENCE_LIMIT",
                       "Too many client references for this user on this business date: send it without a reference "
                       "or on the next business date", M)

DEFAULT_LIMIT = 50_000   # references per user and business date (settings: max_references)

# the answer of a transaction applied before a restart whose answer record did not reach the disk
# (the process died between journaling the command and journaling its answer, so no answer left it)
UNKNOWN = ()


@dataclass(slots=True)
class Entry:
    frames: tuple   # the answer frames as first sent; UNKNOWN while not yet answered


class ReferenceBook:
    """(user, reference) -> the transaction's answer, for one business date."""

    def __init__(self, limit: int = DEFAULT_LIMIT):
        self.limit = limit
        self.business_date = 0
        self.entries: dict[tuple[str, int], Entry] = {}
        self.per_user: dict[str, int] = {}

    def _date(self, business_date: int) -> None:
        if business_date != self.business_date:
            if business_date < self.business_date:
                return  # an older date (never expected): keep the newer book
            self.business_date = business_date
            self.entries.clear()
            self.per_user.clear()

    def lookup(self, user: str, ref: int, business_date: int) -> Entry | None:
        if business_date != self.business_date:
            return None
        return self.entries.get((user, ref))

    def full(self, user: str, business_date: int) -> bool:
        return business_date == self.business_date and self.per_user.get(user, 0) >= self.limit

    def applied(self, user: str, ref: int, business_date: int) -> None:
        """A command of transaction ``ref`` is about to run (journaled): it counts as applied."""
        self._date(business_date)
        if business_date != self.business_date or (user, ref) in self.entries:
            return
        self.entries[(user, ref)] = Entry(UNKNOWN)
        self.per_user[user] = self.per_user.get(user, 0) + 1

    def answered(self, user: str, ref: int, business_date: int, frames: tuple) -> None:
        self.applied(user, ref, business_date)
        e = self.entries.get((user, ref))
        if e is not None:
            e.frames = tuple(frames)

    def clear(self) -> None:
        self.business_date = 0
        self.entries.clear()
        self.per_user.clear()

    def __len__(self) -> int:
        return len(self.entries)

    # ------------------------------------------------------------ snapshots
    def dump(self) -> dict:
        return {"date": self.business_date,
                "entries": [[u, r, encode_frames(e.frames)]
                            for (u, r), e in self.entries.items()]}

    def load(self, plain: dict | None) -> None:
        self.clear()
        if not plain:
            return
        self.business_date = int(plain["date"])
        for u, r, frames in plain["entries"]:
            self.entries[(u, int(r))] = Entry(decode_frames(frames))
            self.per_user[u] = self.per_user.get(u, 0) + 1


def encode_frames(frames) -> list[str]:
    return [base64.b64encode(f).decode() for f in frames]


def decode_frames(plain) -> tuple:
    return tuple(base64.b64decode(f) for f in plain)
