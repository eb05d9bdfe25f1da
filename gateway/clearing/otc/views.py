"""Query handlers of OTC Clear settlement."""
from __future__ import annotations

from ..core import Context
from ..errors import ClearingError
from . import errors as E
from .arithmetic import floor_minor
from .model import Direction, PaymentState, SettlementType as T
from .queries import (CollateralAnswer, CollateralHolding, CollateralQuery, GuaranteeFundAnswer, GuaranteeFundQuery,
                      OtcMembersQuery, OtcRatesQuery, OtcTradesQuery, PaymentInstructionsQuery, PvpQuery, RatesAnswer,
                      RoutingRow, SettlementAccountsQuery, SettlementItemsQuery, TradeAnswer)


class QueriesMixin:
    """Part of :class:`OtcClearModule`: the query handlers."""

    # ================================================================ queries
    def _q_members(self, q: OtcMembersQuery, ctx: Context):
        scope = self._scope(ctx, q.member)
        return tuple(m for mid, m in sorted(self.p.members.items()) if scope in (None, mid))

    def _q_trades(self, q: OtcTradesQuery, ctx: Context):
        scope = self._scope(ctx, q.member)
        out = []
        for tid in sorted(self.trades):
            t = self.trades[tid]
            if scope not in (None, t.member) or (q.trade_id and q.trade_id != tid):
                continue
            fixings = tuple(f for k, f in sorted(self.fixings.items()) if k[0] == tid)
            out.append(TradeAnswer(t, self.mtm.get(tid, 0), fixings))
        return tuple(out)

    def _q_items(self, q: SettlementItemsQuery, ctx: Context):
        scope = self._scope(ctx, q.member)
        if q.type and q.type not in set(T):
            raise ClearingError(E.INVALID_SETTLEMENT_TYPE, str(q.type), field="type")
        return tuple(i for i in self.items.values()
                     if scope in (None, i.member) and (ctx.operator or i.published)
                     and (q.settlement_date is None or i.settlement_date == q.settlement_date)
                     and (not q.type or i.type == q.type))

    def _q_instructions(self, q: PaymentInstructionsQuery, ctx: Context):
        scope = self._scope(ctx, q.member)
        if q.state and q.state not in set(PaymentState):
            raise ClearingError(E.INVALID_STATE_FILTER, str(q.state), field="state")
        return tuple(i for i in self.instructions.values()
                     if scope in (None, i.member) and (ctx.operator or i.published)
                     and (q.settlement_date is None or i.settlement_date == q.settlement_date)
                     and (not q.state or i.state == q.state)
                     and (not q.instruction_id or i.instruction_id == q.instruction_id))

    def _q_pvps(self, q: PvpQuery, ctx: Context):
        scope = self._scope(ctx, q.member)
        return tuple(p for p in self.pvps.values()
                     if scope in (None, p.member) and (q.value_date is None or p.value_date == q.value_date))

    def _q_collateral(self, q: CollateralQuery, ctx: Context):
        scope = self._scope(ctx, q.member)
        members = [scope] if scope else sorted(self.p.members)
        if scope and q.account:
            self._account(scope, q.account)
        bd = self.business_date
        out = []
        for m in members:
            for a in self.p.members[m].accounts:
                if q.account and a.account_id != q.account:
                    continue
                acc = self._collateral(m, a.account_id)
                cover = self._cover(acc, bd)
                outstanding = sum(i.amount for i in self._pending(m, a.account_id, T.INITIAL_MARGIN, Direction.PAY))
                pending = self._pending_withdrawals(m, a.account_id)
                holdings = tuple(
                    [CollateralHolding(c, "CASH", c, amt, pending.get(c, 0),
                                       floor_minor(self._cash_value(c, amt - pending.get(c, 0), bd)))
                     for c, amt in acc.cash]
                    + [CollateralHolding(sec, "NON_CASH", self.p.securities[sec].currency, nominal, 0,
                                         floor_minor(self._security_value(sec, nominal, bd)))
                       for sec, nominal in acc.non_cash])
                out.append(CollateralAnswer(
                    m, a.account_id, a.kind, self.p.base_currency, acc.cash, acc.non_cash,
                    tuple(sorted(self._pending_withdrawals(m, a.account_id).items())), floor_minor(cover),
                    acc.im_requirement, acc.holiday_margin,
                    floor_minor(cover - acc.im_requirement - acc.holiday_margin), outstanding,
                    acc.participating_margin, holdings))
        return tuple(out)

    def _q_gf(self, q: GuaranteeFundQuery, ctx: Context):
        scope = self._scope(ctx, q.member)
        return tuple(GuaranteeFundAnswer(m, self.p.gf_currency, self.gf_requirement.get(m, 0),
                                         self.gf_balance.get(m, 0), self._gf_outstanding(m))
                     for m in sorted(self.p.members) if scope in (None, m))

    def _q_accounts(self, q: SettlementAccountsQuery, ctx: Context):
        rows = []
        types = [t for t in T if t != T.PARTICIPATING_MARGIN or self.participating_margin]
        for t in types:
            for kind in ("HOUSE", "CLIENT"):
                for ccy in self.p.currencies:
                    r = self.p.routing(int(t), kind, ccy)
                    rows.append(RoutingRow(int(t), kind, ccy, r.bank_code, r.bank, r.sub_account, r.sub_account_name,
                                           r.beneficiary))
        return tuple(rows)

    def _q_rates(self, q: OtcRatesQuery, ctx: Context):
        bd = self.business_date
        cs = self.p.currencies
        return RatesAnswer(bd, tuple((c, self.pai_rate(c, bd)) for c in cs), tuple((c, self.fx_rate(c, bd)) for c in cs),
                           tuple((c, self.p.cash_haircut(c, bd)) for c in cs))
