"""Running tshark with the shipped dissector, for the tests of the dissector and the recording.

Where tshark is not installed the tests skip and say why; under CI (``CI=true``) they fail instead:
.ci/run installs Debian's tshark, so a missing one there is a broken pipeline, never a skip.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import pytest

from gateway.dissector import SHIPPED


def require_tshark() -> str:
    path = shutil.which("tshark")
    if path is None:
        if os.environ.get("CI", "").lower() in ("true", "1", "yes"):
            pytest.fail("tshark is not installed, and CI must run the Wireshark tests (.ci/run installs it)")
        pytest.skip("tshark is not installed (Debian: apt-get install tshark); the dissector tests need it")
    return path


def run(capture: Path, *args: str, lua: Path | None = SHIPPED, ports: str | None = None,
        home: Path | None = None) -> str:
    """tshark's output for ``capture`` with the dissector ``lua`` loaded (None: only what the
    plugins folders hold); a private HOME keeps the user's own Wireshark preferences and plugins out."""
    exe = require_tshark()
    home = home or capture.parent
    env = {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config")}
    cmd = [exe, "-n", "-r", str(capture)] + (["-X", f"lua_script:{lua}"] if lua is not None else [])
    if ports:
        cmd += ["-o", f"hkpost.ports:{ports}"]
    done = subprocess.run(cmd + list(args), capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    assert "Lua" not in done.stderr or "error" not in done.stderr.lower(), done.stderr
    return done.stdout


@dataclass
class Field:
    name: str
    show: str
    showname: str
    pos: int
    size: int


@dataclass
class Packet:
    number: int
    frames: list[list[Field]]          # per hkpost frame, its fields and expert items in tree order
    experts: list[str]                 # "Expert Info (Severity/Group): message" of every protocol
    lua_errors: list[str]


def pdml(capture: Path, **kw) -> list[Packet]:
    """Every packet of the capture, with each hkpost frame's fields in tree order."""
    root = ET.fromstring(run(capture, "-T", "pdml", **kw))
    out = []
    for i, pkt in enumerate(root.iter("packet"), 1):
        frames = []
        for proto in pkt.iter("proto"):
            if proto.get("name") == "hkpost":
                frames.append([_field(f) for f in proto.iter("field")])
        experts = [f.get("showname", "") for f in pkt.iter("field") if f.get("name") == "_ws.expert"]
        lua = [f.get("showname") or f.get("show") or "" for f in pkt.iter("field")
               if "lua error" in (f.get("showname") or f.get("show") or "").lower()]
        out.append(Packet(i, frames, experts, lua))
    return out


def _field(el) -> Field:
    return Field(el.get("name", ""), el.get("show", ""), el.get("showname", ""), int(el.get("pos", "0") or 0),
                 int(el.get("size", "0") or 0))


def malformed(packet: Packet) -> list[str]:
    """The messages of the packet's hkpost malformed expert infos."""
    return [f.showname for frame in packet.frames for f in frame if f.name == "hkpost.malformed"]


def values(frame: list[Field]) -> list[Field]:
    """The dissector's own fields of a frame (its expert infos left out)."""
    return [f for f in frame if f.name.startswith("hkpost.") and f.name not in
            ("hkpost.malformed", "hkpost.protocol", "hkpost.status")]
