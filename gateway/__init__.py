"""The gateway: asyncio/uvloop server, sessions, routing, broadcast streams, clock.

Only this package knows both the wire protocol (``protocol``) and the clearing core
(``gateway.clearing``)."""
