"""Sub-account and bank of every settlement type and account kind (seed Tables 1 and 2)."""
from datetime import date

import pytest

from gateway.clearing.otc import (ChargeFee, RequestCashDeposit, RunIntradayVmCall, SetGuaranteeFundRequirement,
                                  SetMarginRequirement, SetMtm, SetRateFixing, SettlementAccountsQuery,
                                  SettlementType as T)

from .harness import D, Harness

BANKS = {"HKD": "Citibank N.A., Hong Kong Branch", "CNH": "Bank of China (Hong Kong) Limited",
         "EUR": "The Hongkong and Shanghai Banking Corporation Limited, Hong Kong",
         "USD": "The Hongkong and Shanghai Banking Corporation Limited, Hong Kong"}
PVP_BANK = "Industrial and Commercial Bank of China (Asia) Limited"
ACCOUNT = {"HOUSE": "H", "CLIENT": "C1"}


def expected_sub_account(type_, kind):
    return {1: "Settlement", 2: "Settlement", 3: "Settlement", 4: "Settlement (Notional Exchange)",
            5: f"{kind.title()} Margin Fund", 6: f"{kind.title()} Margin Fund", 7: f"{kind.title()} Margin Fund",
            8: "Guarantee Fund", 9: "Fees"}[type_]


def produce(type_, account):
    """Run a small flow that ends with an instruction of ``type_`` for OCM01's ``account``."""
    h = Harness()
    if type_ == 1:
        h.ndf(account=account, settlement_date=date(2025, 3, 4))
        h.op(SetRateFixing("N1", date(2025, 3, 4), D("7.3")))
        h.eod()
    elif type_ in (2, 3):
        h.irs(account=account, currency="EUR")
        h.op(SetMtm("I1", 1_000_00))
        h.eod()
        h.eod()  # Wed: PAI only (VM unchanged)
    elif type_ == 4:
        h.ccs(account=account)
    elif type_ == 5:
        h.op(SetMarginRequirement("OCM01", account, 1_000_00))
        h.eod("08:30")
    elif type_ == 6:
        h.irs(account=account)
        h.op(SetMtm("I1", -1_00))
        h.op(RunIntradayVmCall())
        h.at("14:15")
    elif type_ == 7:
        h.do("OCM01", RequestCashDeposit("OCM01", account, "CNH", 1_000_00))
    elif type_ == 8:
        h.op(SetGuaranteeFundRequirement("OCM01", 1_000_00))
    elif type_ == 9:
        h.op(ChargeFee("OCM01", "HKD", 1_00, "report fee"))
        h.at("19:00", date(2025, 3, 31))
        while h.bd < date(2025, 3, 31):
            h.eod(None)
        h.eod(None)  # month-end EOD bills March
    return [i for i in h.instructions("OCM01") if type_ in i.types]


@pytest.mark.parametrize("kind", ["HOUSE", "CLIENT"])
@pytest.mark.parametrize("type_", range(1, 10))
def test_sub_account_and_bank_by_type_and_account(type_, kind):
    account = "" if type_ in (8, 9) else ACCOUNT[kind]
    instructions = produce(type_, account)
    assert instructions
    for ins in instructions:
        assert ins.sub_account_name == expected_sub_account(type_, kind if account else "HOUSE")
        if type_ == 4 and ins.currency in ("USD", "CNH"):
            assert ins.bank == PVP_BANK
        else:
            assert ins.bank == BANKS[ins.currency]
        assert ins.beneficiary.startswith("OTC Clearing Hong Kong Limited")
        assert ins.account_kind == (kind if account else "")  # types 8 and 9 are member level


def test_ccs_exchange_in_hkd_and_eur_uses_the_currency_settlement_bank():
    h = Harness()
    h.ccs(pay_currency="HKD", receive_currency="EUR", valuation_currency="EUR")
    assert {(i.currency, i.bank, i.sub_account) for i in h.instructions()} == {
        ("HKD", BANKS["HKD"], "NOTIONAL_EXCHANGE"), ("EUR", BANKS["EUR"], "NOTIONAL_EXCHANGE")}


def test_routing_table_query_covers_every_type_kind_and_currency():
    rows = Harness().q(SettlementAccountsQuery(), "OCM03")
    assert len(rows) == 9 * 2 * 4  # type 10 is off by default
    for r in rows:
        assert r.sub_account_name == expected_sub_account(r.settlement_type, r.account_kind)
        pvp = r.settlement_type == T.CCS_EXCHANGE and r.currency in ("USD", "CNH")
        assert r.bank == (PVP_BANK if pvp else BANKS[r.currency])
    fees = [r for r in rows if r.settlement_type == 9]
    assert {r.beneficiary for r in fees} == {"OTC Clearing Hong Kong Limited"}


def test_participating_margin_routes_to_margin_funds_when_enabled():
    rows = Harness(participating_margin=True).q(SettlementAccountsQuery())
    assert {(r.account_kind, r.sub_account) for r in rows if r.settlement_type == 10} == {
        ("HOUSE", "HOUSE_MARGIN"), ("CLIENT", "CLIENT_MARGIN")}


# seed Table 2, every beneficiary name in full (ASCII hyphen for the seed's dash)
BENEFICIARIES = {
    "SETTLEMENT": "OTC Clearing Hong Kong Limited - Settlement",
    "NOTIONAL_EXCHANGE": "OTC Clearing Hong Kong Limited - Settlement (Notional Exchange)",
    "HOUSE_MARGIN": "OTC Clearing Hong Kong Limited - House Margin Fund",
    "CLIENT_MARGIN": "OTC Clearing Hong Kong Limited - Client Margin Fund",
    "GUARANTEE_FUND": "OTC Clearing Hong Kong Limited - Guarantee Fund",
    "FEES": "OTC Clearing Hong Kong Limited",
}


def test_every_beneficiary_name_in_full_and_six_sub_accounts_per_currency():
    rows = Harness().q(SettlementAccountsQuery(), "OCM03")
    for r in rows:
        assert r.beneficiary == BENEFICIARIES[r.sub_account]
    for ccy in ("HKD", "CNH", "EUR", "USD"):
        subs = {(r.sub_account, r.beneficiary) for r in rows if r.currency == ccy}
        assert len(subs) == 6
        assert subs == set(BENEFICIARIES.items())
    assert {r.currency for r in rows} == {"HKD", "CNH", "EUR", "USD"}
