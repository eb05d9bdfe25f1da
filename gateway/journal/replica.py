"""The gateway's state without a server: a clearing core, its broadcast stream logs and its users,
for replaying a journal outside a running gateway (``python -m gateway.journal replay``). It
imports neither the server nor any client, so the journal package stays below the server."""
from __future__ import annotations

from datetime import date, datetime
from typing import Iterable

from gateway import handlers as H
from gateway.auth import UserDirectory
from gateway.clearing.core import ClearingCore
from gateway.config import Settings
from gateway.fanout import Fanout
from gateway.references import ReferenceBook
from gateway.streams import StreamStore, ymd_int


class Replica:
    """A :class:`~gateway.journal.host.JournalHost` with no connections: broadcasts are logged in
    their streams (so sequence numbers come out as live) and sent nowhere."""

    def __init__(self, settings: Settings):
        from gateway.refdata import module_factories
        from gateway.clock import BusinessClock
        self.settings = settings
        self.module_factories = module_factories(settings)
        start = datetime.fromisoformat(settings.start_business_time) if settings.start_business_time else None
        self.core = ClearingCore(BusinessClock(start, frozen=settings.freeze_clock).now(),
                                 module_factories=self.module_factories)
        self.users = UserDirectory.load(settings.users_file)
        self.streams = StreamStore(ymd_int(self.core.business_date))
        self.references = ReferenceBook(settings.max_references)
        self.fanout = Fanout(set())  # no subscribers: broadcasts are only logged
        H.load_all()

    def install_state(self, core: ClearingCore, streams: StreamStore | None = None) -> None:
        self.core = core
        if streams is not None:
            self.streams = streams

    def fresh_state(self, when: datetime) -> None:
        self.core = ClearingCore(when, module_factories=self.module_factories)
        self.streams.reset(ymd_int(self.core.business_date))
        self.users = UserDirectory.load(self.settings.users_file)
        self.references.clear()

    def set_password(self, user: str, password_hash: str, changed: date) -> None:
        u = self.users.get(user)
        if u is not None:
            u.password_hash = password_hash
            u.password_changed = changed

    def put_user(self, user) -> None:
        self.users.users[user.user] = user

    def publish(self, events: Iterable) -> None:
        self.fanout.publish(events, self.streams)
