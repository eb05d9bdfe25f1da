"""Cross-market collateral (issue 13, item 4): HKSCC as a third clearing house, operator-set HKSCC
requirements, transfers between a participant's own accounts in different clearing houses (the
checks of a withdrawal, the 16:00:00 cut-off), one view across the clearing houses."""
from datetime import datetime

from gateway.clearing.collateral import (
    CollateralOverviewQuery, ContributeReserveFund, DepositCash, DepositSecurities, HoldingsQuery, InstructionsQuery,
    MarginCallChanged, SetMarginRequirement, TransferCollateral,
    AFTER_CUTOFF, INSUFFICIENT_HOLDING, NO_RESERVE_FUND, NOT_OPERATOR_REQUIREMENT_HOUSE, TRANSFER_KIND_MISMATCH,
    TRANSFER_SAME_HOUSE, UNKNOWN_CLEARING_HOUSE, WITHDRAWAL_EXCEEDS_EXCESS,
)

from .fakes import Harness, P


def cash(h, ch, account="HOUSE", ccy="HKD"):
    hs = h.query(HoldingsQuery(ch, account)).holdings
    return next((x.quantity for x in hs if x.asset_class == "CASH" and x.asset == ccy), 0)


def test_hkscc_requirement_is_set_by_the_operator_and_called_like_margin():
    h = Harness()
    out = h.op(SetMarginRequirement(P, "HKSCC", "HOUSE", "HKD", 1_000_00))
    [call] = [e for e in out.events if isinstance(e, MarginCallChanged)]
    assert (call.clearing_house, call.account, call.amount, call.status) == ("HKSCC", "HOUSE", 1_000_00, "ISSUED")
    out = h.run(DepositCash("HKSCC", "HOUSE", "HKD", 1_000_00))
    assert [(e.status, e.amount) for e in out.events if isinstance(e, MarginCallChanged)] == [("MET", 0)]
    h.rejects(SetMarginRequirement(P, "HKCC", "HOUSE", "HKD", 1), NOT_OPERATOR_REQUIREMENT_HOUSE, operator=True)
    h.rejects(SetMarginRequirement(P, "SEHK", "HOUSE", "HKD", 1), UNKNOWN_CLEARING_HOUSE, operator=True)
    h.rejects(ContributeReserveFund("HKSCC", "INITIAL", "HKD", 1), NO_RESERVE_FUND)
    out = h.op(SetMarginRequirement(P, "HKSCC", "HOUSE", "HKD", 0))          # removed
    assert h.ccms.op_requirements == {}


def transfer_setup():
    h = Harness()
    h.run(DepositCash("SEOCH", "HOUSE", "HKD", 1_000_00))
    h.margin("SH1", 600_00)                     # SEOCH needs 600.00 of it
    h.margin("H1", 400_00)                      # HKCC is short 400.00: a margin call
    return h


def test_transfer_from_seoch_to_hkcc_leaving_exactly_no_shortfall():
    h = transfer_setup()
    h.rejects(TransferCollateral("SEOCH", "HOUSE", "HKCC", "HOUSE", "HKD", 400_01), WITHDRAWAL_EXCEEDS_EXCESS,
              at=datetime(2025, 3, 3, 10, 0))
    out = h.run(TransferCollateral("SEOCH", "HOUSE", "HKCC", "HOUSE", "HKD", 400_00))
    assert (out.reply.action, out.reply.clearing_house, out.reply.status) == ("TRANSFER_OUT", "SEOCH", "COMPLETED")
    assert (cash(h, "SEOCH"), cash(h, "HKCC")) == (600_00, 400_00)
    assert [(e.clearing_house, e.status) for e in out.events if isinstance(e, MarginCallChanged)] == [("HKCC", "MET")]
    moves = [(i.action, i.clearing_house, i.quantity) for i in h.query(InstructionsQuery(pending_only=False))
             if i.action.startswith("TRANSFER")]
    assert moves == [("TRANSFER_OUT", "SEOCH", 400_00), ("TRANSFER_IN", "HKCC", 400_00)]


def test_transfer_cutoff_is_16_00_00_of_the_business_date():
    h = transfer_setup()
    h.run(TransferCollateral("SEOCH", "HOUSE", "HKSCC", "HOUSE", "HKD", 1_00), at=datetime(2025, 3, 3, 15, 59, 59))
    h.rejects(TransferCollateral("SEOCH", "HOUSE", "HKSCC", "HOUSE", "HKD", 1_00), AFTER_CUTOFF,
              at=datetime(2025, 3, 3, 16, 0, 0))


def test_transfer_rejections_change_nothing():
    h = transfer_setup()
    h.rejects(TransferCollateral("SEOCH", "HOUSE", "SEOCH", "MM", "HKD", 1), TRANSFER_SAME_HOUSE)
    h.rejects(TransferCollateral("SEOCH", "HOUSE", "HKCC", "CLIENT", "HKD", 1), TRANSFER_KIND_MISMATCH)
    h.rejects(TransferCollateral("SEOCH", "HOUSE", "HKCC", "HOUSE", "USD", 1), INSUFFICIENT_HOLDING)


def test_stock_transfer_between_house_accounts():
    h = Harness()
    h.run(DepositSecurities("SEOCH", "HOUSE", "700", 1_000))
    h.run(TransferCollateral("SEOCH", "HOUSE", "HKSCC", "HOUSE", "00700", 400))
    stock = [(x.asset, x.quantity) for x in h.query(HoldingsQuery("HKSCC", "HOUSE")).holdings if x.asset_class == "STOCK"]
    assert stock == [("00700", 400)]


def test_one_view_across_the_three_clearing_houses():
    h = transfer_setup()
    h.op(SetMarginRequirement(P, "HKSCC", "HOUSE", "USD", 100_00))          # USD 100.00 at the default 7.8
    rows = {(r.clearing_house, r.account): r for r in h.query(CollateralOverviewQuery())}
    assert {ch for ch, _ in rows} == {"HKCC", "SEOCH", "HKSCC"}
    seoch, hkcc, hkscc = rows[("SEOCH", "HOUSE")], rows[("HKCC", "HOUSE")], rows[("HKSCC", "HOUSE")]
    assert (seoch.collateral_hkd, seoch.requirement_hkd, seoch.shortfall_hkd, seoch.excess_hkd) == (
        1_000_00, 600_00, 0, 400_00)
    assert (hkcc.requirement_hkd, hkcc.shortfall_hkd, hkcc.open_calls) == (400_00, 400_00, 1)
    assert (hkscc.requirement_hkd, hkscc.shortfall_hkd, hkscc.open_calls) == (780_00, 780_00, 1)
