"""Broadcast streams: sequencing, the day's log of encoded frames, replay and fan-out bookkeeping.

A stream instance is (stream id, owner): owner is the participant of a dedicated stream, "" for a
public one. Each instance numbers its broadcasts from 1 per business date. A broadcast is encoded
once, as a whole frame, and the same bytes go to every subscriber and into the log, from which
resume replays and recovery queries are served. The log of the previous business date is kept so
that a client which stopped before the roll can still resume.
"""
from __future__ import annotations

import pickle
from dataclasses import dataclass
from datetime import date
from typing import Any, Callable

from protocol.codec import DateInt
from protocol.framing import broadcast_frame
from protocol.streams import DEDICATED, Stream


def ymd_int(d: date) -> int:
    """A business date as the wire's YYYYMMDD integer (stream logs and frame headers)."""
    return DateInt.to_int(d)


@dataclass(slots=True)
class Entry:
    frame: bytes
    code: str                 # message code, e.g. "BD6"
    keys: frozenset           # filter keys (account id, series symbol, ...)


class StreamLog:
    """One stream instance's broadcasts of a business date: ``entries[i]`` has sequence ``i + 1``.

    A log restored from a snapshot keeps its part of the snapshot packed (the pickled columns of
    its frames, codes and filter keys, see :meth:`pack`) and unpacks it into entries the first
    time they are needed (a publish, a replay): a restart does not build the day's hundreds of
    thousands of entries before it can serve, only those of the streams that are used, and a log
    that is not used until the next snapshot goes into it as it came."""

    __slots__ = ("business_date", "_entries", "_packed")

    def __init__(self, business_date: int, entries: list | None = None):
        self.business_date = business_date
        self._entries = [] if entries is None else entries
        self._packed: tuple[int, bytes] | None = None    # (entries, pickled columns) not unpacked yet

    @classmethod
    def restored(cls, business_date: int, count: int, packed: bytes) -> StreamLog:
        lg = cls(business_date)
        lg._packed = (count, packed)
        return lg

    def pack(self) -> tuple[int, bytes]:
        """The number of entries and the pickle of their columns (frames, codes, filter keys)."""
        if self._packed is not None:
            return self._packed
        entries = self._entries
        columns = ([e.frame for e in entries], [e.code for e in entries], [e.keys for e in entries])
        return len(entries), pickle.dumps(columns, protocol=pickle.HIGHEST_PROTOCOL)

    @property
    def entries(self) -> list:
        if self._packed is not None:
            frames, codes, keys = pickle.loads(self._packed[1])
            self._entries = list(map(Entry, frames, codes, keys))
            self._packed = None
        return self._entries

    @property
    def last(self) -> int:
        return self._packed[0] if self._packed is not None else len(self._entries)

    def __eq__(self, other) -> bool:
        return isinstance(other, StreamLog) and (self.business_date, self.entries) == (other.business_date, other.entries)

    def __repr__(self) -> str:
        return f"StreamLog(business_date={self.business_date}, last={self.last})"


class StreamStore:
    def __init__(self, business_date: int):
        self.business_date = business_date
        self.logs: dict[tuple[int, str], StreamLog] = {}
        self.previous: dict[tuple[int, str], StreamLog] = {}
        self.published = 0

    @staticmethod
    def instance(stream: int, owner: str | None) -> tuple[int, str]:
        return (stream, owner or "") if stream in DEDICATED else (stream, "")

    def log(self, key: tuple[int, str]) -> StreamLog:
        lg = self.logs.get(key)
        if lg is None:
            lg = self.logs[key] = StreamLog(self.business_date)
        return lg

    def publish(self, stream: int, owner: str | None, payload: Any, code: str, keys: frozenset,
                frame: Callable[[Any, int, int, int], bytes] = broadcast_frame) -> tuple[tuple, Entry, int]:
        """Log one broadcast, numbered next in its stream instance; its frame is ``frame(payload,
        stream, sequence, business_date)``: the encoded message framed, or, with the frame encoder
        of a broadcast view (``gateway.handlers.ENCODERS``), ``payload`` is the event itself."""
        key = self.instance(stream, owner)
        lg = self.logs.get(key)
        if lg is None:
            lg = self.log(key)
        entries = lg._entries if lg._packed is None else lg.entries   # no property call on the hot path
        seq = len(entries) + 1
        entry = Entry(frame(payload, stream, seq, self.business_date), code, keys)
        entries.append(entry)
        self.published += 1
        return key, entry, seq

    def roll(self, new_date: int) -> None:
        """New business date: today's logs become the previous day's; numbering restarts at 1."""
        self.previous = self.logs
        self.logs = {}
        self.business_date = new_date

    def reset(self, business_date: int) -> None:
        self.logs, self.previous, self.business_date = {}, {}, business_date

    def last_sequence(self, stream: int, owner: str | None) -> int:
        lg = self.logs.get(self.instance(stream, owner))
        return lg.last if lg else 0

    def range(self, stream: int, owner: str | None, business_date: int, first: int, last: int | None) -> tuple[list, int, int]:
        """Entries first..last (inclusive, 1-based) of a day; returns (entries, first, last)."""
        key = self.instance(stream, owner)
        if business_date in (0, self.business_date):
            lg = self.logs.get(key)
        else:
            lg = self.previous.get(key)
            if lg is not None and lg.business_date != business_date:
                lg = None
        if lg is None:
            return [], first, first - 1
        top = lg.last if not last else min(last, lg.last)
        first = max(first, 1)
        return lg.entries[first - 1:top], first, top

    def has_date(self, business_date: int) -> bool:
        if business_date in (0, self.business_date):
            return True
        return any(lg.business_date == business_date for lg in self.previous.values())


def stream_name(stream: int) -> str:
    try:
        return Stream(stream).name.lower()
    except ValueError:
        return str(stream)
