"""An emulator gateway in a thread of the test process: its own event loop, a free loopback port,
a frozen business time and fresh demo state, started and stopped from ordinary (sync) code.

    with Emulator(business_time="2026-11-23T09:00:00") as emu:
        ...  # connect to emu.host, emu.port: the SDK, the CLI, your own client in any language

Everything goes through the socket: the gateway's objects belong to its own thread and are not
for the test to touch.
"""
from __future__ import annotations

import asyncio
import threading
from typing import Any

DEMO_BUSINESS_TIME = "2026-11-23T09:00:00"   # a Monday, a business day of the demo calendar
DEMO_PASSWORD_PREFIX = "pass-"               # every demo user's password is pass-<user id>


class Emulator:
    """A gateway on ``host`` (127.0.0.1) and a free ``port``. ``settings`` are gateway settings
    (``gateway.config.Settings`` fields, e.g. ``heartbeat_interval=5.0``) on top of the test
    defaults: loopback, any free port, the business time frozen at ``business_time``, no general-stream
    heartbeats and no periodic gc.freeze (which would keep a test process's garbage)."""

    def __init__(self, business_time: str = DEMO_BUSINESS_TIME, *, start_timeout: float = 30.0, **settings: Any):
        self.business_time = business_time
        self.start_timeout = start_timeout
        self.overrides = settings
        self.host = "127.0.0.1"
        self.port = 0
        self.settings = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    # ------------------------------------------------------------ lifecycle
    def start(self) -> "Emulator":
        from gateway.config import Settings
        base = dict(host=self.host, port=0, start_business_time=self.business_time, freeze_clock=True,
                    stream_heartbeat_seconds=0, gc_freeze_seconds=0)
        base.update(self.overrides)
        self.settings = Settings(**base)
        self.host = self.settings.host
        self._thread = threading.Thread(target=self._run, name="hkpost-emulator", daemon=True)
        self._thread.start()
        if not self._ready.wait(self.start_timeout):
            raise RuntimeError(f"the emulator did not start within {self.start_timeout}s")
        if self._error is not None:
            self._thread.join(self.start_timeout)
            raise self._error
        return self

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the gateway (its sessions are logged out) and wait for its thread."""
        if self._thread is None:
            return
        if self._loop is not None and self._stop is not None and not self._loop.is_closed():
            try:
                self._loop.call_soon_threadsafe(self._stop.set)
            except RuntimeError:  # the loop closed in between
                pass
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise RuntimeError(f"the emulator did not stop within {timeout}s")
        self._thread = None

    def __enter__(self) -> "Emulator":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def address(self) -> tuple[str, int]:
        return self.host, self.port

    @staticmethod
    def demo_password(user: str) -> str:
        return DEMO_PASSWORD_PREFIX + user

    # ------------------------------------------------------------ the gateway's thread
    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._main())
        finally:
            loop.close()

    async def _main(self) -> None:
        from gateway.server import Gateway
        try:
            gateway = Gateway(self.settings)
            await gateway.start()
        except BaseException as e:  # noqa: BLE001 - handed to the starting thread, which raises it
            self._error = e
            self._ready.set()
            return
        self._stop = asyncio.Event()
        self.port = gateway.port
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            await gateway.stop()
