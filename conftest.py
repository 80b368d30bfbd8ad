"""Fixtures every test can use: the named people of treu and a clean, fast setup."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User

from treu.core.roles import CASHIER, MARKETING, OWNER, SUPPORT

PASSWORD = "treu-test-Passwort-1"  # noqa: S105


@pytest.fixture(autouse=True)
def _test_settings(settings):
    settings.SECURE_SSL_REDIRECT = False
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.LANGUAGE_CODE = "de"
    # Pages link their CSS via {% static %}; tests run without collectstatic's manifest.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _fresh_wanted_kinds(monkeypatch):
    """Each test starts without the webhooks' per-process cache of wanted event kinds, and
    the cache does not expire on its own during a test: whether a subscriber queries must
    not depend on how long a slow machine took (query counts are pinned in tests). Changes
    to subscriptions still clear it, as in production."""
    from treu.webhooks import selectors

    monkeypatch.setattr(selectors, "WANTED_KINDS_TTL", 3600.0)
    selectors.forget_wanted_kinds()
    yield
    selectors.forget_wanted_kinds()


@pytest.fixture(autouse=True)
def _fresh_segment_cache(monkeypatch):
    """The same for segments' per-process "is there any active segment?" (pinned query
    counts of order ingestion must not depend on a segment another test made)."""
    from treu.messaging.segments import selectors

    monkeypatch.setattr(selectors, "ANY_SEGMENT_TTL", 3600.0)
    selectors.forget_active_segments()
    yield
    selectors.forget_active_segments()


@pytest.fixture(autouse=True)
def _fresh_flow_cache():
    """The same for automations' per-process "is an order-triggered flow on?"."""
    from treu.messaging.flows import triggers

    triggers.forget_order_flows()
    yield
    triggers.forget_order_flows()


@pytest.fixture(autouse=True, scope="session")
def _huey_runs_tasks_inline():
    from huey.contrib.djhuey import HUEY

    HUEY.immediate = True
    yield


def _staff(username: str, role) -> User:
    user = User.objects.create_user(username, f"{username}@treu.example", PASSWORD)
    if role is not None:
        user.groups.add(Group.objects.get(name=role.group_name))
    return user


@pytest.fixture
def owner(db) -> User:
    return _staff("inhaberin", OWNER)


@pytest.fixture
def marketer(db) -> User:
    return _staff("marketing", MARKETING)


@pytest.fixture
def agent(db) -> User:
    return _staff("support", SUPPORT)


@pytest.fixture
def cashier(db) -> User:
    return _staff("kasse", CASHIER)


@pytest.fixture
def outsider(db) -> User:
    """Logged in, but holds no role: must see nothing of the back office."""
    return _staff("aussen", None)


@pytest.fixture
def anna(db):
    from treu.customers.tests.factories import CustomerFactory

    return CustomerFactory(first_name="Anna", last_name="Müller", email="anna.mueller@example.de")


@pytest.fixture
def ben(db):
    from treu.customers.tests.factories import CustomerFactory

    return CustomerFactory(first_name="Ben", last_name="Schäfer", email="ben.schaefer@example.de")


@pytest.fixture
def shop(db):
    from treu.commerce.tests.factories import ShopFactory

    return ShopFactory()


@pytest.fixture
def client_of(client):
    """client_of(user) logs the test client in as that user."""

    def login(user):
        client.force_login(user)
        return client

    return login
