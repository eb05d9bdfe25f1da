"""Users, salted slow password hashes (scrypt), lockout after repeated failures, password policy."""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
import tomllib
from dataclasses import dataclass
from datetime import date, timedelta
from importlib import resources
from pathlib import Path

# scrypt cost: N=2**14, r=8, p=1 (16 MiB, tens of ms): slow on purpose; verification runs in a thread.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
PASSWORD_MIN, PASSWORD_MAX = 8, 32
PASSWORD_LIFETIME_DAYS = 90
EXPIRY_WARNING_DAYS = 7


def hash_password(password: str, salt: bytes | None = None, n: int = SCRYPT_N) -> str:
    salt = salt or os.urandom(16)
    dk = hashlib.scrypt(password.encode(), salt=salt, n=n, r=SCRYPT_R, p=SCRYPT_P, dklen=32)
    return f"scrypt${n}${SCRYPT_R}${SCRYPT_P}${base64.b64encode(salt).decode()}${base64.b64encode(dk).decode()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        algo, n, r, p, salt, dk = stored.split("$")
    except ValueError:
        return False
    if algo != "scrypt":
        return False
    got = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p),
                         dklen=len(base64.b64decode(dk)))
    return hmac.compare_digest(got, base64.b64decode(dk))


_DUMMY_HASH: list[str] = []


def verify_unknown_user(password: str) -> bool:
    """Spend the same time as a real check, then fail: an unknown user is not answered faster."""
    if not _DUMMY_HASH:
        _DUMMY_HASH.append(hash_password("not-a-user-password"))
    verify_password(password, _DUMMY_HASH[0])
    return False


def change_password(old: str, new: str, stored: str) -> str | None:
    """The new hash when ``old`` matches ``stored`` (slow: run it off the event loop), else None."""
    if not verify_password(old, stored):
        return None
    return hash_password(new)


def password_policy_error(old: str, new: str) -> str | None:
    if not PASSWORD_MIN <= len(new) <= PASSWORD_MAX:
        return f"length must be {PASSWORD_MIN} to {PASSWORD_MAX}"
    if any(not (0x20 < ord(c) < 0x7F) or c in "%\\" for c in new):
        return "printable ASCII only, no spaces, '%' or '\\'"
    if new == old:
        return "the new password must differ from the old one"
    return None


@dataclass
class User:
    user: str
    password_hash: str
    role: str  # participant | operator | clearing_member
    participant: str = ""
    user_code: str = ""
    throttle_per_second: int | None = None
    password_changed: date = date(2026, 1, 1)
    password_lifetime_days: int = PASSWORD_LIFETIME_DAYS
    profile: str = ""                # "administrator" or "" (the role's ordinary profile): gateway/admin.py
    functions: int | None = None     # narrowed function bits (UserFunction); None: every function of the profile

    def password_expiry(self) -> date:
        return self.password_changed + timedelta(days=self.password_lifetime_days)


class UserDirectory:
    def __init__(self, users: dict[str, User], maker_checker: frozenset[str] = frozenset()):
        self.users = users
        self.maker_checker = maker_checker  # participants whose collateral withdrawals need a second user

    @classmethod
    def load(cls, path: str | Path | None = None) -> "UserDirectory":
        if path is None:
            text = resources.files("gateway").joinpath("data/users.toml").read_text()
        else:
            text = Path(path).read_text()
        data = tomllib.loads(text)
        users = {}
        for name, u in data["users"].items():
            users[name] = User(
                user=name, password_hash=u["password_hash"], role=u.get("role", "participant"),
                participant=u.get("participant", ""), user_code=u.get("user_code", ""),
                throttle_per_second=u.get("throttle_per_second"),
                password_changed=date.fromisoformat(u.get("password_changed", "2026-11-01")),
                password_lifetime_days=u.get("password_lifetime_days", PASSWORD_LIFETIME_DAYS),
                profile=u.get("profile", ""), functions=u.get("functions"))
        return cls(users, frozenset(data.get("maker_checker", ())))

    def get(self, user: str) -> User | None:
        return self.users.get(user)


class Lockout:
    """Counts failed logins per user in a sliding window; locks the user for a while past a limit."""

    def __init__(self, limit: int, window: float, lock_seconds: float):
        self.limit, self.window, self.lock_seconds = limit, window, lock_seconds
        self.failures: dict[str, list[float]] = {}
        self.locked_until: dict[str, float] = {}

    def is_locked(self, user: str, now: float) -> bool:
        until = self.locked_until.get(user)
        if until is None:
            return False
        if now >= until:
            del self.locked_until[user]
            self.failures.pop(user, None)
            return False
        return True

    def failed(self, user: str, now: float) -> bool:
        """Record a failure; True when the user is now locked."""
        f = [t for t in self.failures.get(user, []) if now - t < self.window]
        f.append(now)
        self.failures[user] = f
        if len(f) >= self.limit:
            self.locked_until[user] = now + self.lock_seconds
            return True
        return False

    def succeeded(self, user: str) -> None:
        self.failures.pop(user, None)
