"""The console in a real browser: headless Chromium (Debian's chromium + chromium-driver) driven by
Selenium, against one gateway and one console for the module (started by the test, on loopback).
Skipped with the reason when Chromium is missing; never skipped under CI (CI=true: a failure)."""
from __future__ import annotations

import asyncio
import os
import threading

import pytest

from console.browser import make_driver, missing_reason

REASON = missing_reason()
if REASON is not None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"browser tests cannot run under CI: {REASON}", pytrace=False)
    pytest.skip(REASON, allow_module_level=True)

from selenium.common.exceptions import StaleElementReferenceException, TimeoutException, WebDriverException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

from tests.conftest import settings  # noqa: E402

WAIT = 15  # seconds: generous, for a busy CI machine (speed is measured in benchmarks/)


class Stack:
    """A gateway and a console on their own event loop in a thread (the test drives the browser)."""

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.gateway = self.console = None

    def run(self, coro, timeout: float = 30):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    async def _start(self):
        from console.app import ConsoleServer
        from console.settings import ConsoleSettings
        from gateway.server import Gateway
        self.gateway = Gateway(settings())
        await self.gateway.start()
        self.console = ConsoleServer(ConsoleSettings(port=0, gateway_port=self.gateway.port))
        await self.console.start()

    async def _stop(self):
        await self.console.stop()
        await self.gateway.stop()

    def start(self):
        self.run(self._start())
        self.url = f"http://127.0.0.1:{self.console.port}"

    def stop(self):
        self.run(self._stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


@pytest.fixture(scope="module")
def stack():
    s = Stack()
    s.start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def drivers(stack):
    """``drivers(name)``: that browser, or ``drivers(name, user)``: that browser signed in as
    ``user`` (signed in at its first use), so that each test can run on its own or after the
    others of the module (which share the browsers, the gateway and its business day)."""
    made, signed = {}, {}

    def get(name: str, user: str | None = None):
        if name not in made:
            made[name] = make_driver()
        d = made[name]
        if user is not None and signed.get(name) != user:
            login(d, stack.url, user)
            wait_text(d, user, (By.ID, "who"))   # logged in (and subscribed) before the page changes
            signed[name] = user
        return d

    get.signed = signed   # a test that signs in through the form itself says so here
    yield get
    for d in made.values():
        d.quit()


def inject_deal(o, url: str, **deal) -> None:
    """The operator's console injects one deal (EC101) and sees it accepted."""
    o.get(url + "/desk")
    fill(o, "EC101", **deal)
    wait_text(o, "EC101 accepted")


A_DEAL = dict(series="HSI DEC26", price=25000, quantity=10, buyer="CPA01", seller="CPC03",
              buyer_account="HKCC-OMNIBUS", buyer_open_close="OPEN", seller_open_close="OPEN")


# the deal the trades page watches arrive: another series than A_DEAL's, so that whichever test runs
# first, neither changes what the other's assertions read
WATCHED_DEAL = dict(series="HHI DEC26", price=9050, quantity=2, buyer="CPA01", seller="CPC03",
                    buyer_open_close="OPEN", seller_open_close="OPEN")


@pytest.fixture(scope="module")
def deal_of_a(stack, drivers):
    """A_DEAL, injected once for the module."""
    inject_deal(drivers("O", "OPER1"), stack.url, **A_DEAL)
    return A_DEAL


def login(d, url: str, user: str, password: str | None = None):
    d.get(url + "/login")
    d.find_element(By.ID, "user").clear()
    d.find_element(By.ID, "user").send_keys(user)
    d.find_element(By.ID, "password").send_keys(password or f"pass-{user}")
    d.find_element(By.ID, "login").click()


def _replaced(e: Exception) -> bool:
    """The element went away between finding it and reading it (a navigation or a live redraw):
    chromedriver says so with a stale reference, or with this inspector error."""
    return isinstance(e, StaleElementReferenceException) or "does not belong to the document" in str(e)


def _text_of(x, locator) -> str | None:
    """The element's text, or None when it was replaced while read (asked again at the next poll)."""
    try:
        return x.find_element(*locator).text
    except WebDriverException as e:
        if _replaced(e):
            return None
        raise


def _shows(x, text: str, locator) -> bool:
    got = _text_of(x, locator)
    return got is not None and text in got


def wait_equal(d, locator, text: str) -> None:
    """Wait until the element at ``locator`` reads exactly ``text``."""
    WebDriverWait(d, WAIT).until(lambda x: _text_of(x, locator) == text)


def wait_text(d, text: str, locator=(By.TAG_NAME, "body"), timeout: float = WAIT):
    try:
        WebDriverWait(d, timeout).until(lambda x: _shows(x, text, locator))
    except TimeoutException:
        raise AssertionError(f"{text!r} not shown in {locator}: {d.find_element(*locator).text[:2000]!r}") from None


def row_of(d, css: str) -> str:
    """The text of the table row holding the element ``css`` (waits; live refreshes may replace it)."""
    def text(x):
        try:
            els = x.find_elements(By.CSS_SELECTOR, css)
            return els[0].find_element(By.XPATH, "./ancestor::tr").text if els else False
        except WebDriverException as e:
            if _replaced(e):
                return False
            raise
    return WebDriverWait(d, WAIT).until(text)


def trade_of(d, text: str) -> str:
    """The trade number of the first row of the trades table whose text holds ``text`` (waits)."""
    def get(x):
        try:
            for row in x.find_elements(By.CSS_SELECTOR, "#trades tbody tr"):
                if text in row.text:
                    return row.get_attribute("data-trade")
            return False
        except WebDriverException as e:
            if _replaced(e):
                return False
            raise
    return WebDriverWait(d, WAIT).until(get)


def click(d, css: str) -> None:
    def go(x):
        try:
            x.find_element(By.CSS_SELECTOR, css).click()
            return True
        except WebDriverException as e:
            if _replaced(e):
                return False
            raise
    WebDriverWait(d, WAIT).until(go)


def fill(d, form_code: str, **values):
    try:
        WebDriverWait(d, WAIT).until(lambda x: x.find_elements(By.ID, f"form-{form_code}"))
    except TimeoutException:
        raise AssertionError(f"no form {form_code} at {d.current_url}: "
                             f"{d.find_element(By.TAG_NAME, 'body').text[:1500]!r}") from None
    form = d.find_element(By.ID, f"form-{form_code}")
    for name, value in values.items():
        el = form.find_element(By.NAME, name)
        if el.tag_name == "select":
            from selenium.webdriver.support.ui import Select
            Select(el).select_by_visible_text(value)
        else:
            el.clear()
            el.send_keys(str(value))
    form.find_element(By.ID, f"submit-{form_code}").click()


def test_login_as_participant_and_operator(stack, drivers):
    a, o = drivers("A"), drivers("O")
    login(a, stack.url, "CPA01")
    wait_text(a, "CPA01", (By.ID, "who"))
    assert a.find_element(By.ID, "bdate").text == "2026-11-23"
    assert a.current_url.endswith("/trades")
    login(o, stack.url, "OPER1")
    wait_text(o, "Inject deal")
    assert o.current_url.endswith("/desk")
    drivers.signed.update(A="CPA01", O="OPER1")


def test_injected_deal_shows_on_the_trades_page_without_reload(stack, drivers):
    a, o = drivers("A", "CPA01"), drivers("O", "OPER1")
    a.get(stack.url + "/trades")
    wait_equal(a, (By.ID, "conn"), "connected")
    assert "HHI DEC26" not in a.find_element(By.ID, "trades").text
    a.execute_script("window.__notReloaded = 42;")
    inject_deal(o, stack.url, **WATCHED_DEAL)
    wait_text(a, "9,050", (By.ID, "trades"))
    assert a.execute_script("return window.__notReloaded;") == 42
    wait_text(a, "HHI DEC26", (By.ID, "trades"))  # the table may be redrawn by a live update meanwhile


def test_give_up_and_take_up_between_two_consoles(stack, drivers, deal_of_a):
    a, b = drivers("A", "CPA01"), drivers("B", "CPB02")
    b.get(stack.url + "/give-ups")
    wait_equal(b, (By.ID, "conn"), "connected")
    a.get(stack.url + "/trades")
    trade_no = trade_of(a, A_DEAL["series"])
    a.get(stack.url + "/give-ups")
    fill(a, "CD35", trade_number=trade_no, quantity=7, to_participant="CPB02")
    wait_text(a, "CD35 accepted")
    # B's page shows the pending take-up without reload, with its Accept action
    row = row_of(b, '[data-action="CC38-1"]')
    assert "PENDING" in row and "CPA01" in row
    click(b, '[data-action="CC38-1"]')
    wait_text(b, "CC38 accepted")
    b.get(stack.url + "/positions")
    wait_text(b, "HSI DEC26", (By.ID, "panel-CQ3"))
    rows_b = [r.text for r in b.find_elements(By.CSS_SELECTOR, "#panel-CQ3 tbody tr")]
    assert any("HKCC-HOUSE" in r and "HSI DEC26" in r and " 7 " in f" {r} " for r in rows_b), rows_b
    a.get(stack.url + "/positions")
    rows_a = [r.text for r in a.find_elements(By.CSS_SELECTOR, "#panel-CQ3 tbody tr")]
    assert any("HKCC-OMNIBUS" in r and "HSI DEC26" in r and " 3 " in f" {r} " for r in rows_a), rows_a


def test_cash_deposit_shows_value_date_and_state(stack, drivers):
    a = drivers("A", "CPA01")
    a.get(stack.url + "/ccms/instructions")
    fill(a, "FC202", clearing_house="HKCC", account="HOUSE", currency="HKD", amount="1000000")
    wait_text(a, "FC202 accepted")
    table = a.find_element(By.ID, "panel-FQ206").text
    assert "DEPOSIT" in table and "2026-11-23" in table and "COMPLETED" in table and "HKD 10,000.00" in table


def test_url_manipulation_and_missing_csrf_are_refused(stack, drivers):
    a = drivers("A", "CPA01")
    a.get(stack.url + "/ccms/instructions")
    deposits = a.find_element(By.ID, "panel-FQ206").text.count("DEPOSIT")
    a.get(stack.url + "/ccms?participant=CPB02")
    wait_text(a, "-800006", (By.ID, "panel-FQ200"))
    assert "CCMS_ACCOUNT_NOT_CALLERS" in a.find_element(By.ID, "panel-FQ200").text
    assert a.find_elements(By.CSS_SELECTOR, "#panel-FQ200 table") == []  # the refusal, never the data
    a.get(stack.url + "/ccms/instructions")
    a.execute_script("document.querySelector('#form-FC202 input[name=csrf]').remove();")
    fill(a, "FC202", clearing_house="HKCC", account="HOUSE", currency="HKD", amount="5")
    wait_text(a, "CSRF token is missing or wrong")
    a.get(stack.url + "/ccms/instructions")
    assert a.find_element(By.ID, "panel-FQ206").text.count("DEPOSIT") == deposits  # the refused form changed nothing


def test_wrong_password_shows_the_gateway_error_and_lockout_holds(stack, drivers):
    d = drivers("L")
    for _ in range(stack.gateway.settings.login_failures_before_lock):
        login(d, stack.url, "CPE05", "not-the-password")
        wait_text(d, "Login refused by the gateway", (By.ID, "login-error"))
    login(d, stack.url, "CPE05")
    wait_text(d, "locked", (By.ID, "login-error"))


def test_end_of_day_moves_the_business_date_on_every_console(stack, drivers):
    a, b, o = drivers("A", "CPA01"), drivers("B", "CPB02"), drivers("O", "OPER1")
    a.get(stack.url + "/trades")
    b.get(stack.url + "/positions")
    for d in (a, b):
        wait_equal(d, (By.ID, "conn"), "connected")
    o.get(stack.url + "/desk/day")
    o.find_element(By.ID, "submit-EC4").click()
    wait_text(o, "EC4 accepted")
    for d in (a, b, o):
        wait_equal(d, (By.ID, "bdate"), "2026-11-24")
    wait_text(a, "Business date changed to 2026-11-24", (By.ID, "banner"))
