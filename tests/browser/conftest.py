"""Headless Chromium for the browser tests, and a page that records what they must not see."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("GIGASITE_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "var" / "test-artifacts" / "browser"


@pytest.fixture
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - requirements install it
        sync_playwright = None
    if sync_playwright is None or not shutil.which(CHROMIUM):
        if os.environ.get("GIGASITE_REQUIRE_SERVICES") == "1":
            pytest.fail(f"headless Chromium is required here: {CHROMIUM} or playwright missing")
        pytest.skip(f"no Chromium at {CHROMIUM}")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"])
        yield browser
        browser.close()


class Journey:
    """A page that records console errors and every request leaving the test server."""

    def __init__(self, browser, base_url: str, name: str) -> None:
        self.base = base_url
        self.name = name
        self.errors: list[str] = []
        self.outside: list[str] = []
        # Tall enough for a whole page: full-page screenshots resize the viewport, which makes
        # plotly redraw its responsive maps and once left a screenshot waiting for a frame.
        self.page = browser.new_page(viewport={"width": 1400, "height": 2100}, locale="en-GB")
        self.page.set_default_timeout(60_000)
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", self._request)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        for old in ARTIFACTS.glob(f"{name}-*.png"):
            old.unlink()
        self.step = 0

    def _request(self, request) -> None:
        url = request.url
        if not (url.startswith(self.base) or url.startswith(("data:", "blob:"))):
            self.outside.append(url)

    def shot(self, name: str) -> Path:
        self.step += 1
        path = ARTIFACTS / f"{self.name}-{self.step:02d}-{name}.png"
        self.page.screenshot(path=str(path))
        return path

    def log_in(self, username: str, password: str) -> None:
        """Log in through the login page, as a person would."""
        self.page.goto(f"{self.base}/accounts/login/")
        self.page.fill("#id_username", username)
        self.page.fill("#id_password", password)
        self.page.click("main form button[type=submit]")
        self.page.wait_for_load_state()

    def table_ids(self) -> list[str]:
        return self.page.eval_on_selector_all(
            "#ranked-table tbody tr[data-site-id]", "rows => rows.map(r => r.dataset.siteId)"
        )
