"""User administration by a participant's Administrator user: UC500-UC502, UQ500 / UA500.

Each participant has full-access users and one Administrator user (profile ADMINISTRATOR), who
manages the participant's own users: creates them, resets their passwords and narrows the functions
each may use. The Administrator itself may not enter post-trade or collateral instructions. A user's
functions are a set of :class:`UserFunction` bits; the gateway refuses a request of a function the
user lacks with business status -600500. Rules: docs/guides/console.md ("Users and roles").
"""
from __future__ import annotations

import enum

from ..codec import U32, Bool, Code, Date, Filler, Items, Struct, Text, record
from ..kinds import Kind
from ..registry import BY_CODE, message

SECTION = "admin"


class UserProfile(enum.IntEnum):
    FULL = 1           # a participant's full-access user (functions may be narrowed)
    ADMINISTRATOR = 2  # the participant's user administrator: user management and enquiries only
    OPERATOR = 3       # the emulator's operator
    MEMBER = 4         # an OTC Clear clearing member's user


class UserFunction(enum.IntFlag):
    ENQUIRY = 0x01               # queries (trades, positions, collateral, settlement)
    POST_TRADE = 0x02            # DCASS post-trade transactions (CC/CD families)
    COLLATERAL_INPUT = 0x04      # CCMS transactions (FC2xx): deposits, withdrawal entry, covered calls
    COLLATERAL_AUTHORISE = 0x08  # CCMS maker-checker: authorise or reject another user's withdrawal
    OTC_SETTLEMENT = 0x10        # OTC Clear member transactions (SC3xx)
    USER_ADMIN = 0x20            # UC500-UC502, every user of the participant in UQ500


PROFILE_FUNCTIONS = {
    UserProfile.FULL: UserFunction.ENQUIRY | UserFunction.POST_TRADE | UserFunction.COLLATERAL_INPUT
    | UserFunction.COLLATERAL_AUTHORISE,
    UserProfile.ADMINISTRATOR: UserFunction.ENQUIRY | UserFunction.USER_ADMIN,
    UserProfile.MEMBER: UserFunction.ENQUIRY | UserFunction.OTC_SETTLEMENT,
    UserProfile.OPERATOR: UserFunction(sum(UserFunction)),
}
# the function a transaction needs, by the section of its message (queries need ENQUIRY)
SECTION_FUNCTIONS = {"dcass": UserFunction.POST_TRADE, "collateral": UserFunction.COLLATERAL_INPUT,
                     "otc": UserFunction.OTC_SETTLEMENT, "admin": UserFunction.USER_ADMIN}
BY_MESSAGE = {"FC500": UserFunction.COLLATERAL_AUTHORISE, "FC501": UserFunction.COLLATERAL_AUTHORISE, "UQ500": None}


def function_of(message_code: str) -> UserFunction | None:
    """The function a request needs (None: a session message or the operator's, which need none)."""
    if message_code in BY_MESSAGE:
        return BY_MESSAGE[message_code]
    spec = BY_CODE.get(message_code)
    if spec is None or spec.operator or spec.section in ("session", "general", "operator"):
        return None
    if spec.kind is Kind.QUERY:
        return UserFunction.ENQUIRY
    if spec.kind is Kind.TRANSACTION:
        return SECTION_FUNCTIONS.get(spec.section)
    return None


UserItem = record("user_item", Struct(
    "user" / Text(32) * "User id",
    "participant" / Text(8) * "Participant",
    "profile" / Code(UserProfile) * "Profile",
    Filler(3),
    "functions" / U32 * "Functions the user may use (UserFunction bits)",
    "password_expiry_date" / Date * "Password expiry date",
    "locked" / Bool * "1: locked out after failed logins",
    "must_change_password" / Bool * "1: the password was reset or has expired: change it (UC1) at login",
    Filler(2),
), "One user of a participant.")

CreateUserRequest = message("UC500", "create_user", Kind.TRANSACTION, Struct(
    "user" / Text(32) * "New user id: 3-12 upper-case letters or digits, unused",
    "password" / Text(32) * "Initial password (policy of UC1); the user must change it at first login",
    "profile" / Code(UserProfile) * "FULL (the only profile an Administrator creates)",
    Filler(3),
    "functions" / U32 * "UserFunction bits (0: every function of the profile)",
), "Administrator: create a user of the Administrator's participant.", answer="UR1", section=SECTION)

ResetPasswordRequest = message("UC501", "reset_password", Kind.TRANSACTION, Struct(
    "user" / Text(32) * "A user of the Administrator's participant (not the Administrator itself)",
    "new_password" / Text(32) * "Temporary password (policy of UC1); the user must change it at next login",
), "Administrator: reset a user's password; also clears a lockout.", answer="UR1", section=SECTION)

SetUserFunctionsRequest = message("UC502", "set_user_functions", Kind.TRANSACTION, Struct(
    "user" / Text(32) * "A full-access user of the Administrator's participant",
    "functions" / U32 * "UserFunction bits, a subset of the profile's functions (0: all of them)",
), "Administrator: narrow (or restore) the functions a user may use; applies to the user's next request.",
    answer="UR1", section=SECTION)

UsersQuery = message("UQ500", "users_query", Kind.QUERY, Struct(
    "user" / Text(32) * "Blank: every user the caller may see (an Administrator: its participant's; "
                        "another user: itself)",
), "Users and their functions.", answer="UA500", section=SECTION)

UsersAnswer = message("UA500", "users_answer", Kind.REPLY, Struct(
    "items" / Items(U32, UserItem) * "Users",
), "Answer to UQ500.", section=SECTION)
