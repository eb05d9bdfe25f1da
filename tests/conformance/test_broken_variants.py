"""Proof that the suite can fail: deliberately broken variants of our gateway, each with one
fault, and the cases that must catch it. Each test runs a selection that contains the catching
cases and cases that must still pass, and asserts the exact set of failures."""
from __future__ import annotations

from gateway import server as srv
from gateway.server import Gateway
from gateway.streams import StreamStore
from protocol.session import ServerSession, Violation
from protocol.status import SessionStatus as St
from tests.conformance.harness import explain, outcome, run_cases, serving



async def failures(gateway_cls=None, include=None, **settings) -> tuple[set[str], object]:
    async with serving(gateway_cls, **settings) as gw:
        run = await run_cases(gw.port, include=include, timeout=0.6)  # local answers take milliseconds
    got = outcome(run)
    assert not got["error"], explain(run)
    return got["fail"], run


# ------------------------------------------------------------------ a sequence number skipped
class _GappyStore(StreamStore):
    """Broadcast number 3 of every stream instance and date is numbered but never sent."""

    def publish(self, stream, owner, *payload_and_rest):
        lg = self.log(self.instance(stream, owner))
        if lg.last == 2:
            lg.append(b"", "", frozenset())
        return super().publish(stream, owner, *payload_and_rest)

    def columns(self, *a, **kw):
        (frames, codes, keys), first, last = super().columns(*a, **kw)
        sent = [i for i, code in enumerate(codes) if code]   # the skipped number was never sent
        return ([frames[i] for i in sent], [codes[i] for i in sent], [keys[i] for i in sent]), first, last


class SkipsASequenceNumber(Gateway):
    def __init__(self, settings):
        super().__init__(settings)
        self.streams = _GappyStore(self.streams.business_date)


async def test_a_skipped_sequence_number_is_caught():
    fail, run = await failures(SkipsASequenceNumber, ["session.3.3.login", "session.3.8.*", "session.3.9.*",
                                                     "session.3.10.*", "session.3.11.*"])
    assert fail == {
        "session.3.8.sequence-restarts-each-day",   # BI30 is number 4 after 1, 2
        "session.3.9.subscribe",                    # live 1, 2, 4
        "session.3.10.reconnect-resume",            # a gap across the reconnect
        "session.3.10.resume-across-roll",          # the previous date's tail has a gap
        "session.3.10.resume-at-login",             # replay from 3 starts at 4
        "session.3.11.recovery-range",              # 2, 4: number 3 missing
        "session.3.11.recovery-limit",              # a range of max_replay comes short
    }, explain(run)


# ------------------------------------------------------------------ a bad password accepted
async def test_accepting_a_bad_password_is_caught(monkeypatch):
    monkeypatch.setattr(srv, "verify_password", lambda password, stored: True)
    fail, run = await failures(None, ["session.3.3.*", "session.3.4.*"])
    # the wrong password is accepted, and so failed logins never add up to a lockout
    assert fail == {"session.3.3.bad-password", "session.3.3.lockout", "session.3.3.no-user-enumeration"}, explain(run)


# ------------------------------------------------------------------ wrong error codes
class UnknownUserTold(Gateway):
    """Tells an unknown user from a wrong password, as the gateway once did with -2002."""

    def _login_failed(self, conn, rid, user, status, count=True):
        if status == St.INVALID_CREDENTIALS and self.users.get(user) is None:
            status = -2002
        super()._login_failed(conn, rid, user, status, count)


async def test_telling_an_unknown_user_apart_is_caught():
    fail, run = await failures(UnknownUserTold, ["session.3.3.*"])
    assert fail == {"session.3.3.unknown-user", "session.3.3.no-user-enumeration"}, explain(run)
    r = next(r for r in run.results if r.case.id == "session.3.3.unknown-user")
    assert "expected -2001" in r.failure.message and "got -2002" in r.failure.message
    assert r.failure.hex  # the bytes of the offending frame


class DuplicateLoginWrongCode(Gateway):
    def _login_failed(self, conn, rid, user, status, count=True):
        if status == St.SESSION_IN_USE:
            status = St.ALREADY_LOGGED_IN
        super()._login_failed(conn, rid, user, status, count)


async def test_a_wrong_error_code_for_a_duplicate_login_is_caught():
    fail, run = await failures(DuplicateLoginWrongCode, ["session.3.3.login", "session.3.4.*"])
    assert fail == {"session.3.4.duplicate-login"}, explain(run)


# ------------------------------------------------------------------ a takeover without notice
async def test_a_forced_takeover_without_logout_notice_is_caught(monkeypatch):
    close_with = srv.Connection.close_with

    def silent(self, status, text, *a, **kw):
        close_with(self, None if status == St.FORCED_LOGOUT else status, text, *a, **kw)
    monkeypatch.setattr(srv.Connection, "close_with", silent)
    fail, run = await failures(None, ["session.3.4.*"])
    assert fail == {"session.3.4.forced-login"}, explain(run)


# ------------------------------------------------------------------ resume that replays nothing
class ResumeReplaysNothing(Gateway):
    def _replay(self, conn, stream, resume, last):
        return [], last + 1, St.OK


async def test_resume_without_replay_is_caught():
    fail, run = await failures(ResumeReplaysNothing, ["session.3.9.subscribe", "session.3.10.*", "session.3.11.*"])
    assert fail == {
        "session.3.10.reconnect-resume", "session.3.10.resume-at-login", "session.3.10.resume-across-roll",
        "session.3.10.replay-limit",
    }, explain(run)


# ------------------------------------------------------------------ hostile: other sessions hurt
async def test_dropping_every_session_on_a_framing_error_is_caught(monkeypatch):
    """A gateway that answers each hostile frame correctly but then drops every other session:
    only the witness session notices."""
    handle = srv.Connection._handle

    def handle_and_panic(self, events, now):
        handle(self, events, now)
        if any(isinstance(e, Violation) and e.fatal for e in events):
            for other in list(self.gw.connections):
                other.close_with(St.SERVER_SHUTDOWN, "panic")
    monkeypatch.setattr(srv.Connection, "_handle", handle_and_panic)
    fail, run = await failures(None, ["hostile.*"])
    assert fail == {
        "hostile.3.2.oversize-frame", "hostile.3.2.length-below-header", "hostile.3.2.bad-version",
        "hostile.3.2.garbage", "hostile.3.3.non-login-first-frame", "hostile.3.3.heartbeat-first",
        "hostile.3.6.throttle-burst",
    }, explain(run)
    for r in run.results:
        if r.status == "fail":
            assert r.failure.step == -1 and "another" in r.failure.message, r.failure.text()


async def test_a_throttle_that_is_announced_but_not_enforced_is_caught(monkeypatch):
    monkeypatch.setattr(ServerSession, "_throttle", lambda self, fr, now: None)
    fail, run = await failures(None, ["hostile.3.6.*", "hostile.3.2.merged-frames"])
    assert fail == {"hostile.3.6.throttle-burst"}, explain(run)


# ------------------------------------------------------------------ certification: DCASS faults
async def test_dedicated_streams_shared_between_participants_is_caught(monkeypatch):
    """Every participant's trades on one shared instance: others' trades leak and numbers run on."""
    monkeypatch.setattr(StreamStore, "instance", staticmethod(lambda stream, owner: (stream, "")))
    fail, run = await failures(None, ["certification.*", "collateral.3.8.*", "otc.3.8.*"])
    # every case where another participant's trade broadcast comes first: the leak is seen as
    # a BD6 of the wrong side, account or source; cases on one participant's clearing stream pass
    assert fail == {
        "certification.3.8.dedicated-streams",        # a sees b's trades
        "certification.3.8.sustained-load",           # each sees both sides: twice the broadcasts
        "certification.3.10.forced-disconnection",    # the counterparty's BUY among the missed trades
        "certification.5.trade-information",          # b takes a's BUY for its SELL
        "certification.5.give-up-confirmed",          # b takes a's exchange trade for its take-up
        "certification.5.give-up-rejected",           # a sees b's PENDING copy before the rejection
        "certification.5.transfer-from-transitory",   # the counterparty's trade comes first
        "certification.5.rectify-trade",              # the counterparty's trade comes first
        "collateral.3.8.dedicated-stream",            # b sees a's deposit
        "otc.3.8.dedicated-stream",                   # another member sees the trade registration
    }, explain(run)


class GiveUpNotToldToGiver(Gateway):
    """The giver is not told that its give-up was confirmed or rejected (BD29 only to the receiver)."""

    def publish(self, events):
        super().publish([e for e in events if not (type(e).__name__ == "GiveUpEvent" and e.owner == e.giver
                                                    and e.state.name != "PENDING")])


async def test_a_give_up_answer_not_told_to_the_giver_is_caught():
    fail, run = await failures(GiveUpNotToldToGiver, ["certification.5.*"])
    assert fail == {"certification.5.give-up-confirmed", "certification.5.give-up-rejected"}, explain(run)


class CollateralCurrencyAsGenericCode(Gateway):
    """An unknown currency answered with the generic INVALID_VALUE instead of CCMS's own code."""

    def _reject(self, conn, rid, code, status, text, *, business=0, field_offset=0, field=""):
        if business == -800001:
            business = -600004
        super()._reject(conn, rid, code, status, text, business=business, field_offset=field_offset, field=field)


async def test_a_generic_code_instead_of_the_collateral_code_is_caught():
    fail, run = await failures(CollateralCurrencyAsGenericCode, ["collateral.*"])
    assert fail == {"collateral.5.rejects"}, explain(run)
