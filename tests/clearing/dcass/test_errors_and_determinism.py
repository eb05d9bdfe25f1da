import re
from datetime import datetime
from pathlib import Path

from gateway.clearing.core import ClearingCore, Context, EndOfDay
from gateway.refdata import calendar, dcass_factory
from gateway.clearing.dcass import (Allocation, ConfirmGiveUp, DenyExercise, GiveUpTrade, InjectDeal,
                                    OpenAccount, AccountType, PositionsQuery, RectifyTrade, RequestExercise,
                                    SetSettlementPrice, SetUnderlyingPrice, TransferFromTransitory,
                                    TransferPosition, CloseOut)
from gateway.clearing.dcass import errors as E
from gateway.clearing.errors import INVALID_VALUE, OPERATOR_ONLY, REGISTRY

from .conftest import START


def test_codes_are_in_the_dcass_band_and_registered():
    for ec in E.ALL:
        assert -700999 <= ec.number <= -700000 and REGISTRY[ec.number] is ec and ec.module == "dcass"
    assert len({ec.number for ec in E.ALL}) == len(E.ALL)


def test_every_dcass_code_is_exercised_by_a_test():
    text = "".join(p.read_text() for p in Path(__file__).parent.glob("test_*.py"))
    used = set(re.findall(r"\bE\.([A-Z_]+)\b", text))
    assert {ec.name for ec in E.ALL} - used == set()


def test_price_rejections(env):
    k = env.key("HSI NOV26")
    env.rejects(E.INVALID_PRICE, env.op, SetSettlementPrice(k, 0))
    env.rejects(E.INVALID_PRICE, env.op, SetSettlementPrice(k, -1))
    env.rejects(E.UNKNOWN_SERIES, env.op, SetSettlementPrice(b"\x01" * 12, 100))
    env.rejects(OPERATOR_ONLY, env.cp, "CPA01", SetSettlementPrice(k, 100))
    env.rejects(E.UNKNOWN_UNDERLYING, env.op, SetUnderlyingPrice("9999", 100))
    env.rejects(E.INVALID_PRICE, env.op, SetUnderlyingPrice("0700", 0))
    env.op(SetSettlementPrice(env.key("TCH NOV26 520.00 C"), 0))     # an option may settle at zero


def test_invalid_enum_values_are_rejected(env):
    env.rejects(INVALID_VALUE, env.cp, "CPB02", OpenAccount("CPB02", "X1", 42, "HKCC"))
    b = env.deal("HSI NOV26", 25000, 2, "CPA01", "CPC03")
    env.rejects(INVALID_VALUE, env.cp, "CPA01", TransferFromTransitory("CPA01", b.trade_nos[0], "HKCC-CLIENT01", 1, 7))


SCRIPT_TIMES = [datetime(2026, 11, 2, 10, 0, s) for s in range(60)]


def _script(core: ClearingCore) -> list:
    d = core.module("dcass")
    k = lambda n: d.ref.by_name[n].key  # noqa: E731
    op = lambda i: Context(SCRIPT_TIMES[i], None, "op", True)  # noqa: E731
    cp = lambda i, p: Context(SCRIPT_TIMES[i], p, p)  # noqa: E731
    out = []
    run = lambda cmd, ctx: out.append(core.execute(cmd, ctx).events)  # noqa: E731
    run(InjectDeal(k("HSI NOV26"), 25000, 10, "CPA01", "CPC03"), op(1))
    run(InjectDeal(k("TCH DEC26 480.00 C"), 1500, 8, "CPA01", "CPD04", "SEOCH-HOUSE", "SEOCH-HOUSE"), op(2))
    run(InjectDeal(k("TCH DEC26 480.00 C"), 1510, 8, "CPB02", "CPF06", "SEOCH-HOUSE", "SEOCH-OMNIBUS"), op(3))
    run(TransferFromTransitory("CPA01", 1, "HKCC-OMNIBUS", 6), cp(4, "CPA01"))
    run(GiveUpTrade("CPA01", 1, 3, "CPB02"), cp(5, "CPA01"))
    run(ConfirmGiveUp("CPB02", 1, (Allocation("HKCC-HOUSE", 2), Allocation("HKCC-CLIENT01", 1))), cp(6, "CPB02"))
    run(RectifyTrade("CPC03", 2, (Allocation("HKCC-HOUSE", 4),)), cp(7, "CPC03"))
    run(RequestExercise("CPA01", "SEOCH-HOUSE", k("TCH DEC26 480.00 C"), 5), cp(8, "CPA01"))
    run(DenyExercise("CPB02", "SEOCH-HOUSE", k("TCH DEC26 480.00 C"), 3), cp(9, "CPB02"))
    run(RequestExercise("CPB02", "SEOCH-HOUSE", k("TCH DEC26 480.00 C"), 2), cp(10, "CPB02"))
    run(SetSettlementPrice(k("HSI NOV26"), 25150), op(11))
    run(SetUnderlyingPrice("0700", 49500), op(12))
    run(EndOfDay(), op(13))
    return out


def test_same_commands_same_state_hash_and_events():
    a = ClearingCore(START, calendar(), [dcass_factory()])
    b = ClearingCore(START, calendar(), [dcass_factory()])
    ea, eb = _script(a), _script(b)
    assert a.state_hash() == b.state_hash()
    assert [[repr(e) for e in evs] for evs in ea] == [[repr(e) for e in evs] for evs in eb]
    c = ClearingCore(START, calendar(), [dcass_factory()])
    c.module("dcass").rng.seed(1)          # another seed: another (or at least a differently hashed) state
    _script(c)
    assert c.state_hash() != a.state_hash()
    pos = a.query(PositionsQuery("CPA01"), Context(START, "CPA01"))
    assert {(p.account_id, p.series_name, p.long) for p in pos} >= {("HKCC-OMNIBUS", "HSI NOV26", 6)}


def test_nothing_changes_on_rejection_midway_through_a_multi_item_command(env):
    """The second allocation fails after the first would have been valid: no trade, no position."""
    env.deal("HSI NOV26", 25000, 4, "CPA01", "CPC03", "HKCC-HOUSE")
    gno = env.cp("CPA01", GiveUpTrade("CPA01", 1, 4, "CPB02")).reply
    env.rejects(E.QUANTITY_EXCEEDS_HELD, env.cp, "CPB02", ConfirmGiveUp(
        "CPB02", gno, (Allocation("HKCC-HOUSE", 2), Allocation("HKCC-OMNIBUS", 2, 2))))
    env.rejects(E.NO_POSITION, env.cp, "CPC03", CloseOut("CPC03", "HKCC-DAILY", env.key("HSI DEC26"), 1))
    env.rejects(E.ACCOUNT_NOT_OWN, env.cp, "CPC03",
                TransferPosition("CPA01", env.key("HSI NOV26"), "HKCC-HOUSE", "HKCC-CLIENT01", 1))
    env.cp("CPB02", OpenAccount("CPB02", "HKCC-C2", AccountType.OMNIBUS_CLIENT, "HKCC"))
