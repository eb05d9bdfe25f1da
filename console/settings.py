"""The console's settings (defaults: loopback, port 8600, a gateway on 127.0.0.1:7600)."""
from __future__ import annotations

from dataclasses import dataclass

DEFAULT_PORT = 8600


@dataclass
class ConsoleSettings:
    host: str = "127.0.0.1"          # listen address: loopback unless told otherwise
    port: int = DEFAULT_PORT         # 0: any free port
    gateway_host: str = "127.0.0.1"  # the gateway the console logs in to, as each browser user
    gateway_port: int = 7600
    gateway_tls: bool = False        # connect to the gateway with TLS (a gateway started with a certificate)
    idle_timeout: float = 900.0      # seconds without a request from the browser before the session ends
    sweep_interval: float = 15.0     # how often idle sessions are looked for
    page_size: int = 100             # trades per page
    tls_cert: str | None = None      # PEM certificate: serve HTTPS (with tls_key)
    tls_key: str | None = None
    request_timeout: float = 30.0    # seconds to wait for a gateway answer

    @property
    def secure(self) -> bool:
        return bool(self.tls_cert)
