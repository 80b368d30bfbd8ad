from __future__ import annotations

import pytest


@pytest.mark.browser
def test_the_interactive_docs_render_from_this_host_only(page, live_server, request_log):
    from playwright.sync_api import expect

    page.goto(f"{live_server.url}/api/docs")
    expect(page.locator(".swagger-ui .info .title").first).to_contain_text("treu API")
    expect(page.locator(".opblock-tag", has_text="orders").first).to_be_visible()
    assert any("/api/v1/openapi.json" in url for url in request_log)
    # The `page` fixture fails the test if any request left the machine.
