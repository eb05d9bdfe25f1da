"""User administration over the wire (UC500-UC502, UQ500): a participant's Administrator manages the
participant's own users. The rules: gateway/admin.py and docs/guides/console.md."""
from __future__ import annotations

from datetime import timedelta

from gateway import admin as A
from gateway.auth import User, hash_password, password_policy_error
from gateway.clearing.core import BusinessDateQuery
from gateway.clearing.errors import INVALID_VALUE, ClearingError
from gateway.handlers import OffLoop, RequestContext, handler
from gateway.handlers.system import ymd
from protocol.messages import admin as m
from protocol.messages.session import Ack


def _administrator(ctx: RequestContext) -> User:
    me = ctx.services.user(ctx.user)
    if me is None or A.profile_of(me) is not m.UserProfile.ADMINISTRATOR:
        raise ClearingError(A.ADMINISTRATOR_ONLY)
    return me


def _managed(ctx: RequestContext, admin: User, user_id: str) -> User:
    """A user of the Administrator's participant other than the Administrator (another
    participant's user gets the same answer as an unknown one)."""
    u = ctx.services.user(user_id)
    if u is None or u.role != "participant" or u.participant != admin.participant:
        raise ClearingError(A.NO_SUCH_USER, user_id, field="user")
    if u.user == admin.user:
        raise ClearingError(INVALID_VALUE, "an Administrator does not manage itself here", field="user")
    return u


def _functions(bits: int, profile: m.UserProfile) -> int | None:
    allowed = A.PROFILE_FUNCTIONS[profile]
    if bits == 0:
        return None
    if bits & ~int(allowed):
        raise ClearingError(A.FUNCTIONS_NOT_IN_PROFILE, f"{bits:#x} not within {int(allowed):#x}", field="functions")
    return bits


def _policy(password: str, field: str) -> None:
    err = password_policy_error("", password)
    if err is not None:
        raise ClearingError(A.PASSWORD_POLICY, err, field=field)


def _today(ctx: RequestContext):
    return ctx.query(BusinessDateQuery()).business_date


def _must_change(u: User, today) -> None:
    """The user's password counts as expired: the next login is restricted to UC1."""
    u.password_changed = today - timedelta(days=u.password_lifetime_days)


@handler(m.CreateUserRequest)
def create_user(msg, ctx: RequestContext):
    admin = _administrator(ctx)
    if not A.USER_ID.match(msg.user):
        raise ClearingError(A.BAD_USER_ID, msg.user, field="user")
    if ctx.services.user(msg.user) is not None:
        raise ClearingError(A.USER_EXISTS, msg.user, field="user")
    if msg.profile is not m.UserProfile.FULL:
        raise ClearingError(INVALID_VALUE, "an Administrator creates FULL users", field="profile")
    functions = _functions(msg.functions, m.UserProfile.FULL)
    _policy(msg.password, "password")

    def then(password_hash: str) -> Ack:   # on the event loop, once the slow hash is made
        if ctx.services.user(msg.user) is not None:   # created by a request answered meanwhile
            raise ClearingError(A.USER_EXISTS, msg.user, field="user")
        u = User(user=msg.user, password_hash=password_hash, role="participant",
                 participant=admin.participant, user_code=A.new_user_code(admin.participant, msg.user),
                 functions=functions)
        _must_change(u, _today(ctx))
        ctx.services.add_user(u)   # journaled first
        return Ack(text=f"user {u.user} created")
    return OffLoop(hash_password, (msg.password,), then)


@handler(m.ResetPasswordRequest)
def reset_password(msg, ctx: RequestContext):
    admin = _administrator(ctx)
    _managed(ctx, admin, msg.user)
    _policy(msg.new_password, "new_password")

    def then(password_hash: str) -> Ack:   # on the event loop, once the slow hash is made
        u = _managed(ctx, admin, msg.user)
        today = _today(ctx)
        ctx.services.change_password(u.user, password_hash,
                                     today - timedelta(days=u.password_lifetime_days))  # journaled; must change at login
        ctx.services.unlock(u.user)
        return Ack(text=f"password of {u.user} reset")
    return OffLoop(hash_password, (msg.new_password,), then)


@handler(m.SetUserFunctionsRequest)
def set_user_functions(msg, ctx: RequestContext):
    admin = _administrator(ctx)
    u = _managed(ctx, admin, msg.user)
    ctx.services.set_user_functions(u.user, _functions(msg.functions, A.profile_of(u)))
    return Ack(reference=int(A.functions_of(u)), text=f"functions of {u.user} set")


def _item(u: User, ctx: RequestContext) -> m.UserItem:
    expiry = u.password_expiry()
    return m.UserItem(user=u.user, participant=u.participant, profile=A.profile_of(u), functions=int(A.functions_of(u)),
                      password_expiry_date=ymd(expiry), locked=ctx.services.is_locked(u.user),
                      must_change_password=expiry <= _today(ctx))


@handler(m.UsersQuery)
def users(msg, ctx: RequestContext):
    me = ctx.services.user(ctx.user)
    if ctx.operator:
        visible = ctx.services.all_users()
    elif A.profile_of(me) is m.UserProfile.ADMINISTRATOR:
        visible = [u for u in ctx.services.all_users() if u.role == "participant" and u.participant == me.participant]
    else:
        visible = [me]
    if msg.user:
        visible = [u for u in visible if u.user == msg.user]
    return m.UsersAnswer(items=[_item(u, ctx) for u in sorted(visible, key=lambda u: u.user)])
