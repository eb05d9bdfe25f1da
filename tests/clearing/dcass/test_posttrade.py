from datetime import datetime

from gateway.clearing.dcass import (Allocation, CloseOut, ConfirmGiveUp, DealKind, GiveUpEvent, GiveUpState,
                                    GiveUpsQuery, GiveUpTrade, OpenClose, OpenCloseAdjustment, RectifyTrade,
                                    RejectGiveUp, Side, TradeChanged, TradeEvent, TradeHistoryQuery, TradesQuery,
                                    TradeState, TransferFromTransitory, TransferPosition)
from gateway.clearing.dcass import errors as E
from gateway.clearing.errors import ACTING_FOR_OTHER, UNKNOWN_PARTICIPANT

from .conftest import events_of


def _trade(env, participant, no):
    return {t.trade_no: t for t in env.q(TradesQuery(participant), participant)}[no]


# ---------------------------------------------------------------- give-up
def test_give_up_part_of_a_trade_and_take_up_into_two_accounts(env):
    b = env.deal("HSI NOV26", 25000, 10, "CPA01", "CPC03", "HKCC-OMNIBUS")
    buy = b.trade_nos[0]
    out = env.cp("CPA01", GiveUpTrade("CPA01", buy, 7, "CPB02", "client X"))
    gno = out.reply
    gev = events_of(out, GiveUpEvent)
    assert {(e.owner, e.state, e.quantity) for e in gev} == {("CPA01", GiveUpState.PENDING, 7),
                                                             ("CPB02", GiveUpState.PENDING, 7)}
    assert all(e.STREAM == "trades" and e.sequence == 1 for e in gev)
    assert _trade(env, "CPA01", buy).available == 3 and _trade(env, "CPA01", buy).reserved == 7
    assert env.ls("CPA01", "HKCC-OMNIBUS", "HSI NOV26") == (10, 0)    # nothing moves until take-up
    pending = env.q(GiveUpsQuery("CPB02", GiveUpState.PENDING), "CPB02")
    assert [(g.give_up_no, g.giver, g.side, g.price) for g in pending] == [(gno, "CPA01", Side.BUY, 25000)]
    out = env.cp("CPB02", ConfirmGiveUp("CPB02", gno, (Allocation("HKCC-CLIENT01", 5),
                                                       Allocation("HKCC-HOUSE", 2))))
    booked = out.reply
    assert len(booked.deal_nos) == 2 and len(booked.trade_nos) == 4
    trades = events_of(out, TradeEvent)
    assert [(t.owner, t.account_id, t.side, t.quantity, t.price, t.kind, t.orig_trade_no) for t in trades] == [
        ("CPA01", "HKCC-OMNIBUS", Side.SELL, 5, 25000, DealKind.GIVE_UP, buy),
        ("CPB02", "HKCC-CLIENT01", Side.BUY, 5, 25000, DealKind.GIVE_UP, buy),
        ("CPA01", "HKCC-OMNIBUS", Side.SELL, 2, 25000, DealKind.GIVE_UP, buy),
        ("CPB02", "HKCC-HOUSE", Side.BUY, 2, 25000, DealKind.GIVE_UP, buy)]
    assert [t.sequence for t in trades if t.owner == "CPB02"] == [1, 2]
    assert trades[0].state is TradeState.REVERSAL and trades[1].state is TradeState.ACTIVE
    assert env.ls("CPA01", "HKCC-OMNIBUS", "HSI NOV26") == (3, 0)
    assert env.ls("CPB02", "HKCC-CLIENT01", "HSI NOV26") == (5, 0)
    assert env.ls("CPB02", "HKCC-HOUSE", "HSI NOV26") == (2, 0)
    orig = _trade(env, "CPA01", buy)
    assert orig.state is TradeState.PARTLY_ADJUSTED and orig.moved == 7 and orig.available == 3
    assert set(orig.children) == set(booked.trade_nos)
    history = env.q(TradeHistoryQuery("CPA01", buy), "CPA01")
    assert [t.trade_no for t in history] == [buy, booked.trade_nos[0], booked.trade_nos[2]]
    taker_hist = env.q(TradeHistoryQuery("CPB02", booked.trade_nos[1]), "CPB02")
    assert [t.orig_trade_no for t in taker_hist] == [buy]
    done = env.q(GiveUpsQuery("CPA01"), "CPA01")[0]
    assert done.state is GiveUpState.CONFIRMED and done.new_trade_nos == booked.trade_nos
    assert {(e.owner, e.state) for e in events_of(out, GiveUpEvent)} == {("CPA01", GiveUpState.CONFIRMED),
                                                                         ("CPB02", GiveUpState.CONFIRMED)}


def test_give_up_rejected_returns_quantity(env):
    b = env.deal("TCH NOV26 480.00 C", 1250, 4, "CPA01", "CPD04", "SEOCH-HOUSE", "SEOCH-HOUSE")
    gno = env.cp("CPA01", GiveUpTrade("CPA01", b.trade_nos[0], 4, "CPF06")).reply
    out = env.cp("CPF06", RejectGiveUp("CPF06", gno, "unknown client"))
    assert {(e.owner, e.state, e.reason) for e in events_of(out, GiveUpEvent)} == {
        ("CPA01", GiveUpState.REJECTED, "unknown client"), ("CPF06", GiveUpState.REJECTED, "unknown client")}
    assert events_of(out, TradeChanged)[0].available == 4
    assert env.ls("CPA01", "SEOCH-HOUSE", "TCH NOV26 480.00 C") == (4, 0)
    env.rejects(E.GIVE_UP_NOT_PENDING, env.cp, "CPF06", ConfirmGiveUp("CPF06", gno, (Allocation("SEOCH-HOUSE", 4),)))


def test_unanswered_give_up_expires_at_the_give_up_cutoff(env):
    b = env.deal("HSI NOV26", 25000, 2, "CPA01", "CPC03", "HKCC-HOUSE")
    gno = env.cp("CPA01", GiveUpTrade("CPA01", b.trade_nos[0], 2, "CPB02")).reply
    env.at(18, 14, 59)
    assert env.d.give_ups[gno].state is GiveUpState.PENDING
    # time passes the cut-off: the core's on_time hook expires it
    out = env.set_time(datetime(2026, 11, 2, 18, 15))
    ev = events_of(out, GiveUpEvent)
    assert {(e.owner, e.state) for e in ev} == {("CPA01", GiveUpState.EXPIRED), ("CPB02", GiveUpState.EXPIRED)}
    assert _trade(env, "CPA01", b.trade_nos[0]).available == 2
    env.rejects(E.AFTER_GIVE_UP_CUTOFF, env.cp, "CPB02", ConfirmGiveUp("CPB02", gno, (Allocation("HKCC-HOUSE", 2),)))
    env.rejects(E.AFTER_GIVE_UP_CUTOFF, env.cp, "CPA01", GiveUpTrade("CPA01", b.trade_nos[0], 1, "CPB02"))
    # the giver can still allocate what came back until the input cut-off
    env.cp("CPA01", RectifyTrade("CPA01", b.trade_nos[0], (Allocation("HKCC-CLIENT01", 2),)))
    assert env.ls("CPA01", "HKCC-CLIENT01", "HSI NOV26") == (2, 0)


def test_end_of_day_expires_pending_give_ups_too(env):
    b = env.deal("HSI NOV26", 25000, 2, "CPA01", "CPC03", "HKCC-HOUSE")
    gno = env.cp("CPA01", GiveUpTrade("CPA01", b.trade_nos[0], 2, "CPB02")).reply
    env.at(17)
    out = env.eod()
    assert GiveUpState.EXPIRED in {e.state for e in events_of(out, GiveUpEvent)}
    assert env.d.give_ups[gno].state is GiveUpState.EXPIRED


def test_give_up_rejections_change_nothing(env):
    b = env.deal("HSI NOV26", 25000, 3, "CPA01", "CPC03", "HKCC-HOUSE")
    t = b.trade_nos[0]
    env.rejects(E.TRADE_NOT_FOUND, env.cp, "CPA01", GiveUpTrade("CPA01", 999, 1, "CPB02"))
    env.rejects(E.TRADE_NOT_FOUND, env.cp, "CPB02", GiveUpTrade("CPB02", t, 1, "CPA01"))   # not its trade
    env.rejects(E.QUANTITY_EXCEEDS_HELD, env.cp, "CPA01", GiveUpTrade("CPA01", t, 4, "CPB02"))
    env.rejects(E.INVALID_QUANTITY, env.cp, "CPA01", GiveUpTrade("CPA01", t, 0, "CPB02"))
    env.rejects(E.GIVE_UP_TO_SELF, env.cp, "CPA01", GiveUpTrade("CPA01", t, 1, "CPA01"))
    env.rejects(E.NOT_CLEARING_MEMBER, env.cp, "CPA01", GiveUpTrade("CPA01", t, 1, "CPD04"))
    env.rejects(UNKNOWN_PARTICIPANT, env.cp, "CPA01", GiveUpTrade("CPA01", t, 1, "ZZZ99"))
    env.rejects(ACTING_FOR_OTHER, env.cp, "CPB02", GiveUpTrade("CPA01", t, 1, "CPB02"))
    gno = env.cp("CPA01", GiveUpTrade("CPA01", t, 2, "CPB02")).reply
    env.rejects(E.QUANTITY_EXCEEDS_HELD, env.cp, "CPA01", GiveUpTrade("CPA01", t, 2, "CPE05"))
    env.rejects(E.GIVE_UP_NOT_FOUND, env.cp, "CPB02", ConfirmGiveUp("CPB02", 999, (Allocation("HKCC-HOUSE", 2),)))
    env.rejects(E.GIVE_UP_NOT_FOUND, env.cp, "CPE05", RejectGiveUp("CPE05", gno))    # not addressed to it
    env.rejects(E.ALLOCATION_MISMATCH, env.cp, "CPB02", ConfirmGiveUp("CPB02", gno, (Allocation("HKCC-HOUSE", 1),)))
    env.rejects(E.ALLOCATION_MISMATCH, env.cp, "CPB02", ConfirmGiveUp("CPB02", gno, ()))
    env.rejects(E.TOO_MANY_ITEMS, env.cp, "CPB02",
                ConfirmGiveUp("CPB02", gno, tuple(Allocation("HKCC-HOUSE", 1) for _ in range(101))))
    env.rejects(E.UNKNOWN_ACCOUNT, env.cp, "CPB02", ConfirmGiveUp("CPB02", gno, (Allocation("NOPE", 2),)))
    env.rejects(E.WRONG_CLEARING_HOUSE, env.cp, "CPB02", ConfirmGiveUp("CPB02", gno, (Allocation("SEOCH-HOUSE", 2),)))
    env.rejects(E.QUANTITY_EXCEEDS_HELD, env.cp, "CPB02",      # closing what it does not hold, gross account
                ConfirmGiveUp("CPB02", gno, (Allocation("HKCC-OMNIBUS", 2, OpenClose.CLOSE),)))
    env.rejects(ACTING_FOR_OTHER, env.cp, "CPA01", ConfirmGiveUp("CPB02", gno, (Allocation("HKCC-HOUSE", 2),)))


def test_trades_of_earlier_days_cannot_be_given_up(env):
    b = env.deal("HSI DEC26", 25000, 3, "CPA01", "CPC03", "HKCC-HOUSE")
    env.eod()
    env.at(10)
    env.rejects(E.TRADE_NOT_ADJUSTABLE, env.cp, "CPA01", GiveUpTrade("CPA01", b.trade_nos[0], 1, "CPB02"))


# ---------------------------------------------------------------- rectify / transitory / open-close
def test_rectify_splits_a_trade_over_accounts(env):
    b = env.deal("HSI NOV26", 25000, 10, "CPB02", "CPC03", "HKCC-HOUSE")
    t = b.trade_nos[0]
    out = env.cp("CPB02", RectifyTrade("CPB02", t, (Allocation("HKCC-HOUSE", 4), Allocation("HKCC-CLIENT01", 3),
                                                    Allocation("HKCC-OMNIBUS", 2))))
    assert len(out.reply.deal_nos) == 2      # the item that stays in the account books nothing
    assert env.ls("CPB02", "HKCC-HOUSE", "HSI NOV26") == (5, 0)
    assert env.ls("CPB02", "HKCC-CLIENT01", "HSI NOV26") == (3, 0)
    assert env.ls("CPB02", "HKCC-OMNIBUS", "HSI NOV26") == (2, 0)
    assert all(e.kind is DealKind.RECTIFY for e in events_of(out, TradeEvent))
    orig = _trade(env, "CPB02", t)
    assert orig.moved == 5 and orig.available == 5 and orig.state is TradeState.PARTLY_ADJUSTED
    env.rejects(E.QUANTITY_EXCEEDS_HELD, env.cp, "CPB02", RectifyTrade("CPB02", t, (Allocation("HKCC-CLIENT01", 6),)))
    env.rejects(E.UNKNOWN_ACCOUNT, env.cp, "CPB02", RectifyTrade("CPB02", t, (Allocation("HKCC-MM", 1),)))
    env.rejects(E.TRADE_NOT_ADJUSTABLE, env.cp, "CPB02", RectifyTrade("CPB02", out.reply.trade_nos[0],
                                                                      (Allocation("HKCC-CLIENT01", 1),)))
    env.at(18, 45)
    env.rejects(E.AFTER_INPUT_CUTOFF, env.cp, "CPB02", RectifyTrade("CPB02", t, (Allocation("HKCC-CLIENT01", 1),)))


def test_transfer_from_transitory(env):
    b = env.deal("HSI NOV26", 25000, 6, "CPA01", "CPC03")        # both land in the daily accounts
    t = b.trade_nos[0]
    out = env.cp("CPA01", TransferFromTransitory("CPA01", t, "HKCC-CLIENT01", 4))
    assert [(e.account_id, e.side, e.kind) for e in events_of(out, TradeEvent)] == [
        ("HKCC-DAILY", Side.SELL, DealKind.TRANSITORY), ("HKCC-CLIENT01", Side.BUY, DealKind.TRANSITORY)]
    assert env.ls("CPA01", "HKCC-DAILY", "HSI NOV26") == (2, 0)
    assert env.ls("CPA01", "HKCC-CLIENT01", "HSI NOV26") == (4, 0)
    env.rejects(E.QUANTITY_EXCEEDS_HELD, env.cp, "CPA01", TransferFromTransitory("CPA01", t, "HKCC-HOUSE", 3))
    env.rejects(E.SAME_ACCOUNT, env.cp, "CPA01", TransferFromTransitory("CPA01", t, "HKCC-DAILY", 1))
    client_trade = out.reply.trade_nos[1]
    env.rejects(E.NOT_TRANSITORY_ACCOUNT, env.cp, "CPA01",
                TransferFromTransitory("CPA01", client_trade, "HKCC-HOUSE", 1))


def test_open_close_adjustment_in_gross_account(env):
    env.deal("HSI NOV26", 25000, 5, "CPA01", "CPC03", "HKCC-OMNIBUS")                 # long 5
    b = env.deal("HSI NOV26", 25100, 3, "CPC03", "CPA01", "", "HKCC-OMNIBUS")          # sell OPEN: short 3
    assert env.ls("CPA01", "HKCC-OMNIBUS", "HSI NOV26") == (5, 3)
    out = env.cp("CPA01", OpenCloseAdjustment("CPA01", b.trade_nos[1], 3, OpenClose.CLOSE))
    assert env.ls("CPA01", "HKCC-OMNIBUS", "HSI NOV26") == (2, 0)
    assert [(e.side, e.open_close) for e in events_of(out, TradeEvent)] == [(Side.BUY, OpenClose.CLOSE),
                                                                          (Side.SELL, OpenClose.CLOSE)]
    env.rejects(E.SAME_OPEN_CLOSE, env.cp, "CPA01", OpenCloseAdjustment("CPA01", out.reply.trade_nos[1], 1,
                                                                          OpenClose.CLOSE))


def test_close_out_long_against_short_in_omnibus(env):
    env.deal("HSI NOV26", 25000, 5, "CPA01", "CPC03", "HKCC-OMNIBUS")
    env.deal("HSI NOV26", 25100, 3, "CPC03", "CPA01", "", "HKCC-OMNIBUS")
    out = env.cp("CPA01", CloseOut("CPA01", "HKCC-OMNIBUS", env.key("HSI NOV26"), 2))
    assert env.ls("CPA01", "HKCC-OMNIBUS", "HSI NOV26") == (3, 1)
    assert {e.kind for e in events_of(out, TradeEvent)} == {DealKind.CLOSE_OUT}
    env.rejects(E.QUANTITY_EXCEEDS_HELD, env.cp, "CPA01", CloseOut("CPA01", "HKCC-OMNIBUS", env.key("HSI NOV26"), 2))
    env.rejects(E.NOT_GROSS_ACCOUNT, env.cp, "CPA01", CloseOut("CPA01", "HKCC-HOUSE", env.key("HSI NOV26"), 1))
    env.rejects(E.NO_POSITION, env.cp, "CPA01", CloseOut("CPA01", "HKCC-OMNIBUS", env.key("HSI DEC26"), 1))
    env.rejects(E.ACCOUNT_NOT_OWN, env.cp, "CPB02", CloseOut("CPA01", "HKCC-OMNIBUS", env.key("HSI NOV26"), 1))


def test_net_account_nets_and_position_transfer(env):
    env.deal("HSI NOV26", 25000, 5, "CPA01", "CPC03", "HKCC-HOUSE")
    env.deal("HSI NOV26", 25100, 3, "CPC03", "CPA01", "", "HKCC-HOUSE")
    assert env.ls("CPA01", "HKCC-HOUSE", "HSI NOV26") == (2, 0)      # net account: 5 - 3
    out = env.cp("CPA01", TransferPosition("CPA01", env.key("HSI NOV26"), "HKCC-HOUSE", "HKCC-OMNIBUS", 2, 0))
    assert env.ls("CPA01", "HKCC-HOUSE", "HSI NOV26") == (0, 0)
    assert env.ls("CPA01", "HKCC-OMNIBUS", "HSI NOV26") == (2, 0)
    assert {e.price for e in events_of(out, TradeEvent)} == {25100}     # last trade price of the day
    assert {e.kind for e in events_of(out, TradeEvent)} == {DealKind.POSITION_TRANSFER}
    k = env.key("HSI NOV26")
    env.rejects(E.QUANTITY_EXCEEDS_HELD, env.cp, "CPA01", TransferPosition("CPA01", k, "HKCC-OMNIBUS", "HKCC-HOUSE", 3))
    env.rejects(E.QUANTITY_EXCEEDS_HELD, env.cp, "CPA01",
                TransferPosition("CPA01", k, "HKCC-OMNIBUS", "HKCC-HOUSE", 0, 1))
    env.rejects(E.NO_POSITION, env.cp, "CPA01", TransferPosition("CPA01", k, "HKCC-HOUSE", "HKCC-OMNIBUS", 1))
    env.rejects(E.SAME_ACCOUNT, env.cp, "CPA01", TransferPosition("CPA01", k, "HKCC-OMNIBUS", "HKCC-OMNIBUS", 1))
    env.rejects(E.INVALID_QUANTITY, env.cp, "CPA01", TransferPosition("CPA01", k, "HKCC-OMNIBUS", "HKCC-HOUSE"))
    env.rejects(E.INVALID_PRICE, env.cp, "CPA01",
                TransferPosition("CPA01", k, "HKCC-OMNIBUS", "HKCC-HOUSE", 1, 0, -5))
    env.rejects(E.ACCOUNT_NOT_OWN, env.cp, "CPC03", TransferPosition("CPA01", k, "HKCC-OMNIBUS", "HKCC-HOUSE", 1))
    out = env.cp("CPA01", TransferPosition("CPA01", k, "HKCC-OMNIBUS", "HKCC-CLIENT01", 1, 0, 24000))
    assert {e.price for e in events_of(out, TradeEvent)} == {24000}
