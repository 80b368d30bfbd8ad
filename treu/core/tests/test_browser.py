"""End-to-end: a real Chromium logs in through the real login form (see treu/conftest.py)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest

from treu.conftest import foreign_requests

PASSWORD = "Browser-Passwort-42"  # noqa: S105


def test_ci_never_silently_skips_the_browser_tests(chromium_path):
    # Skips on a developer machine without Chromium; under CI=true the fixture fails instead.
    assert Path(chromium_path).exists()


@pytest.mark.browser
def test_owner_logs_in_through_the_form_and_lands_on_the_overview(
    page, live_server, owner, request_log
):
    from playwright.sync_api import expect

    owner.set_password(PASSWORD)
    owner.save()

    page.goto(f"{live_server.url}/login/")
    login_form = page.locator("form:has(input[name=password])")
    login_form.locator("input[name=username]").fill(owner.username)
    login_form.locator("input[name=password]").fill(PASSWORD)
    login_form.locator("button[type=submit]").click()

    page.wait_for_url(f"{live_server.url}/")
    expect(page.locator("nav").first).to_be_visible()
    expect(page.locator("nav a[href='/customers/']").first).to_be_visible()
    heading = page.locator("h1").first
    expect(heading).to_be_visible()
    assert heading.inner_text().strip()
    assert foreign_requests(request_log, {urlsplit(live_server.url).netloc}) == []


@pytest.mark.browser
def test_it_sends_an_anonymous_visitor_of_the_customer_list_to_the_login(
    page, live_server, request_log
):
    page.goto(f"{live_server.url}/customers/")

    assert urlsplit(page.url).path == "/login/"
    assert "next=/customers/" in page.url.replace("%2F", "/")
    assert page.locator("input[name=username]").count() == 1
    assert foreign_requests(request_log, {urlsplit(live_server.url).netloc}) == []
