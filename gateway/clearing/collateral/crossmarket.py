"""Cross-market collateral (issue 13, item 4): HKSCC as a third clearing house of CCMS with its
margin requirements set by the operator, transfers of collateral between a participant's own
collateral accounts in different clearing houses, and one view across the clearing houses.

A mixin of :class:`~gateway.clearing.collateral.module.CollateralModule`; its state
(``op_requirements``) is in the module's snapshot. Rules and choices: docs/guides/collateral.md,
"Cross-market collateral".
"""
from __future__ import annotations

from datetime import datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from ..core import Context, Outcome
from ..errors import ClearingError
from . import codes as C
from .coverage import EMPTY
from .messages import CollateralOverview, CollateralOverviewQuery, SetMarginRequirement, TransferCollateral


class CrossMarket:
    """Operator-set requirements, cross-house transfers and the overview (mixed into the CCMS module)."""

    def _init_cross_market(self) -> None:
        # (participant, clearing house) -> {(collateral account, currency): cents}
        self.op_requirements: dict[tuple[str, str], dict[tuple[str, str], int]] = {}

    def _cross_market_commands(self) -> dict:
        return {SetMarginRequirement: self._set_margin_requirement, TransferCollateral: self._transfer}

    def _cross_market_queries(self) -> dict:
        return {CollateralOverviewQuery: self._q_overview}

    def _cross_market_snapshot(self) -> dict:
        return {"op_requirements": {f"{p}|{ch}|{acc}|{ccy}": v
                                    for (p, ch), reqs in sorted(self.op_requirements.items())
                                    for (acc, ccy), v in sorted(reqs.items())}}

    def _add_op_requirements(self, p: str, ch: str, by_acc: dict[str, dict[str, int]]) -> None:
        """Add the operator-set requirements of (p, ch) to ``by_acc`` (collateral account -> {ccy: cents})."""
        extra = self.op_requirements.get((p, ch))
        if not extra:
            return
        for (acc, ccy), amt in extra.items():
            reqs = by_acc.get(acc)
            if reqs is None:
                by_acc[acc] = {ccy: amt}
            else:
                reqs[ccy] = reqs.get(ccy, 0) + amt

    # ------------------------------------------------------------------ operator: HKSCC requirements
    def _set_margin_requirement(self, cmd: SetMarginRequirement, ctx: Context) -> Outcome:
        ctx.require_operator()
        p = self._participant_id(cmd.participant)
        ch = self._ch(cmd.clearing_house)
        if ch not in self.p.operator_requirement_houses:
            raise ClearingError(C.NOT_OPERATOR_REQUIREMENT_HOUSE, ch, field="clearing_house")
        self._kind(p, ch, cmd.account)
        ccy = self._currency(cmd.currency)
        if not isinstance(cmd.amount, int) or isinstance(cmd.amount, bool) or cmd.amount < 0:
            raise ClearingError(C.INVALID_QUANTITY, str(cmd.amount), field="amount")
        self._ensure(p, ch, cmd.account)
        reqs = self.op_requirements.setdefault((p, ch), {})
        if cmd.amount:
            reqs[(cmd.account, ccy)] = cmd.amount
        else:
            reqs.pop((cmd.account, ccy), None)
            if not reqs:
                del self.op_requirements[(p, ch)]
        return Outcome(cmd.amount, self._refresh(p, ch, ctx.now))

    # ------------------------------------------------------------------ participant: transfers
    def _transfer(self, cmd: TransferCollateral, ctx: Context) -> Outcome:
        p = self._who(cmd.participant, ctx)
        fch = self._ch(cmd.from_clearing_house, field="from_clearing_house")
        tch = self._ch(cmd.to_clearing_house, field="to_clearing_house")
        if fch == tch:
            raise ClearingError(C.TRANSFER_SAME_HOUSE, fch, field="to_clearing_house")
        fkind = self._kind_at(p, fch, cmd.from_account, "from_account")
        tkind = self._kind_at(p, tch, cmd.to_account, "to_account")
        if fkind != tkind:
            raise ClearingError(C.TRANSFER_KIND_MISMATCH, f"{fkind} to {tkind}", field="to_account")
        self._positive(cmd.quantity, "quantity")
        cut = datetime.combine(self.core.business_date, self.p.transfer_cutoff)
        if ctx.now >= cut:
            raise ClearingError(C.AFTER_CUTOFF, f"collateral transfers before {self.p.transfer_cutoff.isoformat()}")
        if cmd.instrument in self.p.accepted_cash:
            cls, asset, book = "CASH", cmd.instrument, "cash"
        else:
            cls, asset = self._security(cmd.instrument)
            book = "stock" if cls == "STOCK" else "debt"
        bd = self.core.business_date
        if cls == "STOCK":
            if asset not in self.p.eligible_stocks(bd):
                raise ClearingError(C.INELIGIBLE_COLLATERAL, f"stock {asset}", field="instrument")
            if tkind not in self.p.stock_account_kinds:
                err = C.STOCK_IN_CLIENT_ACCOUNT if tkind == "CLIENT" else C.STOCK_IN_MM_ACCOUNT
                raise ClearingError(err, cmd.to_account, field="to_account")
        elif cls != "CASH" and self.p.debt[asset].maturity <= bd:
            raise ClearingError(C.INSTRUMENT_MATURED, asset, field="instrument")
        view = self._view(p, fch, cmd.from_account)
        held = view[book].get(asset, 0)
        if cmd.quantity > held:
            raise ClearingError(C.INSUFFICIENT_HOLDING, f"{asset} {held} held", field="quantity")
        hypo = self._copy(view)
        hypo[book][asset] = held - cmd.quantity
        self._check_no_shortfall(p, fch, cmd.from_account, hypo)
        src = self._ensure(p, fch, cmd.from_account)
        dst = self._ensure(p, tch, cmd.to_account)
        self._hold(src, book, asset, held - cmd.quantity)
        self._hold(dst, book, asset, dst[book].get(asset, 0) + cmd.quantity)
        out, events = self._instruction(p, fch, cmd.from_account, "TRANSFER_OUT", cls, asset, cmd.quantity, False,
                                        ctx.now, bd, pending=False)
        _, more = self._instruction(p, tch, cmd.to_account, "TRANSFER_IN", cls, asset, cmd.quantity, False,
                                    ctx.now, bd, pending=False)
        events += more
        events += self._refresh(p, fch, ctx.now) + self._refresh(p, tch, ctx.now)
        return Outcome(self._record(out), events)

    def _kind_at(self, p: str, ch: str, acc: str, field: str) -> str:
        try:
            return self._kind(p, ch, acc)
        except ClearingError as e:
            raise ClearingError(e.error, str(e), field=field) from None

    # ------------------------------------------------------------------ the one view
    def _q_overview(self, q: CollateralOverviewQuery, ctx: Context) -> tuple[CollateralOverview, ...]:
        who = self._who_query(q.participant, ctx)
        v = self._valuer()
        fx = self._fx_rates()
        base = self.p.base
        keys = {k for k in self.accounts if who is None or k[0] == who}
        keys |= {k for k in self.results if who is None or k[0] == who}
        out = []
        for p, ch, acc in sorted(keys):
            account = self._view(p, ch, acc)
            value = sum(v.value(cls, asset, qty, base) for (cls, asset), qty in self._pool(account).items())
            res = self.results.get((p, ch, acc), EMPTY)
            req = sum(int((Decimal(line.requirement) * fx[line.currency]).to_integral_value(ROUND_FLOOR))
                      for line in res.lines)
            short = sum(int((Decimal(line.shortfall) * fx[line.currency]).to_integral_value(ROUND_CEILING))
                        for line in res.lines)
            calls = sum(1 for k in self.calls if k[:3] == (p, ch, acc))
            out.append(CollateralOverview(p, ch, acc, account["kind"], value, req, short, res.excess_hkd, calls))
        return tuple(out)
