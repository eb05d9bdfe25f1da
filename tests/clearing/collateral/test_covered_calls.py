"""SEOCH covered calls: specific stock collateral, the DCASS input cut-off 18:45 (18:44:59 accepted,
18:45:00 rejected), real-time effect on margin, release when positions close."""
from datetime import datetime

from gateway.clearing.collateral import (
    CoverageQuery, CoveredCallChanged, CoveredCallsQuery, DepositSecurities, HoldingsQuery, LodgeCoveredCall,
    ReleaseCoveredCall, WithdrawSecurities,
    AFTER_CUTOFF, COVER_EXCEEDS_SHORT, COVERED_CALL_SEOCH_ONLY, INSUFFICIENT_SPECIFIC_STOCK, NOT_A_STOCK,
    NO_SHORT_CALL_POSITION, RELEASE_EXCEEDS_COVER, STOCK_EARMARKED,
)

from .fakes import Harness, P, SetShort, ShortCall

KEY = bytes.fromhex("0102030400a01e2400000c80")       # a 12-byte series key (opaque to CCMS)
OTHER = bytes(12)


def setup():
    h = Harness()
    h.dcass.positions[(P, "SH1")] = [ShortCall(KEY, "700", 100, short=10, margin_per_contract=50_000)]
    h.dcass.positions[(P, "SC1")] = [ShortCall(KEY, "700", 100, short=4, margin_per_contract=50_000)]
    h.run(DepositSecurities("SEOCH", "HOUSE", "700", 600, specific=True))
    return h


def requirement(h, account="HOUSE"):
    lines = h.query(CoverageQuery("SEOCH", account)).lines
    return lines[0].requirement if lines else 0


def test_covered_call_at_18_44_59_is_accepted_and_takes_the_calls_out_of_margin():
    h = setup()
    h.margin("SH1", 0)                                        # DCASS reports the short call margin
    assert requirement(h) == 10 * 50_000
    out = h.run(LodgeCoveredCall("SH1", KEY, 5), at=datetime(2025, 3, 3, 18, 44, 59))
    assert (out.reply.contracts, out.reply.shares, out.reply.underlying) == (5, 500, "00700")
    assert h.dcass.set_covered_calls[-1] == (P, "SH1", KEY, 5)
    ev = [e for e in out.events if isinstance(e, CoveredCallChanged)]
    assert [(e.reason, e.contracts, e.shares, e.owner) for e in ev] == [("LODGED", 5, 500, P)]
    assert requirement(h) == 5 * 50_000                       # effective in real time
    spec = next(x for x in h.query(HoldingsQuery("SEOCH", "HOUSE")).holdings if x.specific)
    assert (spec.quantity, spec.earmarked, spec.value_hkd) == (600, 500, 0)    # not general collateral


def test_covered_call_at_18_45_00_is_after_the_cutoff():
    h = setup()
    h.rejects(LodgeCoveredCall("SH1", KEY, 5), AFTER_CUTOFF, at=datetime(2025, 3, 3, 18, 45, 0))
    h.rejects(ReleaseCoveredCall("SH1", KEY, 1), AFTER_CUTOFF)


def test_not_enough_specific_stock():
    h = setup()
    h.rejects(LodgeCoveredCall("SH1", KEY, 7), INSUFFICIENT_SPECIFIC_STOCK)    # 700 shares needed, 600 held
    h.run(LodgeCoveredCall("SH1", KEY, 6))                                      # exactly 600
    h.rejects(LodgeCoveredCall("SC1", KEY, 1), INSUFFICIENT_SPECIFIC_STOCK)     # client stock is separate
    h.run(DepositSecurities("SEOCH", "CLIENT", "700", 100, specific=True))      # specific stock: any account
    h.run(LodgeCoveredCall("SC1", KEY, 1))


def test_cover_limited_to_the_short_position_and_seoch_only():
    h = setup()
    h.rejects(LodgeCoveredCall("SH1", OTHER, 1), NO_SHORT_CALL_POSITION)
    h.run(DepositSecurities("SEOCH", "HOUSE", "700", 10_000, specific=True))
    h.run(LodgeCoveredCall("SH1", KEY, 8))
    h.rejects(LodgeCoveredCall("SH1", KEY, 3), COVER_EXCEEDS_SHORT)
    h.rejects(LodgeCoveredCall("H1", KEY, 1), COVERED_CALL_SEOCH_ONLY)
    h.rejects(DepositSecurities("HKCC", "HOUSE", "700", 100, specific=True), COVERED_CALL_SEOCH_ONLY)
    h.rejects(DepositSecurities("SEOCH", "HOUSE", "EFN350301", 100, specific=True), NOT_A_STOCK)


def test_earmarked_stock_cannot_be_withdrawn():
    h = setup()
    h.run(LodgeCoveredCall("SH1", KEY, 5))
    h.rejects(WithdrawSecurities("SEOCH", "HOUSE", "700", 101, specific=True), STOCK_EARMARKED)
    h.run(WithdrawSecurities("SEOCH", "HOUSE", "700", 100, specific=True))


def test_release_by_request_and_when_the_position_closes():
    h = setup()
    h.margin("SH1", 0)
    h.run(LodgeCoveredCall("SH1", KEY, 6))
    out = h.run(ReleaseCoveredCall("SH1", KEY, 1))
    assert [(e.reason, e.contracts) for e in out.events if isinstance(e, CoveredCallChanged)] == [("RELEASED", 5)]
    assert requirement(h) == 5 * 50_000
    h.rejects(ReleaseCoveredCall("SH1", KEY, 6), RELEASE_EXCEEDS_COVER)
    # the short position is partly closed in DCASS: the cover follows it down and frees the stock
    out = h.run(SetShort(P, "SH1", KEY, 3))
    ev = [e for e in out.events if isinstance(e, CoveredCallChanged)]
    assert [(e.reason, e.contracts, e.shares) for e in ev] == [("POSITION_CLOSED", 3, 300)]
    assert h.dcass.set_covered_calls[-1] == (P, "SH1", KEY, 3)
    assert requirement(h) == 0
    assert [c.contracts for c in h.query(CoveredCallsQuery())] == [3]
    # closed entirely: the record goes, all the stock is free again
    h.run(SetShort(P, "SH1", KEY, 0))
    assert h.query(CoveredCallsQuery()) == ()
    h.run(WithdrawSecurities("SEOCH", "HOUSE", "700", 600, specific=True))
