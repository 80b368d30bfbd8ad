"""Browser fixtures: Playwright drives Debian's Chromium against pytest-django's live server.

Never `playwright install`: treu tests with the system Chromium (apt-get install chromium).
Without it the browser tests skip themselves, except under CI=true, where they fail, so a
CI run can never be green without having driven a browser.

Tests marked `@pytest.mark.postgres` skip themselves unless DATABASE_URL is PostgreSQL.

Every page also records the requests it makes and fails the test if one leaves the
machine: treu pages load nothing from third-party hosts (no CDN, fonts or trackers).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

import pytest

SYSTEM_CHROMIUM = "/usr/bin/chromium"
# Headless, as root, on a machine with a closed network: without the
# background-networking flags Chromium keeps dialling Google's hosts.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
LOCAL_SCHEMES = frozenset({"data", "blob", "about"})
TIMEOUT_MS = 15_000


def find_chromium() -> tuple[str | None, str]:
    """(path, "") or (None, why not): $CHROMIUM_PATH, else /usr/bin/chromium, else PATH."""
    configured = os.environ.get("CHROMIUM_PATH", "").strip()
    if configured:
        if os.path.isfile(configured) and os.access(configured, os.X_OK):
            return configured, ""
        return None, f"CHROMIUM_PATH={configured!r} is not an executable file"
    if os.access(SYSTEM_CHROMIUM, os.X_OK):
        return SYSTEM_CHROMIUM, ""
    found = shutil.which("chromium")
    if found:
        return found, ""
    return None, "no Chromium found ($CHROMIUM_PATH, /usr/bin/chromium, chromium on PATH)"


def running_in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes", "on"}


def foreign_requests(urls: list[str], allowed_netlocs: set[str] | None = None) -> list[str]:
    """The URLs that went anywhere but this machine (or, if given, anywhere but those netlocs)."""
    foreign = []
    for url in urls:
        parts = urlsplit(url)
        if parts.scheme in LOCAL_SCHEMES:
            continue
        if allowed_netlocs is not None:
            if parts.netloc not in allowed_netlocs:
                foreign.append(url)
        elif parts.hostname not in LOCAL_HOSTS:
            foreign.append(url)
    return foreign


def pytest_runtest_setup(item: pytest.Item) -> None:
    # `@pytest.mark.postgres` tests need PostgreSQL; CI runs the suite on it a second time.
    if item.get_closest_marker("postgres") is None:
        return
    from django.conf import settings

    if not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        pytest.skip("needs PostgreSQL: run with DATABASE_URL=postgres://...")


@pytest.fixture(scope="session")
def live_server(request):
    """pytest-django's live server on 127.0.0.1, speaking plain http://.

    Overrides pytest-django's fixture of the same name: its server thread builds
    the middleware once, at start, before any per-test `settings` override, so
    production's SECURE_SSL_REDIRECT would send the browser to https:// for good.
    """
    from django.test.utils import override_settings
    from pytest_django.live_server_helper import LiveServer

    address = (
        request.config.getvalue("liveserver")
        or os.environ.get("DJANGO_LIVE_TEST_SERVER_ADDRESS")
        or "127.0.0.1"
    )
    with override_settings(SECURE_SSL_REDIRECT=False, SECURE_HSTS_SECONDS=0):
        server = LiveServer(address)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path, reason = find_chromium()
    if path is None:
        hint = "install it with `apt-get install -y chromium` or set CHROMIUM_PATH"
        if running_in_ci():
            pytest.fail(f"CI=true but {reason}: the browser tests must run in CI; {hint}.")
        pytest.skip(f"browser tests skipped: {reason}; {hint}.")
    return path


@pytest.fixture(scope="session")
def browser(chromium_path: str):
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in the main thread; Django would
    # then refuse ORM calls from test code and fixtures as "async unsafe".
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(
                executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS
            )
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def request_log() -> list[str]:
    """Every URL the test's browser context requested, in order."""
    return []


@pytest.fixture
def page(browser, request_log: list[str]) -> Iterator:
    """A fresh German-speaking browser context per test; fails on any request off this machine."""
    context = browser.new_context(locale="de-DE", timezone_id="Europe/Berlin")
    context.set_default_timeout(TIMEOUT_MS)
    context.on("request", lambda request: request_log.append(request.url))
    try:
        yield context.new_page()
    finally:
        context.close()
    leaked = foreign_requests(request_log)
    if leaked:
        pytest.fail(f"The page requested third-party URLs: {leaked}")


@pytest.fixture
def logged_in_page(page, live_server, settings) -> Callable:
    """logged_in_page(user) -> the page, with `user` logged in, showing the overview."""
    from django.test import Client

    def login(user):
        client = Client()
        client.force_login(user)
        session = client.cookies[settings.SESSION_COOKIE_NAME]
        page.context.add_cookies(
            [{"name": settings.SESSION_COOKIE_NAME, "value": session.value, "url": live_server.url}]
        )
        page.goto(f"{live_server.url}/")
        return page

    return login
