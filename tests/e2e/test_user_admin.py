"""Users and roles over the socket: the Administrator manages its participant's users and cannot
enter instructions; narrowed functions are refused with -600500."""
from __future__ import annotations

import pytest

from clients import LoginRejected, RequestRejected
from protocol.messages import admin as ad
from protocol.messages import collateral as m
from protocol.messages import dcass as d
from protocol.messages.session import ChangePasswordRequest
from protocol.status import SessionStatus as St

F = ad.UserFunction


async def test_administrator_cannot_enter_instructions(gateway, connect):
    admin = await connect("CPA01ADM")
    with pytest.raises(RequestRejected) as e:
        await admin.transact(m.DepositCashRequest(clearing_house="HKCC", account="HOUSE", currency="HKD", amount=1))
    assert e.value.business_status == -600500
    with pytest.raises(RequestRejected) as e:
        await admin.transact(d.GiveUpRequest(trade_number=1, quantity=1, to_participant="CPB02"))
    assert e.value.business_status == -600500
    # enquiries are allowed
    await admin.query(m.CollateralAccountsQuery())
    users = (await admin.query(ad.UsersQuery())).items
    assert [u.user for u in users] == ["CPA01", "CPA01ADM", "CPA01B", "EXPIRED1"]
    assert {u.user: u.profile for u in users}["CPA01ADM"] == ad.UserProfile.ADMINISTRATOR


async def test_full_user_is_not_an_administrator(gateway, connect):
    a = await connect("CPA01")
    with pytest.raises(RequestRejected) as e:
        await a.transact(ad.CreateUserRequest(user="NEW1", password="Secret-123", profile=ad.UserProfile.FULL))
    assert e.value.business_status == -600500
    mine = (await a.query(ad.UsersQuery())).items
    assert [u.user for u in mine] == ["CPA01"]


async def test_create_narrow_reset(gateway, connect):
    admin = await connect("CPA01ADM")
    with pytest.raises(RequestRejected) as e:
        await admin.transact(ad.CreateUserRequest(user="CPA01", password="Secret-123", profile=ad.UserProfile.FULL))
    assert (e.value.business_status, e.value.field) == (-600501, "user")
    with pytest.raises(RequestRejected) as e:
        await admin.transact(ad.CreateUserRequest(user="NEWUSER", password="short", profile=ad.UserProfile.FULL))
    assert (e.value.business_status, e.value.field) == (-600506, "password")
    with pytest.raises(RequestRejected) as e:
        await admin.transact(ad.CreateUserRequest(user="NEWUSER", password="Secret-123", profile=ad.UserProfile.FULL,
                                                  functions=int(F.USER_ADMIN)))
    assert (e.value.business_status, e.value.field) == (-600502, "functions")
    await admin.transact(ad.CreateUserRequest(user="NEWUSER", password="Secret-123", profile=ad.UserProfile.FULL,
                                              functions=int(F.ENQUIRY)))
    # first login: the password must be changed first
    new = await connect("NEWUSER", "Secret-123")
    assert new.login_status == St.PASSWORD_MUST_CHANGE
    await new.transact(ChangePasswordRequest(old_password="Secret-123", new_password="Better-456"))
    with pytest.raises(RequestRejected) as e:
        await new.transact(m.DepositCashRequest(clearing_house="HKCC", account="HOUSE", currency="HKD", amount=1))
    assert e.value.business_status == -600500
    await new.query(m.CollateralAccountsQuery())
    # widen again, and the next request may
    ack = await admin.transact(ad.SetUserFunctionsRequest(user="NEWUSER", functions=0))
    assert ack.reference == int(F.ENQUIRY | F.POST_TRADE | F.COLLATERAL_INPUT | F.COLLATERAL_AUTHORISE)
    await new.transact(m.DepositCashRequest(clearing_house="HKCC", account="HOUSE", currency="HKD", amount=1))
    # another participant's user: not found; the Administrator itself: refused
    with pytest.raises(RequestRejected) as e:
        await admin.transact(ad.ResetPasswordRequest(user="CPB02", new_password="Secret-123"))
    assert (e.value.business_status, e.value.field) == (-600503, "user")
    await admin.transact(ad.ResetPasswordRequest(user="CPA01B", new_password="Temp-0001"))
    with pytest.raises(LoginRejected):
        await connect("CPA01B", auto_reconnect=False)
    b = await connect("CPA01B", "Temp-0001")
    assert b.login_status == St.PASSWORD_MUST_CHANGE


async def test_password_hashing_runs_off_the_event_loop(gateway, connect, monkeypatch):
    """UC500/UC501 hash with scrypt in a worker thread: while a hash is being made, the gateway
    still answers everyone (here: another session's query); the request is answered after."""
    import asyncio
    import threading

    from gateway.auth import hash_password
    from gateway.handlers import admin as admin_handlers
    started, release, threads = threading.Event(), threading.Event(), []

    def slow_hash(password: str) -> str:
        threads.append(threading.current_thread())
        started.set()
        assert release.wait(5), "the test never released the hash"
        return hash_password(password)

    monkeypatch.setattr(admin_handlers, "hash_password", slow_hash)
    admin = await connect("CPA01ADM")
    other = await connect("CPB02")
    create = asyncio.ensure_future(admin.transact(ad.CreateUserRequest(user="OFFLOOP1", password="Secret-123",
                                                                       profile=ad.UserProfile.FULL)))
    loop = asyncio.get_running_loop()
    assert await loop.run_in_executor(None, started.wait, 5)
    assert [u.user for u in (await other.query(ad.UsersQuery())).items] == ["CPB02"]   # answered meanwhile
    assert not create.done()
    reset = asyncio.ensure_future(admin.transact(ad.ResetPasswordRequest(user="CPA01B", new_password="Temp-0001")))
    release.set()
    assert (await create).text == "user OFFLOOP1 created"
    assert (await reset).text == "password of CPA01B reset"
    assert threads and all(t is not threading.main_thread() for t in threads)
    b = await connect("CPA01B", "Temp-0001")
    assert b.login_status == St.PASSWORD_MUST_CHANGE


async def test_two_creations_of_one_user_id_at_once_make_one_user(gateway, connect):
    """The id is checked again once the hash is made: of two creations in flight, one is refused."""
    import asyncio
    admin = await connect("CPA01ADM")
    req = ad.CreateUserRequest(user="TWICE1", password="Secret-123", profile=ad.UserProfile.FULL)
    got = await asyncio.gather(admin.transact(req), admin.transact(req), return_exceptions=True)
    errors = [g for g in got if isinstance(g, RequestRejected)]
    assert len(errors) == 1 and (errors[0].business_status, errors[0].field) == (-600501, "user")
    assert [u.user for u in (await admin.query(ad.UsersQuery(user="TWICE1"))).items] == ["TWICE1"]
