"""Screenshots of the console's main pages for docs/guides/console.md, from a real headless Chromium.

    python -m console.screenshots [--out docs/guides/console]

Starts its own gateway (``python -m gateway``, business time frozen at a demo date, no console of
its own) and console (``python -m console``) on free loopback ports, plays a short demo day through
the browser (the operator injects deals, a participant gives up and deposits cash, the receiver
takes up), and saves one PNG per page. Needs Debian's chromium and chromium-driver.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from console.browser import make_driver, missing_reason

START = "2026-11-23T10:30:00"
PAGES = [("login", None, "/login"), ("trades", "A", "/trades"), ("give-ups", "B", "/give-ups"),
         ("positions", "A", "/positions"), ("margin", "A", "/margin"), ("ccms", "A", "/ccms"),
         ("instructions", "A", "/ccms/instructions"), ("desk", "O", "/desk"), ("sessions", "O", "/desk/sessions"),
         ("users", "ADM", "/users")]


def _spawn(args: list[str], port_file: Path) -> tuple[subprocess.Popen, int]:
    p = subprocess.Popen([sys.executable, *args, "--port-file", str(port_file)], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    for _ in range(300):
        if port_file.exists() and port_file.read_text().strip():
            return p, int(port_file.read_text())
        if p.poll() is not None:
            raise SystemExit(f"{args[1]} did not start")
        time.sleep(0.1)
    p.kill()
    raise SystemExit(f"{args[1]} did not start in time")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m console.screenshots")
    ap.add_argument("--out", default="docs/guides/console", help="directory for the PNG files")
    a = ap.parse_args(argv)
    reason = missing_reason()
    if reason:
        print(reason, file=sys.stderr)
        return 2
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp())
    gw, gport = _spawn(["-m", "gateway", "--port", "0", "--no-console", "--freeze-clock", "--business-time", START,
                        "--log-level", "warning"], tmp / "gw")
    con, cport = _spawn(["-m", "console", "--gateway", f"127.0.0.1:{gport}", "--port", "0", "--log-level", "warning"],
                        tmp / "con")
    url = f"http://127.0.0.1:{cport}"
    drivers = {}
    try:
        def browser(who: str):
            if who not in drivers:
                drivers[who] = d = make_driver(1200, 760)
                user = {"A": "CPA01", "B": "CPB02", "O": "OPER1", "ADM": "CPA01ADM"}[who]
                d.get(url + "/login")
                d.find_element(By.ID, "user").send_keys(user)
                d.find_element(By.ID, "password").send_keys(f"pass-{user}")
                d.find_element(By.ID, "login").click()
                WebDriverWait(d, 15).until(lambda x: "/login" not in x.current_url)
            return drivers[who]

        def submit(d, code: str, **values):
            form = d.find_element(By.ID, f"form-{code}")
            for name, value in values.items():
                el = form.find_element(By.NAME, name)
                if el.tag_name == "select":
                    Select(el).select_by_visible_text(value)
                else:
                    el.clear()
                    el.send_keys(str(value))
            form.find_element(By.ID, f"submit-{code}").click()
            WebDriverWait(d, 15).until(lambda x: "accepted" in x.find_element(By.TAG_NAME, "body").text
                                       or "Rejected" in x.find_element(By.TAG_NAME, "body").text)

        o, pa, pb = browser("O"), browser("A"), browser("B")
        o.get(url + "/desk")
        o.find_element(By.ID, "play-demo-day").click()
        WebDriverWait(o, 15).until(lambda x: "Demo day played" in x.find_element(By.TAG_NAME, "body").text)
        pa.get(url + "/trades")
        first = pa.find_elements(By.CSS_SELECTOR, "#trades tbody tr")[-1].get_attribute("data-trade")
        pa.get(url + "/give-ups")
        submit(pa, "CD35", trade_number=first, quantity=3, to_participant="CPB02", text="client 42")
        pa.get(url + "/ccms/instructions")
        submit(pa, "FC202", clearing_house="HKCC", account="HOUSE", currency="HKD", amount="50000000")
        for name, who, path in PAGES:
            d = browser(who) if who else make_driver(1200, 760)
            try:
                d.get(url + path)
                time.sleep(0.5)  # the live socket connects and the header settles
                d.save_screenshot(str(out / f"{name}.png"))
                print(out / f"{name}.png")
            finally:
                if not who:
                    d.quit()
    finally:
        for d in drivers.values():
            d.quit()
        for p in (con, gw):
            p.terminate()
            p.wait(10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
