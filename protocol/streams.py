"""Broadcast streams: each has its own sequence numbers, per business date, starting at 1.

Dedicated streams exist once per participant (each participant sees only its own instance, with
its own numbering); public streams are the same for every subscriber.
"""
from __future__ import annotations

import enum


class Stream(enum.IntEnum):
    GENERAL = 1      # public: heartbeats (BI9), clearing messages (BI27), business date changes
    TRADES = 2       # dedicated: trades (BD6), give-ups (BD29), trade changes (BD39)
    CLEARING = 3     # dedicated: positions, exercise, margin, obligations (BD...)
    COLLATERAL = 4   # dedicated: CCMS collateral, coverage, instructions (BF...)
    SETTLEMENT = 5   # dedicated: OTC Clear settlement (BS...)


DEDICATED = frozenset({Stream.TRADES, Stream.CLEARING, Stream.COLLATERAL, Stream.SETTLEMENT})

BY_NAME = {s.name.lower(): s for s in Stream}
