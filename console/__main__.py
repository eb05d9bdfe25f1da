"""Run the console alone against any gateway: ``python -m console --gateway HOST:PORT``."""
from __future__ import annotations

import argparse
import os
import asyncio
import signal

from console.settings import DEFAULT_PORT, ConsoleSettings


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="python -m console", description="hkpost browser console (a client of a gateway)")
    p.add_argument("--gateway", default="127.0.0.1:7600", help="HOST:PORT of the gateway (default 127.0.0.1:7600)")
    p.add_argument("--gateway-tls", action="store_true", help="connect to the gateway with TLS")
    p.add_argument("--host", default="127.0.0.1", help="listen address (default 127.0.0.1: loopback only)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"listen port (default {DEFAULT_PORT}; 0: any)")
    p.add_argument("--idle-timeout", type=float, default=None, help="seconds of inactivity before a session ends (default 900)")
    p.add_argument("--tls-cert", default=None, help="PEM certificate: serve HTTPS (with --tls-key)")
    p.add_argument("--tls-key", default=None, help="PEM private key of --tls-cert")
    p.add_argument("--port-file", default=None, help="write the bound port to this file once listening")
    p.add_argument("--parent-pid", type=int, default=None,
                   help="stop when this process (the gateway that started the console) is gone")
    p.add_argument("--log-level", default="info")
    p.add_argument("--log-format", choices=["json", "console"], default="json")
    return p.parse_args(argv)


def settings_from(a) -> ConsoleSettings:
    host, _, port = a.gateway.rpartition(":")
    if not host or not port.isdigit():
        raise SystemExit(f"python -m console: --gateway must be HOST:PORT, not {a.gateway!r}")
    if bool(a.tls_cert) != bool(a.tls_key):
        raise SystemExit("python -m console: HTTPS needs both --tls-cert and --tls-key")
    s = ConsoleSettings(host=a.host, port=a.port, gateway_host=host, gateway_port=int(port),
                        gateway_tls=a.gateway_tls, tls_cert=a.tls_cert, tls_key=a.tls_key)
    if a.idle_timeout is not None:
        s.idle_timeout = a.idle_timeout
    return s


async def _watch_parent(pid: int, stop: asyncio.Event) -> None:
    while os.getppid() == pid:
        await asyncio.sleep(1.0)
    stop.set()


async def serve(settings: ConsoleSettings, port_file: str | None = None, parent_pid: int | None = None) -> None:
    from console.app import ConsoleServer
    server = ConsoleServer(settings)
    await server.start()
    if port_file:
        with open(port_file, "w") as f:
            f.write(str(server.port))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):  # pragma: no cover - non-POSIX
            pass
    watch = asyncio.get_running_loop().create_task(_watch_parent(parent_pid, stop)) if parent_pid else None
    await stop.wait()
    if watch is not None:
        watch.cancel()
    await server.stop()


def main(argv=None) -> None:
    a = parse_args(argv)
    settings = settings_from(a)
    from console.logs import configure
    configure(a.log_level, a.log_format)
    try:
        import uvloop
        uvloop.install()
    except ImportError:  # pragma: no cover
        pass
    try:
        asyncio.run(serve(settings, a.port_file, a.parent_pid))
    except OSError as e:
        raise SystemExit(f"python -m console: cannot listen on {settings.host}:{settings.port}: {e}") from None


if __name__ == "__main__":
    main()
