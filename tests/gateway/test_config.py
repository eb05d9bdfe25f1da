"""Settings are type-checked at start: the message names the key, the expected type and the value."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gateway.config import ConfigError, Settings

ROOT = Path(__file__).resolve().parents[2]


def load(tmp_path, text: str) -> Settings:
    f = tmp_path / "gateway.toml"
    f.write_text(text)
    return Settings.load(f)


@pytest.mark.parametrize("line, key, expected", [
    ('port = "7600"', "port", "expected an integer, got a string ('7600')"),
    ("max_pending = true", "max_pending", "expected an integer, got a boolean (True)"),
    ("max_pending = 10.5", "max_pending", "expected an integer, got a number (10.5)"),
    ("freeze_clock = 1", "freeze_clock", "expected true or false, got an integer (1)"),
    ('heartbeat_interval = "10"', "heartbeat_interval", "expected a number, got a string ('10')"),
    ("log_level = 3", "log_level", "expected a string, got an integer (3)"),
    ('journal_path = ["a"]', "journal_path", "expected a string, got an array (['a'])"),
])
def test_a_value_of_the_wrong_type_is_refused_naming_key_and_type(tmp_path, line, key, expected):
    with pytest.raises(ConfigError) as e:
        load(tmp_path, line)
    assert str(e.value) == f"setting {key!r} in {tmp_path / 'gateway.toml'}: {expected}"


def test_right_types_load_an_integer_serves_for_a_number(tmp_path):
    s = load(tmp_path, '[gateway]\nport = 0\nheartbeat_interval = 5\nfreeze_clock = true\njournal_path = "j"\n')
    assert (s.port, s.heartbeat_interval, s.freeze_clock, s.journal_path) == (0, 5.0, True, "j")
    assert isinstance(s.heartbeat_interval, float)


def test_unknown_key_and_unreadable_file(tmp_path):
    with pytest.raises(ConfigError, match="unknown setting 'prot'"):
        load(tmp_path, "prot = 1")
    with pytest.raises(ConfigError, match="cannot read the settings file"):
        load(tmp_path, "port = = 1")


def test_the_command_line_answers_in_one_line(tmp_path):
    f = tmp_path / "gateway.toml"
    f.write_text('output_buffer_limit = "8M"\n')
    p = subprocess.run([sys.executable, "-m", "gateway", "--config", str(f), "--no-console"], cwd=ROOT,
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 1
    assert p.stderr.strip().splitlines() == [
        f"hkpost-gateway: setting 'output_buffer_limit' in {f}: expected an integer, got a string ('8M')"]
