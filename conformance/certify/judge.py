"""Runs scenarios against a participant's client and judges it, step by step.

Each step either acts (as the clearing house, as the counterparty, or by telling the person what
to do) or judges: it watches the gateway's record of the client's sessions until what the rule
asks for is there, or its deadline passes. A judged step ends *passed* or *failed* with the
reason; once a step fails, the scenario's remaining steps are *not tested*. A step of the
certifier's own that the gateway refuses makes the scenario an *error* (the client is not to blame).
"""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from clients import ClientError, RequestRejected
from protocol.kinds import Kind
from protocol.messages import system as sy
from protocol.status import SessionStatus as St
from protocol.status import text as status_text
from protocol.streams import Stream
from protocol.values import to_dict

from ..casefiles import Case
from ..expr import ExprError, evaluate, substitute
from ..runner import CaseResult, Failure, RunResult, build_message
from .instructions import cert_text
from .observer import Entry, Observer
from .results import FAILED, NOT_TESTED, PASSED, ScenarioResult, StepResult

REQUEST_KINDS = {k.name.lower() for k in (Kind.LOGIN, Kind.LOGOUT, Kind.TRANSACTION, Kind.QUERY, Kind.SUBSCRIBE)}
REQUEST_KINDS.add("refused")
THROTTLE = {int(St.THROTTLED), int(St.THROTTLE_DISCONNECT)}
HEARTBEAT_TOLERANCE = 0.5   # a client's silence may exceed the interval by half an interval


@dataclass
class CertifyConfig:
    host: str = "127.0.0.1"
    port: int = 7600
    participant: str = "CPA01"
    user: str = ""                  # the client's user ("": the participant code)
    password: str = ""              # told to the person ("": pass-<user>, the demo users' password)
    operator: str = "OPER1"
    operator_password: str = ""
    counterparty: str = "CPB02"     # the other participant of give-ups
    counterparty_password: str = ""
    scale: float = 1.0              # every deadline is multiplied by this
    login_timeout: float = 120.0    # the first wait for the client's login
    poll: float = 0.05              # seconds between two reads of the client's activity
    variables: dict = field(default_factory=dict)
    ssl: Any = None

    def __post_init__(self) -> None:
        self.user = self.user or self.participant
        self.password = self.password or f"pass-{self.user}"
        self.operator_password = self.operator_password or f"pass-{self.operator}"
        self.counterparty_password = self.counterparty_password or f"pass-{self.counterparty}"


class StepFailed(Exception):
    def __init__(self, reason: str, got: str = ""):
        super().__init__(reason)
        self.reason, self.got = reason, got


class SetupFailed(Exception):
    """A step of the certifier (an operator or counterparty request) was refused."""


def _codes(value: Any) -> set[str]:
    if isinstance(value, str):
        return {value}
    return {str(v) for v in value}


def _stream_name(n: int) -> str:
    try:
        return Stream(n).name.lower()
    except ValueError:
        return str(n)


def _ranges(seqs: list[int]) -> str:
    seqs = sorted(set(seqs))
    out, start, prev = [], None, None
    for s in seqs:
        if start is None:
            start = prev = s
        elif s == prev + 1:
            prev = s
        else:
            out.append(f"{start}-{prev}" if prev != start else str(start))
            start = prev = s
    if start is not None:
        out.append(f"{start}-{prev}" if prev != start else str(start))
    return ", ".join(out)


class Certifier:
    def __init__(self, config: CertifyConfig, tell: Callable[[str], None] | None = None,
                 step_started: Callable[[str], None] | None = None):
        self.config = config
        self.tell = tell or (lambda text: None)
        self.step_started = step_started or (lambda text: None)  # live progress inside a scenario
        self.obs = Observer(config.host, config.port, config.user, config.operator, config.operator_password,
                            config.counterparty, config.counterparty_password, ssl=config.ssl)
        self.first_login = True

    # ------------------------------------------------------------ the run
    async def run(self, cases: list[Case], progress: Callable | None = None) -> RunResult:
        started = time.time()
        t0 = time.monotonic()
        results: list[CaseResult] = []
        await self.obs.start()
        try:
            for n, case in enumerate(cases, 1):
                if progress:
                    progress(n, len(cases), None, case)
                r = await self.run_scenario(case)
                results.append(r)
                if progress:
                    progress(n, len(cases), r, case)
        finally:
            await self.obs.close()
        info = {"participant": self.config.participant, "user": self.config.user,
                "heartbeat_interval": self.obs.heartbeat, "throttle_per_second": self.obs.throttle}
        return RunResult(f"{self.config.user}'s client via {self.config.host}:{self.config.port}", results, started,
                         time.monotonic() - t0, False, info)

    async def run_scenario(self, case: Case) -> ScenarioResult:
        t0 = time.monotonic()
        run = ScenarioRun(self, case)
        status, why, failure = "pass", "", None
        timeout = case.timeout or 600.0
        try:
            await asyncio.wait_for(run.run(), timeout * self.config.scale)
        except StepFailed as e:
            status, why = "fail", f"step {run.current.number} ({run.current.action}): {e.reason}"
            failure = Failure(run.current.number, run.current.action, e.reason, run.current.note, e.got)
        except SetupFailed as e:
            status, why = "error", f"the certifier's step {run.current.number} failed: {e}"
            failure = Failure(run.current.number, run.current.action, str(e))
        except asyncio.TimeoutError:
            status, why = "fail", f"the scenario did not finish within {timeout * self.config.scale:g}s"
            failure = Failure(run.current.number, run.current.action, why)
        except (ClientError, OSError, RuntimeError, ExprError) as e:
            status, why = "error", f"{type(e).__name__}: {e}"
            failure = Failure(run.current.number, run.current.action, why)
        if status != "pass" and run.current.verdict == NOT_TESTED:
            run.current.verdict = FAILED if status == "fail" else NOT_TESTED
            bare = failure.message if failure is not None else why
            run.current.reason = bare if status == "fail" else f"error: {bare}"
            run.current.elapsed = time.monotonic() - run.step_t0
        for s in run.steps:
            if s.verdict == NOT_TESTED and s is not run.current and not s.reason:
                s.reason = f"step {run.current.number} did not pass"
        frames = [e for e in run.seen() if e.kind != "heartbeat"]
        beats = len(run.seen()) - len(frames)
        transcript = [f"client activity (last frames; {beats} heartbeats left out):"]
        transcript += [f"  {e.line()}" for e in frames[-40:]]
        transcript += [s.line() for s in run.steps]  # last: the console shows the end of the transcript
        return ScenarioResult(case, status, time.monotonic() - t0, why, failure, transcript, steps=run.steps)


class ScenarioRun:
    def __init__(self, certifier: Certifier, case: Case):
        self.c = certifier
        self.cfg = certifier.config
        self.obs = certifier.obs
        self.case = case
        self.steps = [StepResult(i + 1, s["do"], s.get("note", "")) for i, s in enumerate(case.steps)]
        self.current = self.steps[0]
        self.step_t0 = time.monotonic()
        self.mark = self.obs.latest
        self.start_mark = self.obs.latest
        self.vars: dict = {}
        self.accounted: set[int] = set()  # requests an expect_request step has judged already

    def seen(self) -> list[Entry]:
        return [e for e in self.obs.entries if e.number > self.start_mark]

    def since_mark(self) -> list[Entry]:
        return [e for e in self.obs.entries if e.number > self.mark]

    # ------------------------------------------------------------ variables
    def variables(self) -> dict:
        o = self.obs
        v = {"participant": self.cfg.participant, "user": self.cfg.user, "counterparty": self.cfg.counterparty,
             "heartbeat": o.heartbeat, "heartbeat_ms": int(o.heartbeat * 1000), "idle_heartbeats": o.idle_heartbeats,
             "throttle": o.throttle, "scale": self.cfg.scale}
        v.update(self.case.defaults)
        v.update(self.cfg.variables)
        v.update(self.vars)
        return v

    def sub(self, value: Any) -> Any:
        return substitute(value, self.variables())

    # ------------------------------------------------------------ steps
    async def run(self) -> None:
        await self.obs.poll()
        self.mark = self.start_mark = self.obs.latest
        for step, result in zip(self.case.steps, self.steps):
            self.current = result
            self.step_t0 = time.monotonic()
            within = step.get("within")
            deadline = None
            if within is not None:
                base = float(self.sub(within))
                if step["do"] == "await_login" and self.c.first_login and not step.get("fresh"):
                    base = self.cfg.login_timeout / self.cfg.scale  # the person has to start the client
                deadline = round(base * self.cfg.scale, 3)
            result.deadline = deadline
            if deadline is not None:
                self.c.step_started(f"{self.case.id} step {result.number} {result.action}"
                                    f"{' (' + result.note + ')' if result.note else ''}: up to {deadline:g}s")
            fn = getattr(self, "do_" + step["do"])
            reason = await fn(step, deadline)
            result.verdict = PASSED
            result.reason = reason or ""
            result.elapsed = time.monotonic() - self.step_t0

    async def until(self, deadline: float, check: Callable[[], Any]) -> Any:
        """Poll the client's activity until ``check()`` gives something true or the deadline passes
        (then the last ``check()`` is returned, false)."""
        end = self.step_t0 + deadline
        while True:
            await self.obs.poll()
            got = check()
            if got or time.monotonic() >= end:
                return got
            await asyncio.sleep(self.cfg.poll)

    def log(self, text: str) -> None:
        self.current.transcript.append(text)

    async def _request(self, client, step: dict, who: str) -> Any:
        p = self.sub({k: v for k, v in step.items() if k in ("msg", "fields")})
        try:
            msg = build_message(p["msg"], p.get("fields"))
        except Exception as e:  # noqa: BLE001 - a wrong scenario file
            raise SetupFailed(f"cannot build {p['msg']}: {e}") from None
        try:
            answer = await client.request(msg)
        except RequestRejected as e:
            raise SetupFailed(f"{who} request {p['msg']} refused: {e}") from None
        self.log(f"{who}: {p['msg']} -> {type(answer).__name__}")
        return answer

    async def do_operator(self, step: dict, deadline) -> str:
        n = int(self.sub(step.get("repeat", 1)))
        answer = None
        for i in range(n):
            self.vars["i"] = i
            answer = await self._request(self.obs.op, step, "operator")
        if step.get("save"):
            self.vars[step["save"]] = to_dict(answer)
        return f"{step['msg']} x {n}" if n > 1 else str(step["msg"])

    async def do_counterparty(self, step: dict, deadline) -> str:
        answer = await self._request(await self.obs.counterparty(), step, self.cfg.counterparty)
        if step.get("save"):
            self.vars[step["save"]] = to_dict(answer)
        return f"{step['msg']} as {self.cfg.counterparty}"

    async def do_instruct(self, step: dict, deadline) -> str:
        text = str(self.sub(step["text"]))
        try:
            lines = cert_text(text)
        except ValueError as e:
            raise SetupFailed(str(e)) from None
        self.c.tell(text)
        try:
            await self.obs.op.request(sy.SendClearingMessageRequest(lines=[sy.MessageLine(text=t) for t in lines]))
        except RequestRejected as e:
            raise SetupFailed(f"the instruction could not be broadcast: {e}") from None
        return f"told: {text}"

    async def do_mark(self, step: dict, deadline) -> str:
        await self.obs.poll()
        self.mark = self.obs.latest
        return ""

    async def do_wait(self, step: dict, deadline) -> str:
        await asyncio.sleep(float(self.sub(step.get("seconds", 1))) * self.cfg.scale)
        return ""

    async def do_check(self, step: dict, deadline) -> str:
        try:
            ok = evaluate(str(step["expr"]), self.variables())
        except ExprError as e:
            raise SetupFailed(f"check {step['expr']!r}: {e}") from None
        if not ok:
            raise StepFailed(str(self.sub(step.get("message", f"{step['expr']} is false"))))
        return ""

    # ------------------------------------------------------------ judging
    def _fail(self, step: dict, default: str, got: str = "") -> StepFailed:
        reason = self.sub(step["reason"]) if step.get("reason") else default
        return StepFailed(str(reason) if not step.get("reason") else f"{reason} ({default})", got)

    async def do_await_login(self, step: dict, deadline: float) -> str:
        fresh = bool(step.get("fresh", False))
        want = step.get("status")
        want_status = None if want is None else (int(St[want]) if isinstance(want, str) else int(want))
        first = self.c.first_login and not fresh
        if first:
            self.c.tell(f"log your back office in to {self.cfg.host}:{self.cfg.port} as user {self.cfg.user} "
                        f"(password {self.cfg.password!r}) for participant {self.cfg.participant}; "
                        f"waiting up to {deadline:g}s")

        def logged_in():
            for e in self.since_mark():
                if e.direction == "in" and e.code == "UL1" and (want_status is None or e.status == want_status):
                    return e
            return None

        if fresh or want_status is not None:
            got = await self.until(deadline, logged_in)
            if not got:
                logins = [e for e in self.since_mark() if e.direction == "in" and e.code == "UL1"]
                if logins:
                    raise self._fail(step, f"the client logged in with session status {logins[-1].status}, "
                                           f"expected {want_status} ({status_text(want_status)})")
                raise self._fail(step, f"the client did not log in again within {deadline:g}s")
            self.c.first_login = False
            s = await self._live_session(step, deadline)
            if want_status is None and step.get("subscribed", True):
                await self._subscribed(step, s.session_id, deadline)
            return f"session {s.session_id} logged in" + (f" with status {got.status}" if got.status else "")
        s = await self._live_session(step, deadline)
        if step.get("subscribed", True):
            await self._subscribed(step, s.session_id, deadline)
        return f"session {s.session_id} from {s.peer}"

    async def _subscribed(self, step: dict, sid: int, deadline: float) -> None:
        """Wait until the session has subscribed (an answered UB1): what the certifier broadcasts
        next must reach it."""
        def done():
            return any(e.session_id == sid and e.direction == "in" and e.code == "UB1" and
                       (a := self._answer(e)) is not None and a.kind == "reply" for e in self.obs.entries)

        if any(e.session_id == sid and e.direction == "in" and e.code == "UB1" and e.number <= self.obs.started
               for e in await self.obs.history()):
            return  # it subscribed before the certification started watching
        if await self.until(deadline, done):
            return
        raise self._fail(step, f"session {sid} logged in but did not subscribe (UB1, accepted) within {deadline:g}s",
                         self._recent())

    async def _live_session(self, step: dict, deadline: float):
        """The client's live session (EQ610): its participant is checked and its throttle noted."""
        end = self.step_t0 + deadline
        while True:
            items = [s for s in await self.obs.sessions() if s.user == self.cfg.user]
            if items:
                s = items[-1]
                if s.participant != self.cfg.participant:
                    raise self._fail(step, f"user {s.user} is a user of {s.participant}, not of {self.cfg.participant}")
                self.vars["session_id"] = s.session_id
                self.obs.throttle = s.throttle_per_second
                self.c.first_login = False
                return s
            if time.monotonic() >= end:
                raise self._fail(step, f"no session of user {self.cfg.user} logged in within {deadline:g}s")
            await asyncio.sleep(self.cfg.poll * 2)

    def _answer(self, req: Entry) -> Entry | None:
        for e in self.obs.entries:
            if e.number > req.number and e.session_id == req.session_id and e.request_id == req.request_id and \
                    e.direction in ("out", "held") and e.kind in ("reply", "reject"):
                return e
        return None

    async def do_expect_request(self, step: dict, deadline: float) -> str:
        codes = _codes(self.sub(step["code"]))
        count = int(self.sub(step.get("count", 1)))
        answered = bool(step.get("answered", True))
        detail = step.get("detail")
        want_status = step.get("status")

        def matches() -> list[Entry]:
            return [e for e in self.since_mark() if e.direction == "in" and e.code in codes and
                    e.number not in self.accounted and (detail is None or str(self.sub(detail)) in e.detail)][:count]

        def done():
            got = matches()
            if len(got) < count:
                return None
            if not answered:
                return got
            answers = [self._answer(e) for e in got]
            if any(a is None for a in answers):
                return None
            return list(zip(got, answers))

        names = " or ".join(sorted(codes))
        got = await self.until(deadline, done)
        if not got:
            seen = matches()
            if len(seen) < count:
                have = f"{len(seen)} of {count}" if count > 1 else "none"
                raise self._fail(step, f"no {names} from the client within {deadline:g}s ({have})",
                                 self._recent())
            raise self._fail(step, f"{names} sent but not answered within {deadline:g}s", self._recent())
        if not answered:
            self.accounted.update(e.number for e in got)
            return f"{len(got)} x {names}"
        self.accounted.update(req.number for req, _ in got)
        for req, ans in got:
            if ans.kind == "reject" or (want_status is not None and ans.status != int(want_status)):
                why = f"status {ans.status}"
                if ans.kind == "reject":
                    why = f"rejected with status {ans.status}"
                raise self._fail(step, f"the client's {req.code} (request {req.request_id}) was {why}: "
                                       f"the request itself was wrong", self._recent())
        self.vars["request"] = {"code": got[-1][0].code, "request_id": got[-1][0].request_id}
        return f"{len(got)} x {names}, answered"

    async def do_expect_no_request(self, step: dict, deadline: float) -> str:
        codes = _codes(self.sub(step.get("code", []))) if step.get("code") else None
        allowed = _codes(self.sub(step.get("except", ["UH1"])))

        def wrong():
            return [e for e in self.since_mark() if e.direction == "in" and e.kind in REQUEST_KINDS and
                    e.number not in self.accounted and e.code not in allowed and (codes is None or e.code in codes)]

        await self.until(deadline, wrong)
        bad = wrong()
        if bad:
            e = bad[0]
            raise self._fail(step, f"the client sent {e.code} (request {e.request_id}) when nothing called for it"
                             + (f", and {len(bad) - 1} more" if len(bad) > 1 else ""), self._recent())
        return f"nothing sent in {deadline:g}s" if codes is None else f"no {' or '.join(sorted(codes))}"

    def _session_now(self) -> int:
        ends = set()
        sid = 0
        for e in self.obs.entries:
            if e.direction == "end":
                ends.add(e.session_id)
            elif e.direction == "in" and e.code == "UL1":
                sid = e.session_id
        return 0 if sid in ends else sid

    async def do_expect_heartbeats(self, step: dict, deadline: float) -> str:
        """The gateway measures the silence (EQ610 last_received_ms, sampled every poll): no clock
        of the certifier's machine is compared with the gateway's."""
        await self.obs.poll()
        sid = self._session_now() or self.vars.get("session_id", 0)
        first = self.obs.latest
        limit = self.obs.heartbeat * (1 + HEARTBEAT_TOLERANCE)
        worst = 0.0
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            mine = [x for x in await self.obs.sessions() if x.session_id == sid]
            if not mine:
                break
            worst = max(worst, mine[0].last_received_ms / 1000.0)
            if worst > limit:
                break
            await asyncio.sleep(self.cfg.poll)
        await self.obs.poll()
        seen = [e for e in self.obs.entries if e.number > first and e.session_id == sid]
        ended = [e for e in seen if e.direction == "end"]
        if ended:
            raise self._fail(step, f"the session ended while it was watched: {ended[0].detail or ended[0].status}",
                             self._recent())
        if worst > limit:
            raise self._fail(step, f"the client was silent for {worst:.2f}s; it must send a heartbeat (UH1) after "
                                   f"{self.obs.heartbeat:g}s without sending anything (limit {limit:.2f}s)",
                             self._recent())
        beats = sum(1 for e in seen if e.direction == "in" and e.code == "UH1")
        return f"{beats} heartbeat(s), longest silence seen {worst:.2f}s (limit {limit:.2f}s)"

    async def do_expect_connected(self, step: dict, deadline: float) -> str:
        await self.obs.poll()
        sid = self._session_now()
        if not sid:
            raise self._fail(step, "the client has no live session")
        await asyncio.sleep(deadline)
        await self.obs.poll()
        ended = [e for e in self.obs.entries if e.session_id == sid and e.direction == "end"]
        if ended:
            raise self._fail(step, f"the session ended: {ended[0].detail or status_text(ended[0].status)}",
                             self._recent())
        later = [e for e in self.since_mark() if e.direction == "in" and e.code == "UL1" and e.session_id != sid]
        if later:
            raise self._fail(step, f"the client logged in again (session {later[0].session_id})", self._recent())
        return f"session {sid} stayed connected for {deadline:g}s"

    async def do_expect_logout(self, step: dict, deadline: float) -> str:
        def done():
            ends = [e for e in self.since_mark() if e.direction == "end"]
            return ends[0] if ends else None

        end = await self.until(deadline, done)
        if end is None:
            raise self._fail(step, f"the client did not end its session within {deadline:g}s", self._recent())
        asked = [e for e in self.since_mark() if e.direction == "in" and e.code == "UO1" and
                 e.session_id == end.session_id]
        if not asked or end.status != int(St.LOGGED_OUT):
            raise self._fail(step, "the client closed the connection without logging out (UO1)"
                             if not asked else f"the session ended with status {end.status}: {end.detail}",
                             self._recent())
        return f"session {end.session_id} logged out with UO1"

    async def do_expect_resume(self, step: dict, deadline: float) -> str:
        await self.obs.poll()
        cut = [e for e in self.since_mark() if e.direction == "end"]
        if not cut:
            raise SetupFailed("no session ended since the mark: nothing to resume")
        old = cut[0].session_id
        sent: dict[int, tuple[int, int]] = {}
        for e in self.obs.entries:
            if e.session_id == old and e.kind == "broadcast" and e.direction in ("out", "dup", "held"):
                sent[e.stream] = max(sent.get(e.stream, (0, 0)), (0, e.sequence))
        if not sent:
            raise self._fail(step, "no broadcast reached the session before the cut: it had not subscribed")

        def new_login():
            for e in self.since_mark():
                if e.direction == "in" and e.code == "UL1" and e.session_id != old:
                    return e
            return None

        def verdict(login: Entry) -> list[str]:
            points = {}
            for p in login.detail.split():
                s, _, seq = p.split(":")
                points[int(s)] = int(seq)
            recov = [e for e in self.obs.entries if e.session_id == login.session_id and e.direction == "in"
                     and e.code == "UQ20"]
            problems = []
            for stream, (_, last) in sorted(sent.items()):
                named = points.get(stream)
                if named == last:
                    continue
                if named is not None and named > last:
                    problems.append(f"stream {_stream_name(stream)}: it resumed after sequence {named}, but only "
                                    f"1-{last} had been sent to it (a gap: {last + 1}-{named} would never come)")
                    continue
                start = (named or 0) + 1
                covered = any(_covers(r.detail, stream, start, last) for r in recov)
                if covered:
                    continue
                if named is None:
                    problems.append(f"stream {_stream_name(stream)}: it logged in again naming no resume point "
                                    f"and asked for nothing by UQ20, though it had been sent sequences up to {last}: "
                                    f"what was published while it was away is lost to it")
                else:
                    problems.append(f"stream {_stream_name(stream)}: it resumed after sequence {named}, but {last} "
                                    f"had been delivered: {named + 1}-{last} would come twice")
            return problems

        login = await self.until(deadline, new_login)
        if login is None:
            raise self._fail(step, f"the client did not log in again within {deadline:g}s after the cut",
                             self._recent())
        await self.until(deadline, lambda: not verdict(login))  # a UQ20 may follow the login
        problems = verdict(login)
        if problems:
            raise self._fail(step, "; ".join(problems), self._recent())
        return f"session {login.session_id} resumed " + ", ".join(
            f"{_stream_name(s)} after {last}" for s, (_, last) in sorted(sent.items()))

    async def do_expect_recovery(self, step: dict, deadline: float) -> str:
        await self.obs.poll()
        drops = [e for e in self.since_mark() if e.direction == "drop"]
        if not drops:
            raise self._fail(step, "no broadcast was withheld: the client had not subscribed to the stream")

        def missing() -> list[Entry]:
            recov = [e for e in self.since_mark() if e.direction == "in" and e.code == "UQ20"]
            out = []
            for d in drops:
                ok = [r for r in recov if _covers(r.detail, d.stream, d.sequence, d.sequence)]
                if not ok or all(self._answer(r) is None for r in ok):
                    out.append(d)
            return out

        await self.until(deadline, lambda: not missing())
        left = missing()
        if left:
            by_stream: dict[int, list[int]] = {}
            for d in left:
                by_stream.setdefault(d.stream, []).append(d.sequence)
            asked = [e.detail for e in self.since_mark() if e.direction == "in" and e.code == "UQ20"]
            txt = "; ".join(f"stream {_stream_name(s)} sequences {_ranges(q)}" for s, q in by_stream.items())
            raise self._fail(step, f"the client did not recover the broadcasts withheld from it ({txt}) with a "
                                   f"recovery query (UQ20) within {deadline:g}s"
                             + (f"; it asked for {', '.join(asked)}" if asked else ": it asked for nothing"),
                             self._recent())
        return f"{len(drops)} withheld broadcast(s) recovered with UQ20"

    async def do_expect_paced(self, step: dict, deadline: float) -> str:
        codes = _codes(self.sub(step["code"]))
        count = int(self.sub(step["count"]))

        def state():
            mine = self.since_mark()
            throttled = [e for e in mine if e.direction == "in" and e.kind == "refused" and e.status in THROTTLE]
            if throttled:
                return ("throttled", throttled)
            done = [e for e in mine if e.direction == "in" and e.code in codes and e.kind != "refused"]
            if len(done) >= count:
                return ("done", done)
            return None

        got = await self.until(deadline, state)
        limit = self.obs.throttle
        if got and got[0] == "throttled":
            await asyncio.sleep(0.5)
            await self.obs.poll()
            n = len([e for e in self.since_mark() if e.direction == "in" and e.kind == "refused"
                     and e.status in THROTTLE])
            cut = any(e.direction == "end" and e.status == int(St.THROTTLE_DISCONNECT) for e in self.since_mark())
            raise self._fail(step, f"{n} request(s) refused by the throttle: the client sent more than the "
                                   f"published {limit} requests per second (login reply throttle_per_second)"
                             + ("; the gateway then disconnected it" if cut else ""), self._recent())
        if not got:
            n = len([e for e in self.since_mark() if e.direction == "in" and e.code in codes])
            raise self._fail(step, f"only {n} of {count} {' or '.join(sorted(codes))} within {deadline:g}s")
        reqs = got[1]
        span = reqs[-1].t - reqs[0].t
        return f"{len(reqs)} requests in {span:.2f}s, none throttled (limit {limit}/s)"

    def _recent(self) -> str:
        return "; ".join(e.line() for e in [e for e in self.since_mark() if e.kind != "heartbeat"][-6:])


def _covers(detail: str, stream: int, first: int, last: int) -> bool:
    """Whether a UQ20's ``stream:date:first-last`` covers ``first..last`` of ``stream`` (last 0: up
    to the latest)."""
    try:
        s, _, rng = detail.split(":")
        lo, _, hi = rng.partition("-")
        s, lo, hi = int(s), int(lo), int(hi or 0)
    except ValueError:
        return False
    return s == stream and lo <= first and (hi == 0 or hi >= last)
