"""Enumerated codes shared by several messages."""
from __future__ import annotations

import enum


class Role(enum.IntEnum):
    PARTICIPANT = 1      # a DCASS/CCMS clearing participant's user
    OPERATOR = 2         # the emulator's operator (exchange-side controls)
    CLEARING_MEMBER = 3  # an OTC Clear clearing member's user


class Subscription(enum.IntEnum):
    SUBSCRIBE = 1
    UNSUBSCRIBE = 2
