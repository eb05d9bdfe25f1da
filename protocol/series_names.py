"""Series by name: ``"HSI DEC26"`` (a future) or ``"HKB DEC26 72.50 C"`` (an option) to a series key.

A series key (``protocol.messages.dcass.SeriesKey``) holds the exact expiry day, the market and the
commodity code, none of which can be derived from a name without the reference data: the expiry
day follows the exchange's calendar and the codes are the clearing house's. So the name is matched
against the server's own series list, the answer to the reference-data query DQ102 (each of its
items carries the key and the canonical name), and nothing here reads a file or a socket:

    answer = await client.query(SeriesQuery(include_expired=True))      # once; a list of SeriesItem
    key = SeriesKey.parse("HSI DEC26", answer.items)                     # or a SeriesDirectory

(``clients.series.series_directory(client)`` does the query.) Matching ignores case, extra spaces
and trailing zeros of the strike (``72.5`` = ``72.50``), and takes ``C``/``CALL`` and ``P``/``PUT``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Iterable

MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_MONTH = re.compile(r"^(%s)(\d{2}|\d{4})$" % "|".join(MONTHS))
_CALL_PUT = {"C": "C", "CALL": "C", "P": "P", "PUT": "P"}
FORMAT = "SYMBOL MONYY for a future (HSI DEC26), SYMBOL MONYY STRIKE C|P for an option (HKB DEC26 72.50 C)"


class SeriesNameError(ValueError):
    """A series name that is malformed or names no series of the directory. ``known`` lists close
    names (same symbol and month, or the same symbol) when there are any."""

    def __init__(self, message: str, known: tuple[str, ...] = ()):
        self.known = known
        super().__init__(message + (f"; known: {', '.join(known)}" if known else ""))


@dataclass(frozen=True, slots=True)
class SeriesName:
    """A parsed series name; two spellings of the same series compare equal."""

    symbol: str
    year: int                   # four digits
    month: int                  # 1..12
    strike: Decimal | None      # None for a future
    call_put: str               # "C", "P" or "" for a future

    def __str__(self) -> str:
        base = f"{self.symbol} {MONTHS[self.month - 1]}{self.year % 100:02d}"
        return base if self.strike is None else f"{base} {self.strike} {self.call_put}"


def parse_series_name(text: str) -> SeriesName:
    """Parse ``SYMBOL MONYY [STRIKE C|P]``; raises :class:`SeriesNameError` saying what is wrong."""
    if not isinstance(text, str):
        raise SeriesNameError(f"series name must be text ({FORMAT}), got {text!r}")
    parts = text.upper().split()
    if len(parts) not in (2, 4):
        raise SeriesNameError(f"series name {text!r} is not {FORMAT}")
    symbol, month = parts[0], _MONTH.match(parts[1])
    if month is None:
        raise SeriesNameError(f"series name {text!r}: month {parts[1]!r} is not MONYY (e.g. DEC26)")
    year = int(month.group(2))
    year = year + 2000 if year < 100 else year
    mon = MONTHS.index(month.group(1)) + 1
    if len(parts) == 2:
        return SeriesName(symbol, year, mon, None, "")
    try:
        strike = Decimal(parts[2])
    except InvalidOperation:
        strike = None
    if strike is None or not strike.is_finite() or strike < 0:
        raise SeriesNameError(f"series name {text!r}: strike {parts[2]!r} is not a decimal number")
    cp = _CALL_PUT.get(parts[3])
    if cp is None:
        raise SeriesNameError(f"series name {text!r}: {parts[3]!r} is not C or P")
    return SeriesName(symbol, year, mon, strike.normalize(), cp)


class SeriesDirectory:
    """Series names to keys, from the items of a DA102 answer (anything with ``series_symbol`` and
    ``series``). Names the directory cannot parse (an implementation's own naming) are matched
    exactly, ignoring case."""

    def __init__(self, items: Iterable[Any]):
        self._by_name: dict[SeriesName | str, Any] = {}
        self.names: list[str] = []
        for it in items:
            self.names.append(it.series_symbol)
            self._by_name[_key(it.series_symbol)] = it.series

    def __len__(self) -> int:
        return len(self._by_name)

    def key(self, text: str) -> Any:
        """The series key named ``text``; raises :class:`SeriesNameError`."""
        found = self._by_name.get(_plain(text)) if isinstance(text, str) else None
        if found is not None:
            return found
        name = parse_series_name(text)
        found = self._by_name.get(name)
        if found is not None:
            return found
        near = [n for n in self.names if _near(n, name, month=True)] or \
               [n for n in self.names if _near(n, name, month=False)]
        raise SeriesNameError(f"no series {' '.join(text.split())!r} on this server", tuple(near[:12]))


def _key(text: str) -> SeriesName | str:
    try:
        return parse_series_name(text)
    except SeriesNameError:
        return _plain(text)


def _plain(text: str) -> str:
    return " ".join(text.split()).upper()


def _near(known: str, want: SeriesName, month: bool) -> bool:
    k = _key(known)
    if not isinstance(k, SeriesName) or k.symbol != want.symbol:
        return False
    return not month or (k.year, k.month) == (want.year, want.month)


def parse_series_key(cls: type, text: str, series: SeriesDirectory | Iterable[Any]) -> Any:
    """``SeriesKey.parse(text, series)``: the key of the series named ``text`` in ``series`` (a
    :class:`SeriesDirectory` or the items of a DA102 answer)."""
    directory = series if isinstance(series, SeriesDirectory) else SeriesDirectory(series)
    key = directory.key(text)
    return key if isinstance(key, cls) else cls(**{f: getattr(key, f) for f in cls.__record__.field_types})
