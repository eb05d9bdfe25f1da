"""What the journal needs of the gateway it keeps durable (``gateway.server.Gateway`` provides it;
so does ``gateway.journal.replica.Replica``, the state without a server that the command-line tool
replays into). The journal reads the state and hands recovered state back through these methods:
it never assigns the gateway's attributes nor reaches into its connections."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, Iterable, Protocol

from gateway.clearing.core import ClearingCore
from gateway.references import ReferenceBook
from gateway.streams import StreamStore


class JournalHost(Protocol):
    settings: Any               # gateway.config.Settings: users_file, journal_* and snapshot_every
    module_factories: list      # what the core is composed of (journal and snapshots record it)
    core: ClearingCore          # read only: the journal hands a new one over with install_state
    streams: StreamStore        # read only, as core
    references: ReferenceBook   # exactly-once client references: the journal fills and restores it

    def install_state(self, core: ClearingCore, streams: StreamStore | None = None) -> None:
        """Use a recovered core (and the stream logs of a snapshot) from now on."""

    def fresh_state(self, when: datetime) -> None:
        """A fresh core at ``when``, streams from 1, the users as shipped (an operator reset)."""

    def set_password(self, user: str, password_hash: str, changed: date) -> None:
        """A password change recovered from the journal."""

    def put_user(self, user: Any) -> None:
        """A user created or changed by an Administrator (a ``gateway.auth.User``), recovered from the
        journal: it replaces any user of that id."""

    def publish(self, events: Iterable) -> None:
        """Log the events' broadcasts in their streams (and send them to any subscriber)."""


class LiveJournalHost(JournalHost, Protocol):
    """A host that serves connections: the journal also starts its clock, flushes its output after
    a group commit, and stops it when the disk fails."""

    def set_clock(self, when: datetime, follow_wall_clock: bool | None = None, only_forward: bool = False) -> None:
        """Business time ``when`` (``only_forward``: unless the clock is already past it)."""

    def flush(self) -> None:
        """Write the output held for the journal's group commit."""

    def fail_stop(self) -> None:
        """The journal cannot write: drop all output, end every connection, stop listening."""
