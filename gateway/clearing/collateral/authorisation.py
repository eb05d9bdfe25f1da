"""CCMS maker-checker: a collateral movement entered by one user waits for another user's authorisation.

Module ``"maker_checker"`` of the clearing core. :class:`EnterWithdrawal` holds a cash or securities
withdrawal (the CCMS commands ``WithdrawCash`` / ``WithdrawSecurities``) or a collateral transfer
between clearing houses (``TransferCollateral``, FC251) in state PENDING;
:class:`AuthoriseWithdrawal` by a second user of the same participant runs it through the CCMS
module's own command (all of its rules apply then: holdings, shortfall, the cut-offs and the
value date), :class:`RejectWithdrawal` ends it. A user never authorises or rejects its own entry.
Pending withdrawals not decided by the end of the business day expire (rejected, reason given).
Pure and deterministic like the rest of the core.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import ClassVar

from gateway.clearing.core import Context, Event, Module, Outcome
from gateway.clearing.errors import ACTING_FOR_OTHER, ClearingError, code

from .messages import (CollateralAccountsQuery, EligibleCollateralQuery, TransferCollateral, WithdrawCash,
                       WithdrawSecurities)

M = "ccms_maker_checker"
PENDING_NOT_FOUND = code(-800500, "CCMS_PENDING_NOT_FOUND", "No such withdrawal awaiting authorisation", M)
OWN_ENTRY = code(-800501, "CCMS_OWN_ENTRY", "A user may not authorise or reject its own entry (maker-checker)", M)
ALREADY_DECIDED = code(-800502, "CCMS_ALREADY_DECIDED", "The withdrawal was already authorised or rejected", M)
ENTRY_INVALID = code(-800503, "CCMS_ENTRY_INVALID", "The withdrawal cannot be entered", M)

PENDING, AUTHORISED, REJECTED = "PENDING", "AUTHORISED", "REJECTED"
WITHDRAWAL, TRANSFER = "WITHDRAWAL", "TRANSFER"
EXPIRED_REASON = "expired at end of day"


@dataclass(frozen=True, slots=True)
class EnterWithdrawal:
    """A participant's user enters a collateral movement for authorisation (``request``: WithdrawCash,
    WithdrawSecurities or TransferCollateral)."""

    request: WithdrawCash | WithdrawSecurities | TransferCollateral


@dataclass(frozen=True, slots=True)
class AuthoriseWithdrawal:
    pending_id: int


@dataclass(frozen=True, slots=True)
class RejectWithdrawal:
    pending_id: int
    reason: str = ""


@dataclass(frozen=True, slots=True)
class PendingWithdrawalsQuery:
    participant: str = ""
    only_pending: bool = False


@dataclass(frozen=True, slots=True)
class PendingWithdrawalInfo:
    pending_id: int
    participant: str
    clearing_house: str
    account: str
    asset_class: str  # CASH | EFBN | UST | STOCK
    asset: str
    quantity: int
    specific: bool
    state: str
    maker: str
    checker: str
    entered: datetime
    decided: datetime | None
    instruction_id: int
    reason: str
    business_date: date
    kind: str = WITHDRAWAL            # WITHDRAWAL | TRANSFER (FC251)
    to_clearing_house: str = ""       # a transfer's receiving clearing house and account
    to_account: str = ""


@dataclass(slots=True)
class WithdrawalAuthorisationChanged(Event):
    STREAM: ClassVar[str] = "collateral"
    owner: str
    withdrawal: PendingWithdrawalInfo


class MakerCheckerModule(Module):
    name = "maker_checker"

    def __init__(self, core):
        super().__init__(core)
        self.next_id = 1
        self.items: dict[int, PendingWithdrawalInfo] = {}
        self.requests: dict[int, WithdrawCash | WithdrawSecurities | TransferCollateral] = {}

    def commands(self):
        return {EnterWithdrawal: self._enter, AuthoriseWithdrawal: self._authorise, RejectWithdrawal: self._reject}

    def queries(self):
        return {PendingWithdrawalsQuery: self._list}

    # ------------------------------------------------------------ commands
    def _enter(self, cmd: EnterWithdrawal, ctx: Context) -> Outcome:
        r = cmd.request
        if ctx.participant is None or ctx.operator:
            raise ClearingError(ENTRY_INVALID, "maker-checker is for participants' users")
        if r.participant and r.participant != ctx.participant:
            raise ClearingError(ACTING_FOR_OTHER, r.participant, field="participant")
        if isinstance(r, TransferCollateral):
            return self._enter_transfer(r, ctx)
        cash = isinstance(r, WithdrawCash)
        quantity = r.amount if cash else r.quantity
        if quantity <= 0:
            raise ClearingError(ENTRY_INVALID, "must be > 0", field="amount" if cash else "quantity")
        self._account(r.clearing_house, r.account, "account", ctx)
        asset = r.currency if cash else r.instrument
        if not asset:
            raise ClearingError(ENTRY_INVALID, "blank", field="currency" if cash else "instrument")
        asset_class = "CASH" if cash else self._asset_class(r.instrument, ctx)
        return self._hold(r, PendingWithdrawalInfo(
            0, ctx.participant, r.clearing_house, r.account, asset_class, asset, quantity,
            False if cash else r.specific, PENDING, ctx.user, "", ctx.now, None, 0, "", self.core.business_date), ctx)

    def _enter_transfer(self, r: TransferCollateral, ctx: Context) -> Outcome:
        """A transfer between clearing houses (FC251): the two accounts must exist; the transfer's
        own rules (same kind, eligibility, holdings, shortfall, cut-off) apply at authorisation."""
        if r.quantity <= 0:
            raise ClearingError(ENTRY_INVALID, "must be > 0", field="quantity")
        self._account(r.from_clearing_house, r.from_account, "from_account", ctx)
        self._account(r.to_clearing_house, r.to_account, "to_account", ctx)
        if not r.instrument:
            raise ClearingError(ENTRY_INVALID, "blank", field="instrument")
        return self._hold(r, PendingWithdrawalInfo(
            0, ctx.participant, r.from_clearing_house, r.from_account, self._asset_class(r.instrument, ctx, cash=True),
            r.instrument, r.quantity, False, PENDING, ctx.user, "", ctx.now, None, 0, "", self.core.business_date,
            TRANSFER, r.to_clearing_house, r.to_account), ctx)

    def _account(self, clearing_house: str, account: str, field: str, ctx: Context) -> None:
        accounts = self.core.query(CollateralAccountsQuery(ctx.participant, clearing_house), ctx)
        if not any(a.account == account for a in accounts):
            raise ClearingError(ENTRY_INVALID, f"no collateral account {clearing_house} {account}", field=field)

    def _hold(self, r, info: PendingWithdrawalInfo, ctx: Context) -> Outcome:
        pid = self.next_id
        self.next_id += 1
        info = _replace(info, pending_id=pid)
        self.items[pid] = info
        self.requests[pid] = r
        return Outcome(info, [WithdrawalAuthorisationChanged(ctx.participant, info)])

    def _asset_class(self, instrument: str, ctx: Context, cash: bool = False) -> str:
        """An instrument's asset class (``cash``: a currency code may be given too, as in FC251)."""
        for e in self.core.query(EligibleCollateralQuery(), ctx):
            if e.asset == instrument:
                return e.asset_class
        if instrument.isdigit() and len(instrument) <= 5:
            return "STOCK"
        if cash and len(instrument) == 3 and instrument.isalpha() and instrument.isupper():
            return "CASH"
        raise ClearingError(ENTRY_INVALID, f"{instrument} is not eligible collateral", field="instrument")

    def _decidable(self, pending_id: int, ctx: Context) -> PendingWithdrawalInfo:
        info = self.items.get(pending_id)
        if info is None:
            raise ClearingError(PENDING_NOT_FOUND, str(pending_id), field="pending_id")
        if ctx.participant != info.participant:
            # another participant learns nothing about it: same answer as an unknown number
            raise ClearingError(PENDING_NOT_FOUND, str(pending_id), field="pending_id")
        if info.state != PENDING:
            raise ClearingError(ALREADY_DECIDED, info.state, field="pending_id")
        if ctx.user == info.maker:
            raise ClearingError(OWN_ENTRY, info.maker, field="pending_id")
        return info

    def _authorise(self, cmd: AuthoriseWithdrawal, ctx: Context) -> Outcome:
        info = self._decidable(cmd.pending_id, ctx)
        request = self.requests[cmd.pending_id]
        run = self.core.module("ccms").commands()[type(request)]
        out = run(request, ctx)  # raises (changing nothing) when the withdrawal's own rules refuse it
        done = _replace(info, state=AUTHORISED, checker=ctx.user, decided=ctx.now,
                        instruction_id=out.reply.instruction_id)
        self.items[cmd.pending_id] = done
        del self.requests[cmd.pending_id]
        return Outcome(out.reply, [WithdrawalAuthorisationChanged(info.participant, done), *out.events])

    def _reject(self, cmd: RejectWithdrawal, ctx: Context) -> Outcome:
        info = self._decidable(cmd.pending_id, ctx)
        done = _replace(info, state=REJECTED, checker=ctx.user, decided=ctx.now, reason=cmd.reason[:40])
        self.items[cmd.pending_id] = done
        del self.requests[cmd.pending_id]
        return Outcome(done, [WithdrawalAuthorisationChanged(info.participant, done)])

    # ------------------------------------------------------------ queries
    def _list(self, q: PendingWithdrawalsQuery, ctx: Context) -> list[PendingWithdrawalInfo]:
        if ctx.operator or ctx.participant is None:
            who = q.participant or None
        else:
            if q.participant and q.participant != ctx.participant:
                raise ClearingError(ACTING_FOR_OTHER, q.participant, field="participant")
            who = ctx.participant
        return [i for i in self.items.values()
                if (who is None or i.participant == who) and (not q.only_pending or i.state == PENDING)]

    # ------------------------------------------------------------ the day
    def end_of_day(self, ctx: Context) -> list:
        events = []
        for pid, info in list(self.items.items()):
            if info.state == PENDING:
                done = _replace(info, state=REJECTED, decided=ctx.now, reason=EXPIRED_REASON)
                self.items[pid] = done
                self.requests.pop(pid, None)
                events.append(WithdrawalAuthorisationChanged(info.participant, done))
        return events

    def start_of_day(self, ctx: Context, business_date: date) -> list:
        self.items.clear()
        self.requests.clear()
        return []

    def snapshot(self):
        return {"next_id": self.next_id, "items": dict(self.items), "requests": dict(self.requests)}


def _replace(info: PendingWithdrawalInfo, **kw) -> PendingWithdrawalInfo:
    import dataclasses
    return dataclasses.replace(info, **kw)
