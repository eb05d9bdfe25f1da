"""Generate docs/protocol.md from the declarations: ``python -m gateway.docgen [--check]``.

It lives in gateway/ because it documents both layers: the wire (protocol/) and the business
status codes declared by the clearing core.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gateway.clearing.errors import REGISTRY
from gateway.config import DEFAULT_PORT, Settings
from gateway.connection import LINGER_SECONDS, SHUTDOWN_LINGER_SECONDS
from gateway.subscriptions import ROLE_STREAMS
from gateway.references import REFERENCE_LIMIT
from protocol.codec import RECORDS, Record
from protocol.golden import vectors as golden_vectors
from protocol.framing import HEADER, HEADER_SIZE, MAX_FRAME_SIZE, VERSION
from protocol.kinds import Flag, Kind
from protocol.registry import BY_CODE, NAMED_FOR_WHAT_THEY_ARE, all_specs
from protocol.status import TEXTS, SessionStatus
from protocol.streams import DEDICATED, Stream

# every broadcast one deal injection causes, to each participant of the deal (checked by a test)
DEAL_INJECTION_BROADCASTS = ("BD6", "BD40", "BD101", "BF204", "BF205")

OUT = Path(__file__).resolve().parent.parent / "docs" / "protocol.md"

SECTIONS = {
    "session": "Session layer",
    "general": "General stream (public broadcasts)",
    "operator": "Operator controls",
    "dcass": "DCASS: listed derivatives clearing",
    "collateral": "CCMS: collateral",
    "otc": "OTC Clear settlement",
    "admin": "User administration",
}

RULES = """\
## 3. Session rules

3.1 **Connection.** One TCP connection is one session. The gateway listens on port {port} by default.
Integers are big-endian; records are packed with explicit fillers; text is ASCII, space padded, never
NUL terminated. Money is an integer number of cents, prices and strikes integers with the decimals of
their instrument class, quantities integers. There are no floating-point fields.

3.2 **Framing.** A frame that cannot be framed ends the connection: a length below {hdr} or above the
maximum frame size ({maxf} bytes by default, announced at login), or a version other than {ver}. The
gateway sends a REJECT with status {St.BAD_LENGTH}, {St.FRAME_TOO_LARGE} or {St.BAD_VERSION} and closes. Everything else that is wrong in a
well-framed frame is answered with a REJECT frame (request id echoed) and changes nothing: an unknown
message type ({St.INVALID_MESSAGE_TYPE}), a field that does not decode or a wrong length ({St.FIELD_ERROR}, with `field_offset` the byte
offset of the bad field from the start of the payload, and the field's name in the UR2 payload), a
message sent in the wrong frame kind ({St.WRONG_KIND}).

3.3 **Login.** The first frame of a connection must be a LOGIN (UL1); anything else is answered with
REJECT {St.NOT_LOGGED_IN} and the connection is closed; so is a first frame that does not decode ({St.FIELD_ERROR}) or has an unknown type ({St.INVALID_MESSAGE_TYPE}). A connection that sends no login within {login_timeout:g} s is
closed. Passwords are verified against salted scrypt hashes. Outcomes: UL2 in a REPLY (status 0, or
{St.PASSWORD_EXPIRES_SOON} when the password expires within 7 days, or {St.PASSWORD_MUST_CHANGE} when it has expired: then only UC1 and UO1 are
accepted, anything else gets {St.PASSWORD_EXPIRED}); REJECT {St.INVALID_CREDENTIALS} for an unknown user and for a wrong password alike, with the same text (then the
connection is closed; the code -2002 that once meant an unknown user is retired); after {lock_n} failures within {lock_window:g} s the user is locked for
{lock_s:g} s ({St.ACCOUNT_LOCKED}).

3.4 **One live session per user.** A second login of the same user is refused with {St.SESSION_IN_USE} unless its
`forced` flag is set: then the old session receives LOGOUT UO2 with reason {St.FORCED_LOGOUT} and is closed, and
the new one proceeds. A login on a connection that is already logged in gets {St.ALREADY_LOGGED_IN}.

3.5 **Heartbeats.** Each side sends UH1 (frame kind HEARTBEAT) after `heartbeat_interval_ms` of
send-silence ({hb:g} s by default). A peer silent for `idle_heartbeats` intervals ({idle} by default)
is dropped with LOGOUT reason {St.IDLE_TIMEOUT}.

3.6 **Throttle.** At most `throttle_per_second` requests per one-second window ({thr} by default,
per user in users.toml); a window begins with the first request after the previous window ended (the first
with the first request after the login). Requests beyond it get REJECT {St.THROTTLED}; a client that keeps sending so that the
rejections in one window exceed the limit again is disconnected with {St.THROTTLE_DISCONNECT}. At most `max_pending`
({pending}) requests may be in flight ({St.TOO_MANY_PENDING}).

3.7 **Requests and answers.** Every request carries a client-chosen request id, echoed in its answer.
A TRANSACTION gets exactly one REPLY or REJECT. A QUERY gets one or more REPLY segments numbered from
1, the last one flagged LAST_SEGMENT (0x0001); at most {page} items per segment, and never more than
fits in a frame. A business refusal is a REJECT with session status {St.BUSINESS_REJECT} and the business status in
`business_status` (section 6), with `field_offset` when a request field is at fault. A participant
naming another participant's data is refused: -600003 ACTING_FOR_OTHER when it names another
participant, or the owning module's code when it names an account that is not its own (DCASS
-700005, CCMS -800006); an OTC Clear member acting for another member gets -600003.

3.8 **Broadcast streams and sequence numbers.** Every broadcast belongs to a stream (section 4).
Dedicated streams exist once per participant: a participant sees only its own instance. Each stream
instance numbers its broadcasts from 1 per business date (header `sequence`, `business_date`). At the
end of day BI30 is the last broadcast of the old date on the general stream; every stream then starts
again at 1 for the new date.

3.9 **Subscriptions.** UB1 subscribes by stream, optionally one broadcast type (e.g. BD6) and a filter
key (an account id, series symbol, instrument class, currency or clearing house); each item is
answered with a handle and a status: 0, {St.SUBSCRIPTION_NOT_AUTHORISED} not authorised (a stream the user's role may not see, or
a filter that names another participant or an account id that only other participants hold: it could
never match; account ids repeat across participants, so a filter on one's own `HKCC-HOUSE` is accepted),
{St.UNKNOWN_STREAM} unknown stream or type, {St.SUBSCRIPTION_LIMIT} more than {subs} subscriptions. UB3 removes subscriptions by
handle. A filtered subscriber sees gaps in the sequence numbers; only whole-stream subscribers can
detect real gaps.

3.10 **Resume.** UL1 names, per stream, the business date and last sequence number the client saw.
The first subscription to that stream then first replays, in order, every broadcast of the stream
instance after that point (including the tail of the previous business date when the client stopped
before the roll), marked with the REPLAY flag (0x0004), then goes live: no gap, no duplicate. A replay longer than `max_replay`
({replay} by default) is refused for that item with status {St.REPLAY_LIMIT} and the subscription goes live from
the next sequence; the client recovers the gap with UQ20 in ranges of at most `max_replay`.

3.11 **Recovery.** UQ20 asks for one stream's broadcasts from `first_sequence` to `last_sequence`
(0: the latest), for the current or the previous business date. The answer is the original
BROADCAST frames with the RECOVERY flag (0x0002) and the query's request id, then UA20. A range
larger than `max_replay` is refused with {St.REPLAY_LIMIT}; an unknown date with {St.SEQUENCE_OUT_OF_RANGE}.

3.12 **Slow readers.** Each session's output is bounded ({outbuf} bytes queued by default). A reader
that falls that far behind is cut off; other sessions are not delayed. What it gets: the LOGOUT
{St.SLOW_CONSUMER} is queued *behind* what was already queued for the session (up to that bound, plus the write that
crossed it), in order and without a gap, and nothing comes after it; the gateway then closes the
connection, and aborts it (a reset) when the reader has not drained it within {linger:g} s. So a reader that
stays stalled may see the reset without the LOGOUT; either way it reconnects and resumes by sequence
number (broadcasts are kept in the stream logs). Answers still queued behind the cut are not sent:
after the reconnect, query the outcome of requests left unanswered.

3.13 **Closing, shutdown and limits.** Whenever the gateway ends a session (a LOGOUT of any reason, a
refused login, a framing error), it writes what it has queued for it (the LOGOUT, when there is one,
last), then ends its side of the stream (a TCP half close); what the client still sends is read and
dropped. The connection ends when the client closes its side, or is aborted {linger:g} s later
({shutdown_linger:g} s at shutdown). So a client that sent more than it was allowed (past the throttle, 3.6) still receives
every answer and the LOGOUT, never a reset that would destroy them on the way. On SIGINT/SIGTERM every
session receives LOGOUT {St.SERVER_SHUTDOWN} and is closed. At most {maxconn} connections in total and
{peraddr} per address ({St.GATEWAY_FULL}); a connection counts until it has ended.

3.14 **Questions a client writer asks** (each answer is checked by tests/e2e/test_protocol_reference_answers.py
or generated from the declarations).

- *Header of a request.* `length` (header included), `version` {ver}, `kind` (the message's frame kind in
  section 5: LOGIN, LOGOUT, TRANSACTION, QUERY, SUBSCRIBE), `request_id` of your choice; every other
  header field 0 (the gateway does not read them on a request).
- *Request ids.* The gateway does not check them: 0 and a reused id are answered like any other and
  echoed as given. Answers are matched to requests by id only, so keep ids unique among your requests in
  flight, and avoid 0: broadcasts, heartbeats and framing-error REJECTs carry 0.
- *Heartbeats.* UH1 frames of kind HEARTBEAT, request id 0 both ways; they are never answered.
- *Segmented answers.* Every REPLY, not only query answers, carries `segment` (1..n) and LAST_SEGMENT
  on its last segment, and the current business date in `business_date`: the login answer (UL2), the
  subscribe answer (UB2) and transaction answers are one segment, numbered 1 with LAST_SEGMENT. A
  REJECT carries segment 0, no flags and business date 0.
- *A framing error* (bad length, frame too large, bad version) is answered with a REJECT with request
  id 0 (the request could not be read), a blank `request_code` in its UR2 payload and the status of 3.2;
  then the connection is closed.
- *The logout answer.* UO1 is answered by a frame of kind LOGOUT carrying UO2 with reason
  {St.LOGGED_OUT}, the UO1's request id and session status {St.LOGGED_OUT}; then the gateway closes the connection.
- *A frame cut short* is not an error: the gateway waits for the rest (TCP may split a frame anywhere);
  a connection closed mid-frame is just closed. A frame of a kind a client may not send (REPLY, REJECT,
  BROADCAST) or of an unknown kind is answered with REJECT {St.WRONG_KIND} and the session goes on.
- *Login refusals that close the connection:* every refusal of a login that is answered with a REJECT
  - {St.INVALID_CREDENTIALS} (unknown user or wrong password alike), {St.ACCOUNT_LOCKED}, {St.SESSION_IN_USE} -
  is followed by the close (no LOGOUT frame); so is a first frame that is not a login (3.3).
  A second UL1 on a logged-in connection ({St.ALREADY_LOGGED_IN}) is refused and the session goes on.
- *Login timeout.* A connection that sends no UL1 within {login_timeout:g} s receives a LOGOUT frame
  (request id 0) carrying UO2 with reason {St.NOT_LOGGED_IN} (NOT_LOGGED_IN) and the text "no login within the login
  timeout", then is closed.
- *Order of a subscribe answer and its replay.* The UB2 answer comes first; then the replay of the
  streams named in the login's resume points (BROADCAST frames with the REPLAY flag and request id 0),
  in sequence order; then the live broadcasts.
- *Give-ups* (BD29) go on the **{giveup_stream}** stream (section 5 names each broadcast's stream).
- *A deal injection* (EC101, EC104) causes, to the participants of the deal: {deal_broadcasts}
  (BF205 when the new requirement leaves the participant short of cover, as on the demo data).
  The figures derived from positions (BD40 positions, BD101 margin, BF204 coverage, BF205 calls) are
  told once per *batch*: the requests of one read of a connection (pipelined requests that arrive
  together). A batch of several deals gives one BD40 per account and series, one BD101 per account
  and currency and one BF204 per participant and clearing house, with the figures after the whole
  batch; a client that sends one request and waits for its answer sees each deal's own. A query in
  the same read sees the deals before it. The sessions guide says more.
- *The buyer's side of a deal answer.* CA100 lists the trades deal by deal (EC104: in the order of its
  deals), each deal's buyer trade first, then its seller trade; each trade's `side` is in its BD6 and
  in CQ11.
- *The settlement stream* ({settlement_id}) is for OTC Clear clearing members: the streams each role may
  subscribe to are listed in section 4.
- *The business clock.* Hong Kong wall time (UTC+8) unless `start_business_time` is set in the
  gateway's configuration; the operator moves it with EC1 and EC2. UQ12 tells the current date and time.
- *`max_deals_per_injection`* is a DCASS parameter (`[limits]` of the reference data), not announced on
  the wire: a batch over it is refused with -700034 INVALID_DEAL_COUNT, whose text names the limit
  ("N deals, 1 to LIMIT allowed").
- *The business date* is a u32 `YYYYMMDD` in {date_u32}; everywhere else it is 8 ASCII digits
  `YYYYMMDD` (the tables say `date YYYYMMDD (u32)` or `date YYYYMMDD (text(8))`).
- *Subscription handles* (UB2) are numbered from 1 across the gateway, not per session: a handle
  is unique among every session's subscriptions and only means something to the session that got it.
3.15 **Exactly-once transactions.** A TRANSACTION flagged REFERENCED (0x0008) names its request id as
its client reference; a client picks references unique per user and business date (the SDK does it for
every transaction). The first transaction with a reference runs as usual. Another TRANSACTION with the
same reference from the same user on the same business date, on any connection and after any restart
of the gateway, runs nothing: it gets the original answer again (its REPLY, or its REJECT with the
original business status), with session status {St.ALREADY_ANSWERED} in place of the original one. When the
gateway stopped after journaling the transaction but before journaling its answer (so no answer ever
left it), the resend gets UR1 with status {St.ALREADY_ANSWERED} and the text "applied; answer lost in a restart".
Only the answers of transactions that reached the clearing system count: a request refused before
(throttle, field error, pending limit) may be sent again with the same reference. References are kept for the
current business date, at most {refs} per user ({refs_code} REFERENCE_LIMIT beyond); a frame without
the flag behaves as always. A referenced request of another kind is served as if unflagged.
"""


def _layout_rows(rec: Record, base: int) -> list[str]:
    rows = []
    off = base
    for f in rec.fields:
        if f.kind == "items":
            rows.append(f"| {off} | {f.size} | `{f.name}_count` | u16 | number of `{f.name}` items |")
            rows.append(f"| {off + f.size} | {f.record.size} × n | `{f.name}` | {f.record.name} | {f.doc} |")
        elif f.kind == "filler":
            rows.append(f"| {off} | {f.size} | filler | zero bytes | |")
        else:
            rows.append(f"| {off} | {f.size} | `{f.name}` | {f.type_name} | {_enum_doc(f)}{f.doc} |")
        off += f.size
    return rows


def _enum_doc(f) -> str:
    if f.kind != "code":
        return ""
    return "(" + ", ".join(f"{m.value} {m.name}" for m in f.enum_cls) + ") "


def _table(rec: Record, base: int) -> list[str]:
    return ["| offset | size | field | type | meaning |", "|---:|---:|---|---|---|", *_layout_rows(rec, base)]


def render() -> str:
    _import_clearing()  # every clearing module declares its business codes when imported
    specs = all_specs()
    s = Settings()
    out: list[str] = [
        "# Protocol reference",
        "",
        "Generated by `python -m gateway.docgen` from the message declarations in `protocol/` and the",
        "status codes of `protocol/status.py` and the clearing core. Do not edit by hand: a test fails when",
        "this file is stale. Golden byte vectors of every message: `tests/golden/vectors.json`, each frame",
        "with the header a live frame of that message carries (a field zero there is zero on the wire).",
        "",
        "## 1. Frame",
        "",
        f"Every frame is a {HEADER_SIZE}-byte header followed by the payload. The payload starts with the",
        "4-byte message type: two ASCII letters and a big-endian u16 number, written `UQ12` (bytes",
        "`55 51 00 0c`). Queries `xQn` are answered by `xAn`. Offsets in the message tables below count from",
        "the start of the payload, so the first field is at offset 4.",
        "",
        *_table(HEADER, 0),
        "",
        "### Frame kinds",
        "",
        "| value | kind | meaning |",
        "|---:|---|---|",
    ]
    for k in Kind:
        out.append(f"| {k.value} | {k.name} | {_kind_doc(k)} |")
    out += ["", "### Flags", "", "| bit | flag |", "|---|---|"]
    for f in Flag:
        if f.value:
            out.append(f"| 0x{f.value:04x} | {f.name} |")
    out += ["", "## 2. Status codes", "", "### Session status (`session_status`)", "",
            "| code | name | text |", "|---:|---|---|"]
    for st in sorted(SessionStatus, key=lambda x: (x.value < 0, abs(x.value))):
        out.append(f"| {st.value} | {st.name} | {TEXTS[st]} |")
    out += ["", "Business status codes are listed in section 6.", ""]
    out.append(RULES.format(St=SessionStatus, port=DEFAULT_PORT, hdr=HEADER_SIZE, maxf=MAX_FRAME_SIZE, ver=VERSION,
                            login_timeout=s.login_timeout, lock_n=s.login_failures_before_lock,
                            lock_window=s.login_failure_window, lock_s=s.lock_seconds, hb=s.heartbeat_interval,
                            idle=s.idle_heartbeats, thr=s.throttle_per_second, pending=s.max_pending,
                            page=s.max_page_items, subs=s.max_subscriptions, replay=s.max_replay,
                            outbuf=s.output_buffer_limit, maxconn=s.max_connections,
                            peraddr=s.max_connections_per_address, giveup_stream=BY_CODE["BD29"].stream,
                            deal_broadcasts=", ".join(f"{c} ({BY_CODE[c].stream})" for c in DEAL_INJECTION_BROADCASTS),
                            settlement_id=f"{int(Stream.SETTLEMENT)} {Stream.SETTLEMENT.name.lower()}",
                            date_u32=_u32_business_dates(specs), refs=s.max_references,
                            refs_code=REFERENCE_LIMIT.number, linger=LINGER_SECONDS,
                            shutdown_linger=SHUTDOWN_LINGER_SECONDS))
    out += ["## 4. Streams", "", "| id | stream | scope | roles that may subscribe |", "|---:|---|---|---|"]
    for st in Stream:
        roles = ", ".join(r for r, streams in ROLE_STREAMS.items() if st in streams)
        out.append(f"| {st.value} | {st.name.lower()} | {'dedicated (one per participant)' if st in DEDICATED else 'public'} "
                   f"| {roles} |")
    out += ["", "## 5. Messages", "", *_naming_rule(), ""]
    out += ["| code | name | kind | answer | stream | operator | section | Python class |",
            "|---|---|---|---|---|---|---|---|"]
    for sp in specs:
        out.append(f"| [{sp.code}](#{sp.code.lower()}) | {sp.name} | {sp.kind.name} | {sp.answer or ''} | "
                   f"{sp.stream or ''} | {'yes' if sp.operator else ''} | {sp.section} | "
                   f"`{sp.cls.__module__.rsplit('.', 1)[-1]}.{sp.cls.__name__}` |")
    out.append("")
    examples = {v["code"]: v for v in golden_vectors()}
    current = None
    for sp in specs:
        if sp.section != current:
            current = sp.section
            out += [f"### {SECTIONS.get(current, current)}", ""]
        rec = sp.record
        size = f"{4 + rec.size} bytes" + (" + items" if rec.has_items else "")
        meta = [f"kind {sp.kind.name}", size]
        if sp.answer:
            meta.append(f"answered by {sp.answer}")
        if sp.stream:
            meta.append(f"stream {sp.stream}")
        if sp.operator:
            meta.append("operator only")
        out += [f"#### {sp.code}", "", f"**{sp.name}** ({', '.join(meta)}). {sp.doc}", "",
                "| offset | size | field | type | meaning |", "|---:|---:|---|---|---|",
                f"| 0 | 4 | `type` | 2 letters + u16 | `{sp.code}` |", *_layout_rows(rec, 4), "",
                *_example(sp, examples[sp.code])]
    out += ["### Records", "", "Records used as nested fields or as items; offsets from the record start.", ""]
    for name in sorted(RECORDS):
        rec = RECORDS[name]
        out += [f"#### record {name}", "", f"{rec.doc} {rec.size} bytes.", "", *_table(rec, 0), ""]
    out += ["## 6. Business status codes", "",
            "Carried in `business_status` of a REJECT whose session status is -2100. Negative: rejection; positive: success or information.",
            "", "| code | name | module | text |", "|---:|---|---|---|"]
    for num in sorted(REGISTRY, key=lambda n: (n < 0, abs(n))):
        e = REGISTRY[num]
        out.append(f"| {e.number} | {e.name} | {e.module} | {e.text} |")
    out.append("")
    return "\n".join(out)


def _u32_business_dates(specs) -> str:
    """Where ``business_date`` is a u32 on the wire: the frame header and the messages and records
    declaring it so."""
    where = ["the frame header"]
    where += [f"{sp.code}" for sp in specs if _u32_date(sp.record)]
    where += [f"record {name}" for name, rec in sorted(RECORDS.items()) if _u32_date(rec)]
    return ", ".join(where)


def _u32_date(rec: Record) -> bool:
    f = rec.field_types.get("business_date")
    return f is not None and f.kind == "int"


def _naming_rule() -> list[str]:
    """How the Python classes are named (protocol/registry.py, class_suffix)."""
    named = ", ".join(f"`{n}` ({c})" for c, n in NAMED_FOR_WHAT_THEY_ARE.items())
    return ["The name (snake case) is the message's name on the command line (`hkpost-client send`); the",
            "Python class is imported from `protocol.messages.<module>` and is named for what the frame does,",
            "the same in every family: a request ends in `Request` (transactions, login, logout, subscribe),",
            "a query in `Query`, the answer to a query in `Answer`, the specific answer of another request in",
            "`Reply`, a broadcast in `Broadcast`. Session frames that are none of these are named for what they",
            f"are: {named}."]


def _example(sp, vector: dict) -> list[str]:
    """The message's golden vector (tests/golden/vectors.json): the Python value, then the frame
    with the header a live frame of the message carries."""
    cls = sp.cls
    frame = bytes.fromhex(vector["frame_hex"])
    hex_lines = [frame[i:i + 32].hex(" ") for i in range(0, len(frame), 32)]
    return [f"Example (golden vector; `from {cls.__module__} import {cls.__name__}`): the frame of",
            "", "```python", f"{_value_repr(sp, vector)}", "```", "",
            f"is {len(frame)} bytes ({HEADER_SIZE}-byte header as a live frame has it: {_header_text(vector)}; "
            "then the payload from the message type):", "",
            "```", *hex_lines, "```", ""]


def _header_text(vector: dict) -> str:
    h = vector["header"]
    said = []
    for name, value in h.items():
        if not value:
            continue
        if name == "request_id":
            said.append(f"request id {value:#018x}")
        elif name == "flags":
            said.append("flags " + " | ".join(f.name for f in Flag if f and f & value))
        elif name == "stream":
            said.append(f"stream {value} ({Stream(value).name.lower()})")
        else:
            said.append(f"{name.replace('_', ' ')} {value}")
    return ", ".join(said) if said else "every field zero"


def _value_repr(sp, vector: dict) -> str:
    from protocol.values import from_dict
    return repr(from_dict(sp.cls, vector["values"]))


def _import_clearing() -> None:
    import importlib
    import pkgutil

    import gateway.clearing as clearing
    for m in pkgutil.walk_packages(clearing.__path__, "gateway.clearing."):
        importlib.import_module(m.name)
    import gateway.handlers as handlers  # the gateway's own business codes (gateway/faults.py, gateway/admin.py)
    handlers.load_all()


def _kind_doc(k: Kind) -> str:
    import protocol.kinds as kinds
    src = Path(kinds.__file__).read_text()
    for line in src.splitlines():
        if line.strip().startswith(f"{k.name} =") and "#" in line:
            return line.split("#", 1)[1].strip()
    return ""


CONFIG_OUT = OUT.parent / "configuration.md"


def render_configuration() -> str:
    """docs/configuration.md from the Settings declaration and its comments."""
    import dataclasses
    import inspect

    import gateway.config as config
    comments: dict[str, str] = {}
    for line in inspect.getsource(config.Settings).splitlines():
        line = line.strip()
        if ":" in line and "#" in line and not line.startswith("#"):
            comments[line.split(":", 1)[0].strip()] = line.split("#", 1)[1].strip()
    out = ["# Configuration", "",
           "Generated by `python -m gateway.docgen` from `gateway/config.py`. Every setting has a default, so",
           "`python -m gateway` needs no file. To override, pass `--config FILE` with a TOML file whose keys are",
           "these names (at top level or under `[gateway]`); command-line options override the file.", "",
           "```toml", "[gateway]", "port = 7600", "heartbeat_interval = 5.0", "max_replay = 20000", "```", "",
           "Every value is type-checked at start against the type column (an integer serves for a number; a",
           "string is never read as a number, nor 1 as true): a wrong one stops the start with one line naming",
           "the key, the expected type and the value, e.g. `hkpost-gateway: setting 'port' in gateway.toml:",
           "expected an integer, got a string ('7600')`; so does an unknown key.", "",
           "| setting | type | default | meaning |", "|---|---|---|---|"]
    for f in dataclasses.fields(config.Settings):
        default = f.default if f.default is not dataclasses.MISSING else ""
        out.append(f"| `{f.name}` | {config.type_text(f.type)} | `{default!r}` | {comments.get(f.name, '')} |")
    return "\n".join(out) + "\n"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--check", action="store_true", help="exit 1 when the generated docs are stale")
    a = p.parse_args(argv)
    outputs = {OUT: render(), CONFIG_OUT: render_configuration()}
    if a.check:
        stale = [str(path) for path, text in outputs.items() if not path.exists() or path.read_text() != text]
        if stale:
            print(f"stale: {', '.join(stale)}: run python -m gateway.docgen", file=sys.stderr)
            return 1
        return 0
    for path, text in outputs.items():
        path.write_text(text)
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
