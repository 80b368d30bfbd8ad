"""Helpers of the earning-rule tests: a small catalogue, rules, orders by SKU, returns."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.utils import timezone

from treu.commerce import services as commerce
from treu.commerce.tests.factories import CategoryFactory, ProductFactory, ShopFactory
from treu.loyalty import services
from treu.loyalty.models import PurchaseRule

ESPRESSO, FILTER, MUG = "ESP-250", "FIL-500", "TASSE-1"

_seq = iter(range(1, 10**9))


def catalogue() -> dict[str, object]:
    beans = CategoryFactory(name="Kaffeebohnen", slug="kaffeebohnen")
    things = CategoryFactory(name="Zubehör", slug="zubehoer")
    for sku, category in ((ESPRESSO, beans), (FILTER, beans), (MUG, things)):
        ProductFactory(sku=sku, category=category)
    return {"beans": beans, "things": things}


def make_rule(**fields) -> PurchaseRule:
    values = {
        "name": "Doppelte Punkte im Dezember",
        "kind": "multiplier",
        "multiplier": 2,
        "starts_on": date(2020, 1, 1),
        **fields,
    }
    return services.save_purchase_rule(**values)


def buy(
    customer,
    *lines: tuple[str, int, int],
    placed_at: datetime | None = None,
    discount_cents: int = 0,
    shipping_cents: int = 0,
    status: str = "paid",
):
    """Ingest an order of (sku, quantity, unit cents) lines at 7 % VAT."""
    inputs = [
        commerce.LineInput(title=sku, sku=sku, quantity=q, unit_price_cents=p, tax_rate_bp=700)
        for sku, q, p in lines
    ]
    total = sum(li.total_cents for li in inputs) + shipping_cents - discount_cents
    return commerce.ingest_order(
        commerce.OrderInput(
            shop=ShopFactory(),
            external_id=f"R{next(_seq)}",
            customer_id=customer.pk,
            placed_at=placed_at or timezone.now() - timedelta(days=1),
            status=status,
            lines=inputs,
            discount_cents=discount_cents,
            shipping_cents=shipping_cents,
            total_cents=total,
        )
    ).order


def give_back(order, sku: str, quantity: int):
    line = order.lines.get(sku=sku)
    return commerce.record_return(
        order, lines=[commerce.ReturnLineInput(order_line_id=line.pk, quantity=quantity)]
    )
