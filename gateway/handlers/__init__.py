"""Routing tables: request message class -> handler, core event class -> broadcast message.

A capability adds a module here (``gateway/handlers/<capability>.py``) that uses the two
decorators; every module of this package is imported on start. See docs/dev/extending.md.
"""
from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Callable, Protocol

if TYPE_CHECKING:  # pragma: no cover
    from datetime import date

    from gateway.auth import User
    from gateway.clearing.core import Outcome
    from gateway.faults import Faults
    from gateway.monitor import Monitor

HANDLERS: dict[type, Callable] = {}
BROADCASTS: dict[type, Callable] = {}
"""Event class -> ``fn(event) -> message``: the broadcast as a message object, decoded from the bytes
of its view (:func:`broadcast_view`), for tools and tests; the gateway never builds one."""


def handler(message_cls: type) -> Callable:
    """Register ``fn(msg, ctx: RequestContext) -> answer`` for a request message class.

    The answer is a message object (the REPLY; for a query with many items it is cut into
    segments automatically), or None for a transaction (answered with UR1 ack), or an
    :class:`OffLoop` when slow work (a password hash) must run first, off the event loop. Raise
    ``ClearingError`` to reject: the gateway answers with a REJECT carrying its code and the
    byte offset of ``error.field`` in the request."""
    def deco(fn: Callable) -> Callable:
        if message_cls in HANDLERS:
            raise ValueError(f"{message_cls.__name__} has two handlers")
        HANDLERS[message_cls] = fn
        return fn
    return deco


ENCODERS: dict[type, tuple[Any, Callable[[Any], bytes], Callable[[Any, int, int, int], bytes] | None]] = {}
"""Event class -> (message spec, payload encoder, frame encoder): the broadcasts declared by
:func:`broadcast_view`. The frame encoder (``protocol.framing.broadcast_encoder``; None for a
message with items) gives the whole BROADCAST frame: ``frame(e, stream, sequence, business_date)``."""


def broadcast_view(event_cls: type, message_cls: type, view: dict[str, Any] | None = None) -> None:
    """Declare that ``event_cls`` is broadcast as ``message_cls`` with each field read straight from
    the event: ``view`` maps a field's path (``trade.series``) to the event attribute it is read
    from (dotted: ``trade.price``, an attribute of an attribute), or to ``(convert, attribute)``, or to a ``protocol.codec.Constant``; a nested record to
    ``(attribute, {...})``, read from that attribute with its own view (as the items of a message);
    a tuple of paths, as one key, to ``(convert, attribute)`` that gives those fields' values in one
    call. Any other field is the event's attribute of its name (see
    ``protocol.codec.Record.encoder``). The payload is encoded by code generated from the message's
    declaration, with no message object in between (the hot path of every broadcast);
    ``BROADCASTS[event_cls]`` still gives the message object, decoded from those bytes."""
    from protocol.framing import broadcast_encoder
    from protocol.registry import decode_message
    spec = message_cls.__message__
    encode = spec.record.encoder(view or {})
    payload_type = spec.type
    frame = broadcast_encoder(payload_type, spec.record, view or {})

    def payload(e: Any) -> bytes:
        return payload_type + encode(e)

    def message(e: Any):
        return decode_message(payload(e))
    if event_cls in ENCODERS:
        raise ValueError(f"{event_cls.__name__} has two broadcast views")
    BROADCASTS[event_cls] = message
    ENCODERS[event_cls] = (spec, payload, frame)


@dataclass(frozen=True)
class OffLoop:
    """A handler's answer that needs slow, self-contained work first (scrypt for UC500/UC501).

    The gateway runs ``work(*args)`` in a worker thread with the connection's reading paused (as
    login and UC1 do), then calls ``then(result)`` on the event loop, which answers as a handler
    does (a message, None, or raise ``ClearingError``). ``work`` must not touch the gateway or the
    core; ``then`` must check again what may have changed meanwhile (another request may have
    run while the work was done)."""

    work: Callable
    args: tuple
    then: Callable


class GatewayServices(Protocol):
    """All a handler may ask of the gateway (``gateway.server.Gateway`` provides it). Handlers read
    the core's state only through queries."""

    def execute(self, command: Any, rctx: "RequestContext") -> "Outcome":
        """Run a command in the core: journaled first, its events broadcast."""

    def query(self, q: Any, rctx: "RequestContext") -> Any:
        """Ask the core without changing it."""

    def set_clock(self, when: datetime, follow_wall_clock: bool | None = None) -> None:
        """Set the business clock (``None``: keep following the wall clock unless it is frozen)."""

    def reset(self, when: datetime, rctx: "RequestContext") -> None:
        """Operator reset: a fresh core at ``when``, streams from 1, other sessions logged out."""

    # ---- the operator's tools that act on users and sessions, not on the core
    faults: "Faults"     # certification faults on one user's output (gateway.faults)
    monitor: "Monitor"   # who is connected, and a user's recent frames (gateway.monitor)

    def user(self, user_id: str) -> "User | None":
        """The user of that id (None: no such user)."""

    def all_users(self) -> "list[User]":
        """Every user of the users file and those created since."""

    def add_user(self, user: "User") -> None:
        """A user created by a participant's Administrator, journaled first (a ``user`` record)."""

    def set_user_functions(self, user_id: str, functions: int | None) -> None:
        """Narrow (or widen, None: the whole profile) a user's functions, journaled first."""

    def under_maker_checker(self, participant: str) -> bool:
        """Whether the participant's collateral withdrawals wait for a second user."""

    def is_locked(self, user_id: str) -> bool:
        """Whether the user is locked out after failed logins."""

    def unlock(self, user_id: str) -> None:
        """Clear the user's lockout and failed-login count."""

    def journal_operator(self, user: str, code: str, fields: dict) -> None:
        """Journal an operator action on sessions (an ``op`` record: replay counts and skips it)."""

    def change_password(self, user: str, password_hash: str, changed: "date") -> None:
        """A user's new password hash and its date, journaled first (a ``password`` record)."""


@dataclass
class RequestContext:
    """What a handler may use, for the request being handled. ``execute`` runs a command in the
    core (journaled, its events broadcast); ``query`` asks the core without changing it."""

    services: GatewayServices
    user: str
    participant: str | None
    operator: bool
    role: str
    now: datetime
    core_context: Any = field(default=None, repr=False, compare=False)  # the gateway's, reused while time stands

    def execute(self, command: Any) -> "Outcome":
        return self.services.execute(command, self)

    def query(self, q: Any) -> Any:
        return self.services.query(q, self)


def load_all() -> None:
    for m in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        importlib.import_module(f"{__name__}.{m.name}")
