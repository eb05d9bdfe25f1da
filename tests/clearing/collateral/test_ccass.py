"""CCASS deliveries (issue 13, item 5) with the real DCASS and CCMS modules: an exercise and its
assignment settle on their date in CCASS against the money; covered shares come out of the CCMS
specific collateral; a delivery that cannot be made fails and is retried at the next run."""
from datetime import date, datetime

from gateway.clearing.core import ClearingCore, Context, EndOfDay
from gateway.clearing.collateral import (
    CcassDeliveriesQuery, CcassDeliveryChanged, CollateralModule, DepositSecurities, HoldingsQuery, LodgeCoveredCall,
    SetBankBalance, SetStockBalance, StockAccountsQuery, WithdrawSecurities, INVALID_STOCK, STOCK_EARMARKED,
)
from gateway.clearing.dcass import InjectDeal, OpenClose, RequestExercise
from gateway.clearing.errors import ClearingError
from gateway.refdata import calendar, collateral_params, dcass_factory

import pytest

SERIES = "TCH DEC26 460.00 C"
MON = datetime(2026, 11, 2, 9, 0)
WED = date(2026, 11, 4)


class Core:
    def __init__(self):
        self.core = ClearingCore(MON, calendar(), [dcass_factory(), lambda c: CollateralModule(c, collateral_params())])
        self.d = self.core.module("dcass")
        self.c = self.core.module("ccms")
        self.now = MON

    def run(self, who, cmd, at=None):
        self.now = at or self.now
        ctx = Context(self.now, who, (who or "op").lower(), who is None)
        return self.core.execute(cmd, ctx)

    def q(self, query, who=None):
        return self.core.query(query, Context(self.now, who, "", who is None))

    def eod(self):
        self.now = datetime.combine(self.core.business_date, datetime.min.time()).replace(hour=19)
        return self.run(None, EndOfDay())

    def at(self, d: date, hh, mm, ss=0):
        self.now = datetime(d.year, d.month, d.day, hh, mm, ss)
        return self.core.advance(self.now)


def exercised(covered: bool) -> Core:
    """CPA01 long 2 calls exercised; CPD04, the only writer, is assigned both (covered or not)."""
    k = Core()
    key = k.d.ref.by_name[SERIES].key
    k.run(None, InjectDeal(key, 2500, 2, "CPA01", "CPD04", "SEOCH-HOUSE", "SEOCH-HOUSE", OpenClose.OPEN,
                           OpenClose.OPEN))
    if covered:
        k.run("CPD04", DepositSecurities("SEOCH", "HOUSE", "700", 200, specific=True))
        k.run("CPD04", LodgeCoveredCall("SEOCH-HOUSE", key, 2))
    k.run("CPA01", RequestExercise("CPA01", "SEOCH-HOUSE", key, 2))
    out = k.eod()
    assert len([e for e in out.events if isinstance(e, CcassDeliveryChanged)]) == 2
    return k


def deliveries(k, who):
    return {d.direction: d for d in k.q(CcassDeliveriesQuery(), who)}


def test_covered_assignment_delivers_out_of_specific_collateral_at_the_run():
    k = exercised(covered=True)
    buy, sell = deliveries(k, "CPA01")["RECEIVE"], deliveries(k, "CPD04")["DELIVER"]
    assert (buy.stock, buy.shares, buy.amount, buy.settlement_date, buy.status) == ("00700", 200, 92_000_00, WED,
                                                                                    "PENDING")
    assert (sell.shares, sell.covered_shares, sell.collateral_account, sell.status) == (200, 200, "HOUSE", "PENDING")
    # the covered calls are gone from DCASS, but the shares stay earmarked for the delivery
    with pytest.raises(ClearingError) as ei:
        k.run("CPD04", WithdrawSecurities("SEOCH", "HOUSE", "700", 1, specific=True))
    assert ei.value.error == STOCK_EARMARKED
    k.eod()                                                            # business date: Wednesday
    # (Tuesday 09:15 the premium was collected by the DCASS money settlement; now exactly enough)
    k.run(None, SetBankBalance("CPA01", "HKD", 92_000_00))
    k.at(WED, 15, 44, 59)
    assert {d.status for d in k.q(CcassDeliveriesQuery())} == {"PENDING"}
    events = k.at(WED, 15, 45)
    assert sorted((e.owner, e.status) for e in events if isinstance(e, CcassDeliveryChanged)) == [
        ("CPA01", "SETTLED"), ("CPD04", "SETTLED")]
    assert [(s.stock, s.shares) for s in k.q(StockAccountsQuery(), "CPA01")] == [("00700", 200)]
    spec = [h for h in k.q(HoldingsQuery("SEOCH", "HOUSE"), "CPD04").holdings if h.specific]
    assert spec == []                                                   # delivered out of CCMS


def test_failed_deliveries_are_retried_at_the_next_run():
    k = exercised(covered=False)
    k.eod()
    k.run(None, SetBankBalance("CPA01", "HKD", 91_999_99))             # one cent short
    events = k.at(WED, 15, 45)
    got = {(e.owner, e.status, e.reason) for e in events if isinstance(e, CcassDeliveryChanged)}
    assert got == {("CPA01", "FAILED", "MONEY_NOT_COLLECTED"), ("CPD04", "FAILED", "INSUFFICIENT_SHARES")}
    assert k.q(StockAccountsQuery(), "CPA01") == ()                      # nothing moved
    k.at(WED, 16, 0)                                                    # tried once per run
    k.run(None, SetBankBalance("CPA01", "HKD", 92_000_00))
    k.run(None, SetStockBalance("CPD04", "700", 199))                  # still one share short
    k.eod()
    events = k.at(date(2026, 11, 5), 15, 45)
    got = {(e.owner, e.status, e.reason) for e in events if isinstance(e, CcassDeliveryChanged)}
    assert got == {("CPA01", "SETTLED", ""), ("CPD04", "FAILED", "INSUFFICIENT_SHARES")}
    k.run(None, SetStockBalance("CPD04", "700", 200))
    k.eod()
    events = k.at(date(2026, 11, 6), 15, 45)
    assert {(e.owner, e.status) for e in events if isinstance(e, CcassDeliveryChanged)} == {("CPD04", "SETTLED")}
    assert k.q(StockAccountsQuery(), "CPD04")[0].shares == 0


def test_stock_balance_input_is_validated():
    k = Core()
    with pytest.raises(ClearingError) as ei:
        k.run(None, SetStockBalance("CPA01", "ABC", 1))
    assert ei.value.error == INVALID_STOCK
