"""The customer's order figures (first and last order, count, spent), kept from their orders."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Count, F, Max, Min, Sum

from treu.commerce.models import Order, OrderStatus
from treu.customers import services as customer_services


def refresh_customer_summary(customer_id: int | None) -> None:
    """Recompute one customer's order figures from their orders (cancelled ones do not count)."""
    if customer_id is None:
        return
    agg = (
        Order.objects.filter(customer_id=customer_id)
        .exclude(status=OrderStatus.CANCELLED)
        .aggregate(
            first=Min("placed_at"),
            last=Max("placed_at"),
            count=Count("id"),
            total=Sum(F("total_cents") - F("refunded_cents")),
        )
    )
    customer_services.set_order_summary(
        customer_id,
        first_order_at=agg["first"],
        last_order_at=agg["last"],
        order_count=agg["count"],
        total_spent_cents=agg["total"] or 0,
    )


def add_to_customer_summaries(new_orders: dict[int, list[Order]]) -> None:
    """Count brand-new orders into their customers' stored figures, without re-reading orders.

    Only for orders just created (never for changes: those need `refresh_customer_summary`),
    and only cancelled orders left out, as the recount would. The figures are combined
    with the stored ones in the UPDATE itself, so two batches for one customer both count.
    """
    customer_services.add_to_order_summaries(
        {
            customer_id: customer_services.OrderSummary(
                first_order_at=min(order.placed_at for order in orders),
                last_order_at=max(order.placed_at for order in orders),
                order_count=len(orders),
                total_spent_cents=sum(order.total_cents - order.refunded_cents for order in orders),
            )
            for customer_id, orders in new_orders.items()
            if orders
        }
    )


def refresh_customer_summaries(customer_ids: Iterable[int | None]) -> None:
    """`refresh_customer_summary` for many customers: one aggregate query, one bulk update."""
    ids = {customer_id for customer_id in customer_ids if customer_id is not None}
    if not ids:
        return
    rows = (
        Order.objects.filter(customer_id__any_of=ids)
        .exclude(status=OrderStatus.CANCELLED)
        .order_by()  # the default ordering would end up in the GROUP BY
        .values("customer_id")
        .annotate(
            first=Min("placed_at"),
            last=Max("placed_at"),
            count=Count("id"),
            total=Sum(F("total_cents") - F("refunded_cents")),
        )
        .values_list("customer_id", "first", "last", "count", "total")
    )
    nothing = customer_services.OrderSummary(
        first_order_at=None, last_order_at=None, order_count=0, total_spent_cents=0
    )
    summaries = dict.fromkeys(ids, nothing)
    for customer_id, first, last, count, total in rows:
        summaries[customer_id] = customer_services.OrderSummary(
            first_order_at=first, last_order_at=last, order_count=count,
            total_spent_cents=total or 0,
        )  # fmt: skip
    customer_services.set_order_summaries(summaries)
