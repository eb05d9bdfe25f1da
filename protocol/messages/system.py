"""General stream broadcasts and the operator's emulator controls (business time, messages, EOD)."""
from __future__ import annotations

from ..codec import U8, U16, U32, Bool, Date, Filler, Items, Struct, Text, Time, record
from ..kinds import Kind
from ..registry import message
from ..renamed import renamed_classes

G = "general"
O = "operator"

HeartbeatBroadcast = message("BI9", "heartbeat_broadcast", Kind.BROADCAST, Struct(
    "interval" / U16 * "Seconds between heartbeats on this stream",
    "instance" / U8 * "Gateway instance number",
    "instances" / U8 * "Number of gateway instances",
    "business_time" / Time * "Business time",
    Filler(2),
    "description" / Text(40) * "Gateway description",
), "Sequenced heartbeat of the general stream: a subscriber sees the stream is alive and current.",
    stream="general", section=G)

MessageLine = record("message_line", Struct(
    "text" / Text(80, truncate=True) * "One line of text",
), "A line of a clearing-house message.")

ClearingMessageBroadcast = message("BI27", "clearing_message", Kind.BROADCAST, Struct(
    "number" / U32 * "Message number within the business date",
    "business_time" / Time * "Business time it was sent",
    Filler(2),
    "lines" / Items(U16, MessageLine) * "Up to 10 lines of 80 characters",
), "Free-text message from the clearing house to every participant.", stream="general", section=G)

BusinessDateChangeBroadcast = message("BI30", "business_date_change", Kind.BROADCAST, Struct(
    "business_date" / Date * "New business date",
    "previous_business_date" / Date * "Business date that ended",
    "business_time" / Time * "Business time of the roll",
    Filler(2),
), "End of day is done and the business date rolled. Sequence numbers of every stream restart at 1 "
   "for the new date.", stream="general", section=G)

SetBusinessTimeRequest = message("EC1", "set_business_time", Kind.TRANSACTION, Struct(
    "business_date" / Date * "Date (blank: keep the business date)",
    "business_time" / Time * "Time",
    "reset" / Bool * "1: allow moving backwards (testing only)",
    "follow_wall_clock" / Bool * "1: let time run on from there with the wall clock; 0: freeze it",
), "Operator: set business time. Time only moves forward unless reset; what falls due (cut-offs, value "
   "dates) runs as time passes.", answer="UR1", operator=True, section=O)

AdvanceBusinessTimeRequest = message("EC2", "advance_business_time", Kind.TRANSACTION, Struct(
    "seconds" / U32 * "Seconds to move business time forward",
), "Operator: move business time forward.", answer="UR1", operator=True, section=O)

SendClearingMessageRequest = message("EC3", "send_clearing_message", Kind.TRANSACTION, Struct(
    "lines" / Items(U16, MessageLine) * "1 to 10 lines",
), "Operator: broadcast a clearing-house message (BI27) to every participant.", answer="UR1",
    operator=True, section=O)

RunEndOfDayRequest = message("EC4", "run_end_of_day", Kind.TRANSACTION, Struct(
    Filler(4),
), "Operator: run end of day in every module and roll the business date (BI30).", answer="UR1",
    operator=True, section=O)

ResetEmulatorRequest = message("EC5", "reset_emulator", Kind.TRANSACTION, Struct(
    "business_date" / Date * "Business date to start (blank: the current one)",
    "business_time" / Time * "Business time (blank: 080000)",
    Filler(2),
), "Operator: discard all state and start again from the demo data on a fresh business day; every "
   "other session is logged out, every stream restarts at 1, and users' passwords and login lockouts return to "
   "the shipped state.", answer="UR1", operator=True, section=O)


# ====================================================================== old class names (0.1.x)
# Renamed to the pattern of docs/protocol.md; the old names work for one more minor release, with a
# DeprecationWarning (CHANGELOG.md, Deprecated).
RENAMED = {
    "BusinessDateChange": "BusinessDateChangeBroadcast",
    "SetBusinessTime": "SetBusinessTimeRequest",
    "AdvanceBusinessTime": "AdvanceBusinessTimeRequest",
    "SendClearingMessage": "SendClearingMessageRequest",
    "RunEndOfDay": "RunEndOfDayRequest",
    "ResetEmulator": "ResetEmulatorRequest",
}
__getattr__ = renamed_classes(__name__, RENAMED)
