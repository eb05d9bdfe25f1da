"""A subscription filter that names another participant, or an account only others hold, is refused
with -39 (SUBSCRIPTION_NOT_AUTHORISED) instead of being accepted and delivering nothing; a filter on
the caller's own account (account ids repeat across participants) is accepted and delivers."""
from __future__ import annotations

import asyncio

from protocol.status import SessionStatus as St
from protocol.streams import Stream
from tests.e2e.test_collateral_margin import inject


async def test_filters_naming_what_the_caller_cannot_see_are_refused(gateway, connect):
    b = await connect("CPB02")
    items = await b.subscribe((Stream.TRADES, "", "CPA01"),        # another participant
                              (Stream.TRADES, "", "SEOCH-MM"),     # an account CPA01 and CPD04 hold, CPB02 not
                              (Stream.TRADES, "", "C1"),           # an OTC Clear member's account
                              (Stream.TRADES, "", "HKCC-HOUSE"),   # its own (every participant has one)
                              (Stream.TRADES, "", "HSI-F"),        # an instrument class
                              (Stream.TRADES, "BD6", ""))
    assert [i.status for i in items] == [St.SUBSCRIPTION_NOT_AUTHORISED] * 3 + [St.OK] * 3
    assert [i.handle == 0 for i in items] == [True] * 3 + [False] * 3
    conn = gateway.sessions["CPB02"]
    assert sorted(s.filter for s in conn.subs.values()) == ["", "HKCC-HOUSE", "HSI-F"]  # nothing else kept


async def test_an_own_account_filter_delivers_and_others_are_not_affected(gateway, connect):
    a, b = await connect("CPA01"), await connect("CPB02")
    (ok,) = await a.subscribe((Stream.TRADES, "", "SEOCH-MM"))
    (refused,) = await b.subscribe((Stream.TRADES, "", "SEOCH-MM"))
    assert (ok.status, refused.status) == (St.OK, St.SUBSCRIPTION_NOT_AUTHORISED)
    inject(gateway, "TCH NOV26 480.00 C", 1250, 5, "CPA01", "CPD04", "SEOCH-MM", "SEOCH-HOUSE")
    bd6 = (await asyncio.wait_for(a.next_broadcast(code="BD6"), 5)).message
    assert (bd6.trade.account_id, bd6.trade.side) == ("SEOCH-MM", 1)


async def test_a_clearing_member_may_filter_on_its_own_accounts_only(gateway, connect):
    m = await connect("OCM01")
    items = await m.subscribe((Stream.SETTLEMENT, "", "C1"), (Stream.SETTLEMENT, "", "HKCC-HOUSE"),
                              (Stream.SETTLEMENT, "", "OCM02"), (Stream.SETTLEMENT, "", "OCM01"))
    assert [i.status for i in items] == [St.OK, St.SUBSCRIPTION_NOT_AUTHORISED, St.SUBSCRIPTION_NOT_AUTHORISED,
                                         St.OK]
