"""CCASS deliveries (issue 13, item 5): stock deliveries from SEOCH exercise and assignment settle
on their date between the participant's emulated CCASS stock account and the clearing house,
against the money collected or paid through the bank mandate; shares that covered an assigned
short call come out of the CCMS specific collateral.

A mixin of :class:`~gateway.clearing.collateral.module.CollateralModule`; its state (``stock_accounts``,
``ccass``) is in the module's snapshot. The deliveries are read from DCASS at end of day through its
interface (``deliveries_of_day``, like ``money_of_day``). Rules: docs/guides/collateral.md, "CCASS deliveries".
"""
from __future__ import annotations

from datetime import datetime

from ..core import Context, Outcome
from ..errors import ClearingError
from . import codes as C
from .messages import (
    CcassDeliveriesQuery, CcassDelivery, CcassDeliveryChanged, SetStockBalance, StockAccountsQuery, StockBalance,
)
from .params import normalise_stock

SEOCH = "SEOCH"
INSUFFICIENT_SHARES = "INSUFFICIENT_SHARES"
MONEY_NOT_COLLECTED = "MONEY_NOT_COLLECTED"


class CcassDeliveries:
    """Emulated CCASS stock accounts and delivery settlement (mixed into the CCMS module)."""

    def _init_ccass(self) -> None:
        self.stock_accounts: dict[tuple[str, str], int] = {}   # (participant, stock code) -> shares
        self.ccass: dict[int, dict] = {}                       # DCASS obligation number -> delivery
        self._ccass_last_run: datetime | None = None           # derived: the run already made
        self._ccass_run_at: tuple | None = None                # derived: (business date, its run time)

    def _ccass_commands(self) -> dict:
        return {SetStockBalance: self._set_stock_balance}

    def _ccass_queries(self) -> dict:
        return {StockAccountsQuery: self._q_stock_accounts, CcassDeliveriesQuery: self._q_ccass}

    def _ccass_snapshot(self) -> dict:
        return {"stock_accounts": {f"{p}|{s}": v for (p, s), v in sorted(self.stock_accounts.items())},
                "ccass": {str(k): v for k, v in sorted(self.ccass.items())}}

    def _pending_covered(self, p: str, ch: str, acc: str, code: str) -> int:
        """Specific shares kept for covered deliveries not yet settled (still earmarked)."""
        return sum(d["covered_shares"] for d in self.ccass.values()
                   if d["participant"] == p and d["status"] != "SETTLED" and d["collateral_account"] == acc
                   and ch == "SEOCH" and d["stock"] == code)

    # ------------------------------------------------------------------ from DCASS
    def _delivery_obligations(self, now: datetime) -> list:
        """End of day: DCASS's delivery obligations of the business date (its exercises and
        assignments ran in its own end of day, before this one) become CCASS deliveries."""
        d = self._dcass()
        if d is None:
            return []
        out: list = []
        for o in d.deliveries_of_day(self.core.business_date):
            if o.obligation_no in self.ccass:
                continue
            try:
                acct = d.account(o.participant, o.account_id)
                ch, atype = acct.clearing_house, getattr(acct.account_type, "name", None)
            except ClearingError:
                ch, atype = SEOCH, None
            size = o.shares // o.lots if o.lots else 0
            rec = self.ccass[o.obligation_no] = {
                "obligation_no": o.obligation_no, "participant": o.participant, "dcass_account": o.account_id,
                "stock": normalise_stock(str(o.stock_code)) or str(o.stock_code),
                "direction": getattr(o.direction, "name", str(o.direction)), "shares": int(o.shares),
                "covered_shares": int(o.covered_lots) * size, "amount": int(o.amount), "currency": o.currency,
                "settlement_date": o.settlement_date, "collateral_account": self._mapped(o.participant, ch,
                                                                                           o.account_id, atype),
                "status": "PENDING", "reason": "", "settled_at": None}
            out.append(self._ccass_event(rec, now))
        return out

    @staticmethod
    def _ccass_event(rec: dict, now: datetime) -> CcassDeliveryChanged:
        return CcassDeliveryChanged(rec["participant"], rec["obligation_no"], rec["stock"], rec["direction"],
                                    rec["shares"], rec["covered_shares"], rec["amount"], rec["currency"],
                                    rec["settlement_date"], rec["status"], rec["reason"], now)

    # ------------------------------------------------------------------ the settlement run
    def _ccass_run(self, now: datetime) -> list:
        """Every unsettled delivery whose date's run has come (retried at each later run)."""
        bd = self.core.business_date
        at = self._ccass_run_at
        if at is None or at[0] != bd:
            at = self._ccass_run_at = (bd, datetime.combine(bd, self.p.ccass_run))
        run = at[1]
        if now < run or self._ccass_last_run == run:
            return []   # every delivery due is tried once per run (the deliveries of today were known before it)
        self._ccass_last_run = run
        events: list = []
        touched: set[str] = set()
        for no in sorted(self.ccass):
            rec = self.ccass[no]
            if rec["status"] == "SETTLED" or rec["settlement_date"] > bd:
                continue
            if rec["status"] == "FAILED" and rec["settled_at"] is not None and rec["settled_at"] >= run:
                continue   # already tried at this run
            reason = self._settle_delivery(rec)
            rec["settled_at"] = now
            rec["status"], rec["reason"] = ("FAILED", reason) if reason else ("SETTLED", "")
            if not reason and rec["covered_shares"]:
                touched.add(rec["participant"])
            events.append(self._ccass_event(rec, now))
        for p in sorted(touched):
            events += self._refresh(p, "SEOCH", now)
        return events

    def _settle_delivery(self, rec: dict) -> str:
        """Settle one delivery versus payment: "" when done, else why nothing moved."""
        p, code, shares = rec["participant"], rec["stock"], rec["shares"]
        if rec["direction"] == "RECEIVE":
            if self._collect(p, rec["currency"], rec["amount"]):
                return MONEY_NOT_COLLECTED
            self.stock_accounts[(p, code)] = self.stock_accounts.get((p, code), 0) + shares
            return ""
        covered = rec["covered_shares"]
        acc = self.accounts.get((p, "SEOCH", rec["collateral_account"]))
        specific = acc["specific"].get(code, 0) if acc is not None else 0
        held = self.stock_accounts.get((p, code), 0)
        if covered > specific or shares - covered > held:
            return INSUFFICIENT_SHARES
        if covered:
            self._hold(acc, "specific", code, specific - covered)
        if shares - covered:
            self.stock_accounts[(p, code)] = held - (shares - covered)
        self._bank_move(p, rec["currency"], rec["amount"])
        return ""

    # ------------------------------------------------------------------ operator and queries
    def _set_stock_balance(self, cmd: SetStockBalance, ctx: Context) -> Outcome:
        ctx.require_operator()
        p = self._participant_id(cmd.participant)
        code = normalise_stock(cmd.stock or "")
        if code is None:
            raise ClearingError(C.INVALID_STOCK, cmd.stock, field="stock")
        if not isinstance(cmd.shares, int) or isinstance(cmd.shares, bool) or cmd.shares < 0:
            raise ClearingError(C.INVALID_QUANTITY, str(cmd.shares), field="shares")
        self.stock_accounts[(p, code)] = cmd.shares
        return Outcome(StockBalance(p, code, cmd.shares), [])

    def _q_stock_accounts(self, q: StockAccountsQuery, ctx: Context) -> tuple[StockBalance, ...]:
        who = self._who_query(q.participant, ctx)
        return tuple(StockBalance(p, s, v) for (p, s), v in sorted(self.stock_accounts.items())
                     if who is None or p == who)

    def _q_ccass(self, q: CcassDeliveriesQuery, ctx: Context) -> tuple[CcassDelivery, ...]:
        who = self._who_query(q.participant, ctx)
        return tuple(CcassDelivery(**r) for _, r in sorted(self.ccass.items())
                     if (who is None or r["participant"] == who) and (not q.status or r["status"] == q.status))
