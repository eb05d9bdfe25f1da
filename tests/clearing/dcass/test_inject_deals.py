"""InjectDeals: many exchange matches in one operator command (a trade feed), all or nothing,
booked as by InjectDeal one by one, positions and margin reported once with their final state."""
from __future__ import annotations

import random
from datetime import datetime

import pytest

from gateway.clearing.core import canonical_json
from gateway.clearing.dcass import (InjectDeal, InjectDeals, MarginChanged, MarginQuery, OpenClose, PositionChanged,
                                    TradeEvent)
from gateway.clearing.dcass import errors as E
from gateway.clearing.errors import INVALID_VALUE, OPERATOR_ONLY
from gateway.journal.codec import dumps, from_plain, registry, to_plain

from .conftest import Env, events_of

HKCC = ["CPA01", "CPB02", "CPC03", "CPE05"]
ACCOUNTS = ["", "HKCC-HOUSE", "HKCC-OMNIBUS", "HKCC-CLIENT01"]
SERIES = {"HSI NOV26": 25000, "HSI DEC26": 25100, "HSI NOV26 25000 C": 300, "HSI DEC26 24000 P": 150,
          "HHI NOV26": 9000, "CUS DEC26": 72000, "GDU DEC26": 23000}


def _feed(env: Env, n: int, seed: int) -> list[InjectDeal]:
    rnd = random.Random(seed)
    when = datetime.combine(env.core.business_date, datetime.min.time()).replace(hour=11)
    out = []
    for i in range(n):
        name = rnd.choice(sorted(SERIES))
        buyer, seller = rnd.sample(HKCC, 2)
        out.append(InjectDeal(env.key(name), SERIES[name] + rnd.randint(-5, 5), rnd.randint(1, 5), buyer, seller,
                              rnd.choice(ACCOUNTS), rnd.choice(ACCOUNTS), rnd.choice(list(OpenClose)),
                              rnd.choice(list(OpenClose)), trade_time=when.replace(second=i % 60, minute=i // 60)))
    return out


def _state(env: Env) -> dict:
    """The module snapshot, margins without the zero records (see test_zero_records below)."""
    snap = env.d.snapshot()
    snap["margins"] = {k: {c: v for c, v in m.items() if v} for k, m in snap["margins"].items()}
    return snap


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_batch_leaves_the_same_state_as_one_by_one(env, seed):
    one = Env()
    one.at(10)
    # some state before: positions and margins the feed then moves
    for e in (env, one):
        e.deal("HSI NOV26", 25000, 3, "CPA01", "CPB02", "HKCC-HOUSE", "HKCC-HOUSE")
        e.deal("CUS DEC26", 72000, 2, "CPC03", "CPA01", "", "HKCC-OMNIBUS")
    feed = _feed(env, 120, seed)
    singles = []
    for d in feed:
        singles.append(one.op(d).reply)
        for p in (d.buyer, d.seller):   # margin_rows remembers its layout: still right as rows come
            assert one.d.margin_rows(p) == [(m.clearing_house, m.account_id, m.account_type.name, m.currency,
                                             m.requirement) for m in one.d.margin_requirements(p)]
    out = env.op(InjectDeals(tuple(feed)))
    assert out.reply.deal_nos == tuple(b.deal_nos[0] for b in singles)
    assert out.reply.trade_nos == tuple(n for b in singles for n in b.trade_nos)
    assert _state(env) == _state(one)
    assert canonical_json(_state(env)) == canonical_json(_state(one))
    for p in HKCC:
        assert [m for m in env.q(MarginQuery(p)) if m.requirement] == \
            [m for m in one.q(MarginQuery(p)) if m.requirement]
        for e in (env, one):   # CCMS's plain rows say what the records say
            assert e.d.margin_rows(p) == [(m.clearing_house, m.account_id, m.account_type.name, m.currency,
                                           m.requirement) for m in e.d.margin_requirements(p)]
    # and they go on the same way
    nxt = InjectDeal(env.key("HSI DEC26"), 25100, 4, "CPE05", "CPB02", trade_time=datetime(2026, 11, 2, 12))
    assert env.op(nxt).reply == one.op(nxt).reply
    assert _state(env) == _state(one)


def test_same_trade_events_as_one_by_one(env):
    one = Env()
    one.at(10)
    feed = _feed(env, 30, 7)
    single_trades = [e for d in feed for e in events_of(one.op(d), TradeEvent)]
    assert events_of(env.op(InjectDeals(tuple(feed))), TradeEvent) == single_trades


def test_events_are_coalesced(env):
    k = env.key("HSI NOV26")
    deals = tuple(InjectDeal(k, 25000 + i, 1 + i, "CPA01", "CPB02", "HKCC-HOUSE", "HKCC-HOUSE") for i in range(3))
    out = env.op(InjectDeals(deals))
    trades = events_of(out, TradeEvent)
    assert len(trades) == 6
    assert [t.trade_no for t in trades] == list(out.reply.trade_nos) == [1, 2, 3, 4, 5, 6]
    assert out.reply.deal_nos == (1, 2, 3)
    assert [t.sequence for t in trades if t.owner == "CPA01"] == [1, 2, 3]
    positions = events_of(out, PositionChanged)
    assert [(p.owner, p.long, p.short) for p in positions] == [("CPA01", 6, 0), ("CPB02", 0, 6)]
    margins = events_of(out, MarginChanged)
    assert 1 <= len(margins) <= 2
    assert {m.currency for m in margins} == {"HKD"}
    for m in margins:
        assert [m] == [x for x in env.q(MarginQuery(m.owner, m.account_id)) if x.currency == m.currency]
    assert env.d.last_price[k] == 25002
    # the events follow the batch's order: trades, then positions, then margin
    kinds = [type(e) for e in out.events if isinstance(e, (TradeEvent, PositionChanged, MarginChanged))]
    assert kinds == [TradeEvent] * 6 + [PositionChanged] * 2 + [MarginChanged] * len(margins)


def _good(env: Env, i: int = 0) -> InjectDeal:
    return InjectDeal(env.key("HSI NOV26"), 25000, 1 + i, "CPA01", "CPB02")


@pytest.mark.parametrize("at", ["first", "last"])
def test_all_or_nothing(env, at):
    env.deal("HSI NOV26", 25000, 1, "CPA01", "CPB02")      # deal 1, trades 1-2
    good = [_good(env, i) for i in range(4)]
    cases = [
        (E.INVALID_PRICE, "price", lambda d: InjectDeal(d.series_key, 0, 1, "CPA01", "CPB02")),
        (E.INVALID_QUANTITY, "quantity", lambda d: InjectDeal(d.series_key, 25000, 0, "CPA01", "CPB02")),
        (E.UNKNOWN_SERIES, "series_key", lambda d: InjectDeal(b"\x01" * 12, 25000, 1, "CPA01", "CPB02")),
        (E.NOT_CLEARING_MEMBER, "seller", lambda d: InjectDeal(d.series_key, 25000, 1, "CPA01", "CPD04")),
        (E.UNKNOWN_ACCOUNT, "buyer_account", lambda d: InjectDeal(d.series_key, 25000, 1, "CPA01", "CPB02", "NOPE")),
        (E.WRONG_CLEARING_HOUSE, "seller_account",
         lambda d: InjectDeal(d.series_key, 25000, 1, "CPA01", "CPB02", "", "SEOCH-HOUSE")),
        (INVALID_VALUE, "buyer_open_close", lambda d: InjectDeal(d.series_key, 25000, 1, "CPA01", "CPB02", "", "", 9)),
    ]
    for code, field, bad in cases:
        deals = list(good)
        i = 0 if at == "first" else len(deals) - 1
        deals[i] = bad(deals[i])
        err = env.rejects(code, env.op, InjectDeals(tuple(deals)))
        assert err.field == f"deals[{i}].{field}"
    i = 0 if at == "first" else 3
    deals = list(good)
    deals[i] = "not a deal"
    assert env.rejects(INVALID_VALUE, env.op, InjectDeals(tuple(deals))).field == f"deals[{i}]"
    # nothing was consumed: the next numbers follow deal 1
    out = env.op(InjectDeals(tuple(good)))
    assert out.reply.deal_nos == (2, 3, 4, 5)
    assert out.reply.trade_nos == tuple(range(3, 11))


def test_size_limits(env):
    limit = env.d.ref.params.max_deals_per_injection
    assert limit == 500
    deals = [_good(env, i % 3) for i in range(limit)]
    assert env.rejects(E.INVALID_DEAL_COUNT, env.op, InjectDeals(())).field == "deals"
    assert env.rejects(E.INVALID_DEAL_COUNT, env.op, InjectDeals(tuple(deals + [deals[0]]))).field == "deals"
    out = env.op(InjectDeals(tuple(deals)))
    assert len(out.reply.deal_nos) == limit and len(out.reply.trade_nos) == 2 * limit
    assert len(events_of(out, TradeEvent)) == 2 * limit
    assert len(events_of(out, PositionChanged)) == 2
    assert env.ls("CPA01", "HKCC-DAILY", "HSI NOV26") == (sum(d.quantity for d in deals), 0)


def test_operator_only(env):
    env.rejects(OPERATOR_ONLY, env.cp, "CPA01", InjectDeals((_good(env),)))


def test_zero_records(env):
    """One by one, a requirement that rose and fell back to zero leaves a zero record (what the
    last MarginChanged said); in a batch whose account ends flat nothing was announced, so there
    is none. The requirements themselves are the same."""
    k = env.key("HSI NOV26")
    when = datetime(2026, 11, 2, 10, 30)
    flat = (InjectDeal(k, 25000, 2, "CPA01", "CPB02", "HKCC-HOUSE", "HKCC-HOUSE", trade_time=when),
            InjectDeal(k, 25000, 2, "CPB02", "CPA01", "HKCC-HOUSE", "HKCC-HOUSE", trade_time=when))
    one = Env()
    one.at(10)
    for d in flat:
        one.op(d)
    out = env.op(InjectDeals(flat))
    assert not events_of(out, MarginChanged)
    assert [m.requirement for m in one.q(MarginQuery("CPA01", "HKCC-HOUSE"))] == [0]
    assert env.q(MarginQuery("CPA01", "HKCC-HOUSE")) == []
    assert _state(env) == _state(one)


def test_journal_codec_round_trip():
    cmd = InjectDeals((InjectDeal(b"\x01\x01\x03\x00\x27\x11\x34\xa7\x00\x00\x00\x00", 25000, 2, "CPA01", "CPB02",
                                  "HKCC-HOUSE", "", OpenClose.CLOSE, OpenClose.OPEN, datetime(2026, 11, 2, 10, 0, 1)),
                       InjectDeal(b"\x01" * 12, 1, 1, "CPC03", "CPE05")))
    reg = registry()
    plain = to_plain(cmd, reg)
    back = from_plain(plain, reg)
    assert type(back) is InjectDeals and back == cmd
    assert all(type(d) is InjectDeal for d in back.deals) and isinstance(back.deals, tuple)
    assert dumps(to_plain(back, reg)) == dumps(plain)
