"""CCMS through the SDK against the real DCASS core: a margin requirement becomes a shortfall margin
call on the collateral stream, deposits meet it; covered calls with specific stock and the 18:45
cut-off. DCASS positions are set up in-process through the gateway (operator deal injection)."""
from __future__ import annotations

import pytest

from clients import RequestRejected
from gateway.clearing.core import Context
from gateway.clearing.dcass import InjectDeal
from gateway.handlers import BROADCASTS, load_all
from protocol.messages import collateral as m
from protocol.messages import system as sy
from protocol.streams import Stream


load_all()


def inject(gateway, name: str, price: int, qty: int, buyer: str, seller: str, buyer_account: str,
           seller_account: str) -> bytes:
    """Operator deal injection straight into the core (DCASS has no wire messages yet), then publish
    the resulting events that have a broadcast mapper, as the gateway does."""
    key = gateway.core.module("dcass").ref.by_name[name].key
    out = gateway.core.execute(InjectDeal(key, price, qty, buyer, seller, buyer_account, seller_account),
                               Context(gateway.now(), None, "test", True))
    gateway.publish([e for e in out.events if type(e) in BROADCASTS])
    gateway.flush()
    return key


async def next_of(client, code: str, **match):
    while True:
        b = (await client.next_broadcast(code=code)).message
        if all(getattr(b, k) == v for k, v in match.items()):
            return b


async def test_shortfall_margin_call_and_meeting_it(gateway, connect):
    d = await connect("CPD04")
    await d.subscribe(Stream.COLLATERAL)
    inject(gateway, "TCH NOV26 480.00 C", 1250, 5, "CPA01", "CPD04", "SEOCH-HOUSE", "SEOCH-HOUSE")
    cov = await next_of(d, "BF204", account="HOUSE")
    (line,) = cov.items
    assert line.currency == "HKD" and line.requirement > 0
    assert line.settlement_cash_required == (line.requirement + 1) // 2
    assert line.shortfall == line.requirement
    call = await next_of(d, "BF205")
    assert (call.status, call.currency, call.amount) == (m.CallStatus.ISSUED, "HKD", line.requirement)
    assert (call.due_date, call.due_time) == ("20261123", "100000")
    calls = await d.query(m.MarginCallsQuery())
    assert [(c.account, c.amount) for c in calls.items] == [("HOUSE", line.requirement)]
    # half in HKD cash minus one cent: a one-cent call remains even with plenty of EFBN
    half = line.settlement_cash_required
    await d.transact(m.DepositSecuritiesRequest(clearing_house="SEOCH", account="HOUSE", instrument="EFN350301",
                                                quantity=10 * line.requirement))
    await d.transact(m.DepositCashRequest(clearing_house="SEOCH", account="HOUSE", currency="HKD", amount=half - 1))
    amended = await next_of(d, "BF205", status=m.CallStatus.AMENDED, amount=1)
    assert amended.due_time == "100000"
    await d.transact(m.DepositCashRequest(clearing_house="SEOCH", account="HOUSE", currency="HKD", amount=1))
    await next_of(d, "BF205", status=m.CallStatus.MET)
    usage = await d.query(m.CollateralUsageQuery(clearing_house="SEOCH", account="HOUSE"))
    used = [(u.asset_class, u.asset) for u in usage.items if u.used]
    assert used == [(m.AssetClass.CASH, "HKD"), (m.AssetClass.EFBN, "EFN350301")]
    # withdrawing settlement cash now would leave a shortfall
    with pytest.raises(RequestRejected) as e:
        await d.transact(m.WithdrawCashRequest(clearing_house="SEOCH", account="HOUSE", currency="HKD", amount=1))
    assert e.value.business_status == -800005


async def test_covered_call_cutoff_and_stock_check(gateway, connect, operator):
    d = await connect("CPD04")
    key = inject(gateway, "TCH NOV26 480.00 C", 1250, 5, "CPA01", "CPD04", "SEOCH-HOUSE", "SEOCH-HOUSE")
    await d.transact(m.DepositSecuritiesRequest(clearing_house="SEOCH", account="HOUSE", instrument="0700",
                                                quantity=300, specific=True))
    series = m.SeriesKey.__record__.decode(key, 0)[0]
    await operator.transact(sy.SetBusinessTimeRequest(business_time="184459"))
    with pytest.raises(RequestRejected) as e:           # 18:44:59 is in time; 4 contracts need 400 shares
        await d.transact(m.LodgeCoveredCallRequest(dcass_account="SEOCH-HOUSE", series=series, contracts=4))
    assert e.value.business_status == -800017 and e.value.field == "contracts"
    await operator.transact(sy.SetBusinessTimeRequest(business_time="184500"))  # the DCASS input cut-off: late
    with pytest.raises(RequestRejected) as e:
        await d.transact(m.LodgeCoveredCallRequest(dcass_account="SEOCH-HOUSE", series=series, contracts=3))
    assert e.value.business_status == -800007
    # the detail is kept whole (once "...before 18:45:0"): the generic code text gives way
    assert e.value.text.endswith(": covered call requests before 18:45:00") and len(e.value.text) <= 80, e.value.text
    with pytest.raises(RequestRejected) as e:
        await d.transact(m.DepositSecuritiesRequest(clearing_house="HKCC", account="HOUSE", instrument="0700",
                                                    quantity=1, specific=True))
    assert e.value.business_status == -800016


async def test_covered_call_before_18_45(gateway, connect, operator):
    d = await connect("CPD04")
    await d.subscribe(Stream.COLLATERAL)
    key = inject(gateway, "TCH NOV26 480.00 C", 1250, 5, "CPA01", "CPD04", "SEOCH-HOUSE", "SEOCH-HOUSE")
    before = (await next_of(d, "BF204", account="HOUSE")).items[0].requirement
    await d.transact(m.DepositSecuritiesRequest(clearing_house="SEOCH", account="HOUSE", instrument="0700",
                                                quantity=300, specific=True))
    series = m.SeriesKey.__record__.decode(key, 0)[0]
    await operator.transact(sy.SetBusinessTimeRequest(business_time="184459"))
    with pytest.raises(RequestRejected) as e:           # 4 contracts need 400 shares
        await d.transact(m.LodgeCoveredCallRequest(dcass_account="SEOCH-HOUSE", series=series, contracts=4))
    assert e.value.business_status == -800017 and e.value.field == "contracts"
    ack = await d.transact(m.LodgeCoveredCallRequest(dcass_account="SEOCH-HOUSE", series=series, contracts=3))
    assert ack.reference == 3
    cc = await next_of(d, "BF206")
    assert (cc.reason, cc.contracts, cc.shares, cc.underlying, cc.series) == (m.CoverReason.LODGED, 3, 300, "00700",
                                                                              series)
    after = (await next_of(d, "BF204", account="HOUSE")).items[0].requirement
    assert after < before                              # covered calls drop out of margin at once
    rows = await d.query(m.CoveredCallsQuery())
    assert [(r.dcass_account, r.contracts, r.shares) for r in rows.items] == [("SEOCH-HOUSE", 3, 300)]
    await operator.transact(sy.SetBusinessTimeRequest(business_time="184500"))  # the DCASS input cut-off: late
    with pytest.raises(RequestRejected) as e:
        await d.transact(m.ReleaseCoveredCallRequest(dcass_account="SEOCH-HOUSE", series=series, contracts=1))
    assert e.value.business_status == -800007
