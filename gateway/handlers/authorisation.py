"""CCMS maker-checker over the wire: FC500 / FC501, FQ500 / FA500, BF500 (the core module is
gateway/clearing/collateral/authorisation.py). FC203 / FC205 / FC251 of a participant under
maker-checker (``maker_checker`` in the users file) are entered for authorisation by :func:`withdraw`."""
from __future__ import annotations

from gateway.clearing.collateral import authorisation as a
from gateway.handlers import RequestContext, broadcast_view, handler
from gateway.handlers.system import hms, names, ymd
from protocol.messages import authorisation as m
from protocol.messages.collateral import AssetClass
from protocol.messages.session import Ack


def withdraw(ctx: RequestContext, command, instruction_ack) -> Ack:
    """Run a CCMS withdrawal or transfer command, or enter it for authorisation when the caller's participant
    is under maker-checker. Ack reference: the instruction number, or the pending number."""
    if ctx.participant and not ctx.operator and ctx.services.under_maker_checker(ctx.participant):
        out = ctx.execute(a.EnterWithdrawal(command))
        return Ack(reference=out.reply.pending_id, text="pending authorisation")
    return instruction_ack(ctx.execute(command))


def item(i: a.PendingWithdrawalInfo) -> m.PendingWithdrawal:
    return m.PendingWithdrawal(
        pending_id=i.pending_id, participant=i.participant, clearing_house=i.clearing_house, account=i.account,
        asset_class=AssetClass[i.asset_class], state=m.AuthorisationState[i.state], specific=i.specific,
        asset=i.asset, quantity=i.quantity, maker=i.maker, checker=i.checker, entered_date=ymd(i.business_date),
        entered_time=hms(i.entered), decided_time=hms(i.decided) if i.decided else "",
        instruction_id=i.instruction_id, reason=i.reason, kind=m.PendingKind[i.kind],
        to_clearing_house=i.to_clearing_house, to_account=i.to_account)


@handler(m.AuthoriseWithdrawalRequest)
def authorise(msg, ctx: RequestContext):
    out = ctx.execute(a.AuthoriseWithdrawal(msg.pending_id))
    return Ack(reference=out.reply.instruction_id, text=f"authorised, value date {ymd(out.reply.value_date)}")


@handler(m.RejectWithdrawalRequest)
def reject(msg, ctx: RequestContext):
    ctx.execute(a.RejectWithdrawal(msg.pending_id, msg.reason))
    return Ack(reference=msg.pending_id, text="rejected")


@handler(m.PendingWithdrawalsQuery)
def pending(msg, ctx: RequestContext):
    rows = ctx.query(a.PendingWithdrawalsQuery(msg.participant, msg.only_pending))
    return m.PendingWithdrawalsAnswer(items=[item(i) for i in rows])


broadcast_view(a.WithdrawalAuthorisationChanged, m.WithdrawalAuthorisationBroadcast, {"withdrawal": ("withdrawal", {
    "asset_class": (names(AssetClass), "asset_class"), "state": (names(m.AuthorisationState), "state"),
    "entered_date": (ymd, "business_date"), "entered_time": (hms, "entered"), "decided_time": (hms, "decided"),
    "kind": (names(m.PendingKind), "kind"),
})})
