"""A user as a journal record holds it: every field of ``gateway.auth.User``, dates as ISO text.
The password is there only as its salted slow hash, as in the users file."""
from __future__ import annotations

from dataclasses import fields
from datetime import date

from gateway.auth import User

_FIELDS = tuple(f.name for f in fields(User))


def user_to_plain(u: User) -> dict:
    out = {name: getattr(u, name) for name in _FIELDS}
    out["password_changed"] = u.password_changed.isoformat()
    return out


def user_from_plain(p: dict) -> User:
    """The user of a ``user`` record (KeyError, TypeError or ValueError when it is not one)."""
    unknown = set(p) - set(_FIELDS)
    if unknown:
        raise ValueError(f"unknown user fields {sorted(unknown)}")
    kw = dict(p)
    kw["password_changed"] = date.fromisoformat(p["password_changed"])
    return User(**kw)
