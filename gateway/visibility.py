"""Which participants and accounts a subscription filter names (UB1 ``filter``).

A filter key is matched against the filter fields of each broadcast (``gateway.fanout.FILTER_FIELDS``:
account ids, series symbols, classes, currencies, clearing houses, underlyings). A key that names
another participant, or an account only other participants hold, can never match a broadcast the
caller receives: the subscription is refused (SUBSCRIPTION_NOT_AUTHORISED) instead of being
accepted and silently delivering nothing. Account ids are unique per participant only (every DCASS
participant has an ``HKCC-HOUSE``), so an id the caller holds itself is always allowed.

The directory is read from the clearing core through its queries (DCASS participants and accounts,
CCMS collateral accounts, OTC Clear members and their accounts), so accounts opened during the day
count; a module the gateway does not run contributes nothing.
"""
from __future__ import annotations

from typing import Any, Callable, Iterable

from gateway.clearing.collateral.messages import CollateralAccountsQuery
from gateway.clearing.dcass.queries import AccountsQuery, ParticipantsQuery
from gateway.clearing.errors import ClearingError
from gateway.clearing.otc.queries import OtcMembersQuery


def _each(query: Callable[[Any], Any], q: Any) -> Iterable:
    try:
        return query(q) or ()
    except (ClearingError, LookupError):  # a module not run, or nothing of that kind
        return ()


def directory(query: Callable[[Any], Any]) -> tuple[set[str], dict[str, set[str]]]:
    """(every participant id, account id -> the participants holding an account of that id), read
    with the operator's ``query``."""
    participants: set[str] = set()
    holders: dict[str, set[str]] = {}
    for info in _each(query, ParticipantsQuery()):
        participants.add(info.participant)
        for a in _each(query, AccountsQuery(info.participant)):
            holders.setdefault(a.account_id, set()).add(a.participant)
    for a in _each(query, CollateralAccountsQuery()):
        holders.setdefault(a.account, set()).add(a.participant)
    for m in _each(query, OtcMembersQuery()):
        participants.add(m.member_id)
        for a in m.accounts:
            holders.setdefault(a.account_id, set()).add(m.member_id)
    return participants, holders


def filter_hidden(key: str, caller: str, participants: set[str], holders: dict[str, set[str]]) -> str:
    """Why ``key`` names something ``caller`` cannot see ("" when it may use it)."""
    key = key.strip()
    if not key:
        return ""
    if key in participants and key != caller:
        return f"filter {key} is another participant"
    owners = holders.get(key)
    if owners and caller not in owners:
        return f"filter {key} is an account of another participant"
    return ""
