"""CCMS over the wire: FC/EC2xx transactions, FQ2xx queries, BF2xx broadcasts.

Validation lives in the core (``gateway.clearing.collateral``); this module only converts between
wire records (ints with fixed decimals, text dates) and the core's types (Decimal, date, bytes).
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal

from gateway.clearing import collateral as cc
from gateway.handlers import RequestContext, broadcast, handler
from gateway.handlers.authorisation import withdraw  # maker-checker (FC203 / FC205)
from gateway.handlers.dcass import date_in, key_in, key_out  # noqa: F401 - one declaration (same SeriesKey)
from gateway.handlers.system import hms, ymd
from protocol.messages import collateral as m
from protocol.messages.session import Ack

RATE_DECIMALS = 8
PRICE_DECIMALS = 4


# ------------------------------------------------------------------ conversions
def rate_in(n: int) -> Decimal:
    return Decimal(n).scaleb(-RATE_DECIMALS)


def rate_out(d: Decimal | None) -> int:
    if d is None:
        return -1
    return int(d.scaleb(RATE_DECIMALS).to_integral_value(rounding=ROUND_HALF_EVEN))


def price_in(n: int) -> Decimal:
    return Decimal(n).scaleb(-PRICE_DECIMALS)


def price_out(d: Decimal | None) -> int:
    if d is None:
        return 0
    return int(d.scaleb(PRICE_DECIMALS).to_integral_value(rounding=ROUND_HALF_EVEN))


def d8(d: date | None) -> str:
    return ymd(d) if d else ""


def t6(t: datetime | None) -> str:
    return hms(t) if t else ""




# ------------------------------------------------------------------ participant transactions
@handler(m.OpenCollateralAccountRequest)
def open_collateral_account(msg, ctx: RequestContext):
    ctx.execute(cc.OpenCollateralAccount(msg.clearing_house, msg.account, msg.kind.name))
    return Ack(text=f"account {msg.account} opened")


@handler(m.MapDcassAccountRequest)
def map_dcass_account(msg, ctx: RequestContext):
    out = ctx.execute(cc.MapDcassAccount(msg.dcass_account, msg.account))
    return Ack(text=f"{msg.dcass_account} -> {out.reply.account}"[:40])


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
    return Ack(text=f"reserve fund {out.reply.contribution} {out.reply.quantity}"[:40])


@handler(m.LodgeCoveredCallRequest)
def lodge_covered_call(msg, ctx: RequestContext):
    out = ctx.execute(cc.LodgeCoveredCall(msg.dcass_account, key_in(msg.series), msg.contracts))
    return Ack(reference=out.reply.contracts, text=f"covered {out.reply.contracts}, {out.reply.shares} shares"[:40])


@handler(m.ReleaseCoveredCallRequest)
def release_covered_call(msg, ctx: RequestContext):
    out = ctx.execute(cc.ReleaseCoveredCall(msg.dcass_account, key_in(msg.series), msg.contracts))
    return Ack(reference=out.reply.contracts, text=f"covered {out.reply.contracts}, {out.reply.shares} shares"[:40])


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
                      maturity_date=d8(h.maturity), price=price_out(h.price), haircut=rate_out(h.haircut),
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
                         currency=c.currency, amount=c.amount, called_date=d8(c.called_at), called_time=t6(c.called_at),
                         due_date=d8(c.due), due_time=t6(c.due)) for c in rows])


@handler(m.InstructionsQuery)
def instructions(msg, ctx: RequestContext):
    rows = ctx.query(cc.InstructionsQuery(msg.participant, msg.pending_only))
    return m.InstructionsAnswer(items=[
        m.InstructionItem(instruction_id=i.instruction_id, participant=i.participant, clearing_house=i.clearing_house,
                          account=i.account, action=m.InstructionAction[i.action],
                          asset_class=m.AssetClass[i.asset_class], status=m.InstructionStatus[i.status],
                          specific=i.specific, asset=i.asset, quantity=i.quantity,
                          requested_date=d8(i.requested_at), requested_time=t6(i.requested_at),
                          value_date=d8(i.value_date), completed_date=d8(i.completed_at),
                          completed_time=t6(i.completed_at)) for i in rows])


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
        m.AccrualItem(participant=a.participant, business_date=d8(a.business_date), clearing_house=a.clearing_house,
                      account=a.account, currency=a.currency, kind=m.AccrualKind[a.kind], days=a.days, base=a.base,
                      rate=rate_out(a.rate), amount=a.amount, posted_date=d8(a.posted_on)) for a in rows])


@handler(m.CollateralParametersQuery)
def collateral_parameters(msg, ctx: RequestContext):
    a = ctx.query(cc.CollateralParametersQuery())
    interest_rates = dict(a.interest_rates)
    haircuts = dict(a.cash_haircuts)
    return m.CollateralParametersAnswer(
        business_date=d8(a.business_date), accommodation_rate=rate_out(a.accommodation_rate),
        stock_haircut_floor=rate_out(a.stock_haircut_floor),
        items=[m.CurrencyParameterItem(currency=c, fx_rate=rate_out(r), interest_rate=rate_out(interest_rates[c]),
                                       cash_haircut=rate_out(haircuts[c])) for c, r in a.fx_rates])


@handler(m.EligibleCollateralQuery)
def eligible_collateral(msg, ctx: RequestContext):
    rows = ctx.query(cc.EligibleCollateralQuery())
    return m.EligibleCollateralAnswer(items=[
        m.EligibleItem(asset_class=m.AssetClass[e.asset_class], asset=e.asset, name=e.name[:32], currency=e.currency,
                       maturity_date=d8(e.maturity), price=price_out(e.price), haircut=rate_out(e.haircut))
        for e in rows])


# ------------------------------------------------------------------ broadcasts
@broadcast(cc.CollateralAccountOpened)
def collateral_account_opened(e: cc.CollateralAccountOpened):
    return m.CollateralAccountOpenedBroadcast(clearing_house=e.clearing_house, account=e.account,
                                              kind=m.AccountKind[e.kind])


@broadcast(cc.DcassAccountMapped)
def dcass_account_mapped(e: cc.DcassAccountMapped):
    return m.DcassAccountMappedBroadcast(clearing_house=e.clearing_house, dcass_account=e.dcass_account,
                                         account=e.account, previous_account=e.previous_account, explicit=e.explicit)


@broadcast(cc.InstructionAccepted)
def instruction_accepted(e: cc.InstructionAccepted):
    return m.InstructionAcceptedBroadcast(
        instruction_id=e.instruction_id, clearing_house=e.clearing_house, account=e.account,
        action=m.InstructionAction[e.action], asset_class=m.AssetClass[e.asset_class], specific=e.specific,
        asset=e.asset, quantity=e.quantity, value_date=d8(e.value_date))


@broadcast(cc.InstructionCompleted)
def instruction_completed(e: cc.InstructionCompleted):
    return m.InstructionCompletedBroadcast(
        instruction_id=e.instruction_id, clearing_house=e.clearing_house, account=e.account,
        action=m.InstructionAction[e.action], asset_class=m.AssetClass[e.asset_class], specific=e.specific,
        asset=e.asset, quantity=e.quantity, value_date=d8(e.value_date), completed_date=d8(e.completed_at),
        completed_time=t6(e.completed_at))


@broadcast(cc.CoverageChanged)
def coverage_changed(e: cc.CoverageChanged):
    return m.CoverageChangedBroadcast(clearing_house=e.clearing_house, account=e.account, excess_hkd=e.excess_hkd,
                                      items=[coverage_line(x) for x in e.lines])


@broadcast(cc.MarginCallChanged)
def margin_call_changed(e: cc.MarginCallChanged):
    return m.MarginCallBroadcast(clearing_house=e.clearing_house, account=e.account, currency=e.currency,
                                 amount=e.amount, status=m.CallStatus[e.status], called_date=d8(e.called_at),
                                 called_time=t6(e.called_at), due_date=d8(e.due), due_time=t6(e.due))


@broadcast(cc.CoveredCallChanged)
def covered_call_changed(e: cc.CoveredCallChanged):
    return m.CoveredCallChangedBroadcast(clearing_house=e.clearing_house, dcass_account=e.dcass_account,
                                         account=e.account, series=key_out(e.series_key), underlying=e.underlying,
                                         contracts=e.contracts, shares=e.shares, reason=m.CoverReason[e.reason])


@broadcast(cc.ReserveFundContributed)
def reserve_fund_contributed(e: cc.ReserveFundContributed):
    return m.ReserveFundContributedBroadcast(clearing_house=e.clearing_house,
                                             contribution=m.Contribution[e.contribution],
                                             asset_class=m.AssetClass[e.asset_class], asset=e.asset,
                                             quantity=e.quantity)


@broadcast(cc.InterestPosted)
def interest_posted(e: cc.InterestPosted):
    return m.InterestPostedBroadcast(clearing_house=e.clearing_house, account=e.account, currency=e.currency,
                                     period_end=d8(e.period_end), interest=e.interest, accommodation=e.accommodation,
                                     net=e.net, balance=e.balance)


@broadcast(cc.FxRateSet)
def fx_rate_set(e: cc.FxRateSet):
    return m.FxRateBroadcast(currency=e.currency, rate=rate_out(e.rate))


@broadcast(cc.CollateralPriceSet)
def collateral_price_set(e: cc.CollateralPriceSet):
    return m.CollateralPriceBroadcast(instrument=e.instrument, price=price_out(e.price))


@broadcast(cc.InterestRateSet)
def interest_rate_set(e: cc.InterestRateSet):
    return m.InterestRateBroadcast(currency=e.currency, rate=rate_out(e.rate))


@broadcast(cc.StockHaircutSet)
def stock_haircut_set(e: cc.StockHaircutSet):
    return m.StockHaircutBroadcast(stock=e.stock, rate=rate_out(e.rate), applied=rate_out(e.applied))
