"""LICENSE, CHANGELOG.md and docs/versioning.md say what the code and pyproject.toml say."""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

from protocol.framing import VERSION

ROOT = Path(__file__).resolve().parents[1]


def test_licence_is_the_full_apache_2_text_pyproject_declares():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == {"text": "Apache-2.0"}
    text = (ROOT / "LICENSE").read_text()
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    assert "TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION" in text
    assert "END OF TERMS AND CONDITIONS" in text and "APPENDIX: How to apply the Apache License" in text
    assert len(re.findall(r"^\s+\d+\. [A-Z]", text, re.M)) == 9  # sections 1..9


def test_versioning_names_the_current_versions():
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    doc = (ROOT / "docs" / "versioning.md").read_text()
    rows = {r.split("|")[1].strip(): r.split("|")[3].strip() for r in doc.splitlines() if r.startswith("| **")}
    assert rows == {"**protocol version**": f"`{VERSION}`", "**package version**": f"`{version}`"}


def test_changelog_follows_keep_a_changelog():
    text = (ROOT / "CHANGELOG.md").read_text()
    assert "keepachangelog.com" in text and "## [Unreleased]" in text
    sections = re.findall(r"^### (\w+)$", text, re.M)
    assert sections and set(sections) <= {"Added", "Changed", "Deprecated", "Removed", "Fixed", "Security"}
    readme = (ROOT / "README.md").read_text()
    assert "(docs/versioning.md)" in readme and "(CHANGELOG.md)" in readme and "(LICENSE)" in readme
