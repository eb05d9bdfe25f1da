"""The console's server side through its HTTP interface (aiohttp), against a real gateway: login and
the gateway's own refusals, cookies, CSRF, URL manipulation, actions with their typed errors next to
the field, logout and idle expiry ending the SDK session, maker-checker and user administration,
trades paging, live pushes over the WebSocket."""
from __future__ import annotations

import ast
import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest

from protocol.messages import dcass as m

from ..e2e.test_dcass_trade_information import deal, series

ROOT = Path(__file__).resolve().parents[2]


def panel(html: str, code: str) -> str:
    """The HTML of one query panel of a page."""
    return html.split(f'id="panel-{code}"')[1].split("</section>")[0]


def test_console_never_imports_gateway():
    for path in (ROOT / "console").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else []
            assert not any(n == "gateway" or n.startswith("gateway.") for n in names), f"{path} imports {names}"
    code = ("import sys, console.app, console.__main__, console.session, console.forms, console.pages; "
            "bad = [k for k in sys.modules if k == 'gateway' or k.startswith('gateway.')]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, timeout=60)


async def test_login_cookie_and_pages_as_the_user(gateway, console, browser):
    b = await browser()
    r, html = await b.login("CPA01")
    assert r.status == 200 and "/trades" in str(r.url)
    cookie = [h for h in r.history[0].headers.getall("Set-Cookie") if h.startswith("hkpost_console=")][0]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert "CPA01" in html and '<strong id="bdate">2026-11-23</strong>' in html and '<strong id="btime">09:00:00</strong>' in html
    assert r.headers["Content-Security-Policy"].startswith("default-src 'self'")
    # one SDK session, as the user, in the gateway
    assert "CPA01" in gateway.sessions
    # no password anywhere in the console's memory of the session
    s = next(iter(console.sessions.values()))
    assert s.client.password == "" and "pass-CPA01" not in repr(vars(s))


async def test_wrong_password_shows_the_gateway_error_and_lockout_holds(gateway, console, browser):
    b = await browser()
    for _ in range(gateway.settings.login_failures_before_lock):
        r, html = await b.login("CPE05", "wrong-password")
        assert "Login refused by the gateway: status" in html and "INVALID" in html.upper()
    r, html = await b.login("CPE05")  # the right password: the lockout still holds
    assert "Login refused by the gateway" in html and "locked" in html.lower()
    assert "CPE05" not in gateway.sessions


async def test_csrf_is_required(gateway, console, browser):
    b = await browser()
    await b.get("/login")
    r, text = await b.post("/login", {"user": "CPA01", "password": "pass-CPA01"}, csrf=False)
    assert r.status == 403
    await b.login("CPA01")
    form = {"clearing_house": "HKCC", "account": "HOUSE", "currency": "HKD", "amount": "100",
            "return_to": "/ccms/instructions"}
    r, text = await b.post("/act/FC202", form, csrf=False)
    assert r.status == 403 and "CSRF" in text
    r, text = await b.post("/act/FC202", {**form, "csrf": "forged"}, csrf=False)
    assert r.status == 403
    r, text = await b.post("/logout", {}, csrf=False)
    assert r.status == 403 and "CPA01" in gateway.sessions
    _, html = await b.get("/ccms/instructions")
    assert "None." in panel(html, "FQ206")


async def test_url_manipulation_gets_the_gateways_refusal(gateway, console, browser):
    b = await browser()
    await b.login("CPA01")
    r, html = await b.get("/ccms?participant=CPB02")
    assert r.status == 200
    assert "-800006" in html and "CCMS_ACCOUNT_NOT_CALLERS" in html
    assert "CPB02</td>" not in html
    r, _ = await b.get("/desk")  # the operator's page: not a page of this user
    assert r.status == 404
    r, text = await b.post("/act/EC4", {"return_to": "/"})
    assert r.status == 403


async def test_deposit_and_typed_errors_next_to_the_field(gateway, console, browser):
    b = await browser()
    await b.login("CPA01")
    base = {"clearing_house": "HKCC", "account": "HOUSE", "currency": "HKD", "return_to": "/ccms/instructions"}
    r, html = await b.post("/act/FC202", {**base, "amount": "1.5"})
    assert 'id="FC202-amount-error"' in html and "Not sent: a whole number" in html
    r, html = await b.post("/act/FC202", {**base, "currency": "GBP", "amount": "100"})
    assert 'id="FC202-currency-error"' in html and "-800001" in html and "CCMS_UNKNOWN_CURRENCY" in html
    r, html = await b.post("/act/FC202", {**base, "amount": "1,000,000"})
    assert "FC202 accepted" in html
    table = panel(html, "FQ206")
    # money in currency units with its decimals, dates and times with their separators
    assert "<td>2026-11-23</td>" in table and "<td>09:00:00</td>" in table and "COMPLETED" in table
    assert "<td>HKD 10,000.00</td>" in table and "1,000,000" not in table


async def test_logout_and_idle_expiry_end_the_sdk_session(gateway, console, browser):
    b = await browser()
    await b.login("CPA01")
    assert "CPA01" in gateway.sessions
    r, html = await b.post("/logout", {})
    assert "/login" in str(r.url)
    for _ in range(50):
        if "CPA01" not in gateway.sessions:
            break
        await asyncio.sleep(0.05)
    assert "CPA01" not in gateway.sessions and not console.sessions
    r, _ = await b.get("/trades")
    assert "/login" in str(r.url)
    console.settings.idle_timeout = 0.3
    await b.login("CPB02")
    assert "CPB02" in gateway.sessions
    for _ in range(60):
        if "CPB02" not in gateway.sessions:
            break
        await asyncio.sleep(0.05)
    assert "CPB02" not in gateway.sessions and not console.sessions
    r, html = await b.get("/trades")
    assert "/login" in str(r.url)


async def test_console_costs_the_gateway_nothing_without_logins(gateway, console, browser):
    b = await browser()
    r, _ = await b.get("/login")
    assert r.status == 200
    assert gateway.connections == set() and gateway.sessions == {}


async def test_maker_checker_from_the_console(gateway, console, browser):
    maker, checker = await browser(), await browser()
    await maker.login("CPC03")
    await checker.login("CPC03B")
    base = {"clearing_house": "HKCC", "account": "HOUSE", "currency": "HKD", "return_to": "/ccms/instructions"}
    await maker.post("/act/FC202", {**base, "amount": "500"})
    _, html = await maker.post("/act/FC203", {**base, "amount": "200"})
    assert "pending authorisation" in html
    assert 'data-action="FC500-1"' not in html  # never its own
    _, html = await checker.get("/ccms/instructions")
    assert 'data-action="FC500-1"' in html
    _, html = await checker.post("/act/FC500", {"pending_id": "1", "return_to": "/ccms/instructions"})
    assert "FC500 accepted" in html and "AUTHORISED" in html
    _, html = await maker.post("/act/FC500", {"pending_id": "1", "return_to": "/ccms/instructions"})
    assert "-800502" in html  # already decided
    # a transfer to another clearing house takes the same path (FC251)
    _, html = await maker.post("/act/FC251", {"from_clearing_house": "HKCC", "from_account": "HOUSE",
                                              "to_clearing_house": "SEOCH", "to_account": "HOUSE",
                                              "instrument": "HKD", "quantity": "100",
                                              "return_to": "/ccms/instructions"})
    assert "FC251 accepted" in html and "pending authorisation" in html
    _, html = await checker.get("/ccms/instructions")
    row = [r for r in panel(html, "FQ500").split("<tr>") if "TRANSFER" in r][0]
    assert "SEOCH" in row and "PENDING" in row and 'data-action="FC500-1"' in row
    _, html = await checker.post("/act/FC500", {"pending_id": "2", "return_to": "/ccms/instructions"})
    assert "FC500 accepted" in html


async def test_administrator_pages(gateway, console, browser):
    b = await browser()
    _, html = await b.login("CPA01ADM")
    assert 'href="/users"' in html
    _, html = await b.get("/give-ups")  # enquiries yes, instructions no
    assert 'id="panel-CQ61"' in html and 'id="submit-CD35"' not in html
    _, html = await b.get("/users")
    assert "CPA01B" in html and "EXPIRED1" in html and "CPB02</td>" not in html
    _, html = await b.post("/act/UC500", {"user": "CLERK1", "password": "Secret-123", "profile": "FULL",
                                          "functions": "1", "return_to": "/users"})
    assert "UC500 accepted" in html and "CLERK1" in html
    _, html = await b.post("/act/UC501", {"user": "CPA01B", "new_password": "Typed-Secret-9x", "return_to": "/users"})
    _, html = await b.post("/act/UC501", {"user": "NOSUCH", "new_password": "Typed-Secret-9y", "return_to": "/users"})
    assert "-600503" in html and "Typed-Secret-9y" not in html  # refused, and the password not shown again
    assert all("Typed-Secret" not in repr(v) for s in console.sessions.values() for v in s.forms.values())
    r, _ = await b.post("/act/FC202", {"clearing_house": "HKCC", "account": "HOUSE", "currency": "HKD",
                                       "amount": "1", "return_to": "/users"})
    assert r.status == 403  # not a function of an Administrator: not even sent
    c = await browser()
    r, html = await c.login("CLERK1", "Secret-123")
    assert "/password" in str(r.url)  # must change the password first
    r, html = await c.post("/password", {"old_password": "Secret-123", "new_password": "Better-456"})
    assert "Password changed" in html
    assert 'href="/trades"' in html and 'id="submit-CD35"' not in html  # enquiry only


async def test_trades_paging_filters_and_live_push(gateway, console, browser, operator, connect):
    key = await series(operator, "HSI DEC26")
    deals = [m.DealItem(series=key, price=25000 + i, quantity=1 + i % 3, buyer="CPA01", seller="CPB02",
                        buyer_account="HKCC-HOUSE" if i % 2 else "HKCC-OMNIBUS") for i in range(250)]
    await operator.transact(m.InjectDealsRequest(deals=deals))
    b = await browser()
    _, html = await b.login("CPA01")
    assert "250</span> trades" in html and "page 1 of 3" in html
    _, html = await b.get("/trades?account=HKCC-HOUSE&page=2")
    assert "125</span> trades of 250" in html and "page 2 of 2" in html and "HKCC-OMNIBUS</td>" not in html
    ws = await b.http.ws_connect(b.base.replace("http", "ws") + "/ws", origin=b.base)
    hello = json.loads((await ws.receive(timeout=5)).data)
    assert hello["type"] == "hello" and hello["seq"] == console.sessions[next(iter(console.sessions))].seq
    first = json.loads((await ws.receive(timeout=5)).data)
    assert first["type"] == "clock" and first["business_date"] == "20261123"
    await deal(operator, key, 26000, 4, "CPA01", "CPB02", "HKCC-HOUSE")
    for _ in range(20):
        msg = json.loads((await ws.receive(timeout=5)).data)
        if msg["type"] == "trade":
            break
    assert msg["row"]["deal_price"] == 26000 and msg["row"]["quantity"] == 4
    from console.session import TRADE_COLUMNS
    shown = dict(zip(TRADE_COLUMNS, msg["cells"]))   # the live row as the page shows it
    assert (shown["deal_price"], shown["created_time"], shown["series_symbol"]) == ("26,000", "09:00:00", "HSI DEC26")
    await ws.close()
    # another origin may not open the live socket
    with pytest.raises(Exception):
        await b.http.ws_connect(b.base.replace("http", "ws") + "/ws", origin="http://evil.example")


@pytest.mark.parametrize("user", ["OCM01", "OPER1", "CPA01ADM", "CPD04"])
async def test_every_page_of_each_role_renders_without_error(gateway, console, browser, user):
    from console import pages
    b = await browser()
    _, html = await b.login(user)
    s = next(iter(console.sessions.values()))
    mine = pages.pages_for(s)
    assert mine and all(p.role == s.role for p in mine)
    for p in mine:
        r, html = await b.get(p.path)
        assert r.status == 200, p.path
        assert 'class="flash error"' not in html, (p.path, html[html.find('class="flash error"'):][:400])


async def test_https_when_given_a_certificate(gateway, tmp_path):
    import ssl

    from aiohttp import ClientSession

    from console.app import ConsoleServer
    from console.settings import ConsoleSettings

    from ..reliability.test_auth_tls import self_signed
    cert, key = self_signed(tmp_path)
    server = ConsoleServer(ConsoleSettings(port=0, gateway_port=gateway.port, tls_cert=str(cert), tls_key=str(key)))
    await server.start()
    try:
        ctx = ssl.create_default_context(cafile=str(cert))
        ctx.check_hostname = False
        async with ClientSession() as http:
            r = await http.get(f"https://127.0.0.1:{server.port}/login", ssl=ctx)
            assert r.status == 200
            assert "Secure" in r.headers["Set-Cookie"] and "HttpOnly" in r.headers["Set-Cookie"]
    finally:
        await server.stop()


async def test_operator_plays_the_demo_day(gateway, console, browser):
    o = await browser()
    _, html = await o.login("OPER1")
    assert 'id="play-demo-day"' in html
    _, html = await o.post("/desk/demo-day", {})
    assert "Demo day played: 6 deals, 12 trades booked." in html
    p = await browser()
    _, html = await p.login("CPA01")
    assert "4</span> trades" in html and "HHI DEC26" in html and "TCH NOV26 480.00 C" in html
    # prices in their class's decimals (HSI index points: none; TCH stock option premium: 2)
    tch = [r for r in html.split("<tr") if "TCH NOV26 480.00 C" in r][0]
    assert "<td>12.60</td>" in tch and "<td>09:00:00</td>" in tch
    hsi = [r for r in html.split("<tr") if "HSI DEC26" in r][0]
    assert "<td>25,000</td>" in hsi or "<td>25,010</td>" in hsi
    r, _ = await p.post("/desk/demo-day", {})
    assert r.status == 403


def test_command_line_settings():
    from console.__main__ import parse_args, settings_from
    s = settings_from(parse_args(["--gateway", "10.0.0.5:7601", "--port", "0", "--idle-timeout", "60"]))
    assert (s.gateway_host, s.gateway_port, s.host, s.port, s.idle_timeout) == ("10.0.0.5", 7601, "127.0.0.1", 0, 60)
    with pytest.raises(SystemExit):
        settings_from(parse_args(["--gateway", "no-port"]))
    with pytest.raises(SystemExit):
        settings_from(parse_args(["--tls-cert", "c.pem"]))


async def test_operator_sees_who_is_connected(gateway, console, browser, connect):
    """The operator's desk lists the logged-in sessions (EQ610 through the SDK); a participant has no
    such page and its URL gets nothing."""
    await connect("CPB02")
    p = await browser()
    await p.login("CPA01")
    o = await browser()
    await o.login("OPER1")
    r, html = await o.get("/desk/sessions")
    assert r.status == 200
    table = panel(html, "EQ610")
    for user in ("CPA01", "CPB02", "OPER1"):
        assert f"<td>{user}</td>" in table, user
    assert "127.0.0.1:" in table
    # one user only, and the sessions that ended
    await p.post("/logout", {})
    _, html = await o.get("/desk/sessions?user=CPA01&ended=1")
    table = panel(html, "EQ610")
    assert "<td>CPA01</td>" in table and "<td>CPB02</td>" not in table
    _, html = await o.get("/desk/sessions?user=CPA01")
    assert "<td>CPA01</td>" not in panel(html, "EQ610")   # logged out: not connected any more
    q = await browser()
    await q.login("CPA01")
    r, _ = await q.get("/desk/sessions")
    assert r.status == 404
