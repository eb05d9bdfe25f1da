"""The gateway's loader of reference data and parameters: it reads the files, checks them and hands
the clearing core its data (the core reads no file and knows no setting).

The shipped data lives in the package (``gateway/clearing/data``): the trading calendar
(``hk_holidays.toml``), DCASS reference data, parameters and risk parameters (``dcass/``), CCMS
parameters and eligible instruments (``collateral/``), OTC Clear members, settlement accounts and
parameters (``otc/``). It is read once per process; the objects built from it are shared by every
core (at start, on an operator reset, when a journal is replayed).

``settings.dcass_reference`` (a path; "" for the shipped data) chooses the DCASS reference data:
the file is read and checked once, when the module factories are built.
"""
from __future__ import annotations

import hashlib
import json
import tomllib
from functools import lru_cache
from importlib import resources
from pathlib import Path

from gateway.clearing.calendar import Calendar
from gateway.clearing.collateral.params import Params as CollateralParams
from gateway.clearing.core import ModuleSet
from gateway.clearing.dcass import refdata as dcass_refdata
from gateway.clearing.modules import DcassFactory, ReferenceDataError, compose, data_identity
from gateway.clearing.otc.params import Params as OtcParams

__all__ = ["ReferenceDataError", "calendar", "dcass_reference", "collateral_params", "otc_params",
           "shipped_dcass_reference", "load_dcass_reference", "dcass_factory", "module_factories",
           "data_identity"]

_DATA = resources.files("gateway.clearing").joinpath("data")


def _read(relative: str) -> dict:
    """A shipped TOML document, parsed."""
    return tomllib.loads(_DATA.joinpath(relative).read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def calendar() -> Calendar:
    """The trading calendar of the shipped holidays."""
    return Calendar.from_doc(_read("hk_holidays.toml"))


@lru_cache(maxsize=1)
def dcass_reference() -> dcass_refdata.ReferenceData:
    """The shipped DCASS reference data."""
    return dcass_refdata.load(shipped_dcass_reference(), _read("dcass/parameters.toml"), _read("dcass/risk.toml"))


def shipped_dcass_reference() -> dict:
    """The shipped DCASS reference data file (``dcass/reference.toml``), parsed."""
    return _read("dcass/reference.toml")


def collateral_params(directory: str | Path | None = None) -> CollateralParams:
    """CCMS parameters, instruments and bank mandates: shipped, or ``parameters.toml``,
    ``instruments.toml`` and (if present) ``mandates.toml`` of ``directory``."""
    if directory is None:
        return _shipped_collateral_params()
    d = Path(directory)
    mandates = d / "mandates.toml"
    return CollateralParams(tomllib.loads((d / "parameters.toml").read_text(encoding="utf-8")),
                            tomllib.loads((d / "instruments.toml").read_text(encoding="utf-8")),
                            tomllib.loads(mandates.read_text(encoding="utf-8")) if mandates.exists() else {})


@lru_cache(maxsize=1)
def _shipped_collateral_params() -> CollateralParams:
    return CollateralParams(_read("collateral/parameters.toml"), _read("collateral/instruments.toml"),
                            _read("collateral/mandates.toml"))


@lru_cache(maxsize=1)
def otc_params() -> OtcParams:
    """OTC Clear members, settlement accounts and parameters (shipped)."""
    return OtcParams(_read("otc/members.toml"), _read("otc/settlement_accounts.toml"), _read("otc/parameters.toml"))


# ------------------------------------------------------------------ a DCASS reference data file
def _digest(doc: dict) -> str:
    """Digest of parsed TOML: the data, not its layout or comments."""
    return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str, separators=(",", ":")).encode()).hexdigest()


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
        ref = dcass_refdata.load(doc, _read("dcass/parameters.toml"), _read("dcass/risk.toml"))
    except KeyError as e:
        raise ReferenceDataError(f"{where}: missing or unknown key {e}") from None
    except AssertionError as e:
        raise ReferenceDataError(f"{where}: inconsistent data ({e or 'a duplicate or unknown id'})") from None
    except (ValueError, TypeError, AttributeError, LookupError) as e:
        raise ReferenceDataError(f"{where}: {e}") from None
    return ref, _digest(doc)


def dcass_factory(path: str | Path | None = None) -> DcassFactory:
    """The DCASS module factory of a reference data file ("" or None: the shipped data)."""
    if not path:
        return DcassFactory(dcass_reference())
    if not isinstance(path, (str, Path)):
        raise ReferenceDataError(f"DCASS reference data {path!r}: not a file path")
    ref, digest = load_dcass_reference(path)
    if digest == _digest(shipped_dcass_reference()):
        return DcassFactory(dcass_reference())   # the same data as shipped
    return DcassFactory(ref, str(Path(path).resolve()), digest)


def module_factories(settings=None) -> ModuleSet:
    """The module factories of the emulator with their data and the calendar; ``settings`` (the
    gateway's ``Settings``) may choose the data: ``dcass_reference`` the DCASS reference data.
    Raises :class:`ReferenceDataError` for a reference data file it cannot use."""
    return compose(calendar(), dcass_factory(getattr(settings, "dcass_reference", "")), collateral_params(),
                   otc_params())
