"""Payment instructions: settlement, lateness, member confirmation, operator marking, PvP
instructions, and the scheduled actions run as business time passes."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from ..core import Context, Outcome
from ..errors import ACTING_FOR_OTHER, NOT_AUTHORISED, ClearingError
from . import errors as E
from .commands import ConfirmPayment, MarkPaymentSettled, SubmitPvpInstruction
from .events import PaymentInstructionIssued, PaymentLate, PaymentSettled, PvpStatusChanged, SettlementItemCreated
from .model import Direction, PaymentInstruction, PaymentState, Pvp, PvpState, SettlementType as T
from .params import at


class PaymentsMixin:
    """Part of :class:`OtcClearModule`: payment states, PvP and the scheduler."""

    # ================================================================ payments
    def _settle(self, ins: PaymentInstruction, when: datetime, by: str) -> list:
        """Mark settled and apply its effect on collateral / guarantee fund balances."""
        ins = replace(ins, state=PaymentState.SETTLED, settled_at=when, settled_by=by)
        self.instructions[ins.instruction_id] = ins
        signed = ins.amount if ins.direction == Direction.RECEIVE else -ins.amount
        kind = ins.types[0]
        if kind in (T.INITIAL_MARGIN, T.CASH_COLLATERAL):
            acc = self._collateral(ins.member, ins.account)
            cash = dict(acc.cash)
            cash[ins.currency] = cash.get(ins.currency, 0) - signed
            self.collateral[(ins.member, ins.account)] = replace(
                acc, cash=tuple(sorted((k, v) for k, v in cash.items() if v)))
        elif kind == T.PARTICIPATING_MARGIN:
            acc = self._collateral(ins.member, ins.account)
            self.collateral[(ins.member, ins.account)] = replace(acc, participating_margin=acc.participating_margin
                                                                 - signed)
        elif kind == T.GUARANTEE_FUND:
            self.gf_balance[ins.member] = self.gf_balance.get(ins.member, 0) - signed
        return [PaymentSettled(ins.member, ins)]

    def _late(self, ins: PaymentInstruction) -> list:
        ins = replace(ins, state=PaymentState.LATE, late=True)
        self.instructions[ins.instruction_id] = ins
        return [PaymentLate(ins.member, ins)]

    def _visible_instruction(self, ctx: Context, instruction_id: Any) -> PaymentInstruction:
        ins = self.instructions.get(instruction_id) if isinstance(instruction_id, int) else None
        if ins is None or (not ctx.operator and not ins.published):
            raise ClearingError(E.UNKNOWN_INSTRUCTION, str(instruction_id), field="instruction_id")
        if not ctx.operator and ins.member != ctx.participant:
            raise ClearingError(NOT_AUTHORISED, str(instruction_id), field="instruction_id")
        return ins

    def _confirm_payment(self, cmd: ConfirmPayment, ctx: Context) -> Outcome:
        self._member(ctx, cmd.member)
        ins = self._visible_instruction(ctx, cmd.instruction_id)
        if ins.member != cmd.member and cmd.member:
            raise ClearingError(ACTING_FOR_OTHER, cmd.member, field="member")
        if ins.pvp_id:
            raise ClearingError(E.SETTLES_BY_PVP, str(ins.pvp_id), field="instruction_id")
        if ins.direction != Direction.PAY:
            raise ClearingError(E.NOT_MEMBER_PAYMENT, field="instruction_id")
        if ins.state == PaymentState.SETTLED:
            raise ClearingError(E.ALREADY_SETTLED, field="instruction_id")
        events = self._settle(ins, ctx.now, "MEMBER")
        return Outcome(self.instructions[ins.instruction_id], events)

    def _mark_settled(self, cmd: MarkPaymentSettled, ctx: Context) -> Outcome:
        ctx.require_operator()
        ins = self._visible_instruction(ctx, cmd.instruction_id)
        if ins.state == PaymentState.SETTLED:
            raise ClearingError(E.ALREADY_SETTLED, field="instruction_id")
        if not ins.pvp_id:
            events = self._settle(ins, ctx.now, "OPERATOR")
            return Outcome(self.instructions[ins.instruction_id], events)
        pvp = self.pvps[ins.pvp_id]  # PvP: both legs or neither
        events = []
        for leg in (pvp.pay_instruction_id, pvp.receive_instruction_id):
            if self.instructions[leg].state != PaymentState.SETTLED:
                events += self._settle(self.instructions[leg], ctx.now, "OPERATOR")
        pvp = replace(pvp, state=PvpState.SETTLED)
        self.pvps[pvp.pvp_id] = pvp
        return Outcome(self.instructions[ins.instruction_id], events + [PvpStatusChanged(pvp.member, pvp)])

    def _submit_pvp(self, cmd: SubmitPvpInstruction, ctx: Context) -> Outcome:
        member = self._member(ctx, cmd.member)
        trade = self._trade(cmd.trade_id, ctx)
        if trade.member != member:
            raise ClearingError(ACTING_FOR_OTHER, f"{cmd.trade_id} belongs to {trade.member}", field="member")
        if cmd.exchange not in ("INITIAL", "FINAL"):
            raise ClearingError(E.INVALID_EXCHANGE_KIND, str(cmd.exchange), field="exchange")
        pvp = next((p for p in self.pvps.values() if p.trade_id == trade.trade_id and p.exchange == cmd.exchange),
                   None)
        if pvp is None:
            raise ClearingError(E.PVP_UNKNOWN_EXCHANGE, f"{cmd.trade_id} {cmd.exchange}", field="exchange")
        cutoff = at(pvp.value_date, self._cut(pvp.value_date).pvp_instruction_cutoff)
        if ctx.now >= cutoff:
            raise ClearingError(E.PVP_AFTER_CUTOFF, f"{ctx.now} >= {cutoff}")
        if pvp.state != PvpState.AWAITING:
            raise ClearingError(E.PVP_ALREADY_INSTRUCTED, str(pvp.pvp_id))
        for f in ("value_date", "pay_currency", "pay_amount", "receive_currency", "receive_amount"):
            if getattr(cmd, f) != getattr(pvp, f):
                raise ClearingError(E.PVP_NOT_MATCHING, f"{f}: {getattr(cmd, f)} != {getattr(pvp, f)}", field=f)
        pvp = replace(pvp, state=PvpState.INSTRUCTED, instructed_at=ctx.now)
        self.pvps[pvp.pvp_id] = pvp
        return Outcome(pvp, [PvpStatusChanged(member, pvp)])

    # ================================================================ time
    def _actions(self) -> list[tuple[datetime, int, int, str]]:
        """Every scheduled action still to run: (time, order, id, kind)."""
        acts = []
        for item in self.items.values():
            if not item.published:
                acts.append((item.available_at, 0, item.item_id, "publish_item"))
        for ins in self.instructions.values():
            if not ins.published:
                acts.append((ins.available_at, 1, ins.instruction_id, "publish"))
            if ins.pvp_id == 0 and ins.state == PaymentState.PENDING:
                if ins.direction == Direction.PAY:
                    acts.append((ins.due_at, 3, ins.instruction_id, "late"))
                else:
                    acts.append((ins.due_at, 4, ins.instruction_id, "payout"))
        for pvp in self.pvps.values():
            if pvp.state in (PvpState.AWAITING, PvpState.INSTRUCTED):
                acts.append((at(pvp.value_date, self._cut(pvp.value_date).pvp_settlement), 2, pvp.pvp_id, "pvp"))
        return acts

    def on_time(self, now: datetime) -> list:
        if self._wake is not None and now < self._wake:
            return []
        acts = self._actions()
        events: list = []
        for when, _, ident, kind in sorted(a for a in acts if a[0] <= now):
            if kind == "publish_item":
                item = replace(self.items[ident], published=True)
                self.items[ident] = item
                events.append(SettlementItemCreated(item.member, item))
            elif kind == "publish":
                ins = replace(self.instructions[ident], published=True)
                self.instructions[ident] = ins
                events.append(PaymentInstructionIssued(ins.member, ins))
            elif kind == "late":
                if self.instructions[ident].state == PaymentState.PENDING:
                    events += self._late(self.instructions[ident])
            elif kind == "payout":
                if self.instructions[ident].state == PaymentState.PENDING:
                    events += self._settle(self.instructions[ident], when, "OTC_CLEAR")
            else:
                events += self._run_pvp(self.pvps[ident], when)
        future = [a[0] for a in self._actions()]
        self._wake = min(future) if future else datetime.max
        return events

    def _run_pvp(self, pvp: Pvp, when: datetime) -> list:
        """12:00 on the value date: matched exchanges whose pay side the member funded settle; an
        instructed exchange without funding fails (FAILED), one never instructed is LATE; in both
        cases both legs are late (the operator settles them later with MarkPaymentSettled)."""
        events: list = []
        legs = (self.instructions[pvp.pay_instruction_id], self.instructions[pvp.receive_instruction_id])
        if pvp.state == PvpState.INSTRUCTED and self._funded(pvp.member, pvp.pay_currency):
            for leg in legs:
                events += self._settle(leg, when, "PVP")
            pvp = replace(pvp, state=PvpState.SETTLED)
        else:
            for leg in legs:
                events += self._late(leg)
            pvp = replace(pvp, state=PvpState.FAILED if pvp.state == PvpState.INSTRUCTED else PvpState.LATE)
        self.pvps[pvp.pvp_id] = pvp
        return events + [PvpStatusChanged(pvp.member, pvp)]
