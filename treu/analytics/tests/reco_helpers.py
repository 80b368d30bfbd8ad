"""Purchase histories for the recommendation tests: orders of named catalogue products."""

from __future__ import annotations

from datetime import timedelta

from treu.commerce import services as commerce_services
from treu.commerce.tests.factories import CategoryFactory, ProductFactory, ShopFactory

_seq = iter(range(1, 10**9))


def consumable(sku: str, *, category=None, interval: int | None = 30, **kwargs):
    kwargs.setdefault("name", sku)
    return ProductFactory(
        sku=sku,
        category=category or CategoryFactory(),
        is_consumable=True,
        reorder_interval_days=interval,
        **kwargs,
    )


def durable(sku: str, *, category=None, **kwargs):
    category = category or CategoryFactory(name="Maschinen", slug="maschinen")
    kwargs.setdefault("name", sku)
    return ProductFactory(
        sku=sku,
        category=category,
        is_consumable=False,
        reorder_interval_days=None,
        price_cents=49900,
        tax_rate_bp=1900,
        **kwargs,
    )


def buy(customer, at, *items, status: str = "paid"):
    """One order of `customer` at `at`: items are products or (product, quantity)."""
    lines = []
    for item in items:
        product, quantity = item if isinstance(item, tuple) else (item, 1)
        lines.append(
            commerce_services.LineInput(
                title=product.name,
                sku=product.sku,
                quantity=quantity,
                unit_price_cents=product.price_cents,
                tax_rate_bp=product.tax_rate_bp,
            )
        )
    n = next(_seq)
    return commerce_services.ingest_order(
        commerce_services.OrderInput(
            shop=ShopFactory(),
            external_id=f"R{n}",
            number=f"#R{n}",
            customer_id=customer.pk if customer else None,
            placed_at=at,
            lines=lines,
            total_cents=sum(li.total_cents for li in lines),
            status=status,
        )
    ).order


def days_before(moment, days: float):
    return moment - timedelta(days=days)
