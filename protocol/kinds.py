"""Frame kinds and header flags."""
from __future__ import annotations

import enum


class Kind(enum.IntEnum):
    """The kind of a frame (header byte 5)."""

    LOGIN = 1         # client -> server: login request (first frame of every connection)
    LOGOUT = 2        # either way: logout request, or the server's notice that it ends the session
    TRANSACTION = 3   # client -> server: a request that changes state; one REPLY or REJECT
    QUERY = 4         # client -> server: a request for data; REPLY segments, the last one marked
    SUBSCRIBE = 5     # client -> server: subscribe/unsubscribe broadcasts; one REPLY
    HEARTBEAT = 6     # either way: liveness when nothing else was sent
    REPLY = 16        # server -> client: the answer to a request (request id echoed)
    BROADCAST = 17    # server -> client: a sequenced event on a broadcast stream
    REJECT = 18       # server -> client: a request refused; statuses say why


class Flag(enum.IntFlag):
    """Header flags (u16)."""

    NONE = 0
    LAST_SEGMENT = 0x0001  # REPLY: this is the last segment of the answer
    RECOVERY = 0x0002      # BROADCAST: re-sent in answer to a recovery query (request id set)
    REPLAY = 0x0004        # BROADCAST: re-sent at resume, before the stream went live again
    REFERENCED = 0x0008    # TRANSACTION: the request id is also the client reference (exactly once)


REQUEST_KINDS = frozenset({Kind.LOGIN, Kind.LOGOUT, Kind.TRANSACTION, Kind.QUERY, Kind.SUBSCRIBE})
