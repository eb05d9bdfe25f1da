"""Gateway settings: defaults that start the emulator with no arguments, overridable by a TOML file."""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields
from pathlib import Path

DEFAULT_PORT = 7600

# the annotation of a setting -> (accepted Python types, what a message calls it); bool is refused
# where a number is expected (TOML true is not 1), an integer is accepted where a float is
_TYPES = {"str": ((str,), "a string"), "int": ((int,), "an integer"), "float": ((int, float), "a number"),
          "bool": ((bool,), "true or false")}


# settings where 0 means off and a negative value means nothing
_AT_LEAST_ZERO = frozenset({"snapshot_every", "snapshot_seconds", "snapshot_bytes", "busy_poll_us", "gc_threshold"})


class ConfigError(ValueError):
    """A setting that cannot be used: the message names the key and what it expects."""


def type_text(annotation) -> str:
    """What a setting of this annotation takes, for docs/configuration.md."""
    base = str(annotation).replace(" | None", "")
    return {"str": "string", "int": "integer", "float": "number", "bool": "boolean"}[base]


def _type_name(v) -> str:
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "an array",
            dict: "a table"}.get(type(v), type(v).__name__)


@dataclass
class Settings:
    host: str = "127.0.0.1"                # listen address (0.0.0.0: every interface)
    port: int = DEFAULT_PORT               # listen port (0: any free port)
    users_file: str | None = None          # None: the shipped demo users (gateway/data/users.toml)
    dcass_reference: str = ""              # DCASS reference data file (TOML in the format of the shipped gateway/clearing/data/dcass/reference.toml: clearing houses, underlyings, classes and their series, participants and their accounts) replacing the shipped demo data (command line: --dcass-reference PATH; a relative path is from the working directory); "": the shipped data. Parameters and risk arrays stay the shipped ones. A bad file stops the start with the file and the problem named. A journal remembers a digest of the data it was written with and is refused by a gateway started with other data
    # session rules, announced in the login reply
    heartbeat_interval: float = 10.0       # seconds of send-silence before a heartbeat
    idle_heartbeats: int = 3               # peer dropped after this many intervals of receive-silence
    throttle_per_second: int = 5000        # default per user; users.toml may override per user
    max_pending: int = 1000                # requests in flight per session
    max_references: int = 50000            # exactly-once client references kept per user and business date
    max_replay: int = 10000                # broadcasts per replay or recovery request
    max_frame_size: int = 64000
    max_page_items: int = 500              # items per answer segment (further bounded by frame size)
    max_subscriptions: int = 64            # subscription items per session
    # protection
    max_connections: int = 1024
    max_connections_per_address: int = 256
    output_buffer_limit: int = 8 * 1024 * 1024   # bytes queued for a slow reader before it is cut off
    login_failures_before_lock: int = 5
    login_failure_window: float = 60.0
    lock_seconds: float = 300.0
    login_timeout: float = 10.0            # a connection must log in within this time
    # the general stream
    stream_heartbeat_seconds: int = 10     # BI9 on the general stream (0: none)
    # latency
    busy_poll_us: int = 0                  # after each read, keep polling the sockets this many microseconds instead of sleeping (0: off): a steady stream of requests is then not delayed by the wake-ups of an idle CPU (gateway/busypoll.py), at the cost of a busy core while traffic lasts
    # memory
    gc_freeze_seconds: float = 1.0         # move surviving objects out of the cyclic GC's view this often (0: never)
    gc_threshold: int = 10000              # net allocations of container objects between two young-generation collections of the cyclic GC while the gateway runs (Python's own default is 700; 0: leave the process's as it is): a batch's short-lived objects are then freed before a collection walks them (the trade feed: -8 % instructions per deal)
    # durability (docs/guides/reliability.md)
    journal_path: str | None = None        # None: in memory only; a file path: journal every command there
    journal_flush: str = "always"          # always: fsync each command before its reply; group: fsync every journal_group_ms
    journal_group_ms: float = 2.0          # group commit window in milliseconds (journal_flush = "group")
    snapshot_every: int = 10000            # journal records since the last snapshot that make the next one due (0: not by count); snapshots are off when this, snapshot_seconds and snapshot_bytes are all 0
    snapshot_seconds: float = 60.0         # seconds since the last snapshot (or the start) that make the next one due, if anything was journaled since (0: not by time)
    snapshot_bytes: int = 16 * 1024 * 1024  # journal bytes written since the last snapshot that make the next one due (0: not by size)
    # TLS for the listener (both set: TLS only; None: plain TCP)
    tls_cert: str | None = None            # PEM certificate chain file
    tls_key: str | None = None             # PEM private key file
    # session recording (docs/guides/wireshark.md)
    record_path: str | None = None         # None: no recording; a FILE.pcapng: every session's traffic, both directions, written there (command line: --record FILE.pcapng)
    record_max_bytes: int = 100 * 1024 * 1024  # a recording file is rotated (FILE.1.pcapng, ...) before it grows beyond this
    record_files: int = 5                  # recording files kept, the current one included
    # business time at start: None = the wall clock in Hong Kong
    start_business_time: str | None = None  # "YYYY-MM-DDTHH:MM:SS"
    freeze_clock: bool = False
    # the browser console (console/), started by ``python -m gateway`` as a child process
    console: bool = True                   # False (command line: --no-console): no console
    console_host: str = "127.0.0.1"        # the console's listen address (loopback unless told otherwise)
    console_port: int = 8600               # the console's port (command line: --console-port)
    log_level: str = "info"                # debug | info | warning | error (command line: --log-level); debug adds the request trace: one "request" line per answered request with session_id, request_id, request (its message type), answer (the answer's type), status and business_status
    log_format: str = "json"               # json | console

    @classmethod
    def load(cls, path: str | Path | None, **overrides) -> "Settings":
        """The defaults, then the file's values, then ``overrides`` (None: not given); every value
        is type-checked (:class:`ConfigError` names the key, what it expects and what it got)."""
        s = cls()
        if path:
            try:
                data = tomllib.loads(Path(path).read_text())
            except (OSError, tomllib.TOMLDecodeError) as e:
                raise ConfigError(f"cannot read the settings file {path}: {e}") from None
            data = data.get("gateway", data)
            names = {f.name for f in fields(cls)}
            for k, v in data.items():
                if k not in names:
                    raise ConfigError(f"unknown setting {k!r} in {path}")
                setattr(s, k, s._checked(k, v, f" in {path}"))
        for k, v in overrides.items():
            if v is not None:
                setattr(s, k, s._checked(k, v, ""))
        return s

    def _checked(self, key: str, value, where: str):
        """``value`` for setting ``key``, converted where lossless (an integer for a float)."""
        annotation = next(f.type for f in fields(self) if f.name == key)
        base = str(annotation).replace(" | None", "")
        accepted, expected = _TYPES[base]  # a new setting of another type needs its entry here
        if isinstance(value, bool) and bool not in accepted or not isinstance(value, accepted):
            raise ConfigError(f"setting {key!r}{where}: expected {expected}, got {_type_name(value)} ({value!r})")
        if key in _AT_LEAST_ZERO and value < 0:
            raise ConfigError(f"setting {key!r}{where}: expected 0 (off) or more, got {value!r}")
        return float(value) if base == "float" else value
