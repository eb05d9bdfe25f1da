"""Python client SDK and command-line client for the emulator.

The SDK logs through the standard ``logging`` logger ``clients`` (``clients.sdk``) and, like any
library, prints nothing unless the application configures logging.
"""
import logging

from clients.errors import (BroadcastTimeout, CertificateRejected, ClientError, ClientTimeout, ConnectFailed,
                            ConnectionLost, ConnectionRefused, ConnectTimeout, InvalidMessage, LoginRejected, RequestRejected,
                            RequestTimeout, SessionEnded, TlsFailed)
from clients.sdk import BroadcastEvent, Client, connect

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = ["Client", "connect", "BroadcastEvent", "ClientError", "ClientTimeout", "BroadcastTimeout",
           "ConnectFailed", "ConnectionRefused", "TlsFailed", "CertificateRejected", "ConnectTimeout", "ConnectionLost", "InvalidMessage",
           "LoginRejected", "RequestRejected", "RequestTimeout", "SessionEnded"]
