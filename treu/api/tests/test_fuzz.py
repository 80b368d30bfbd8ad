"""Schemathesis fuzzes the API against its own OpenAPI description: no input may crash it.

A short run (a few examples per operation), authenticated with a read+write+checkout key, on the
Django WSGI app in-process, so it shares the test database.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from treu.api import services
from treu.wsgi import application

# Collected before the test settings apply: say it came over HTTPS, or it is redirected there.
schema = schemathesis.openapi.from_wsgi(
    "/api/v1/openapi.json", application, headers={"X-Forwarded-Proto": "https"}
)


@pytest.fixture
def secret(db, shop):
    return services.create_key(
        name="Fuzz", scopes=["read", "write", "checkout"], rate_limit_per_minute=100_000
    ).secret


@schema.parametrize()
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_no_input_crashes_the_api(case, secret):
    case.call_and_validate(
        headers={"Authorization": f"Bearer {secret}"}, checks=[not_a_server_error]
    )
