"""CCMS over the wire: FC/EC2xx transactions, FQ2xx queries, BF2xx broadcasts.

Validation lives in the core (``gateway.clearing.collateral``); this module only converts between
wire records (ints with fixed decimals, text dates) and the core's types (Decimal, date, bytes).
"""
from __future__ import annotations

from decimal import Decimal

from gateway.clearing import collateral as cc
from gateway.handlers import RequestContext, broadcast_view, handler
from gateway.handlers.authorisation import withdraw  # maker-checker (FC203 / FC205 / FC251)
from gateway.handlers.dcass import date_in, key_in, key_out  # noqa: F401 - one declaration (same SeriesKey)
from gateway.handlers.system import hms, names, ymd
from protocol.messages import collateral as m
from protocol.messages.session import Ack
from protocol.units import COLLATERAL_PRICE, RATE

# ------------------------------------------------------------------ conversions
def rate_in(n: int) -> Decimal:
    return RATE.to_decimal(n)


def rate_out(d: Decimal | None) -> int:
    return -1 if d is None else RATE.from_decimal(d)


def price_in(n: int) -> Decimal:
    return COLLATERAL_PRICE.to_decimal(n)


def price_out(d: Decimal | None) -> int:
    return 0 if d is None else COLLATERAL_PRICE.from_decimal(d)


# ------------------------------------------------------------------ participant transactions
@handler(m.OpenCollateralAccountRequest)
def open_collateral_account(msg, ctx: RequestContext):
    ctx.execute(cc.OpenCollateralAccount(msg.clearing_house, msg.account, msg.kind.name))
    return Ack(text=f"account {msg.account} opened")


@handler(m.MapDcassAccountRequest)
def map_dcass_account(msg, ctx: RequestContext):
    out = ctx.execute(cc.MapDcassAccount(msg.dcass_account, msg.account))
    return Ack(text=f"{msg.dcass_account} -> {out.reply.account}")


def _instruction_ack(out) -> Ack:
    i = out.reply
    return Ack(reference=i.instruction_id, text=f"{i.status} value date {ymd(i.value_date)}")


@handler(m.DepositCashRequest)
def deposit_cash(msg, ctx: RequestContext):
    return _instruction_ack(ctx.execute(cc.DepositCash(msg.clearing_house, msg.account, msg.currency, msg.amount)))


@handler(m.WithdrawCashRequest)
def withdraw_cash(msg, ctx: RequestContext):
    return withdraw(ctx, cc.WithdrawCash(msg.clearing_house, msg.account, msg.currency, msg.amount), _instruction_ack)


@handler(m.DepositSecuritiesRequest)
def deposit_securities(msg, ctx: RequestContext):
    return _instruction_ack(ctx.execute(cc.DepositSecurities(msg.clearing_house, msg.account, msg.instrument,
                                                             msg.quantity, msg.specific)))


@handler(m.WithdrawSecuritiesRequest)
def withdraw_securities(msg, ctx: RequestContext):
    return withdraw(ctx, cc.WithdrawSecurities(msg.clearing_house, msg.account, msg.instrument, msg.quantity,
                                               msg.specific), _instruction_ack)


@handler(m.ContributeReserveFundRequest)
def contribute_reserve_fund(msg, ctx: RequestContext):
    out = ctx.execute(cc.ContributeReserveFund(msg.clearing_house, msg.contribution.name, msg.asset, msg.quantity))
    return Ack(text=f"reserve fund {out.reply.contribution} {out.reply.quantity}")


@handler(m.LodgeCoveredCallRequest)
def lodge_covered_call(msg, ctx: RequestContext):
    out = ctx.execute(cc.LodgeCoveredCall(msg.dcass_account, key_in(msg.series), msg.contracts))
    return Ack(reference=out.reply.contracts, text=f"covered {out.reply.contracts}, {out.reply.shares} shares")


@handler(m.ReleaseCoveredCallRequest)
def release_covered_call(msg, ctx: RequestContext):
    out = ctx.execute(cc.ReleaseCoveredCall(msg.dcass_account, key_in(msg.series), msg.contracts))
    return Ack(reference=out.reply.contracts, text=f"covered {out.reply.contracts}, {out.reply.shares} shares")


# ------------------------------------------------------------------ operator transactions
@handler(m.SetFxRateRequest)
def set_fx_rate(msg, ctx: RequestContext):
    ctx.execute(cc.SetFxRate(msg.currency, rate_in(msg.rate)))
    return Ack(text=f"{msg.currency} {rate_in(msg.rate)}")


@handler(m.SetCollateralPriceRequest)
def set_collateral_price(msg, ctx: RequestContext):
    ctx.execute(cc.SetCollateralPrice(msg.instrument, price_in(msg.price)))
    return Ack(text=f"{msg.instrument} {price_in(msg.price)}")


@handler(m.SetInterestRateRequest)
def set_interest_rate(msg, ctx: RequestContext):
    ctx.execute(cc.SetInterestRate(msg.currency, rate_in(msg.rate)))
    return Ack(text=f"{msg.currency} {rate_in(msg.rate)}")


@handler(m.SetStockHaircutRequest)
def set_stock_haircut(msg, ctx: RequestContext):
    out = ctx.execute(cc.SetStockHaircut(msg.stock, rate_in(msg.rate)))
    return Ack(reference=rate_out(out.reply), text=f"applied {out.reply}")


# ------------------------------------------------------------------ queries
@handler(m.CollateralAccountsQuery)
def collateral_accounts(msg, ctx: RequestContext):
    rows = ctx.query(cc.CollateralAccountsQuery(msg.participant, msg.clearing_house))
    return m.CollateralAccountsAnswer(items=[
        m.CollateralAccountItem(participant=r.participant, clearing_house=r.clearing_house, account=r.account,
                                kind=m.AccountKind[r.kind], dcass_accounts=len(r.dcass_accounts)) for r in rows])


@handler(m.AccountMappingQuery)
def account_mapping(msg, ctx: RequestContext):
    rows = ctx.query(cc.AccountMappingQuery(msg.participant, msg.clearing_house))
    return m.AccountMappingAnswer(items=[
        m.MappingItem(participant=r.participant, clearing_house=r.clearing_house, dcass_account=r.dcass_account,
                      account_type=r.account_type, account=r.account, explicit=r.explicit) for r in rows])


@handler(m.HoldingsQuery)
def holdings(msg, ctx: RequestContext):
    a = ctx.query(cc.HoldingsQuery(msg.clearing_house, msg.account, msg.participant))
    return m.HoldingsAnswer(participant=a.participant, clearing_house=a.clearing_house, account=a.account,
                            kind=m.AccountKind[a.kind], items=[
        m.HoldingItem(asset_class=m.AssetClass[h.asset_class], specific=h.specific, asset=h.asset,
                      currency=h.currency, quantity=h.quantity, earmarked=h.earmarked,
                      maturity_date=ymd(h.maturity), price=price_out(h.price), haircut=rate_out(h.haircut),
                      value_hkd=h.value_hkd) for h in a.holdings])


def coverage_line(line: cc.CoverageLine):
    return m.CoverageLineItem(
        currency=line.currency, requirement=line.requirement, settlement_cash_required=line.settlement_cash_required,
        cash_required=line.cash_required, rmb_limit_share=line.rmb_limit_share,
        covered_settlement_cash=line.covered_settlement_cash, covered_other_cash=line.covered_other_cash,
        covered_non_cash=line.covered_non_cash, shortfall=line.shortfall)


@handler(m.CoverageQuery)
def coverage(msg, ctx: RequestContext):
    a = ctx.query(cc.CoverageQuery(msg.clearing_house, msg.account, msg.participant))
    return m.CoverageAnswer(participant=a.participant, clearing_house=a.clearing_house, account=a.account,
                            kind=m.AccountKind[a.kind], excess_hkd=a.excess_hkd,
                            items=[coverage_line(x) for x in a.lines])


@handler(m.CollateralUsageQuery)
def collateral_usage(msg, ctx: RequestContext):
    a = ctx.query(cc.CoverageQuery(msg.clearing_house, msg.account, msg.participant))
    items = [m.UsageItem(used=True, asset_class=m.AssetClass[x.asset_class], settlement_currency=x.settlement_currency,
                         asset=x.asset, quantity=x.quantity, value=x.value, haircut=rate_out(x.haircut))
             for x in a.allocations]
    items += [m.UsageItem(used=False, asset_class=m.AssetClass[x.asset_class], asset=x.asset, quantity=x.quantity,
                          value=x.value_hkd) for x in a.unused]
    return m.CollateralUsageAnswer(items=items)


@handler(m.MarginCallsQuery)
def margin_calls(msg, ctx: RequestContext):
    rows = ctx.query(cc.MarginCallsQuery(msg.participant, msg.clearing_house))
    return m.MarginCallsAnswer(items=[
        m.MarginCallItem(participant=c.participant, clearing_house=c.clearing_house, account=c.account,
                         currency=c.currency, amount=c.amount, called_date=ymd(c.called_at), called_time=hms(c.called_at),
                         due_date=ymd(c.due), due_time=hms(c.due)) for c in rows])


@handler(m.InstructionsQuery)
def instructions(msg, ctx: RequestContext):
    rows = ctx.query(cc.InstructionsQuery(msg.participant, msg.pending_only))
    return m.InstructionsAnswer(items=[
        m.InstructionItem(instruction_id=i.instruction_id, participant=i.participant, clearing_house=i.clearing_house,
                          account=i.account, action=m.InstructionAction[i.action],
                          asset_class=m.AssetClass[i.asset_class], status=m.InstructionStatus[i.status],
                          specific=i.specific, asset=i.asset, quantity=i.quantity,
                          requested_date=ymd(i.requested_at), requested_time=hms(i.requested_at),
                          value_date=ymd(i.value_date), completed_date=ymd(i.completed_at),
                          completed_time=hms(i.completed_at)) for i in rows])


@handler(m.ReserveFundQuery)
def reserve_fund(msg, ctx: RequestContext):
    rows = ctx.query(cc.ReserveFundQuery(msg.participant, msg.clearing_house))
    return m.ReserveFundAnswer(items=[
        m.ReserveFundItem(participant=r.participant, clearing_house=r.clearing_house,
                          contribution=m.Contribution[r.contribution], asset_class=m.AssetClass[r.asset_class],
                          asset=r.asset, quantity=r.quantity) for r in rows])


@handler(m.CoveredCallsQuery)
def covered_calls(msg, ctx: RequestContext):
    rows = ctx.query(cc.CoveredCallsQuery(msg.participant))
    return m.CoveredCallsAnswer(items=[
        m.CoveredCallItem(participant=r.participant, clearing_house=r.clearing_house, dcass_account=r.dcass_account,
                          account=r.account, series=key_out(r.series_key), underlying=r.underlying,
                          contract_size=r.contract_size, contracts=r.contracts, shares=r.shares) for r in rows])


@handler(m.InterestQuery)
def interest(msg, ctx: RequestContext):
    rows = ctx.query(cc.InterestQuery(date_in(msg.business_date, "business_date"), msg.participant))
    return m.InterestAnswer(items=[
        m.AccrualItem(participant=a.participant, business_date=ymd(a.business_date), clearing_house=a.clearing_house,
                      account=a.account, currency=a.currency, kind=m.AccrualKind[a.kind], days=a.days, base=a.base,
                      rate=rate_out(a.rate), amount=a.amount, posted_date=ymd(a.posted_on)) for a in rows])


@handler(m.CollateralParametersQuery)
def collateral_parameters(msg, ctx: RequestContext):
    a = ctx.query(cc.CollateralParametersQuery())
    interest_rates = dict(a.interest_rates)
    haircuts = dict(a.cash_haircuts)
    return m.CollateralParametersAnswer(
        business_date=ymd(a.business_date), accommodation_rate=rate_out(a.accommodation_rate),
        stock_haircut_floor=rate_out(a.stock_haircut_floor),
        items=[m.CurrencyParameterItem(currency=c, fx_rate=rate_out(r), interest_rate=rate_out(interest_rates[c]),
                                       cash_haircut=rate_out(haircuts[c])) for c, r in a.fx_rates])


@handler(m.EligibleCollateralQuery)
def eligible_collateral(msg, ctx: RequestContext):
    rows = ctx.query(cc.EligibleCollateralQuery())
    return m.EligibleCollateralAnswer(items=[
        m.EligibleItem(asset_class=m.AssetClass[e.asset_class], asset=e.asset, name=e.name, currency=e.currency,
                       maturity_date=ymd(e.maturity), price=price_out(e.price), haircut=rate_out(e.haircut))
        for e in rows])


# ------------------------------------------------------------------ broadcasts
# Every broadcast is a view (gateway.handlers.broadcast_view): its bytes are encoded straight from the
# event. The core names codes by their names: ``names`` gives the wire enum's members by name.
broadcast_view(cc.CollateralAccountOpened, m.CollateralAccountOpenedBroadcast,
               {"kind": (names(m.AccountKind), "kind")})

broadcast_view(cc.DcassAccountMapped, m.DcassAccountMappedBroadcast)

_INSTRUCTION = {"action": (names(m.InstructionAction), "action"),
                "asset_class": (names(m.AssetClass), "asset_class"), "value_date": (ymd, "value_date")}

broadcast_view(cc.InstructionAccepted, m.InstructionAcceptedBroadcast, _INSTRUCTION)

broadcast_view(cc.InstructionCompleted, m.InstructionCompletedBroadcast, {
    **_INSTRUCTION, "completed_date": (ymd, "completed_at"), "completed_time": (hms, "completed_at"),
})

# a coverage line has the fields of its item
broadcast_view(cc.CoverageChanged, m.CoverageChangedBroadcast, {"items": ("lines", {})})

broadcast_view(cc.MarginCallChanged, m.MarginCallBroadcast, {
    "status": (names(m.CallStatus), "status"), "called_date": (ymd, "called_at"),
    "called_time": (hms, "called_at"), "due_date": (ymd, "due"), "due_time": (hms, "due"),
})

broadcast_view(cc.CoveredCallChanged, m.CoveredCallChangedBroadcast, {
    "series": (bytes, "series_key"), "reason": (names(m.CoverReason), "reason"),
})

_RESERVE_FUND_ASSET = {"contribution": (names(m.Contribution), "contribution"),
                       "asset_class": (names(m.AssetClass), "asset_class")}

broadcast_view(cc.ReserveFundContributed, m.ReserveFundContributedBroadcast, _RESERVE_FUND_ASSET)

broadcast_view(cc.InterestPosted, m.InterestPostedBroadcast, {"period_end": (ymd, "period_end")})

broadcast_view(cc.FxRateSet, m.FxRateBroadcast, {"rate": (rate_out, "rate")})

broadcast_view(cc.CollateralPriceSet, m.CollateralPriceBroadcast, {"price": (price_out, "price")})

broadcast_view(cc.InterestRateSet, m.InterestRateBroadcast, {"rate": (rate_out, "rate")})

broadcast_view(cc.StockHaircutSet, m.StockHaircutBroadcast,
               {"rate": (rate_out, "rate"), "applied": (rate_out, "applied")})


# ------------------------------------------------------------------ money moves (issue 13)
@handler(m.SetBankMandateRequest)
def set_bank_mandate(msg, ctx: RequestContext):
    out = ctx.execute(cc.SetBankMandate(msg.participant, msg.currency, msg.bank, msg.bank_account))
    r = out.reply
    return Ack(text=f"{r.participant} {r.currency} mandate {'set' if r.bank else 'cancelled'}")


@handler(m.SetBankBalanceRequest)
def set_bank_balance(msg, ctx: RequestContext):
    out = ctx.execute(cc.SetBankBalance(msg.participant, msg.currency, msg.balance, msg.unlimited))
    r = out.reply
    return Ack(text=f"{r.participant} {r.currency} {'unlimited' if r.balance is None else r.balance}")


@handler(m.BankMandatesQuery)
def bank_mandates(msg, ctx: RequestContext):
    rows = ctx.query(cc.BankMandatesQuery(msg.participant))
    return m.BankMandatesAnswer(items=[
        m.MandateItem(participant=r.participant, currency=r.currency, bank=r.bank, bank_account=r.bank_account,
                      unlimited=r.balance is None, balance=r.balance or 0) for r in rows])


def _dcass_accounts_text(accounts: tuple[str, ...]) -> str:
    return ",".join(accounts)


@handler(m.SettlementsQuery)
def settlements(msg, ctx: RequestContext):
    status = "" if msg.status is m.SettlementFilter.ALL else msg.status.name
    rows = ctx.query(cc.SettlementsQuery(msg.participant, date_in(msg.business_date, "business_date"), status))
    return m.SettlementsAnswer(items=[
        m.SettlementItem(settlement_id=s.settlement_id, participant=s.participant, clearing_house=s.clearing_house,
                         account=s.account, currency=s.currency, business_date=ymd(s.business_date), amount=s.amount,
                         due_date=ymd(s.due), due_time=hms(s.due), status=m.SettlementStatus[s.status],
                         consequence=m.Consequence[s.consequence or "NONE"], settled_date=ymd(s.settled_at),
                         settled_time=hms(s.settled_at), dcass_accounts=_dcass_accounts_text(s.dcass_accounts))
        for s in rows])


broadcast_view(cc.CollectionFailed, m.CollectionFailedBroadcast, {
    "reason": (names(m.CollectionFailure), "reason"), "failed_date": (ymd, "at"), "failed_time": (hms, "at"),
})


broadcast_view(cc.SettlementChanged, m.SettlementBroadcast, {
    "business_date": (ymd, "business_date"), "due_date": (ymd, "due"), "due_time": (hms, "due"),
    "status": (names(m.SettlementStatus), "status"),
    "consequence": (names(m.Consequence, blank=m.Consequence.NONE), "consequence"),
    "at_date": (ymd, "at"), "at_time": (hms, "at"),
})


broadcast_view(cc.BankMandateSet, m.BankMandateBroadcast)


# ------------------------------------------------------------------ reserve fund requirement
@handler(m.WithdrawReserveFundRequest)
def withdraw_reserve_fund(msg, ctx: RequestContext):
    out = ctx.execute(cc.WithdrawReserveFund(msg.clearing_house, msg.contribution.name, msg.asset, msg.quantity))
    return Ack(reference=0, text=f"reserve fund {out.reply.asset} left {out.reply.quantity}")


@handler(m.SetReserveFundRequirementRequest)
def set_reserve_fund_requirement(msg, ctx: RequestContext):
    out = ctx.execute(cc.SetReserveFundRequirement(msg.participant, msg.clearing_house, msg.amount))
    return Ack(text=f"shortfall {out.reply.shortfall} excess {out.reply.excess}")


@handler(m.ReserveFundPositionQuery)
def reserve_fund_position(msg, ctx: RequestContext):
    rows = ctx.query(cc.ReserveFundPositionQuery(msg.participant, msg.clearing_house))
    return m.ReserveFundPositionAnswer(items=[
        m.ReserveFundPositionItem(participant=r.participant, clearing_house=r.clearing_house,
                                  requirement=r.requirement, value=r.value, shortfall=r.shortfall, excess=r.excess,
                                  call_amount=r.call_amount, called_date=ymd(r.called_at), called_time=hms(r.called_at),
                                  due_date=ymd(r.due), due_time=hms(r.due)) for r in rows])


broadcast_view(cc.ReserveFundCallChanged, m.ReserveFundCallBroadcast, {
    "status": (names(m.CallStatus), "status"), "called_date": (ymd, "called_at"),
    "called_time": (hms, "called_at"), "due_date": (ymd, "due"), "due_time": (hms, "due"),
})

broadcast_view(cc.ReserveFundWithdrawn, m.ReserveFundWithdrawnBroadcast, _RESERVE_FUND_ASSET)

broadcast_view(cc.ReserveFundRequirementSet, m.ReserveFundRequirementBroadcast)


# ------------------------------------------------------------------ cross-market collateral (HKSCC)
@handler(m.TransferCollateralRequest)
def transfer_collateral(msg, ctx: RequestContext):
    return withdraw(ctx, cc.TransferCollateral(msg.from_clearing_house, msg.from_account, msg.to_clearing_house,
                                               msg.to_account, msg.instrument, msg.quantity), _instruction_ack)


@handler(m.SetMarginRequirementRequest)
def set_margin_requirement(msg, ctx: RequestContext):
    ctx.execute(cc.SetMarginRequirement(msg.participant, msg.clearing_house, msg.account, msg.currency, msg.amount))
    return Ack(text=f"{msg.clearing_house} {msg.account} {msg.currency} {msg.amount}")


@handler(m.CollateralOverviewQuery)
def collateral_overview(msg, ctx: RequestContext):
    rows = ctx.query(cc.CollateralOverviewQuery(msg.participant))
    return m.CollateralOverviewAnswer(items=[
        m.OverviewItem(participant=r.participant, clearing_house=r.clearing_house, account=r.account,
                       kind=m.AccountKind[r.kind], collateral_hkd=r.collateral_hkd, requirement_hkd=r.requirement_hkd,
                       shortfall_hkd=r.shortfall_hkd, excess_hkd=r.excess_hkd, open_calls=r.open_calls) for r in rows])



# ------------------------------------------------------------------ CCASS deliveries
@handler(m.SetStockBalanceRequest)
def set_stock_balance(msg, ctx: RequestContext):
    out = ctx.execute(cc.SetStockBalance(msg.participant, msg.stock, msg.shares))
    return Ack(text=f"{out.reply.participant} {out.reply.stock} {out.reply.shares}")


@handler(m.CcassDeliveriesQuery)
def ccass_deliveries(msg, ctx: RequestContext):
    status = "" if msg.status is m.DeliveryStatusFilter.ALL else msg.status.name
    rows = ctx.query(cc.CcassDeliveriesQuery(msg.participant, status))
    return m.CcassDeliveriesAnswer(items=[
        m.CcassDeliveryItem(obligation_no=d.obligation_no, participant=d.participant, dcass_account=d.dcass_account,
                            stock=d.stock, direction=m.DeliveryDirection[d.direction],
                            status=m.DeliveryStatus[d.status], reason=m.DeliveryFailure[d.reason or "NONE"],
                            shares=d.shares, covered_shares=d.covered_shares, amount=d.amount, currency=d.currency,
                            settlement_date=ymd(d.settlement_date), collateral_account=d.collateral_account,
                            settled_date=ymd(d.settled_at), settled_time=hms(d.settled_at)) for d in rows])


@handler(m.StockAccountsQuery)
def stock_accounts(msg, ctx: RequestContext):
    rows = ctx.query(cc.StockAccountsQuery(msg.participant))
    return m.StockAccountsAnswer(items=[m.StockBalanceItem(participant=r.participant, stock=r.stock, shares=r.shares)
                                        for r in rows])


broadcast_view(cc.CcassDeliveryChanged, m.CcassDeliveryBroadcast, {
    "direction": (names(m.DeliveryDirection), "direction"), "status": (names(m.DeliveryStatus), "status"),
    "reason": (names(m.DeliveryFailure, blank=m.DeliveryFailure.NONE), "reason"),
    "settlement_date": (ymd, "settlement_date"), "at_date": (ymd, "at"), "at_time": (hms, "at"),
})
