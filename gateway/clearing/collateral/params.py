"""CCMS parameters and reference data, from the parsed package data (``data/collateral/*.toml``,
read by ``gateway.refdata.collateral_params``).

Dated tables hold rows with an ``effective`` date; :func:`dated` picks the row in force on a
business date (latest ``effective`` <= date). Nothing here holds a number of its own: every rate,
limit and time comes from the TOML files.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from decimal import Decimal
from typing import Any



def dated(rows: list[dict], on: date) -> dict:
    """The row of a dated table in force on ``on``."""
    best = None
    for row in rows:
        if row["effective"] <= on and (best is None or row["effective"] >= best["effective"]):
            best = row
    if best is None:
        raise LookupError(f"no parameter row in force on {on}")
    return best


def normalise_stock(code: str) -> str | None:
    """HK stock codes as 5 digits ("700" -> "00700"); None if not a stock code."""
    c = code.strip()
    if not c.isdigit() or len(c) > 5 or int(c) == 0:
        return None
    return f"{int(c):05d}"


def _time(text: str) -> time:
    return time.fromisoformat(text)


@dataclass(frozen=True, slots=True)
class DebtInstrument:
    id: str
    type: str       # "EFBN" | "UST"
    currency: str
    maturity: date


@dataclass(frozen=True, slots=True)
class CoverageRule:
    cash_ratio_mode: str        # SETTLEMENT_CASH | NON_CASH_CAP
    cash_ratio: Decimal
    non_cash_cap: Decimal
    rmb_fixed_limit: int        # cents
    rmb_non_cash_cap: Decimal
    rmb_cap_base: str           # IN_LIMIT | TOTAL
    rmb_limit_scope: str        # PARTICIPANT | ACCOUNT


class Params:
    """All CCMS parameters. Build with :meth:`load` (package data) or from dicts (tests)."""

    def __init__(self, parameters: dict[str, Any], instruments: dict[str, Any], mandates: dict[str, Any] | None = None):
        self.raw = parameters
        cur = parameters["currencies"]
        self.base: str = cur["base"]
        self.accepted_cash: tuple[str, ...] = tuple(cur["accepted_cash"])
        self.settlement_order: tuple[str, ...] = tuple(cur["settlement_order"])
        self.cash_priority: tuple[str, ...] = tuple(cur["cash_priority"])
        self.cash_rank: dict[tuple[str, str], int] = {("CASH", c): i for i, c in enumerate(self.cash_priority)}
        self.rmb: str = cur["rmb"]
        self.settlement_rank: dict[str, int] = {c: i for i, c in enumerate(self.settlement_order)}
        self._fx_default = parameters["fx_default"]
        self._cash_haircut = parameters["cash_haircut"]
        self._debt_haircut = parameters["debt_haircut"]
        self._stock_haircut = parameters["stock_haircut"]
        nc = parameters["non_cash"]
        self.non_cash_priority: tuple[str, ...] = tuple(nc["priority"])
        self.non_cash_rank: dict[str, int] = {t: i for i, t in enumerate(self.non_cash_priority)}
        self.fx_haircut_combination: str = nc["fx_haircut_combination"]
        self.stock_account_kinds: tuple[str, ...] = tuple(nc["stock_account_kinds"])
        self.default_debt_price = Decimal(nc["default_debt_price"])
        self._coverage = parameters["coverage"]
        self.clearing_houses: tuple[str, ...] = tuple(sorted(self._coverage))
        self.ccass_run: time = _time(parameters["ccass"]["settlement_run"])
        xm = parameters["cross_market"]
        self.operator_requirement_houses: tuple[str, ...] = tuple(xm["operator_requirement_houses"])
        self.transfer_cutoff: time = _time(xm["transfer_cutoff"])
        mc = parameters["margin_call"]
        self.call_due_minutes: int = int(mc["due_minutes"])
        self.call_latest_due: time = _time(mc["latest_due"])
        self.call_next_day_due: time = _time(mc["next_day_due"])
        ins = parameters["instructions"]
        self.cash_withdrawal_cutoff: time = _time(ins["cash_withdrawal_cutoff"])
        self.cash_withdrawal_run_time: time = _time(ins["cash_withdrawal_run_time"])
        self.reserve_fund: dict[str, tuple[str, ...]] = {k: tuple(v) for k, v in parameters["reserve_fund"].items()}
        self.reserve_fund_houses: tuple[str, ...] = tuple(parameters["reserve_fund_requirement"]["houses"])
        it = parameters["interest"]
        self.day_count: int = int(it["day_count"])
        self.interest_rounding: str = it["rounding"]
        self.posting: str = it["posting"]
        self._accommodation = parameters["accommodation"]
        acc = parameters["accounts"]
        self.account_kinds: tuple[str, ...] = tuple(acc["kinds"])
        self.default_accounts: dict[str, str] = dict(acc["default"])
        mp = dict(parameters["mapping"])
        self.client_types: frozenset[str] = frozenset(mp.pop("client_types"))
        self.client_only_to_client: bool = bool(mp.pop("client_only_to_client"))
        self.type_to_kind: dict[str, str] = mp
        st = parameters["settlement"]
        self.settlement_due: time = _time(st["due_time"])
        self.failed_collection: str = st["failed_collection"]
        # reference data
        # demo bank mandates: (participant, currency) -> (bank, bank account)
        self.mandates: dict[tuple[str, str], tuple[str, str]] = {
            (m["participant"], m["currency"]): (m["bank"], m["bank_account"]) for m in (mandates or {}).get("mandates", [])
        }
        self.debt: dict[str, DebtInstrument] = {
            d["id"]: DebtInstrument(d["id"], d["type"], d["currency"], d["maturity"]) for d in instruments.get("debt", [])
        }
        self._stock_lists = instruments.get("stock_list", [])
        self._eligible_cache: dict[int, tuple[dict, dict]] = {}
        self._rule_cache: dict[int, tuple[dict, CoverageRule]] = {}
        self._rule_on: dict[tuple[str, date], CoverageRule] = {}   # (clearing house, date) -> rule

    # ------------------------------------------------------------ dated look-ups
    def fx_default(self, on: date) -> dict[str, Decimal]:
        row = dated(self._fx_default, on)
        return {c: Decimal(row[c]) for c in self.accepted_cash if c in row}

    def cash_haircut(self, currency: str, on: date) -> Decimal:
        """Haircut on cash in ``currency`` used for a requirement in another currency."""
        return Decimal(dated(self._cash_haircut, on)[currency])

    def debt_haircut(self, instrument: DebtInstrument, on: date) -> Decimal | None:
        """Haircut by remaining time to maturity; None when matured (not acceptable)."""
        row = dated(self._debt_haircut, on)
        return debt_bucket_rate(row[instrument.type], row["bucket_years"], instrument.maturity, on)

    def stock_floor(self, on: date) -> Decimal:
        return Decimal(dated(self._stock_haircut, on)["floor"])

    def stock_default_rate(self, on: date) -> Decimal:
        return Decimal(dated(self._stock_haircut, on)["default"])

    def eligible_stocks(self, on: date) -> dict[str, dict]:
        """Eligible stocks on ``on`` (normalised code -> row). Built once per row of the dated
        list and shared: callers must not modify it."""
        row = dated(self._stock_lists, on)
        hit = self._eligible_cache.get(id(row))
        if hit is None or hit[0] is not row:
            hit = (row, {normalise_stock(s["code"]): dict(s, currency=row.get("currency", self.base))
                         for s in row["stocks"]})
            self._eligible_cache[id(row)] = hit
        return hit[1]

    def coverage_rule(self, clearing_house: str, on: date) -> CoverageRule:
        hit = self._rule_on.get((clearing_house, on))
        if hit is None:
            hit = self._rule_on[(clearing_house, on)] = self._coverage_rule(clearing_house, on)
        return hit

    def _coverage_rule(self, clearing_house: str, on: date) -> CoverageRule:
        r = dated(self._coverage[clearing_house], on)
        hit = self._rule_cache.get(id(r))
        if hit is None or hit[0] is not r:
            hit = self._rule_cache[id(r)] = (r, self._rule(r))
        return hit[1]

    @staticmethod
    def _rule(r: dict) -> CoverageRule:
        return CoverageRule(r["cash_ratio_mode"], Decimal(r["cash_ratio"]), Decimal(r["non_cash_cap"]),
                            int(r["rmb_fixed_limit"]), Decimal(r["rmb_non_cash_cap"]), r["rmb_cap_base"],
                            r["rmb_limit_scope"])

    def accommodation_rate(self, on: date) -> Decimal:
        return Decimal(dated(self._accommodation, on)["rate"])


def add_years(d: date, n: int) -> date:
    """Same day and month ``n`` years later; 29 February becomes 28 February."""
    try:
        return d.replace(year=d.year + n)
    except ValueError:
        return d.replace(year=d.year + n, day=28)


def debt_bucket_index(bucket_years: list[int], maturity: date, on: date) -> int | None:
    """0: maturity < on + 1y; 1: on + 1y <= maturity <= on + 5y; 2: maturity > on + 5y.
    None when matured (maturity <= on). Generalised for any ascending ``bucket_years``."""
    if maturity <= on:
        return None
    lo, *rest = bucket_years
    if maturity < add_years(on, lo):
        return 0
    for i, y in enumerate(rest, start=1):
        if maturity <= add_years(on, y):
            return i
    return len(bucket_years)


def debt_bucket_rate(rates: list[str], bucket_years: list[int], maturity: date, on: date) -> Decimal | None:
    i = debt_bucket_index(bucket_years, maturity, on)
    return None if i is None else Decimal(rates[i])
