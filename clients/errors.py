"""Typed errors of the SDK. Rejections carry both status levels and their texts."""
from __future__ import annotations

from protocol.status import text as session_text


class ClientError(Exception):
    pass


class RequestRejected(ClientError):
    """The gateway refused a request. ``session_status`` / ``business_status`` are the header codes,
    ``field_offset`` the byte offset of the bad field, ``field`` its name, ``text`` the reason."""

    def __init__(self, request_code: str, session_status: int, business_status: int, field_offset: int, field: str,
                 text: str):
        self.request_code = request_code
        self.session_status = session_status
        self.business_status = business_status
        self.field_offset = field_offset
        self.field = field
        self.text = text
        self.session_text = session_text(session_status)
        where = f" field {field} at byte {field_offset}" if field or field_offset else ""
        super().__init__(f"{request_code} rejected: session {session_status} ({self.session_text}), "
                         f"business {business_status}: {text}{where}")


class LoginRejected(RequestRejected):
    pass


class SessionEnded(ClientError):
    """The server ended the session (logout answer, forced takeover, idle, slow reader, shutdown)."""

    def __init__(self, reason: int, text: str):
        self.reason = reason
        self.text = text
        super().__init__(f"session ended: {reason} {text}")


class ConnectionLost(ClientError):
    """The connection dropped while a request was in flight; its outcome is unknown."""


class RequestTimeout(ClientError):
    pass
