"""CCMS maker-checker over the socket: a withdrawal by one user of CPC03 waits until a second user of
CPC03 authorises or rejects it; never its own; other participants cannot see or decide it."""
from __future__ import annotations

import pytest

from clients import RequestRejected
from protocol.messages import authorisation as au
from protocol.messages import collateral as m
from protocol.messages import system as sy
from protocol.streams import Stream


async def _fund(c, amount=1_000_000):
    await c.transact(m.DepositCashRequest(clearing_house="HKCC", account="HOUSE", currency="HKD", amount=amount))


async def test_withdrawal_waits_for_a_second_user(gateway, connect):
    maker, checker = await connect("CPC03"), await connect("CPC03B")
    await checker.subscribe(Stream.COLLATERAL)
    await _fund(maker)
    ack = await maker.transact(m.WithdrawCashRequest(clearing_house="HKCC", account="HOUSE", currency="HKD",
                                                     amount=400_000))
    assert ack.text == "pending authorisation" and ack.reference == 1
    # nothing moved yet
    h = await maker.query(m.HoldingsQuery(clearing_house="HKCC", account="HOUSE"))
    assert {x.asset: x.quantity for x in h.items}["HKD"] == 1_000_000
    b = await checker.next_broadcast(code="BF500")
    assert (b.message.withdrawal.state, b.message.withdrawal.maker) == (au.AuthorisationState.PENDING, "CPC03")
    # the maker cannot authorise its own entry, at its exact field
    with pytest.raises(RequestRejected) as e:
        await maker.transact(au.AuthoriseWithdrawalRequest(pending_id=1))
    assert (e.value.business_status, e.value.field) == (-800501, "pending_id")
    ack = await checker.transact(au.AuthoriseWithdrawalRequest(pending_id=1))
    assert ack.reference >= 1 and ack.text.startswith("authorised, value date 20261123")
    done = await checker.next_broadcast(code="BF500")
    assert (done.message.withdrawal.state, done.message.withdrawal.checker) == (au.AuthorisationState.AUTHORISED,
                                                                              "CPC03B")
    h = await maker.query(m.HoldingsQuery(clearing_house="HKCC", account="HOUSE"))
    assert {x.asset: x.quantity for x in h.items}["HKD"] == 600_000
    # decided once only
    with pytest.raises(RequestRejected) as e:
        await checker.transact(au.RejectWithdrawalRequest(pending_id=1, reason="late"))
    assert e.value.business_status == -800502


async def test_reject_other_participant_and_rules_at_authorisation(gateway, connect, operator):
    maker, checker, other = await connect("CPC03"), await connect("CPC03B"), await connect("CPA01")
    await _fund(maker, 100)
    # too much: entered (the rules apply at authorisation), then refused there and still pending
    ack = await maker.transact(m.WithdrawCashRequest(clearing_house="HKCC", account="HOUSE", currency="HKD",
                                                     amount=101))
    pid = ack.reference
    with pytest.raises(RequestRejected) as e:
        await checker.transact(au.AuthoriseWithdrawalRequest(pending_id=pid))
    assert e.value.business_status == -800009  # CCMS_INSUFFICIENT_HOLDING
    # another participant: the same answer as an unknown number, and it sees none of CPC03's
    with pytest.raises(RequestRejected) as e:
        await other.transact(au.RejectWithdrawalRequest(pending_id=pid, reason="x"))
    assert e.value.business_status == -800500
    assert (await other.query(au.PendingWithdrawalsQuery())).items == []
    with pytest.raises(RequestRejected) as e:
        await other.query(au.PendingWithdrawalsQuery(participant="CPC03"))
    assert e.value.business_status == -600003  # ACTING_FOR_OTHER
    ack = await checker.transact(au.RejectWithdrawalRequest(pending_id=pid, reason="too much"))
    rows = (await maker.query(au.PendingWithdrawalsQuery())).items
    assert [(r.pending_id, r.state, r.reason) for r in rows] == [(pid, au.AuthorisationState.REJECTED, "too much")]
    # an invalid entry is refused at once, with its field
    with pytest.raises(RequestRejected) as e:
        await maker.transact(m.WithdrawCashRequest(clearing_house="HKCC", account="NOPE", currency="HKD", amount=1))
    assert (e.value.business_status, e.value.field) == (-800503, "account")
    with pytest.raises(RequestRejected) as e:
        await maker.transact(m.WithdrawCashRequest(clearing_house="HKCC", account="HOUSE", currency="HKD", amount=0))
    assert (e.value.business_status, e.value.field) == (-800503, "amount")
    # participants without maker-checker withdraw at once, as before
    await _fund(other, 10)
    ack = await other.transact(m.WithdrawCashRequest(clearing_house="HKCC", account="HOUSE", currency="HKD", amount=10))
    assert ack.text.startswith("PENDING value date")


async def test_securities_withdrawal_and_expiry_at_end_of_day(gateway, connect, operator):
    maker, checker = await connect("CPC03"), await connect("CPC03B")
    await operator.transact(m.SetCollateralPriceRequest(instrument="700", price=4_000_000))
    await maker.transact(m.DepositSecuritiesRequest(clearing_house="HKCC", account="HOUSE", instrument="700",
                                                    quantity=1_000))
    ack = await maker.transact(m.WithdrawSecuritiesRequest(clearing_house="HKCC", account="HOUSE", instrument="700",
                                                           quantity=100))
    rows = (await checker.query(au.PendingWithdrawalsQuery(only_pending=True))).items
    assert [(r.pending_id, r.asset_class, r.asset, r.quantity) for r in rows] == [
        (ack.reference, m.AssetClass.STOCK, "700", 100)]
    await operator.transact(sy.RunEndOfDayRequest())
    assert (await checker.query(au.PendingWithdrawalsQuery(only_pending=True))).items == []


async def test_a_transfer_between_clearing_houses_waits_for_a_second_user(gateway, connect):
    maker, checker = await connect("CPC03"), await connect("CPC03B")
    await checker.subscribe(Stream.COLLATERAL)
    await _fund(maker, 500_000)
    ack = await maker.transact(m.TransferCollateralRequest(from_clearing_house="HKCC", from_account="HOUSE",
                                                           to_clearing_house="SEOCH", to_account="HOUSE",
                                                           instrument="HKD", quantity=200_000))
    assert ack.text == "pending authorisation"
    pid = ack.reference
    b = await checker.next_broadcast(code="BF500")
    w = b.message.withdrawal
    assert (w.pending_id, w.kind, w.state, w.clearing_house, w.to_clearing_house, w.to_account, w.maker) == (
        pid, au.PendingKind.TRANSFER, au.AuthorisationState.PENDING, "HKCC", "SEOCH", "HOUSE", "CPC03")
    view = {(r.clearing_house, r.account): r for r in (await maker.query(m.CollateralOverviewQuery())).items}
    assert view[("HKCC", "HOUSE")].collateral_hkd == 500_000   # nothing moved yet
    with pytest.raises(RequestRejected) as e:
        await maker.transact(au.AuthoriseWithdrawalRequest(pending_id=pid))
    assert (e.value.business_status, e.value.field) == (-800501, "pending_id")
    ack = await checker.transact(au.AuthoriseWithdrawalRequest(pending_id=pid))
    assert ack.text.startswith("authorised")
    out = await checker.next_broadcast(code="BF202")
    assert (out.message.instruction_id, out.message.action) == (ack.reference, m.InstructionAction.TRANSFER_OUT)
    view = {(r.clearing_house, r.account): r for r in (await maker.query(m.CollateralOverviewQuery())).items}
    assert (view[("HKCC", "HOUSE")].collateral_hkd, view[("SEOCH", "HOUSE")].collateral_hkd) == (300_000, 200_000)
    rows = (await checker.query(au.PendingWithdrawalsQuery())).items
    assert [(r.kind, r.state, r.checker) for r in rows] == [(au.PendingKind.TRANSFER, au.AuthorisationState.AUTHORISED,
                                                             "CPC03B")]
    # a participant not under maker-checker transfers at once
    a = await connect("CPA01")
    await a.transact(m.DepositCashRequest(clearing_house="HKCC", account="HOUSE", currency="HKD", amount=100))
    ack = await a.transact(m.TransferCollateralRequest(from_clearing_house="HKCC", from_account="HOUSE",
                                                       to_clearing_house="SEOCH", to_account="HOUSE",
                                                       instrument="HKD", quantity=100))
    assert ack.text != "pending authorisation" and "value date" in ack.text
