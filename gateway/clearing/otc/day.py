"""End and start of day: EOD VM, PAI, IM calls and monthly fee billing; netting of types 1-3."""
from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

from ..core import Context
from .arithmetic import ceil_minor, floor_minor, price_alignment_interest
from .model import NETTED_TYPES, Direction, SettlementItem, SettlementType as T
from .params import at


class DayMixin:
    """Part of :class:`OtcClearModule`: end and start of day."""

    # ================================================================ end and start of day
    def end_of_day(self, ctx: Context) -> list:
        self._wake = None
        bd = self.business_date
        nxt = self.calendar.next_business_day(bd)
        events = self._eod_pai(bd, nxt, ctx.now)  # on VM settled up to today, before today's VM is added
        events += self._eod_vm(nxt, ctx.now)
        events += self._eod_im_calls(bd, nxt, ctx.now)
        if nxt.month != bd.month:
            events += self._bill_fees(ctx.now)
        return events

    def _eod_vm(self, nxt: date, now: datetime) -> list:
        events: list = []
        for (member, account, ccy), current in self._groups().items():
            covered = self.covered_mtm.get((member, account, ccy), 0)
            self.covered_mtm[(member, account, ccy)] = current
            if current != covered:
                events += self._add_item(T.EOD_VM, member, account, ccy, current - covered, nxt, now,
                                         description=f"EOD VM: MTM {current} - covered {covered}")[1]
        return events

    def cumulative_vm(self, member: str, account: str, currency: str, through: date) -> int:
        """VM (types 2 and 6) settling on or before ``through``: the member's VM cash balance."""
        return sum(i.amount for i in self.items.values()
                   if i.type in (T.EOD_VM, T.INTRADAY_VM) and i.member == member and i.account == account
                   and i.currency == currency and i.settlement_date <= through)

    def _eod_pai(self, bd: date, nxt: date, now: datetime) -> list:
        balances: dict[tuple[str, str, str], int] = {}
        for i in self.items.values():
            if i.type in (T.EOD_VM, T.INTRADAY_VM) and i.settlement_date <= bd:
                key = (i.member, i.account, i.currency)
                balances[key] = balances.get(key, 0) + i.amount
        days = (nxt - bd).days
        events: list = []
        for (member, account, ccy), c in sorted(balances.items()):
            rate = self.pai_rate(ccy, bd)
            basis = self.p.basis(self.p.day_count[ccy])
            amount = price_alignment_interest(c, rate, days, basis)
            if amount:
                events += self._add_item(T.PAI, member, account, ccy, amount, nxt, now,
                                         description=f"PAI: -({c}) x {rate} x {days}/{basis}")[1]
        return events

    def _eod_im_calls(self, bd: date, nxt: date, now: datetime) -> list:
        cut = self._cut(nxt)
        events: list = []
        for (member, account), acc in sorted(self.collateral.items()):
            required = acc.im_requirement + acc.holiday_margin
            if not required:
                continue
            outstanding = sum(i.amount for i in self._pending(member, account, T.INITIAL_MARGIN, Direction.PAY))
            cover = self._cover(acc, bd)
            shortfall = required - cover - outstanding
            if shortfall > 0:
                call = ceil_minor(shortfall)
                what = "holiday margin + IM call" if acc.holiday_margin else "IM call"
                events += self._single(T.INITIAL_MARGIN, member, account, self.p.base_currency, -call, nxt, now,
                                       at(nxt, cut.im_call_available), at(nxt, cut.im_call_due),
                                       f"{what}: IM {acc.im_requirement} + holiday {acc.holiday_margin}"
                                       f" - cover {floor_minor(cover)} - unpaid calls {outstanding}")[1]
        return events

    def _bill_fees(self, now: datetime) -> list:
        groups: dict[tuple[str, str, date], list[SettlementItem]] = {}
        for i in self.items.values():
            if i.type == T.FEES and not i.netted:
                groups.setdefault((i.member, i.currency, i.settlement_date), []).append(i)
        events: list = []
        for (member, ccy, sd), items in sorted(groups.items()):
            for i in items:
                self.items[i.item_id] = replace(i, netted=True)
            total = sum(i.amount for i in items)
            if total:
                due = at(sd, self._cut(sd).member_payment_due)
                events += self._add_instruction(member, "", (T.FEES,), ccy, total, sd, now, now, due,
                                                [i.item_id for i in items])[1]
        return events

    def start_of_day(self, ctx: Context, business_date: date) -> list:
        """Net types 1, 2 and 3 due today per member account, currency and date; issue the nets."""
        self._wake = None
        groups: dict[tuple[str, str, str, date], list[SettlementItem]] = {}
        for i in self.items.values():
            if i.type in NETTED_TYPES and not i.netted and i.settlement_date <= business_date:
                groups.setdefault((i.member, i.account, i.currency, i.settlement_date), []).append(i)
        events: list = []
        for (member, account, ccy, sd), items in sorted(groups.items()):
            for i in items:
                self.items[i.item_id] = replace(i, netted=True)
            net = sum(i.amount for i in items)
            if not net:
                continue
            cut = self._cut(sd)
            due = at(sd, cut.payout_from if net > 0 else cut.member_payment_due)
            events += self._add_instruction(member, account, (i.type for i in items), ccy, net, sd, ctx.now,
                                            ctx.now, due, [i.item_id for i in items])[1]
        return events
