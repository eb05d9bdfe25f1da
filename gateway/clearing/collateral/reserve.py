"""The reserve fund requirement of CCMS (issue 13, item 3): a requirement per participant and
clearing house (HKCC, SEOCH) set by the operator, the contributions valued with the haircuts, a
reserve fund call for a shortfall and withdrawal of the excess.

A mixin of :class:`~gateway.clearing.collateral.module.CollateralModule`; the contributions are the
module's ``reserve`` holdings, the new state (``rf_requirements``, ``rf_calls``) is in its snapshot.
Rules and choices: docs/guides/collateral.md, "Reserve fund".
"""
from __future__ import annotations

from datetime import datetime

from ..core import Context, Outcome
from ..errors import ClearingError
from . import codes as C
from .messages import (
    ReserveFundCallChanged, ReserveFundHolding, ReserveFundPosition, ReserveFundPositionQuery,
    ReserveFundRequirementSet, ReserveFundWithdrawn, SetReserveFundRequirement, WithdrawReserveFund,
)


class ReserveFund:
    """Reserve fund requirement, valuation, calls and withdrawals (mixed into the CCMS module)."""

    def _init_reserve(self) -> None:
        self.rf_requirements: dict[tuple[str, str], int] = {}    # (participant, clearing house) -> HKD cents
        self.rf_calls: dict[tuple[str, str], dict] = {}           # open reserve fund calls

    def _reserve_commands(self) -> dict:
        return {SetReserveFundRequirement: self._set_rf_requirement, WithdrawReserveFund: self._withdraw_reserve_fund}

    def _reserve_queries(self) -> dict:
        return {ReserveFundPositionQuery: self._q_rf_position}

    def _reserve_snapshot(self) -> dict:
        return {
            "rf_requirements": {f"{p}|{ch}": v for (p, ch), v in sorted(self.rf_requirements.items())},
            "rf_calls": {f"{p}|{ch}": v for (p, ch), v in sorted(self.rf_calls.items())},
        }

    def _rf_house(self, clearing_house: str) -> str:
        ch = self._ch(clearing_house)
        if ch not in self.p.reserve_fund_houses:
            raise ClearingError(C.NO_RESERVE_FUND, ch, field="clearing_house")
        return ch

    # ------------------------------------------------------------------ valuation
    def _rf_value(self, p: str, ch: str, reserve: dict | None = None) -> int:
        """HKD value of the contributions after haircuts: HKD cash at face, EFBN at price less the
        haircut of its remaining maturity (a matured note is worth 0)."""
        v = self._valuer()
        base = self.p.base
        return sum(v.value(k[3], k[4], q, base) for k, q in (reserve if reserve is not None else self.reserve).items()
                   if k[:2] == (p, ch))

    def _rf_position(self, p: str, ch: str) -> ReserveFundPosition:
        req = self.rf_requirements.get((p, ch), 0)
        value = self._rf_value(p, ch)
        call = self.rf_calls.get((p, ch))
        return ReserveFundPosition(p, ch, req, value, max(0, req - value), max(0, value - req),
                                   call["amount"] if call else 0, call["called_at"] if call else None,
                                   call["due"] if call else None)

    def _rf_pairs(self) -> list[tuple[str, str]]:
        return sorted(set(self.rf_requirements) | set(self.rf_calls) | {k[:2] for k in self.reserve})

    def _refresh_reserve(self, p: str, ch: str, now: datetime) -> list:
        """The reserve fund call of (p, ch) follows its shortfall: issued, amended (due time kept) or met."""
        if ch not in self.p.reserve_fund_houses:
            return []
        short = max(0, self.rf_requirements.get((p, ch), 0) - self._rf_value(p, ch))
        call = self.rf_calls.get((p, ch))
        if call is None:
            if short == 0:
                return []
            call = self.rf_calls[(p, ch)] = {"amount": short, "called_at": now, "due": self._due(now)}
            status = "ISSUED"
        elif short == 0:
            del self.rf_calls[(p, ch)]
            status = "MET"
        elif short != call["amount"]:
            call["amount"] = short
            status = "AMENDED"
        else:
            return []
        return [ReserveFundCallChanged(p, ch, short, status, call["called_at"], call["due"])]

    def _refresh_reserve_all(self, now: datetime) -> list:
        events: list = []
        for p, ch in self._rf_pairs():
            events += self._refresh_reserve(p, ch, now)
        return events

    # ------------------------------------------------------------------ commands
    def _set_rf_requirement(self, cmd: SetReserveFundRequirement, ctx: Context) -> Outcome:
        ctx.require_operator()
        p = self._participant_id(cmd.participant)
        ch = self._rf_house(cmd.clearing_house)
        if not isinstance(cmd.amount, int) or isinstance(cmd.amount, bool) or cmd.amount < 0:
            raise ClearingError(C.INVALID_QUANTITY, str(cmd.amount), field="amount")
        self.rf_requirements[(p, ch)] = cmd.amount
        events = [ReserveFundRequirementSet(p, ch, cmd.amount)] + self._refresh_reserve(p, ch, ctx.now)
        return Outcome(self._rf_position(p, ch), events)

    def _withdraw_reserve_fund(self, cmd: WithdrawReserveFund, ctx: Context) -> Outcome:
        p = self._who(cmd.participant, ctx)
        ch = self._rf_house(cmd.clearing_house)
        if cmd.contribution not in self.p.reserve_fund:
            raise ClearingError(C.UNKNOWN_CONTRIBUTION_TYPE, cmd.contribution, field="contribution")
        self._positive(cmd.quantity, "quantity")
        inst = self.p.debt.get(cmd.asset)
        cls, asset = (inst.type, inst.id) if inst is not None else ("CASH", cmd.asset)
        key = (p, ch, cmd.contribution, cls, asset)
        held = self.reserve.get(key, 0)
        if cmd.quantity > held:
            raise ClearingError(C.INSUFFICIENT_HOLDING, f"{asset} {held} held", field="quantity")
        after = dict(self.reserve)
        after[key] = held - cmd.quantity
        req = self.rf_requirements.get((p, ch), 0)
        left = self._rf_value(p, ch, after)
        if left < req:
            raise ClearingError(C.RESERVE_FUND_BELOW_REQUIREMENT,
                                f"value after withdrawal {left} < requirement {req}", field="quantity")
        if held == cmd.quantity:
            del self.reserve[key]
        else:
            self.reserve[key] = held - cmd.quantity
        if cls == "CASH":
            self._bank_move(p, asset, cmd.quantity)      # paid to the mandated account
        events = [ReserveFundWithdrawn(p, ch, cmd.contribution, cls, asset, cmd.quantity)]
        events += self._refresh_reserve(p, ch, ctx.now)
        return Outcome(ReserveFundHolding(p, ch, cmd.contribution, cls, asset, self.reserve.get(key, 0)), events)

    # ------------------------------------------------------------------ queries
    def _q_rf_position(self, q: ReserveFundPositionQuery, ctx: Context) -> tuple[ReserveFundPosition, ...]:
        who = self._who_query(q.participant, ctx)
        if q.clearing_house:
            self._rf_house(q.clearing_house)
        pairs = set(self._rf_pairs())
        if who is not None:
            pairs |= {(who, ch) for ch in self.p.reserve_fund_houses}
        return tuple(self._rf_position(p, ch) for p, ch in sorted(pairs)
                     if (who is None or p == who) and (not q.clearing_house or ch == q.clearing_house))
