"""Fan-out: core events to broadcast frames, logged in their streams and queued to the subscribers.

``Fanout.publish(events)`` is the hot path of every broadcast: encode the event's message once,
straight from the event (``gateway.handlers.broadcast_view``), append it to its stream
instance's log (which numbers it), and queue the frame to every connection whose subscription matches. The matching
connections of one (stream instance, message type, filter keys) are a :class:`Route`, cached
until any subscription changes. With many subscribers a route queues one shared segment
(``protocol.session.SharedSegment``) that grows in place for the following broadcasts of the
batch; the segment and the connections' outboxes keep the ordering invariant between them.
"""
from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from operator import attrgetter
from typing import TYPE_CHECKING, Any, Callable, Iterable

import structlog

from gateway import handlers as H
from gateway.clearing.core import BusinessDateChanged
from gateway.streams import StreamStore, ymd_int
from protocol.framing import broadcast_frame
from protocol.session import SharedSegment
from protocol.streams import BY_NAME as STREAM_BY_NAME

if TYPE_CHECKING:  # pragma: no cover
    from gateway.connection import Connection

log = structlog.get_logger("gateway")

FILTER_FIELDS = ("account_id", "account", "to_account_id", "series_symbol", "instrument_class", "currency",
                 "clearing_house", "underlying")

_KEYS_BY_VALUES: dict = {}   # filter values -> shared key set (read inline by Fanout.publish), cleared when full
_NO_KEYS: frozenset = frozenset()


@functools.lru_cache(maxsize=100_000)
def _shared_keys(ks: frozenset) -> frozenset:
    """The one shared instance of an equal key set (the first one seen)."""
    return ks


def filter_keys(event: Any) -> frozenset:
    """The event's filter keys, as one shared frozenset per distinct set: every broadcast in the
    stream logs keeps its keys, and a small frozenset costs ~200 bytes (half the memory of a day's
    logs before they were shared)."""
    keys = []
    for f in FILTER_FIELDS:
        v = getattr(event, f, None)
        if isinstance(v, str) and v:
            keys.append(v)
    return _shared_keys(frozenset(keys))


def filter_values_of(cls: type) -> Callable[[Any], Any] | None:
    """The reader of the filter fields an event class has, at once (``attrgetter``: the value of
    one field, the tuple of several); None for a class without any. ``filter_keys_by_values``
    turns what it reads into the shared key set (``publish`` does the two inline: ~0.4 us instead
    of ~2.5 us per broadcast for ``filter_keys``)."""
    if not dataclasses.is_dataclass(cls):   # fields not declared: every filter field, None when absent
        return lambda e: tuple(getattr(e, f, None) for f in FILTER_FIELDS)
    names = {f.name for f in dataclasses.fields(cls)}
    present = tuple(f for f in FILTER_FIELDS if f in names)
    return attrgetter(*present) if present else None


def filter_keys_by_values(values: Any, e: Any) -> frozenset:
    """The shared key set of the filter values ``values`` of event ``e`` (read by
    ``filter_values_of``), remembered by those values; the first time a set is seen, or
    ``filter_keys(e)`` when a value cannot be hashed."""
    if values is None:
        return _NO_KEYS
    try:
        ks = _KEYS_BY_VALUES.get(values)
    except TypeError:  # an unhashable value in a filter field: the general path
        return filter_keys(e)
    if ks is None:
        if len(_KEYS_BY_VALUES) >= 100_000:
            _KEYS_BY_VALUES.clear()
        vals = values if type(values) is tuple else (values,)
        ks = _KEYS_BY_VALUES[values] = _shared_keys(frozenset(v for v in vals if isinstance(v, str) and v))
    return ks


def filter_keys_of(cls: type) -> Callable[[Any], frozenset]:
    """``filter_keys`` specialised for one event class (``filter_values_of`` and
    ``filter_keys_by_values``): gives the same key sets."""
    get = filter_values_of(cls)
    if get is None:
        return lambda e: _NO_KEYS
    return lambda e: filter_keys_by_values(get(e), e)


@dataclass(slots=True)
class Sub:
    handle: int
    stream: int
    broadcast: str
    filter: str

    def matches(self, code: str, keys: frozenset) -> bool:
        return (not self.broadcast or self.broadcast == code) and (not self.filter or self.filter in keys)


# a route with at least this many subscribers shares one growing buffer per batch
SHARED_SEGMENT_MIN = 4


class Route:
    """Where the broadcasts of one (stream instance, message type, filter keys) go: the matching
    subscribers' connections (and their sessions' outboxes)."""

    __slots__ = ("conns", "outboxes", "n", "shared", "seg")

    def __init__(self, conns: tuple):
        self.conns = conns
        self.outboxes = tuple(c.machine.outbox for c in conns)
        self.n = len(conns)
        self.shared = self.n >= SHARED_SEGMENT_MIN
        self.seg: SharedSegment | None = None

    def send(self, frame: bytes, dirty: set) -> None:
        """Queue ``frame`` to every subscriber: grow the open shared segment, or start one, or
        (few subscribers) append it to each outbox."""
        if self.shared:
            seg = self.seg
            if seg is None or not seg.extend_if_open(frame):
                self.seg = SharedSegment.queue(frame, self.outboxes)
                dirty.update(self.conns)
        elif self.n:
            for ob in self.outboxes:
                ob.append(frame)
            dirty.update(self.conns)


class Fanout:
    """The subscriptions of every connection, by stream instance, and the publishing of events."""

    def __init__(self, dirty: set):
        self.dirty = dirty  # connections with output to write at the end of the batch
        self.subscribers: dict[tuple, dict["Connection", list[Sub]]] = {}
        self._routes: dict[tuple, Route] = {}  # cleared on any subscription change
        self._plans: dict[type, tuple] = {}    # event class -> how it is broadcast (see _plan)

    # ------------------------------------------------------------ subscriptions
    def add(self, conn: "Connection", key: tuple, sub: Sub) -> None:
        conn.by_stream.setdefault(key, []).append(sub)
        self.subscribers.setdefault(key, {})[conn] = conn.by_stream[key]
        self._routes.clear()

    def remove(self, conn: "Connection", key: tuple, sub: Sub) -> None:
        lst = conn.by_stream.get(key, [])
        lst.remove(sub)
        if not lst:
            conn.by_stream.pop(key, None)
            self.subscribers.get(key, {}).pop(conn, None)
        self._routes.clear()

    def drop(self, conn: "Connection") -> None:
        """Every subscription of ``conn`` (it closes, or the emulator is reset)."""
        self._routes.clear()
        for key in list(conn.by_stream):
            subs = self.subscribers.get(key)
            if subs is not None:
                subs.pop(conn, None)
        conn.by_stream.clear()
        conn.subs.clear()

    # ------------------------------------------------------------ publishing
    def publish(self, events: Iterable, streams: StreamStore) -> None:
        """Each event's broadcast, logged in ``streams`` and queued to the matching subscribers."""
        subscribers = self.subscribers
        routes = self._routes
        plans = self._plans
        dirty = self.dirty
        log = streams.publish
        shared_keys = _KEYS_BY_VALUES
        for e in events:
            cls = type(e)
            plan = plans.get(cls)
            if plan is None:
                plan = self._plan(cls)
                if plan is None:
                    continue
            stream, code, encode, filter_values, rolls = plan
            if filter_values is None:
                keys = _NO_KEYS
            else:     # filter_keys_by_values inline: this is the hot path
                values = filter_values(e)
                try:
                    keys = shared_keys[values]
                except (KeyError, TypeError):
                    keys = filter_keys_by_values(values, e)
            key, frame, _ = log(stream, e.owner, e, code, keys, encode)   # the frame straight from the event
            subs = subscribers.get(key)
            if subs:
                rk = (key, code, keys)
                route = routes.get(rk)
                if route is None:
                    route = self._route(rk, subs)
                seg = route.seg
                if seg is not None and seg.open == seg.n:
                    seg += frame  # SharedSegment.extend_if_open inline: this is the hot path
                elif route.n == 1:   # one subscriber (a participant's back office): Route.send inline
                    route.outboxes[0].append(frame)
                    dirty.update(route.conns)
                else:
                    route.send(frame, dirty)
            if rolls:
                streams.roll(ymd_int(e.business_date))

    def _plan(self, cls: type) -> tuple | None:
        """How events of ``cls`` become broadcasts: (stream number, message code, frame encoder
        ``encoder(e, stream, sequence, business_date)``, filter values reader (``filter_values_of``),
        whether the event rolls the business date), from its view (``gateway.handlers.broadcast_view``);
        None (logged) for a class without one."""
        view = H.ENCODERS.get(cls)
        if view is None:
            log.error("unmapped_event", event_class=cls.__name__)
            return None
        spec, payload, frame = view
        if frame is None:    # a message with items: the payload, then its frame
            def frame(e, stream, sequence, business_date, payload=payload):
                return broadcast_frame(payload(e), stream, sequence, business_date)
        plan = (STREAM_BY_NAME[spec.stream], spec.code, frame, filter_values_of(cls), issubclass(cls, BusinessDateChanged))
        self._plans[cls] = plan
        return plan

    def _route(self, rk: tuple, subs: dict) -> Route:
        """The subscribers whose subscription matches the broadcast's type and filter keys."""
        _, code, keys = rk
        route = Route(tuple(conn for conn, lst in subs.items() if any(sub.matches(code, keys) for sub in lst)))
        if len(self._routes) >= 65536:
            self._routes.clear()
        self._routes[rk] = route
        return route
