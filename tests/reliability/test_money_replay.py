"""Journal replay and the state digest cover issue 13's new state: mandates, bank balances, DCASS
money settlements, reserve fund requirements and calls, HKSCC requirements, transfers, CCASS
deliveries and stock accounts, OTC PvP funding and additional payments."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from gateway.clearing import collateral as cc
from gateway.clearing import otc
from gateway.clearing.core import ClearingCore, Context, EndOfDay, SetBusinessTime
from gateway.clearing.dcass import InjectDeal, OpenClose, RequestExercise
from gateway.clearing.errors import ClearingError
from gateway.refdata import module_factories
from gateway.journal.codec import context_from_plain, context_to_plain, dumps, from_plain, loads, registry, to_plain

START = datetime(2026, 11, 23, 9)
OP = (None, True)


def script(core: ClearingCore) -> list:
    key = core.module("dcass").ref.by_name["TCH DEC26 460.00 C"].key
    hsi = core.module("dcass").ref.by_name["HSI DEC26"].key
    t = lambda h, m=0: datetime(2026, 11, 23, h, m)   # noqa: E731
    return [
        (t(9, 1), OP, cc.SetBankBalance("CPA01", "HKD", 1_000_000_00)),
        (t(9, 2), OP, cc.SetBankMandate("CPB02", "USD", "Another Bank Limited", "012-000001-001")),
        (t(9, 3), OP, InjectDeal(hsi, 25000, 2, "CPA01", "CPC03", "HKCC-HOUSE", "", OpenClose.OPEN, OpenClose.OPEN)),
        (t(9, 4), OP, InjectDeal(key, 2500, 2, "CPA01", "CPF06", "SEOCH-HOUSE", "", OpenClose.OPEN, OpenClose.OPEN)),
        (t(9, 5), ("CPA01", False), RequestExercise("CPA01", "SEOCH-HOUSE", key, 2)),
        (t(9, 6), OP, cc.SetReserveFundRequirement("CPA01", "SEOCH", 10_000_00)),
        (t(9, 7), ("CPA01", False), cc.DepositCash("SEOCH", "HOUSE", "HKD", 50_000_00)),
        (t(9, 8), ("CPA01", False), cc.TransferCollateral("SEOCH", "HOUSE", "HKSCC", "HOUSE", "HKD", 20_000_00)),
        (t(9, 9), OP, cc.SetMarginRequirement("CPA01", "HKSCC", "HOUSE", "HKD", 30_000_00)),
        (t(9, 10), OP, cc.SetStockBalance("CPF06", "700", 100)),
        (t(9, 11), OP, otc.SetPvpFunding("OCM01", "USD", False)),
        (t(9, 12), OP, otc.RegisterIrs("IRS-R", "OCM01", "H", "PAY_FIXED", "HKD", 100_000_000_00, Decimal("0.0365"),
                                       date(2026, 11, 23), (date(2027, 2, 23),))),
        (t(9, 13), OP, otc.AddTradePayment("IRS-R", date(2026, 11, 25), "HKD", -1_000_00, "upfront fee")),
        (t(19), OP, EndOfDay()),
        (datetime(2026, 11, 24, 9, 15), OP, SetBusinessTime(datetime(2026, 11, 24, 9, 15))),
        (datetime(2026, 11, 24, 19), OP, EndOfDay()),
        (datetime(2026, 11, 25, 15, 45), OP, SetBusinessTime(datetime(2026, 11, 25, 15, 45))),
    ]


def run(core, entries) -> list:
    journal = []
    for when, (who, operator), cmd in entries:
        ctx = Context(when, who, (who or "op").lower(), operator)
        try:
            core.execute(cmd, ctx)
        except ClearingError:
            pass   # a rejection is journaled too in this test: replay must reject it the same way
        journal.append(dumps({"cmd": to_plain(cmd), "ctx": context_to_plain(ctx)}))
    return journal


def test_replaying_the_journal_gives_the_same_state_digest():
    core = ClearingCore(START, module_factories=module_factories())
    registry().add_core(core)
    journal = run(core, script(core))
    snap = core.module("ccms").snapshot()
    assert snap["settlements"] and snap["bank_balances"] and snap["rf_requirements"] and snap["op_requirements"]
    assert snap["ccass"] and snap["stock_accounts"] and snap["mandates"]
    assert core.module("otc").snapshot()["unfunded"] == [("OCM01", "USD")]
    assert {r["status"] for r in snap["ccass"].values()} == {"SETTLED", "FAILED"}   # CPF06 has 100 of 200 shares

    again = ClearingCore(START, module_factories=module_factories())
    for line in journal:
        rec = loads(line)
        try:
            again.execute(from_plain(rec["cmd"]), context_from_plain(rec["ctx"]))
        except ClearingError:
            pass
    assert again.state_hash() == core.state_hash()
