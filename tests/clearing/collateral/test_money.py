"""Bank mandates, emulated bank balances and the DCASS daily money settlement with offset per CCMS
collateral account (issue 13, items 1 and 2)."""
from datetime import date, datetime

import pytest

from gateway.clearing.core import EndOfDay
from gateway.clearing.errors import OPERATOR_ONLY
from gateway.clearing.collateral import (
    BankMandatesQuery, CollectionFailed, DepositCash, HoldingsQuery, InstructionCompleted, MarginCallsQuery,
    SetBankBalance, SetBankMandate, SettlementChanged, SettlementsQuery, WithdrawCash,
    INVALID_BALANCE, INVALID_MANDATE, INVALID_PARTICIPANT, NO_MANDATE, UNKNOWN_CURRENCY,
)

from .fakes import AccountType, Harness, Money, P, Q

MON, TUE = date(2025, 3, 3), date(2025, 3, 4)


def cash(h, ch="HKCC", account="HOUSE", ccy="HKD", who=P):
    hs = h.query(HoldingsQuery(ch, account), who=who).holdings
    return next((x.quantity for x in hs if x.asset_class == "CASH" and x.asset == ccy), 0)


def balance(h, ccy="HKD", who=P):
    return next(m.balance for m in h.query(BankMandatesQuery(), who=who) if m.currency == ccy)


# ---------------------------------------------------------------- mandates (item 2)
def test_demo_data_lists_a_mandate_per_demo_participant_and_currency():
    h = Harness()
    rows = h.query(BankMandatesQuery(), who=None)
    demo = {(m.participant, m.currency) for m in rows if m.participant.startswith("CP") and m.participant[2:3].isalpha()}
    assert demo == {(p, c) for p in ("CPA01", "CPB02", "CPC03", "CPD04", "CPE05", "CPF06")
                    for c in ("HKD", "EUR", "JPY", "RMB", "USD")}
    a = next(m for m in rows if (m.participant, m.currency) == ("CPA01", "HKD"))
    assert (a.bank, a.bank_account, a.balance) == (
        "The Hongkong and Shanghai Banking Corporation Limited", "004-101000-001", None)   # unlimited by default


def test_deposit_without_a_mandate_for_its_currency_is_rejected_and_changes_nothing():
    h = Harness()
    out = h.op(SetBankMandate(P, "USD", ""))                          # cancel
    assert out.reply.bank == ""
    h.rejects(DepositCash("HKCC", "HOUSE", "USD", 1_000), NO_MANDATE)
    h.rejects(DepositCash("HKCC", "HOUSE", "GBP", 1_000), UNKNOWN_CURRENCY)   # currency checked first
    h.run(DepositCash("HKCC", "HOUSE", "HKD", 1_000))                 # other currencies unaffected


def test_bank_balance_exactly_enough_pays_one_cent_short_fails_at_processing():
    h = Harness()
    h.op(SetBankBalance(P, "HKD", 1_000))
    out = h.run(DepositCash("HKCC", "HOUSE", "HKD", 1_001))
    assert (out.reply.status, out.reply.completed_at) == ("FAILED", h.core.now)
    [failed] = [e for e in out.events if isinstance(e, CollectionFailed)]
    assert (failed.owner, failed.amount, failed.currency, failed.reason, failed.bank) == (
        P, 1_001, "HKD", "INSUFFICIENT_BANK_BALANCE", "Test Bank")
    assert not [e for e in out.events if isinstance(e, InstructionCompleted)]
    assert cash(h) == 0 and balance(h) == 1_000                      # nothing credited, nothing taken
    out = h.run(DepositCash("HKCC", "HOUSE", "HKD", 1_000))           # the balance exactly reached
    assert out.reply.status == "COMPLETED"
    assert cash(h) == 1_000 and balance(h) == 0


def test_a_paid_withdrawal_goes_back_to_the_bank_account():
    h = Harness()
    h.op(SetBankBalance(P, "HKD", 500))
    h.run(DepositCash("HKCC", "HOUSE", "HKD", 500))
    h.run(WithdrawCash("HKCC", "HOUSE", "HKD", 200), at=datetime(2025, 3, 3, 10, 0))
    assert balance(h) == 0
    h.op(SetBankBalance(P, "HKD", 0, unlimited=False), at=datetime(2025, 3, 3, 10, 59, 59))
    h.core.advance(datetime(2025, 3, 3, 11, 0))
    assert balance(h) == 200


def test_operator_inputs_are_validated():
    h = Harness()
    h.rejects(SetBankBalance(P, "HKD", -1), INVALID_BALANCE, operator=True)
    h.rejects(SetBankMandate(P, "HKD", "B" * 61, "1"), INVALID_MANDATE, operator=True)
    h.rejects(SetBankMandate(P, "HKD", "Bank", ""), INVALID_MANDATE, operator=True)
    h.rejects(SetBankMandate("cp 1", "HKD", "Bank", "1"), INVALID_PARTICIPANT, operator=True)
    h.rejects(SetBankMandate(P, "GBP", "Bank", "1"), UNKNOWN_CURRENCY, operator=True)
    h.rejects(SetBankBalance(P, "HKD", 1), OPERATOR_ONLY)
    h.op(SetBankMandate(P, "HKD", "B" * 60, "1"))                     # 60 characters: the limit itself
    h.op(SetBankMandate(P, "EUR", ""))
    h.rejects(SetBankMandate(P, "EUR", ""), NO_MANDATE, operator=True)  # nothing left to cancel


def test_participant_sees_only_its_own_mandates():
    h = Harness()
    assert {m.participant for m in h.query(BankMandatesQuery(), who=Q)} == {Q}


# ---------------------------------------------------------------- DCASS daily settlement (item 1)
def settle_setup():
    h = Harness()
    h.dcass.add_account(P, "H2", AccountType.HOUSE, "HKCC")
    h.dcass.money = [
        Money(P, "H1", "HKCC", "HKD", MON, -10_000_00),
        Money(P, "H2", "HKCC", "HKD", MON, 4_000_00),                # offsets H1: same HOUSE account
        Money(P, "OC1", "HKCC", "HKD", MON, 3_000_00),               # client: never offsets house
        Money(P, "IC1", "HKCC", "HKD", MON, -1_000_00),              # offsets OC1 in CLIENT
        Money(P, "H1", "HKCC", "USD", MON, 250_00),                  # another currency: its own line
        Money(P, "SH1", "SEOCH", "HKD", MON, -700_00),               # another clearing house
        Money(Q, "H1", "HKCC", "HKD", MON, 0),                       # nothing to move: no settlement
    ]
    h.run(DepositCash("HKCC", "HOUSE", "HKD", 10_000_00))
    return h


def test_end_of_day_nets_per_collateral_account_and_currency_due_next_business_day():
    h = settle_setup()
    out = h.op(EndOfDay(), at=datetime(2025, 3, 3, 19, 0))
    due = datetime(2025, 3, 4, 9, 15)
    rows = h.query(SettlementsQuery(), who=None)
    assert [(s.participant, s.clearing_house, s.account, s.currency, s.amount, s.dcass_accounts, s.due, s.status)
            for s in rows] == [
        (P, "HKCC", "CLIENT", "HKD", 2_000_00, ("IC1", "OC1"), due, "PENDING"),
        (P, "HKCC", "HOUSE", "HKD", -6_000_00, ("H1", "H2"), due, "PENDING"),
        (P, "HKCC", "HOUSE", "USD", 250_00, ("H1",), due, "PENDING"),
        (P, "SEOCH", "HOUSE", "HKD", -700_00, ("SH1",), due, "PENDING"),
    ]
    assert all(s.business_date == MON for s in rows)
    ev = [e for e in out.events if isinstance(e, SettlementChanged)]
    assert [(e.owner, e.amount, e.status) for e in ev] == [(P, 2_000_00, "PENDING"), (P, -6_000_00, "PENDING"),
                                                           (P, 250_00, "PENDING"), (P, -700_00, "PENDING")]
    assert h.query(SettlementsQuery(), who=Q) == ()


def test_settlement_at_its_due_second_through_the_mandate():
    h = settle_setup()
    h.op(SetBankBalance(P, "HKD", 10_000_00))
    h.op(SetBankBalance(P, "USD", 0))
    h.op(EndOfDay(), at=datetime(2025, 3, 3, 19, 0))
    h.core.advance(datetime(2025, 3, 4, 9, 14, 59))
    assert {s.status for s in h.query(SettlementsQuery())} == {"PENDING"}
    events = h.core.advance(datetime(2025, 3, 4, 9, 15))
    assert [(e.amount, e.status) for e in events if isinstance(e, SettlementChanged)] == [
        (-6_000_00, "SETTLED"), (-700_00, "SETTLED"), (2_000_00, "SETTLED"), (250_00, "SETTLED")]  # collections first
    # 10,000.00 + 2,000.00 received - 6,000.00 - 700.00 paid (HKD); USD 250.00 received
    assert balance(h) == 5_300_00 and balance(h, "USD") == 250_00
    assert h.query(SettlementsQuery(status="PENDING")) == ()
    assert cash(h) == 10_000_00                                       # collateral untouched


def test_failed_collection_is_debited_from_the_cash_collateral():
    h = settle_setup()
    h.margin("H1", 8_000_00)                                          # needs 8,000.00 of the 10,000.00
    h.op(SetBankBalance(P, "HKD", 5_999_99))                          # one cent short of 6,000.00
    h.op(EndOfDay(), at=datetime(2025, 3, 3, 19, 0))
    events = h.core.advance(datetime(2025, 3, 4, 9, 15))
    [house] = [e for e in events if isinstance(e, SettlementChanged) and e.account == "HOUSE" and e.currency == "HKD"
               and e.clearing_house == "HKCC"]
    assert (house.status, house.consequence, house.at) == ("FAILED", "DEBIT_CASH_COLLATERAL",
                                                           datetime(2025, 3, 4, 9, 15))
    assert cash(h) == 4_000_00                                         # 10,000.00 - 6,000.00
    [call] = h.query(MarginCallsQuery(clearing_house="HKCC"))
    assert (call.account, call.amount) == ("HOUSE", 4_000_00)          # 8,000.00 required, 4,000.00 left
    # collections come before receipts: the SEOCH 700.00 is collected from what is left, then 2,000.00 is paid in
    seoch = [s for s in h.query(SettlementsQuery()) if s.clearing_house == "SEOCH"]
    assert [(s.status, s.consequence) for s in seoch] == [("SETTLED", "")]
    assert balance(h) == 5_999_99 - 700_00 + 2_000_00


def test_settlement_state_is_in_the_snapshot_and_deterministic():
    a, b = settle_setup(), settle_setup()
    for h in (a, b):
        h.op(SetBankBalance(P, "HKD", 1))
        h.op(EndOfDay(), at=datetime(2025, 3, 3, 19, 0))
        h.core.advance(datetime(2025, 3, 4, 9, 15))
    assert a.core.state_hash() == b.core.state_hash()
    snap = a.ccms.snapshot()
    assert snap["settlements"]["2"]["status"] == "FAILED" and snap["bank_balances"][f"{P}|HKD"] == 2_000_01
