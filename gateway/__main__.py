"""Run the emulator: ``python -m gateway`` (console script ``hkpost-gateway``)."""
from __future__ import annotations

import argparse
import asyncio

from gateway.config import DEFAULT_PORT, Settings
from gateway.logs import configure


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="hkpost-gateway", description="Hong Kong derivatives post-trade emulator gateway")
    p.add_argument("--host", default=None, help="listen address (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=None, help=f"listen port (default {DEFAULT_PORT}; 0: any free port)")
    p.add_argument("--config", default=None, help="TOML file of settings (see docs/configuration.md)")
    p.add_argument("--users", default=None, help="TOML file of users replacing the shipped demo users")
    p.add_argument("--business-time", default=None, help="start business time YYYY-MM-DDTHH:MM:SS (default: now in Hong Kong)")
    p.add_argument("--freeze-clock", action="store_true", default=None, help="business time moves only when the operator moves it")
    p.add_argument("--heartbeat", type=float, default=None, help="heartbeat interval, seconds")
    p.add_argument("--log-level", default=None)
    p.add_argument("--log-format", choices=["json", "console"], default=None)
    p.add_argument("--no-uvloop", action="store_true", help="use the standard asyncio loop")
    p.add_argument("--port-file", default=None, help="write the bound port to this file once listening")
    return p.parse_args(argv)


async def serve(settings: Settings, port_file: str | None = None) -> None:
    from gateway.server import Gateway
    gw = Gateway(settings)
    await gw.start()
    if port_file:
        with open(port_file, "w") as f:
            f.write(str(gw.port))
    stop = asyncio.Event()
    gw.install_signal_handlers(stop)
    await stop.wait()
    await gw.stop()


def main(argv=None) -> None:
    a = parse_args(argv)
    s = Settings.load(a.config, host=a.host, port=a.port, users_file=a.users, start_business_time=a.business_time,
                      freeze_clock=a.freeze_clock, heartbeat_interval=a.heartbeat, log_level=a.log_level,
                      log_format=a.log_format)
    configure(s.log_level, s.log_format)
    if not a.no_uvloop:
        try:
            import uvloop
            uvloop.install()
        except ImportError:  # pragma: no cover - plain asyncio when uvloop is not available
            pass
    asyncio.run(serve(s, a.port_file))


if __name__ == "__main__":
    main()
