from __future__ import annotations

import pytest
from django.test import RequestFactory

from treu.core import panels

pytestmark = pytest.mark.django_db

PAGE = "test-page"


@pytest.fixture(autouse=True)
def _registered(monkeypatch):
    monkeypatch.setattr(panels, "_panels", {})
    panels.register(
        PAGE,
        panels.Panel("second", "backoffice/_lang.html", lambda request, obj: {}, None, order=20),
    )
    panels.register(
        PAGE,
        panels.Panel(
            "first",
            "backoffice/_lang.html",
            lambda request, obj: {} if obj == "shown" else None,
            "analytics.view_analytics",
            order=10,
        ),
    )


def _request(user):
    request = RequestFactory().get("/")
    request.user = user
    return request


def test_it_lists_the_panels_a_user_may_see_in_order(owner, outsider):
    assert [p.key for p in panels.panels_for(PAGE, owner)] == ["first", "second"]
    assert [p.key for p in panels.panels_for(PAGE, outsider)] == ["second"]
    assert panels.panels_for("another-page", owner) == []


def test_it_leaves_out_panels_with_nothing_to_show(owner):
    assert len(panels.render(PAGE, _request(owner), "shown")) == 2
    assert len(panels.render(PAGE, _request(owner), "hidden")) == 1


def test_registering_a_key_again_replaces_the_panel(owner):
    panels.register(PAGE, panels.Panel("second", "backoffice/_lang.html", lambda r, o: None, None))
    assert len(panels.render(PAGE, _request(owner), "hidden")) == 0
