"""Client certification: the operator's fault injection and session observation (EC600-EC606, EQ610-EQ611).

The emulator plays the clearing house's certification of a participant's back office: it cuts,
starves, repeats and delays what one user's session receives, and lets the operator watch what
that session sends. Every command acts on the sessions of one user only; no other session notices.
"""
from __future__ import annotations

from ..codec import I32, U16, U32, U64, Bool, Filler, Items, Struct, Text, record
from ..kinds import Kind
from ..registry import message
from ..renamed import renamed_classes

C = "certification"

CutSessionRequest = message("EC600", "cut_session", Kind.TRANSACTION, Struct(
    "user" / Text(32) * "User whose live session is cut",
    "notice" / Bool * "0: drop the TCP connection without a word (a network failure); 1: send UO2 with "
                      "FORCED_LOGOUT first (the operator logged the user out)",
    Filler(3),
), "Operator: end the live session of a user. The user may log in again at once.", answer="UR1",
    operator=True, section=C)

WithholdBroadcastsRequest = message("EC601", "withhold_broadcasts", Kind.TRANSACTION, Struct(
    "user" / Text(32) * "User whose live session loses broadcasts",
    "count" / U32 * "Live broadcasts (not replays or recovery answers) to drop, 1-1000",
), "Operator: the next `count` live broadcasts to the user's session are not sent, though their "
   "sequence numbers are used: the session sees a gap and must recover it with UQ20.", answer="UR1",
    operator=True, section=C)

DuplicateBroadcastsRequest = message("EC602", "duplicate_broadcasts", Kind.TRANSACTION, Struct(
    "user" / Text(32) * "User whose live session gets broadcasts twice",
    "count" / U32 * "Live broadcasts to send twice, 1-1000",
), "Operator: each of the next `count` live broadcasts to the user's session is sent twice in a row, "
   "with the same sequence number.", answer="UR1", operator=True, section=C)

DelayRepliesRequest = message("EC603", "delay_replies", Kind.TRANSACTION, Struct(
    "user" / Text(32) * "User whose live session gets late answers",
    "milliseconds" / U32 * "Delay, 1-60000 ms",
    "count" / U32 * "Answers (REPLY or REJECT frames) to delay, 1-1000",
), "Operator: hold each of the next `count` answers to the user's session for `milliseconds` (what "
   "follows an answer waits behind it: the order of frames is kept).", answer="UR1", operator=True, section=C)

DelayHeartbeatsRequest = message("EC604", "delay_heartbeats", Kind.TRANSACTION, Struct(
    "user" / Text(32) * "User whose live session gets late heartbeats",
    "milliseconds" / U32 * "Delay, 1-60000 ms",
    "count" / U32 * "Server heartbeats (UH1) to delay, 1-1000",
), "Operator: hold each of the next `count` heartbeats to the user's session for `milliseconds`.",
    answer="UR1", operator=True, section=C)

ClearFaultsRequest = message("EC605", "clear_faults", Kind.TRANSACTION, Struct(
    "user" / Text(32) * "User",
), "Operator: cancel what remains of the faults set on the user's session; held frames go out now.",
    answer="UR1", operator=True, section=C)

ExpirePasswordRequest = message("EC606", "expire_password", Kind.TRANSACTION, Struct(
    "user" / Text(32) * "User whose password expires now",
), "Operator: the user's password has expired: its next login is restricted (session status 2027, PASSWORD_MUST_CHANGE) "
   "until it changes the password with UC1. A live session goes on.", answer="UR1", operator=True, section=C)

SessionItem = record("session_item", Struct(
    "session_id" / U64 * "Session id",
    "user" / Text(32) * "User",
    "participant" / Text(8) * "Participant (blank for the operator)",
    "role" / Text(16) * "participant, clearing_member or operator",
    "peer" / Text(48) * "Remote address host:port",
    "connected_since" / Text(20) * "UTC wall time of the login, YYYY-MM-DDTHH:MM:SS",
    "last_heartbeat_ms" / U32 * "Milliseconds since the session's last heartbeat (0xFFFFFFFF: none yet)",
    "last_received_ms" / U32 * "Milliseconds since the session last sent anything",
    "requests" / U32 * "Requests received",
    "heartbeats" / U32 * "Heartbeats received",
    "rejects" / U32 * "REJECT frames sent to it (session and business)",
    "throttled" / U32 * "Requests refused by the throttle",
    "throttle_per_second" / U32 * "The session's published request rate",
    "faults" / U16 * "Faults still pending on the session (frames to drop, repeat or delay)",
    "watched" / Bool * "1: its output is recorded frame by frame (a fault or EC607 is set on its user)",
    "ended" / Bool * "1: the session has ended (listed only when the query asks for ended sessions)",
    "ended_at" / Text(20) * "UTC wall time it ended, YYYY-MM-DDTHH:MM:SS (blank while connected)",
    "end_status" / I32 * "Session status it ended with (-2061 LOGGED_OUT after its UO1; 0: the client closed "
                         "or lost the connection)",
    "logged_out_cleanly" / Bool * "1: it ended with a logout request (UO1) answered by the gateway",
    Filler(3),
), "One logged-in session, connected or recently ended.")

SessionsQuery = message("EQ610", "sessions_query", Kind.QUERY, Struct(
    "user" / Text(32) * "Only this user's sessions (blank: every user)",
    "ended" / Bool * "1: also the sessions that ended lately (the last 100), after the connected ones",
    Filler(3),
), "Operator: the logged-in sessions with their counters (the operator's \"who is connected\").",
    answer="EA610", operator=True, section=C)

SessionsAnswer = message("EA610", "sessions_answer", Kind.REPLY, Struct(
    "items" / Items(U16, SessionItem) * "One item per logged-in session",
), "Answer to EQ610.", section=C)

ActivityItem = record("activity_item", Struct(
    "number" / U64 * "Running number of the entry for this user (1, 2, ...)",
    "session_id" / U64 * "Session the frame belongs to",
    "time" / Text(26) * "UTC wall time, YYYY-MM-DDTHH:MM:SS.ffffff",
    Filler(2),
    "direction" / Text(4) * "in (from the client), out (to it), drop (withheld), dup (sent twice), "
                            "held (delayed), end (session ended)",
    "kind" / Text(12) * "Frame kind (login, transaction, query, reply, reject, broadcast, heartbeat...)",
    "code" / Text(8) * "Message type",
    "request_id" / U64 * "Request id (the header's 64 bits: client references use them all)",
    "status" / I32 * "Session status (business status for a business reject)",
    "stream" / U16 * "Broadcast stream",
    Filler(2),
    "sequence" / U32 * "Broadcast sequence number",
    "detail" / Text(64) * "UL1: resume points stream:date:sequence; UQ20: stream:date:first-last; end: reason",
), "One frame of a user's sessions.")

SessionActivityQuery = message("EQ611", "session_activity_query", Kind.QUERY, Struct(
    "user" / Text(32) * "User",
    "after" / U64 * "Only entries numbered above this (0: all that are kept)",
    "limit" / U32 * "Most entries returned (0: all kept: the last 100 per user, 2000 once it has been watched)",
), "Operator: the recent frames of a user's sessions, oldest first: what it sent always; what it was sent "
   "once a fault or EC607 is set on the user.", answer="EA611", operator=True, section=C)

SessionActivityAnswer = message("EA611", "session_activity_answer", Kind.REPLY, Struct(
    "latest" / U64 * "Number of the user's latest entry",
    "items" / Items(U16, ActivityItem) * "Entries, oldest first",
), "Answer to EQ611.", section=C)

WatchUserRequest = message("EC607", "watch_user", Kind.TRANSACTION, Struct(
    "user" / Text(32) * "User",
    "on" / Bool * "1: record every frame sent to the user's sessions, from now and at every login; 0: stop",
    Filler(3),
), "Operator: record the output of a user's sessions frame by frame (what it sends is always recorded).",
    answer="UR1", operator=True, section=C)


# ====================================================================== old class names (0.1.x)
# Renamed to the pattern of docs/protocol.md; the old names work for one more minor release, with a
# DeprecationWarning (CHANGELOG.md, Deprecated).
RENAMED = {
    "CutSession": "CutSessionRequest",
    "WithholdBroadcasts": "WithholdBroadcastsRequest",
    "DuplicateBroadcasts": "DuplicateBroadcastsRequest",
    "DelayReplies": "DelayRepliesRequest",
    "DelayHeartbeats": "DelayHeartbeatsRequest",
    "ClearFaults": "ClearFaultsRequest",
    "ExpirePassword": "ExpirePasswordRequest",
    "WatchUser": "WatchUserRequest",
    "ActivityQuery": "SessionActivityQuery",
    "ActivityAnswer": "SessionActivityAnswer",
}
__getattr__ = renamed_classes(__name__, RENAMED)
