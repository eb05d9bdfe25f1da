"""The CCMS collateral module of the clearing core (pure, deterministic; see the package docstring).

State (all in :meth:`CollateralModule.snapshot`):

- collateral accounts per (participant, clearing house, account id) with cash, debt, general stock
  and specific (covered call) stock holdings;
- explicit DCASS -> collateral account mappings, the DCASS requirements last seen per account;
- operator-set FX rates, prices, interest rates, stock haircut rates;
- instructions (deposits, withdrawals) with their status; reserve fund contributions;
- the last coverage result per collateral account and the open margin calls;
- covered call records; daily interest / accommodation accruals.

The only other module used is ``dcass`` through the narrow interface it declares for CCMS
(``dcass.published.DcassForCollateral``) and the events DCASS publishes for it (imported from
``dcass.published``, matched by type): ``MarginChanged``, and ``PositionChanged`` for the covered
calls (a cover follows its short position down, see :meth:`CollateralModule._reconcile_covers`).
"""
from __future__ import annotations

import re
from collections import defaultdict
from operator import attrgetter
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from ..core import Context, Module, Outcome
from ..derived import mismatch
from ..dcass.published import DcassForCollateral, MarginChanged, PositionChanged
from ..errors import ClearingError
from ..money_text import money
from . import codes as C
from .coverage import EMPTY, Need, Result, allocate, floors
from .messages import (
    Accrual, AccountMappingQuery, ContributeReserveFund, CollateralAccountInfo, CollateralAccountOpened,
    CollateralAccountsQuery, CollateralParametersAnswer, CollateralParametersQuery, CollateralPriceSet,
    CoverageAnswer, CoverageChanged, CoverageQuery, CoveredCall, CoveredCallChanged, CoveredCallsQuery,
    DcassAccountMapped, DepositCash, DepositSecurities, EligibleCollateralQuery, EligibleInstrument,
    FxRateSet, Holding, HoldingsAnswer, HoldingsQuery, Instruction, InstructionAccepted,
    InstructionCompleted, InstructionsQuery, InterestPosted, InterestQuery, InterestRateSet,
    LodgeCoveredCall, MapDcassAccount, MappingEntry, MarginCall, MarginCallChanged, MarginCallInfo,
    MarginCallsQuery, OpenCollateralAccount,
    ReleaseCoveredCall, ReserveFundContributed, ReserveFundHolding, ReserveFundQuery, SetCollateralPrice,
    SetFxRate, SetInterestRate, SetStockHaircut, StockHaircutSet, WithdrawCash, WithdrawSecurities,
)
from .ccass import CcassDeliveries
from .crossmarket import CrossMarket
from .money import MoneyMoves
from .reserve import ReserveFund
from .params import Params, normalise_stock
from .coverage_state import CoverageState
from .valuation import CTX, Valuer

ACCOUNT_ID = re.compile(r"^[A-Z0-9]{1,10}$")
SEOCH = "SEOCH"
_UNSET = object()   # an argument not given

AccKey = tuple[str, str, str]   # (participant, clearing house, collateral account)


def _new_account(kind: str) -> dict:
    return {"kind": kind, "cash": {}, "debt": {}, "stock": {}, "specific": {}}


class CollateralModule(MoneyMoves, ReserveFund, CrossMarket, CcassDeliveries, Module):
    name = "ccms"

    def __init__(self, core, params: Params | None = None):
        super().__init__(core)
        if params is None:
            raise TypeError("CollateralModule needs its parameters (gateway.refdata.collateral_params())")
        self.p = params
        self.accounts: dict[AccKey, dict] = {}
        self.mapping: dict[AccKey, str] = {}             # (p, ch, dcass account) -> collateral account
        self.dcass_types: dict[AccKey, str] = {}         # (p, ch, dcass account) -> DCASS account type
        self.requirements: dict[tuple[str, str, str, str], int] = {}  # (p, ch, dcass acc, ccy) -> cents
        self.fx: dict[str, Decimal] = {}
        self.prices: dict[str, Decimal] = {}
        self.interest_rates: dict[str, Decimal] = {}
        self.stock_rates: dict[str, Decimal] = {}
        self.instructions: dict[int, dict] = {}
        self.next_instruction_id = 1
        self.results: dict[AccKey, Result] = {}
        self.calls: dict[tuple[str, str, str, str], dict] = {}
        self.covers: dict[tuple[str, str, bytes], dict] = {}  # (p, dcass acc, series key) -> record
        self.reserve: dict[tuple[str, str, str, str, str], int] = {}
        self.accruals: list[dict] = []
        self._init_money()
        self._init_reserve()
        self._init_cross_market()
        self._init_ccass()
        # the derived state (not in the snapshot): what is dirty, the valuer (coverage_state.py)
        self.coverage = CoverageState(self)
        self._acc_ids: dict[tuple[str, str], dict[str, None]] = {}   # (p, ch) -> ids in self.accounts
        # (p, ch) -> its part of requirements / dcass_types (see _pair_requirements)
        self._pair_reqs: dict[tuple[str, str], dict[tuple, int]] = {}
        self._pair_types: dict[tuple[str, str], dict[tuple, str]] = {}
        self._defaults = {acc: kind for kind, acc in self.p.default_accounts.items()}
        self._kind_rank = {k: i for i, k in enumerate(self.p.account_kinds)}

    # ================================================================== registration
    def commands(self):
        return {
            OpenCollateralAccount: self._open_account,
            MapDcassAccount: self._map_account,
            DepositCash: self._deposit_cash,
            WithdrawCash: self._withdraw_cash,
            DepositSecurities: self._deposit_securities,
            WithdrawSecurities: self._withdraw_securities,
            ContributeReserveFund: self._contribute_reserve_fund,
            LodgeCoveredCall: self._lodge_covered_call,
            ReleaseCoveredCall: self._release_covered_call,
            SetFxRate: self._set_fx_rate,
            SetCollateralPrice: self._set_price,
            SetInterestRate: self._set_interest_rate,
            SetStockHaircut: self._set_stock_haircut,
            **self._money_commands(),
            **self._reserve_commands(),
            **self._cross_market_commands(),
            **self._ccass_commands(),
        }

    def queries(self):
        return {
            CollateralAccountsQuery: self._q_accounts,
            AccountMappingQuery: self._q_mapping,
            HoldingsQuery: self._q_holdings,
            CoverageQuery: self._q_coverage,
            MarginCallsQuery: self._q_margin_calls,
            InstructionsQuery: self._q_instructions,
            ReserveFundQuery: self._q_reserve_fund,
            CoveredCallsQuery: self._q_covered_calls,
            InterestQuery: self._q_interest,
            CollateralParametersQuery: self._q_parameters,
            EligibleCollateralQuery: self._q_eligible,
            **self._money_queries(),
            **self._reserve_queries(),
            **self._cross_market_queries(),
            **self._ccass_queries(),
        }

    # ================================================================== helpers: who, where
    @staticmethod
    def _is_operator(ctx: Context) -> bool:
        return ctx.operator or ctx.participant is None

    def _who(self, participant: str, ctx: Context) -> str:
        """The participant a command acts for: the caller; the operator must name one."""
        if self._is_operator(ctx):
            if not participant:
                raise ClearingError(C.PARTICIPANT_REQUIRED, field="participant")
            return participant
        if participant and participant != ctx.participant:
            raise ClearingError(C.ACCOUNT_NOT_CALLERS, f"{participant} is not {ctx.participant}", field="participant")
        return ctx.participant

    def _who_query(self, participant: str, ctx: Context) -> str | None:
        """For list queries: None = every participant (operator only)."""
        if self._is_operator(ctx):
            return participant or None
        return self._who(participant, ctx)

    def _ch(self, clearing_house: str, field: str = "clearing_house") -> str:
        if clearing_house not in self.p.clearing_houses:
            raise ClearingError(C.UNKNOWN_CLEARING_HOUSE, clearing_house, field=field)
        return clearing_house

    def _default_ids(self) -> dict[str, str]:
        """Default account id -> kind (shared: do not modify)."""
        return self._defaults

    def _kind(self, p: str, ch: str, acc: str) -> str:
        """Kind of an existing collateral account, else CCMS_UNKNOWN_ACCOUNT (or mismatch)."""
        a = self.accounts.get((p, ch, acc))
        if a is not None:
            return a["kind"]
        kind = self._default_ids().get(acc)
        if kind is not None:
            return kind
        other = [c for c in self.p.clearing_houses if c != ch and (p, c, acc) in self.accounts]
        if other:
            raise ClearingError(C.CLEARING_HOUSE_MISMATCH, f"{acc} is a {other[0]} account", field="account")
        raise ClearingError(C.UNKNOWN_ACCOUNT, acc, field="account")

    def _ensure(self, p: str, ch: str, acc: str) -> dict:
        for did, kind in self._default_ids().items():
            if (p, ch, did) not in self.accounts:
                self._add_account((p, ch, did), _new_account(kind))
        a = self.accounts.get((p, ch, acc))
        if a is None:
            a = self._add_account((p, ch, acc), _new_account(self._kind(p, ch, acc)))
        return a

    # The parts of requirements and dcass_types of one (p, ch), from their indexes; built from the
    # state on first use (also after a snapshot of an older version was restored).
    def _pair_requirements(self, p: str, ch: str) -> dict[tuple[str, str, str, str], int]:
        part = self._pair_reqs.get((p, ch))
        if part is None:
            part = self._pair_reqs[(p, ch)] = {k: v for k, v in self.requirements.items() if k[:2] == (p, ch)}
        return part

    def _pair_dcass_types(self, p: str, ch: str) -> dict[AccKey, str]:
        part = self._pair_types.get((p, ch))
        if part is None:
            part = self._pair_types[(p, ch)] = {k: v for k, v in self.dcass_types.items() if k[:2] == (p, ch)}
        return part

    def _set_requirement(self, key: tuple[str, str, str, str], cents: int) -> None:
        self._pair_requirements(key[0], key[1])[key] = cents
        self.requirements[key] = cents

    def _replace_requirements(self, p: str, ch: str, reqs: dict[tuple[str, str, str, str], int]) -> dict:
        """The requirements of (p, ch) become ``reqs`` (keys of (p, ch) only); returns them."""
        old = self._pair_requirements(p, ch)
        if old == reqs:
            return old
        requirements = self.requirements
        for k in old:
            del requirements[k]
        requirements.update(reqs)
        self._pair_reqs[(p, ch)] = reqs
        return reqs

    def _set_type(self, key: AccKey, account_type: str) -> None:
        self._pair_dcass_types(key[0], key[1])[key] = account_type
        self.dcass_types[key] = account_type

    def _hold(self, account: dict, book: str, asset: str, quantity: int) -> None:
        """The one writer of holdings: ``quantity`` of ``asset`` in ``book`` ("cash", "debt", "stock",
        "specific"); an emptied securities holding is removed, cash keeps its zero."""
        if quantity == 0 and book != "cash":
            del account[book][asset]
        else:
            account[book][asset] = quantity

    def _add_account(self, key: AccKey, account: dict) -> dict:
        self.accounts[key] = account
        self._acc_ids.setdefault(key[:2], {})[key[2]] = None
        return account

    def _view(self, p: str, ch: str, acc: str) -> dict:
        """Read-only view of an account (a fresh empty one for a default account not yet used)."""
        a = self.accounts.get((p, ch, acc))
        return a if a is not None else _new_account(self._kind(p, ch, acc))

    def _dcass(self) -> DcassForCollateral | None:
        """The DCASS module, through the interface it declares for CCMS (None in a core without it)."""
        try:
            return self.core.module("dcass")
        except KeyError:
            return None

    def _dcass_account(self, p: str, dcass_account: str):
        d = self._dcass()
        if d is None:
            raise ClearingError(C.UNKNOWN_DCASS_ACCOUNT, "no DCASS module", field="dcass_account")
        try:
            return d, d.account(p, dcass_account)
        except ClearingError as e:
            raise ClearingError(C.UNKNOWN_DCASS_ACCOUNT, str(e), field="dcass_account") from None

    def _fx_rates(self) -> dict[str, Decimal]:
        fx = self.p.fx_default(self.core.business_date)
        fx.update(self.fx)
        fx[self.p.base] = Decimal(1)
        return fx

    def _valuer(self) -> Valuer:
        """The valuer of the current inputs, shared while they stay (read-only, memoising)."""
        return self.coverage.valuer()

    def _positive(self, quantity: int, field: str) -> None:
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity <= 0:
            raise ClearingError(C.INVALID_QUANTITY, str(quantity), field=field)

    def _currency(self, currency: str, field: str = "currency") -> str:
        if currency not in self.p.accepted_cash:
            raise ClearingError(C.UNKNOWN_CURRENCY, currency, field=field)
        return currency

    def _security(self, instrument: str, field: str = "instrument") -> tuple[str, str]:
        """(asset class, asset) of a securities instrument id or stock code (not checked for eligibility)."""
        inst = self.p.debt.get(instrument)
        if inst is not None:
            return inst.type, inst.id
        code = normalise_stock(instrument)
        if code is None:
            raise ClearingError(C.INELIGIBLE_COLLATERAL, instrument, field=field)
        return "STOCK", code

    def _mapped(self, p: str, ch: str, dcass_account: str, account_type: str | None) -> str:
        acc = self.mapping.get((p, ch, dcass_account))
        if acc is not None:
            return acc
        kind = self.p.type_to_kind.get(account_type or "", "HOUSE")
        return self.p.default_accounts[kind]

    def _routes(self, p: str, ch: str, types: dict[AccKey, str]) -> dict[str, str]:
        """DCASS account -> collateral account (:meth:`_mapped`) for the DCASS accounts of (p, ch) in
        ``types``."""
        return {k[2]: self._mapped(p, ch, k[2], t) for k, t in types.items()}

    def _earmarked(self, p: str, ch: str, acc: str, code: str) -> int:
        """Specific shares earmarked: for covered calls, and for assigned covered calls' deliveries
        not yet settled in CCASS."""
        covers = sum(self._covered_now(k, r) * r["contract_size"] for k, r in self.covers.items()
                     if k[0] == p and r["clearing_house"] == ch and r["account"] == acc and r["underlying"] == code)
        return covers + (self._pending_covered(p, ch, acc, code) if self.ccass else 0)

    def _next_id(self) -> int:
        i = self.next_instruction_id
        self.next_instruction_id += 1
        return i

    # ================================================================== requirements and coverage
    def _pull(self, p: str, only_ch: str | None = None) -> tuple[dict, dict] | None:
        """The participant's requirements and DCASS account types from DCASS (pure read); with
        ``only_ch``, those of that clearing house only."""
        d = self._dcass()
        if d is None:
            return None
        rows = getattr(d, "margin_rows", None)
        if rows is None:
            rows = [(r.clearing_house, r.account_id, r.account_type.name, r.currency, r.requirement)
                    for r in d.margin_requirements(p)]
        else:
            rows = rows(p)
        reqs: dict[tuple[str, str, str, str], int] = {}
        types: dict[AccKey, str] = {}
        for ch, acc, atype, ccy, value in rows:
            if ch == only_ch or only_ch is None:
                k = (p, ch, acc, ccy)
                if k in reqs:   # several rows of one account and currency: their sum
                    reqs[k] += int(value)
                else:
                    reqs[k] = int(value)
                types[(p, ch, acc)] = atype
        return reqs, types

    def _requirements(self, p: str, ch: str) -> tuple[dict, dict]:
        """The requirements and DCASS account types of (p, ch): DCASS's now (else the last seen)."""
        types = dict(self._pair_dcass_types(p, ch))
        pulled = self._pull(p, ch)
        if pulled is None:
            return dict(self._pair_requirements(p, ch)), types
        types.update(pulled[1])
        return pulled[0], types

    def _account_order(self, p: str, ch: str, accs: set[str]) -> list[str]:
        """The collateral accounts in their order of coverage (by kind, then id)."""
        kinds = self._kind_rank
        return sorted(accs, key=lambda a: (kinds.get(self._kind(p, ch, a), 99), a))

    def _pool(self, account: dict) -> dict[tuple[str, str], int]:
        pool = {("CASH", ccy): amt for ccy, amt in account["cash"].items() if amt > 0}
        if account["debt"]:
            for iid, q in account["debt"].items():
                if q > 0:
                    pool[(self.p.debt[iid].type, iid)] = q
        if account["stock"] and account["kind"] in self.p.stock_account_kinds:
            for code, q in account["stock"].items():
                if q > 0:
                    pool[("STOCK", code)] = q
        return pool

    def _compute(self, p: str, ch: str, reqs: dict, types: dict,
                 override: dict[str, dict] | None = None) -> dict[str, Result]:
        """Coverage of every collateral account of (p, ch). Pure."""
        bd = self.core.business_date
        rule = self.p.coverage_rule(ch, bd)
        routes = self._routes(p, ch, types)
        by_acc: dict[str, dict[str, int]] = {}
        for (_, _, dacc, ccy), amt in reqs.items():
            acc = routes.get(dacc) or self._mapped(p, ch, dacc, None)
            acc_reqs = by_acc.get(acc)
            if acc_reqs is None:
                by_acc[acc] = {ccy: amt}
            else:
                acc_reqs[ccy] = acc_reqs.get(ccy, 0) + amt
        self._add_op_requirements(p, ch, by_acc)
        override = override or {}
        accs = self._acc_ids.get((p, ch), {}).keys() | by_acc.keys() | override.keys()
        limit_left = rule.rmb_fixed_limit   # of the participant's RMB fixed limit (PARTICIPANT scope)
        shared = rule.rmb_limit_scope != "ACCOUNT"
        rmb = self.p.rmb
        out: dict[str, Result] = {}
        accounts = self.accounts
        valuer = self._valuer()
        for acc in self._account_order(p, ch, accs):    # (raises for an unknown account)
            acc_reqs = by_acc.get(acc)
            account = override.get(acc) or accounts.get((p, ch, acc))
            pool = self._pool(account) if account else {}     # a default account not yet used holds nothing
            out[acc] = allocate(self._needs(acc_reqs or {}, rule, limit_left), pool, valuer, self.p)
            if shared and acc_reqs and rmb in acc_reqs:
                limit_left -= min(max(0, acc_reqs[rmb]), limit_left)
        return out

    def _needs(self, acc_reqs: dict[str, int], rule, limit_left: int) -> list[Need]:
        """The needs of one collateral account ({currency: requirement}), in currency order; RMB
        takes its share of the fixed limit: the whole limit per account (ACCOUNT scope), else what
        the participant's earlier accounts left of it (``limit_left``)."""
        rmb = self.p.rmb
        needs = []
        for ccy in sorted(acc_reqs):
            m = max(0, acc_reqs[ccy])
            share = 0
            if ccy == rmb:
                share = min(m, rule.rmb_fixed_limit if rule.rmb_limit_scope == "ACCOUNT" else limit_left)
            needs.append(floors(ccy, m, rule, rmb, share))
        return needs

    def _refresh(self, p: str, ch: str, now: datetime) -> list:
        """The requirements or holdings of (p, ch) changed: its coverage is recomputed now, or at
        the end of the batch when the core is inside one (then no events now)."""
        if self.core.deferring:
            self.coverage.mark(p, ch)
            return []
        return self._recompute(p, ch, now)

    def _refresh_all(self, now: datetime) -> list:
        """As :meth:`_refresh` for every pair and the reserve fund (rates, prices, the day changed)."""
        if self.core.deferring:
            self.coverage.mark_all()
            return []
        self.coverage.clear_dirty()
        return self._recompute_all(now)

    def settle(self, ctx: Context) -> list:
        return self.coverage.settle(ctx.now)

    @property
    def dirty(self) -> bool:
        return self.coverage.dirty

    def verify(self) -> None:
        self.coverage.verify()
        self._verify_covers()

    def _recompute(self, p: str, ch: str, now: datetime) -> list:
        """Recompute (p, ch) coverage; store it; events for what changed."""
        self.coverage.done(p, ch)
        if ch not in self.p.clearing_houses:
            return []
        pulled = self._pull(p, ch)
        if pulled is None:
            reqs = self._pair_requirements(p, ch)
        else:
            reqs = self._replace_requirements(p, ch, pulled[0])
            if not pulled[1].items() <= self._pair_dcass_types(p, ch).items():
                for k, v in pulled[1].items():
                    self._set_type(k, v)
        types = self._pair_dcass_types(p, ch)
        events: list = []
        results = self.results
        for acc, res in self._compute(p, ch, reqs, types).items():
            key = (p, ch, acc)
            old = results.get(key, EMPTY)
            if res is old or res == old:
                continue
            if res == EMPTY:
                results.pop(key, None)
            else:
                results[key] = res
            events.append(CoverageChanged(p, ch, acc, res.lines, res.excess_hkd))
            # margin calls follow the shortfalls of the stored result (only _update_calls
            # changes them): an unchanged result leaves them as they are
            events += self._update_calls(key, res, now, old)
        return events

    def _pairs(self) -> list[tuple[str, str]]:
        pairs = {k[:2] for k in self.accounts} | {k[:2] for k in self.requirements} | {k[:2] for k in self.dcass_types}
        pairs |= {(k[0], r["clearing_house"]) for k, r in self.covers.items()}
        pairs |= set(self.op_requirements)
        return sorted(pairs)

    def _recompute_all(self, now: datetime) -> list:
        events: list = []
        for p, ch in self._pairs():
            events += self._recompute(p, ch, now)
        return events + self._refresh_reserve_all(now)

    def _due(self, now: datetime) -> datetime:
        """Due time of a call issued at ``now``, against the business date (like DCASS and OTC Clear):
        within the business day's latest due time, ``call_due_minutes`` later; after end of day (the
        clock still on the evening before the business date) at ``next_day_due`` on the business date;
        else at ``next_day_due`` on the next business day."""
        bd = self.core.business_date
        if now < datetime.combine(bd, time.min):
            return datetime.combine(bd, self.p.call_next_day_due)
        cand = now + timedelta(minutes=self.p.call_due_minutes)
        if cand <= datetime.combine(bd, self.p.call_latest_due):
            return cand
        return datetime.combine(self.core.calendar.next_business_day(bd), self.p.call_next_day_due)

    def _update_calls(self, key: AccKey, res: Result, now: datetime, old: Result) -> list:
        """Calls follow ``res``, which replaces ``old`` as the stored result: the account's open
        calls are in currencies of the lines of ``old`` (those short in it)."""
        short = {l.currency: l.shortfall for l in res.lines if l.shortfall > 0}
        events = []
        p, ch, acc = key
        for ccy in sorted(short.keys() | {l.currency for l in old.lines}):
            ck = (p, ch, acc, ccy)
            call = self.calls.get(ck)
            amount = short.get(ccy, 0)
            if call is None:
                if amount == 0:
                    continue
                call = self.calls[ck] = {"amount": amount, "called_at": now, "due": self._due(now)}
                status = "ISSUED"
            elif amount == 0:
                del self.calls[ck]
                status = "MET"
            elif amount != call["amount"]:
                call["amount"] = amount
                status = "AMENDED"
            else:
                continue
            events.append(MarginCallChanged(p, ch, acc, ccy, amount, status, call["called_at"], call["due"]))
        return events

    def _check_no_shortfall(self, p: str, ch: str, acc: str, hypothetical: dict) -> None:
        reqs, types = self._requirements(p, ch)
        res = self._compute(p, ch, reqs, types, {acc: hypothetical})[acc]
        if res.shortfall > 0:
            detail = ", ".join(money(l.currency, l.shortfall) for l in res.lines if l.shortfall > 0)
            raise ClearingError(C.WITHDRAWAL_EXCEEDS_EXCESS, f"shortfall {detail}", field="amount")

    @staticmethod
    def _copy(account: dict) -> dict:
        return {k: (dict(v) if isinstance(v, dict) else v) for k, v in account.items()}

    # ================================================================== instructions
    def _instruction(self, p: str, ch: str, acc: str, action: str, asset_class: str, asset: str, quantity: int,
                     specific: bool, now: datetime, value_date: date, pending: bool) -> tuple[dict, list]:
        iid = self._next_id()
        ins = {"instruction_id": iid, "participant": p, "clearing_house": ch, "account": acc, "action": action,
               "asset_class": asset_class, "asset": asset, "quantity": quantity, "specific": specific,
               "requested_at": now, "value_date": value_date, "status": "PENDING", "completed_at": None}
        self.instructions[iid] = ins
        events = [InstructionAccepted(p, iid, ch, acc, action, asset_class, asset, quantity, specific, value_date)]
        if not pending:
            events += self._complete(ins, now)
        return ins, events

    def _complete(self, ins: dict, now: datetime) -> list:
        ins["status"] = "COMPLETED"
        ins["completed_at"] = now
        if ins["action"] == "WITHDRAW" and ins["asset_class"] == "CASH":
            self._bank_move(ins["participant"], ins["asset"], ins["quantity"])   # paid to the mandated account
        return [InstructionCompleted(ins["participant"], ins["instruction_id"], ins["clearing_house"], ins["account"],
                                     ins["action"], ins["asset_class"], ins["asset"], ins["quantity"], ins["specific"],
                                     ins["value_date"], now)]

    def _complete_due(self, now: datetime) -> list:
        bd = self.core.business_date
        run = self.p.cash_withdrawal_run_time
        events: list = []
        for iid in sorted(self.instructions):
            ins = self.instructions[iid]
            if ins["status"] != "PENDING":
                continue
            vd = ins["value_date"]
            if vd < bd or (vd == bd and now >= datetime.combine(vd, run)):
                events += self._complete(ins, now)
        return events

    @staticmethod
    def _record(ins: dict) -> Instruction:
        return Instruction(**ins)

    # ================================================================== participant commands
    def _open_account(self, cmd: OpenCollateralAccount, ctx: Context) -> Outcome:
        p = self._who(cmd.participant, ctx)
        ch = self._ch(cmd.clearing_house)
        if cmd.kind not in self.p.account_kinds:
            raise ClearingError(C.INVALID_ACCOUNT_KIND, cmd.kind, field="kind")
        if not ACCOUNT_ID.match(cmd.account or ""):
            raise ClearingError(C.INVALID_ACCOUNT_ID, cmd.account, field="account")
        if (p, ch, cmd.account) in self.accounts or cmd.account in self._default_ids():
            raise ClearingError(C.ACCOUNT_EXISTS, cmd.account, field="account")
        self._ensure(p, ch, self.p.default_accounts[self.p.account_kinds[0]])
        self._add_account((p, ch, cmd.account), _new_account(cmd.kind))
        info = CollateralAccountInfo(p, ch, cmd.account, cmd.kind, ())
        return Outcome(info, [CollateralAccountOpened(p, ch, cmd.account, cmd.kind)])

    def _map_account(self, cmd: MapDcassAccount, ctx: Context) -> Outcome:
        p = self._who(cmd.participant, ctx)
        _, info = self._dcass_account(p, cmd.dcass_account)
        ch = self._ch(info.clearing_house, field="dcass_account")
        atype = info.account_type.name
        is_client = atype in self.p.client_types
        if cmd.account:
            kind = self._kind(p, ch, cmd.account)
            if kind == "CLIENT" and not is_client:
                raise ClearingError(C.MAPPING_NOT_ALLOWED, f"{atype} account to a client collateral account",
                                    field="account")
            if is_client and kind != "CLIENT" and self.p.client_only_to_client:
                raise ClearingError(C.MAPPING_NOT_ALLOWED, f"{atype} account to a {kind} collateral account",
                                    field="account")
        key = (p, ch, cmd.dcass_account)
        previous = self._mapped(p, ch, cmd.dcass_account, atype)
        self._set_type(key, atype)
        if cmd.account:
            self._ensure(p, ch, cmd.account)
            self.mapping[key] = cmd.account
        else:
            self.mapping.pop(key, None)
        target = self._mapped(p, ch, cmd.dcass_account, atype)
        events = [DcassAccountMapped(p, ch, cmd.dcass_account, target, previous, bool(cmd.account))]
        events += self._refresh(p, ch, ctx.now)
        return Outcome(MappingEntry(p, ch, cmd.dcass_account, atype, target, bool(cmd.account)), events)

    def _deposit_cash(self, cmd: DepositCash, ctx: Context) -> Outcome:
        p = self._who(cmd.participant, ctx)
        ch = self._ch(cmd.clearing_house)
        self._kind(p, ch, cmd.account)
        ccy = self._currency(cmd.currency)
        self._positive(cmd.amount, "amount")
        self._require_mandate(p, ccy)
        a = self._ensure(p, ch, cmd.account)
        # collected through the mandate of its currency at once; a bank balance that cannot cover it
        # fails the collection: the instruction is FAILED (broadcast) and nothing is credited
        failure = self._collect(p, ccy, cmd.amount)
        ins, events = self._instruction(p, ch, cmd.account, "DEPOSIT", "CASH", ccy, cmd.amount, False, ctx.now,
                                        self.core.business_date, pending=True)
        if failure:
            events += self._fail_deposit(ins, ctx.now, failure)
            return Outcome(self._record(ins), events)
        self._hold(a, "cash", ccy, a["cash"].get(ccy, 0) + cmd.amount)
        events += self._complete(ins, ctx.now)
        events += self._refresh(p, ch, ctx.now)
        return Outcome(self._record(ins), events)

    def _cash_value_date(self, now: datetime) -> date:
        """Before the cut-off of the business date: that date; at or after it, the next business day.
        Compared with the business date-time, not the clock time alone: after end of day (business
        date already the next day, clock still in the evening) a request is early for its date."""
        bd = self.core.business_date
        if now < datetime.combine(bd, self.p.cash_withdrawal_cutoff):
            return bd
        return self.core.calendar.next_business_day(bd)

    def _withdraw_cash(self, cmd: WithdrawCash, ctx: Context) -> Outcome:
        p = self._who(cmd.participant, ctx)
        ch = self._ch(cmd.clearing_house)
        self._kind(p, ch, cmd.account)
        ccy = self._currency(cmd.currency)
        self._positive(cmd.amount, "amount")
        view = self._view(p, ch, cmd.account)
        held = view["cash"].get(ccy, 0)
        if cmd.amount > held:
            raise ClearingError(C.INSUFFICIENT_HOLDING, f"{money(ccy, held)} held", field="amount")
        hypo = self._copy(view)
        hypo["cash"][ccy] = held - cmd.amount
        self._check_no_shortfall(p, ch, cmd.account, hypo)
        value_date = self._cash_value_date(ctx.now)
        a = self._ensure(p, ch, cmd.account)
        self._hold(a, "cash", ccy, held - cmd.amount)
        ins, events = self._instruction(p, ch, cmd.account, "WITHDRAW", "CASH", ccy, cmd.amount, False, ctx.now,
                                        value_date, pending=True)
        events += self._complete_due(ctx.now)
        events += self._refresh(p, ch, ctx.now)
        return Outcome(self._record(ins), events)

    def _deposit_securities(self, cmd: DepositSecurities, ctx: Context) -> Outcome:
        p = self._who(cmd.participant, ctx)
        ch = self._ch(cmd.clearing_house)
        kind = self._kind(p, ch, cmd.account)
        cls, asset = self._security(cmd.instrument)
        self._positive(cmd.quantity, "quantity")
        bd = self.core.business_date
        if cmd.specific:
            if cls != "STOCK":
                raise ClearingError(C.NOT_A_STOCK, cmd.instrument, field="instrument")
            if ch != SEOCH:
                raise ClearingError(C.COVERED_CALL_SEOCH_ONLY, ch, field="clearing_house")
        elif cls == "STOCK":
            if asset not in self.p.eligible_stocks(bd):
                raise ClearingError(C.INELIGIBLE_COLLATERAL, f"stock {asset}", field="instrument")
            if kind not in self.p.stock_account_kinds:
                err = C.STOCK_IN_CLIENT_ACCOUNT if kind == "CLIENT" else C.STOCK_IN_MM_ACCOUNT
                raise ClearingError(err, cmd.account, field="account")
        elif self.p.debt[asset].maturity <= bd:
            raise ClearingError(C.INSTRUMENT_MATURED, asset, field="instrument")
        a = self._ensure(p, ch, cmd.account)
        book = "specific" if cmd.specific else ("stock" if cls == "STOCK" else "debt")
        self._hold(a, book, asset, a[book].get(asset, 0) + cmd.quantity)
        ins, events = self._instruction(p, ch, cmd.account, "DEPOSIT", cls, asset, cmd.quantity, cmd.specific,
                                        ctx.now, bd, pending=False)
        events += self._refresh(p, ch, ctx.now)
        return Outcome(self._record(ins), events)

    def _withdraw_securities(self, cmd: WithdrawSecurities, ctx: Context) -> Outcome:
        p = self._who(cmd.participant, ctx)
        ch = self._ch(cmd.clearing_house)
        self._kind(p, ch, cmd.account)
        cls, asset = self._security(cmd.instrument)
        self._positive(cmd.quantity, "quantity")
        if cmd.specific and cls != "STOCK":
            raise ClearingError(C.NOT_A_STOCK, cmd.instrument, field="instrument")
        view = self._view(p, ch, cmd.account)
        book = "specific" if cmd.specific else ("stock" if cls == "STOCK" else "debt")
        held = view[book].get(asset, 0)
        if cmd.quantity > held:
            raise ClearingError(C.INSUFFICIENT_HOLDING, f"{asset} {held} held", field="quantity")
        if cmd.specific:
            free = held - self._earmarked(p, ch, cmd.account, asset)
            if cmd.quantity > free:
                raise ClearingError(C.STOCK_EARMARKED, f"{asset}: {free} free of {held}", field="quantity")
        else:
            hypo = self._copy(view)
            hypo[book][asset] = held - cmd.quantity
            self._check_no_shortfall(p, ch, cmd.account, hypo)
        a = self._ensure(p, ch, cmd.account)
        self._hold(a, book, asset, held - cmd.quantity)
        ins, events = self._instruction(p, ch, cmd.account, "WITHDRAW", cls, asset, cmd.quantity, cmd.specific,
                                        ctx.now, self.core.business_date, pending=False)
        events += self._refresh(p, ch, ctx.now)
        return Outcome(self._record(ins), events)

    def _contribute_reserve_fund(self, cmd: ContributeReserveFund, ctx: Context) -> Outcome:
        p = self._who(cmd.participant, ctx)
        ch = self._rf_house(cmd.clearing_house)
        allowed = self.p.reserve_fund.get(cmd.contribution)
        if allowed is None:
            raise ClearingError(C.UNKNOWN_CONTRIBUTION_TYPE, cmd.contribution, field="contribution")
        self._positive(cmd.quantity, "quantity")
        inst = self.p.debt.get(cmd.asset)
        if inst is not None:
            cls, asset = inst.type, inst.id
            if cls not in allowed:
                raise ClearingError(C.RESERVE_FUND_INELIGIBLE, f"{cls} for {cmd.contribution}", field="asset")
            if inst.maturity <= self.core.business_date:
                raise ClearingError(C.INSTRUMENT_MATURED, asset, field="asset")
        elif normalise_stock(cmd.asset) is not None:
            raise ClearingError(C.RESERVE_FUND_INELIGIBLE, f"stock for {cmd.contribution}", field="asset")
        elif cmd.asset.isalpha() and len(cmd.asset) == 3:
            cls, asset = "CASH", self._currency(cmd.asset, field="asset")
            if f"CASH:{asset}" not in allowed:
                raise ClearingError(C.RESERVE_FUND_INELIGIBLE, f"{asset} cash for {cmd.contribution}", field="asset")
        else:
            raise ClearingError(C.INELIGIBLE_COLLATERAL, cmd.asset, field="asset")
        if cls == "CASH":
            # cash is collected through the mandate of its currency; a balance that cannot pay it rejects
            self._require_mandate(p, asset, field="asset")
            if not self._bank_can_pay(p, asset, cmd.quantity):
                raise ClearingError(C.INSUFFICIENT_BANK_BALANCE, money(asset, cmd.quantity), field="quantity")
            self._bank_move(p, asset, -cmd.quantity)
        key = (p, ch, cmd.contribution, cls, asset)
        self.reserve[key] = self.reserve.get(key, 0) + cmd.quantity
        holding = ReserveFundHolding(p, ch, cmd.contribution, cls, asset, self.reserve[key])
        events = [ReserveFundContributed(p, ch, cmd.contribution, cls, asset, cmd.quantity)]
        return Outcome(holding, events + self._refresh_reserve(p, ch, ctx.now))

    # ------------------------------------------------------------------ covered calls
    def _check_covered_call_cutoff(self, now: datetime) -> None:
        # seed: covered calls "can be entered up to the DCASS System Input Cutoff Time": DCASS's own
        # parameter, with its edge (the cut-off second itself is late, like every deadline here)
        # against the business date, as DCASS does: after end of day the next business date is open
        cut = self._dcass().input_cutoff()
        if now >= datetime.combine(self.core.business_date, cut):
            raise ClearingError(C.AFTER_CUTOFF, f"covered call requests before {cut.isoformat()}")

    @staticmethod
    def _position(positions, series_key: bytes):
        for pos in positions:
            if bytes(pos.series_key) == bytes(series_key):
                return pos
        return None

    def _lodge_covered_call(self, cmd: LodgeCoveredCall, ctx: Context) -> Outcome:
        p = self._who(cmd.participant, ctx)
        self._positive(cmd.contracts, "contracts")
        self._check_covered_call_cutoff(ctx.now)
        d, info = self._dcass_account(p, cmd.dcass_account)
        ch = info.clearing_house
        if ch != SEOCH:
            raise ClearingError(C.COVERED_CALL_SEOCH_ONLY, ch, field="dcass_account")
        pos = self._position(d.short_call_positions(p, cmd.dcass_account), cmd.series_key)
        if pos is None or pos.short <= 0:
            raise ClearingError(C.NO_SHORT_CALL_POSITION, cmd.series_key.hex(), field="series_key")
        key = (p, cmd.dcass_account, bytes(cmd.series_key))
        rec = self.covers.get(key)
        current = self._covered_now(key, rec) if rec else 0
        if not current:
            rec = None              # its position closed earlier in the batch: a new cover
        total = current + cmd.contracts
        if total > pos.short:
            raise ClearingError(C.COVER_EXCEEDS_SHORT, f"short {pos.short}, covered {current}", field="contracts")
        code = normalise_stock(str(pos.underlying)) or str(pos.underlying)
        acc = rec["account"] if rec else self._mapped(p, ch, cmd.dcass_account, info.account_type.name)
        size = rec["contract_size"] if rec else int(pos.contract_size)
        need = cmd.contracts * size
        held = self._view(p, ch, acc)["specific"].get(code, 0)
        free = held - self._earmarked(p, ch, acc, code)
        if need > free:
            raise ClearingError(C.INSUFFICIENT_SPECIFIC_STOCK, f"{code}: need {need}, free {free}", field="contracts")
        dcass_events = list(d.set_covered(p, cmd.dcass_account, bytes(cmd.series_key), total, ctx) or [])
        self._ensure(p, ch, acc)
        self.covers[key] = {"clearing_house": ch, "account": acc, "underlying": code, "contract_size": size,
                            "contracts": total}
        cc = CoveredCall(p, ch, cmd.dcass_account, acc, bytes(cmd.series_key), code, size, total, total * size)
        events = [CoveredCallChanged(p, ch, cmd.dcass_account, acc, bytes(cmd.series_key), code, total, total * size,
                                     "LODGED")]
        return Outcome(cc, events + dcass_events)

    def _release_covered_call(self, cmd: ReleaseCoveredCall, ctx: Context) -> Outcome:
        p = self._who(cmd.participant, ctx)
        self._positive(cmd.contracts, "contracts")
        self._check_covered_call_cutoff(ctx.now)
        key = (p, cmd.dcass_account, bytes(cmd.series_key))
        rec = self.covers.get(key)
        current = self._covered_now(key, rec) if rec else 0
        if cmd.contracts > current:
            raise ClearingError(C.RELEASE_EXCEEDS_COVER, f"covered {current}", field="contracts")
        d = self._dcass()
        total = current - cmd.contracts
        dcass_events = list(d.set_covered(p, cmd.dcass_account, bytes(cmd.series_key), total, ctx) or []) if d else []
        size = rec["contract_size"]
        if total == 0:
            del self.covers[key]
        else:
            rec["contracts"] = total
        cc = CoveredCall(p, rec["clearing_house"], cmd.dcass_account, rec["account"], bytes(cmd.series_key),
                         rec["underlying"], size, total, total * size)
        events = [CoveredCallChanged(p, rec["clearing_house"], cmd.dcass_account, rec["account"],
                                     bytes(cmd.series_key), rec["underlying"], total, total * size, "RELEASED")]
        return Outcome(cc, events + dcass_events)

    def _reconcile_covers(self, p: str, ctx: Context) -> list:
        """Covered calls follow the short positions down: a cover above what the position still
        covers (its short quantity, and DCASS's covered quantity, which DCASS lowers with the short
        on every position change) is reduced to it, and the stock it no longer needs is freed.

        The figure it follows is DCASS's covered quantity as it stands after every change, so the
        result does not depend on when this runs: a short position that dips and recovers within a
        batch leaves the cover at the dip, as one command at a time would."""
        d = self._dcass()
        if d is None:
            return []
        events: list = []
        for key in sorted(k for k in self.covers if k[0] == p):
            rec = self.covers[key]
            pos = self._cover_position(key)
            kept = self._covered_now(key, rec, pos)
            if rec["contracts"] == kept:
                continue
            if pos is not None and pos.covered != kept:
                try:
                    events += list(d.set_covered(p, key[1], key[2], kept, ctx) or [])
                except ClearingError:
                    pass
            if kept == 0:
                del self.covers[key]
            else:
                rec["contracts"] = kept
            events.append(CoveredCallChanged(p, rec["clearing_house"], key[1], rec["account"], key[2],
                                             rec["underlying"], kept, kept * rec["contract_size"],
                                             "POSITION_CLOSED"))
        return events

    def _cover_position(self, key: tuple[str, str, bytes]):
        """DCASS's short call position of the cover ``key`` (None: no longer any)."""
        try:
            return self._position(self._dcass().short_call_positions(key[0], key[1]), key[2])
        except ClearingError:
            return None

    def _covered_now(self, key: tuple[str, str, bytes], rec: dict, pos=_UNSET) -> int:
        """The contracts the cover ``key`` (record ``rec``) covers as its position stands now: the
        record, lowered to the position's short and to DCASS's covered quantity (DCASS lowers it
        with the short on every change). Between the commands of a batch the record may still be
        above it (:meth:`_reconcile_covers` brings it down at the end of the batch); every check
        and every figure uses this, so a batch decides as its commands one by one would."""
        if self._dcass() is None:
            return rec["contracts"]
        if pos is _UNSET:
            pos = self._cover_position(key)
        if pos is None:
            return 0
        return max(0, min(rec["contracts"], pos.short, pos.covered))

    def _cover_fell(self, e: PositionChanged) -> bool:
        """The position of ``e`` covers less than CCMS's cover record of it."""
        rec = self.covers.get((e.owner, e.account_id, bytes(e.series_key)))
        return rec is not None and rec["contracts"] > min(e.short, e.covered)

    def _verify_covers(self) -> None:
        """Every cover record equals the covered quantity of its position in DCASS."""
        d = self._dcass()
        if d is None:
            return
        for (p, acc, series_key), rec in self.covers.items():
            try:
                pos = self._position(d.short_call_positions(p, acc), series_key)
            except ClearingError:
                pos = None
            covered = pos.covered if pos is not None else 0
            if covered != rec["contracts"]:
                raise mismatch(f"cover of {(p, acc, series_key.hex())}", rec["contracts"], covered)

    # ================================================================== operator commands
    def _set_fx_rate(self, cmd: SetFxRate, ctx: Context) -> Outcome:
        ctx.require_operator()
        ccy = self._currency(cmd.currency)
        if ccy == self.p.base:
            raise ClearingError(C.BASE_CURRENCY_RATE, ccy, field="currency")
        rate = Decimal(cmd.rate)
        if not rate.is_finite() or rate <= 0:
            raise ClearingError(C.INVALID_RATE, str(cmd.rate), field="rate")
        self.fx[ccy] = rate
        self.coverage.inputs_changed()
        return Outcome(None, [FxRateSet(ccy, rate)] + self._refresh_all(ctx.now))

    def _set_price(self, cmd: SetCollateralPrice, ctx: Context) -> Outcome:
        ctx.require_operator()
        cls, asset = self._security(cmd.instrument)
        if cls == "STOCK" and asset not in self.p.eligible_stocks(self.core.business_date):
            raise ClearingError(C.INELIGIBLE_COLLATERAL, asset, field="instrument")
        price = Decimal(cmd.price)
        if not price.is_finite() or price <= 0:
            raise ClearingError(C.INVALID_RATE, str(cmd.price), field="price")
        self.prices[asset] = price
        self.coverage.inputs_changed()
        return Outcome(None, [CollateralPriceSet(asset, price)] + self._refresh_all(ctx.now))

    def _set_interest_rate(self, cmd: SetInterestRate, ctx: Context) -> Outcome:
        ctx.require_operator()
        ccy = self._currency(cmd.currency)
        rate = Decimal(cmd.rate)
        if not rate.is_finite() or abs(rate) >= 1:
            raise ClearingError(C.INVALID_RATE, str(cmd.rate), field="rate")
        self.interest_rates[ccy] = rate
        return Outcome(None, [InterestRateSet(ccy, rate)])

    def _set_stock_haircut(self, cmd: SetStockHaircut, ctx: Context) -> Outcome:
        ctx.require_operator()
        code = normalise_stock(cmd.stock)
        if code is None or code not in self.p.eligible_stocks(self.core.business_date):
            raise ClearingError(C.INELIGIBLE_COLLATERAL, cmd.stock, field="stock")
        rate = Decimal(cmd.rate)
        if not rate.is_finite() or rate < 0 or rate > 1:
            raise ClearingError(C.INVALID_RATE, str(cmd.rate), field="rate")
        self.stock_rates[code] = rate
        self.coverage.inputs_changed()
        applied = max(rate, self.p.stock_floor(self.core.business_date))
        return Outcome(applied, [StockHaircutSet(code, rate, applied)] + self._refresh_all(ctx.now))

    # ================================================================== time and other modules
    def on_time(self, now: datetime) -> list:
        return self._complete_due(now) + self._settle_due(now) + self._ccass_run(now)

    reacts_to = (MarginChanged, PositionChanged)

    def on_events(self, events: list, ctx: Context) -> list:
        touched: set[tuple[str, str]] = set()
        covers: set[str] = set()        # participants with a cover above its position
        for e in events:
            t = type(e)
            if t is PositionChanged:
                if self.covers and self._cover_fell(e):
                    covers.add(e.owner)
                continue
            if t is not MarginChanged:
                continue
            owner, ch, dacc = e.owner, e.clearing_house, e.account_id
            if not owner or ch not in self.p.clearing_houses:
                continue
            self._set_requirement((owner, ch, dacc, e.currency), int(e.requirement))
            atype = e.account_type.name
            if self.dcass_types.get((owner, ch, dacc)) != atype:
                self._set_type((owner, ch, dacc), atype)
            touched.add((owner, ch))
        touched |= {(p, SEOCH) for p in covers}
        if not touched:
            return []
        out: list = []
        for p, ch in sorted(touched):
            if ch == SEOCH:
                out += self._reconcile_covers(p, ctx)
            out += self._refresh(p, ch, ctx.now)
        return out

    def end_of_day(self, ctx: Context) -> list:
        events: list = self._settlement_obligations(ctx) + self._delivery_obligations(ctx.now)
        for p in sorted({k[0] for k in self.covers}):
            events += self._reconcile_covers(p, ctx)
        events += self._refresh_all(ctx.now)
        self._accrue()
        return events

    def start_of_day(self, ctx: Context, business_date: date) -> list:
        events = self._complete_due(ctx.now) + self._settle_due(ctx.now)
        events += self._post_interest(business_date)
        for p in sorted({k[0] for k in self.covers}):
            events += self._reconcile_covers(p, ctx)
        events += self._refresh_all(ctx.now)
        return events

    # ------------------------------------------------------------------ interest and charges
    def _round(self, x: Decimal) -> int:
        return int(x.quantize(Decimal(1), rounding=ROUND_HALF_UP if self.p.interest_rounding == "ROUND_HALF_UP"
                              else self.p.interest_rounding))

    def accrual_amount(self, base: int, rate: Decimal, days: int) -> int:
        """base x rate x days / day_count, rounded to the cent (sign kept)."""
        return self._round(CTX.divide(CTX.multiply(CTX.multiply(Decimal(base), rate), Decimal(days)),
                                      Decimal(self.p.day_count)))

    def _accrue(self) -> None:
        bd = self.core.business_date
        days = (self.core.calendar.next_business_day(bd) - bd).days
        acc_rate = self.p.accommodation_rate(bd)
        for (p, ch, acc), res in sorted(self.results.items()):
            cash_used: dict[str, int] = defaultdict(int)
            non_cash: dict[str, int] = defaultdict(int)
            for a in res.allocations:
                if a.asset_class == "CASH":
                    cash_used[a.asset] += a.quantity
                else:
                    non_cash[a.settlement_currency] += a.value
            for ccy in sorted(cash_used):
                rate = self.interest_rates.get(ccy, Decimal(0))
                self.accruals.append({"participant": p, "business_date": bd, "clearing_house": ch, "account": acc,
                                      "currency": ccy, "kind": "INTEREST", "base": cash_used[ccy], "rate": rate,
                                      "days": days, "amount": self.accrual_amount(cash_used[ccy], rate, days),
                                      "posted_on": None})
            for ccy in sorted(non_cash):
                self.accruals.append({"participant": p, "business_date": bd, "clearing_house": ch, "account": acc,
                                      "currency": ccy, "kind": "ACCOMMODATION", "base": non_cash[ccy],
                                      "rate": acc_rate, "days": days,
                                      "amount": -self.accrual_amount(non_cash[ccy], acc_rate, days),
                                      "posted_on": None})

    def _post_interest(self, today: date) -> list:
        """First business day of a month: post every unposted accrual of earlier months."""
        groups: dict[tuple[str, str, str, str], list[dict]] = defaultdict(list)
        for a in self.accruals:
            d = a["business_date"]
            if a["posted_on"] is None and (d.year, d.month) < (today.year, today.month):
                groups[(a["participant"], a["clearing_house"], a["account"], a["currency"])].append(a)
        events = []
        for key in sorted(groups):
            p, ch, acc, ccy = key
            lines = groups[key]
            interest = sum(a["amount"] for a in lines if a["kind"] == "INTEREST")
            accommodation = sum(a["amount"] for a in lines if a["kind"] == "ACCOMMODATION")
            for a in lines:
                a["posted_on"] = today
            account = self._ensure(p, ch, acc)
            self._hold(account, "cash", ccy, account["cash"].get(ccy, 0) + interest + accommodation)
            events.append(InterestPosted(p, ch, acc, ccy, max(a["business_date"] for a in lines), interest,
                                         accommodation, interest + accommodation, account["cash"][ccy]))
        return events

    # ================================================================== queries
    def _dcass_accounts_of(self, p: str, ch: str) -> dict[str, str]:
        """DCASS account -> type for every DCASS account of (p, ch) CCMS knows of."""
        known = {k[2]: v for k, v in self.dcass_types.items() if k[0] == p and k[1] == ch}
        pulled = self._pull(p)
        if pulled is not None:
            for k, v in pulled[1].items():
                if k[1] == ch:
                    known[k[2]] = v
        for k in self.mapping:
            if k[0] == p and k[1] == ch:
                known.setdefault(k[2], "")
        return known

    def _participants_chs(self, who: str | None, ch: str) -> list[tuple[str, str]]:
        chs = [self._ch(ch)] if ch else list(self.p.clearing_houses)
        if who is None:
            return [pc for pc in self._pairs() if pc[1] in chs]
        return [(who, c) for c in chs]

    def _q_accounts(self, q: CollateralAccountsQuery, ctx: Context) -> tuple[CollateralAccountInfo, ...]:
        out = []
        for p, ch in self._participants_chs(self._who_query(q.participant, ctx), q.clearing_house):
            dcass = self._dcass_accounts_of(p, ch)
            accs = set(self._default_ids()) | {k[2] for k in self.accounts if k[0] == p and k[1] == ch}
            for acc in self._account_order(p, ch, accs):
                mapped = tuple(sorted(d for d, t in dcass.items() if self._mapped(p, ch, d, t) == acc))
                out.append(CollateralAccountInfo(p, ch, acc, self._view(p, ch, acc)["kind"], mapped))
        return tuple(out)

    def _q_mapping(self, q: AccountMappingQuery, ctx: Context) -> tuple[MappingEntry, ...]:
        out = []
        for p, ch in self._participants_chs(self._who_query(q.participant, ctx), q.clearing_house):
            for d, t in sorted(self._dcass_accounts_of(p, ch).items()):
                out.append(MappingEntry(p, ch, d, t, self._mapped(p, ch, d, t), (p, ch, d) in self.mapping))
        return tuple(out)

    def _q_holdings(self, q: HoldingsQuery, ctx: Context) -> HoldingsAnswer:
        p = self._who(q.participant, ctx)
        ch = self._ch(q.clearing_house)
        kind = self._kind(p, ch, q.account)
        a = self._view(p, ch, q.account)
        v = self._valuer()
        base = self.p.base
        hs = []
        for ccy in sorted(a["cash"]):
            amt = a["cash"][ccy]
            hs.append(Holding("CASH", ccy, ccy, amt, False, 0, None, None, v.fx_haircut(ccy, base),
                              v.value("CASH", ccy, amt, base)))
        for iid in sorted(a["debt"]):
            inst = self.p.debt[iid]
            hs.append(Holding(inst.type, iid, inst.currency, a["debt"][iid], False, 0, inst.maturity,
                              v.price(inst.type, iid), v.asset_haircut(inst.type, iid),
                              v.value(inst.type, iid, a["debt"][iid], base)))
        for code in sorted(a["stock"]):
            usable = kind in self.p.stock_account_kinds
            hs.append(Holding("STOCK", code, v.currency_of("STOCK", code), a["stock"][code], False, 0, None,
                              v.price("STOCK", code), v.asset_haircut("STOCK", code),
                              v.value("STOCK", code, a["stock"][code], base) if usable else 0))
        for code in sorted(a["specific"]):
            hs.append(Holding("STOCK", code, base, a["specific"][code], True, self._earmarked(p, ch, q.account, code),
                              None, self.prices.get(code), None, 0))
        return HoldingsAnswer(p, ch, q.account, kind, tuple(hs))

    def _q_coverage(self, q: CoverageQuery, ctx: Context) -> CoverageAnswer:
        p = self._who(q.participant, ctx)
        ch = self._ch(q.clearing_house)
        kind = self._kind(p, ch, q.account)
        res = self.results.get((p, ch, q.account), EMPTY)
        calls = tuple(MarginCall(k[3], c["amount"], c["called_at"], c["due"]) for k, c in sorted(self.calls.items())
                      if k[:3] == (p, ch, q.account))
        return CoverageAnswer(p, ch, q.account, kind, res.lines, res.allocations, res.unused, res.excess_hkd, calls)

    def _q_margin_calls(self, q: MarginCallsQuery, ctx: Context) -> tuple[MarginCallInfo, ...]:
        who = self._who_query(q.participant, ctx)
        if q.clearing_house:
            self._ch(q.clearing_house)
        return tuple(MarginCallInfo(*k, c["amount"], c["called_at"], c["due"]) for k, c in sorted(self.calls.items())
                     if (who is None or k[0] == who) and (not q.clearing_house or k[1] == q.clearing_house))

    def _q_instructions(self, q: InstructionsQuery, ctx: Context) -> tuple[Instruction, ...]:
        who = self._who_query(q.participant, ctx)
        return tuple(self._record(i) for _, i in sorted(self.instructions.items())
                     if (who is None or i["participant"] == who) and (not q.pending_only or i["status"] == "PENDING"))

    def _q_reserve_fund(self, q: ReserveFundQuery, ctx: Context) -> tuple[ReserveFundHolding, ...]:
        who = self._who_query(q.participant, ctx)
        if q.clearing_house:
            self._ch(q.clearing_house)
        return tuple(ReserveFundHolding(*k, v) for k, v in sorted(self.reserve.items())
                     if (who is None or k[0] == who) and (not q.clearing_house or k[1] == q.clearing_house))

    def _q_covered_calls(self, q: CoveredCallsQuery, ctx: Context) -> tuple[CoveredCall, ...]:
        who = self._who_query(q.participant, ctx)
        now = {k: self._covered_now(k, r) for k, r in self.covers.items() if who is None or k[0] == who}
        return tuple(CoveredCall(k[0], r["clearing_house"], k[1], r["account"], k[2], r["underlying"],
                                 r["contract_size"], now[k], now[k] * r["contract_size"])
                     for k, r in sorted(self.covers.items()) if now.get(k))

    def _q_interest(self, q: InterestQuery, ctx: Context) -> tuple[Accrual, ...]:
        who = self._who_query(q.participant, ctx)
        return tuple(Accrual(**a) for a in self.accruals
                     if (who is None or a["participant"] == who)
                     and (q.business_date is None or a["business_date"] == q.business_date))

    def _q_parameters(self, q: CollateralParametersQuery, ctx: Context) -> CollateralParametersAnswer:
        bd = self.core.business_date
        fx = self._fx_rates()
        return CollateralParametersAnswer(
            bd,
            tuple((c, fx[c]) for c in self.p.accepted_cash),
            tuple((c, self.interest_rates.get(c, Decimal(0))) for c in self.p.accepted_cash),
            tuple((c, self.p.cash_haircut(c, bd)) for c in self.p.accepted_cash),
            self.p.accommodation_rate(bd),
            self.p.stock_floor(bd))

    def _q_eligible(self, q: EligibleCollateralQuery, ctx: Context) -> tuple[EligibleInstrument, ...]:
        v = self._valuer()
        out = [EligibleInstrument(i.type, i.id, i.id, i.currency, i.maturity, v.asset_haircut(i.type, i.id),
                                  v.price(i.type, i.id)) for _, i in sorted(self.p.debt.items())]
        for code, s in sorted(v.eligible.items()):
            out.append(EligibleInstrument("STOCK", code, s.get("name", ""), s["currency"], None,
                                          v.asset_haircut("STOCK", code), v.price("STOCK", code)))
        return tuple(out)

    # ================================================================== snapshot
    def snapshot(self) -> Any:
        def k(t) -> str:
            return "|".join(x.hex() if isinstance(x, bytes) else str(x) for x in t)

        def res(r: Result):
            return {"lines": r.lines, "allocations": r.allocations, "unused": r.unused, "excess_hkd": r.excess_hkd}

        return {
            "accounts": {k(key): a for key, a in sorted(self.accounts.items())},
            "mapping": {k(key): v for key, v in sorted(self.mapping.items())},
            "dcass_types": {k(key): v for key, v in sorted(self.dcass_types.items())},
            "requirements": {k(key): v for key, v in sorted(self.requirements.items())},
            "fx": dict(sorted(self.fx.items())),
            "prices": dict(sorted(self.prices.items())),
            "interest_rates": dict(sorted(self.interest_rates.items())),
            "stock_rates": dict(sorted(self.stock_rates.items())),
            "instructions": {str(i): v for i, v in sorted(self.instructions.items())},
            "next_instruction_id": self.next_instruction_id,
            "results": {k(key): res(r) for key, r in sorted(self.results.items())},
            "calls": {k(key): v for key, v in sorted(self.calls.items())},
            "covers": {k(key): v for key, v in sorted(self.covers.items())},
            "reserve": {k(key): v for key, v in sorted(self.reserve.items())},
            "accruals": list(self.accruals),
            **self._money_snapshot(),
            **self._reserve_snapshot(),
            **self._cross_market_snapshot(),
            **self._ccass_snapshot(),
        }
