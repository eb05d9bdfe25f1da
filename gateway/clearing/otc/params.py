"""Reference data and parameters of OTC Clear settlement, from the package's TOML files (read by
``gateway.refdata.otc_params``).

``gateway/clearing/data/otc/``: ``members.toml`` (demo clearing members and their accounts),
``settlement_accounts.toml`` (seed Tables 1 and 2: banks and sub-accounts), ``parameters.toml``
(currencies, cut-offs, rates, haircuts, fees, options). Dated tables pick the entry with the
latest ``effective_from`` on or before the date asked for.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

HOUSE = "HOUSE"
CLIENT = "CLIENT"
DAY_COUNTS = {"ACT/365": 365, "ACT/360": 360}


@dataclass(frozen=True, slots=True)
class Account:
    account_id: str
    kind: str  # HOUSE or CLIENT


@dataclass(frozen=True, slots=True)
class Member:
    member_id: str
    name: str
    accounts: tuple[Account, ...]
    rtgs_member: bool = False                           # settles through its own RTGS accounts
    settlement_banks: tuple[tuple[str, str], ...] = ()  # currency -> its settlement bank (not RTGS members)

    def settlement_bank(self, currency: str) -> str:
        """The bank named on the member's payments in ``currency`` (its own name for an RTGS member)."""
        return self.name if self.rtgs_member else dict(self.settlement_banks).get(currency, "")

    def account(self, account_id: str) -> Account | None:
        for a in self.accounts:
            if a.account_id == account_id:
                return a
        return None


@dataclass(frozen=True, slots=True)
class SubAccount:
    code: str
    name: str
    beneficiary: str
    types: tuple[int, ...]
    account_kind: str  # "" = any account


@dataclass(frozen=True, slots=True)
class Cutoffs:
    effective_from: date
    member_payment_due: time
    payout_from: time
    pvp_instruction_cutoff: time
    pvp_settlement: time
    im_call_available: time
    im_call_due: time
    intraday_vm_available: time
    intraday_vm_due: time
    deposit_request_cutoff: time
    withdrawal_request_cutoff: time
    deposit_payment_due: time


@dataclass(frozen=True, slots=True)
class Security:
    code: str
    description: str
    currency: str
    price: Decimal  # percent of nominal
    haircut: Decimal


@dataclass(frozen=True, slots=True)
class Routing:
    bank_code: str
    bank: str
    sub_account: str
    sub_account_name: str
    beneficiary: str


class Params:
    """All OTC Clear reference data, immutable once loaded."""

    def __init__(self, members: dict, accounts: dict, parameters: dict):
        self.members: dict[str, Member] = {}
        for m in members["members"]:
            accs = tuple(Account(a["id"], a["kind"]) for a in m["accounts"])
            assert all(a.kind in (HOUSE, CLIENT) for a in accs), m["id"]
            self.members[m["id"]] = Member(m["id"], m["name"], accs, bool(m.get("rtgs_member", False)),
                                           tuple(sorted(m.get("settlement_banks", {}).items())))
        self.banks: dict[str, str] = dict(accounts["banks"])
        self.settlement_bank: dict[str, str] = dict(accounts["settlement_bank"])
        self.pvp_bank: dict[str, str] = dict(accounts["pvp_bank"])
        self.sub_accounts = tuple(SubAccount(s["code"], s["name"], s["beneficiary"], tuple(s["types"]),
                                             s.get("account_kind", "")) for s in accounts["sub_accounts"])
        self.currencies: tuple[str, ...] = tuple(parameters["currencies"])
        self.day_count: dict[str, str] = {c: v["day_count"] for c, v in parameters["currencies"].items()}
        col = parameters["collateral"]
        self.cash_currencies: tuple[str, ...] = tuple(col["cash_currencies"])
        self.base_currency: str = col["base_currency"]
        self.gf_currency: str = col["guarantee_fund_currency"]
        self._cutoffs = sorted((_cutoffs(c) for c in parameters["cutoffs"]), key=lambda c: c.effective_from)
        self._pai = _dated_decimals(parameters["pai_rates"])
        self._fx = _dated_decimals(parameters["fx_rates"])
        self._haircuts = _dated_decimals(parameters["cash_haircuts"])
        self.securities: dict[str, Security] = {
            k: Security(k, v["description"], v["currency"], Decimal(v["price"]), Decimal(v["haircut"]))
            for k, v in parameters["cmu_securities"].items()}
        fees = parameters["fees"]
        self.fee_currency: str = fees["currency"]
        self.fee_payment_business_day: int = int(fees["payment_business_day"])
        self.clearing_fee: dict[str, int] = {k: int(v) for k, v in fees["clearing_fee"].items()}
        self.participating_margin: bool = bool(parameters["options"]["participating_margin"])
        self._check()

    def _check(self) -> None:
        for c in self.currencies:
            assert c in self.settlement_bank and self.settlement_bank[c] in self.banks, c
            assert self.day_count[c] in DAY_COUNTS, c
        for m in self.members.values():   # every member has a bank side in every currency
            assert all(m.settlement_bank(c) for c in self.currencies), m.member_id
        for c, b in self.pvp_bank.items():
            assert c in self.currencies and b in self.banks, c
        for t in range(1, 11):  # every type and account kind routes to exactly one sub-account
            for kind in (HOUSE, CLIENT):
                assert len([s for s in self.sub_accounts if self._matches(s, t, kind)]) == 1, (t, kind)

    @staticmethod
    def _matches(s: SubAccount, settlement_type: int, kind: str) -> bool:
        return settlement_type in s.types and s.account_kind in ("", kind)

    # ------------------------------------------------------------ lookups
    def routing(self, settlement_type: int, account_kind: str, currency: str) -> Routing:
        """Bank and sub-account of a payment (seed Tables 1 and 2)."""
        sub = next(s for s in self.sub_accounts if self._matches(s, settlement_type, account_kind))
        if settlement_type == 4 and currency in self.pvp_bank:
            bank = self.pvp_bank[currency]
        else:
            bank = self.settlement_bank[currency]
        return Routing(bank, self.banks[bank], sub.code, sub.name, sub.beneficiary)

    def cutoffs(self, on: date) -> Cutoffs:
        return _pick(self._cutoffs, on)

    def default_pai_rate(self, currency: str, on: date) -> Decimal:
        return _pick(self._pai, on)[1][currency]

    def default_fx_rate(self, currency: str, on: date) -> Decimal:
        return _pick(self._fx, on)[1][currency]

    def cash_haircut(self, currency: str, on: date) -> Decimal:
        return _pick(self._haircuts, on)[1][currency]

    def basis(self, day_count: str) -> int:
        return DAY_COUNTS[day_count]


def at(d: date, t: time) -> datetime:
    """The datetime of a cut-off time on a date."""
    return datetime.combine(d, t)


def _time(text: str) -> time:
    h, m = text.split(":")
    return time(int(h), int(m))


def _cutoffs(d: dict[str, Any]) -> Cutoffs:
    kw = {k: (v if k == "effective_from" else _time(v)) for k, v in d.items()}
    return Cutoffs(**kw)


def _dated_decimals(rows: list[dict]) -> list:
    out = []
    for r in rows:
        out.append((r["effective_from"], {k: Decimal(v) for k, v in r.items() if k != "effective_from"}))
    return sorted(out, key=lambda x: x[0])


def _pick(rows: list, on: date):
    chosen = None
    for r in rows:
        eff = r.effective_from if hasattr(r, "effective_from") else r[0]
        if eff <= on:
            chosen = r
    if chosen is None:
        chosen = rows[0]  # before the first entry: the oldest one applies
    return chosen
