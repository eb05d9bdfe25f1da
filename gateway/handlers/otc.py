"""OTC Clear settlement over the wire: SC/SQ requests, EC3xx operator controls, BS broadcasts.

Only translation lives here (text dates, 8-decimal rates, wire enums by name); every rule and
every rejection is the core's (gateway/clearing/otc)."""
from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from gateway.clearing import otc as core
from gateway.clearing.errors import INVALID_VALUE, ClearingError
from gateway.handlers.system import date_in, hms, names, ymd
from gateway.handlers import RequestContext, broadcast_view, handler
from protocol.codec import Constant, Date
from protocol.messages import otc as m
from protocol.units import RATE
from protocol.messages.session import Ack

# ------------------------------------------------------------------ conversions
def parse_date(text: str, field: str, optional: bool = False) -> date | None:
    if not text and not optional:
        raise ClearingError(INVALID_VALUE, f"date {text!r} is not {Date.form}", field=field)
    return date_in(text, field)


def rate_in(v: int) -> Decimal:
    # a quotient, not RATE.to_decimal: its normalised form (0.0365, not 0.03650000) shows in the
    # descriptions of settlement items, so in the state
    return Decimal(v) / RATE.scale


def rate_out(r: Decimal | None) -> int:
    return RATE.from_decimal(r, ROUND_HALF_UP) if r is not None else 0


def day_count(code: m.DayCount) -> str:
    return "" if code == m.DayCount.DEFAULT else code.name.replace("_", "/")


_KIND = names(m.AccountKind, blank=m.AccountKind.MEMBER)


def kind(k: str) -> m.AccountKind:
    """HOUSE / CLIENT; "" (member-level: guarantee fund, fees) is MEMBER."""
    return _KIND[k]


def types_mask(types) -> int:
    mask = 0
    for t in types:
        mask |= 1 << int(t)
    return mask


def coupons(items, field: str = "coupon_dates") -> tuple[date, ...]:
    return tuple(parse_date(c.date, field) for c in items)


# ------------------------------------------------------------------ rows
def trade_terms(t: core.Trade) -> tuple:
    """The fields of a trade row that depend on the product, read from its terms (:data:`TERMS_FIELDS`)."""
    x = t.terms
    if t.product == "NDF":
        ccy, other, notional, other_notional, rate = (x.base_currency, x.quote_currency, x.notional, 0,
                                                      x.contract_rate)
        start, end = x.fixing_date, x.settlement_date
    elif t.product == "IRS":
        ccy, other, notional, other_notional, rate = x.currency, "", x.notional, 0, x.fixed_rate
        start, end = x.effective_date, x.coupon_dates[-1]
    else:
        ccy, other, notional, other_notional, rate = (x.pay_currency, x.receive_currency, x.pay_notional,
                                                      x.receive_notional, x.pay_fixed_rate)
        start, end = x.effective_date, x.coupon_dates[-1]
    return ccy, other, notional, other_notional, rate_out(rate), ymd(start), ymd(end)


TERMS_FIELDS = ("currency", "other_currency", "notional", "other_notional", "rate_e8", "start_date", "end_date")


def trade_row(t: core.Trade, mtm: int) -> m.TradeRow:
    return m.TradeRow(trade_id=t.trade_id, product=m.OtcProduct[t.product], member=t.member, account=t.account,
                      valuation_currency=t.valuation_currency, **dict(zip(TERMS_FIELDS, trade_terms(t))),
                      mtm=mtm, registered_date=ymd(t.registered_at), registered_time=hms(t.registered_at))


def item_row(i: core.SettlementItem) -> m.ItemRow:
    return m.ItemRow(item_id=i.item_id, settlement_type=m.OtcSettlementType[i.type.name], member=i.member,
                     account=i.account, currency=i.currency, amount=i.amount, settlement_date=ymd(i.settlement_date),
                     trade_id=i.trade_id, description=i.description, instruction_id=i.instruction_id,
                     netted=i.netted, created_date=ymd(i.created_at), created_time=hms(i.created_at))


def instruction_row(i: core.PaymentInstruction) -> m.InstructionRow:
    return m.InstructionRow(
        instruction_id=i.instruction_id, member=i.member, account=i.account, 
        account_kind=kind(i.account_kind),
        direction=m.PaymentDirection[i.direction.value], status=m.PaymentStatus[i.state.value], late=i.late,
        settlement_types=types_mask(i.types), currency=i.currency, amount=i.amount,
        settlement_date=ymd(i.settlement_date), available_date=ymd(i.available_at), available_time=hms(i.available_at),
        due_date=ymd(i.due_at), due_time=hms(i.due_at), bank_code=i.bank_code, bank=i.bank,
        sub_account=i.sub_account, sub_account_name=i.sub_account_name, beneficiary=i.beneficiary,
        settled_date=ymd(i.settled_at), settled_time=hms(i.settled_at), settled_by=i.settled_by, pvp_id=i.pvp_id,
        member_bank=i.member_bank)


def pvp_row(p: core.Pvp) -> m.PvpRow:
    return m.PvpRow(pvp_id=p.pvp_id, trade_id=p.trade_id, exchange=m.CcsExchange[p.exchange],
                    status=m.PvpStatus[p.state.value], member=p.member, account=p.account,
                    value_date=ymd(p.value_date), pay_currency=p.pay_currency, receive_currency=p.receive_currency,
                    pay_amount=p.pay_amount, receive_amount=p.receive_amount,
                    pay_instruction_id=p.pay_instruction_id, receive_instruction_id=p.receive_instruction_id,
                    instructed_date=ymd(p.instructed_at), instructed_time=hms(p.instructed_at))


# ------------------------------------------------------------------ member transactions
@handler(m.ConfirmPaymentRequest)
def confirm_payment(msg: m.ConfirmPaymentRequest, ctx: RequestContext):
    out = ctx.execute(core.ConfirmPayment(msg.member, msg.instruction_id))
    return Ack(reference=out.reply.instruction_id, text="settled late" if out.reply.late else "settled")


@handler(m.SubmitPvpInstructionRequest)
def submit_pvp(msg: m.SubmitPvpInstructionRequest, ctx: RequestContext):
    out = ctx.execute(core.SubmitPvpInstruction(
        msg.member, msg.trade_id, msg.exchange.name, parse_date(msg.value_date, "value_date"), msg.pay_currency,
        msg.pay_amount, msg.receive_currency, msg.receive_amount))
    return Ack(reference=out.reply.pvp_id, text="PvP instruction matched")


@handler(m.DepositCashRequest)
def cash_deposit(msg: m.DepositCashRequest, ctx: RequestContext):
    out = ctx.execute(core.RequestCashDeposit(msg.member, msg.account, msg.currency, msg.amount))
    return Ack(reference=out.reply.instruction_id, text=f"deposit settles {ymd(out.reply.settlement_date)}")


@handler(m.WithdrawCashRequest)
def cash_withdrawal(msg: m.WithdrawCashRequest, ctx: RequestContext):
    out = ctx.execute(core.RequestCashWithdrawal(msg.member, msg.account, msg.currency, msg.amount))
    return Ack(reference=out.reply.instruction_id, text=f"withdrawal paid {ymd(out.reply.settlement_date)}")


@handler(m.DepositNonCashRequest)
def deposit_non_cash(msg: m.DepositNonCashRequest, ctx: RequestContext):
    out = ctx.execute(core.DepositNonCash(msg.member, msg.account, msg.security, msg.nominal))
    return Ack(reference=out.reply, text="deposited to CMU")


@handler(m.WithdrawNonCashRequest)
def withdraw_non_cash(msg: m.WithdrawNonCashRequest, ctx: RequestContext):
    out = ctx.execute(core.WithdrawNonCash(msg.member, msg.account, msg.security, msg.nominal))
    return Ack(reference=out.reply, text="returned from CMU")


# ------------------------------------------------------------------ queries
@handler(m.TradesQuery)
def trades(msg: m.TradesQuery, ctx: RequestContext):
    return m.TradesAnswer(items=[trade_row(a.trade, a.mtm) for a in ctx.query(core.OtcTradesQuery(msg.member, msg.trade_id))])


@handler(m.SettlementItemsQuery)
def items(msg: m.SettlementItemsQuery, ctx: RequestContext):
    rows = ctx.query(core.SettlementItemsQuery(msg.member, parse_date(msg.settlement_date, "settlement_date", True),
                                               int(msg.settlement_type)))
    return m.SettlementItemsAnswer(items=[item_row(i) for i in rows])


@handler(m.PaymentInstructionsQuery)
def instructions(msg: m.PaymentInstructionsQuery, ctx: RequestContext):
    state = "" if msg.status == m.PaymentStatus.ANY else msg.status.name
    rows = ctx.query(core.PaymentInstructionsQuery(
        msg.member, parse_date(msg.settlement_date, "settlement_date", True), state, msg.instruction_id))
    return m.PaymentInstructionsAnswer(items=[instruction_row(i) for i in rows])


@handler(m.PvpQuery)
def pvps(msg: m.PvpQuery, ctx: RequestContext):
    rows = ctx.query(core.PvpQuery(msg.member, parse_date(msg.value_date, "value_date", True)))
    return m.PvpAnswer(items=[pvp_row(p) for p in rows])


@handler(m.CollateralQuery)
def collateral(msg: m.CollateralQuery, ctx: RequestContext):
    rows = ctx.query(core.CollateralQuery(msg.member, msg.account))
    return m.CollateralAnswer(items=[m.CollateralRow(
        member=c.member, account=c.account, account_kind=kind(c.account_kind), base_currency=c.base_currency,
        cover=c.cover, im_requirement=c.im_requirement, holiday_margin=c.holiday_margin, excess=c.excess,
        outstanding_calls=c.outstanding_calls, participating_margin=c.participating_margin) for c in rows])


@handler(m.HoldingsQuery)
def holdings(msg: m.HoldingsQuery, ctx: RequestContext):
    rows = ctx.query(core.CollateralQuery(msg.member, msg.account))
    return m.HoldingsAnswer(items=[m.HoldingRow(
        member=c.member, account=c.account, asset=h.asset, kind=m.HoldingKind[h.kind], currency=h.currency,
        amount=h.amount, pending_withdrawal=h.pending_withdrawal, value=h.value) for c in rows for h in c.holdings])


@handler(m.GuaranteeFundQuery)
def guarantee_fund(msg: m.GuaranteeFundQuery, ctx: RequestContext):
    rows = ctx.query(core.GuaranteeFundQuery(msg.member))
    return m.GuaranteeFundAnswer(items=[m.GuaranteeFundRow(
        member=g.member, currency=g.currency, requirement=g.requirement, balance=g.balance,
        outstanding=g.outstanding) for g in rows])


@handler(m.SettlementAccountsQuery)
def settlement_accounts(msg, ctx: RequestContext):
    return m.SettlementAccountsAnswer(items=[m.RoutingRow(
        settlement_type=m.OtcSettlementType(r.settlement_type), account_kind=kind(r.account_kind),
        currency=r.currency, bank_code=r.bank_code, bank=r.bank, sub_account=r.sub_account,
        sub_account_name=r.sub_account_name, beneficiary=r.beneficiary)
        for r in ctx.query(core.SettlementAccountsQuery())])


@handler(m.RatesQuery)
def rates(msg, ctx: RequestContext):
    a = ctx.query(core.OtcRatesQuery())
    fx, hc = dict(a.fx_rates), dict(a.cash_haircuts)
    return m.RatesAnswer(business_date=ymd(a.business_date), items=[m.RateRow(
        currency=c, pai_rate_e8=rate_out(r), fx_rate_e8=rate_out(fx[c]), cash_haircut_e8=rate_out(hc[c]))
        for c, r in a.pai_rates])


@handler(m.MembersQuery)
def members(msg: m.MembersQuery, ctx: RequestContext):
    return m.MembersAnswer(items=[m.MemberAccountRow(
        member=mb.member_id, name=mb.name, account=a.account_id, account_kind=kind(a.kind))
        for mb in ctx.query(core.OtcMembersQuery(msg.member)) for a in mb.accounts])


# ------------------------------------------------------------------ operator controls
@handler(m.RegisterNdfRequest)
def register_ndf(msg: m.RegisterNdfRequest, ctx: RequestContext):
    ctx.execute(core.RegisterNdf(
        msg.trade_id, msg.member, msg.account, msg.direction.name, msg.base_currency, msg.quote_currency,
        msg.notional, rate_in(msg.contract_rate), parse_date(msg.fixing_date, "fixing_date"),
        parse_date(msg.settlement_date, "settlement_date"), msg.settlement_currency))
    return Ack(text=f"NDF {msg.trade_id} registered")


@handler(m.RegisterIrsRequest)
def register_irs(msg: m.RegisterIrsRequest, ctx: RequestContext):
    ctx.execute(core.RegisterIrs(
        msg.trade_id, msg.member, msg.account, msg.direction.name, msg.currency, msg.notional,
        rate_in(msg.fixed_rate), parse_date(msg.effective_date, "effective_date"), coupons(msg.coupon_dates),
        rate_in(msg.float_spread), day_count(msg.day_count)))
    return Ack(text=f"IRS {msg.trade_id} registered")


@handler(m.RegisterCcsRequest)
def register_ccs(msg: m.RegisterCcsRequest, ctx: RequestContext):
    ctx.execute(core.RegisterCcs(
        msg.trade_id, msg.member, msg.account, msg.pay_currency, msg.pay_notional, msg.receive_currency,
        msg.receive_notional, parse_date(msg.effective_date, "effective_date"), coupons(msg.coupon_dates),
        msg.valuation_currency, rate_in(msg.pay_fixed_rate) if msg.pay_fixed else None, rate_in(msg.pay_spread),
        rate_in(msg.receive_fixed_rate) if msg.receive_fixed else None, rate_in(msg.receive_spread),
        msg.initial_exchange, msg.final_exchange, day_count(msg.pay_day_count), day_count(msg.receive_day_count)))
    return Ack(text=f"CCS {msg.trade_id} registered")


@handler(m.SetRateFixingRequest)
def set_rate_fixing(msg: m.SetRateFixingRequest, ctx: RequestContext):
    out = ctx.execute(core.SetRateFixing(msg.trade_id, parse_date(msg.fixing_date, "fixing_date"),
                                         rate_in(msg.rate), "" if msg.leg == m.SwapLeg.NONE else msg.leg.name))
    return Ack(reference=out.reply.item_id, text="fixing set")


@handler(m.SetMtmRequest)
def set_mtm(msg: m.SetMtmRequest, ctx: RequestContext):
    ctx.execute(core.SetMtm(msg.trade_id, msg.mtm))
    return Ack(text="MTM set")


@handler(m.SetPaiRateRequest)
def set_pai_rate(msg: m.SetPaiRateRequest, ctx: RequestContext):
    ctx.execute(core.SetPaiRate(msg.currency, rate_in(msg.rate)))
    return Ack(text="PAI rate set")


@handler(m.SetFxRateRequest)
def set_fx_rate(msg: m.SetFxRateRequest, ctx: RequestContext):
    ctx.execute(core.SetFxRate(msg.currency, rate_in(msg.rate)))
    return Ack(text="FX rate set")


@handler(m.RunIntradayVmCallRequest)
def run_intraday_vm_call(msg, ctx: RequestContext):
    out = ctx.execute(core.RunIntradayVmCall())
    return Ack(reference=len(out.reply), text=f"{len(out.reply)} intraday VM calls")


@handler(m.SetMarginRequirementRequest)
def set_margin_requirement(msg: m.SetMarginRequirementRequest, ctx: RequestContext):
    ctx.execute(core.SetMarginRequirement(msg.member, msg.account, msg.im_requirement, msg.holiday_margin))
    return Ack(text="margin requirement set")


@handler(m.SetGuaranteeFundRequirementRequest)
def set_guarantee_fund(msg: m.SetGuaranteeFundRequirementRequest, ctx: RequestContext):
    out = ctx.execute(core.SetGuaranteeFundRequirement(msg.member, msg.requirement,
                                                       parse_date(msg.due_date, "due_date", True)))
    return Ack(reference=out.reply.instruction_id if out.reply else 0, text="guarantee fund set")


@handler(m.ChargeFeeRequest)
def charge_fee(msg: m.ChargeFeeRequest, ctx: RequestContext):
    out = ctx.execute(core.ChargeFee(msg.member, msg.currency, msg.amount, msg.description))
    return Ack(reference=out.reply.item_id, text="fee charged")


@handler(m.IssueParticipatingMarginCallRequest)
def participating_margin_call(msg: m.IssueParticipatingMarginCallRequest, ctx: RequestContext):
    out = ctx.execute(core.IssueParticipatingMarginCall(msg.member, msg.account, msg.amount))
    return Ack(reference=out.reply.instruction_id, text="participating margin called")


@handler(m.MarkPaymentSettledRequest)
def mark_payment_settled(msg: m.MarkPaymentSettledRequest, ctx: RequestContext):
    out = ctx.execute(core.MarkPaymentSettled(msg.instruction_id))
    return Ack(reference=out.reply.instruction_id, text="settled")


# ------------------------------------------------------------------ broadcasts
# Every broadcast is a view (gateway.handlers.broadcast_view): its bytes are encoded straight from the
# event; a row of the event's record is read from it with the row's own view.
broadcast_view(core.OtcTradeRegistered, m.TradeRegisteredBroadcast, {"trade": ("trade", {
    "product": (names(m.OtcProduct), "product"), TERMS_FIELDS: (trade_terms, None),
    "mtm": Constant(0),                                         # registered with MTM 0
    "registered_date": (ymd, "registered_at"), "registered_time": (hms, "registered_at"),
})})

broadcast_view(core.RateFixingSet, m.RateFixingBroadcast, {
    "trade_id": "fixing.trade_id", "leg": (names(m.SwapLeg, blank=m.SwapLeg.NONE), "fixing.leg"),
    "fixing_date": (ymd, "fixing.fixing_date"), "rate_e8": (rate_out, "fixing.rate"),
})

broadcast_view(core.MtmSet, m.MtmBroadcast, {"business_time": (hms, "now")})

broadcast_view(core.SettlementItemCreated, m.SettlementItemBroadcast, {"item": ("item", {
    "settlement_type": ({t: m.OtcSettlementType[t.name] for t in core.SettlementType}, "type"),
    "settlement_date": (ymd, "settlement_date"), "created_date": (ymd, "created_at"),
    "created_time": (hms, "created_at"),
})})

_INSTRUCTION_ROW = {
    "account_kind": (_KIND, "account_kind"),
    "direction": ({d: m.PaymentDirection[d.value] for d in core.Direction}, "direction"),
    "status": ({s: m.PaymentStatus[s.value] for s in core.PaymentState}, "state"),
    "settlement_types": (types_mask, "types"), "settlement_date": (ymd, "settlement_date"),
    "available_date": (ymd, "available_at"), "available_time": (hms, "available_at"),
    "due_date": (ymd, "due_at"), "due_time": (hms, "due_at"),
    "settled_date": (ymd, "settled_at"), "settled_time": (hms, "settled_at"),
}
_INSTRUCTION = {"instruction": ("instruction", _INSTRUCTION_ROW)}
broadcast_view(core.PaymentInstructionIssued, m.PaymentInstructionIssuedBroadcast, _INSTRUCTION)
broadcast_view(core.PaymentSettled, m.PaymentSettledBroadcast, _INSTRUCTION)
broadcast_view(core.PaymentLate, m.PaymentLateBroadcast, _INSTRUCTION)

broadcast_view(core.PvpStatusChanged, m.PvpStatusBroadcast, {"pvp": ("pvp", {
    "exchange": (names(m.CcsExchange), "exchange"),
    "status": ({s: m.PvpStatus[s.value] for s in core.PvpState}, "state"), "value_date": (ymd, "value_date"),
    "instructed_date": (ymd, "instructed_at"), "instructed_time": (hms, "instructed_at"),
})})

broadcast_view(core.MarginRequirementSet, m.MarginRequirementBroadcast)

broadcast_view(core.NonCashCollateralMoved, m.NonCashMovedBroadcast, {"business_time": (hms, "now")})

broadcast_view(core.GuaranteeFundRequirementSet, m.GuaranteeFundRequirementBroadcast)

_RATE = {"effective_date": (ymd, "effective_from"), "rate_e8": (rate_out, "rate")}
broadcast_view(core.PaiRateSet, m.PaiRateBroadcast, _RATE)
broadcast_view(core.FxRateSet, m.FxRateBroadcast, _RATE)


# ------------------------------------------------------------------ the member's own side (issue 13)
@handler(m.MemberBanksQuery)
def member_banks(msg: m.MemberBanksQuery, ctx: RequestContext):
    return m.MemberBanksAnswer(items=[m.MemberBankRow(member=b.member, currency=b.currency, rtgs_member=b.rtgs_member,
                                                      pvp_funded=b.pvp_funded, bank=b.bank)
                                      for b in ctx.query(core.MemberBanksQuery(msg.member))])


@handler(m.SetPvpFundingRequest)
def set_pvp_funding(msg: m.SetPvpFundingRequest, ctx: RequestContext):
    ctx.execute(core.SetPvpFunding(msg.member, msg.currency, msg.funded))
    return Ack(text=f"{msg.member} {msg.currency} {'funded' if msg.funded else 'not funded'}")


@handler(m.AddTradePaymentRequest)
def add_trade_payment(msg: m.AddTradePaymentRequest, ctx: RequestContext):
    out = ctx.execute(core.AddTradePayment(msg.trade_id, parse_date(msg.payment_date, "payment_date"), msg.currency,
                                           msg.amount, msg.description))
    return Ack(reference=out.reply.item_id, text="additional payment added")


broadcast_view(core.PvpFundingSet, m.PvpFundingBroadcast)
