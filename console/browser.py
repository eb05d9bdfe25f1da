"""Headless Chromium for the browser tests and the screenshots: Debian's ``chromium`` and
``chromium-driver`` driven by Selenium, never a downloaded browser (selenium-manager is not used:
the driver and the browser are given explicitly)."""
from __future__ import annotations

import os
import shutil

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
DRIVERS = ("chromedriver",)


def find_chromium() -> tuple[str | None, str | None]:
    """(browser, driver) paths, or None for what is missing."""
    browser = next((p for p in map(shutil.which, BROWSERS) if p), None)
    driver = next((p for p in map(shutil.which, DRIVERS) if p), None)
    if driver is None and os.path.exists("/usr/lib/chromium/chromedriver"):
        driver = "/usr/lib/chromium/chromedriver"
    return browser, driver


def missing_reason() -> str | None:
    """Why browser work cannot run here (None: it can)."""
    browser, driver = find_chromium()
    if browser is None or driver is None:
        return ("Chromium or its driver is missing (apt-get install chromium chromium-driver): "
                f"browser={browser}, driver={driver}")
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[test]')"
    return None


def make_driver(width: int = 1366, height: int = 860):
    """A headless Chromium WebDriver on the system's browser and driver."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    os.environ.setdefault("SE_OFFLINE", "true")  # selenium-manager must never try to download anything
    browser, driver = find_chromium()
    opts = webdriver.ChromeOptions()
    opts.binary_location = browser
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                f"--window-size={width},{height}", "--disable-extensions", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync"):
        opts.add_argument(arg)
    return webdriver.Chrome(service=Service(executable_path=driver), options=opts)
