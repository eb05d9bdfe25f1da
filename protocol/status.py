"""Session (transport) status codes: header field ``session_status``.

0 is success; positive values are information; negative values are failures. The business
status (header field ``business_status``) carries the codes of the clearing core, documented in
docs/protocol.md; on a field error the header field ``field_offset`` is the byte offset of the
offending field from the start of the payload (the message type is at offset 0).
"""
from __future__ import annotations

import enum


class SessionStatus(enum.IntEnum):
    OK = 0
    # -2002 (unknown user) is retired: an unknown user gets INVALID_CREDENTIALS, so that a peer
    # cannot learn which user ids exist.
    PASSWORD_EXPIRES_SOON = 2028
    PASSWORD_MUST_CHANGE = 2027
    RECONNECTED = 2000
    ALREADY_ANSWERED = 2001
    NOT_LOGGED_IN = -5
    DATA_TRUNCATED = -13
    INVALID_MESSAGE_TYPE = -17
    FIELD_ERROR = -18
    WRONG_KIND = -19
    TIMEOUT = -21
    SUBSCRIPTION_NOT_AUTHORISED = -39
    PASSWORD_EXPIRED = -40
    GATEWAY_FULL = -42
    FRAME_TOO_LARGE = -45
    BAD_VERSION = -46
    BAD_LENGTH = -47
    DUPLICATE_REQUEST_ID = -48
    TOO_MANY_PENDING = -49
    IDLE_TIMEOUT = -54
    INVALID_CREDENTIALS = -2001
    SESSION_IN_USE = -2019
    ALREADY_LOGGED_IN = -2020
    ACCOUNT_LOCKED = -2033
    FORCED_LOGOUT = -2036
    THROTTLED = -2050
    THROTTLE_DISCONNECT = -2051
    SLOW_CONSUMER = -2052
    REPLAY_LIMIT = -2053
    SEQUENCE_OUT_OF_RANGE = -2054
    UNKNOWN_STREAM = -2055
    SUBSCRIPTION_LIMIT = -2056
    UNKNOWN_HANDLE = -2057
    PASSWORD_POLICY = -2058
    SERVER_SHUTDOWN = -2060
    LOGGED_OUT = -2061
    BUSINESS_REJECT = -2100
    INTERNAL_ERROR = -2999


TEXTS: dict[SessionStatus, str] = {
    SessionStatus.OK: "Normal completion",
    SessionStatus.PASSWORD_EXPIRES_SOON: "Logged in; the password expires soon",
    SessionStatus.PASSWORD_MUST_CHANGE: "Logged in with restricted access; the password must be changed",
    SessionStatus.RECONNECTED: "Successful reconnection",
    SessionStatus.ALREADY_ANSWERED: ("Transaction already processed under this client reference today: this is its "
                                     "original answer, nothing was applied again"),
    SessionStatus.NOT_LOGGED_IN: "Not logged in: the first frame must be a login",
    SessionStatus.DATA_TRUNCATED: "Answer truncated",
    SessionStatus.INVALID_MESSAGE_TYPE: "Unknown or invalid message type",
    SessionStatus.FIELD_ERROR: "Field verification error (field_offset locates the field)",
    SessionStatus.WRONG_KIND: "Message type not allowed in this frame kind",
    SessionStatus.TIMEOUT: "Request timed out",
    SessionStatus.SUBSCRIPTION_NOT_AUTHORISED: "Subscription not authorised",
    SessionStatus.PASSWORD_EXPIRED: "Password expired",
    SessionStatus.GATEWAY_FULL: "Gateway full: connection limit reached",
    SessionStatus.FRAME_TOO_LARGE: "Frame larger than the maximum frame size",
    SessionStatus.BAD_VERSION: "Unsupported protocol version",
    SessionStatus.BAD_LENGTH: "Frame length field invalid",
    SessionStatus.DUPLICATE_REQUEST_ID: "Request id already in use by a pending request",
    SessionStatus.TOO_MANY_PENDING: "Too many pending requests",
    SessionStatus.IDLE_TIMEOUT: "Peer silent for too long (missed heartbeats)",
    SessionStatus.INVALID_CREDENTIALS: "Invalid user or password",
    SessionStatus.SESSION_IN_USE: "Session already in use by this user; log in with forced=1 to take over",
    SessionStatus.ALREADY_LOGGED_IN: "This connection is already logged in",
    SessionStatus.ACCOUNT_LOCKED: "User locked after repeated failed logins; try later",
    SessionStatus.FORCED_LOGOUT: "Session taken over by a forced login of the same user",
    SessionStatus.THROTTLED: "Throttle limit exceeded: request rejected",
    SessionStatus.THROTTLE_DISCONNECT: "Throttle limit exceeded repeatedly: disconnected",
    SessionStatus.SLOW_CONSUMER: "Reader too slow: output buffer limit reached; reconnect and resume",
    SessionStatus.REPLAY_LIMIT: "Replay larger than the maximum per request; recover by ranges",
    SessionStatus.SEQUENCE_OUT_OF_RANGE: "Sequence range not available",
    SessionStatus.UNKNOWN_STREAM: "Unknown broadcast stream or type",
    SessionStatus.SUBSCRIPTION_LIMIT: "Too many subscriptions on this session",
    SessionStatus.UNKNOWN_HANDLE: "Unknown subscription handle",
    SessionStatus.PASSWORD_POLICY: "New password rejected by the password policy",
    SessionStatus.SERVER_SHUTDOWN: "Gateway shutting down",
    SessionStatus.LOGGED_OUT: "Logged out",
    SessionStatus.BUSINESS_REJECT: "Rejected by the clearing system (business_status says why)",
    SessionStatus.INTERNAL_ERROR: "Internal error",
}


def text(code: int) -> str:
    try:
        return TEXTS[SessionStatus(code)]
    except ValueError:
        return f"Unknown session status {code}"
