"""A small fake of the DCASS interface CCMS relies on, and helpers to drive the core."""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from gateway.clearing.core import ClearingCore, Context, Module, Outcome
from gateway.clearing.errors import ClearingError, INVALID_VALUE
from gateway.clearing.collateral import CollateralModule, Params
from gateway.clearing.dcass.published import MarginChanged  # what DCASS publishes for CCMS
from gateway.refdata import calendar, collateral_params

P = "CP001"
Q = "CP002"
T0 = datetime(2025, 3, 3, 9, 0)          # Monday, a business day


class AccountType(enum.Enum):
    HOUSE = 1
    MARKET_MAKER = 2
    OMNIBUS_CLIENT = 3
    INDIVIDUAL_CLIENT = 4
    DAILY = 5
    SINK = 6


@dataclass
class DAccount:
    account_type: AccountType
    clearing_house: str


@dataclass(frozen=True)
class Requirement:
    owner: str
    clearing_house: str
    account_id: str
    account_type: AccountType
    currency: str
    requirement: int


@dataclass
class ShortCall:
    series_key: bytes
    underlying: str
    contract_size: int
    short: int
    covered: int = 0
    margin_per_contract: int = 0        # requirement per uncovered contract (cents, HKD)


@dataclass(frozen=True)
class Money:
    """A DCASS account's money of a business date (the fields CCMS reads)."""

    participant: str
    account_id: str
    clearing_house: str
    currency: str
    business_date: object
    net: int


@dataclass(frozen=True)
class SetRequirement:          # test-only command
    participant: str
    account_id: str
    currency: str
    amount: int


@dataclass(frozen=True)
class SetShort:                # test-only command: the short call position changes
    participant: str
    account_id: str
    series_key: bytes
    short: int


class FakeDcass(Module):
    name = "dcass"

    def __init__(self, core):
        super().__init__(core)
        self.accts: dict[tuple[str, str], DAccount] = {}
        self.base: dict[tuple[str, str, str], int] = {}
        self.positions: dict[tuple[str, str], list[ShortCall]] = {}
        self.set_covered_calls: list[tuple] = []
        self.money: list[Money] = []         # what DCASS's end of day produced (tests set it)

    def add_account(self, participant, account_id, account_type, clearing_house="HKCC"):
        self.accts[(participant, account_id)] = DAccount(account_type, clearing_house)

    # ---- the interface CCMS uses
    def money_of_day(self, on):
        return [m for m in self.money if m.business_date == on]

    def deliveries_of_day(self, on):
        return []                      # no exercises in the collateral unit tests

    def input_cutoff(self):
        import tomllib
        from importlib import resources
        text = resources.files("gateway.clearing").joinpath("data/dcass/parameters.toml").read_text()
        return tomllib.loads(text)["cutoffs"]["input_cutoff"]

    def account(self, participant, account_id):
        try:
            return self.accts[(participant, account_id)]
        except KeyError:
            raise ClearingError(INVALID_VALUE, f"unknown DCASS account {account_id}", field="account_id") from None

    def _requirement(self, p, a, ccy):
        r = self.base.get((p, a, ccy), 0)
        if ccy == "HKD":
            r += sum((s.short - s.covered) * s.margin_per_contract for s in self.positions.get((p, a), []))
        return r

    def margin_requirements(self, participant):
        out = []
        keys = {(p, a, c) for (p, a, c) in self.base if p == participant}
        keys |= {(p, a, "HKD") for (p, a), v in self.positions.items() if p == participant and v}
        for p, a, c in sorted(keys):
            acc = self.accts[(p, a)]
            out.append(Requirement(p, acc.clearing_house, a, acc.account_type, c, self._requirement(p, a, c)))
        return out

    def short_call_positions(self, participant, account_id):
        self.account(participant, account_id)
        return list(self.positions.get((participant, account_id), []))

    def set_covered(self, participant, account_id, series_key, covered_qty, ctx):
        self.set_covered_calls.append((participant, account_id, series_key, covered_qty))
        for s in self.positions.get((participant, account_id), []):
            if s.series_key == series_key:
                if covered_qty > s.short:
                    raise ClearingError(INVALID_VALUE, "covered > short")
                s.covered = covered_qty
                return [self._changed(participant, account_id, "HKD")]
        raise ClearingError(INVALID_VALUE, "no such series")

    # ---- test commands
    def _changed(self, p, a, ccy):
        acc = self.accts[(p, a)]
        return MarginChanged(p, acc.clearing_house, a, acc.account_type, ccy, self._requirement(p, a, ccy))

    def commands(self):
        return {SetRequirement: self._set_req, SetShort: self._set_short}

    def _set_req(self, cmd, ctx):
        self.base[(cmd.participant, cmd.account_id, cmd.currency)] = cmd.amount
        return Outcome(None, [self._changed(cmd.participant, cmd.account_id, cmd.currency)])

    def _set_short(self, cmd, ctx):
        for s in self.positions.get((cmd.participant, cmd.account_id), []):
            if s.series_key == cmd.series_key:
                s.short = cmd.short          # DCASS does not touch `covered`: CCMS reconciles
        return Outcome(None, [self._changed(cmd.participant, cmd.account_id, "HKD")])

    def snapshot(self):
        return {"base": {"|".join(k): v for k, v in sorted(self.base.items())}}


PARAMS = collateral_params()


class Harness:
    """A core with the fake DCASS and CCMS; participant P has DCASS accounts on both houses."""

    def __init__(self, start: datetime = T0, params: Params | None = None):
        self.core = ClearingCore(start, calendar(), [FakeDcass, lambda c: CollateralModule(c, params or PARAMS)])
        self.dcass: FakeDcass = self.core.module("dcass")
        self.ccms: CollateralModule = self.core.module("ccms")
        for p in (P, Q):
            self.dcass.add_account(p, "H1", AccountType.HOUSE, "HKCC")
            self.dcass.add_account(p, "MM1", AccountType.MARKET_MAKER, "HKCC")
            self.dcass.add_account(p, "OC1", AccountType.OMNIBUS_CLIENT, "HKCC")
            self.dcass.add_account(p, "IC1", AccountType.INDIVIDUAL_CLIENT, "HKCC")
            self.dcass.add_account(p, "IC2", AccountType.INDIVIDUAL_CLIENT, "HKCC")
            self.dcass.add_account(p, "SH1", AccountType.HOUSE, "SEOCH")
            self.dcass.add_account(p, "SC1", AccountType.OMNIBUS_CLIENT, "SEOCH")
            for ccy in self.ccms.p.accepted_cash:       # test participants: a mandate per currency
                self.ccms.mandates[(p, ccy)] = ("Test Bank", f"{p}-{ccy}")

    def ctx(self, at=None, who=P):
        return Context(at or self.core.now, who, "user", operator=False)

    def run(self, cmd, at=None, who=P):
        return self.core.execute(cmd, self.ctx(at, who))

    def op(self, cmd, at=None):
        return self.core.execute(cmd, Context(at or self.core.now, None, "operator", operator=True))

    def query(self, q, who=P):
        ctx = Context(self.core.now, who, "user", operator=who is None)
        return self.core.query(q, ctx)

    def margin(self, account, amount, currency="HKD", p=P, at=None):
        return self.run(SetRequirement(p, account, currency, amount), at=at, who=p)

    def rejects(self, cmd, error, at=None, who=P, operator=False):
        """Assert a rejection with ``error`` and that nothing changed."""
        import pytest
        if at is not None:
            self.core.advance(at)
        before = self.core.state_hash()
        ctx = Context(at or self.core.now, None if operator else who, "u", operator=operator)
        with pytest.raises(ClearingError) as ei:
            self.core.execute(cmd, ctx)
        assert ei.value.error == error, ei.value
        assert self.core.state_hash() == before
        return ei.value


def params_with(debt=(), **overrides) -> Params:
    """Default package parameters plus test debt instruments; ``overrides`` replace
    ``coverage.<CH>`` rows fields, e.g. ``rmb_cap_base="TOTAL"``."""
    import copy
    import tomllib
    from importlib import resources
    base = resources.files("gateway.clearing").joinpath("data/collateral")
    p = tomllib.loads(base.joinpath("parameters.toml").read_text())
    i = tomllib.loads(base.joinpath("instruments.toml").read_text())
    i = copy.deepcopy(i)
    i["debt"] = list(i["debt"]) + [dict(d) for d in debt]
    for ch in p["coverage"]:
        for row in p["coverage"][ch]:
            row.update(overrides)
    return Params(p, i)
