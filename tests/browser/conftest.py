"""Browser tests: headless Debian Chromium (``/usr/bin/chromium``) driven by Playwright's sync API
against pytest-django's ``live_server``. Mark every test ``@pytest.mark.browser``.

Fixtures for other apps' browser tests (use these, not pytest-playwright's ``context``/``page``):

``browser_db``
    Transactional database for ``live_server`` (the server thread shares the in-memory SQLite
    connection). At teardown it empties the append-only audit table (triggers lifted for that one
    statement, then re-created) so the flush succeeds. Requested by ``page`` and ``logged_in_page``.
``page``
    A fresh page in a fresh context (base URL = ``live_server.url``, 5 s timeouts). Every console
    message about a Content-Security-Policy violation is collected in ``csp_violations``.
``csp_violations``
    The list of CSP console messages of this test's pages; asserted empty at teardown, so a test
    fails on any CSP violation. A test that provokes one on purpose clears the list.
``logged_in_page(user) -> Page``
    A new signed-in page for ``user`` (session cookie from ``Client.force_login``: fast, no password,
    no two-factor prompt unless the user has a confirmed device). ``logged_in_page(user, via_form=True,
    password=...)`` signs in through the real login form instead.
``screenshot(page, name)``
    Saves ``docs/screenshots/<name>.png`` when ``KAIROS_SCREENSHOTS=1`` (``make screenshots``), else
    a temporary file, so ordinary test runs leave the tree clean.

Playwright is started per test module and stopped after it: the sync API keeps an asyncio loop
running in the main thread while it is alive, during which Django refuses ORM calls unless
``DJANGO_ALLOW_ASYNC_UNSAFE`` is set (this conftest sets it only for browser tests).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
TIMEOUT_MS = 5_000
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
CSP_MARKERS = ("Content Security Policy", "Content-Security-Policy", "Refused to")


@pytest.fixture(autouse=True)
def _allow_orm_beside_playwright(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="module")
def playwright() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed")
    from playwright.sync_api import sync_playwright

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # module-scoped fixtures below touch the ORM
    pw = sync_playwright().start()
    try:
        yield pw
    finally:
        pw.stop()
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture(scope="module")
def browser(playwright: Any) -> Iterator[Any]:
    b = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    try:
        yield b
    finally:
        b.close()


@pytest.fixture
def browser_db(transactional_db: None) -> None:
    """Transactional DB (``live_server`` needs it). The final flush must empty the append-only audit
    table: the root conftest's ``_audit_append_only_guard`` lifts the triggers for that flush only
    (SQLite: dropped and re-created before the next test; PostgreSQL: ``session_replication_role``)."""


@pytest.fixture
def csp_violations() -> Iterator[list[str]]:
    found: list[str] = []
    yield found
    assert not found, "Content-Security-Policy violations:\n" + "\n".join(found)


@pytest.fixture
def new_page(
    browser_db: None, browser: Any, live_server: Any, csp_violations: list[str]
) -> Iterator[Callable[[], Any]]:
    contexts: list[Any] = []

    def make() -> Any:
        context = browser.new_context(
            base_url=live_server.url,
            viewport={"width": 1280, "height": 860},
            locale="en-GB",
            timezone_id="UTC",
        )
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()

        def on_console(msg: Any) -> None:
            if any(marker in msg.text for marker in CSP_MARKERS):
                csp_violations.append(f"{page.url}: {msg.text}")

        page.on("console", on_console)
        return page

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page: Callable[[], Any]) -> Any:
    return new_page()


@pytest.fixture
def logged_in_page(new_page: Callable[[], Any], live_server: Any) -> Callable[..., Any]:
    def login(user: Any, *, via_form: bool = False, password: str = "pw-for-tests-1") -> Any:
        page = new_page()
        if via_form:
            page.goto("/accounts/login/")
            page.fill("#id_username", user.get_username())
            page.fill("#id_password", password)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_load_state()
            return page
        from django.conf import settings
        from django.test import Client

        client = Client()
        client.force_login(user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME]
        page.context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])
        return page

    return login


@pytest.fixture
def screenshot(tmp_path: Path) -> Callable[[Any, str], Path]:
    def take(page: Any, name: str) -> Path:
        folder = SCREENSHOTS if os.environ.get("KAIROS_SCREENSHOTS") == "1" else tmp_path
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
