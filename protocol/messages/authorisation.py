"""CCMS maker-checker: withdrawals and transfers of collateral wait for a second user's authorisation.

For a participant under maker-checker, FC203 (cash) and FC205 (securities) withdrawals and FC251
transfers between clearing houses are not executed at once: they are acknowledged with a pending number and wait, in state PENDING, until
another user of the same participant authorises (FC500) or rejects (FC501) them; a user never
authorises or rejects its own. The withdrawal's or transfer's rules (shortfall, cut-off, value
date) apply when it is authorised. Every change is broadcast (BF500) on the participant's collateral stream.
"""
from __future__ import annotations

import enum

from ..codec import U16, U32, I64, Bool, Code, Date, Filler, Items, Nested, Struct, Text, Time, record
from ..kinds import Kind
from ..registry import message
from .collateral import AssetClass

SECTION = "collateral"


class AuthorisationState(enum.IntEnum):
    PENDING = 1
    AUTHORISED = 2
    REJECTED = 3


class PendingKind(enum.IntEnum):
    WITHDRAWAL = 1   # FC203 / FC205
    TRANSFER = 2     # FC251, to another clearing house


PendingWithdrawal = record("pending_withdrawal", Struct(
    "pending_id" / U32 * "Pending number (the UR1 reference of the FC203/FC205/FC251 that entered it)",
    "participant" / Text(8) * "Participant",
    "clearing_house" / Text(8) * "HKCC, SEOCH or HKSCC (a transfer: the giving clearing house)",
    "account" / Text(12) * "Collateral account (a transfer: the giving account)",
    "asset_class" / Code(AssetClass) * "CASH, EFBN, UST or STOCK",
    "state" / Code(AuthorisationState) * "PENDING, AUTHORISED or REJECTED",
    "specific" / Bool * "Securities: 1 = specific stock",
    Filler(1),
    "asset" / Text(12) * "Currency, instrument id or stock code",
    "quantity" / I64 * "Cents, nominal cents or shares",
    "maker" / Text(32) * "User who entered it",
    "checker" / Text(32) * "User who authorised or rejected it (blank: pending)",
    "entered_date" / Date * "Business date entered",
    "entered_time" / Time * "Business time entered",
    "decided_time" / Time * "Business time decided (blank: pending)",
    "instruction_id" / U32 * "The CCMS instruction created on authorisation (0: none)",
    "reason" / Text(40) * "Rejection reason",
    "kind" / Code(PendingKind) * "WITHDRAWAL (FC203/FC205) or TRANSFER (FC251)",
    Filler(3),
    "to_clearing_house" / Text(8) * "A transfer's receiving clearing house (blank: a withdrawal)",
    "to_account" / Text(12) * "A transfer's receiving collateral account (blank: a withdrawal)",
), "A withdrawal or a transfer under maker-checker.")

AuthoriseWithdrawalRequest = message("FC500", "authorise_withdrawal", Kind.TRANSACTION, Struct(
    "pending_id" / U32 * "Pending number",
), "Authorise another user's pending withdrawal or transfer of the same participant: it is executed now, "
   "under the rules of FC203 / FC205 / FC251 (a rejection leaves it pending). Ack reference: the instruction "
   "number (a transfer: its TRANSFER_OUT instruction).",
    answer="UR1", section=SECTION)

RejectWithdrawalRequest = message("FC501", "reject_withdrawal", Kind.TRANSACTION, Struct(
    "pending_id" / U32 * "Pending number",
    "reason" / Text(40) * "Why (shown to the maker)",
), "Reject another user's pending withdrawal or transfer of the same participant.", answer="UR1", section=SECTION)

PendingWithdrawalsQuery = message("FQ500", "pending_withdrawals_query", Kind.QUERY, Struct(
    "participant" / Text(8) * "Blank: the caller (the operator: every participant)",
    "only_pending" / Bool * "1: only those still PENDING",
    Filler(3),
), "Withdrawals and transfers under maker-checker of the business date, oldest first.", answer="FA500", section=SECTION)

PendingWithdrawalsAnswer = message("FA500", "pending_withdrawals_answer", Kind.REPLY, Struct(
    "items" / Items(U16, PendingWithdrawal) * "Withdrawals and transfers",
), "Answer to FQ500.", section=SECTION)

WithdrawalAuthorisationBroadcast = message("BF500", "withdrawal_authorisation", Kind.BROADCAST, Struct(
    "withdrawal" / Nested(PendingWithdrawal) * "The withdrawal or transfer in its new state",
), "A withdrawal or transfer entered for authorisation, authorised or rejected.", stream="collateral", section=SECTION)
