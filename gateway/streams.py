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
    """One logged broadcast, as a record (the logs keep their broadcasts in columns)."""

    frame: bytes
    code: str                 # message code, e.g. "BD6"
    keys: frozenset           # filter keys (account id, series symbol, ...)


class StreamLog:
    """One stream instance's broadcasts of a business date, in three columns: ``frames[i]``,
    ``codes[i]`` (message code) and ``keys[i]`` (filter keys) are those of sequence ``i + 1``. A
    broadcast costs three list slots, not a record: a busy day logs millions of them, and they all
    stay for replays.

    A log restored from a snapshot keeps its part of the snapshot packed (the pickled columns, see
    :meth:`pack`): broadcasts published after it are appended behind it, and it is unpacked only
    when its columns are read (a replay, a recovery query). A restart does not unpickle the day's
    hundreds of thousands of frames before it can serve, nor while it replays the journal's tail,
    and a log that is not read until the next snapshot goes into it packed."""

    __slots__ = ("business_date", "_columns", "_packed", "_base")

    def __init__(self, business_date: int, entries: list | None = None):
        self.business_date = business_date
        self._columns: tuple[list, list, list] = ([], [], [])   # the broadcasts after the packed ones
        self._packed: tuple[int, bytes] | None = None    # (broadcasts, pickled columns) not unpacked yet
        self._base = 0                                    # the number of packed broadcasts
        for e in entries or ():
            self.append(e.frame, e.code, e.keys)

    @classmethod
    def restored(cls, business_date: int, count: int, packed: bytes) -> StreamLog:
        lg = cls(business_date)
        lg._packed, lg._base = (count, packed), count
        return lg

    def pack(self) -> tuple[int, bytes]:
        """The number of broadcasts and the pickle of the columns (frames, codes, filter keys)."""
        if self._packed is not None and not self._columns[0]:
            return self._packed
        frames, codes, keys = self.columns
        return len(frames), pickle.dumps((frames, codes, keys), protocol=pickle.HIGHEST_PROTOCOL)

    @property
    def columns(self) -> tuple[list, list, list]:
        """(frames, codes, filter keys), the packed part unpacked in front at the first read."""
        if self._packed is not None:
            packed = pickle.loads(self._packed[1])
            for column, after in zip(packed, self._columns):
                column += after
            self._columns = packed
            self._packed, self._base = None, 0
        return self._columns

    def append(self, frame: bytes, code: str, keys: frozenset) -> int:
        """Log the next broadcast (behind the packed part, if any); its sequence number."""
        frames, codes, keyss = self._columns
        frames.append(frame)
        codes.append(code)
        keyss.append(keys)
        return self._base + len(frames)

    @property
    def entries(self) -> list[Entry]:
        """Every broadcast as an :class:`Entry` (a copy: tools and tests; the hot paths use the columns)."""
        return list(map(Entry, *self.columns))

    @property
    def last(self) -> int:
        return self._base + len(self._columns[0])

    def __eq__(self, other) -> bool:
        return isinstance(other, StreamLog) and (self.business_date, self.columns) == (other.business_date, other.columns)

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
                frame: Callable[[Any, int, int, int], bytes] = broadcast_frame) -> tuple[tuple, bytes, int]:
        """Log one broadcast, numbered next in its stream instance: returns (instance, frame,
        sequence). The frame is ``frame(payload, stream, sequence, business_date)``: the encoded
        message framed, or, with the frame encoder of a broadcast view
        (``gateway.handlers.ENCODERS``), ``payload`` is the event itself."""
        key = self.instance(stream, owner)
        lg = self.logs.get(key)
        if lg is None:
            lg = self.log(key)
        frames, codes, keyss = lg._columns   # behind the packed part, if any (no call on the hot path)
        seq = lg._base + len(frames) + 1
        f = frame(payload, stream, seq, self.business_date)
        frames.append(f)
        codes.append(code)
        keyss.append(keys)
        self.published += 1
        return key, f, seq

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

    def columns(self, stream: int, owner: str | None, business_date: int, first: int,
                last: int | None) -> tuple[tuple[list, list, list], int, int]:
        """Broadcasts first..last (inclusive, 1-based) of a day as three columns (frames, message
        codes, filter keys); returns (columns, first, last)."""
        key = self.instance(stream, owner)
        if business_date in (0, self.business_date):
            lg = self.logs.get(key)
        else:
            lg = self.previous.get(key)
            if lg is not None and lg.business_date != business_date:
                lg = None
        if lg is None:
            return ([], [], []), first, first - 1
        top = lg.last if not last else min(last, lg.last)
        first = max(first, 1)
        frames, codes, keys = lg.columns
        return (frames[first - 1:top], codes[first - 1:top], keys[first - 1:top]), first, top

    def range(self, stream: int, owner: str | None, business_date: int, first: int, last: int | None) -> tuple[list, int, int]:
        """:meth:`columns` as :class:`Entry` records; returns (entries, first, last)."""
        columns, first, last = self.columns(stream, owner, business_date, first, last)
        return list(map(Entry, *columns)), first, last

    def has_date(self, business_date: int) -> bool:
        if business_date in (0, self.business_date):
            return True
        return any(lg.business_date == business_date for lg in self.previous.values())


def stream_name(stream: int) -> str:
    try:
        return Stream(stream).name.lower()
    except ValueError:
        return str(stream)
