"""Participant isolation, table-driven over every request message type of the registry.

For each request type (``protocol.registry.all_specs()``; new messages are picked up as they land):

- unauthenticated: sent as the first frame of a connection, it is refused (NOT_LOGGED_IN) and the
  connection closed;
- operator-only types: refused to participants and clearing members (OPERATOR_ONLY), nothing
  changes; the operator is not refused;
- types that name a participant or clearing member (``participant`` / ``member`` field): another
  participant (or a user of the other role) naming the owner is refused and nothing changes; for
  queries the refusal is the "not yours" one (ACTING_FOR_OTHER / NOT_AUTHORISED / ACCOUNT_NOT_OWN /
  CCMS_ACCOUNT_NOT_CALLERS; transactions with blank sample fields may fail validation first); the
  owner naming itself is never refused on those grounds;
- types that name an object (trade, give-up, exercise, OTC trade or payment instruction):
  OBJECT_CASES, where another participant naming the owner's object is refused, nothing changes,
  and the owner (or the counterparty the object is addressed to) succeeds;
- types that act only on the caller's own accounts (the participant comes from the session, so no
  one else's account can be named): ACCOUNT_SCOPED, checked to leave every other participant's
  state and streams untouched;
- public reference data: PUBLIC.

A last check: every participant and clearing member subscribed to all its streams receives only
its own dedicated broadcasts, byte for byte those of its own stream instances; recovery queries
return only its own. ``test_every_request_type_is_classified`` fails when a new request type is in
none of the tables: add it where it belongs.
"""
from __future__ import annotations

import asyncio

import pytest

from clients.errors import RequestRejected
from gateway.clearing.errors import REGISTRY as CODES
from protocol.golden import sample
from protocol.kinds import Kind
from protocol.messages import session as ms
from protocol.registry import all_specs, encode_message
from protocol.status import SessionStatus as St
from protocol.streams import DEDICATED, Stream
from protocol.values import from_dict
from tests.raw import Raw

REQUEST_KINDS = (Kind.TRANSACTION, Kind.QUERY, Kind.SUBSCRIBE, Kind.LOGOUT)
REQUESTS = [s for s in all_specs() if s.kind in REQUEST_KINDS]
BY_CODE = {s.code: s for s in REQUESTS}
NOT_YOURS_NAMES = {"ACTING_FOR_OTHER", "NOT_AUTHORISED", "ACCOUNT_NOT_OWN", "CCMS_ACCOUNT_NOT_CALLERS"}


def not_yours(business: int) -> bool:
    e = CODES.get(business)
    return e is not None and e.name in NOT_YOURS_NAMES


def operator_only(business: int) -> bool:
    e = CODES.get(business)
    return e is not None and e.name == "OPERATOR_ONLY"


SESSION = {"UB1", "UB3", "UC1", "UO1", "UO2", "UQ12", "UQ20", "UQ21", "UQ30"}   # every session, own data only
PUBLIC = {"CQ105", "DQ101", "DQ102", "DQ103", "DQ104", "FQ210", "FQ211", "SQ307", "SQ308"}
ACCOUNT_SCOPED = {"CC101", "CC13", "CC14", "CD34", "CD54", "FC200", "FC201", "FC202", "FC203", "FC204", "FC205",
                  "FC206", "FC207", "FC208", "FC250", "FC251",
                  "UC500", "UC501", "UC502", "UQ500"}  # user administration: the caller's own participant's users
OBJECT_CASES = {"CD5", "CD28", "CD35", "CD101", "CC38", "CC40", "CC15", "SC300", "SC301", "FC500", "FC501"}
IDENTITY_FIELDS = ("participant", "member")

PARTICIPANTS = ("CPA01", "CPB02", "CPC03")
MEMBERS = ("OCM01", "OCM02")


def sample_msg(spec):
    return from_dict(spec.cls, sample(spec.record))


def identity_field(spec) -> str | None:
    names = {f.name for f in spec.record.fields if f.kind != "filler"}
    return next((n for n in IDENTITY_FIELDS if n in names), None)


async def attempt(client, msg):
    """("ok", answer) or ("reject", session_status, business_status)."""
    try:
        return ("ok", await client.request(msg))
    except RequestRejected as e:
        return ("reject", e.session_status, e.business_status)


def test_every_request_type_is_classified():
    missing = []
    for s in REQUESTS:
        if s.code in SESSION or s.operator or identity_field(s) or s.code in PUBLIC | ACCOUNT_SCOPED | OBJECT_CASES:
            continue
        missing.append(s.code)
    assert not missing, (f"request types not classified for isolation: {missing}; add each to OBJECT_CASES (with a "
                         f"case), ACCOUNT_SCOPED or PUBLIC in tests/reliability/test_isolation.py")


async def test_unauthenticated_every_request_type(gateway):
    failures = []
    for spec in REQUESTS:
        raw = await Raw.open(gateway.port)
        raw.send_msg(sample_msg(spec), 7, kind=int(spec.kind))
        try:
            f = await raw.next(2)
            if (f.kind, f.request_id, f.session_status) != (Kind.REJECT, 7, St.NOT_LOGGED_IN) or not await raw.closed():
                failures.append((spec.code, f.kind, f.session_status))
        except (ConnectionError, asyncio.TimeoutError) as e:
            failures.append((spec.code, repr(e)))
        raw.close()
    assert not failures
    assert not gateway.sessions


async def test_operator_types_refused_to_participants_and_members(gateway, connect):
    ops = [s for s in REQUESTS if s.operator]
    assert {"EC1", "EC2", "EC3", "EC4", "EC5"} <= {s.code for s in ops}
    clients = {u: await connect(u) for u in ("CPA01", "OCM01")}
    failures = []
    for spec in ops:
        for user, c in clients.items():
            h = gateway.core.state_hash()
            got = await attempt(c, sample_msg(spec))
            if got[:2] != ("reject", St.BUSINESS_REJECT) or not operator_only(got[2]) or gateway.core.state_hash() != h:
                failures.append((spec.code, user, got[:3] if got[0] == "reject" else "accepted"))
    assert not failures
    # the operator is not refused as an operator (sample values may still be refused by the business rules)
    op = await connect("OPER1")
    for spec in sorted(ops, key=lambda s: s.code == "EC5"):   # the reset last: it logs everyone out
        got = await attempt(op, sample_msg(spec))
        assert got[0] == "ok" or not operator_only(got[2]), spec.code


async def test_naming_another_participant_or_member_is_refused(gateway, connect):
    specs = [s for s in REQUESTS if not s.operator and s.code not in SESSION and identity_field(s)]
    assert specs, "DCASS, CCMS and OTC queries name a participant or member"
    users = {u: await connect(u) for u in PARTICIPANTS[:2] + MEMBERS}
    failures = []
    for spec in specs:
        field = identity_field(spec)
        owner, other = ("CPA01", "CPB02") if field == "participant" else ("OCM01", "OCM02")
        foreign = "OCM01" if field == "participant" else "CPA01"   # the other role naming an owner
        for who in (other, foreign):
            c = users[who] if who in users else await connect(who)
            h = gateway.core.state_hash()
            got = await attempt(c, spec.cls(**{field: owner}))
            if got[0] == "ok" or gateway.core.state_hash() != h or (got[1] == St.BUSINESS_REJECT and
                                                                    not not_yours(got[2]) and who == other
                                                                    and spec.kind == Kind.QUERY):
                failures.append((spec.code, who, "for", owner, got if got[0] == "reject" else "ANSWERED"))
        got = await attempt(users[owner], spec.cls(**{field: owner}))
        if got[0] == "reject" and not_yours(got[2]):
            failures.append((spec.code, owner, "refused its own", got))
    assert not failures


# ---------------------------------------------------------------- objects of another participant
async def _futures_series(c):
    from protocol.messages import dcass as d
    items = (await c.query(d.SeriesQuery())).items
    fut = next(s for s in items if s.class_id.endswith("-F") and not s.expired)
    opt = next((s for s in items if s.call_put and not s.expired and s.series.market == 2), None)
    return fut, opt


async def _my_trades(c, participant: str) -> list:
    from protocol.messages import dcass as d
    return [t for t in (await c.query(d.TradesQuery())).items]


async def test_objects_of_another_participant(gateway, connect):
    from protocol.messages import dcass as d
    op = await connect("OPER1")
    a, b, cc = await connect("CPA01"), await connect("CPB02"), await connect("CPC03")
    fut, opt = await _futures_series(a)
    booked = await op.transact(d.InjectDealRequest(series=fut.series, price=fut.strike_price or 25000, quantity=10,
                                                   buyer="CPA01", seller="CPB02"))
    assert len(booked.trades) == 2
    mine = {t.trade_number for t in await _my_trades(a, "CPA01")}
    theirs = {t.trade_number for t in await _my_trades(b, "CPB02")}
    assert mine and theirs and not mine & theirs, "each participant sees only its own trades"
    ta = min(mine)
    log = []

    async def refused_then_done(code, other, owner, msg, msg_owner=None):
        h = gateway.core.state_hash()
        got = await attempt(other, msg)
        assert got[0] == "reject" and got[1] == St.BUSINESS_REJECT, (code, "other", got)
        assert gateway.core.state_hash() == h, (code, "refused, yet the state changed")
        if owner is not None:
            ok = await attempt(owner, msg_owner or msg)
            assert ok[0] == "ok", (code, "owner", ok)
            log.append(code)
            return ok[1]

    # CD101 open/close adjustment, CD28 rectify, CD5 transfer from transitory: on CPA01's trade
    await refused_then_done("CD101", b, None, d.OpenCloseAdjustmentRequest(trade_number=ta, open_close=d.OpenClose.CLOSE,
                                                                         quantity=1))
    await refused_then_done("CD28", b, None, d.RectifyTradeRequest(trade_number=ta, items=[
        d.AllocationItem(account_id="HKCC-HOUSE", quantity=10)]))
    await refused_then_done("CD5", b, None, d.TransferFromTransitoryRequest(trade_number=ta, account_id="HKCC-HOUSE",
                                                                            quantity=2))
    # CD35 give up part of CPA01's trade to CPC03; CC38/CC40 only by the receiver
    gu = await refused_then_done("CD35", b, a, d.GiveUpRequest(trade_number=ta, quantity=3, to_participant="CPC03"))
    number = gu.reference if hasattr(gu, "reference") else None
    if not number:
        number = max(g.give_up_number for g in (await a.query(d.GiveUpsQuery())).items)
    await refused_then_done("CC40", b, None, d.RejectGiveUpRequest(give_up_number=number, reason="not mine"))
    await refused_then_done("CC38", b, cc, d.ConfirmGiveUpRequest(give_up_number=number, items=[
        d.AllocationItem(account_id="HKCC-HOUSE", quantity=3)]))
    # CC15 annul an exercise of CPA01 (stock options: long position then exercise)
    if opt is not None:
        await op.transact(d.InjectDealRequest(series=opt.series, price=100, quantity=5, buyer="CPA01", seller="CPB02",
                                              buyer_account="SEOCH-HOUSE", seller_account="SEOCH-HOUSE"))
        ex = await attempt(a, d.ExerciseRequest(series=opt.series, account_id="SEOCH-HOUSE", quantity=1))
        if ex[0] == "ok":
            number = max(e.exercise_number for e in (await a.query(d.ExercisesQuery())).items)
            await refused_then_done("CC15", b, a, d.AnnulExerciseRequest(exercise_number=number))
    print("\nobject cases with the owner succeeding:", log)
    assert {"CD35", "CC38"} <= set(log)


async def test_otc_objects_of_another_member(gateway, connect):
    from protocol.messages import otc as o
    op = await connect("OPER1")
    m1, m2 = await connect("OCM01"), await connect("OCM02")
    await op.transact(o.RegisterNdfRequest(trade_id="ISO-1", member="OCM01", account="H", direction=o.NdfDirection.BUY,
                                    base_currency="USD", quote_currency="CNH", settlement_currency="USD",
                                    notional=100_000_00, contract_rate=7_10000000, fixing_date="20261201",
                                    settlement_date="20261203"))
    assert [t.trade_id for t in (await m1.query(o.TradesQuery(member="OCM01"))).items] == ["ISO-1"]
    assert (await m2.query(o.TradesQuery(member="OCM02"))).items == [], "OCM02 does not see OCM01's trade"
    # SC301: OCM02, naming itself, points at OCM01's trade
    h = gateway.core.state_hash()
    got = await attempt(m2, o.SubmitPvpInstructionRequest(member="OCM02", trade_id="ISO-1",
                                                         exchange=o.CcsExchange.INITIAL))
    assert got[0] == "reject" and gateway.core.state_hash() == h, got
    # SC300: OCM02 confirms one of OCM01's payment instructions (when the demo state has one)
    items = (await m1.query(o.PaymentInstructionsQuery(member="OCM01"))).items
    for it in items[:1]:
        got = await attempt(m2, o.ConfirmPaymentRequest(member="OCM02", instruction_id=it.instruction_id))
        assert got[0] == "reject" and gateway.core.state_hash() == h, got


async def test_pending_withdrawals_of_another_participant(gateway, connect):
    """FC500 / FC501 name a withdrawal awaiting authorisation (maker-checker, CPC03): another
    participant is refused and nothing changes; a second user of the owner decides it."""
    from protocol.messages import authorisation as au
    from protocol.messages import collateral as col
    maker, checker, other = await connect("CPC03"), await connect("CPC03B"), await connect("CPB02")
    await maker.transact(col.DepositCashRequest(clearing_house="HKCC", account="HOUSE", currency="HKD", amount=100))
    pid = (await maker.transact(col.WithdrawCashRequest(clearing_house="HKCC", account="HOUSE", currency="HKD",
                                                        amount=10))).reference
    for msg in (au.AuthoriseWithdrawalRequest(pending_id=pid), au.RejectWithdrawalRequest(pending_id=pid, reason="x")):
        h = gateway.core.state_hash()
        got = await attempt(other, msg)
        assert got[:2] == ("reject", St.BUSINESS_REJECT) and gateway.core.state_hash() == h, got
    assert (await attempt(checker, au.AuthoriseWithdrawalRequest(pending_id=pid)))[0] == "ok"


# ---------------------------------------------------------------- dedicated broadcasts
async def test_dedicated_broadcasts_reach_only_their_owner(gateway, connect):
    from protocol.messages import dcass as d
    op = await connect("OPER1")
    users = {u: await connect(u) for u in PARTICIPANTS + MEMBERS}
    roles = {u: (Stream.GENERAL, Stream.TRADES, Stream.CLEARING, Stream.COLLATERAL) for u in PARTICIPANTS}
    roles.update({u: (Stream.GENERAL, Stream.SETTLEMENT) for u in MEMBERS})
    for u, c in users.items():
        st = await c.subscribe(*roles[u])
        assert all(s.status == St.OK for s in st)
    fut, _ = await _futures_series(users["CPA01"])
    for buyer, seller in (("CPA01", "CPB02"), ("CPB02", "CPC03"), ("CPC03", "CPA01")):
        await op.transact(d.InjectDealRequest(series=fut.series, price=25000, quantity=4, buyer=buyer, seller=seller))
    await attempt(users["CPA01"], d.GiveUpRequest(trade_number=min(t.trade_number for t in await _my_trades(
        users["CPA01"], "CPA01")), quantity=1, to_participant="CPB02"))
    await asyncio.sleep(0.2)
    leaked = []
    seen = {u: 0 for u in users}
    for u, c in users.items():
        while c.pending_broadcasts():
            b = c._queue.get_nowait()
            if b.stream not in DEDICATED:
                continue
            seen[u] += 1
            own = gateway.streams.logs.get((b.stream, u))
            mine = own is not None and b.sequence <= own.last and \
                own.entries[b.sequence - 1].frame[40:] == encode_message(b.message)
            if not mine:
                leaked.append((u, b.stream, b.sequence, b.code))
    assert not leaked
    assert seen["CPA01"] and seen["CPB02"] and seen["CPC03"], "every participant got its own trades"
    # a recovery query on a dedicated stream returns the caller's own instance only
    for u in ("CPB02", "CPC03"):
        _, items = await users[u].recover(Stream.TRADES, 1)
        own = gateway.streams.logs[(Stream.TRADES, u)]
        assert [encode_message(b.message) for b in items] == [e.frame[40:] for e in own.entries]


async def test_account_scoped_requests_leave_others_untouched(gateway, connect):
    """Account-scoped types act on the caller's own accounts: CPB02 sending them (with CPA01's
    account ids, which are the same names) changes nothing of CPA01's: no broadcast on CPA01's
    dedicated streams, same answers to CPA01's queries."""
    from protocol.messages import dcass as d
    op = await connect("OPER1")
    a, b = await connect("CPA01"), await connect("CPB02")
    fut, _ = await _futures_series(a)
    await op.transact(d.InjectDealRequest(series=fut.series, price=25000, quantity=6, buyer="CPA01", seller="CPB02",
                                          buyer_account="HKCC-HOUSE", seller_account="HKCC-HOUSE"))

    def own_streams():
        return {k: lg.last for k, lg in gateway.streams.logs.items() if k[1] == "CPA01"}

    async def views():
        return [await a.query(d.PositionsQuery()), await a.query(d.AccountsQuery()), await a.query(d.TradesQuery())]
    before, streams = await views(), own_streams()
    tried = []
    for code in sorted(ACCOUNT_SCOPED):
        spec = BY_CODE.get(code)
        if spec is None:
            continue
        msg = sample_msg(spec)
        for f in ("account_id", "from_account", "dcass_account", "account"):
            if hasattr(msg, f):
                setattr(msg, f, "HKCC-HOUSE")
        if hasattr(msg, "series"):
            msg.series = fut.series
        await attempt(b, msg)
        tried.append(code)
    assert await views() == before and own_streams() == streams
    assert tried
