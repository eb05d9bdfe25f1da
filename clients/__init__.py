"""Python client SDK and command-line client for the emulator."""
from clients.errors import ClientError, ConnectionLost, LoginRejected, RequestRejected, RequestTimeout, SessionEnded
from clients.sdk import BroadcastEvent, Client, connect

__all__ = ["Client", "connect", "BroadcastEvent", "ClientError", "ConnectionLost", "LoginRejected",
           "RequestRejected", "RequestTimeout", "SessionEnded"]
