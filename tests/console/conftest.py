"""A gateway and a console on free loopback ports, and an HTTP client of the console that logs in
like a browser (cookies, CSRF tokens)."""
from __future__ import annotations

import re

import pytest
from aiohttp import ClientSession, CookieJar

from console.app import ConsoleServer
from console.settings import ConsoleSettings

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    m = CSRF.search(html)
    assert m, "the page has a form with a CSRF token"
    return m.group(1)


@pytest.fixture
def console_settings(gateway) -> ConsoleSettings:
    return ConsoleSettings(host="127.0.0.1", port=0, gateway_port=gateway.port, sweep_interval=0.2)


@pytest.fixture
async def console(console_settings):
    server = ConsoleServer(console_settings)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


class Browser:
    """What a browser does: keeps cookies, reads the CSRF token from the page it posts from."""

    def __init__(self, base: str):
        self.base = base
        self.http = ClientSession(cookie_jar=CookieJar(unsafe=True))  # cookies of 127.0.0.1
        self.csrf = ""

    async def get(self, path: str, **kw):
        r = await self.http.get(self.base + path, **kw)
        text = await r.text()
        m = CSRF.search(text)
        if m:
            self.csrf = m.group(1)
        return r, text

    async def post(self, path: str, data: dict, csrf: bool = True, **kw):
        body = dict(data)
        if csrf:
            body.setdefault("csrf", self.csrf)
        r = await self.http.post(self.base + path, data=body, **kw)
        text = await r.text()
        m = CSRF.search(text)
        if m:
            self.csrf = m.group(1)
        return r, text

    async def login(self, user: str, password: str | None = None):
        await self.get("/login")
        return await self.post("/login", {"user": user, "password": password or f"pass-{user}"})

    async def close(self):
        await self.http.close()


@pytest.fixture
async def browser(console):
    made = []

    async def _make() -> Browser:
        b = Browser(f"http://127.0.0.1:{console.port}")
        made.append(b)
        return b

    yield _make
    for b in made:
        await b.close()
