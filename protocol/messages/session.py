"""Session layer: login, logout, heartbeats, password change, rejects, subscriptions, recovery."""
from __future__ import annotations

from ..codec import I32, U8, U16, U32, U64, Bool, Code, Date, DateInt, Filler, Items, Struct, Text, Time, record
from ..enums import Role
from ..kinds import Kind
from ..registry import encode_message, message
from ..renamed import renamed_classes

S = "session"

ResumePoint = record("resume_point", Struct(
    "stream" / U16 * "Broadcast stream id",
    Filler(2),
    "business_date" / DateInt * "Business date of the last broadcast seen",
    "last_sequence" / U32 * "Last sequence number seen on that stream and date (0: none)",
), "Where a client stopped on one stream.")

StreamPosition = record("stream_position", Struct(
    "stream" / U16 * "Broadcast stream id",
    Filler(2),
    "business_date" / DateInt * "Current business date",
    "last_sequence" / U32 * "Last sequence number published on the stream (this user's instance)",
), "The server's position on one stream.")

LoginRequest = message("UL1", "login_request", Kind.LOGIN, Struct(
    "user" / Text(32) * "User id",
    "password" / Text(32) * "Password (printable ASCII; no '%' or '\\')",
    "application_id" / Text(32) * "Free name of the client application and version",
    "forced" / Bool * "1: take over a live session of the same user (it is told and closed)",
    Filler(3),
    "resume" / Items(U16, ResumePoint) * "Last sequence seen per stream; replayed at the first subscription of that stream",
), "First frame of every connection.", answer="UL2", section=S)

LoginReply = message("UL2", "login_reply", Kind.REPLY, Struct(
    "session_id" / U64 * "Session id, unique for the gateway's life",
    "user" / Text(32) * "User id",
    "user_code" / Text(12) * "OMnet-style user code: country(2) + customer(5) + user(5)",
    "participant" / Text(8) * "Clearing participant (or member) code of the user; blank for the operator",
    "role" / Code(Role) * "Role of the user",
    Filler(3),
    "business_date" / Date * "Current business date",
    "heartbeat_interval_ms" / U32 * "Send a heartbeat after this much send-silence",
    "idle_heartbeats" / U8 * "The peer is dropped after this many intervals of receive-silence",
    Filler(1),
    "max_subscriptions" / U16 * "Most subscription items per session",
    "throttle_per_second" / U32 * "Most requests per second; more are rejected, then disconnected",
    "max_replay" / U32 * "Most broadcasts one replay or recovery request returns",
    "max_frame_size" / U32 * "Largest frame accepted or sent, bytes",
    "max_pending" / U32 * "Most requests in flight per session",
    "password_expiry_date" / Date * "Date the password expires",
    "streams" / Items(U16, StreamPosition) * "Streams this user may subscribe to, with their positions",
), "Answer to a successful login. session_status may carry 2027/2028 password warnings.", section=S)

LogoutRequest = message("UO1", "logout_request", Kind.LOGOUT, Struct(
    Filler(4),
), "Ends the session; answered by UO2, then the server closes.", answer="UO2", section=S)

LogoutNotice = message("UO2", "logout_notice", Kind.LOGOUT, Struct(
    "reason" / I32 * "Session status code saying why the session ends",
    "text" / Text(80, truncate=True) * "Reason text",
), "Sent by the server before it closes a session: logout answer, forced takeover, idle, throttle, "
   "slow reader, shutdown.", section=S)

Heartbeat = message("UH1", "heartbeat", Kind.HEARTBEAT, Struct(
    Filler(4),
), "Liveness, both ways: sent after heartbeat_interval_ms without sending anything else.", section=S)
HEARTBEAT_PAYLOAD = encode_message(Heartbeat())  # the same bytes every time: encoded once

ChangePasswordRequest = message("UC1", "change_password", Kind.TRANSACTION, Struct(
    "old_password" / Text(32) * "Current password",
    "new_password" / Text(32) * "New password: 8-32 printable ASCII, not the old one",
), "Change the user's password.", answer="UR1", section=S)

Ack = message("UR1", "ack", Kind.REPLY, Struct(
    "reference" / U64 * "Number created by the transaction when it creates one (else 0)",
    "text" / Text(40, truncate=True) * "Short confirmation text",
), "Generic answer to a transaction that returns no data of its own.", section=S)

Reject = message("UR2", "reject", Kind.REJECT, Struct(
    "request_code" / Text(8, truncate=True) * "Message type of the rejected request",
    "field" / Text(32, truncate=True) * "Name of the offending field, when one is at fault",
    "text" / Text(80, truncate=True) * "Human-readable reason (code text and detail)",
), "Payload of every REJECT frame; the header holds session_status, business_status and field_offset.", section=S)

SubscriptionItem = record("subscription_item", Struct(
    "stream" / U16 * "Broadcast stream id",
    Filler(2),
    "broadcast" / Text(8) * "Broadcast message type (e.g. BD6); blank: every type of the stream",
    "filter" / Text(24) * "Filter key (account id, series symbol, class, currency); blank: no filter",
), "One subscription.")

SubscriptionStatusItem = record("subscription_status", Struct(
    "handle" / U32 * "Handle of the subscription (0 when refused)",
    "status" / I32 * "Session status code for this item (0 ok, -39 not authorised, -2053 replay limit...)",
    "stream" / U16 * "Stream id",
    Filler(2),
    "first_sequence" / U32 * "First sequence number that will be delivered (replay or live)",
    "last_sequence" / U32 * "Last sequence number published so far on the stream",
), "The outcome of one subscription item.")

SubscribeRequest = message("UB1", "subscribe_request", Kind.SUBSCRIBE, Struct(
    "items" / Items(U16, SubscriptionItem) * "Subscriptions to add",
), "Subscribe to broadcasts. The first subscription to a stream named in the login's resume points "
   "first replays what was missed on it (bounded by max_replay), then goes live.", answer="UB2", section=S)

SubscribeReply = message("UB2", "subscribe_reply", Kind.REPLY, Struct(
    "items" / Items(U16, SubscriptionStatusItem) * "One status per requested item, in order",
), "Answer to UB1 and UB3.", section=S)

HandleItem = record("handle_item", Struct(
    "handle" / U32 * "Subscription handle",
), "A subscription handle.")

UnsubscribeRequest = message("UB3", "unsubscribe_request", Kind.SUBSCRIBE, Struct(
    "items" / Items(U16, HandleItem) * "Handles to remove",
), "Remove subscriptions.", answer="UB2", section=S)

BusinessDateQuery = message("UQ12", "business_date_query", Kind.QUERY, Struct(
    Filler(4),
), "The business date and time of the clearing system.", answer="UA12", section=S)

BusinessDateAnswer = message("UA12", "business_date_answer", Kind.REPLY, Struct(
    "system_version" / Text(16) * "Emulator version",
    "business_date" / Date * "Current business date",
    "business_time" / Time * "Business time (Hong Kong)",
    Filler(2),
    "previous_business_date" / Date * "Previous business date",
    "next_business_date" / Date * "Next business date",
    "timezone" / Text(40) * "Time zone of business time",
    "utc_offset" / I32 * "Offset of business time from UTC, seconds",
), "Answer to UQ12.", section=S)

RecoveryQuery = message("UQ20", "recovery_query", Kind.QUERY, Struct(
    "stream" / U16 * "Broadcast stream id",
    Filler(2),
    "business_date" / DateInt * "Business date (0: current)",
    "first_sequence" / U32 * "First sequence number wanted",
    "last_sequence" / U32 * "Last sequence number wanted (0: up to the latest)",
), "Re-send the broadcasts of one stream in a sequence range: they come as BROADCAST frames with the "
   "RECOVERY flag and this request id, then UA20 ends the answer. At most max_replay per request.",
    answer="UA20", section=S)

RecoveryAnswer = message("UA20", "recovery_answer", Kind.REPLY, Struct(
    "stream" / U16 * "Stream id",
    Filler(2),
    "business_date" / DateInt * "Business date",
    "first_sequence" / U32 * "First sequence number sent",
    "last_sequence" / U32 * "Last sequence number sent",
    "count" / U32 * "Number of broadcasts sent (a filtered subscriber's gaps are not counted)",
    "latest_sequence" / U32 * "Latest sequence number on the stream",
), "End of a recovery answer.", section=S)

StreamStatusQuery = message("UQ21", "stream_status_query", Kind.QUERY, Struct(
    Filler(4),
), "Positions of every stream the user may subscribe to.", answer="UA21", section=S)

StreamStatusAnswer = message("UA21", "stream_status_answer", Kind.REPLY, Struct(
    "streams" / Items(U16, StreamPosition) * "One item per stream",
), "Answer to UQ21.", section=S)

StatusTextQuery = message("UQ30", "status_text_query", Kind.QUERY, Struct(
    "code" / I32 * "A session or business status code",
    "level" / U8 * "1: session status, 2: business status",
    Filler(3),
), "The text of a status code (like OMnet's get_message).", answer="UA30", section=S)

StatusTextAnswer = message("UA30", "status_text_answer", Kind.REPLY, Struct(
    "code" / I32 * "The code asked",
    "name" / Text(32, truncate=True) * "Symbolic name",
    "text" / Text(80, truncate=True) * "Text",
), "Answer to UQ30.", section=S)


# ====================================================================== old class names (0.1.x)
# Renamed to the pattern of docs/protocol.md; the old names work for one more minor release, with a
# DeprecationWarning (CHANGELOG.md, Deprecated).
RENAMED = {
    "ChangePassword": "ChangePasswordRequest",
}
__getattr__ = renamed_classes(__name__, RENAMED)
