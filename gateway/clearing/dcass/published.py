"""What DCASS publishes for the other modules of the core: the event types they may react to.

A consumer imports the types from here (``from ..dcass.published import MarginChanged``) and
matches them by type, so a renamed event or field breaks an import and a test, never silently
the reaction. Every DCASS event also reaches the gateway as a broadcast; only those listed here are
an interface between modules.
"""
from __future__ import annotations

from .events import MarginChanged

PUBLISHED: tuple[type, ...] = (MarginChanged,)
"""Event types other modules react to (CCMS: a margin requirement of a DCASS account)."""
