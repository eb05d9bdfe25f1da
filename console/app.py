"""The console's web application (aiohttp): login, pages, actions, live updates over a WebSocket.

Security: the session cookie is HttpOnly and SameSite=Strict (and Secure over HTTPS); every form
carries the session's CSRF token and a POST without it is refused (403); the login form carries a
token bound to a pre-login cookie; no password is kept after login; an idle session ends (its SDK
session is logged out); pages send a strict Content-Security-Policy (no inline script or style,
nothing from elsewhere). Authorisation is the gateway's: every page asks it as the logged-in user.
"""
from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import secrets
import time
from pathlib import Path

import aiohttp_jinja2
import jinja2
import structlog
from aiohttp import WSMsgType, web

from clients.errors import ClientError, LoginRejected, RequestRejected, SessionEnded
from console import display, forms, pages
from console.chart import coverage_svg
from console.session import TRADE_COLUMNS, ConsoleSession, load_series, open_session, start
from console.settings import ConsoleSettings
from protocol.messages import dcass as d
from protocol.messages import session as ms
from protocol.messages.admin import function_of
from protocol.values import one_line

log = structlog.get_logger("console")
HERE = Path(__file__).resolve().parent
COOKIE = "hkpost_console"
PRE_COOKIE = "hkpost_console_login"
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
SESSIONS = web.AppKey("sessions", dict)
SETTINGS = web.AppKey("settings", ConsoleSettings)
SECRET = web.AppKey("secret", bytes)
SWEEPER = web.AppKey("sweeper", asyncio.Task)
SESSION = web.RequestKey("session", object)   # the request's ConsoleSession (None before login)
FORM = web.RequestKey("form", object)         # the POSTed form, read once by the CSRF check
OPEN_WITHOUT_SESSION = {"/login", "/favicon.ico"}


# ------------------------------------------------------------------ middlewares
def _headers(request: web.Request, resp: web.StreamResponse) -> None:
    resp.headers.setdefault("Content-Security-Policy", CSP)
    resp.headers.setdefault("X-Content-Type-Options", "nosniff")
    resp.headers.setdefault("X-Frame-Options", "DENY")
    resp.headers.setdefault("Referrer-Policy", "no-referrer")
    if not request.path.startswith("/static/"):
        resp.headers.setdefault("Cache-Control", "no-store")


@web.middleware
async def security(request: web.Request, handler):
    started = time.perf_counter()
    try:
        resp = await handler(request)
    except web.HTTPException as e:
        _headers(request, e)
        raise
    if not isinstance(resp, web.WebSocketResponse):
        _headers(request, resp)
        # the server's own time for the page (gateway queries included): read by benchmarks/console.py
        resp.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.2f}"
    return resp


@web.middleware
async def sessions(request: web.Request, handler):
    app = request.app
    s = None
    sid = request.cookies.get(COOKIE)
    if sid:
        s = app[SESSIONS].get(sid)
        if s is not None and time.monotonic() - s.last_seen > app[SETTINGS].idle_timeout:
            await end_session(app, s, "idle")
            s = None
    request[SESSION] = s
    path = request.path
    if s is None:
        if path in OPEN_WITHOUT_SESSION or path.startswith("/static/"):
            return await handler(request)
        if request.method == "GET" and path != "/ws":
            raise web.HTTPSeeOther("/login" + ("?expired=1" if sid else ""))
        raise web.HTTPUnauthorized(text="not logged in")
    if path != "/ws":
        s.touch()
    if request.method == "POST" and path != "/login":
        form = await request.post()
        token = form.get("csrf", "")
        if not isinstance(token, str) or not hmac.compare_digest(token.encode(), s.csrf.encode()):
            log.warning("console_csrf_refused", user=s.user, path=path)
            raise web.HTTPForbidden(text="Refused: the form's CSRF token is missing or wrong. Reload the page.")
        request[FORM] = form
    if s.must_change_password and path not in ("/password", "/logout") and not path.startswith("/static/"):
        raise web.HTTPSeeOther("/password")
    return await handler(request)


def _pre_token(app, pre: str) -> str:
    return hmac.new(app[SECRET], pre.encode(), hashlib.sha256).hexdigest()


# ------------------------------------------------------------------ login and logout
async def login_page(request: web.Request, error: str = "", user: str = "") -> web.Response:
    pre = request.cookies.get(PRE_COOKIE) or secrets.token_urlsafe(24)
    resp = aiohttp_jinja2.render_template("login.html", request, {
        "csrf": _pre_token(request.app, pre), "error": error, "user": user,
        "expired": request.query.get("expired") == "1"})
    _cookie(request, resp, PRE_COOKIE, pre)
    return resp


def _cookie(request: web.Request, resp: web.StreamResponse, name: str, value: str) -> None:
    resp.set_cookie(name, value, httponly=True, samesite="Strict", secure=request.app[SETTINGS].secure, path="/")


async def login(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    pre = request.cookies.get(PRE_COOKIE, "")
    token = form.get("csrf", "")
    if not pre or not isinstance(token, str) or not hmac.compare_digest(token, _pre_token(request.app, pre)):
        raise web.HTTPForbidden(text="Refused: the login form's CSRF token is missing or wrong. Reload the page.")
    user = str(form.get("user", "")).strip()
    password = str(form.get("password", ""))
    if not user or not password:
        return await login_page(request, "User and password are required.", user)
    settings = request.app[SETTINGS]
    try:
        s = await open_session(settings, user, password)
    except LoginRejected as e:
        log.info("console_login_refused", user=user, status=e.session_status)
        return await login_page(request, f"Login refused by the gateway: status {e.session_status} "
                                         f"({e.session_text}): {e.text}", user)
    except (OSError, ClientError, asyncio.TimeoutError) as e:
        return await login_page(request, f"The gateway at {settings.gateway_host}:{settings.gateway_port} "
                                         f"cannot be reached: {e}", user)
    finally:
        password = ""  # noqa: F841 - not kept
    request.app[SESSIONS][s.id] = s
    log.info("console_login", user=s.user, role=s.role, sessions=len(request.app[SESSIONS]))
    resp = web.HTTPSeeOther("/password" if s.must_change_password else "/")
    _cookie(request, resp, COOKIE, s.id)
    resp.del_cookie(PRE_COOKIE, path="/")
    raise resp


async def logout(request: web.Request) -> web.StreamResponse:
    await end_session(request.app, request[SESSION], "logout")
    resp = web.HTTPSeeOther("/login")
    resp.del_cookie(COOKIE, path="/")
    raise resp


async def end_session(app: web.Application, s: ConsoleSession, why: str) -> None:
    app[SESSIONS].pop(s.id, None)
    log.info("console_session_end", user=s.user, reason=why)
    await s.close()


async def password_page(request: web.Request, error: str = "") -> web.Response:
    s = request[SESSION]
    return aiohttp_jinja2.render_template("password.html", request, _base(request, s, error=error))


async def change_password(request: web.Request) -> web.StreamResponse:
    s = request[SESSION]
    form = request[FORM]
    try:
        await s.client.transact(ms.ChangePasswordRequest(old_password=str(form.get("old_password", "")),
                                                  new_password=str(form.get("new_password", ""))))
    except RequestRejected as e:
        return await password_page(request, await describe(s, e))
    except (SessionEnded, ClientError) as e:
        return await password_page(request, f"The gateway session ended: {e}")
    if s.must_change_password:
        s.must_change_password = False
        await start(s)
    s.flash.append(("ok", "Password changed."))
    raise web.HTTPSeeOther("/")


# ------------------------------------------------------------------ pages
def _base(request: web.Request, s: ConsoleSession, **kw) -> dict:
    return {"s": s, "nav": pages.pages_for(s), "path": request.path, "csrf": s.csrf,
            "flash": _take(s.flash), **kw}


def _take(lst: list) -> list:
    out = list(lst)
    lst.clear()
    return out


async def home(request: web.Request) -> web.StreamResponse:
    s = request[SESSION]
    nav = pages.pages_for(s)
    if not nav:
        return aiohttp_jinja2.render_template("page.html", request, _base(request, s, page=None, panels=[],
                                                                            forms=[]))
    raise web.HTTPSeeOther(nav[0].path)


async def describe(s: ConsoleSession, e: RequestRejected) -> str:
    """A rejection as the user should read it: both codes, the business code's name, text, field."""
    name = ""
    if e.business_status:
        with contextlib.suppress(Exception):
            st = await s.client.query(ms.StatusTextQuery(code=e.business_status, level=2))
            name = f" {st.name}"
        return f"Rejected {e.request_code}: business status {e.business_status}{name}: {e.text}"
    return f"Rejected {e.request_code}: session status {e.session_status} ({e.session_text}): {e.text}"


async def page(request: web.Request) -> web.StreamResponse:
    s = request[SESSION]
    p = pages.BY_PATH[request.path]
    if p not in pages.pages_for(s):
        raise web.HTTPNotFound(text="No such page for this user")
    if p.special == "trades":
        return await trades_page(request, s, p)
    panels = []
    params = {k: v for k, v in request.query.items()}
    for panel in p.panels:
        if not s.may(function_of(panel.code)):
            continue
        panels.append(await run_panel(s, panel, params))
    ctx = _base(request, s, page=p, panels=panels, forms=await form_views(s, p.forms),
                chart=coverage_svg(s.curve) if p.special == "chart" else "")
    return aiohttp_jinja2.render_template("page.html", request, ctx)


async def run_panel(s: ConsoleSession, panel: pages.Panel, params: dict) -> dict:
    view = {"panel": panel, "inputs": [i for i in forms.inputs(panel.code) if i.kind != "items"],
            "vals": params, "error": "", "head": {}, "columns": forms.item_columns(forms.spec(panel.code).answer),
            "rows": [], "cells": [], "actions": [], "note": ""}
    missing = [n for n in panel.needs if not params.get(n)]
    if missing:
        view["note"] = f"Fill in {' and '.join(n.replace('_', ' ') for n in missing)}, then Show."
        return view
    try:
        msg = forms.build(panel.code, {i.name: params.get(i.name, "") for i in view["inputs"]}, await series_keys(s))
        answer = await s.client.query(msg)
    except forms.FormError as e:
        view["error"] = f"{e.field}: {e.text}"
        return view
    except RequestRejected as e:
        view["error"] = await describe(s, e)
        return view
    except ClientError as e:
        view["error"] = f"The gateway session ended: {e}"
        return view
    head, columns, rows = forms.table(answer)
    items = display.items_record(type(answer))
    fmt = display.formats(items) if items is not None else {}
    head_fmt = display.formats(type(answer).__record__)
    view["head"] = {k: display.cell(head_fmt, k, head, s.decimals) for k in head}
    if rows:
        view["columns"] = columns
    view["rows"] = rows
    view["cells"] = [[display.cell(fmt, c, r, s.decimals) for c in view["columns"]] for r in rows]
    view["actions"] = [a for a in panel.actions if s.may(function_of(a.code))]
    return view


def action_applies(a: pages.RowAction, row: dict, s: ConsoleSession) -> bool:
    col, value = a.when
    if col and str(row.get(col)) != value:
        return False
    if a.not_mine and row.get(a.not_mine) == s.user:
        return False
    if a.mine and row.get(a.mine) != s.participant:
        return False
    return True


async def form_views(s: ConsoleSession, codes) -> list[dict]:
    out = []
    for code in codes:
        if not s.may(function_of(code)):
            continue
        state = s.forms.pop(code, {})
        sp = forms.spec(code)
        out.append({"code": code, "title": sp.name.replace("_", " ").capitalize(), "doc": sp.doc,
                    "inputs": forms.inputs(code), "vals": state.get("values", {}), "error": state.get("error"),
                    "operator": sp.operator})
    return out


async def series_keys(s: ConsoleSession) -> dict[str, dict]:
    """The day's series by symbol (DQ102), asked once per session."""
    return await load_series(s)


async def act(request: web.Request) -> web.StreamResponse:
    s = request[SESSION]
    code = request.match_info["code"]
    form = request[FORM]
    back = str(form.get("return_to", "/"))
    if not back.startswith("/") or back.startswith("//"):
        back = "/"
    if code not in pages.allowed_codes(s):
        raise web.HTTPForbidden(text=f"{code} is not a function of this user")
    values = {k: str(v) for k, v in form.items() if k not in ("csrf", "return_to")}
    one_item = {k[len("items."):]: values.pop(k) for k in list(values) if k.startswith("items.")}
    if one_item:  # a row action's one item (e.g. the allocation of an accepted give-up)
        values["items"] = json.dumps([one_item])
    shown = {k: v for k, v in values.items() if "password" not in k}  # a password is never kept or shown again
    try:
        msg = forms.build(code, values, await series_keys(s))
        answer = await s.client.transact(msg)
    except forms.FormError as e:
        s.forms[code] = {"values": shown, "error": {"field": e.field, "text": f"Not sent: {e.text}"}}
    except RequestRejected as e:
        s.forms[code] = {"values": shown, "error": {"field": e.field, "text": await describe(s, e)}}
        s.flash.append(("error", await describe(s, e)))
    except (SessionEnded, ClientError) as e:
        s.flash.append(("error", f"The gateway session ended: {e}"))
    else:
        s.flash.append(("ok", f"{code} accepted: {one_line(answer)}"))
    raise web.HTTPSeeOther(back)


async def demo_day(request: web.Request) -> web.StreamResponse:
    """Operator: inject the shipped demo day (console/data/demo_day.toml) in one EC104 batch."""
    import tomllib
    from protocol.values import from_dict
    s = request[SESSION]
    if s.role != "operator":
        raise web.HTTPForbidden(text="the operator's function")
    deals = tomllib.loads((HERE / "data" / "demo_day.toml").read_text())["deals"]
    keys = await series_keys(s)
    try:
        msg = from_dict(d.InjectDealsRequest, {"deals": [
            {**x, "series": keys[x["series"]], "buyer_open_close": "OPEN", "seller_open_close": "OPEN"} for x in deals]})
        answer = await s.client.transact(msg)
    except KeyError as e:
        s.flash.append(("error", f"The demo day names a series this gateway does not have: {e}"))
    except RequestRejected as e:
        s.flash.append(("error", await describe(s, e)))
    else:
        s.flash.append(("ok", f"Demo day played: {len(deals)} deals, {len(answer.trades)} trades booked."))
    raise web.HTTPSeeOther("/desk")


# ------------------------------------------------------------------ trades
TRADE_FILTERS = ("series", "account", "side", "state")


def trade_matches(row: dict, f: dict) -> bool:
    return ((not f["series"] or f["series"] in row["series_symbol"])
            and (not f["account"] or row["account_id"] == f["account"])
            and (not f["side"] or row["side"] == f["side"])
            and (not f["state"] or row["state"] == f["state"]))


def select_trades(s: ConsoleSession, query, page_size: int) -> dict:
    f = {k: query.get(k, "").strip() for k in TRADE_FILTERS}
    rows = [r for r in reversed(s.trades.values()) if trade_matches(r, f)]
    try:
        n = max(1, int(query.get("page", "1")))
    except ValueError:
        n = 1
    pages_total = max(1, (len(rows) + page_size - 1) // page_size)
    n = min(n, pages_total)
    return {"filters": f, "rows": rows[(n - 1) * page_size:n * page_size], "count": len(rows), "page_no": n,
            "pages_total": pages_total, "total": len(s.trades)}


async def trades_page(request: web.Request, s: ConsoleSession, p: pages.Page) -> web.Response:
    sel = select_trades(s, request.query, request.app[SETTINGS].page_size)
    sel["cells"] = [s.trade_cells(r) for r in sel["rows"]]
    ctx = _base(request, s, page=p, columns=TRADE_COLUMNS, **sel)
    return aiohttp_jinja2.render_template("trades.html", request, ctx)


# ------------------------------------------------------------------ live updates
async def websocket(request: web.Request) -> web.WebSocketResponse:
    s = request[SESSION]
    origin = request.headers.get("Origin")
    if origin and origin.split("://", 1)[-1] != request.host:
        raise web.HTTPForbidden(text="cross-origin WebSocket refused")
    ws = web.WebSocketResponse(heartbeat=20)
    await ws.prepare(request)
    s.sockets.add(ws)
    await ws.send_json({"type": "hello", "seq": s.seq})
    await ws.send_json({"type": "clock", "business_date": s.business_date, "business_time": s.business_time})
    await ws.send_json({"type": "status", "connected": s.connected and s.client.connected})
    try:
        async for m in ws:
            if m.type in (WSMsgType.ERROR, WSMsgType.CLOSE):
                break
    finally:
        s.sockets.discard(ws)
    return ws


# ------------------------------------------------------------------ the application
async def _sweep(app: web.Application) -> None:
    settings = app[SETTINGS]
    while True:
        await asyncio.sleep(settings.sweep_interval)
        now = time.monotonic()
        for s in list(app[SESSIONS].values()):
            if now - s.last_seen > settings.idle_timeout or (not s.connected and not s.sockets):
                await end_session(app, s, "idle" if s.connected else "gateway_lost")


async def _on_startup(app: web.Application) -> None:
    app[SWEEPER] = asyncio.get_running_loop().create_task(_sweep(app))


async def _on_shutdown(app: web.Application) -> None:
    app[SWEEPER].cancel()
    for s in list(app[SESSIONS].values()):
        await end_session(app, s, "shutdown")


def make_app(settings: ConsoleSettings | None = None) -> web.Application:
    settings = settings or ConsoleSettings()
    app = web.Application(middlewares=[security, sessions], client_max_size=4 * 1024 * 1024)
    app[SETTINGS] = settings
    app[SESSIONS] = {}
    app[SECRET] = secrets.token_bytes(32)
    env = aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(str(HERE / "templates")), autoescape=True,
                               undefined=jinja2.StrictUndefined)
    env.globals["action_applies"] = action_applies
    env.filters["hms"] = display.time_text
    env.filters["ymd"] = display.date_text
    env.filters["num"] = display.number
    app.router.add_get("/login", login_page)
    app.router.add_post("/login", login)
    app.router.add_post("/logout", logout)
    app.router.add_get("/password", password_page)
    app.router.add_post("/password", change_password)
    app.router.add_get("/", home)
    for p in pages.PAGES:
        app.router.add_get(p.path, page)
    app.router.add_post("/act/{code:[A-Z]{2}[0-9]{1,5}}", act)
    app.router.add_post("/desk/demo-day", demo_day)
    app.router.add_get("/ws", websocket)
    app.router.add_static("/static/", HERE / "static")
    app.on_startup.append(_on_startup)
    app.on_shutdown.append(_on_shutdown)
    return app


class ConsoleServer:
    """The console listening on ``settings.host:settings.port`` (``port`` is the bound one after start)."""

    def __init__(self, settings: ConsoleSettings):
        self.settings = settings
        self.app = make_app(settings)
        self.runner: web.AppRunner | None = None
        self.port = settings.port

    async def start(self) -> None:
        ssl = None
        if self.settings.tls_cert:
            import ssl as _ssl
            ssl = _ssl.create_default_context(_ssl.Purpose.CLIENT_AUTH)
            ssl.minimum_version = _ssl.TLSVersion.TLSv1_2
            ssl.load_cert_chain(self.settings.tls_cert, self.settings.tls_key)
        self.runner = web.AppRunner(self.app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, self.settings.host, self.settings.port, ssl_context=ssl)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]
        log.info("console_listening", host=self.settings.host, port=self.port,
                 gateway=f"{self.settings.gateway_host}:{self.settings.gateway_port}")

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    @property
    def sessions(self) -> dict:
        return self.app[SESSIONS]
