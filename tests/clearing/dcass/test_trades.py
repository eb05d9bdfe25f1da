from datetime import datetime

from gateway.clearing.dcass import (AccountOpened, AccountType, DealKind, InjectDeal, MissingTradesQuery, OpenAccount, OpenClose,
                                    PositionChanged, Side, TradeEvent, TradesQuery)
from gateway.clearing.dcass import errors as E
from gateway.clearing.errors import ACTING_FOR_OTHER, OPERATOR_ONLY, UNKNOWN_PARTICIPANT

from .conftest import events_of


def test_exchange_deal_books_two_trades_with_per_owner_sequences(env):
    b1 = env.deal("HSI NOV26", 25000, 3, "CPA01", "CPB02", "HKCC-HOUSE", "HKCC-HOUSE")
    assert b1.deal_nos == (1,) and b1.trade_nos == (1, 2)
    out = env.op(InjectDeal(env.key("HSI NOV26"), 25010, 1, "CPA01", "CPC03"))
    trades = events_of(out, TradeEvent)
    assert [(t.owner, t.sequence, t.side) for t in trades] == [("CPA01", 2, Side.BUY), ("CPC03", 1, Side.SELL)]
    assert trades[0].account_id == "HKCC-DAILY" and trades[1].account_id == "HKCC-DAILY"   # default account
    assert all(t.STREAM == "trades" and t.kind is DealKind.EXCHANGE for t in trades)
    pos = events_of(out, PositionChanged)
    assert {(p.owner, p.account_id, p.long, p.short) for p in pos} == {("CPA01", "HKCC-DAILY", 1, 0),
                                                                        ("CPC03", "HKCC-DAILY", 0, 1)}
    assert env.ls("CPA01", "HKCC-HOUSE", "HSI NOV26") == (3, 0)
    assert env.ls("CPB02", "HKCC-HOUSE", "HSI NOV26") == (0, 3)


def test_trade_queries_by_account_series_time_and_missing_sequence(env):
    env.at(9, 30)
    env.deal("HSI NOV26", 25000, 1, "CPA01", "CPB02", "HKCC-HOUSE")
    env.at(10, 30)
    env.deal("HHI NOV26", 9000, 2, "CPA01", "CPB02", "HKCC-CLIENT01")
    env.at(11, 30)
    env.deal("HSI DEC26", 25100, 3, "CPB02", "CPA01", "", "HKCC-HOUSE")
    allt = env.q(TradesQuery("CPA01"), "CPA01")
    assert [t.sequence for t in allt] == [1, 2, 3]
    assert [t.trade_no for t in env.q(TradesQuery("CPA01", account_id="HKCC-HOUSE"), "CPA01")] == [1, 6]
    assert [t.quantity for t in env.q(TradesQuery("CPA01", series_key=env.key("HHI NOV26")), "CPA01")] == [2]
    window = env.q(TradesQuery("CPA01", from_time=datetime(2026, 11, 2, 10), to_time=datetime(2026, 11, 2, 11)),
                   "CPA01")
    assert [t.series_name for t in window] == ["HHI NOV26"]
    missing = env.q(MissingTradesQuery("CPA01", 2, 3), "CPA01")
    assert [(t.sequence, t.side) for t in missing] == [(2, Side.BUY), (3, Side.SELL)]
    assert env.q(MissingTradesQuery("CPA01", 4, 9), "CPA01") == []
    env.rejects(E.INVALID_SEQUENCE_RANGE, env.q, MissingTradesQuery("CPA01", 3, 2), "CPA01")
    env.rejects(ACTING_FOR_OTHER, env.q, MissingTradesQuery("CPA01", 1, 2), "CPB02")
    env.rejects(E.ACCOUNT_NOT_OWN, env.q, TradesQuery("CPA01", account_id="HKCC-HOUSE"), "CPB02")


def test_sequences_restart_each_business_date(env):
    env.deal("HSI NOV26", 25000, 1, "CPA01", "CPB02")
    env.eod()
    env.at(10)
    env.deal("HSI NOV26", 25000, 1, "CPA01", "CPB02")
    seqs = [(t.business_date.day, t.sequence) for t in env.q(TradesQuery("CPA01"), "CPA01")
            if t.kind is DealKind.EXCHANGE]
    assert seqs == [(2, 1), (3, 1)]


def test_inject_deal_rejections(env):
    k = env.key("HSI NOV26")
    env.rejects(OPERATOR_ONLY, env.cp, "CPA01", InjectDeal(k, 25000, 1, "CPA01", "CPB02"))
    env.rejects(E.UNKNOWN_SERIES, env.op, InjectDeal(b"\x00" * 12, 25000, 1, "CPA01", "CPB02"))
    env.rejects(E.INVALID_QUANTITY, env.op, InjectDeal(k, 25000, 0, "CPA01", "CPB02"))
    env.rejects(E.INVALID_PRICE, env.op, InjectDeal(k, 0, 1, "CPA01", "CPB02"))
    env.rejects(UNKNOWN_PARTICIPANT, env.op, InjectDeal(k, 25000, 1, "NOPE1", "CPB02"))
    env.rejects(E.NOT_CLEARING_MEMBER, env.op, InjectDeal(k, 25000, 1, "CPD04", "CPB02"))
    env.rejects(E.UNKNOWN_ACCOUNT, env.op, InjectDeal(k, 25000, 1, "CPA01", "CPB02", "NOPE"))
    env.rejects(E.WRONG_CLEARING_HOUSE, env.op, InjectDeal(k, 25000, 1, "CPA01", "CPB02", "SEOCH-HOUSE"))


def test_open_account(env):
    out = env.cp("CPB02", OpenAccount("CPB02", "HKCC-CLIENT02", AccountType.INDIVIDUAL_CLIENT, "HKCC"))
    assert out.reply.account_type is AccountType.INDIVIDUAL_CLIENT and not out.reply.gross
    assert events_of(out, AccountOpened)[0].owner == "CPB02"
    env.deal("HSI NOV26", 25000, 1, "CPB02", "CPA01", "HKCC-CLIENT02")
    assert env.ls("CPB02", "HKCC-CLIENT02", "HSI NOV26") == (1, 0)
    # the same id is fine for another participant
    env.cp("CPC03", OpenAccount("CPC03", "HKCC-CLIENT02", 4, "HKCC"))
    env.rejects(E.ACCOUNT_EXISTS, env.cp, "CPB02", OpenAccount("CPB02", "HKCC-CLIENT02", AccountType.HOUSE, "HKCC"))
    env.rejects(E.ACCOUNT_TYPE_NOT_ALLOWED, env.cp, "CPB02", OpenAccount("CPB02", "X1", AccountType.SINK, "HKCC"))
    env.rejects(E.ACCOUNT_TYPE_NOT_ALLOWED, env.cp, "CPB02", OpenAccount("CPB02", "X1", AccountType.DAILY, "HKCC"))
    env.rejects(E.INVALID_ACCOUNT_ID, env.cp, "CPB02", OpenAccount("CPB02", "A" * 17, AccountType.HOUSE, "HKCC"))
    env.rejects(E.INVALID_ACCOUNT_ID, env.cp, "CPB02", OpenAccount("CPB02", "", AccountType.HOUSE, "HKCC"))
    env.rejects(E.UNKNOWN_CLEARING_HOUSE, env.cp, "CPB02", OpenAccount("CPB02", "X1", AccountType.HOUSE, "SEHK"))
    env.rejects(E.NOT_CLEARING_MEMBER, env.cp, "CPC03", OpenAccount("CPC03", "X1", AccountType.HOUSE, "SEOCH"))
    env.rejects(ACTING_FOR_OTHER, env.cp, "CPC03", OpenAccount("CPB02", "X1", AccountType.HOUSE, "HKCC"))
    env.at(18, 45)
    env.rejects(E.AFTER_INPUT_CUTOFF, env.cp, "CPB02", OpenAccount("CPB02", "X1", AccountType.HOUSE, "HKCC"))


def test_gross_close_beyond_position_opens_rest_for_exchange_trades(env):
    env.deal("HSI NOV26", 25000, 2, "CPA01", "CPB02", "HKCC-OMNIBUS")
    env.deal("HSI NOV26", 25000, 3, "CPB02", "CPA01", "", "HKCC-OMNIBUS", soc=OpenClose.CLOSE)
    assert env.ls("CPA01", "HKCC-OMNIBUS", "HSI NOV26") == (0, 1)


def test_events_carry_subscription_filter_attributes(env):
    out = env.op(InjectDeal(env.key("TCH DEC26 480.00 C"), 1500, 1, "CPA01", "CPD04", "SEOCH-HOUSE", "SEOCH-HOUSE"))
    t = events_of(out, TradeEvent)[0]
    assert (t.series_symbol, t.instrument_class, t.underlying, t.clearing_house, t.account_id) == (
        "TCH DEC26 480.00 C", "TCH-O", "0700", "SEOCH", "SEOCH-HOUSE")
    p = events_of(out, PositionChanged)[0]
    assert (p.instrument_class, p.underlying, p.clearing_house) == ("TCH-O", "0700", "SEOCH")
