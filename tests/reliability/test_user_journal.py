"""Users created (UC500) and narrowed (UC502) by an Administrator are journaled (``user`` records):
they survive a restart, whether recovery replays the whole journal or starts from a snapshot."""
from __future__ import annotations

import json
from datetime import datetime

import pytest

from clients import Client, RequestRejected
from clients.errors import LoginRejected
from gateway.handlers import RequestContext
from gateway.journal.format import Reader
from gateway.server import Gateway
from protocol.messages import admin as ad
from protocol.messages import collateral as m
from protocol.status import SessionStatus as St
from tests.conftest import settings

F = ad.UserFunction
DEPOSIT = m.DepositCashRequest(clearing_house="HKCC", account="HOUSE", currency="HKD", amount=1)


async def _client(gw: Gateway, user: str, password: str) -> Client:
    c = Client("127.0.0.1", gw.port, user, password, auto_reconnect=False)
    await c.connect()
    return c


async def _administer(gw: Gateway) -> None:
    admin = await _client(gw, "CPA01ADM", "pass-CPA01ADM")
    await admin.transact(ad.CreateUserRequest(user="NEWUSER", password="Secret-123", profile=ad.UserProfile.FULL,
                                              functions=int(F.ENQUIRY)))
    await admin.transact(ad.SetUserFunctionsRequest(user="CPA01B", functions=int(F.ENQUIRY)))
    await admin.close()


@pytest.mark.parametrize("snapshot_every", [0, 10000], ids=["full-replay", "snapshot"])
async def test_created_and_narrowed_users_survive_a_restart(tmp_path, snapshot_every):
    path = tmp_path / "j"
    gw = Gateway(settings(journal_path=str(path), snapshot_every=snapshot_every))
    await gw.start()
    try:
        await _administer(gw)
    finally:
        await gw.stop()   # with snapshots on, the final snapshot holds the users
    gw2 = Gateway(settings(journal_path=str(path), snapshot_every=snapshot_every))
    await gw2.start()
    try:
        if snapshot_every:
            assert gw2.journal.snapshot_seq > 0 and gw2.journal.since_snapshot == 0, "recovered from the snapshot"
        new = await _client(gw2, "NEWUSER", "Secret-123")
        assert new.login_status == St.PASSWORD_MUST_CHANGE   # as created: must change at first login
        await new.close()
        b = await _client(gw2, "CPA01B", "pass-CPA01B")
        with pytest.raises(RequestRejected) as e:
            await b.transact(DEPOSIT)
        assert e.value.business_status == -600500            # still narrowed to enquiries
        await b.close()
        admin = await _client(gw2, "CPA01ADM", "pass-CPA01ADM")
        items = {u.user: u for u in (await admin.query(ad.UsersQuery())).items}
        assert items["NEWUSER"].functions == int(F.ENQUIRY) and items["CPA01B"].functions == int(F.ENQUIRY)
        await admin.close()
    finally:
        await gw2.stop()
    with Reader(path) as r:
        users = [rec.payload["user"] for rec in r.records() if rec.kind == "user"]
    assert [u["user"] for u in users] == ["NEWUSER", "CPA01B"]
    assert users[0]["password_hash"].startswith("scrypt$") and "Secret-123" not in str(users)
    # the command-line tool reads and replays the records too
    from tests.reliability.proc import journal_tool
    replay = json.loads(journal_tool("replay", "--json", str(path)).stdout)
    assert replay["users"] == 2
    printed = journal_tool("print", str(path)).stdout
    assert "user NEWUSER of CPA01 profile full functions 0x1" in printed


async def test_a_password_changed_after_creation_wins_over_the_user_record(tmp_path):
    path = tmp_path / "j"
    gw = Gateway(settings(journal_path=str(path), snapshot_every=0))
    await gw.start()
    try:
        await _administer(gw)
        new = await _client(gw, "NEWUSER", "Secret-123")
        from protocol.messages.session import ChangePasswordRequest
        await new.transact(ChangePasswordRequest(old_password="Secret-123", new_password="Better-456"))
        await new.close()
        gw.journal.take_snapshot(background=False)
    finally:
        await gw.stop()
    for snapshot_every in (0, 10000):   # the same from the records and from the snapshot
        gw2 = Gateway(settings(journal_path=str(path), snapshot_every=snapshot_every))
        await gw2.start()
        try:
            c = await _client(gw2, "NEWUSER", "Better-456")
            assert c.login_status == St.OK
            await c.close()
            with pytest.raises(LoginRejected):
                await _client(gw2, "NEWUSER", "Secret-123")
        finally:
            await gw2.stop()


async def test_an_operator_reset_forgets_created_users(tmp_path):
    path = tmp_path / "j"
    gw = Gateway(settings(journal_path=str(path), snapshot_every=0))
    await gw.start()
    try:
        await _administer(gw)
        gw.reset(datetime(2026, 12, 1, 8), RequestContext(gw, "OPER1", None, True, "operator", gw.now()))
        assert gw.user("NEWUSER") is None and gw.journal.users == {}
    finally:
        await gw.stop()
    gw2 = Gateway(settings(journal_path=str(path), snapshot_every=0))
    try:
        assert gw2.user("NEWUSER") is None and gw2.user("CPA01B").functions is None
    finally:
        gw2.journal.close()
