"""Money moves of CCMS (issue 13): bank mandates, the emulated bank balances behind them, and the
DCASS daily money settlement with offset per collateral account.

A mixin of :class:`~gateway.clearing.collateral.module.CollateralModule` (it uses the module's
helpers and state); its state is in the module's snapshot:

- ``mandates``: (participant, currency) -> (bank, bank account), from the demo data, then operator-set;
- ``bank_balances``: (participant, currency) -> cents; absent = unlimited (the default: always pays);
- ``settlements``: id -> record of one net settlement per (participant, clearing house, collateral
  account, currency, business date).

Rules and choices: docs/guides/collateral.md, "Money moves".
"""
from __future__ import annotations

import re
from datetime import datetime

from ..core import Context, Outcome
from ..errors import ClearingError
from . import codes as C
from .messages import (
    BankMandate, BankMandateSet, BankMandatesQuery, CollectionFailed, SetBankBalance, SetBankMandate, Settlement,
    SettlementChanged, SettlementsQuery,
)

PARTICIPANT_ID = re.compile(r"^[A-Z0-9]{1,8}$")
BANK_TEXT = re.compile(r"^[ -~]{1,60}$")
BANK_ACCOUNT_TEXT = re.compile(r"^[ -~]{1,40}$")
INSUFFICIENT_BANK_BALANCE = "INSUFFICIENT_BANK_BALANCE"
NO_MANDATE = "NO_MANDATE"


class MoneyMoves:
    """Mandates, bank balances and DCASS settlement (mixed into the CCMS module)."""

    def _init_money(self) -> None:
        self.mandates: dict[tuple[str, str], tuple[str, str]] = dict(self.p.mandates)
        self.bank_balances: dict[tuple[str, str], int] = {}
        self.settlements: dict[int, dict] = {}
        self.next_settlement_id = 1
        # derived, not state: the earliest due time of a pending settlement (None: recompute), so
        # that time passing costs nothing until then
        self._settle_wake: datetime | None = None

    def _money_commands(self) -> dict:
        return {SetBankMandate: self._set_bank_mandate, SetBankBalance: self._set_bank_balance}

    def _money_queries(self) -> dict:
        return {BankMandatesQuery: self._q_mandates, SettlementsQuery: self._q_settlements}

    def _money_snapshot(self) -> dict:
        return {
            "mandates": {f"{p}|{c}": list(v) for (p, c), v in sorted(self.mandates.items())},
            "bank_balances": {f"{p}|{c}": v for (p, c), v in sorted(self.bank_balances.items())},
            "settlements": {str(i): v for i, v in sorted(self.settlements.items())},
            "next_settlement_id": self.next_settlement_id,
        }

    # ------------------------------------------------------------------ the bank side
    def _require_mandate(self, p: str, ccy: str, field: str = "currency") -> tuple[str, str]:
        m = self.mandates.get((p, ccy))
        if m is None:
            raise ClearingError(C.NO_MANDATE, f"{p} has no {ccy} bank mandate", field=field)
        return m

    def _bank_can_pay(self, p: str, ccy: str, amount: int) -> bool:
        bal = self.bank_balances.get((p, ccy))
        return bal is None or bal >= amount

    def _bank_move(self, p: str, ccy: str, delta: int) -> None:
        """The emulated bank balance changes by ``delta`` (an unlimited balance stays unlimited)."""
        bal = self.bank_balances.get((p, ccy))
        if bal is not None:
            self.bank_balances[(p, ccy)] = bal + delta

    def _collect(self, p: str, ccy: str, amount: int) -> str:
        """Collect ``amount`` through the mandate: "" when collected, else the reason it failed."""
        if (p, ccy) not in self.mandates:
            return NO_MANDATE
        if not self._bank_can_pay(p, ccy, amount):
            return INSUFFICIENT_BANK_BALANCE
        self._bank_move(p, ccy, -amount)
        return ""

    def _fail_deposit(self, ins: dict, now: datetime, reason: str) -> list:
        ins["status"] = "FAILED"
        ins["completed_at"] = now
        bank = self.mandates.get((ins["participant"], ins["asset"]), ("", ""))[0]
        return [CollectionFailed(ins["participant"], ins["instruction_id"], ins["clearing_house"], ins["account"],
                                 ins["asset"], ins["quantity"], bank, reason, now)]

    # ------------------------------------------------------------------ operator commands
    def _participant_id(self, participant: str) -> str:
        if not PARTICIPANT_ID.match(participant or ""):
            raise ClearingError(C.INVALID_PARTICIPANT, participant, field="participant")
        return participant

    def _set_bank_mandate(self, cmd: SetBankMandate, ctx: Context) -> Outcome:
        ctx.require_operator()
        p = self._participant_id(cmd.participant)
        ccy = self._currency(cmd.currency)
        if cmd.bank:
            if not BANK_TEXT.match(cmd.bank):
                raise ClearingError(C.INVALID_MANDATE, "bank", field="bank")
            if not BANK_ACCOUNT_TEXT.match(cmd.bank_account or ""):
                raise ClearingError(C.INVALID_MANDATE, "bank account", field="bank_account")
            self.mandates[(p, ccy)] = (cmd.bank, cmd.bank_account)
        else:
            if (p, ccy) not in self.mandates:
                raise ClearingError(C.NO_MANDATE, f"{p} has no {ccy} bank mandate to cancel", field="bank")
            del self.mandates[(p, ccy)]
        bank, account = self.mandates.get((p, ccy), ("", ""))
        reply = BankMandate(p, ccy, bank, account, self.bank_balances.get((p, ccy)))
        return Outcome(reply, [BankMandateSet(p, ccy, bank, account)])

    def _set_bank_balance(self, cmd: SetBankBalance, ctx: Context) -> Outcome:
        ctx.require_operator()
        p = self._participant_id(cmd.participant)
        ccy = self._currency(cmd.currency)
        if cmd.unlimited:
            self.bank_balances.pop((p, ccy), None)
        else:
            b = cmd.balance
            if not isinstance(b, int) or isinstance(b, bool) or b < 0:
                raise ClearingError(C.INVALID_BALANCE, str(b), field="balance")
            self.bank_balances[(p, ccy)] = b
        bank, account = self.mandates.get((p, ccy), ("", ""))
        return Outcome(BankMandate(p, ccy, bank, account, self.bank_balances.get((p, ccy))), [])

    # ------------------------------------------------------------------ DCASS daily settlement
    def _settlement_obligations(self, ctx: Context) -> list:
        """End of day: DCASS's money of the business date, netted per collateral account and currency."""
        d = self._dcass()
        if d is None:
            return []
        bd = self.core.business_date
        nets: dict[tuple[str, str, str, str], list] = {}
        for m in d.money_of_day(bd):
            try:
                atype = d.account(m.participant, m.account_id).account_type
            except ClearingError:
                atype = None
            acc = self._mapped(m.participant, m.clearing_house, m.account_id,
                               getattr(atype, "name", None) if atype is not None else None)
            if not m.net:
                continue   # an account with nothing to pay or receive is not part of the settlement
            entry = nets.setdefault((m.participant, m.clearing_house, acc, m.currency), [0, []])
            entry[0] += int(m.net)
            entry[1].append(m.account_id)
        due = datetime.combine(self.core.calendar.next_business_day(bd), self.p.settlement_due)
        events = []
        for (p, ch, acc, ccy), (amount, accounts) in sorted(nets.items()):
            if amount == 0:
                continue   # nothing to move (documented)
            sid = self.next_settlement_id
            self.next_settlement_id += 1
            rec = self.settlements[sid] = {
                "settlement_id": sid, "participant": p, "clearing_house": ch, "account": acc, "currency": ccy,
                "business_date": bd, "amount": amount, "dcass_accounts": tuple(sorted(set(accounts))), "due": due,
                "status": "PENDING", "settled_at": None, "consequence": ""}
            events.append(self._settlement_event(rec, ctx.now))
        self._settle_wake = None
        return events

    @staticmethod
    def _settlement_event(rec: dict, now: datetime) -> SettlementChanged:
        return SettlementChanged(rec["participant"], rec["settlement_id"], rec["clearing_house"], rec["account"],
                                 rec["currency"], rec["business_date"], rec["amount"], rec["due"], rec["status"],
                                 rec["consequence"], now)

    def _settle_due(self, now: datetime) -> list:
        """Settle every pending settlement whose due time has come: receipts are paid to the mandated
        bank account; payments are collected from it, and a failed collection is debited from the
        participant's CCMS cash collateral in that currency (``settlement.failed_collection``)."""
        wake = self._settle_wake
        if wake is None:
            wake = self._settle_wake = min((r["due"] for r in self.settlements.values() if r["status"] == "PENDING"),
                                           default=datetime.max)
        if now < wake:
            return []
        self._settle_wake = None
        events: list = []
        touched: set[tuple[str, str]] = set()
        # collections first, then payments out (a receipt of the same morning does not fund a
        # collection), each in settlement number order
        due = [r for r in self.settlements.values() if r["status"] == "PENDING" and now >= r["due"]]
        for rec in sorted(due, key=lambda r: (r["amount"] > 0, r["settlement_id"])):
            p, ccy, amount = rec["participant"], rec["currency"], rec["amount"]
            rec["settled_at"] = now
            if amount > 0:
                self._bank_move(p, ccy, amount)
                rec["status"] = "SETTLED"
            elif self._collect(p, ccy, -amount) == "":
                rec["status"] = "SETTLED"
            else:
                rec["status"] = "FAILED"
                rec["consequence"] = self.p.failed_collection
                account = self._ensure(p, rec["clearing_house"], rec["account"])
                self._hold(account, "cash", ccy, account["cash"].get(ccy, 0) + amount)
                touched.add((p, rec["clearing_house"]))
            events.append(self._settlement_event(rec, now))
        for p, ch in sorted(touched):
            events += self._refresh(p, ch, now)
        return events

    # ------------------------------------------------------------------ queries
    def _q_mandates(self, q: BankMandatesQuery, ctx: Context) -> tuple[BankMandate, ...]:
        who = self._who_query(q.participant, ctx)
        keys = set(self.mandates) | set(self.bank_balances)
        return tuple(BankMandate(p, c, *self.mandates.get((p, c), ("", "")), self.bank_balances.get((p, c)))
                     for p, c in sorted(keys) if who is None or p == who)

    def _q_settlements(self, q: SettlementsQuery, ctx: Context) -> tuple[Settlement, ...]:
        who = self._who_query(q.participant, ctx)
        return tuple(Settlement(**r) for _, r in sorted(self.settlements.items())
                     if (who is None or r["participant"] == who)
                     and (q.business_date is None or r["business_date"] == q.business_date)
                     and (not q.status or r["status"] == q.status))

