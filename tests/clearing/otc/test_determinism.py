"""Same commands, same order, same business times: same state hash and same events."""
from datetime import date, datetime

from gateway.clearing.core import ClearingCore, canonical_json
from gateway.clearing.otc import (ConfirmPayment, OtcClearModule, PaymentInstructionsQuery, PvpQuery,
                                  RequestCashDeposit, RunIntradayVmCall, SetMarginRequirement, SetMtm,
                                  SetRateFixing, SubmitPvpInstruction)

from .harness import D, Harness


def scenario() -> Harness:
    h = Harness()
    h.ndf(settlement_date=date(2025, 3, 5))
    h.irs()
    h.ccs(effective=date(2025, 3, 5))
    h.op(SetRateFixing("N1", date(2025, 3, 5), D("7.25")))
    h.op(SetMtm("I1", 1_234_567))
    h.op(SetMtm("X1", -7_654_321))
    h.op(SetMarginRequirement("OCM01", "H", 3_000_000_00, 50_000_00))
    h.do("OCM01", RequestCashDeposit("OCM01", "H", "CNH", 100_000_00))
    h.eod("08:30")
    h.op(SetMtm("I1", -5_000_000_00))
    h.op(RunIntradayVmCall())
    for ins in h.instructions("OCM01", state="PENDING"):
        if not ins.pvp_id and ins.direction == "PAY":
            h.do("OCM01", ConfirmPayment("OCM01", ins.instruction_id))
    h.eod("11:00")
    [p] = [p for p in h.q(PvpQuery()) if p.exchange == "INITIAL"]
    h.do("OCM01", SubmitPvpInstruction("OCM01", "X1", "INITIAL", p.value_date, p.pay_currency, p.pay_amount,
                                       p.receive_currency, p.receive_amount))
    h.at("16:00")
    h.eod("09:00")
    return h


def test_same_commands_same_state_and_events():
    a, b = scenario(), scenario()
    assert a.core.state_hash() == b.core.state_hash()
    assert canonical_json(a.events) == canonical_json(b.events)
    assert len(a.events) > 30


def test_state_hash_reflects_otc_state():
    core = ClearingCore(datetime(2025, 3, 3, 8, 0), module_factories=[OtcClearModule])
    empty = core.state_hash()
    assert ClearingCore(datetime(2025, 3, 3, 8, 0), module_factories=[OtcClearModule]).state_hash() == empty
    h = Harness()
    assert h.core.state_hash() == empty
    h.ndf()
    assert h.core.state_hash() != empty
    assert h.q(PaymentInstructionsQuery()) == ()
