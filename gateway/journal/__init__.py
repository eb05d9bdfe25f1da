"""Durability: the command journal, crash recovery and snapshots (see docs/guides/reliability.md).

The clearing core stays in memory; every command it is fed is appended to a journal file before it
runs (and before any reply or broadcast it causes leaves the gateway). On start the gateway
rebuilds the exact state by replaying the journal, from the last verified snapshot when there is
one. ``python -m gateway.journal print|replay|verify PATH`` inspects a journal.

The journal reaches the gateway only through ``host.JournalHost`` (install a recovered state, a
fresh state on reset, password changes, publish) and ``host.LiveJournalHost`` (flush after a group
commit, fail-stop when the disk fails); it sits below the server and imports neither it nor the SDK.
"""
from __future__ import annotations

from .format import JournalCorrupt, JournalError

__all__ = ["JournalCorrupt", "JournalError", "attach"]


def attach(gateway):
    """Open ``gateway.settings.journal_path``, recover the state into ``gateway`` (a
    ``host.LiveJournalHost``) and hook the journal."""
    from .durability import attach as _attach
    return _attach(gateway)
