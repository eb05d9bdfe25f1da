"""Runs cases against whatever listens on host:port, as a black box over TCP.

Each case starts from a known state set through the operator role only (EC5 reset to a fresh
business day at a known time), then its steps run in order on named connections. The first step
that does not get what it expects fails the case with what was expected, what came, and the bytes.
"""
from __future__ import annotations

import asyncio
import dataclasses
import os
import time
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable

import protocol.messages  # noqa: F401 - registers every message declaration
from protocol.codec import EncodeError
from protocol.framing import HEADER_SIZE, encode_frame, header_field
from protocol.kinds import Flag, Kind
from protocol.messages import session as ms
from protocol.messages import system as sy
from protocol.paging import join as join_pages
from protocol.registry import BY_CODE, encode_message
from protocol.session import ThrottleWindow
from protocol.streams import BY_NAME as STREAMS_BY_NAME
from protocol.values import from_dict

from .casefiles import Case
from .driver import PACING_SHARE, Connection, Received, header_bytes
from .expr import ExprError, evaluate, substitute
from .matching import check as check_value
from .matching import get_path

DEFAULT_USERS = {
    "participant": "CPA01",     # the main participant
    "participant2": "CPB02",    # a second participant (isolation, resume)
    "participant3": "CPC03",
    "witness": "CPD04",         # logs in beside hostile cases and must still be served at the end
    "lockout": "CPE05",         # used only by the lockout case (it gets locked)
    "operator": "OPER1",        # the operator role: setup, clearing messages, end of day
    "expired": "EXPIRED1",      # a user whose password has expired
    "member": "OCM01",          # an OTC Clear clearing member
    "member2": "OCM02",         # another clearing member (isolation)
}
RESERVED = {"last", "user", "password", "business_date", "business_date_int", "business_time", "next_business_date",
            "previous_business_date", "i", "op", "options", "witness_conn"}
ANSWER_KINDS = (Kind.REPLY, Kind.REJECT)


@dataclass
class Config:
    host: str = "127.0.0.1"
    port: int = 7600
    users: dict = field(default_factory=lambda: dict(DEFAULT_USERS))
    passwords: dict = field(default_factory=dict)
    strict: bool = False
    slow: bool = False
    destructive: bool = False
    timeout: float = 3.0            # default wait for one expected frame
    case_timeout: float = 120.0     # a whole case
    business_date: str = ""         # EC5 date of every case ("": the business date found at the start)
    business_time: str = "090000"   # EC5 time of every case
    max_drive: int = 20000          # most messages a case may generate to reach a server limit
    verbose: bool = False
    variables: dict = field(default_factory=dict)  # --set NAME=VALUE: overrides the case files' [vars]
    tls: bool = False
    tls_ca: str | None = None       # CA file to verify the server ("": system CAs)
    tls_verify: bool = True

    def ssl_context(self):
        if not self.tls:
            return None
        import ssl
        ctx = ssl.create_default_context(cafile=self.tls_ca or None)
        if not self.tls_verify:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        return ctx

    def password(self, user: str) -> str:
        return self.passwords.get(user, f"pass-{user}")


@dataclass
class Failure:
    step: int          # 1-based step number; 0: setup; -1: the witness session check
    action: str
    message: str
    expected: str = ""
    got: str = ""
    hex: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"step": self.step, "action": self.action, "message": self.message, "expected": self.expected,
                "got": self.got, "hex": self.hex}

    def text(self) -> str:
        where = {0: "setup", -1: "witness session"}.get(self.step, f"step {self.step} ({self.action})")
        lines = [f"{where}: {self.message}"]
        if self.expected:
            lines.append(f"  expected: {self.expected}")
        if self.got:
            lines.append(f"  got:      {self.got}")
        for h in self.hex:
            lines.append(f"  bytes:    {h}")
        return "\n".join(lines)


@dataclass
class CaseResult:
    case: Case
    status: str        # pass | fail | skip | error
    duration: float = 0.0
    reason: str = ""
    failure: Failure | None = None
    transcript: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        d = self.case.describe()
        d.update(status=self.status, duration=round(self.duration, 4), reason=self.reason,
                 failure=self.failure.to_dict() if self.failure else None, transcript=self.transcript)
        return d


@dataclass
class RunResult:
    target: str
    results: list[CaseResult]
    started: float
    duration: float
    strict: bool
    info: dict = field(default_factory=dict)
    stopped: str = ""  # why the run stopped before its last case ("": it did not)

    def counts(self) -> dict:
        out = {"pass": 0, "fail": 0, "skip": 0, "error": 0}
        for r in self.results:
            out[r.status] += 1
        out["total"] = len(self.results)
        return out

    @property
    def ok(self) -> bool:
        c = self.counts()
        return c["fail"] == 0 and c["error"] == 0 and not self.stopped


class TargetUnreachable(ConnectionError):
    """The target cannot be reached at all (refused, no route, no answer to the connect): the run
    stops with this one error instead of one per case."""


class StepFailed(Exception):
    def __init__(self, message: str, expected: str = "", got: str = "", hex: list[str] | None = None):
        super().__init__(message)
        self.message, self.expected, self.got, self.hex = message, expected, got, hex or []


class CaseSkipped(Exception):
    pass


class CaseBroken(Exception):
    """The case itself is wrong (bad message code, unknown field, bad expression)."""


def _kind(value: Any, default: Kind) -> Kind:
    if value is None:
        return default
    if isinstance(value, int):
        return Kind(value)
    try:
        return Kind[str(value).upper()]
    except KeyError:
        raise CaseBroken(f"unknown frame kind {value!r} (one of {', '.join(k.name.lower() for k in Kind)})") from None


def _int(value: Any) -> int:
    if isinstance(value, str):
        try:
            return int(value.strip(), 0)
        except ValueError:
            raise CaseBroken(f"not an integer: {value!r}") from None
    return int(value)


def _stream_id(value: Any) -> int:
    if isinstance(value, int):
        return value
    s = str(value).strip().lower()
    if s.lstrip("-").isdigit():
        return int(s)
    if s in STREAMS_BY_NAME:
        return int(STREAMS_BY_NAME[s])
    raise CaseBroken(f"unknown stream {value!r} (one of {', '.join(STREAMS_BY_NAME)})")


def _convert_fields(fields: Any) -> Any:
    """Stream names to ids, recursively (``stream = "general"`` in a table)."""
    if isinstance(fields, dict):
        return {k: (_stream_id(v) if k == "stream" and isinstance(v, str) else _convert_fields(v))
                for k, v in fields.items()}
    if isinstance(fields, list):
        return [_convert_fields(x) for x in fields]
    return fields


def build_message(code: str, fields: dict | None):
    spec = BY_CODE.get(str(code))
    if spec is None:
        raise CaseBroken(f"unknown message code {code!r}")
    try:
        return from_dict(spec.cls, _convert_fields(fields or {}))
    except (KeyError, ValueError, TypeError) as e:
        raise CaseBroken(f"{code}: {e}") from None


def encode_payload(obj) -> bytes:
    try:
        return encode_message(obj)
    except (EncodeError, Exception) as e:  # noqa: BLE001 - struct errors name the field in EncodeError
        raise CaseBroken(f"cannot encode {obj.CODE}: {e}") from None


def _hex(s: Any) -> bytes:
    text = "".join(str(s).split()).replace("_", "").replace(":", "")
    try:
        return bytes.fromhex(text)
    except ValueError as e:
        raise CaseBroken(f"bad hex {s!r}: {e}") from None


def short_hex(raw: bytes, limit: int = 256) -> str:
    h = raw.hex()
    if len(raw) <= limit:
        return _spaced(h)
    return _spaced(raw[:limit].hex()) + f" ... ({len(raw)} bytes)"


def _spaced(h: str) -> str:
    # header fields then payload, readable: 8-hex-digit groups
    return " ".join(h[i:i + 8] for i in range(0, len(h), 8))


class Runner:
    def __init__(self, config: Config):
        self.config = config
        self.op: Connection | None = None
        self.start_date = config.business_date
        self.info: dict = {}

    # ------------------------------------------------------------ the run
    async def run(self, cases: list[Case], progress: Callable[[int, int, CaseResult | None, Case], None] | None = None
                  ) -> RunResult:
        started = time.time()
        t0 = time.monotonic()
        results: list[CaseResult] = []
        stopped = ""
        try:
            for n, case in enumerate(cases, 1):
                if progress:
                    progress(n, len(cases), None, case)
                try:
                    r = await self.run_case(case)
                except TargetUnreachable as e:
                    stopped = str(e)
                    break
                results.append(r)
                if progress:
                    progress(n, len(cases), r, case)
        finally:
            if self.op is not None:
                await self.op.close()
        return RunResult(f"{self.config.host}:{self.config.port}", results, started, time.monotonic() - t0,
                         self.config.strict, self.info, stopped)

    async def run_case(self, case: Case) -> CaseResult:
        t0 = time.monotonic()
        reason = self._skip_reason(case)
        if reason:
            return CaseResult(case, "skip", 0.0, reason)
        ctx = CaseRun(self, case)
        try:
            await asyncio.wait_for(ctx.run(), case.timeout or self.config.case_timeout)
            status, failure, why = "pass", None, ""
        except StepFailed as e:
            # a setup that fails (operator login or reset refused) means the case could not run
            status = "error" if ctx.step_no == 0 else "fail"
            failure = Failure(ctx.step_no, ctx.action, e.message, e.expected, e.got, e.hex)
            why = e.message if status == "fail" else f"setup failed: {e.message}"
        except CaseSkipped as e:
            status, failure, why = "skip", None, str(e)
        except CaseBroken as e:
            status, why = "error", f"case error: {e}"
            failure = Failure(ctx.step_no, ctx.action, why)
        except asyncio.TimeoutError:
            status, why = "fail", f"case did not finish within {case.timeout or self.config.case_timeout}s"
            failure = Failure(ctx.step_no, ctx.action, why)
        except TargetUnreachable:
            raise
        except (ConnectionError, OSError) as e:
            status, why = "error", f"connection error: {e}"
            failure = Failure(ctx.step_no, ctx.action, why)
        except Exception as e:  # noqa: BLE001 - a runner bug must not stop the run
            status, why = "error", f"runner error: {type(e).__name__}: {e}"
            failure = Failure(ctx.step_no, ctx.action, why, got=traceback.format_exc(limit=4))
        finally:
            await ctx.close_all()
        return CaseResult(case, status, time.monotonic() - t0, why, failure, ctx.transcript)

    def _skip_reason(self, case: Case) -> str:
        if case.recommendation and not self.config.strict:
            return "recommendation: runs with --strict"
        if "slow" in case.tags and not self.config.slow:
            return "slow: runs with --slow"
        if "destructive" in case.tags and not self.config.destructive:
            return "changes server state a reset does not restore: runs with --destructive"
        unknown = sorted(c for c in message_codes(case) if c not in BY_CODE)
        if unknown:
            return f"this runner's protocol/ declares no {', '.join(unknown)}"
        return ""

    # ------------------------------------------------------------ the operator session (setup)
    async def operator(self) -> Connection:
        if self.op is not None and self.op.is_open:
            return self.op
        if self.op is not None:
            await self.op.close()
        user = self.config.users["operator"]
        op = Connection("op", self.config.host, self.config.port, self.config.ssl_context())
        await op.open(self.config.timeout)
        op.use_request_id(op.next_request_id())
        login = ms.LoginRequest(user=user, password=self.config.password(user), application_id="hkpost-conformance",
                                forced=True)
        await op.write(encode_frame(Kind.LOGIN, encode_message(login), op.last_request_id))
        r = await wait_answer(op, op.last_request_id, self.config.timeout)
        if r is None or r.kind != Kind.REPLY or r.code != "UL2":
            got = r.summary() if r else (op.close_reason or "no answer")
            await op.close()
            raise StepFailed(f"operator login as {user} failed", "REPLY UL2", got, [short_hex(r.raw)] if r else [])
        op.login = r.as_vars()
        op.user = user
        op.start_heartbeats()
        self.op = op
        self.info.setdefault("operator_login", {k: v for k, v in op.login.items() if k not in ("hex", "header")})
        return op


def message_codes(case: Case) -> set[str]:
    """The literal message codes a case sends or expects."""
    codes: set[str] = set()

    def add(v):
        if isinstance(v, str) and "${" not in v:
            codes.add(v)
    for step in case.steps:
        if step["do"] in ("send", "operator", "raw"):
            add(step.get("msg"))
        if step["do"] == "expect":
            add(step.get("code"))
        if isinstance(step.get("expect"), dict):
            add(step["expect"].get("code"))
    codes.discard(None)
    return codes


def lint(case: Case) -> list[str]:
    """Problems a case has against this runner's protocol declarations, found without a target:
    unknown message codes, field names the message does not have (through nested records and
    items), and the kind of each frame a step expects."""
    problems: list[str] = []

    def fields_of(rec, data: Any, where: str) -> None:
        if not isinstance(data, dict):
            return
        for name, value in data.items():
            f = rec.field_types.get(name)
            if f is None:
                problems.append(f"{where}: {rec.name} has no field {name!r} (fields: {', '.join(rec.field_types)})")
            elif f.kind == "record":
                fields_of(f.record, value, f"{where}.{name}")
            elif f.kind == "items" and isinstance(value, list):
                for i, it in enumerate(value):
                    fields_of(f.record, it, f"{where}.{name}[{i}]")

    for n, step in enumerate(case.steps, 1):
        where = f"{case.id} step {n} ({step['do']})"
        code = step.get("msg")
        if step["do"] in ("send", "operator", "raw") and isinstance(code, str) and "${" not in code:
            spec = BY_CODE.get(code)
            if spec is None:
                problems.append(f"{where}: unknown message {code}")
            else:
                fields_of(spec.record, step.get("fields"), where)
                if step["do"] == "operator" and not spec.operator and spec.kind != Kind.QUERY:
                    problems.append(f"{where}: {code} is not an operator request")
        exps = [step] if step["do"] == "expect" else ([step["expect"]] if isinstance(step.get("expect"), dict) else [])
        for e in exps:
            c = e.get("code")
            if isinstance(c, str) and "${" not in c and c not in BY_CODE:
                problems.append(f"{where}: expects unknown message {c}")
            k = e.get("kind")
            if k is not None and not isinstance(k, int) and str(k).upper() not in Kind.__members__:
                problems.append(f"{where}: unknown kind {k!r}")
    return problems


async def wait_answer(conn: Connection, rid: int, timeout: float) -> Received | None:
    deadline = time.monotonic() + timeout
    while True:
        for i, r in enumerate(conn.pending):
            if r.kind in ANSWER_KINDS and r.frame.request_id == rid:
                return conn.pending.pop(i)
        if conn.closed:
            return None
        if not await conn.wait_change(deadline):
            return None


class CaseRun:
    """One run of one case: its connections, its variables and its transcript."""

    def __init__(self, runner: Runner, case: Case):
        self.runner = runner
        self.config = runner.config
        self.case = case
        self.conns: dict[str, Connection] = {}
        self.vars: dict[str, Any] = {
            "user": dict(self.config.users),
            "password": {role: self.config.password(u) for role, u in self.config.users.items()},
            "last": {},
            "options": {"max_drive": self.config.max_drive, "timeout": self.config.timeout},
        }
        self.transcript: list[str] = []
        self.step_no = 0
        self.action = "setup"

    def log(self, line: str) -> None:
        self.transcript.append(line)

    # ------------------------------------------------------------ flow
    async def run(self) -> None:
        for k, v in {**self.case.defaults, **self.config.variables}.items():
            if k in self.vars or k in RESERVED:
                raise CaseBroken(f"variable {k!r} is reserved")
            self.vars[k] = v
        await self.setup()
        if self.case.witness:
            self.action = "witness login"
            await self.login_conn("witness_conn", self.config.users["witness"], self.config.password(
                self.config.users["witness"]), expect=None, internal=True)
        for i, step in enumerate(self.case.steps, 1):
            self.step_no, self.action = i, step["do"]
            await self.run_step(step)
        if self.case.witness:
            self.step_no, self.action = -1, "witness"
            w = self.conns["witness_conn"]
            if w.closed:
                raise StepFailed("the server dropped another, well-behaved session", "witness session still open",
                                 w.close_reason)
            rid = w.next_request_id()
            w.use_request_id(rid)
            await w.write(encode_frame(Kind.QUERY, encode_payload(ms.BusinessDateQuery()), rid))
            r = await wait_answer(w, rid, self.config.timeout)
            if r is None or r.kind != Kind.REPLY:
                raise StepFailed("the server stopped serving another session", "REPLY UA12 to UQ12 on the witness session",
                                 r.summary() if r else (w.close_reason if w.closed else "no answer"),
                                 [short_hex(r.raw)] if r else [])
            self.log("witness session still served")

    async def setup(self) -> None:
        self.step_no, self.action = 0, "setup"
        try:
            op = await self.runner.operator()
        except (ConnectionError, OSError, asyncio.TimeoutError) as e:
            why = os.strerror(e.errno) if isinstance(e, OSError) and e.errno else (str(e) or "no answer in time")
            raise TargetUnreachable(f"cannot reach {self.config.host}:{self.config.port}: {why}") from None
        if not self.runner.start_date:
            a = await self.op_request(ms.BusinessDateQuery())
            self.runner.start_date = a.message.business_date
        if self.case.setup.get("reset", True):
            when = str(self.sub(self.case.setup.get("time") or self.config.business_time))
            day = str(self.sub(self.case.setup.get("date") or self.runner.start_date))
            await self.op_request(sy.ResetEmulatorRequest(business_date=day, business_time=when))
            self.log(f"setup: EC5 reset to {day} {when}")
        a = await self.op_request(ms.BusinessDateQuery())
        self.vars["business_date"] = a.message.business_date
        self.vars["business_date_int"] = int(a.message.business_date)
        self.vars["business_time"] = a.message.business_time
        self.vars["next_business_date"] = a.message.next_business_date
        self.vars["previous_business_date"] = a.message.previous_business_date
        self.vars["op"] = {"login": op.login}

    async def op_request(self, msg) -> Received:
        op = await self.runner.operator()
        rid = op.next_request_id()
        op.use_request_id(rid)
        await op.write(encode_frame(msg.__message__.kind, encode_payload(msg), rid))
        r = await wait_answer(op, rid, self.config.timeout)
        if r is None or r.kind != Kind.REPLY:
            raise StepFailed(f"operator request {msg.CODE} was not accepted", f"REPLY to {msg.CODE}",
                             r.summary() if r else (op.close_reason or "no answer"), [short_hex(r.raw)] if r else [])
        return r

    async def close_all(self) -> None:
        for c in self.conns.values():
            await c.close()

    # ------------------------------------------------------------ steps
    async def run_step(self, step: dict) -> None:
        repeat = step.get("repeat")
        action = step["do"]
        if repeat is not None and action == "send" and step.get("expect") is None:
            await self.send_burst(step, int(self.sub(repeat)))
            return
        if repeat is not None and action != "operator":
            n = int(self.sub(repeat))
            for i in range(n):
                self.vars["i"] = i
                await getattr(self, f"do_{action}")(step)
            return
        await getattr(self, f"do_{action}")(step)

    def sub(self, value: Any) -> Any:
        try:
            return substitute(value, self.vars)
        except ExprError as e:
            raise CaseBroken(str(e)) from None

    def params(self, step: dict, lazy: tuple = ("expect",)) -> dict:
        return {k: (v if k in lazy else self.sub(v)) for k, v in step.items()}

    def conn(self, name: str, must_be_open: bool = False) -> Connection:
        c = self.conns.get(name)
        if c is None:
            raise CaseBroken(f"no connection named {name!r} (open it with connect or login first)")
        if must_be_open and c.writer is None:
            raise CaseBroken(f"connection {name!r} is not open")
        return c

    async def open_conn(self, name: str, heartbeat: bool = True, internal: bool = False) -> Connection:
        if not internal and (not name.isidentifier() or name in RESERVED):
            raise CaseBroken(f"bad connection name {name!r}: an identifier, not one of {', '.join(sorted(RESERVED))}")
        old = self.conns.get(name)
        if old is not None:
            await old.close()
        c = Connection(name, self.config.host, self.config.port, self.config.ssl_context())
        c.heartbeats = heartbeat
        try:
            await c.open(self.config.timeout)
        except (ConnectionError, OSError, asyncio.TimeoutError) as e:
            raise StepFailed(f"cannot connect to {self.config.host}:{self.config.port}", "a TCP connection",
                             str(e) or type(e).__name__) from None
        self.conns[name] = c
        self.sync_vars(c)
        self.log(f"{name}: connected")
        return c

    def sync_vars(self, c: Connection) -> None:
        v = self.vars.setdefault(c.name, {})
        v.update(user=c.user, login=c.login or {}, request_id=c.last_request_id,
                 seen={s: (max(x)[1] if x else 0) for s, x in c.seen.items()}, closed=c.closed)

    async def do_connect(self, step: dict) -> None:
        p = self.params(step)
        await self.open_conn(p.get("on", "main"), bool(p.get("heartbeat", True)))

    async def do_login(self, step: dict) -> None:
        p = self.params(step)
        name = p.get("on", "main")
        role = p.get("as", "participant")
        user = p.get("user")
        if user is None:
            if role not in self.config.users:
                raise CaseBroken(f"no user for role {role!r} (roles: {', '.join(self.config.users)})")
            user = self.config.users[role]
        password = p.get("password", self.config.password(user))
        resume = p.get("resume", [])
        if isinstance(resume, str):
            resume = self.conn(resume).resume_points()
        points = [ms.ResumePoint(stream=_stream_id(r["stream"]), business_date=int(r.get("business_date", 0)),
                                 last_sequence=int(r.get("last_sequence", 0))) for r in resume]
        await self.login_conn(name, str(user), str(password), forced=bool(p.get("forced", False)), resume=points,
                              heartbeat=bool(p.get("heartbeat", True)), expect=step.get("expect"),
                              application_id=str(p.get("application_id", "hkpost-conformance")))

    async def login_conn(self, name: str, user: str, password: str, *, forced: bool = False, resume=(),
                         heartbeat: bool = True, expect: dict | None, application_id: str = "hkpost-conformance",
                         internal: bool = False) -> None:
        c = self.conns.get(name)
        if c is None or c.closed or c.bytes_sent:
            c = await self.open_conn(name, heartbeat, internal)  # a login always starts a fresh connection
        c.heartbeats = heartbeat
        msg = ms.LoginRequest(user=user, password=password, application_id=application_id, forced=forced,
                              resume=list(resume))
        rid = c.next_request_id()
        c.use_request_id(rid)
        await c.write(encode_frame(Kind.LOGIN, encode_payload(msg), rid))
        self.log(f"{name}: -> LOGIN UL1 user={user} forced={int(forced)} resume={[(r.stream, r.business_date, r.last_sequence) for r in resume]} rid={rid}")
        if expect is None:
            expect = {"kind": "reply", "code": "UL2", "session_status": {"in": [0, 2000, 2028]}}
        got = await self.expect(c, expect)
        r = got[-1]
        if r.kind == Kind.REPLY and r.code == "UL2":
            c.login = r.as_vars()
            c.user = user
            c.password = password
            c.start_heartbeats()
        self.sync_vars(c)

    async def do_send(self, step: dict) -> None:
        p = self.params(step)
        c = self.conn(p.get("on", "main"), must_be_open=True)
        msg = build_message(p["msg"], p.get("fields"))
        kind = _kind(p.get("kind"), msg.__message__.kind)
        rid = _int(p["request_id"]) if "request_id" in p else c.next_request_id()
        c.use_request_id(rid)
        data = encode_frame(kind, encode_payload(msg), rid)
        await c.pace()
        await c.write(data)
        self.log(f"{c.name}: -> {kind.name} {msg.CODE} rid={rid}" + (f" {p.get('fields')}" if p.get("fields") else ""))
        if msg.CODE == "UB1":
            c.subscriptions += [dict(stream=i.stream, broadcast=i.broadcast, filter=i.filter) for i in msg.items]
        self.sync_vars(c)
        if step.get("expect") is not None:
            await self.expect(c, step["expect"])

    async def send_burst(self, step: dict, n: int) -> None:
        """A repeated send without expectation: every frame built first, then one write (a burst)."""
        if n > self.config.max_drive:
            raise CaseSkipped(f"the case needs a burst of {n} requests, more than --max-drive {self.config.max_drive}")
        c = None
        frames = []
        code = ""
        for i in range(n):
            self.vars["i"] = i
            if i % 200 == 199:
                await asyncio.sleep(0)
            p = self.params(step)
            c = self.conn(p.get("on", "main"), must_be_open=True)
            msg = build_message(p["msg"], p.get("fields"))
            code = msg.CODE
            kind = _kind(p.get("kind"), msg.__message__.kind)
            rid = _int(p["request_id"]) if "request_id" in p else c.next_request_id()
            c.use_request_id(rid)
            frames.append(encode_frame(kind, encode_payload(msg), rid))
        if c is None:
            return
        data = b"".join(frames)
        await c.write(data)
        self.log(f"{c.name}: -> burst of {n} x {code} ({len(data)} bytes in one write), last rid={c.last_request_id}")
        self.sync_vars(c)

    async def do_subscribe(self, step: dict) -> None:
        p = self.params(step)
        c = self.conn(p.get("on", "main"), must_be_open=True)
        items = []
        for s in p.get("streams", []):
            if isinstance(s, dict):
                items.append({"stream": _stream_id(s.get("stream", 0)), "broadcast": s.get("broadcast", ""),
                              "filter": s.get("filter", "")})
            else:
                items.append({"stream": _stream_id(s)})
        if not items:
            raise CaseBroken("subscribe needs streams")
        msg = build_message("UB1", {"items": items})
        rid = c.next_request_id()
        c.use_request_id(rid)
        await c.pace()
        await c.write(encode_frame(Kind.SUBSCRIBE, encode_payload(msg), rid))
        c.subscriptions += items
        self.log(f"{c.name}: -> SUBSCRIBE UB1 {items} rid={rid}")
        expect = step.get("expect")
        if expect is None:
            expect = {"kind": "reply", "code": "UB2",
                      "fields": {"items": [{"status": 0, "handle": {"gt": 0}} for _ in items]}}
        await self.expect(c, expect)

    async def do_raw(self, step: dict) -> None:
        p = self.params(step)
        c = self.conn(p.get("on", "main"), must_be_open=True)
        copies = int(p.get("copies", 1))
        chunks: list[bytes] = []
        if "hex" in p:
            data = _hex(p["hex"]) * copies
            rid = header_field(data, "request_id")
            if rid is not None:
                c.use_request_id(rid)
        else:
            if "payload" in p:
                payload = _hex(p["payload"])
                default_kind = Kind.TRANSACTION
            else:
                msg = build_message(p["msg"], p.get("fields"))
                payload = encode_payload(msg)
                default_kind = msg.__message__.kind
            payload += _hex(p.get("append", ""))
            header = dict(p.get("header", {}))
            kind = _kind(header.pop("kind", p.get("kind")), default_kind)
            data = b""
            for k in range(copies):
                rid = _int(header.get("request_id", p.get("request_id", c.next_request_id())))
                c.use_request_id(rid)
                h = {k2: _int(v) for k2, v in header.items() if k2 != "request_id"}
                length = h.pop("length", HEADER_SIZE + len(payload))
                data += header_bytes(length, int(kind), rid, **h) + payload
        if "truncate" in p:
            data = data[:int(p["truncate"])]
        splits = [int(x) for x in p.get("split", [])]
        pos = 0
        for n in splits:
            chunks.append(data[pos:pos + n])
            pos += n
        if pos < len(data):
            chunks.append(data[pos:])
        pause = float(p.get("pause", 0.05))
        # automatic heartbeats must not land inside a frame being written in pieces, nor after a
        # frame left incomplete: they pause during the step, and stop for good when the bytes sent
        # may not end on a frame boundary (hex, truncate, a length override)
        hb = c.heartbeats
        c.heartbeats = False
        for i, ch in enumerate(chunks):
            if i and pause:
                await asyncio.sleep(pause)
            await c.write(ch)
        if hb and not ("hex" in p or "truncate" in p or "length" in p.get("header", {})):
            c.heartbeats = True
        self.log(f"{c.name}: -> raw {len(data)} bytes in {len(chunks)} write(s): {short_hex(data, 96)}")
        self.sync_vars(c)
        if step.get("expect") is not None:
            await self.expect(c, step["expect"])

    async def do_operator(self, step: dict) -> None:
        """Operator requests, pipelined when repeated; every one must be answered by a REPLY."""
        n = int(self.sub(step.get("repeat", 1)))
        if n > self.config.max_drive:
            raise CaseSkipped(f"the case needs {n} operator requests, more than --max-drive {self.config.max_drive}")
        op = await self.runner.operator()
        login = op.login or {}
        window = max(1, min(256, int(login.get("max_pending", 100) or 100) // 2))
        throttle = int(login.get("throttle_per_second", 0) or 0)
        pacer = ThrottleWindow(throttle, time.monotonic()) if throttle else None
        inflight: list[tuple[int, str]] = []
        t0 = time.monotonic()
        last: Received | None = None
        exp = step.get("expect")
        code = ""
        for i in range(n):
            self.vars["i"] = i
            await asyncio.sleep(0)  # let heartbeats and readers run during long drives
            p = self.params({k: v for k, v in step.items() if k != "repeat"})
            msg = build_message(p["msg"], p.get("fields"))
            code = msg.CODE
            if pacer is not None:
                wait = pacer.delay(time.monotonic(), PACING_SHARE)
                if wait:
                    await asyncio.sleep(wait)
            rid = op.next_request_id()
            op.use_request_id(rid)
            await op.write(encode_frame(msg.__message__.kind, encode_payload(msg), rid))
            inflight.append((rid, code))
            if len(inflight) >= window or i == n - 1:
                for r_id, r_code in inflight:
                    r = await wait_answer(op, r_id, self.config.timeout)
                    if r is None or r.kind != Kind.REPLY or r.frame.session_status != 0:
                        raise StepFailed(f"operator request {r_code} #{i + 1} was not accepted",
                                         f"REPLY (session_status 0) to {r_code} rid={r_id}",
                                         r.summary() if r else (op.close_reason or "no answer"),
                                         [short_hex(r.raw)] if r else [])
                    if exp is not None:
                        self.assert_frame(r, self.sub(exp))
                    last = r
                inflight.clear()
        self.log(f"op: -> {n} x {code}, all answered ({time.monotonic() - t0:.3f}s)")
        if last is not None:
            self.remember(op, last, self.sub(exp).get("save") if exp else None)

    async def do_expect(self, step: dict) -> None:
        c = self.conn(step.get("on", "main"))
        await self.expect(c, {k: v for k, v in step.items() if k not in ("do", "on", "repeat", "note")})

    async def do_expect_none(self, step: dict) -> None:
        p = self.params(step)
        c = self.conn(p.get("on", "main"))
        within = float(p.get("within", 0.5))
        kind = _kind(p.get("kind"), Kind.BROADCAST)
        base = self.selector(c, {**p, "kind": kind.name.lower()}, kind)
        seq = p.get("sequence")

        def sel(r: Received) -> bool:
            if not base(r):
                return False
            problems: list[str] = []
            if seq is not None:
                check_value(seq, r.frame.sequence, "sequence", problems)
            return not problems
        deadline = time.monotonic() + within
        start_hb = len(c.heartbeats_received())
        while True:
            if kind == Kind.HEARTBEAT:
                hits = c.heartbeats_received()[start_hb:]
            else:
                hits = [r for r in c.pending if sel(r)]
            if hits:
                raise StepFailed(f"a frame came that must not come within {within}s",
                                 f"no {kind.name} {p.get('code', '')}".rstrip(), hits[0].summary(),
                                 [short_hex(h.raw) for h in hits[:3]])
            if not await c.wait_change(deadline):
                break
            if c.closed and kind != Kind.HEARTBEAT and not any(sel(r) for r in c.pending):
                break
        self.log(f"{c.name}: no {kind.name} {p.get('code', '')} within {within}s")

    async def do_expect_closed(self, step: dict) -> None:
        p = self.params(step)
        c = self.conn(p.get("on", "main"))
        within = float(p.get("within", self.config.timeout))
        deadline = time.monotonic() + within
        while not c.closed:
            if not await c.wait_change(deadline):
                break
        if not c.closed:
            raise StepFailed(f"the server did not close the connection within {within}s", "connection closed",
                             "connection still open; frames since: " + "; ".join(r.summary() for r in c.pending[-3:]),
                             [short_hex(r.raw) for r in c.pending[-3:]])
        if c.protocol_error:
            raise StepFailed("the server sent bytes that cannot be framed before closing", "well-framed frames",
                             c.protocol_error)
        self.log(f"{c.name}: closed by the server ({c.close_reason})")
        self.sync_vars(c)

    async def do_expect_sequence(self, step: dict) -> None:
        p = self.params(step)
        names = p.get("on", "main")
        names = [names] if isinstance(names, str) else list(names)
        stream = _stream_id(p.get("stream", 1))
        bdate = int(p.get("business_date", self.vars.get("business_date_int", 0)))
        seqs: list[int] = []
        for n in names:
            seqs += [s for d, s in self.conn(n).seen.get(stream, []) if d == bdate]
        first = int(p.get("first", 1))
        want_last = p.get("last")
        got = _ranges(seqs)
        problems = []
        if not seqs:
            problems.append("no broadcast")
        else:
            dups = sorted({s for s in seqs if seqs.count(s) > 1})
            if dups:
                problems.append(f"duplicates {_ranges(dups)}")
            expected_run = list(range(first, first + len(seqs)))
            if seqs != expected_run:
                missing = sorted(set(range(first, max(seqs) + 1)) - set(seqs))
                if missing:
                    problems.append(f"gaps {_ranges(missing)}")
                if sorted(set(seqs)) != [s for i, s in enumerate(seqs) if s not in seqs[:i]]:
                    problems.append("out of order")
                if seqs[0] != first:
                    problems.append(f"starts at {seqs[0]}")
            if want_last is not None and seqs[-1] != int(want_last):
                problems.append(f"ends at {seqs[-1]}, not {want_last}")
        expected = f"stream {stream} date {bdate} sequences {first}..{want_last if want_last is not None else 'n'}, " \
                   f"each once, in order, over {', '.join(names)}"
        if problems:
            raise StepFailed("sequence numbers: " + "; ".join(problems), expected, f"sequences {got}")
        self.log(f"sequence ok on stream {stream}: {got} over {', '.join(names)}")

    async def do_wait(self, step: dict) -> None:
        p = self.params(step)
        s = float(p.get("seconds", 0))
        self.log(f"wait {s}s")
        await asyncio.sleep(s)

    async def do_disconnect(self, step: dict) -> None:
        p = self.params(step)
        c = self.conn(p.get("on", "main"))
        if p.get("logout") and c.is_open:
            rid = c.next_request_id()
            c.use_request_id(rid)
            await c.write(encode_frame(Kind.LOGOUT, encode_payload(ms.LogoutRequest()), rid))
            deadline = time.monotonic() + self.config.timeout
            while not c.closed and await c.wait_change(deadline):
                pass
        await c.close()
        self.log(f"{c.name}: disconnected by the client")
        self.sync_vars(c)

    def _expr(self, text: Any) -> Any:
        v = self.sub(text)
        if isinstance(v, str):
            try:
                return evaluate(v, self.vars)
            except ExprError as e:
                raise CaseBroken(str(e)) from None
        return v

    async def do_skip_if(self, step: dict) -> None:
        if self._expr(step["expr"]):
            raise CaseSkipped(str(self.sub(step.get("reason", f"skipped: {step['expr']}"))))

    async def do_slow_if(self, step: dict) -> None:
        if not self.config.slow and self._expr(step["expr"]):
            raise CaseSkipped(str(self.sub(step.get("reason", f"slow on this server ({step['expr']}): runs with --slow"))))

    async def do_set(self, step: dict) -> None:
        for k, v in (step.get("vars") or {}).items():
            if k in RESERVED or k in self.conns:
                raise CaseBroken(f"cannot set {k!r}: reserved or a connection name")
            self.vars[k] = self._expr(v) if isinstance(v, str) and not v.startswith("${") else self.sub(v)

    async def do_check(self, step: dict) -> None:
        if not self._expr(step["expr"]):
            raise StepFailed(str(self.sub(step.get("message", "check failed"))), str(step["expr"]),
                             self._explain(step["expr"]))

    def _explain(self, expr: str) -> str:
        import re
        names = sorted(set(re.findall(r"[A-Za-z_][\w]*(?:\.\w+)+|\b[a-z_]\w*\b", str(expr))))
        out = []
        for n in names:
            try:
                out.append(f"{n}={evaluate(n, self.vars)!r}")
            except ExprError:
                pass
        return ", ".join(out)

    # ------------------------------------------------------------ expectations
    def selector(self, c: Connection, exp: dict, kind: Kind):
        base = self._selector(c, exp, kind)
        where = exp.get("where") or {}
        if not where:
            return base

        def chosen(r: Received) -> bool:
            if not base(r) or r.message is None:
                return False
            d = r.as_vars()
            problems: list[str] = []
            for k, v in where.items():
                try:
                    check_value(v, get_path(d, k), k, problems)
                except KeyError:
                    return False
            return not problems
        return chosen

    def _selector(self, c: Connection, exp: dict, kind: Kind):
        code = exp.get("code")
        stream = exp.get("stream")
        stream = _stream_id(stream) if stream is not None else None
        rid = exp.get("request_id", "default")
        if kind in ANSWER_KINDS:
            want = c.last_request_id if rid == "default" else (None if rid == "any" else _int(rid))
            if want is None:
                # any request: pick the first answer that fits everything asked of its header
                keys = [k for k in ("session_status", "business_status", "field_offset") if k in exp]

                def fits(r: Received) -> bool:
                    if r.kind != kind or (code is not None and r.code != code):
                        return False
                    problems: list[str] = []
                    h = r.header()
                    for k in keys:
                        check_value(exp[k], h[k], k, problems)
                    return not problems
                return fits
            return lambda r: r.kind in ANSWER_KINDS and r.frame.request_id == want
        if kind == Kind.BROADCAST:
            want = 0 if rid == "default" else (None if rid == "any" else _int(rid))
            return lambda r: (r.kind == Kind.BROADCAST and (code is None or r.code == code)
                              and (stream is None or r.frame.stream == stream)
                              and (want is None or r.frame.request_id == want))
        want = None if rid in ("default", "any") else _int(rid)
        return lambda r: r.kind == kind and (want is None or r.frame.request_id == want)

    async def expect(self, c: Connection, raw_exp: dict) -> list[Received]:
        exp = self.sub(raw_exp)
        if exp.get("stream") is not None:
            exp["stream"] = _stream_id(exp["stream"])
        kind = _kind(exp.get("kind"), Kind.REPLY)
        count = int(exp.get("count", 1))
        within = float(exp.get("within", self.config.timeout))
        deadline = time.monotonic() + within
        matched: list[Received] = []
        if kind == Kind.HEARTBEAT:
            start = getattr(c, "_hb_seen", 0)
            while True:
                hbs = c.heartbeats_received()[start:]
                if len(hbs) >= count:
                    matched = hbs[:count]
                    c._hb_seen = start + len(hbs)
                    break
                if c.closed or not await c.wait_change(deadline):
                    raise StepFailed(f"no heartbeat within {within}s" + (f" ({c.close_reason})" if c.closed else ""),
                                     f"{count} HEARTBEAT frame(s)", self._pending_summary(c),
                                     [short_hex(r.raw) for r in c.pending[-3:]])
            self.log(f"{c.name}: <- {count} HEARTBEAT")
            return matched
        sel = self.selector(c, exp, kind)
        while True:
            i = 0
            while i < len(c.pending) and len(matched) < count:
                if sel(c.pending[i]):
                    matched.append(c.pending.pop(i))
                else:
                    i += 1
            if len(matched) >= count:
                break
            if c.closed:
                break  # frames that came before the close were all scanned above
            if not await c.wait_change(deadline):
                break
        matched = [await self.join_segments(c, r, deadline) for r in matched]
        for r in matched:
            self.assert_frame(r, exp)
            self.log(f"{c.name}: <- {r.summary()}")
        if len(matched) < count:
            what = describe_expectation(exp, kind, c)
            why = f"connection closed ({c.close_reason})" if c.closed else f"nothing matching within {within}s"
            if c.protocol_error:
                why = c.protocol_error
            raise StepFailed(f"{why}: got {len(matched)} of {count}", what, self._pending_summary(c),
                             [short_hex(r.raw) for r in c.pending[:3]])
        for r in matched:
            self.remember(c, r, exp.get("save"))
        if exp.get("save") and count > 1:
            self.vars[exp["save"]]["all"] = [r.as_vars() for r in matched]
        self.sync_vars(c)
        return matched

    async def join_segments(self, c: Connection, first: Received, deadline: float) -> Received:
        """A query answer in several REPLY segments (the last flagged LAST_SEGMENT) as one answer
        whose items are all the segments' items; the header is the first segment's."""
        if first.kind != Kind.REPLY or first.frame.flags & Flag.LAST_SEGMENT or not first.frame.segment:
            return first
        parts = [first]
        rid = first.frame.request_id
        while not parts[-1].frame.flags & Flag.LAST_SEGMENT:
            nxt = next((r for r in c.pending if r.kind == Kind.REPLY and r.frame.request_id == rid), None)
            if nxt is not None:
                c.pending.remove(nxt)
                parts.append(nxt)
                continue
            if c.closed or not await c.wait_change(deadline):
                raise StepFailed(f"answer segments stopped at {len(parts)} without LAST_SEGMENT",
                                 f"REPLY segments of request {rid} up to one flagged LAST_SEGMENT (0x0001)",
                                 "; ".join(p.summary() for p in parts), [short_hex(p.raw) for p in parts[-2:]])
        segs = [p.frame.segment for p in parts]
        if segs != list(range(1, len(parts) + 1)):
            raise StepFailed("answer segments are not numbered 1..n in order", "segments 1..n",
                             f"segments {segs}", [short_hex(p.raw) for p in parts])
        msg = first.message
        rec = getattr(type(msg), "__record__", None)
        if msg is not None and rec is not None and rec.has_items:
            msg = join_pages([p.message for p in parts if p.message is not None])
        return Received(first.frame, b"".join(p.raw for p in parts), first.at, msg, first.error, len(parts))

    def _pending_summary(self, c: Connection) -> str:
        if not c.pending:
            return "nothing" + (f" (connection closed: {c.close_reason})" if c.closed else "")
        s = "; ".join(r.summary() for r in c.pending[:5])
        return s + (f" ... and {len(c.pending) - 5} more" if len(c.pending) > 5 else "")

    def assert_frame(self, r: Received, exp: dict) -> None:
        problems: list[str] = []
        kind = _kind(exp.get("kind"), Kind.REPLY)
        if r.kind != kind:
            problems.append(f"kind: expected {kind.name}, got {Kind(r.kind).name if r.kind in Kind._value2member_map_ else r.kind}")
        if "code" in exp and r.code != exp["code"]:
            problems.append(f"message: expected {exp['code']}, got {r.code or '-'}")
        h = r.header()
        for k in ("session_status", "business_status", "field_offset", "flags", "stream", "sequence", "segment",
                  "request_id"):
            if k in exp and not (k == "request_id" and exp[k] in ("any", "default")):
                check_value(exp[k], h[k], k, problems)
        for k, v in (exp.get("header") or {}).items():
            if k not in h:
                raise CaseBroken(f"unknown header field {k!r} (fields: {', '.join(h)})")
            check_value(v, h[k], f"header.{k}", problems)
        fields = exp.get("fields") or {}
        if fields:
            if r.message is None:
                problems.append(f"fields: the payload does not decode ({r.error})")
            else:
                d = r.as_vars()
                for k, v in fields.items():
                    try:
                        got = get_path(d, k)
                    except KeyError as e:
                        problems.append(f"{k}: no such field in {r.code} ({e.args[0]})")
                        continue
                    check_value(v, got, k, problems)
        if problems:
            raise StepFailed("; ".join(problems), describe_expectation(exp, kind, None), r.summary(), [short_hex(r.raw)])

    def remember(self, c: Connection | None, r: Received, save: str | None) -> None:
        v = r.as_vars()
        last = self.vars["last"]
        last[Kind(r.kind).name.lower() if r.kind in Kind._value2member_map_ else str(r.kind)] = v
        last["frame"] = v
        if c is not None and c.name in self.vars:
            self.vars[c.name]["last"] = v
        if save:
            if save in RESERVED or save in self.conns:
                raise CaseBroken(f"cannot save as {save!r}: reserved or a connection name")
            self.vars[save] = v


def describe_expectation(exp: dict, kind: Kind, c: Connection | None) -> str:
    parts = [kind.name]
    if "code" in exp:
        parts.append(str(exp["code"]))
    if kind in ANSWER_KINDS and c is not None:
        rid = exp.get("request_id", "default")
        parts.append(f"request_id={c.last_request_id if rid == 'default' else rid}")
    for k in ("session_status", "business_status", "field_offset", "flags", "stream", "sequence", "segment"):
        if k in exp:
            parts.append(f"{k}={exp[k]!r}")
    if exp.get("header"):
        parts.append(f"header={exp['header']!r}")
    if exp.get("where"):
        parts.append(f"where={exp['where']!r}")
    if exp.get("fields"):
        parts.append(f"fields={exp['fields']!r}")
    if int(exp.get("count", 1)) != 1:
        parts.append(f"x{exp['count']}")
    return " ".join(parts)


def _ranges(seqs: list[int]) -> str:
    if not seqs:
        return "[]"
    out, start, prev = [], seqs[0], seqs[0]
    for s in seqs[1:]:
        if s == prev + 1:
            prev = s
            continue
        out.append(f"{start}" if start == prev else f"{start}-{prev}")
        start = prev = s
    out.append(f"{start}" if start == prev else f"{start}-{prev}")
    return "[" + ", ".join(out) + "]"
