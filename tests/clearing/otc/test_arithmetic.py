"""The formulas, on their own (signs: + the member receives, - it pays)."""
from decimal import Decimal as D

from gateway.clearing.otc.arithmetic import (accrual, ceil_minor, ndf_settlement_amount, price_alignment_interest,
                                             round_minor)


def test_round_half_away_from_zero_symmetric():
    assert round_minor(D("2.5")) == 3
    assert round_minor(D("-2.5")) == -3
    assert round_minor(D("2.4999")) == 2
    assert round_minor(D("-2.4999")) == -2
    assert ceil_minor(D("10.0001")) == 11
    assert ceil_minor(D("10")) == 10


def test_ndf_settled_in_base_currency():
    # USD/CNH, buy USD 1,000,000.00 at 7.2000, fixing 7.3000, settle in USD: N x (F-K)/F
    amount = ndf_settlement_amount(1_000_000_00, True, D("7.2000"), D("7.3000"), settle_in_base=True)
    # 100,000,000 x 0.1 / 7.3 = 1,369,863.0137 cents -> 1,369,863 cents = USD 13,698.63
    assert amount == 1_369_863
    assert ndf_settlement_amount(1_000_000_00, False, D("7.2000"), D("7.3000"), True) == -1_369_863


def test_ndf_settled_in_quote_currency_and_loss():
    # settle in CNH: N x (F-K) = 1,000,000.00 x (-0.05) = CNH -50,000.00 for the buyer
    assert ndf_settlement_amount(1_000_000_00, True, D("7.2000"), D("7.1500"), False) == -50_000_00
    assert ndf_settlement_amount(1_000_000_00, False, D("7.2000"), D("7.1500"), False) == 50_000_00
    assert ndf_settlement_amount(1_000_000_00, True, D("7.2"), D("7.2"), True) == 0


def test_accrual():
    # HKD 100m x 3.65% x 92/365 = 920,000.00
    assert accrual(100_000_000_00, D("0.0365"), 92, 365) == 920_000_00
    # USD 10m x 4.5% x 184/360 = 230,000.00
    assert accrual(10_000_000_00, D("0.045"), 184, 360) == 230_000_00
    assert accrual(1_000_00, D("-0.01"), 36, 360) == -1_00


def test_pai_receiver_of_vm_pays():
    # member holds HKD 1,000,000.00 of VM received; 0.5% for 3 days ACT/365 -> pays 41.10
    assert price_alignment_interest(1_000_000_00, D("0.005"), 3, 365) == -4_110
    # payer of VM receives it
    assert price_alignment_interest(-1_000_000_00, D("0.005"), 3, 365) == 4_110
    # negative rate reverses the flow
    assert price_alignment_interest(1_000_000_00, D("-0.004"), 1, 360) == 1_111
    assert price_alignment_interest(0, D("0.05"), 1, 365) == 0
