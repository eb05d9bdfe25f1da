"""Typed errors of the SDK: every failure the SDK raises is a :class:`ClientError`.

Rejections carry both status levels and their texts. Where the SDK used to let a standard exception
escape, its typed error also derives from that exception, so existing ``except`` clauses keep
working: :class:`ConnectionRefused` is a ``ConnectionRefusedError``, :class:`ConnectFailed` an
``OSError``, :class:`TlsFailed` an ``ssl.SSLError`` (:class:`CertificateRejected` an
``ssl.SSLCertVerificationError``), the timeouts are ``TimeoutError`` (``asyncio.TimeoutError``), :class:`InvalidMessage` a
``protocol.codec.EncodeError`` (a ``ValueError``).
"""
from __future__ import annotations

import ssl

from protocol.codec import EncodeError
from protocol.status import text as session_text


class ClientError(Exception):
    """Base class of every error the SDK raises."""


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


class ClientTimeout(ClientError, TimeoutError):
    """Something did not happen in time (also an ``asyncio.TimeoutError``)."""


class RequestTimeout(ClientTimeout):
    """No answer to a request within ``request_timeout``; its outcome is unknown."""


class ConnectTimeout(ClientTimeout):
    """The TCP connection (or TLS handshake) was not made within ``connect_timeout``."""


class BroadcastTimeout(ClientTimeout):
    """:meth:`Client.next_broadcast` saw no matching broadcast in time."""


class ConnectFailed(ClientError, OSError):
    """The TCP connection could not be made (no route, name not resolved, TLS failure...).
    ``errno`` and ``strerror`` are those of the underlying ``OSError``."""


class ConnectionRefused(ConnectFailed, ConnectionRefusedError):
    """Nothing listens on the host and port (is the gateway running?)."""


class TlsFailed(ConnectFailed, ssl.SSLError):
    """The TLS handshake failed (also an ``ssl.SSLError``)."""


class CertificateRejected(TlsFailed, ssl.SSLCertVerificationError):
    """The server's certificate is not trusted (also an ``ssl.SSLCertVerificationError``)."""


class InvalidMessage(ClientError, EncodeError):
    """A request could not be encoded: a field value does not fit its declaration (an integer out of
    range, text too long or not ASCII, an unknown enumeration value). Nothing was sent. ``field`` names
    the field when known."""

    def __init__(self, text: str, field: str = ""):
        self.field = field
        super().__init__(text)
