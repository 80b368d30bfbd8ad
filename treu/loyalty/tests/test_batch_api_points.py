"""The batch API with a programme running: every order earns, in a fixed number of queries.

The heaviest case of bench_api_batch.py --points, small: every customer is new, becomes a
member on first sight with welcome points, and each order earns. The count is the same on
both databases (PostgreSQL writes with COPY, SQLite with one executemany per table).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from treu.api.tests.fixtures import *  # noqa: F403 - the API fixtures
from treu.commerce.models import Order
from treu.core.models import DomainEvent
from treu.loyalty.models import EntryKind, Member, PointsEntry
from treu.loyalty.tests.conftest import assert_sums_match_ledger, start_program

pytestmark = pytest.mark.django_db

# A call: key, rate limit, idempotency record, shop, customers (read, numbered, written,
# events), orders (read, written, lines, events, figures), then after the commit the award
# (programme, orders and lines, members locked, the earning rules in force, new members
# with welcome points and their events, earned keys, ledger rows, member sums, events) and
# the other ingest subscribers.
QUERIES_FIRST_SIGHT = 60
QUERIES_MEMBERS = 40  # the same customers again: all members, nobody to create or welcome


@pytest.fixture
def online(shop):
    shop.code = "online"
    shop.save()
    return shop


def _batch(prefix: str, people: int, orders: int) -> dict:
    placed = (timezone.now() - timedelta(hours=2)).isoformat()
    return {
        "orders": [
            {
                "shop": "online",
                "external_id": f"{prefix}-{n}",
                "placed_at": placed,
                "total_cents": 2 * 1490 + 490,
                "shipping_cents": 490,
                "lines": [
                    {
                        "external_id": f"{prefix}-{n}-1",
                        "title": "Espresso",
                        "quantity": 1,
                        "unit_price_cents": 1490,
                        "tax_rate_bp": 700,
                    },
                    {
                        "external_id": f"{prefix}-{n}-2",
                        "title": "Crema",
                        "quantity": 1,
                        "unit_price_cents": 1490,
                        "tax_rate_bp": 700,
                    },
                ],
                "customer": {
                    "external_id": f"k-{n % people}",
                    "first_name": "Kunde",
                    "email": f"kunde{n % people}@example.de",
                },
            }  # fmt: skip
            for n in range(orders)
        ]
    }


def _post(api, body, key, django_capture_on_commit_callbacks) -> int:
    with (
        CaptureQueriesContext(connection) as queries,
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = api.post("/orders/batch", body, headers={"Idempotency-Key": key})
    assert response.status_code == 200
    assert {r["status"] for r in response.json()["results"]} == {"created"}
    return len(queries)


def test_a_batch_with_points_takes_a_fixed_number_of_queries(
    api, online, django_capture_on_commit_callbacks
):
    start_program(membership="all", welcome_points=50)
    _post(api, _batch("W", 1, 1), "w", django_capture_on_commit_callbacks)  # the first call
    small = _post(api, _batch("S", 3, 4), "s", django_capture_on_commit_callbacks)
    large = _post(api, _batch("L", 30, 60), "l", django_capture_on_commit_callbacks)
    # The same people again: members already, nobody new to create or welcome.
    again = _post(api, _batch("A", 30, 60), "a", django_capture_on_commit_callbacks)
    assert small == large == QUERIES_FIRST_SIGHT
    assert again == QUERIES_MEMBERS

    assert Member.objects.count() == 30
    earned = PointsEntry.objects.filter(kind=EntryKind.EARN, order__isnull=False)
    assert set(earned.values_list("order_id", flat=True)) == set(
        Order.objects.values_list("pk", flat=True)
    )
    assert earned.count() == 2 * (1 + 4 + 60 + 60)  # a row per line (not shipping: default)
    assert PointsEntry.objects.filter(source_rule="welcome").count() == 30
    assert DomainEvent.objects.filter(kind="loyalty.member_joined").count() == 30
    for member in Member.objects.all():
        assert_sums_match_ledger(member)
