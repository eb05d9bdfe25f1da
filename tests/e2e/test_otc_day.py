"""A day (three, in fact) in the life of an OTC Clear member, through the SDK over a real socket.

Gateway business time starts Monday 2026-11-23 09:00. The operator registers trades and market data,
the member (OCM01) follows its settlement stream, pays, misses a cut-off, deposits and withdraws
collateral and settles a CCS exchange by PvP."""
from __future__ import annotations

import pytest

from clients import RequestRejected
from protocol.messages import otc as m
from protocol.messages import system as sy
from protocol.streams import Stream

E8 = 10 ** 8


async def until(client, code: str, pred=lambda msg: True, timeout: float = 3.0):
    """The next broadcast of type ``code`` whose message satisfies ``pred`` (others are skipped)."""
    while True:
        ev = await client.next_broadcast(timeout=timeout, code=code)
        if pred(ev.message):
            return ev.message


async def set_time(operator, date: str, time: str) -> None:
    await operator.transact(sy.SetBusinessTimeRequest(business_date=date, business_time=time, reset=False,
                                               follow_wall_clock=False))


async def eod(operator) -> None:
    await operator.transact(sy.RunEndOfDayRequest())


async def test_a_day_in_the_life_of_an_otc_clear_member(gateway, connect, operator):
    member = await connect("OCM01")
    other = await connect("OCM02")
    statuses = await member.subscribe(Stream.SETTLEMENT, Stream.GENERAL)
    assert all(s.handle for s in statuses)

    # ---- Monday: trades and market data arrive
    await operator.transact(m.RegisterNdfRequest(
        trade_id="NDF-1", member="OCM01", account="H", direction=m.NdfDirection.SELL, base_currency="USD",
        quote_currency="CNH", settlement_currency="USD", notional=1_000_000_00, contract_rate=72 * E8 // 10,
        fixing_date="20261124", settlement_date="20261124"))
    reg = await until(member, "BS300")
    assert (reg.trade.trade_id, reg.trade.product, reg.trade.rate_e8) == ("NDF-1", m.OtcProduct.NDF, 720_000_000)
    await operator.transact(m.RegisterCcsRequest(
        trade_id="CCS-1", member="OCM01", account="H", pay_currency="CNH", receive_currency="USD",
        valuation_currency="USD", pay_fixed=True, receive_fixed=True, initial_exchange=True, final_exchange=True,
        pay_day_count=m.DayCount.DEFAULT, receive_day_count=m.DayCount.DEFAULT, pay_notional=72_000_000_00,
        receive_notional=10_000_000_00, pay_fixed_rate=25 * E8 // 1000, pay_spread=0,
        receive_fixed_rate=45 * E8 // 1000, receive_spread=0, effective_date="20261125",
        coupon_dates=[m.CouponDate(date="20270525"), m.CouponDate(date="20271125")]))
    # each exchange: its two legs (type 4, PvP bank for USD and CNH), then the PvP record
    leg = await until(member, "BS304", lambda i: i.instruction.pvp_id != 0)
    assert leg.instruction.bank == "Industrial and Commercial Bank of China (Asia) Limited"
    assert leg.instruction.sub_account_name == "Settlement (Notional Exchange)"
    pvp = await until(member, "BS307", lambda p: p.pvp.exchange == m.CcsExchange.INITIAL)
    assert (pvp.pvp.status, pvp.pvp.pay_currency, pvp.pvp.pay_amount) == (m.PvpStatus.AWAITING, "USD",
                                                                         10_000_000_00)
    assert leg.instruction.pvp_id == pvp.pvp.pvp_id

    # the NDF fixes: the member sold USD at 7.20 and the fixing is 7.30 -> it pays USD 13,698.63
    await operator.transact(m.SetRateFixingRequest(trade_id="NDF-1", leg=m.SwapLeg.NONE, fixing_date="20261124",
                                            rate=73 * E8 // 10))
    item = await until(member, "BS303", lambda b: b.item.trade_id == "NDF-1")
    assert (item.item.settlement_type, item.item.amount, item.item.currency) == (
        m.OtcSettlementType.OBLIGATION, -13_698_63, "USD")

    await operator.transact(m.SetMarginRequirementRequest(member="OCM01", account="H", im_requirement=1_000_000_00,
                                                   holiday_margin=0))
    await until(member, "BS308")

    # the member deposits USD cash collateral and pays it
    ack = await member.transact(m.DepositCashRequest(member="", account="H", currency="USD", amount=100_000_00))
    dep = await until(member, "BS304", lambda i: i.instruction.instruction_id == ack.reference)
    assert (dep.instruction.settlement_date, dep.instruction.sub_account_name, dep.instruction.direction) == (
        "20261123", "House Margin Fund", m.PaymentDirection.PAY)
    await member.transact(m.ConfirmPaymentRequest(member="", instruction_id=ack.reference))
    paid = await until(member, "BS305", lambda i: i.instruction.instruction_id == ack.reference)
    assert paid.instruction.status == m.PaymentStatus.SETTLED and not paid.instruction.late
    [col] = (await member.query(m.CollateralQuery(member="", account="H"))).items
    assert (col.cover, col.im_requirement) == (774_540_00, 1_000_000_00)  # USD 100,000 x 7.8 x 0.993
    [holding] = (await member.query(m.HoldingsQuery(member="", account="H"))).items
    assert (holding.asset, holding.kind, holding.value) == ("USD", m.HoldingKind.CASH, 774_540_00)

    # rejections: each with its code and field, nothing changed
    with pytest.raises(RequestRejected) as e:
        await member.transact(m.WithdrawCashRequest(member="", account="H", currency="USD", amount=1_00))
    assert (e.value.business_status, e.value.field) == (-900006, "amount")  # beyond the excess (none)
    with pytest.raises(RequestRejected) as e:
        await member.transact(m.DepositCashRequest(member="OCM02", account="H", currency="USD", amount=1_00))
    assert (e.value.business_status, e.value.field) == (-600003, "member")
    with pytest.raises(RequestRejected) as e:
        await member.transact(m.DepositCashRequest(member="", account="H", currency="JPY", amount=1_00))
    assert (e.value.business_status, e.value.field) == (-900005, "currency")
    with pytest.raises(RequestRejected) as e:
        await other.query(m.TradesQuery(member="OCM01", trade_id=""))
    assert e.value.business_status == -600003
    assert (await other.query(m.TradesQuery(member="", trade_id=""))).items == []

    # ---- Tuesday: net obligation due by 11:00, IM call at 08:30 due 09:30
    await eod(operator)
    net = await until(member, "BS304", lambda i: i.instruction.settlement_types == 1 << 1)
    assert (net.instruction.amount, net.instruction.direction, net.instruction.due_time) == (
        13_698_63, m.PaymentDirection.PAY, "110000")
    assert net.instruction.sub_account_name == "Settlement"
    await set_time(operator, "20261124", "083000")
    call = await until(member, "BS304", lambda i: i.instruction.settlement_types == 1 << 5)
    assert (call.instruction.amount, call.instruction.currency, call.instruction.due_time) == (
        225_460_00, "HKD", "093000")  # 1,000,000.00 - 774,540.00
    await set_time(operator, "20261124", "092900")
    ack = await member.transact(m.ConfirmPaymentRequest(member="", instruction_id=call.instruction.instruction_id))
    assert ack.text == "settled"
    # the member misses the 11:00 cut-off of the net payment: it is marked late and broadcast
    await set_time(operator, "20261124", "110000")
    late = await until(member, "BS306")
    assert (late.instruction.instruction_id, late.instruction.status) == (net.instruction.instruction_id,
                                                                          m.PaymentStatus.LATE)
    ack = await member.transact(m.ConfirmPaymentRequest(member="", instruction_id=net.instruction.instruction_id))
    assert ack.text == "settled late"
    pending = await member.query(m.PaymentInstructionsQuery(member="", settlement_date="", status=m.PaymentStatus.LATE,
                                                     instruction_id=0))
    assert pending.items == []

    # ---- Wednesday: the CCS initial exchange settles by PvP at 12:00
    await eod(operator)
    await set_time(operator, "20261125", "115900")
    p = pvp.pvp
    with pytest.raises(RequestRejected) as e:
        await member.transact(m.SubmitPvpInstructionRequest(
            member="", trade_id="CCS-1", exchange=m.CcsExchange.INITIAL, value_date=p.value_date,
            pay_currency=p.pay_currency, receive_currency=p.receive_currency, pay_amount=p.pay_amount + 1,
            receive_amount=p.receive_amount))
    assert (e.value.business_status, e.value.field) == (-900009, "pay_amount")
    ack = await member.transact(m.SubmitPvpInstructionRequest(
        member="", trade_id="CCS-1", exchange=m.CcsExchange.INITIAL, value_date=p.value_date,
        pay_currency=p.pay_currency, receive_currency=p.receive_currency, pay_amount=p.pay_amount,
        receive_amount=p.receive_amount))
    assert ack.reference == p.pvp_id
    await set_time(operator, "20261125", "120000")
    done = await until(member, "BS307", lambda x: x.pvp.status == m.PvpStatus.SETTLED)
    assert done.pvp.pvp_id == p.pvp_id
    legs = (await member.query(m.PaymentInstructionsQuery(member="", settlement_date="20261125",
                                                   status=m.PaymentStatus.SETTLED, instruction_id=0))).items
    assert sorted((i.currency, i.settled_by, i.settled_time) for i in legs if i.pvp_id) == [
        ("CNH", "PVP", "120000"), ("USD", "PVP", "120000")]

    # the routing table and the rates are public reference data
    routing = (await member.query(m.SettlementAccountsQuery())).items
    assert len(routing) == 9 * 2 * 4
    rates = await member.query(m.RatesQuery())
    assert {r.currency for r in rates.items} == {"HKD", "USD", "EUR", "CNH"}


async def test_operator_only_and_rate_broadcast_on_general_stream(gateway, connect, operator):
    member = await connect("OCM02")
    await member.subscribe(Stream.GENERAL)
    with pytest.raises(RequestRejected) as e:
        await member.transact(m.SetPaiRateRequest(currency="HKD", rate=1))
    assert e.value.business_status == -600002
    await operator.transact(m.SetPaiRateRequest(currency="HKD", rate=-25_000))  # -0.025%
    msg = await until(member, "BS311")
    assert (msg.currency, msg.rate_e8, msg.effective_date) == ("HKD", -25_000, "20261123")
    with pytest.raises(RequestRejected) as e:
        await operator.transact(m.SetRateFixingRequest(trade_id="NOPE", leg=m.SwapLeg.NONE, fixing_date="20261124",
                                                rate=E8))
    assert (e.value.business_status, e.value.field) == (-900001, "trade_id")
    with pytest.raises(RequestRejected) as e:
        await operator.transact(m.SetRateFixingRequest(trade_id="NOPE", leg=m.SwapLeg.NONE, fixing_date="2026x124",
                                                rate=E8))
    assert (e.value.business_status, e.value.field) == (-600004, "fixing_date")
