"""Derived state: what a module computes from its primary state, once per batch of commands.

A command changes primary state (trades, positions, holdings, instructions) and marks what it
touched *dirty* in its module's one :class:`Derived` object. At the end of the batch the core
asks every module to ``settle``: the derived object recomputes what is dirty, from the state after
the whole batch, and returns the events of what changed (``MarginChanged``, ``CoverageChanged``,
``MarginCallChanged``). ``verify()`` recomputes everything from scratch and compares: the tests
run it after every batch.

A derived object is never part of a journal snapshot: it pickles as an empty object of its class
that starts cold and rebuilds what it needs from the primary state on first use (see
:meth:`Derived.__reduce__`).
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any


class DerivedStateMismatch(AssertionError):
    """``verify()`` found incrementally kept derived state that differs from a cold recomputation."""


class Derived(ABC):
    """Base of the derived-state object of one module (``module`` is its owner)."""

    def __init__(self, module: Any) -> None:
        self.module = module
        self.clear()

    def clear(self) -> None:
        """Forget everything computed (it is rebuilt from the primary state when needed)."""

    def __reduce__(self):
        # kept out of snapshots: a restored module gets a cold object of the same class
        return (type(self), (self.module,))

    @property
    @abstractmethod
    def dirty(self) -> bool:
        """Something is marked to be recomputed."""

    @abstractmethod
    def verify(self) -> None:
        """Recompute everything cold and compare; raise :class:`DerivedStateMismatch` on a difference."""


def mismatch(what: str, kept: Any, cold: Any) -> DerivedStateMismatch:
    return DerivedStateMismatch(f"{what}: kept {kept!r} != recomputed {cold!r}")
