"""The modules the gateway composes into its clearing core, in reaction order.

DCASS first (it owns positions and margin), then CCMS (it reacts to DCASS margin changes and drives
covered calls back into DCASS), then OTC Clear (independent).

``settings.dcass_reference`` (a path; "" for the shipped data) chooses the DCASS reference data:
the file is read and checked once, when the factories are built, so that every core built from
them (at start, on an operator reset, when a journal is replayed) has the same data. A factory
whose data is not the shipped data carries ``journal_identity`` (a digest of that data), which the
journal records so that it is never replayed over other data.
"""
from __future__ import annotations

import hashlib
import json
import tomllib
from importlib import resources
from pathlib import Path


class ReferenceDataError(ValueError):
    """A reference data file the gateway cannot use (the message names the file and the problem)."""


def _digest(doc: dict) -> str:
    """Digest of parsed TOML: the data, not its layout or comments."""
    return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str, separators=(",", ":")).encode()).hexdigest()


def shipped_dcass_reference() -> dict:
    """The shipped DCASS reference data, parsed."""
    text = resources.files("gateway.clearing").joinpath("data/dcass/reference.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def _check(doc: dict) -> None:
    """What ``refdata.load`` does not check itself (or checks only with assertions on)."""
    parts = doc.get("participants")
    if not isinstance(parts, list) or not parts:
        raise ValueError("no [[participants]]")
    houses = doc.get("clearing_houses") or {}
    seen: set[str] = set()
    for i, p in enumerate(parts):
        pid = p.get("id", "") if isinstance(p, dict) else ""
        if not isinstance(pid, str) or not 1 <= len(pid) <= 8 or not pid.isascii():
            raise ValueError(f"participant {i + 1}: id {pid!r} must be 1 to 8 ASCII characters")
        if pid in seen:
            raise ValueError(f"participant {pid} is declared twice")
        seen.add(pid)
        for ch in p.get("clearing_houses", []):
            if ch not in houses:
                raise ValueError(f"participant {pid}: unknown clearing house {ch!r}")
        for a in p.get("accounts", []):
            aid = a.get("id", "")
            if not isinstance(aid, str) or not 1 <= len(aid) <= 16 or not aid.isascii():
                raise ValueError(f"participant {pid}: account id {aid!r} must be 1 to 16 ASCII characters")
            if a.get("clearing_house") not in p.get("clearing_houses", []):
                raise ValueError(f"participant {pid}: account {aid} is in {a.get('clearing_house')!r}, "
                                 f"not one of the participant's clearing houses")


def load_dcass_reference(path: str | Path):
    """Read, check and load a DCASS reference data file: ``(ReferenceData, digest of its data)``.
    Raises :class:`ReferenceDataError` naming the file and the problem."""
    from gateway.clearing.dcass import refdata
    p = Path(path)
    where = f"DCASS reference data {p}"
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as e:
        raise ReferenceDataError(f"{where}: cannot read it ({e.strerror or e})") from None
    except UnicodeDecodeError as e:
        raise ReferenceDataError(f"{where}: not UTF-8 text ({e})") from None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ReferenceDataError(f"{where}: not valid TOML ({e})") from None
    try:
        _check(doc)
        ref = refdata.load(reference=doc)
    except KeyError as e:
        raise ReferenceDataError(f"{where}: missing or unknown key {e}") from None
    except AssertionError as e:
        raise ReferenceDataError(f"{where}: inconsistent data ({e or 'a duplicate or unknown id'})") from None
    except (ValueError, TypeError, AttributeError, LookupError) as e:
        raise ReferenceDataError(f"{where}: {e}") from None
    return ref, _digest(doc)


class DcassFactory:
    """``factory(core) -> DcassModule`` with the reference data chosen by the settings (``None``:
    the shipped data, the module's own default)."""

    name = "dcass"

    def __init__(self, reference=None, source: str = "", digest: str = ""):
        self.reference = reference
        self.source = source
        self.digest = digest
        # what the journal records and checks; nothing for the shipped data (journals written
        # before this setting existed stay readable)
        self.journal_identity = {"dcass_reference": {"digest": digest, "source": source}} if reference else {}

    @classmethod
    def from_path(cls, path: str | Path | None) -> "DcassFactory":
        if not path:
            return cls()
        if not isinstance(path, (str, Path)):
            raise ReferenceDataError(f"DCASS reference data {path!r}: not a file path")
        ref, digest = load_dcass_reference(path)
        if digest == _digest(shipped_dcass_reference()):
            return cls()   # the same data as shipped
        return cls(ref, str(Path(path).resolve()), digest)

    def __call__(self, core):
        from gateway.clearing.dcass import DcassModule
        return DcassModule(core, reference=self.reference)

    def __repr__(self) -> str:
        return f"DcassFactory({self.source or 'shipped'})"


def module_factories(settings=None) -> list:
    """The module factories (``factory(core) -> Module``); ``settings`` (the gateway's ``Settings``)
    may choose their data: ``dcass_reference`` the DCASS reference data. Raises
    :class:`ReferenceDataError` for a reference data file it cannot use."""
    from gateway.clearing.collateral import CollateralModule
    from gateway.clearing.otc import OtcClearModule
    from gateway.clearing.collateral.authorisation import MakerCheckerModule
    return [DcassFactory.from_path(getattr(settings, "dcass_reference", "")), CollateralModule, OtcClearModule,
            MakerCheckerModule]


def data_identity(factories) -> dict:
    """What the factories' data is, when it is not the shipped data (recorded in a journal)."""
    out: dict = {}
    for f in factories or ():
        out.update(getattr(f, "journal_identity", None) or {})
    return out
