"""Users' profiles and functions, as the real front ends have them, and the checks that apply them.

Each participant has full-access users and one Administrator user (``profile = "administrator"`` in
the users file). A user may use the functions of its profile (:data:`PROFILE_FUNCTIONS`), narrowed
by its Administrator (UC502, ``functions`` in the users file). Every request needs the function its
message belongs to (:func:`function_of`); the gateway refuses the others with
:data:`FUNCTION_NOT_PERMITTED` before any handler runs, so the rule is the same for the binary API
and for the console. Session messages (login, logout, password change, subscriptions, recovery,
business date, status texts) need no function; operator messages are the operator's alone.
"""
from __future__ import annotations

import re

from gateway.auth import User
from gateway.clearing.errors import code
from protocol.messages.admin import PROFILE_FUNCTIONS, UserFunction as F, UserProfile, function_of

M = "admin"
FUNCTION_NOT_PERMITTED = code(-600500, "FUNCTION_NOT_PERMITTED", "The user may not use this function", M)
USER_EXISTS = code(-600501, "USER_EXISTS", "A user with this id already exists", M)
FUNCTIONS_NOT_IN_PROFILE = code(-600502, "FUNCTIONS_NOT_IN_PROFILE",
                                "Functions outside the user's profile cannot be granted", M)
NO_SUCH_USER = code(-600503, "NO_SUCH_USER", "No such user of this participant", M)
ADMINISTRATOR_ONLY = code(-600504, "ADMINISTRATOR_ONLY", "Only the participant's Administrator may do this", M)
BAD_USER_ID = code(-600505, "BAD_USER_ID", "A user id is 3-12 upper-case letters or digits", M)
PASSWORD_POLICY = code(-600506, "PASSWORD_POLICY", "The password does not meet the policy", M)

ADMINISTRATOR = "administrator"
USER_ID = re.compile(r"^[A-Z0-9]{3,12}$")


def profile_of(user: User) -> UserProfile:
    if user.role == "operator":
        return UserProfile.OPERATOR
    if user.role == "clearing_member":
        return UserProfile.MEMBER
    return UserProfile.ADMINISTRATOR if user.profile == ADMINISTRATOR else UserProfile.FULL


def functions_of(user: User):
    """The functions the user may use now: its profile's, narrowed by its Administrator."""
    allowed = PROFILE_FUNCTIONS[profile_of(user)]
    return allowed if user.functions is None else allowed & F(user.functions)


# plain ints on the request path (IntFlag arithmetic costs ~1 us a request)
_PROFILE_BITS = {p: int(f) for p, f in PROFILE_FUNCTIONS.items()}
_NEED_BITS: dict[str, int] = {}
_ROLE_BITS: dict[tuple[str, str], int] = {}  # (role, profile) -> its profile's bits (profile_of, once per pair)


def refusal(user: User, message_code: str):
    """The business error refusing ``user`` this request, or None when it may use it."""
    need = _NEED_BITS.get(message_code)
    if need is None:
        f = function_of(message_code)
        need = _NEED_BITS[message_code] = int(f) if f is not None else 0
    if not need or user.role == "operator":
        return None
    key = (user.role, user.profile)
    bits = _ROLE_BITS.get(key)
    if bits is None:
        bits = _ROLE_BITS[key] = _PROFILE_BITS[profile_of(user)]
    if user.functions is not None:
        bits &= user.functions
    return None if need & bits else FUNCTION_NOT_PERMITTED


def new_user_code(participant: str, user: str) -> str:
    """The OMnet-style user code of a created user: country (HK), the participant as the customer
    (5 characters) and the user's last 5 characters, as the demo users' codes are made."""
    return f"HK{participant[:5]}{user[-5:]}"
