"""Run the emulator: ``python -m gateway`` (console script ``hkpost-gateway``)."""
from __future__ import annotations

import argparse
import os
import asyncio
import sys

import structlog

from gateway.config import DEFAULT_PORT, ConfigError, Settings
from gateway.logs import configure
from gateway.welcome import demo_hints


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="hkpost-gateway", description="Hong Kong derivatives post-trade emulator gateway")
    p.add_argument("--host", default=None, help="listen address (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=None, help=f"listen port (default {DEFAULT_PORT}; 0: any free port)")
    p.add_argument("--config", default=None, help="TOML file of settings (see docs/configuration.md)")
    p.add_argument("--users", default=None, help="TOML file of users replacing the shipped demo users")
    p.add_argument("--dcass-reference", default=None, metavar="PATH",
                   help="TOML file of DCASS reference data (classes, series, participants) replacing the shipped demo data")
    p.add_argument("--business-time", default=None, help="start business time YYYY-MM-DDTHH:MM:SS (default: now in Hong Kong)")
    p.add_argument("--freeze-clock", action="store_true", default=None, help="business time moves only when the operator moves it")
    p.add_argument("--heartbeat", type=float, default=None, help="heartbeat interval, seconds")
    p.add_argument("--log-level", default=None)
    p.add_argument("--log-format", choices=["json", "console"], default=None)
    p.add_argument("--no-uvloop", action="store_true", help="use the standard asyncio loop")
    p.add_argument("--port-file", default=None, help="write the bound port to this file once listening")
    p.add_argument("--journal", default=None, metavar="PATH",
                   help="durability: journal every command to PATH and recover from it on start (default: in memory)")
    p.add_argument("--journal-flush", choices=["always", "group"], default=None,
                   help="always (default): fsync each command before its reply; group: group commit every few ms")
    p.add_argument("--snapshot-every", type=int, default=None, help="journal records between snapshots (0: none)")
    p.add_argument("--tls-cert", default=None, help="PEM certificate: serve TLS only (with --tls-key)")
    p.add_argument("--tls-key", default=None, help="PEM private key of --tls-cert")
    p.add_argument("--record", default=None, metavar="FILE.pcapng",
                   help="record every session's traffic to FILE.pcapng for Wireshark (see docs/guides/wireshark.md)")
    p.add_argument("--console-port", type=int, default=None, help="port of the browser console (default 8600)")
    p.add_argument("--no-console", action="store_false", dest="console", default=None,
                   help="do not start the browser console")
    return p.parse_args(argv)


def start_console(settings: Settings, gateway_port: int):
    """The browser console as a child process (console/, ``python -m console``): its page rendering
    never runs on the gateway's event loop, and it reaches the gateway like any client, one SDK
    session per browser login (nothing while nobody is logged in). None when it is turned off."""
    if not settings.console:
        return None
    import subprocess
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host
    cmd = [sys.executable, "-m", "console", "--gateway", f"{host}:{gateway_port}", "--host", settings.console_host,
           "--port", str(settings.console_port), "--log-level", settings.log_level, "--log-format", settings.log_format,
           "--parent-pid", str(os.getpid())]
    if settings.tls_cert:
        cmd.append("--gateway-tls")
    return subprocess.Popen(cmd)


def stop_console(child) -> None:
    if child is None or child.poll() is not None:
        return
    child.terminate()
    try:
        child.wait(5)
    except Exception:  # noqa: BLE001 - it did not stop in time
        child.kill()


async def serve(settings: Settings, port_file: str | None = None) -> None:
    from gateway.server import Gateway
    gw = Gateway(settings)
    await gw.start()
    if port_file:
        with open(port_file, "w") as f:
            f.write(str(gw.port))
    child = start_console(gw.settings, gw.port)
    hints = demo_hints(gw.settings, gw.port, child is not None)
    if hints is not None:
        structlog.get_logger("gateway").info("demo_data", **hints)
    stop = asyncio.Event()
    gw.install_signal_handlers(stop)
    try:
        await stop.wait()
    finally:
        stop_console(child)
        await gw.stop()


def main(argv=None) -> None:
    a = parse_args(argv)
    try:
        s = Settings.load(a.config, host=a.host, port=a.port, users_file=a.users, dcass_reference=a.dcass_reference,
                          start_business_time=a.business_time, freeze_clock=a.freeze_clock,
                          heartbeat_interval=a.heartbeat, log_level=a.log_level,
                          log_format=a.log_format, journal_path=a.journal, journal_flush=a.journal_flush,
                          snapshot_every=a.snapshot_every, tls_cert=a.tls_cert, tls_key=a.tls_key,
                          record_path=a.record, console=a.console, console_port=a.console_port)
    except ConfigError as e:
        raise SystemExit(f"hkpost-gateway: {e}") from None
    if bool(s.tls_cert) != bool(s.tls_key):
        raise SystemExit("hkpost-gateway: TLS needs both a certificate (tls_cert) and a key (tls_key)")
    from gateway.recording import RecordingError, check_settings
    try:
        check_settings(s.record_path, s.record_max_bytes, s.record_files)
    except RecordingError as e:
        raise SystemExit(f"hkpost-gateway: {e}") from None
    configure(s.log_level, s.log_format)
    if not a.no_uvloop:
        try:
            import uvloop
            uvloop.install()
        except ImportError:  # pragma: no cover - plain asyncio when uvloop is not available
            pass
    from gateway.refdata import ReferenceDataError
    from gateway.journal import JournalError
    try:
        asyncio.run(serve(s, a.port_file))
    except ReferenceDataError as e:
        structlog.get_logger("gateway").critical("reference_data_unusable", error=str(e))
        print(f"hkpost-gateway: {e}", file=sys.stderr)
        raise SystemExit(2) from None
    except JournalError as e:
        structlog.get_logger("gateway").critical("journal_unusable", error=str(e))
        print(f"hkpost-gateway: {e}", file=sys.stderr)
        raise SystemExit(3) from None


if __name__ == "__main__":
    main()
