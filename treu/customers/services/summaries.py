"""The order figures stored on the customer (computed by commerce), so lists can sort by them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from treu.core.bulk import combine_values, update_values
from treu.customers.models import Customer


@dataclass(frozen=True)
class OrderSummary:
    first_order_at: datetime | None
    last_order_at: datetime | None
    order_count: int
    total_spent_cents: int


def set_order_summaries(summaries: dict[int, OrderSummary]) -> None:
    """Store the order figures of many customers at once (one UPDATE, no model instances)."""
    if not summaries:
        return
    update_values(
        Customer,
        ["first_order_at", "last_order_at", "order_count", "total_spent_cents"],
        [
            (customer_id, s.first_order_at, s.last_order_at, s.order_count,
             max(s.total_spent_cents, 0))
            for customer_id, s in summaries.items()
        ],
    )  # fmt: skip


def add_to_order_summaries(additions: dict[int, OrderSummary]) -> None:
    """Add the figures of new orders to what is stored (earliest, latest, count, spent)."""
    combine_values(
        Customer,
        [
            ("first_order_at", "min"), ("last_order_at", "max"), ("order_count", "add"),
            ("total_spent_cents", "add"),
        ],
        [
            (customer_id, s.first_order_at, s.last_order_at, s.order_count, s.total_spent_cents)
            for customer_id, s in additions.items()
        ],
    )  # fmt: skip


def set_order_summary(
    customer_id: int,
    *,
    first_order_at: datetime | None,
    last_order_at: datetime | None,
    order_count: int,
    total_spent_cents: int,
) -> None:
    """Store the order figures commerce computed, so lists can filter and sort by them."""
    Customer.objects.filter(pk=customer_id).update(
        first_order_at=first_order_at,
        last_order_at=last_order_at,
        order_count=order_count,
        total_spent_cents=max(total_spent_cents, 0),
    )
