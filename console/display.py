"""How the console shows a value, derived from the message declarations (one declaration of each fact).

- Money (an integer field whose description says *cents*) in currency units with its two decimals
  (every currency has two on the wire, JPY included): ``HKD 770,000.00``. The currency is the one
  the description names (``HKD cents``), else the row's ``currency``, else the asset of a CASH row.
  A quantity that is *cents, nominal cents or shares* is money unless the row is a stock (shares).
- Dates (``YYYYMMDD``) as ``2026-11-23`` and times (``HHMMSS``) as ``10:30:00``.
- Prices and strikes with their instrument class's decimals when the page knows them: from the
  row's ``price_decimals`` / ``strike_decimals``, else from the day's series by symbol (DQ102).
- Wall-clock stamps (``YYYY-MM-DDTHH:MM:SS``) with a space and their zone; a count whose
  0xFFFFFFFF means *none yet* as ``none``.
- Other integers with thousands separators; everything else as it is.

Only the display changes: forms still take the wire's integers (in the published decimals).
"""
from __future__ import annotations

from decimal import Decimal
from functools import lru_cache

MONEY_DECIMALS = 2   # protocol convention: money is int64 cents for every currency

MONEY, QUANTITY, DATE, TIME, PRICE, STRIKE, PLAIN = "money", "quantity", "date", "time", "price", "strike", "plain"
STAMP = "stamp"            # wall-clock text YYYY-MM-DDTHH:MM:SS: shown with a space and its zone
UNSET_U32 = "unset_u32"    # an integer whose 0xFFFFFFFF means "none yet"


def date_text(v) -> str:
    """``20261123`` (text or integer) as ``2026-11-23``; anything else as it is."""
    s = str(v) if v is not None else ""
    return f"{s[:4]}-{s[4:6]}-{s[6:]}" if len(s) == 8 and s.isdigit() else s


def time_text(v) -> str:
    """``103000`` as ``10:30:00``; anything else as it is."""
    s = str(v) if v is not None else ""
    return f"{s[:2]}:{s[2:4]}:{s[4:]}" if len(s) == 6 and s.isdigit() else s


def number(v) -> str:
    return f"{v:,}" if isinstance(v, int) and not isinstance(v, bool) else ("" if v is None else str(v))


def scaled(v: int, decimals: int) -> str:
    """An integer in ``decimals`` published decimals as a decimal number with separators."""
    if decimals <= 0:
        return f"{v:,}"
    return f"{Decimal(v).scaleb(-decimals):,.{decimals}f}"


def money(v: int, currency: str = "") -> str:
    text = scaled(v, MONEY_DECIMALS)
    return f"{currency} {text}" if currency else text


def _kind(f) -> tuple[str, str]:
    """(kind, fixed currency) of one declared field."""
    form = getattr(f, "form", "")
    if form == "YYYYMMDD":
        return DATE, ""
    if form == "HHMMSS":
        return TIME, ""
    doc = (f.doc or "").lower()
    if f.kind == "text" and "yyyy-mm-ddthh:mm:ss" in doc:
        return STAMP, "UTC" if "utc" in doc else ""
    if f.kind != "int" or getattr(f, "decimals", None) is not None:
        return PLAIN, ""
    if "0xffffffff: none" in doc:
        return UNSET_U32, ""
    if "cents" in doc:
        fixed = "HKD" if "hkd cents" in doc else ""
        return (QUANTITY if "shares" in doc else MONEY), fixed
    if f.name == "strike_price" or f.name == "strike":
        return STRIKE, ""
    if f.name.endswith("price") or f.name == "premium_price":
        return PRICE, ""
    return PLAIN, ""


@lru_cache(maxsize=512)
def formats(rec) -> dict[str, tuple[str, str]]:
    """Flattened column name -> (kind, fixed currency) for a declared record (nested records dotted)."""
    out: dict[str, tuple[str, str]] = {}

    def walk(r, prefix: str) -> None:
        for f in r.fields:
            if f.kind in ("filler", "items"):
                continue
            if f.kind == "record":
                walk(f.record, f"{prefix}{f.name}.")
            else:
                out[prefix + f.name] = _kind(f)
    walk(rec, "")
    return out


def items_record(answer_cls):
    """The record of an answer's items (None: an answer without items)."""
    rec = answer_cls.__record__
    return rec.items.record if rec.has_items else None


def _currency(fixed: str, row: dict, prefix: str) -> str:
    if fixed:
        return fixed
    ccy = row.get(prefix + "currency")
    if isinstance(ccy, str) and len(ccy) == 3 and ccy.isalpha():
        return ccy
    if row.get(prefix + "asset_class") == "CASH":
        return str(row.get(prefix + "asset") or "")
    return ""


def _is_stock(row: dict, prefix: str) -> bool:
    cls = row.get(prefix + "asset_class")
    if cls is not None:
        return cls == "STOCK"
    asset = row.get(prefix + "asset") or row.get(prefix + "instrument") or ""
    return isinstance(asset, str) and asset.isdigit()


def cell(fmt: dict, column: str, row: dict, series: dict | None = None) -> str:
    """The text of ``row[column]`` under the record's formats (``series``: symbol -> decimals)."""
    v = row.get(column)
    kind, fixed = fmt.get(column, (PLAIN, ""))
    if v is None or isinstance(v, bool):
        return "" if v is None else str(v)
    prefix = column.rsplit(".", 1)[0] + "." if "." in column else ""
    if kind == DATE:
        return date_text(v) if v else ""
    if kind == TIME:
        return time_text(v)
    if kind == STAMP:
        return f"{v.replace('T', ' ')} {fixed}".strip() if v else ""
    if kind == UNSET_U32 and v == 0xFFFFFFFF:
        return "none"
    if not isinstance(v, int):
        return str(v)
    if kind == MONEY or (kind == QUANTITY and not _is_stock(row, prefix)):
        return money(v, _currency(fixed, row, prefix))
    if kind in (PRICE, STRIKE):
        decimals = row.get(prefix + ("strike_decimals" if kind == STRIKE else "price_decimals"))
        if not isinstance(decimals, int) and series:
            known = series.get(row.get(prefix + "series_symbol") or row.get("series_symbol"))
            if known is not None:
                decimals = known[1 if kind == STRIKE else 0]
        if isinstance(decimals, int) and not isinstance(decimals, bool):
            return scaled(v, decimals)
    return number(v)
