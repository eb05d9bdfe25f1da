"""Business date query, general stream broadcasts and the operator's time and day controls."""
from __future__ import annotations

import functools
from datetime import date, datetime, timedelta

from gateway.clearing import core as c
from gateway.clearing.errors import INVALID_VALUE, OPERATOR_ONLY, ClearingError
from gateway.clock import UTC_OFFSET_SECONDS
from gateway.handlers import RequestContext, broadcast_view, handler
from protocol.codec import Constant, Date, Time
from protocol.messages import session as ms
from protocol.messages import system as m

VERSION = "hkpost-emu 0.1.0"


def _date_text(d) -> str:
    return Date.to_text(d) if d else ""


def _time_text(t) -> str:
    return Time.to_text(t) if t else ""


# The wire texts of dates and times, remembered: a broadcast view calls them straight (no Python
# frame on a hit: a C function), and the business date, a command's date-time and a margin call's
# due time recur in every broadcast of a batch. Both take a date, a date-time (a ``datetime`` never
# equals a ``date``: they are remembered apart) or None.
ymd = functools.lru_cache(maxsize=4096)(_date_text)
ymd.__doc__ = """The wire text of a date or date-time (``Date``: YYYYMMDD), blank for None."""
hms = functools.lru_cache(maxsize=4096)(_time_text)
hms.__doc__ = """The wire text of a time or date-time (``Time``: HHMMSS), blank for None."""


def names(wire_enum, blank=None) -> dict:
    """A broadcast view's table (``gateway.handlers.broadcast_view``) for a core field that holds
    a member's name: the members of the wire enum by name; ``blank``, if given, is the member of
    an empty name (and of None)."""
    table: dict = {member.name: member for member in wire_enum}
    if blank is not None:
        table[""] = table[None] = blank
    return table


def date_in(text: str, field: str) -> date | None:
    """The date of a wire date field, None when blank; a ClearingError naming the field when the
    text is not a date."""
    if not text:
        return None
    try:
        return Date.from_text(text)
    except ValueError:
        raise ClearingError(INVALID_VALUE, f"date {text!r} is not {Date.form}", field=field) from None


def time_in(text: str, on: date, field: str) -> datetime | None:
    """The date-time of a wire time field on the date ``on``, None when blank."""
    if not text:
        return None
    try:
        return datetime.combine(on, Time.from_text(text))
    except ValueError:
        raise ClearingError(INVALID_VALUE, f"time {text!r} is not {Time.form}", field=field) from None


def parse_datetime(date_s: str, time_s: str, default_date, field_date: str = "business_date",
                   field_time: str = "business_time") -> datetime:
    """A date field and a time field: the date defaults to ``default_date``, the time to 08:00."""
    return time_in(time_s or "080000", date_in(date_s, field_date) or default_date, field_time)


@handler(ms.BusinessDateQuery)
def business_date(msg, ctx: RequestContext):
    a = ctx.query(c.BusinessDateQuery())
    return ms.BusinessDateAnswer(
        system_version=VERSION, business_date=ymd(a.business_date), business_time=hms(a.now),
        previous_business_date=ymd(a.previous_business_date), next_business_date=ymd(a.next_business_date),
        timezone="Asia/Hong_Kong", utc_offset=UTC_OFFSET_SECONDS)


@handler(m.SetBusinessTimeRequest)
def set_business_time(msg, ctx: RequestContext):
    when = parse_datetime(msg.business_date, msg.business_time, ctx.query(c.BusinessDateQuery()).now.date())
    ctx.execute(c.SetBusinessTime(when, msg.reset))
    ctx.services.set_clock(when, follow_wall_clock=msg.follow_wall_clock)
    return ms.Ack(text=f"business time {when:%Y-%m-%d %H:%M:%S}")


@handler(m.AdvanceBusinessTimeRequest)
def advance_business_time(msg, ctx: RequestContext):
    when = ctx.query(c.BusinessDateQuery()).now + timedelta(seconds=msg.seconds)
    ctx.execute(c.SetBusinessTime(when))
    ctx.services.set_clock(when)
    return ms.Ack(text=f"business time {when:%Y-%m-%d %H:%M:%S}")


@handler(m.SendClearingMessageRequest)
def send_clearing_message(msg, ctx: RequestContext):
    if not 1 <= len(msg.lines) <= 10:
        raise ClearingError(INVALID_VALUE, "1 to 10 lines", field="lines")
    out = ctx.execute(c.SendClearingMessage(tuple(line.text for line in msg.lines)))
    return ms.Ack(reference=out.reply, text="message sent")


@handler(m.RunEndOfDayRequest)
def run_end_of_day(msg, ctx: RequestContext):
    out = ctx.execute(c.EndOfDay())
    return ms.Ack(text=f"business date {ymd(out.reply)}")


@handler(m.ResetEmulatorRequest)
def reset_emulator(msg, ctx: RequestContext):
    if not ctx.operator:
        raise ClearingError(OPERATOR_ONLY)
    when = parse_datetime(msg.business_date, msg.business_time, ctx.query(c.BusinessDateQuery()).business_date)
    ctx.services.reset(when, ctx)
    return ms.Ack(text=f"reset to {when:%Y-%m-%d %H:%M:%S}")


broadcast_view(c.Heartbeat, m.HeartbeatBroadcast, {
    "instance": Constant(1), "instances": Constant(1), "business_time": (hms, "now"),
    "description": Constant("hkpost emulator gateway"),
})

broadcast_view(c.ClearingMessage, m.ClearingMessageBroadcast, {
    "business_time": (hms, "now"), "lines": ("lines", {"text": (str, None)}),   # a line is its text
})

broadcast_view(c.BusinessDateChanged, m.BusinessDateChangeBroadcast, {
    "business_date": (ymd, "business_date"), "previous_business_date": (ymd, "previous_business_date"),
    "business_time": (hms, "now"),
})
