"""Two days (and the CCASS afternoon of the third) of a participant's money over the socket (issue 13,
"done when"): trades and end of day, the next morning's net settlement per CCMS collateral account
collected through the bank mandate, a failed collection and its consequence, a reserve fund call met
with Exchange Fund paper, a collateral transfer from SEOCH to HKCC, an exercise whose shares settle
in CCASS, and an OTC Clear PvP that fails for want of funding.

Gateway business time starts Monday 2026-11-23 09:00 (frozen clock); everything goes through the
SDK, the operator included."""
from __future__ import annotations

from protocol.messages import collateral as cm
from protocol.messages import dcass as dm
from protocol.messages import otc as om
from protocol.messages import system as sy
from protocol.streams import Stream

MON, TUE, WED = "20261123", "20261124", "20261125"
CURRENCIES = {"HKD", "EUR", "JPY", "RMB", "USD"}


async def until(client, code: str, pred=lambda msg: True, timeout: float = 3.0):
    while True:
        ev = await client.next_broadcast(timeout=timeout, code=code)
        if pred(ev.message):
            return ev.message


async def at(operator, day: str, time: str) -> None:
    await operator.transact(sy.SetBusinessTimeRequest(business_date=day, business_time=time, reset=False,
                                               follow_wall_clock=False))


def series(gateway, name: str):
    key = gateway.core.module("dcass").ref.by_name[name].key     # reference data, read in-process
    return dm.SeriesKey.__record__.decode(key, 0)[0]


async def deal(operator, key, price, qty, buyer, seller, buyer_account, seller_account=""):
    await operator.transact(dm.InjectDealRequest(
        series=key, price=price, quantity=qty, buyer=buyer, seller=seller, buyer_account=buyer_account,
        seller_account=seller_account, buyer_open_close=dm.OpenClose.OPEN, seller_open_close=dm.OpenClose.OPEN))


async def test_two_days_of_a_participants_money(gateway, connect, operator):
    a = await connect("CPA01")
    await a.subscribe(Stream.COLLATERAL)
    member = await connect("OCM01")
    await member.subscribe(Stream.SETTLEMENT)

    # the demo data: a mandate per currency, unlimited emulated balances
    mandates = (await a.query(cm.BankMandatesQuery(participant=""))).items
    assert {x.currency for x in mandates} == CURRENCIES and all(x.unlimited and x.bank for x in mandates)

    # ---- Monday: trades
    hsi, tch = series(gateway, "HSI DEC26"), series(gateway, "TCH DEC26 460.00 C")
    await deal(operator, hsi, 25000, 2, "CPA01", "CPC03", "HKCC-HOUSE")
    await deal(operator, hsi, 25000, 1, "CPA01", "CPC03", "HKCC-DAILY")     # maps to HOUSE too: offset
    await deal(operator, hsi, 25000, 1, "CPA01", "CPC03", "HKCC-CLIENT01")  # client: never offsets house
    await deal(operator, tch, 2500, 2, "CPA01", "CPF06", "SEOCH-HOUSE")
    await operator.transact(dm.SetSettlementPriceRequest(series=hsi, price=24900))
    await a.transact(dm.ExerciseRequest(series=tch, account_id="SEOCH-HOUSE", quantity=2))

    # a reserve fund call met with Exchange Fund paper
    await operator.transact(cm.SetReserveFundRequirementRequest(participant="CPA01", clearing_house="HKCC",
                                                                amount=1_000_000_00))
    call = await until(a, "BF253")
    assert (call.status, call.amount) == (cm.CallStatus.ISSUED, 1_000_000_00)
    await a.transact(cm.ContributeReserveFundRequest(clearing_house="HKCC", contribution=cm.Contribution.VARIABLE,
                                                     asset="EFN300620", quantity=2_000_000_00))
    met = await until(a, "BF253")
    assert (met.status, met.amount) == (cm.CallStatus.MET, 0)
    [rf] = (await a.query(cm.ReserveFundPositionQuery(participant="", clearing_house="HKCC"))).items
    assert rf.shortfall == 0 and rf.excess == rf.value - 1_000_000_00 > 0

    # a collateral transfer from SEOCH to HKCC
    await a.transact(cm.DepositCashRequest(clearing_house="SEOCH", account="HOUSE", currency="HKD",
                                           amount=500_000_00))
    ack = await a.transact(cm.TransferCollateralRequest(from_clearing_house="SEOCH", from_account="HOUSE",
                                                        to_clearing_house="HKCC", to_account="HOUSE",
                                                        instrument="HKD", quantity=100_000_00))
    out = await until(a, "BF202", lambda b: b.instruction_id == ack.reference)
    into = await until(a, "BF202", lambda b: b.action == cm.InstructionAction.TRANSFER_IN)
    assert (out.action, out.clearing_house, into.clearing_house, into.quantity) == (
        cm.InstructionAction.TRANSFER_OUT, "SEOCH", "HKCC", 100_000_00)
    view = {(r.clearing_house, r.account): r for r in (await a.query(cm.CollateralOverviewQuery(participant=""))).items}
    assert view[("HKCC", "HOUSE")].collateral_hkd == 100_000_00
    assert view[("SEOCH", "HOUSE")].collateral_hkd == 400_000_00

    # an OTC CCS whose initial exchange (Tuesday) the member will not fund in USD
    await operator.transact(om.RegisterCcsRequest(
        trade_id="CCS-M", member="OCM01", account="H", pay_currency="CNH", receive_currency="USD",
        valuation_currency="USD", pay_fixed=True, receive_fixed=True, initial_exchange=True, final_exchange=False,
        pay_day_count=om.DayCount.DEFAULT, receive_day_count=om.DayCount.DEFAULT, pay_notional=72_000_000_00,
        receive_notional=10_000_000_00, pay_fixed_rate=2_500_000, pay_spread=0, receive_fixed_rate=4_500_000,
        receive_spread=0, effective_date=TUE, coupon_dates=[om.CouponDate(date="20271124")]))
    await operator.transact(om.SetPvpFundingRequest(member="OCM01", currency="USD", funded=False))

    # ---- Monday 19:00: end of day; the money of the day becomes one settlement per collateral account
    await at(operator, MON, "190000")
    await operator.transact(sy.RunEndOfDayRequest())
    pending = [await until(a, "BF251") for _ in range(3)]
    assert {(b.clearing_house, b.account, b.status) for b in pending} == {
        ("HKCC", "CLIENT", cm.SettlementStatus.PENDING), ("HKCC", "HOUSE", cm.SettlementStatus.PENDING),
        ("SEOCH", "HOUSE", cm.SettlementStatus.PENDING)}
    rows = {(s.clearing_house, s.account): s for s in (await a.query(
        cm.SettlementsQuery(participant="", business_date=MON, status=cm.SettlementFilter.ALL))).items}
    house, client, seoch = rows[("HKCC", "HOUSE")], rows[("HKCC", "CLIENT")], rows[("SEOCH", "HOUSE")]
    assert house.dcass_accounts == "HKCC-DAILY,HKCC-HOUSE"
    # futures bought at 250.00 points settled at 249.00 (HSI HKD 50 a point): 100 x 50 x 3 lots paid plus fees
    assert house.amount < -15_000_00 and client.amount < -5_000_00 and seoch.amount < 0
    assert all((s.due_date, s.due_time) == (TUE, "091500") for s in rows.values())
    # the HKD account pays exactly the two HKCC collections; the SEOCH one (collected last) cannot be paid
    await operator.transact(cm.SetBankBalanceRequest(participant="CPA01", currency="HKD", unlimited=False,
                                                     balance=-(house.amount + client.amount)))

    # ---- Tuesday 09:15: collected through the mandate; a failed collection debits the cash collateral
    await at(operator, TUE, "091500")
    done = {(b.clearing_house, b.account): b for b in [await until(a, "BF251") for _ in range(3)]}
    assert done[("HKCC", "HOUSE")].status == done[("HKCC", "CLIENT")].status == cm.SettlementStatus.SETTLED
    failed = done[("SEOCH", "HOUSE")]
    assert (failed.status, failed.consequence) == (cm.SettlementStatus.FAILED, cm.Consequence.DEBIT_CASH_COLLATERAL)
    hold = (await a.query(cm.HoldingsQuery(clearing_house="SEOCH", account="HOUSE"))).items
    assert next(h.quantity for h in hold if h.asset == "HKD") == 400_000_00 + seoch.amount
    [hkd] = [x for x in (await a.query(cm.BankMandatesQuery(participant=""))).items if x.currency == "HKD"]
    assert (hkd.unlimited, hkd.balance) == (False, 0)

    # ---- Tuesday 12:00: the member instructed its PvP but did not fund the USD side: it fails
    [pvp] = (await member.query(om.PvpQuery(member="", value_date=TUE))).items
    await at(operator, TUE, "115900")
    await member.transact(om.SubmitPvpInstructionRequest(
        member="", trade_id="CCS-M", exchange=om.CcsExchange.INITIAL, pay_currency=pvp.pay_currency,
        receive_currency=pvp.receive_currency, value_date=TUE, pay_amount=pvp.pay_amount,
        receive_amount=pvp.receive_amount))
    await at(operator, TUE, "120000")
    status = await until(member, "BS307", lambda b: b.pvp.status == om.PvpStatus.FAILED)
    assert (status.pvp.trade_id, status.pvp.pay_currency) == ("CCS-M", "USD")
    legs = (await member.query(om.PaymentInstructionsQuery(member="", settlement_date=TUE, status=om.PaymentStatus.LATE,
                                                    instruction_id=0))).items
    assert len(legs) == 2 and all(leg.member_bank == "Demo OTC Clearing Member One Limited" for leg in legs)

    # ---- Tuesday end of day; Wednesday 15:45: the exercised shares settle in CCASS against the money
    await operator.transact(cm.SetBankBalanceRequest(participant="CPA01", currency="HKD", unlimited=True, balance=0))
    await at(operator, TUE, "190000")
    await operator.transact(sy.RunEndOfDayRequest())
    await at(operator, WED, "154500")
    delivered = await until(a, "BF256", lambda b: b.status == cm.DeliveryStatus.SETTLED)
    assert (delivered.direction, delivered.stock, delivered.shares, delivered.settlement_date) == (
        cm.DeliveryDirection.RECEIVE, "00700", 200, WED)
    stocks = (await a.query(cm.StockAccountsQuery(participant=""))).items
    assert [(s.stock, s.shares) for s in stocks] == [("00700", 200)]
